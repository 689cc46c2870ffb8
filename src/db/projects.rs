//! Projects and project membership.

use crate::db::Conn;
use crate::on_conn;

pub struct NewProject<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub creator_id: Option<&'a str>,
    pub now: &'a str,
}

pub async fn insert(conn: Conn<'_>, project: &NewProject<'_>) -> sqlx::Result<()> {
    const SQL: &str = "insert into projects (id, name, type, icon, description, creator_id, created_at, updated_at) \
                       values ($1, $2, $3, null, null, $4, $5, $5)";
    on_conn!(conn, c => sqlx::query(SQL)
        .bind(project.id).bind(project.name).bind(project.kind).bind(project.creator_id).bind(project.now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_relation(
    conn: Conn<'_>,
    project_id: &str,
    user_id: &str,
    role: &str,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str =
        "insert into project_relations (project_id, user_id, role, created_at, updated_at) \
                       values ($1, $2, $3, $4, $4)";
    on_conn!(conn, c => sqlx::query(SQL).bind(project_id).bind(user_id).bind(role).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The id of the user's personal project.
pub async fn personal_project_id(conn: Conn<'_>, user_id: &str) -> sqlx::Result<Option<String>> {
    const SQL: &str = "select p.id from projects p join project_relations r on r.project_id = p.id \
                       where r.user_id = $1 and p.type = 'personal' and r.role = 'project:personalOwner'";
    on_conn!(conn, c => sqlx::query_scalar(SQL).bind(user_id).fetch_optional(c).await)
}
