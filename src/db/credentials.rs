//! Credentials. `data` holds the sealed secret fields; this module never sees them in clear.

use crate::db::sql::Sql;
use crate::db::Conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CredentialRow {
    pub id: String,
    pub name: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub data: String,
    pub key_id: String,
    pub project_id: String,
    pub is_managed: bool,
    pub is_global: bool,
    pub is_resolvable: bool,
    pub resolvable_allow_fallback: bool,
    pub resolver_id: Option<String>,
    pub shared_at: String,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "c.id, c.name, c.type, c.data, c.key_id, c.project_id, c.is_managed, c.is_global, c.is_resolvable, \
    c.resolvable_allow_fallback, c.resolver_id, c.shared_at, c.created_at, c.updated_at";

pub struct NewCredential<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub data: &'a str,
    pub key_id: &'a str,
    pub project_id: &'a str,
    pub is_resolvable: bool,
    pub now: &'a str,
}

pub async fn insert(conn: Conn<'_>, c: &NewCredential<'_>) -> sqlx::Result<()> {
    const SQL: &str = "insert into credentials (id, name, type, data, key_id, project_id, is_managed, is_global, is_resolvable, \
        resolvable_allow_fallback, resolver_id, shared_at, created_at, updated_at) \
        values ($1, $2, $3, $4, $5, $6, false, false, $7, false, null, $8, $8, $8)";
    Sql::query(SQL)
        .bind(c.id)
        .bind(c.name)
        .bind(c.kind)
        .bind(c.data)
        .bind(c.key_id)
        .bind(c.project_id)
        .bind(c.is_resolvable)
        .bind(c.now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<CredentialRow>> {
    let sql = format!("select {COLUMNS} from credentials c where c.id = $1");
    Sql::query(&sql).bind(id).fetch_optional(conn).await
}

/// One page, newest first, after `after` (`created_at`, `id`) or at `offset`; with
/// `member`, only credentials of that user's projects.
pub async fn list(
    conn: Conn<'_>,
    member: Option<&str>,
    after: Option<(&str, &str)>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<CredentialRow>> {
    let mut sql = Sql::build(format!("select {COLUMNS} from credentials c where 1 = 1"));
    if let Some(m) = member {
        sql.push(" and c.project_id in (select project_id from project_relations where user_id = ")
            .push_bind(m)
            .push(")");
    }
    if let Some((created_at, id)) = after {
        sql.push(" and (c.created_at < ")
            .push_bind(created_at)
            .push(" or (c.created_at = ")
            .push_bind(created_at)
            .push(" and c.id < ")
            .push_bind(id)
            .push("))");
    }
    let offset = if after.is_some() { 0 } else { offset as i64 };
    sql.push(" order by c.created_at desc, c.id desc limit ")
        .push_bind(limit as i64)
        .push(" offset ")
        .push_bind(offset);
    sql.fetch_all(conn).await
}

pub struct Changes<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub data: &'a str,
    pub key_id: &'a str,
    pub is_global: bool,
    pub is_resolvable: bool,
    pub now: &'a str,
}

pub async fn update(conn: Conn<'_>, id: &str, ch: &Changes<'_>) -> sqlx::Result<()> {
    const SQL: &str = "update credentials set name = $2, type = $3, data = $4, key_id = $5, is_global = $6, is_resolvable = $7, \
                       updated_at = $8 where id = $1";
    Sql::query(SQL)
        .bind(id)
        .bind(ch.name)
        .bind(ch.kind)
        .bind(ch.data)
        .bind(ch.key_id)
        .bind(ch.is_global)
        .bind(ch.is_resolvable)
        .bind(ch.now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the sealed data after a node changed it (an OAuth2 token refreshed), marking the
/// credential updated.
pub async fn replace_data(
    conn: Conn<'_>,
    id: &str,
    data: &str,
    key_id: &str,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str =
        "update credentials set data = $2, key_id = $3, updated_at = $4 where id = $1";
    Sql::query(SQL)
        .bind(id)
        .bind(data)
        .bind(key_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the sealed data only (re-encryption under a new key).
pub async fn reseal(conn: Conn<'_>, id: &str, data: &str, key_id: &str) -> sqlx::Result<()> {
    const SQL: &str = "update credentials set data = $2, key_id = $3 where id = $1";
    Sql::query(SQL)
        .bind(id)
        .bind(data)
        .bind(key_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn transfer(conn: Conn<'_>, id: &str, project_id: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str =
        "update credentials set project_id = $2, shared_at = $3, updated_at = $3 where id = $1";
    Sql::query(SQL)
        .bind(id)
        .bind(project_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from credentials where id = $1";
    Ok(Sql::query(SQL).bind(id).execute(conn).await? == 1)
}

/// The ids of the keys that sealed stored credentials.
pub async fn key_ids(conn: Conn<'_>) -> sqlx::Result<Vec<String>> {
    const SQL: &str = "select distinct key_id from credentials";
    Sql::query(SQL).fetch_scalars(conn).await
}

/// Credentials sealed with a key other than `key_id`, a batch at a time (for re-encryption).
pub async fn sealed_with_other_key(
    conn: Conn<'_>,
    key_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<CredentialRow>> {
    let sql =
        format!("select {COLUMNS} from credentials c where c.key_id <> $1 order by c.id limit $2");
    Sql::query(&sql)
        .bind(key_id)
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// Every credential without its data (for the security audit).
pub async fn all(conn: Conn<'_>) -> sqlx::Result<Vec<CredentialRow>> {
    let sql = format!("select {COLUMNS} from credentials c order by c.created_at");
    Sql::query(&sql).fetch_all(conn).await
}
