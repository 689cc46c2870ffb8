//! Variables: global (no project) or of one project.

use crate::db::{Conn, Unique};
use crate::on_conn;

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
    on_conn!(conn, c => sqlx::query(SQL).bind(id).bind(key).bind(value).bind(project_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<VariableRow>> {
    let sql = format!("select {COLUMNS} from variables v where v.id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)
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
    let mut sql = format!("select {COLUMNS} from variables v where 1 = 1");
    let mut binds: Vec<&str> = Vec::new();
    if let Some(m) = filter.member {
        binds.push(m);
        sql.push_str(&format!(
            " and (v.project_id is null or v.project_id in (select project_id from project_relations where user_id = ${}))",
            binds.len() + 2
        ));
    }
    match filter.project {
        Some(None) => sql.push_str(" and v.project_id is null"),
        Some(Some(p)) => {
            binds.push(p);
            sql.push_str(&format!(" and v.project_id = ${}", binds.len() + 2));
        }
        None => {}
    }
    if filter.empty_only {
        sql.push_str(" and v.value = ''");
    }
    if let Some((key, id)) = after {
        binds.push(key);
        let a = binds.len() + 2;
        binds.push(id);
        let b = binds.len() + 2;
        sql.push_str(&format!(
            " and (v.key > ${a} or (v.key = ${a} and v.id > ${b}))"
        ));
    }
    sql.push_str(" order by v.key, v.id limit $1 offset $2");
    let offset = if after.is_some() { 0 } else { offset as i64 };
    on_conn!(conn, c => {
        let mut query = sqlx::query_as(&sql).bind(limit as i64).bind(offset);
        for b in &binds {
            query = query.bind(*b);
        }
        query.fetch_all(c).await
    })
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
    let n = on_conn!(conn, c => sqlx::query(SQL).bind(id).bind(key).bind(value).bind(project_id).bind(now).execute(c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from variables where id = $1";
    let n = on_conn!(conn, c => sqlx::query(SQL).bind(id).execute(c).await?.rows_affected());
    Ok(n == 1)
}
