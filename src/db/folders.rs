//! Folders inside projects.

use crate::db::Conn;
use crate::on_conn;

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
    on_conn!(conn, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)
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
    on_conn!(conn, c => sqlx::query_as(&sql).bind(id).bind(name).bind(parent_folder_id).bind(project_id).bind(now).fetch_one(c).await)
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
    on_conn!(conn, c => sqlx::query_as(&sql).bind(id).bind(name).bind(parent_folder_id).bind(now).fetch_optional(c).await)
}

/// The folder and everything below it, as ids.
pub async fn subtree(conn: Conn<'_>, id: &str) -> sqlx::Result<Vec<String>> {
    const SQL: &str = "with recursive tree(id) as (select id from folders where id = $1 \
                       union all select f.id from folders f join tree t on f.parent_folder_id = t.id) select id from tree";
    on_conn!(conn, c => sqlx::query_scalar(SQL).bind(id).fetch_all(c).await)
}

/// Sub-folders (at any depth) and workflows (in any of them) below a folder.
pub async fn totals(mut conn: Conn<'_>, id: &str) -> sqlx::Result<(i64, i64)> {
    const FOLDERS: &str = "with recursive tree(id) as (select id from folders where parent_folder_id = $1 \
                           union all select f.id from folders f join tree t on f.parent_folder_id = t.id) select count(*) from tree";
    const WORKFLOWS: &str = "with recursive tree(id) as (select id from folders where id = $1 \
                             union all select f.id from folders f join tree t on f.parent_folder_id = t.id) \
                             select count(*) from workflows where parent_folder_id in (select id from tree)";
    let folders: i64 =
        on_conn!(conn.reborrow(), c => sqlx::query_scalar(FOLDERS).bind(id).fetch_one(c).await)?;
    let workflows: i64 =
        on_conn!(conn, c => sqlx::query_scalar(WORKFLOWS).bind(id).fetch_one(c).await)?;
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

fn filter_sql(filter: &ListFilter<'_>, binds: &mut Vec<String>, first: usize) -> String {
    let mut param = |v: String| {
        binds.push(v);
        format!("${}", binds.len() + first - 1)
    };
    let mut sql = format!("f.project_id = {}", param(filter.project_id.to_owned()));
    match filter.parent_folder_id {
        Some(Some(parent)) => sql.push_str(&format!(
            " and f.parent_folder_id = {}",
            param(parent.to_owned())
        )),
        Some(None) => sql.push_str(" and f.parent_folder_id is null"),
        None => {}
    }
    if let Some(name) = filter.name {
        let escaped = name
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        sql.push_str(&format!(
            " and lower(f.name) like {} escape '\\'",
            param(format!("%{escaped}%"))
        ));
    }
    if let Some(ids) = filter.exclude {
        if !ids.is_empty() {
            let list: Vec<String> = ids.iter().map(|id| param(id.clone())).collect();
            sql.push_str(&format!(" and f.id not in ({})", list.join(", ")));
        }
    }
    sql
}

pub async fn list(
    mut conn: Conn<'_>,
    filter: &ListFilter<'_>,
) -> sqlx::Result<(i64, Vec<ListedFolderRow>)> {
    let mut count_binds = Vec::new();
    let count_sql = format!(
        "select count(*) from folders f where {}",
        filter_sql(filter, &mut count_binds, 1)
    );
    let mut binds = Vec::new();
    let where_sql = filter_sql(filter, &mut binds, 3);
    let direction = if filter.descending { "desc" } else { "asc" };
    let sql = format!(
        "select {COLUMNS}, \
         (select count(*) from workflows w where w.parent_folder_id = f.id) as workflow_count, \
         (select count(*) from folders s where s.parent_folder_id = f.id) as sub_folder_count \
         from folders f where {where_sql} order by {} {direction}, f.id {direction} limit $1 offset $2",
        filter.sort_column
    );
    let count: i64 = on_conn!(conn.reborrow(), c => {
        let mut query = sqlx::query_scalar(&count_sql);
        for b in &count_binds {
            query = query.bind(b);
        }
        query.fetch_one(c).await
    })?;
    let rows = on_conn!(conn, c => {
        let mut query = sqlx::query_as(&sql).bind(filter.take).bind(filter.skip);
        for b in &binds {
            query = query.bind(b);
        }
        query.fetch_all(c).await
    })?;
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
    on_conn!(conn.reborrow(), c => sqlx::query(FOLDERS).bind(from).bind(to).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    on_conn!(conn, c => sqlx::query(WORKFLOWS).bind(from).bind(to).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Archives the workflows in the given folders and moves them to the project root (what
/// happens to a deleted folder's workflows when they are not transferred).
pub async fn archive_workflows_in(
    conn: Conn<'_>,
    folder_ids: &[String],
    now: &str,
) -> sqlx::Result<()> {
    if folder_ids.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..folder_ids.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let sql = format!(
        "update workflows set is_archived = true, active = false, active_version_id = null, trigger_count = 0, \
         parent_folder_id = null, updated_at = $1 where parent_folder_id in ({})",
        placeholders.join(", ")
    );
    on_conn!(conn, c => {
        let mut query = sqlx::query(&sql).bind(now);
        for id in folder_ids {
            query = query.bind(id);
        }
        query.execute(c).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from folders where id = $1";
    let n = on_conn!(conn, c => sqlx::query(SQL).bind(id).execute(c).await?.rows_affected());
    Ok(n == 1)
}
