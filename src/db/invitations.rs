//! Pending invitations, one per invited user.

use crate::db::sql::Sql;
use crate::db::Conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRow {
    pub user_id: String,
    pub inviter_id: Option<String>,
    pub nonce: String,
    pub expires_at: i64,
}

/// Records a new invitation for the user, replacing (and so voiding) any earlier one.
pub async fn replace(conn: Conn<'_>, invitation: &InvitationRow, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "insert into invitations (user_id, inviter_id, nonce, expires_at, created_at) values ($1, $2, $3, $4, $5) \
                       on conflict (user_id) do update set inviter_id = excluded.inviter_id, nonce = excluded.nonce, \
                       expires_at = excluded.expires_at, created_at = excluded.created_at";
    Sql::query(SQL)
        .bind(&invitation.user_id)
        .bind(&invitation.inviter_id)
        .bind(&invitation.nonce)
        .bind(invitation.expires_at)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: Conn<'_>, user_id: &str) -> sqlx::Result<Option<InvitationRow>> {
    const SQL: &str =
        "select user_id, inviter_id, nonce, expires_at from invitations where user_id = $1";
    Sql::query(SQL).bind(user_id).fetch_optional(conn).await
}

/// The invitations of several users (for showing their links in a list).
pub async fn find_many(conn: Conn<'_>, user_ids: &[&str]) -> sqlx::Result<Vec<InvitationRow>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::build(
        "select user_id, inviter_id, nonce, expires_at from invitations where user_id in (",
    );
    sql.push_list(user_ids.iter().copied()).push(")");
    sql.fetch_all(conn).await
}

pub async fn delete(conn: Conn<'_>, user_id: &str) -> sqlx::Result<()> {
    const SQL: &str = "delete from invitations where user_id = $1";
    Sql::query(SQL).bind(user_id).execute(conn).await?;
    Ok(())
}
