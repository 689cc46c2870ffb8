//! Workflows, their saved versions, publish history and tags.

use crate::db::tags::TagRow;
use crate::db::Conn;
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkflowRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub active_version_id: Option<String>,
    pub is_archived: bool,
    pub version_id: String,
    pub version_counter: i64,
    pub trigger_count: i64,
    pub nodes: String,
    pub connections: String,
    pub node_groups: String,
    pub settings: String,
    pub static_data: Option<String>,
    pub pin_data: Option<String>,
    pub meta: Option<String>,
    pub project_id: String,
    pub parent_folder_id: Option<String>,
    pub shared_at: String,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "w.id, w.name, w.description, w.active, w.active_version_id, w.is_archived, w.version_id, \
    w.version_counter, w.trigger_count, w.nodes, w.connections, w.node_groups, w.settings, w.static_data, w.pin_data, \
    w.meta, w.project_id, w.parent_folder_id, w.shared_at, w.created_at, w.updated_at";

/// The stored form of a workflow's content.
pub struct Content<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub nodes: &'a str,
    pub connections: &'a str,
    pub node_groups: &'a str,
    pub settings: &'a str,
    pub static_data: Option<&'a str>,
    pub pin_data: Option<&'a str>,
    pub meta: Option<&'a str>,
    pub parent_folder_id: Option<&'a str>,
}

