//! Leases: work only one instance may do at a time (see migration 0007).

use crate::db::sql::Sql;
use crate::db::Conn;

/// Takes or renews the lease `name` for `owner` until `until`, unless another owner holds it
/// past `now`; answers whether `owner` holds it afterwards. One statement, so two instances
/// racing for a free lease cannot both win.
pub async fn hold(
    conn: Conn<'_>,
    name: &str,
    owner: &str,
    now: &str,
    until: &str,
) -> sqlx::Result<bool> {
    const SQL: &str = "insert into leases (name, owner, expires_at) values ($1, $2, $4) \
                       on conflict (name) do update set owner = excluded.owner, expires_at = excluded.expires_at \
                       where leases.owner = excluded.owner or leases.expires_at < $3";
    let changed = Sql::query(SQL)
        .bind(name)
        .bind(owner)
        .bind(now)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// Gives the lease up (shutdown), so another instance takes over at once.
pub async fn release(conn: Conn<'_>, name: &str, owner: &str) -> sqlx::Result<()> {
    const SQL: &str = "delete from leases where name = $1 and owner = $2";
    Sql::query(SQL)
        .bind(name)
        .bind(owner)
        .execute(conn)
        .await
        .map(|_| ())
}
