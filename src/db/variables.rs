//! Variables: global (no project) or of one project.

use crate::db::sql::Sql;
use crate::db::{Conn, Unique};

/// The key is unique within its scope (global, or one project). SQLite names an expression
/// index in its message, PostgreSQL the index name.
pub const KEY_UNIQUE: Unique = Unique {
    name: "variables_key_scope_key",
    columns: "index 'variables_key_scope_key'",
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VariableRow {
    pub id: String,
    pub key: String,
    pub value: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub project_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "v.id, v.key, v.value, v.type, v.project_id, v.created_at, v.updated_at";

pub async fn insert(
    conn: Conn<'_>,
    id: &str,
    key: &str,
    value: &str,
    project_id: Option<&str>,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str = "insert into variables (id, key, value, type, project_id, created_at, updated_at) values ($1, $2, $3, 'string', $4, $5, $5)";
    Sql::query(SQL)
        .bind(id)
        .bind(key)
        .bind(value)
        .bind(project_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<VariableRow>> {
    let sql = format!("select {COLUMNS} from variables v where v.id = $1");
    Sql::query(&sql).bind(id).fetch_optional(conn).await
}

/// Which variables a list shows.
pub struct ListFilter<'a> {
    /// Only global variables and those of this user's projects (`None`: all).
    pub member: Option<&'a str>,
    /// `Some(None)`: global variables only; `Some(Some(p))`: project `p`'s only.
    pub project: Option<Option<&'a str>>,
    /// Only variables with an empty value.
    pub empty_only: bool,
}

/// One page in (key, id) order, after `after` (keyset) or at `offset`.
pub async fn list(
    conn: Conn<'_>,
    filter: &ListFilter<'_>,
    after: Option<(&str, &str)>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<VariableRow>> {
    let mut sql = Sql::build(format!("select {COLUMNS} from variables v where 1 = 1"));
    if let Some(m) = filter.member {
        sql.push(
            " and (v.project_id is null or v.project_id in \
             (select project_id from project_relations where user_id = ",
        )
        .push_bind(m)
        .push("))");
    }
    match filter.project {
        Some(None) => {
            sql.push(" and v.project_id is null");
        }
        Some(Some(p)) => {
            sql.push(" and v.project_id = ").push_bind(p);
        }
        None => {}
    }
    if filter.empty_only {
        sql.push(" and v.value = ''");
    }
    if let Some((key, id)) = after {
        sql.push(" and (v.key > ")
            .push_bind(key)
            .push(" or (v.key = ")
            .push_bind(key)
            .push(" and v.id > ")
            .push_bind(id)
            .push("))");
    }
    let offset = if after.is_some() { 0 } else { offset as i64 };
    sql.push(" order by v.key, v.id limit ")
        .push_bind(limit as i64)
        .push(" offset ")
        .push_bind(offset);
    sql.fetch_all(conn).await
}

pub async fn update(
    conn: Conn<'_>,
    id: &str,
    key: &str,
    value: &str,
    project_id: Option<&str>,
    now: &str,
) -> sqlx::Result<bool> {
    const SQL: &str =
        "update variables set key = $2, value = $3, project_id = $4, updated_at = $5 where id = $1";
    let n = Sql::query(SQL)
        .bind(id)
        .bind(key)
        .bind(value)
        .bind(project_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from variables where id = $1";
    let n = Sql::query(SQL).bind(id).execute(conn).await?;
    Ok(n == 1)
}