pub async fn insert(
    conn: Conn<'_>,
    id: &str,
    version_id: &str,
    project_id: &str,
    content: &Content<'_>,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str = "insert into workflows (id, name, description, active, active_version_id, is_archived, version_id, \
        version_counter, trigger_count, nodes, connections, node_groups, settings, static_data, pin_data, meta, project_id, \
        parent_folder_id, shared_at, created_at, updated_at) \
        values ($1, $2, $3, false, null, false, $4, 1, 0, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $14)";
    on_conn!(conn, c => sqlx::query(SQL)
        .bind(id).bind(content.name).bind(content.description).bind(version_id)
        .bind(content.nodes).bind(content.connections).bind(content.node_groups).bind(content.settings)
        .bind(content.static_data).bind(content.pin_data).bind(content.meta).bind(project_id)
        .bind(content.parent_folder_id).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<WorkflowRow>> {
    let sql = format!("select {COLUMNS} from workflows w where w.id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)
}

/// Filters of the workflow list.
#[derive(Default)]
pub struct ListFilter<'a> {
    /// Only workflows of this user's projects (`None`: every project).
    pub member: Option<&'a str>,
    pub active: Option<bool>,
    /// Workflows carrying any of these tag names.
    pub tag_names: Option<&'a [String]>,
    /// Case-insensitive substring of the name.
    pub name: Option<&'a str>,
    pub project_id: Option<&'a str>,
}

fn escape_like(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// One page in id order (as n8n lists workflows), after `after_id` (keyset) or at `offset`.
pub async fn list(
    conn: Conn<'_>,
    filter: &ListFilter<'_>,
    after_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<WorkflowRow>> {
    let mut sql = format!("select {COLUMNS} from workflows w where 1 = 1");
    let mut binds: Vec<String> = Vec::new();
    let param = |binds: &mut Vec<String>, value: String| {
        binds.push(value);
        format!("${}", binds.len() + 2)
    };
    if let Some(member) = filter.member {
        let p = param(&mut binds, member.to_owned());
        sql.push_str(&format!(
            " and w.project_id in (select project_id from project_relations where user_id = {p})"
        ));
    }
    if let Some(active) = filter.active {
        sql.push_str(if active {
            " and w.active = true"
        } else {
            " and w.active = false"
        });
    }
    if let Some(names) = filter.tag_names {
        let list: Vec<String> = names.iter().map(|n| param(&mut binds, n.clone())).collect();
        sql.push_str(&format!(
            " and exists (select 1 from workflow_tags wt join tags t on t.id = wt.tag_id where wt.workflow_id = w.id and t.name in ({}))",
            list.join(", ")
        ));
    }
    if let Some(name) = filter.name {
        let p = param(
            &mut binds,
            format!("%{}%", escape_like(&name.to_lowercase())),
        );
        sql.push_str(&format!(" and lower(w.name) like {p} escape '\\'"));
    }
    if let Some(project) = filter.project_id {
        let p = param(&mut binds, project.to_owned());
        sql.push_str(&format!(" and w.project_id = {p}"));
    }
    if let Some(after) = after_id {
        let p = param(&mut binds, after.to_owned());
        sql.push_str(&format!(" and w.id > {p}"));
    }
    sql.push_str(" order by w.id limit $1 offset $2");
    let offset = if after_id.is_some() { 0 } else { offset as i64 };
    on_conn!(conn, c => {
        let mut query = sqlx::query_as(&sql).bind(limit as i64).bind(offset);
        for b in &binds {
            query = query.bind(b);
        }
        query.fetch_all(c).await
    })
}

/// Replaces the content with a new version; answers the updated row. The counter is
/// incremented in the statement, so concurrent updates never reuse a number.
pub async fn update_content(
    conn: Conn<'_>,
    id: &str,
    version_id: &str,
    content: &Content<'_>,
    now: &str,
) -> sqlx::Result<Option<WorkflowRow>> {
    let sql = format!(
        "update workflows set name = $2, description = $3, version_id = $4, version_counter = version_counter + 1, \
         nodes = $5, connections = $6, node_groups = $7, settings = $8, static_data = $9, pin_data = $10, meta = $11, \
         parent_folder_id = $12, updated_at = $13 where id = $1 returning {}",
        COLUMNS.replace("w.", "")
    );
    on_conn!(conn, c => sqlx::query_as(&sql)
        .bind(id).bind(content.name).bind(content.description).bind(version_id)
        .bind(content.nodes).bind(content.connections).bind(content.node_groups).bind(content.settings)
        .bind(content.static_data).bind(content.pin_data).bind(content.meta).bind(content.parent_folder_id).bind(now)
        .fetch_optional(c).await)
}

/// Publishes `version_id` (or, with `None`, unpublishes).
pub async fn set_published(
    conn: Conn<'_>,
    id: &str,
    version_id: Option<&str>,
    trigger_count: i64,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str = "update workflows set active = $2, active_version_id = $3, trigger_count = $4, updated_at = $5 where id = $1";
    on_conn!(conn, c => sqlx::query(SQL).bind(id).bind(version_id.is_some()).bind(version_id).bind(trigger_count).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_archived(conn: Conn<'_>, id: &str, archived: bool, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "update workflows set is_archived = $2, updated_at = $3 where id = $1";
    on_conn!(conn, c => sqlx::query(SQL).bind(id).bind(archived).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Moves the workflow to another project, at its root.
pub async fn transfer(conn: Conn<'_>, id: &str, project_id: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "update workflows set project_id = $2, parent_folder_id = null, shared_at = $3, updated_at = $3 where id = $1";
    on_conn!(conn, c => sqlx::query(SQL).bind(id).bind(project_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from workflows where id = $1";
    Ok(on_conn!(conn, c => sqlx::query(SQL).bind(id).execute(c).await?.rows_affected()) == 1)
}

/// The tags of each of `workflow_ids`, as (workflow id, tag) pairs in tag-name order.
pub async fn tags_of(conn: Conn<'_>, workflow_ids: &[&str]) -> sqlx::Result<Vec<(String, TagRow)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        workflow_id: String,
        #[sqlx(flatten)]
        tag: TagRow,
    }
    if workflow_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=workflow_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "select wt.workflow_id, t.id, t.name, t.created_at, t.updated_at from workflow_tags wt join tags t on t.id = wt.tag_id \
         where wt.workflow_id in ({}) order by t.name, t.id",
        placeholders.join(", ")
    );
    let rows: Vec<Row> = on_conn!(conn, c => {
        let mut query = sqlx::query_as(&sql);
        for id in workflow_ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(|r| (r.workflow_id, r.tag)).collect())
}

/// Replaces the workflow's tags.
pub async fn set_tags(
    mut conn: Conn<'_>,
    workflow_id: &str,
    tag_ids: &[String],
) -> sqlx::Result<()> {
    const CLEAR: &str = "delete from workflow_tags where workflow_id = $1";
    const ADD: &str =
        "insert into workflow_tags (workflow_id, tag_id) values ($1, $2) on conflict do nothing";
    on_conn!(conn.reborrow(), c => sqlx::query(CLEAR).bind(workflow_id).execute(c).await.map(|r| r.rows_affected()))?;
    for tag_id in tag_ids {
        on_conn!(conn.reborrow(), c => sqlx::query(ADD).bind(workflow_id).bind(tag_id).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// A saved version.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub version_id: String,
    pub workflow_id: String,
    pub nodes: String,
    pub connections: String,
    pub node_groups: String,
    pub authors: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub autosaved: bool,
    pub created_at: String,
    pub updated_at: String,
}

const VERSION_COLUMNS: &str = "version_id, workflow_id, nodes, connections, node_groups, authors, name, description, autosaved, created_at, updated_at";

pub struct NewVersion<'a> {
    pub version_id: &'a str,
    pub workflow_id: &'a str,
    pub nodes: &'a str,
    pub connections: &'a str,
    pub node_groups: &'a str,
    pub authors: &'a str,
    pub now: &'a str,
}

/// Records a version. Its time is kept strictly after the workflow's previous version (two
/// saves within one millisecond get consecutive milliseconds), so the history's newest-first
/// order is the order of the saves.
pub async fn insert_version(mut conn: Conn<'_>, v: &NewVersion<'_>) -> sqlx::Result<()> {
    const LATEST: &str = "select max(created_at) from workflow_history where workflow_id = $1";
    let latest: Option<String> = on_conn!(conn.reborrow(), c => sqlx::query_scalar(LATEST).bind(v.workflow_id).fetch_one(c).await)?;
    let at = match latest
        .as_deref()
        .filter(|l| *l >= v.now)
        .and_then(crate::domain::time::parse_iso)
    {
        Some(previous) => crate::domain::time::iso(previous + chrono::Duration::milliseconds(1)),
        None => v.now.to_owned(),
    };
    const SQL: &str = "insert into workflow_history (version_id, workflow_id, nodes, connections, node_groups, authors, name, \
                       description, autosaved, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, null, null, false, $7, $7)";
    on_conn!(conn, c => sqlx::query(SQL).bind(v.version_id).bind(v.workflow_id).bind(v.nodes).bind(v.connections)
        .bind(v.node_groups).bind(v.authors).bind(&at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find_version(
    conn: Conn<'_>,
    workflow_id: &str,
    version_id: &str,
) -> sqlx::Result<Option<VersionRow>> {
    let sql = format!(
        "select {VERSION_COLUMNS} from workflow_history where workflow_id = $1 and version_id = $2"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(workflow_id).bind(version_id).fetch_optional(c).await)
}

/// Versions of several workflows by version id (the published versions of a list page).
pub async fn find_versions(conn: Conn<'_>, version_ids: &[&str]) -> sqlx::Result<Vec<VersionRow>> {
    if version_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=version_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "select {VERSION_COLUMNS} from workflow_history where version_id in ({})",
        placeholders.join(", ")
    );
    on_conn!(conn, c => {
        let mut query = sqlx::query_as(&sql);
        for id in version_ids {
            query = query.bind(*id);
        }
        query.fetch_all(c).await
    })
}

/// Newest first.
pub async fn list_versions(
    conn: Conn<'_>,
    workflow_id: &str,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<VersionRow>> {
    let sql = format!(
        "select {VERSION_COLUMNS} from workflow_history where workflow_id = $1 \
         order by created_at desc, version_id desc limit $2 offset $3"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(workflow_id).bind(limit as i64).bind(offset as i64).fetch_all(c).await)
}

/// Sets the name and description a version is published under.
pub async fn label_version(
    conn: Conn<'_>,
    version_id: &str,
    name: Option<&str>,
    description: Option<&str>,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str = "update workflow_history set name = coalesce($2, name), description = coalesce($3, description), \
                       updated_at = $4 where version_id = $1";
    on_conn!(conn, c => sqlx::query(SQL).bind(version_id).bind(name).bind(description).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublishEventRow {
    pub id: String,
    pub workflow_id: String,
    pub version_id: Option<String>,
    pub event: String,
    pub user_id: Option<String>,
    pub created_at: String,
}

pub async fn insert_publish_event(conn: Conn<'_>, event: &PublishEventRow) -> sqlx::Result<()> {
    const SQL: &str = "insert into workflow_publish_history (id, workflow_id, version_id, event, user_id, created_at) \
                       values ($1, $2, $3, $4, $5, $6)";
    on_conn!(conn, c => sqlx::query(SQL).bind(&event.id).bind(&event.workflow_id).bind(&event.version_id)
        .bind(&event.event).bind(&event.user_id).bind(&event.created_at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The publish events of one version, oldest first.
pub async fn publish_events(
    conn: Conn<'_>,
    workflow_id: &str,
    version_id: &str,
) -> sqlx::Result<Vec<PublishEventRow>> {
    const SQL: &str = "select id, workflow_id, version_id, event, user_id, created_at from workflow_publish_history \
                       where workflow_id = $1 and version_id = $2 order by created_at, id";
    on_conn!(conn, c => sqlx::query_as(SQL).bind(workflow_id).bind(version_id).fetch_all(c).await)
}

/// Every workflow (for the security audit).
pub async fn all(conn: Conn<'_>) -> sqlx::Result<Vec<WorkflowRow>> {
    let sql = format!("select {COLUMNS} from workflows w order by w.id");
    on_conn!(conn, c => sqlx::query_as(&sql).fetch_all(c).await)
}
