//! Users: the people who sign in.

use crate::db::sql::Sql;
use crate::db::{Conn, Unique};

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
    Sql::query(SQL)
        .bind(user.id)
        .bind(user.email)
        .bind(user.first_name)
        .bind(user.last_name)
        .bind(user.password_hash)
        .bind(user.role)
        .bind(user.now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_by_id(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("select {COLUMNS} from users where id = $1");
    Sql::query(&sql).bind(id).fetch_optional(conn).await
}

pub async fn find_by_email(conn: Conn<'_>, email: &str) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("select {COLUMNS} from users where email = $1");
    Sql::query(&sql).bind(email).fetch_optional(conn).await
}

/// The instance owner, once set up.
pub async fn find_owner(conn: Conn<'_>) -> sqlx::Result<Option<UserRow>> {
    let sql = format!("select {COLUMNS} from users where role = 'global:owner'");
    Sql::query(&sql).fetch_optional(conn).await
}

/// Users by email (lower-cased).
pub async fn find_many_by_email(conn: Conn<'_>, emails: &[&str]) -> sqlx::Result<Vec<UserRow>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::build(format!("select {COLUMNS} from users where email in ("));
    sql.push_list(emails.iter().copied()).push(")");
    sql.fetch_all(conn).await
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
    let mut sql = Sql::build(format!("select {COLUMNS} from users u where 1 = 1"));
    if let Some(project) = project_id {
        sql.push(" and u.id in (select user_id from project_relations where project_id = ")
            .push_bind(project)
            .push(")");
    }
    if let Some((created_at, id)) = after {
        sql.push(" and (u.created_at > ")
            .push_bind(created_at)
            .push(" or (u.created_at = ")
            .push_bind(created_at)
            .push(" and u.id > ")
            .push_bind(id)
            .push("))");
    }
    let offset = if after.is_some() { 0 } else { offset as i64 };
    sql.push(" order by u.created_at, u.id limit ")
        .push_bind(limit as i64)
        .push(" offset ")
        .push_bind(offset);
    sql.fetch_all(conn).await
}

pub async fn count(conn: Conn<'_>) -> sqlx::Result<i64> {
    const SQL: &str = "select count(*) from users";
    Sql::query(SQL).fetch_scalar(conn).await
}

pub async fn set_role(conn: Conn<'_>, id: &str, role: &str, now: &str) -> sqlx::Result<bool> {
    const SQL: &str = "update users set role = $2, updated_at = $3 where id = $1";
    let n = Sql::query(SQL)
        .bind(id)
        .bind(role)
        .bind(now)
        .execute(conn)
        .await?;
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
    let n = Sql::query(SQL)
        .bind(id)
        .bind(first_name)
        .bind(last_name)
        .bind(password_hash)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from users where id = $1";
    let n = Sql::query(SQL).bind(id).execute(conn).await?;
    Ok(n == 1)
}
