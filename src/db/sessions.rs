//! Browser sessions, stored by the keyed hash of their cookie token.

use crate::db::sql::Sql;
use crate::db::{Conn, Reader};
use crate::direct_row;

/// What authentication needs of a session: its user and that user's current standing.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionAuthRow {
    pub user_id: String,
    pub expires_at: i64,
    pub role: String,
    pub disabled: bool,
    pub has_password: bool,
}

direct_row!(SessionAuthRow {
    user_id,
    expires_at,
    role,
    disabled,
    has_password
});

pub async fn insert(
    conn: Conn<'_>,
    token_hash: &str,
    user_id: &str,
    expires_at: i64,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str = "insert into sessions (token_hash, user_id, expires_at, created_at) values ($1, $2, $3, $4)";
    Sql::query(SQL)
        .bind(token_hash)
        .bind(user_id)
        .bind(expires_at)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_for_auth(
    reader: &mut Reader<'_>,
    token_hash: &str,
) -> sqlx::Result<Option<SessionAuthRow>> {
    const SQL: &str = "select s.user_id, s.expires_at, u.role, u.disabled, (u.password_hash is not null) as has_password \
                       from sessions s join users u on u.id = s.user_id where s.token_hash = $1";
    reader
        .fetch_optional(&Sql::query(SQL).bind(token_hash))
        .await
}

pub async fn delete(conn: Conn<'_>, token_hash: &str) -> sqlx::Result<()> {
    const SQL: &str = "delete from sessions where token_hash = $1";
    Sql::query(SQL).bind(token_hash).execute(conn).await?;
    Ok(())
}

/// Removes sessions that expired before `now` (Unix seconds).
pub async fn delete_expired(conn: Conn<'_>, now: i64) -> sqlx::Result<u64> {
    const SQL: &str = "delete from sessions where expires_at < $1";
    Sql::query(SQL).bind(now).execute(conn).await
}
