//! Folders inside projects.

use crate::db::sql::{contains_pattern, Sql};
use crate::db::Conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FolderRow {
    pub id: String,
    pub name: String,
    pub parent_folder_id: Option<String>,
    pub project_id: String,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "f.id, f.name, f.parent_folder_id, f.project_id, f.created_at, f.updated_at";

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<FolderRow>> {
    let sql = format!("select {COLUMNS} from folders f where f.id = $1");
    Sql::query(&sql).bind(id).fetch_optional(conn).await
}

pub async fn insert(
    conn: Conn<'_>,
    id: &str,
    name: &str,
    parent_folder_id: Option<&str>,
    project_id: &str,
    now: &str,
) -> sqlx::Result<FolderRow> {
    let sql = format!(
        "insert into folders (id, name, parent_folder_id, project_id, created_at, updated_at) values ($1, $2, $3, $4, $5, $5) \
         returning {}",
        COLUMNS.replace("f.", "")
    );
    Sql::query(&sql)
        .bind(id)
        .bind(name)
        .bind(parent_folder_id)
        .bind(project_id)
        .bind(now)
        .fetch_one(conn)
        .await
}

pub async fn update(
    conn: Conn<'_>,
    id: &str,
    name: &str,
    parent_folder_id: Option<&str>,
    now: &str,
) -> sqlx::Result<Option<FolderRow>> {
    let sql = format!(
        "update folders set name = $2, parent_folder_id = $3, updated_at = $4 where id = $1 returning {}",
        COLUMNS.replace("f.", "")
    );
    Sql::query(&sql)
        .bind(id)
        .bind(name)
        .bind(parent_folder_id)
        .bind(now)
        .fetch_optional(conn)
        .await
}

/// The folder and everything below it, as ids.
pub async fn subtree(conn: Conn<'_>, id: &str) -> sqlx::Result<Vec<String>> {
    const SQL: &str = "with recursive tree(id) as (select id from folders where id = $1 \
                       union all select f.id from folders f join tree t on f.parent_folder_id = t.id) select id from tree";
    Sql::query(SQL).bind(id).fetch_scalars(conn).await
}

/// Sub-folders (at any depth) and workflows (in any of them) below a folder.
pub async fn totals(mut conn: Conn<'_>, id: &str) -> sqlx::Result<(i64, i64)> {
    const FOLDERS: &str = "with recursive tree(id) as (select id from folders where parent_folder_id = $1 \
                           union all select f.id from folders f join tree t on f.parent_folder_id = t.id) select count(*) from tree";
    const WORKFLOWS: &str = "with recursive tree(id) as (select id from folders where id = $1 \
                             union all select f.id from folders f join tree t on f.parent_folder_id = t.id) \
                             select count(*) from workflows where parent_folder_id in (select id from tree)";
    let folders: i64 = Sql::query(FOLDERS)
        .bind(id)
        .fetch_scalar(conn.reborrow())
        .await?;
    let workflows: i64 = Sql::query(WORKFLOWS).bind(id).fetch_scalar(conn).await?;
    Ok((folders, workflows))
}

/// A folder of the list, with its direct counts.
#[derive(Debug, sqlx::FromRow)]
pub struct ListedFolderRow {
    #[sqlx(flatten)]
    pub folder: FolderRow,
    pub workflow_count: i64,
    pub sub_folder_count: i64,
}

/// What the folder list selects.
pub struct ListFilter<'a> {
    pub project_id: &'a str,
    /// `Some(None)`: folders at the project root.
    pub parent_folder_id: Option<Option<&'a str>>,
    /// Case-insensitive substring of the name.
    pub name: Option<&'a str>,
    /// Leave out this folder and everything below it.
    pub exclude: Option<&'a [String]>,
    pub sort_column: &'static str,
    pub descending: bool,
    pub skip: i64,
    pub take: i64,
}

/// Appends the list's `where` clause.
fn push_filter<'q>(sql: &mut Sql<'q>, filter: &ListFilter<'q>) {
    sql.push(" where f.project_id = ")
        .push_bind(filter.project_id);
    match filter.parent_folder_id {
        Some(Some(parent)) => {
            sql.push(" and f.parent_folder_id = ").push_bind(parent);
        }
        Some(None) => {
            sql.push(" and f.parent_folder_id is null");
        }
        None => {}
    }
    if let Some(name) = filter.name {
        sql.push(" and lower(f.name) like ")
            .push_bind(contains_pattern(&name.to_lowercase()))
            .push(" escape '\\'");
    }
    if let Some(ids) = filter.exclude.filter(|ids| !ids.is_empty()) {
        sql.push(" and f.id not in (").push_list(ids).push(")");
    }
}

pub async fn list(
    mut conn: Conn<'_>,
    filter: &ListFilter<'_>,
) -> sqlx::Result<(i64, Vec<ListedFolderRow>)> {
    let mut count = Sql::build("select count(*) from folders f");
    push_filter(&mut count, filter);
    let count: i64 = count.fetch_scalar(conn.reborrow()).await?;
    let direction = if filter.descending { "desc" } else { "asc" };
    let mut sql = Sql::build(format!(
        "select {COLUMNS}, \
         (select count(*) from workflows w where w.parent_folder_id = f.id) as workflow_count, \
         (select count(*) from folders s where s.parent_folder_id = f.id) as sub_folder_count \
         from folders f"
    ));
    push_filter(&mut sql, filter);
    sql.push(&format!(
        " order by {} {direction}, f.id {direction} limit ",
        filter.sort_column
    ))
    .push_bind(filter.take)
    .push(" offset ")
    .push_bind(filter.skip);
    let rows = sql.fetch_all(conn).await?;
    Ok((count, rows))
}

/// Moves the direct contents of `from` (sub-folders and workflows) into `to` (`None`: the
/// project root).
pub async fn move_contents(
    mut conn: Conn<'_>,
    from: &str,
    to: Option<&str>,
    now: &str,
) -> sqlx::Result<()> {
    const FOLDERS: &str =
        "update folders set parent_folder_id = $2, updated_at = $3 where parent_folder_id = $1";
    const WORKFLOWS: &str =
        "update workflows set parent_folder_id = $2, updated_at = $3 where parent_folder_id = $1";
    Sql::query(FOLDERS)
        .bind(from)
        .bind(to)
        .bind(now)
        .execute(conn.reborrow())
        .await?;
    Sql::query(WORKFLOWS)
        .bind(from)
        .bind(to)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves the workflows in the given folders to the project root.
pub async fn move_workflows_to_root(
    conn: Conn<'_>,
    folder_ids: &[String],
    now: &str,
) -> sqlx::Result<()> {
    if folder_ids.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::build("update workflows set parent_folder_id = null, updated_at = ");
    sql.push_bind(now)
        .push(" where parent_folder_id in (")
        .push_list(folder_ids)
        .push(")");
    sql.execute(conn).await?;
    Ok(())
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from folders where id = $1";
    let n = Sql::query(SQL).bind(id).execute(conn).await?;
    Ok(n == 1)
}
