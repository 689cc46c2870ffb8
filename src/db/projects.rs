//! Projects and project membership.

use crate::db::direct::DirectRow;
use crate::db::sql::Sql;
use crate::db::{Conn, Reader};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub icon: Option<String>,
    pub description: Option<String>,
    pub creator_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl DirectRow for ProjectRow {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(ProjectRow {
            id: row.get("id")?,
            name: row.get("name")?,
            kind: row.get("type")?,
            icon: row.get("icon")?,
            description: row.get("description")?,
            creator_id: row.get("creator_id")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }
}

const COLUMNS: &str =
    "p.id, p.name, p.type, p.icon, p.description, p.creator_id, p.created_at, p.updated_at";

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
    Sql::query(SQL)
        .bind(project.id)
        .bind(project.name)
        .bind(project.kind)
        .bind(project.creator_id)
        .bind(project.now)
        .execute(conn)
        .await?;
    Ok(())
}

const FIND: &str =
    "select p.id, p.name, p.type, p.icon, p.description, p.creator_id, p.created_at, \
                    p.updated_at from projects p where p.id = $1";

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<ProjectRow>> {
    Sql::query(FIND).bind(id).fetch_optional(conn).await
}

/// [`find`] outside a transaction.
pub async fn read(reader: &mut Reader<'_>, id: &str) -> sqlx::Result<Option<ProjectRow>> {
    reader.fetch_optional(&Sql::query(FIND).bind(id)).await
}

/// Several projects by id (for embedding in other objects).
pub async fn find_many(conn: Conn<'_>, ids: &[&str]) -> sqlx::Result<Vec<ProjectRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::build(format!("select {COLUMNS} from projects p where p.id in ("));
    sql.push_list(ids.iter().copied()).push(")");
    sql.fetch_all(conn).await
}

const EXISTS: &str = "select count(*) from projects where id = $1";

pub async fn exists(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    let n: i64 = Sql::query(EXISTS).bind(id).fetch_scalar(conn).await?;
    Ok(n > 0)
}

/// [`exists`] outside a transaction.
pub async fn read_exists(reader: &mut Reader<'_>, id: &str) -> sqlx::Result<bool> {
    let n: Option<i64> = reader
        .fetch_scalar_optional(&Sql::query(EXISTS).bind(id))
        .await?;
    Ok(n.unwrap_or(0) > 0)
}

