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

/// Users by email (lower-cased).
pub async fn find_many_by_email(conn: Conn<'_>, emails: &[&str]) -> sqlx::Result<Vec<UserRow>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=emails.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "select {COLUMNS} from users where email in ({})",
        placeholders.join(", ")
    );
    on_conn!(conn, c => {
        let mut query = sqlx::query_as(&sql);
        for email in emails {
            query = query.bind(*email);
        }
        query.fetch_all(c).await
    })
}

/// One page of users in creation order, after `after` (`created_at`, `id`) or at `offset`;
/// with `project_id`, only that project's members.
pub async fn list(
    conn: Conn<'_>,
    project_id: Option<&str>,
    after: Option<(&str, &str)>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<UserRow>> {
    let mut sql = format!(
        "select {} from users u where 1 = 1",
        COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut binds: Vec<&str> = Vec::new();
    if let Some(project) = project_id {
        binds.push(project);
        sql.push_str(&format!(
            " and u.id in (select user_id from project_relations where project_id = ${})",
            binds.len() + 2
        ));
    }
    if let Some((created_at, id)) = after {
        binds.push(created_at);
        let a = binds.len() + 2;
        binds.push(id);
        let b = binds.len() + 2;
        sql.push_str(&format!(
            " and (u.created_at > ${a} or (u.created_at = ${a} and u.id > ${b}))"
        ));
    }
    sql.push_str(" order by u.created_at, u.id limit $1 offset $2");
    let offset = if after.is_some() { 0 } else { offset as i64 };
    on_conn!(conn, c => {
        let mut query = sqlx::query_as(&sql).bind(limit as i64).bind(offset);
        for b in &binds {
            query = query.bind(*b);
        }
        query.fetch_all(c).await
    })
}

pub async fn count(conn: Conn<'_>) -> sqlx::Result<i64> {
    const SQL: &str = "select count(*) from users";
    on_conn!(conn, c => sqlx::query_scalar(SQL).fetch_one(c).await)
}

pub async fn set_role(conn: Conn<'_>, id: &str, role: &str, now: &str) -> sqlx::Result<bool> {
    const SQL: &str = "update users set role = $2, updated_at = $3 where id = $1";
    let n = on_conn!(conn, c => sqlx::query(SQL).bind(id).bind(role).bind(now).execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Completes an invited user's account.
pub async fn complete_signup(
    conn: Conn<'_>,
    id: &str,
    first_name: &str,
    last_name: &str,
    password_hash: &str,
    now: &str,
) -> sqlx::Result<bool> {
    const SQL: &str =
        "update users set first_name = $2, last_name = $3, password_hash = $4, updated_at = $5 \
                       where id = $1 and password_hash is null";
    let n = on_conn!(conn, c => sqlx::query(SQL).bind(id).bind(first_name).bind(last_name).bind(password_hash).bind(now)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from users where id = $1";
    let n = on_conn!(conn, c => sqlx::query(SQL).bind(id).execute(c).await?.rows_affected());
    Ok(n == 1)
}
