//! Instance-wide settings, keyed by name.

use crate::db::Conn;
use crate::on_conn;

pub async fn get(conn: Conn<'_>, key: &str) -> sqlx::Result<Option<String>> {
    const SQL: &str = "select value from settings where key = $1";
    on_conn!(conn, c => sqlx::query_scalar(SQL).bind(key).fetch_optional(c).await)
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
    let done = on_conn!(conn, c => sqlx::query(SQL).bind(key).bind(value).bind(now).execute(c).await?.rows_affected());
    Ok(done == 1)
}

pub async fn put(conn: Conn<'_>, key: &str, value: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "insert into settings (key, value, updated_at) values ($1, $2, $3) \
                       on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at";
    on_conn!(conn, c => sqlx::query(SQL).bind(key).bind(value).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