/// One page of projects in id order, starting after `after_id` (keyset) or at `offset`.
/// With `member`, only that user's projects.
pub async fn list(
    conn: Conn<'_>,
    member: Option<&str>,
    after_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<ProjectRow>> {
    let mut sql = Sql::build(format!("select {COLUMNS} from projects p where 1 = 1"));
    if let Some(m) = member {
        sql.push(" and p.id in (select project_id from project_relations where user_id = ")
            .push_bind(m)
            .push(")");
    }
    if let Some(a) = after_id {
        sql.push(" and p.id > ").push_bind(a);
    }
    let offset = if after_id.is_some() { 0 } else { offset as i64 };
    sql.push(" order by p.id limit ")
        .push_bind(limit as i64)
        .push(" offset ")
        .push_bind(offset);
    sql.fetch_all(conn).await
}

pub async fn rename(conn: Conn<'_>, id: &str, name: &str, now: &str) -> sqlx::Result<bool> {
    const SQL: &str = "update projects set name = $2, updated_at = $3 where id = $1";
    let n = Sql::query(SQL)
        .bind(id)
        .bind(name)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Deletes a project. Its data tables' storage is dropped first (their catalogue rows, like
/// the project's other resources, go by cascade).
pub async fn delete(mut conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    crate::db::data_tables::drop_all_in_project(conn.reborrow(), id).await?;
    const SQL: &str = "delete from projects where id = $1";
    let n = Sql::query(SQL).bind(id).execute(conn).await?;
    Ok(n == 1)
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
    Sql::query(SQL)
        .bind(project_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds the user to the project, or changes their role when they are a member already.
pub async fn upsert_relation(
    conn: Conn<'_>,
    project_id: &str,
    user_id: &str,
    role: &str,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str = "insert into project_relations (project_id, user_id, role, created_at, updated_at) \
                       values ($1, $2, $3, $4, $4) \
                       on conflict (project_id, user_id) do update set role = excluded.role, updated_at = excluded.updated_at";
    Sql::query(SQL)
        .bind(project_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update_relation(
    conn: Conn<'_>,
    project_id: &str,
    user_id: &str,
    role: &str,
    now: &str,
) -> sqlx::Result<bool> {
    const SQL: &str = "update project_relations set role = $3, updated_at = $4 where project_id = $1 and user_id = $2";
    let n = Sql::query(SQL)
        .bind(project_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

pub async fn delete_relation(
    conn: Conn<'_>,
    project_id: &str,
    user_id: &str,
) -> sqlx::Result<bool> {
    const SQL: &str = "delete from project_relations where project_id = $1 and user_id = $2";
    let n = Sql::query(SQL)
        .bind(project_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// The user's role in the project, if they belong to it.
const MEMBER_ROLE: &str =
    "select role from project_relations where project_id = $1 and user_id = $2";

pub async fn member_role(
    conn: Conn<'_>,
    project_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<String>> {
    Sql::query(MEMBER_ROLE)
        .bind(project_id)
        .bind(user_id)
        .fetch_scalar_optional(conn)
        .await
}

/// [`member_role`] outside a transaction.
pub async fn read_member_role(
    reader: &mut Reader<'_>,
    project_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<String>> {
    reader
        .fetch_scalar_optional(&Sql::query(MEMBER_ROLE).bind(project_id).bind(user_id))
        .await
}

/// A project member as the API lists them.
#[derive(Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub role: String,
}

/// One page of the project's members in user-id order.
pub async fn members(
    conn: Conn<'_>,
    project_id: &str,
    after_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<MemberRow>> {
    const SQL: &str =
        "select u.id, u.email, u.first_name, u.last_name, u.created_at, u.updated_at, r.role \
                       from project_relations r join users u on u.id = r.user_id \
                       where r.project_id = $1 and u.id > $2 order by u.id limit $3 offset $4";
    let (after, offset) = match after_id {
        Some(a) => (a, 0),
        None => ("", offset as i64),
    };
    Sql::query(SQL)
        .bind(project_id)
        .bind(after)
        .bind(limit as i64)
        .bind(offset)
        .fetch_all(conn)
        .await
}

/// The id of the user's personal project.
pub async fn personal_project_id(conn: Conn<'_>, user_id: &str) -> sqlx::Result<Option<String>> {
    const SQL: &str = "select p.id from projects p join project_relations r on r.project_id = p.id \
                       where r.user_id = $1 and p.type = 'personal' and r.role = 'project:personalOwner'";
    Sql::query(SQL)
        .bind(user_id)
        .fetch_scalar_optional(conn)
        .await
}

pub async fn rename_personal(
    conn: Conn<'_>,
    user_id: &str,
    name: &str,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str = "update projects set name = $2, updated_at = $3 where type = 'personal' and id in \
                       (select project_id from project_relations where user_id = $1 and role = 'project:personalOwner')";
    Sql::query(SQL)
        .bind(user_id)
        .bind(name)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves every workflow, folder, credential, variable and data table of one project into
/// another (keeping the folder tree).
pub async fn move_contents(
    mut conn: Conn<'_>,
    from: &str,
    to: &str,
    now: &str,
) -> sqlx::Result<()> {
    const FOLDERS: &str =
        "update folders set project_id = $2, updated_at = $3 where project_id = $1";
    const WORKFLOWS: &str = "update workflows set project_id = $2, shared_at = $3, updated_at = $3 where project_id = $1";
    const CREDENTIALS: &str = "update credentials set project_id = $2, shared_at = $3, updated_at = $3 where project_id = $1";
    const VARIABLES: &str =
        "update variables set project_id = $2, updated_at = $3 where project_id = $1";
    for statement in [FOLDERS, WORKFLOWS, CREDENTIALS, VARIABLES] {
        Sql::query(statement)
            .bind(from)
            .bind(to)
            .bind(now)
            .execute(conn.reborrow())
            .await?;
    }
    crate::db::data_tables::move_all(conn, from, to, now).await?;
    Ok(())
}

/// A variable key of project `from` that project `to` already has: a key is unique within its
/// project, so such a variable cannot move there as it is.
pub async fn clashing_variable_key(
    conn: Conn<'_>,
    from: &str,
    to: &str,
) -> sqlx::Result<Option<String>> {
    const SQL: &str = "select f.key from variables f join variables t on t.key = f.key \
                       where f.project_id = $1 and t.project_id = $2 order by f.key limit 1";
    Sql::query(SQL)
        .bind(from)
        .bind(to)
        .fetch_scalar_optional(conn)
        .await
}
