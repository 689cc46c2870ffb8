//! Users: the people who sign in.

use crate::db::{Conn, Unique};
use crate::on_conn;

pub const EMAIL_UNIQUE: Unique = Unique {
    name: "users_email_key",
    columns: "users.email",
};
pub const SINGLE_OWNER: Unique = Unique {
    name: "users_single_owner_key",
    columns: "users.role",
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    pub role: String,
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str =
    "id, email, first_name, last_name, password_hash, role, disabled, created_at, updated_at";

pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub role: &'a str,
    pub now: &'a str,
}

pub async fn insert(conn: Conn<'_>, user: &NewUser<'_>) -> sqlx::Result<()> {
    const SQL: &str = "insert into users (id, email, first_name, last_name, password_hash, role, disabled, created_at, updated_at) \
                       values ($1, $2, $3, $4, $5, $6, false, $7, $7)";
    on_conn!(conn, c => sqlx::query(SQL)
        .bind(user.id).bind(user.email).bind(user.first_name).bind(user.last_name)
        .bind(user.password_hash).bind(user.role).bind(user.now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find_by_id(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("select {COLUMNS} from users where id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)
}

pub async fn find_by_email(conn: Conn<'_>, email: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("select {COLUMNS} from users where email = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(email).fetch_optional(c).await)
}

/// The instance owner, once set up.
pub async fn find_owner(conn: Conn<'_>) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("select {COLUMNS} from users where role = 'global:owner'");
    on_conn!(conn, c => sqlx::query_as(&sql).fetch_optional(c).await)
}
