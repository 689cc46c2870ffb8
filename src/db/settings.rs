//! Instance-wide settings, keyed by name.

use crate::db::sql::Sql;
use crate::db::Conn;

pub async fn get(conn: Conn<'_>, key: &str) -> sqlx::Result<Option<String>> {
    const SQL: &str = "select value from settings where key = $1";
    Sql::query(SQL).bind(key).fetch_scalar_optional(conn).await
}

/// Stores `value` unless the key already has one; answers whether this call stored it. Two
/// instances starting at once both call this, and exactly one wins.
pub async fn insert_if_absent(
    conn: Conn<'_>,
    key: &str,
    value: &str,
    now: &str,
) -> sqlx::Result<bool> {
    const SQL: &str = "insert into settings (key, value, updated_at) values ($1, $2, $3) on conflict (key) do nothing";
    let done = Sql::query(SQL)
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done == 1)
}

pub async fn put(conn: Conn<'_>, key: &str, value: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "insert into settings (key, value, updated_at) values ($1, $2, $3) \
                       on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at";
    Sql::query(SQL)
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
