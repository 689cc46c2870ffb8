//! The record of what each source-control pull imported (one row per repository item).

use crate::db::sql::Sql;
use crate::db::Conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRow {
    pub resource_type: String,
    pub resource_id: String,
    pub remote_hash: String,
    pub local_version: String,
    pub imported_at: String,
}

pub async fn all_of(conn: Conn<'_>, resource_type: &str) -> sqlx::Result<Vec<ImportRow>> {
    const SQL: &str = "select resource_type, resource_id, remote_hash, local_version, imported_at \
                       from source_control_imports where resource_type = $1";
    Sql::query(SQL).bind(resource_type).fetch_all(conn).await
}

/// Records (or replaces the record of) one imported item.
pub async fn record(conn: Conn<'_>, row: &ImportRow) -> sqlx::Result<()> {
    const SQL: &str = "insert into source_control_imports (resource_type, resource_id, remote_hash, local_version, imported_at) \
                       values ($1, $2, $3, $4, $5) on conflict (resource_type, resource_id) \
                       do update set remote_hash = excluded.remote_hash, local_version = excluded.local_version, \
                       imported_at = excluded.imported_at";
    Sql::query(SQL)
        .bind(&row.resource_type)
        .bind(&row.resource_id)
        .bind(&row.remote_hash)
        .bind(&row.local_version)
        .bind(&row.imported_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The id of the tag called `name`, if any (a pull refuses a repository tag whose name a
/// different local tag already has).
pub async fn tag_id_by_name(conn: Conn<'_>, name: &str) -> sqlx::Result<Option<String>> {
    const SQL: &str = "select id from tags where name = $1";
    Sql::query(SQL).bind(name).fetch_scalar_optional(conn).await
}

/// Whether a variable with `key` exists in the scope (global, or one project).
pub async fn variable_key_exists(
    conn: Conn<'_>,
    key: &str,
    project_id: Option<&str>,
) -> sqlx::Result<bool> {
    const SQL: &str =
        "select count(*) from variables where key = $1 and coalesce(project_id, '') = $2";
    let n: i64 = Sql::query(SQL)
        .bind(key)
        .bind(project_id.unwrap_or(""))
        .fetch_scalar(conn)
        .await?;
    Ok(n > 0)
}

/// Renames a credential, leaving its sealed data untouched.
pub async fn rename_credential(
    conn: Conn<'_>,
    id: &str,
    name: &str,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str = "update credentials set name = $2, updated_at = $3 where id = $1";
    Sql::query(SQL)
        .bind(id)
        .bind(name)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
