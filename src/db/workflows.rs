//! Workflows, their saved versions, publish history and tags.
//!
//! Long because the statements of the hot reads come in pairs: in a transaction (`Conn`) and
//! outside one (`Reader`, on SQLite run on the request's thread), over one shared SQL text.

use crate::db::direct::DirectRow;
use crate::db::sql::{contains_pattern, Sql};
use crate::db::tags::TagRow;
use crate::db::{Conn, Reader};
use crate::direct_row;

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

direct_row!(WorkflowRow {
    id,
    name,
    description,
    active,
    active_version_id,
    is_archived,
    version_id,
    version_counter,
    trigger_count,
    nodes,
    connections,
    node_groups,
    settings,
    static_data,
    pin_data,
    meta,
    project_id,
    parent_folder_id,
    shared_at,
    created_at,
    updated_at,
});

/// The columns of [`WorkflowRow`] (unqualified: every statement reads one table's).
macro_rules! columns {
    () => {
        "id, name, description, active, active_version_id, is_archived, version_id, version_counter, \
         trigger_count, nodes, connections, node_groups, settings, static_data, pin_data, meta, project_id, \
         parent_folder_id, shared_at, created_at, updated_at"
    };
}

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

impl<'q> Content<'q> {
    /// Binds the content, in field order, to the next ten placeholders of `sql`.
    fn bind_to(&self, sql: Sql<'q>) -> Sql<'q> {
        sql.bind(self.name)
            .bind(self.description)
            .bind(self.nodes)
            .bind(self.connections)
            .bind(self.node_groups)
            .bind(self.settings)
            .bind(self.static_data)
            .bind(self.pin_data)
            .bind(self.meta)
            .bind(self.parent_folder_id)
    }
}

/// Creates an unpublished workflow; answers it.
pub async fn insert(
    conn: Conn<'_>,
    id: &str,
    version_id: &str,
    project_id: &str,
    content: &Content<'_>,
    now: &str,
) -> sqlx::Result<WorkflowRow> {
    const SQL: &str = concat!(
        "insert into workflows (id, version_id, project_id, shared_at, created_at, updated_at, active, \
         active_version_id, is_archived, version_counter, trigger_count, name, description, nodes, connections, \
         node_groups, settings, static_data, pin_data, meta, parent_folder_id) \
         values ($1, $2, $3, $4, $4, $4, false, null, false, 1, 0, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         returning ",
        columns!()
    );
    let sql = Sql::query(SQL)
        .bind(id)
        .bind(version_id)
        .bind(project_id)
        .bind(now);
    content.bind_to(sql).fetch_one(conn).await
}

const FIND: &str = concat!("select ", columns!(), " from workflows where id = $1");

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<WorkflowRow>> {
    Sql::query(FIND).bind(id).fetch_optional(conn).await
}

/// [`find`] outside a transaction.
pub async fn read(reader: &mut Reader<'_>, id: &str) -> sqlx::Result<Option<WorkflowRow>> {
    reader.fetch_optional(&Sql::query(FIND).bind(id)).await
}

/// Locks the workflow's row for the rest of the transaction and answers it as it is now, so a
/// change derived from it cannot undo a concurrent one (PostgreSQL: `for update`). SQLite runs
/// one write transaction at a time, so `row`, read in this transaction, is already current.
pub async fn relock(conn: Conn<'_>, row: WorkflowRow) -> sqlx::Result<Option<WorkflowRow>> {
    const SQL: &str = concat!(
        "select ",
        columns!(),
        " from workflows where id = $1 for update"
    );
    match conn {
        Conn::Sqlite(_) => Ok(Some(row)),
        postgres => Sql::query(SQL).bind(&row.id).fetch_optional(postgres).await,
    }
}

/// Filters of the workflow list.
#[derive(Default)]
pub struct ListFilter<'a> {
    /// Only workflows of this user's projects (`None`: every project).
    pub member: Option<&'a str>,
    pub active: Option<bool>,
    /// Workflows carrying every one of these tag names that exists (as n8n filters).
    pub tag_names: Option<&'a [String]>,
    /// Case-insensitive substring of the name.
    pub name: Option<&'a str>,
    pub project_id: Option<&'a str>,
}

/// A workflow of a list page, with its tags (by tag id, as n8n shows them inside a workflow)
/// and its published version.
pub struct ListedRow {
    pub row: WorkflowRow,
    pub tags: Vec<TagRow>,
    pub active_version: Option<VersionRow>,
}

/// A list row as the statement answers it: the tags as a JSON array, the published version's
/// columns prefixed `av_` (all null when there is none).
#[derive(sqlx::FromRow)]
struct ListedRaw {
    #[sqlx(flatten)]
    row: WorkflowRow,
    tags_json: Option<String>,
    av_version_id: Option<String>,
    av_nodes: Option<String>,
    av_connections: Option<String>,
    av_node_groups: Option<String>,
    av_authors: Option<String>,
    av_name: Option<String>,
    av_description: Option<String>,
    av_autosaved: Option<bool>,
    av_created_at: Option<String>,
    av_updated_at: Option<String>,
}

impl DirectRow for ListedRaw {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        use crate::db::direct::column;
        // The statement lists the workflow's 21 columns first, then these, in this order.
        Ok(ListedRaw {
            row: WorkflowRow::from_direct(row)?,
            av_version_id: column(row, 21, "av_version_id")?,
            av_nodes: column(row, 22, "av_nodes")?,
            av_connections: column(row, 23, "av_connections")?,
            av_node_groups: column(row, 24, "av_node_groups")?,
            av_authors: column(row, 25, "av_authors")?,
            av_name: column(row, 26, "av_name")?,
            av_description: column(row, 27, "av_description")?,
            av_autosaved: column(row, 28, "av_autosaved")?,
            av_created_at: column(row, 29, "av_created_at")?,
            av_updated_at: column(row, 30, "av_updated_at")?,
            tags_json: column(row, 31, "tags_json")?,
        })
    }
}

impl ListedRaw {
    fn into_listed(self) -> sqlx::Result<ListedRow> {
        let tags = match self.tags_json.as_deref() {
            None => Vec::new(),
            Some(json) => serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(e.into()))?,
        };
        let active_version = self.av_version_id.map(|version_id| VersionRow {
            version_id,
            workflow_id: self.row.id.clone(),
            nodes: self.av_nodes.unwrap_or_default(),
            connections: self.av_connections.unwrap_or_default(),
            node_groups: self.av_node_groups.unwrap_or_default(),
            authors: self.av_authors.unwrap_or_default(),
            name: self.av_name,
            description: self.av_description,
            autosaved: self.av_autosaved.unwrap_or_default(),
            created_at: self.av_created_at.unwrap_or_default(),
            updated_at: self.av_updated_at.unwrap_or_default(),
        });
        Ok(ListedRow {
            row: self.row,
            tags,
            active_version,
        })
    }
}

/// The tags of the list row's workflow as one JSON array of [`TagRow`]s, by tag id. The one
/// place the dialects differ: SQLite aggregates with `json_group_array`/`json_object`,
/// PostgreSQL with `json_agg`/`json_build_object` (and answers null, not `[]`, for no tags);
/// both take the `order by` inside the aggregate, and the `cast` to text.
macro_rules! tags_json {
    ($aggregate:literal, $object:literal) => {
        concat!(
            "cast((select ",
            $aggregate,
            "(",
            $object,
            "('id', t.id, 'name', t.name, 'created_at', t.created_at, 'updated_at', t.updated_at) \
             order by wt.tag_id) from workflow_tags wt join tags t on t.id = wt.tag_id \
             where wt.workflow_id = w.id) as text)"
        )
    };
}

fn tags_json_column(postgres: bool) -> &'static str {
    if postgres {
        tags_json!("json_agg", "json_build_object")
    } else {
        tags_json!("json_group_array", "json_object")
    }
}

/// One page in id order (as n8n lists workflows), after `after_id` (keyset) or at `offset`,
/// each workflow with its tags and published version: one statement for the whole page.
pub async fn list(
    reader: &mut Reader<'_>,
    filter: &ListFilter<'_>,
    after_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<ListedRow>> {
    let mut sql = Sql::build(
        "select w.id, w.name, w.description, w.active, w.active_version_id, w.is_archived, w.version_id, \
         w.version_counter, w.trigger_count, w.nodes, w.connections, w.node_groups, w.settings, w.static_data, \
         w.pin_data, w.meta, w.project_id, w.parent_folder_id, w.shared_at, w.created_at, w.updated_at, \
         av.version_id as av_version_id, av.nodes as av_nodes, av.connections as av_connections, \
         av.node_groups as av_node_groups, av.authors as av_authors, av.name as av_name, \
         av.description as av_description, av.autosaved as av_autosaved, av.created_at as av_created_at, \
         av.updated_at as av_updated_at, ",
    );
    sql.push(tags_json_column(reader.is_postgres()));
    sql.push(
        " as tags_json from workflows w left join workflow_history av \
         on av.version_id = w.active_version_id and av.workflow_id = w.id where 1 = 1",
    );
    if let Some(member) = filter.member {
        sql.push(" and w.project_id in (select project_id from project_relations where user_id = ")
            .push_bind(member)
            .push(")");
    }
    if let Some(active) = filter.active {
        sql.push(if active {
            " and w.active = true"
        } else {
            " and w.active = false"
        });
    }
    if let Some(names) = filter.tag_names {
        // A workflow must carry at least one of the named tags, and every named tag that
        // exists (names of no tag are passed over, as n8n does).
        sql.push(
            " and (select count(*) from workflow_tags wt join tags t on t.id = wt.tag_id \
             where wt.workflow_id = w.id and t.name in (",
        )
        .push_list(names)
        .push(")) = (select count(*) from tags t where t.name in (")
        .push_list(names)
        .push(
            ")) and exists (select 1 from workflow_tags wt join tags t on t.id = wt.tag_id \
               where wt.workflow_id = w.id and t.name in (",
        )
        .push_list(names)
        .push("))");
    }
    if let Some(name) = filter.name {
        sql.push(" and lower(w.name) like ")
            .push_bind(contains_pattern(&name.to_lowercase()))
            .push(" escape '\\'");
    }
    if let Some(project) = filter.project_id {
        sql.push(" and w.project_id = ").push_bind(project);
    }
    if let Some(after) = after_id {
        sql.push(" and w.id > ").push_bind(after);
    }
    let offset = if after_id.is_some() { 0 } else { offset as i64 };
    sql.push(" order by w.id limit ")
        .push_bind(limit as i64)
        .push(" offset ")
        .push_bind(offset);
    let rows: Vec<ListedRaw> = reader.fetch_all(&sql).await?;
    rows.into_iter().map(ListedRaw::into_listed).collect()
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
    const SQL: &str = concat!(
        "update workflows set version_id = $2, updated_at = $3, version_counter = version_counter + 1, \
         name = $4, description = $5, nodes = $6, connections = $7, node_groups = $8, settings = $9, \
         static_data = $10, pin_data = $11, meta = $12, parent_folder_id = $13 where id = $1 returning ",
        columns!()
    );
    let sql = Sql::query(SQL).bind(id).bind(version_id).bind(now);
    content.bind_to(sql).fetch_optional(conn).await
}

/// Publishes `version_id` (or, with `None`, unpublishes); answers the workflow.
pub async fn set_published(
    conn: Conn<'_>,
    id: &str,
    version_id: Option<&str>,
    trigger_count: i64,
    now: &str,
) -> sqlx::Result<Option<WorkflowRow>> {
    const SQL: &str = concat!(
        "update workflows set active = $2, active_version_id = $3, trigger_count = $4, updated_at = $5 \
         where id = $1 returning ",
        columns!()
    );
    Sql::query(SQL)
        .bind(id)
        .bind(version_id.is_some())
        .bind(version_id)
        .bind(trigger_count)
        .bind(now)
        .fetch_optional(conn)
        .await
}

/// Archives or restores the workflow; answers it.
pub async fn set_archived(
    conn: Conn<'_>,
    id: &str,
    archived: bool,
    now: &str,
) -> sqlx::Result<Option<WorkflowRow>> {
    const SQL: &str = concat!(
        "update workflows set is_archived = $2, updated_at = $3 where id = $1 returning ",
        columns!()
    );
    Sql::query(SQL)
        .bind(id)
        .bind(archived)
        .bind(now)
        .fetch_optional(conn)
        .await
}

/// Moves the workflow to another project, at its root.
pub async fn transfer(conn: Conn<'_>, id: &str, project_id: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str =
        "update workflows set project_id = $2, parent_folder_id = null, shared_at = $3, \
                       updated_at = $3 where id = $1";
    Sql::query(SQL)
        .bind(id)
        .bind(project_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from workflows where id = $1";
    Ok(Sql::query(SQL).bind(id).execute(conn).await? == 1)
}

#[derive(sqlx::FromRow)]
struct TagOf {
    workflow_id: String,
    #[sqlx(flatten)]
    tag: TagRow,
}

impl DirectRow for TagOf {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(TagOf {
            workflow_id: row.get("workflow_id")?,
            tag: TagRow::from_direct(row)?,
        })
    }
}

fn tags_of_sql<'q>(workflow_ids: &[&'q str]) -> Sql<'q> {
    let mut sql = Sql::build(
        "select wt.workflow_id, t.id, t.name, t.created_at, t.updated_at from workflow_tags wt \
         join tags t on t.id = wt.tag_id where wt.workflow_id in (",
    );
    sql.push_list(workflow_ids.iter().copied())
        .push(") order by wt.workflow_id, wt.tag_id");
    sql
}

/// The tags of each of `workflow_ids`, as (workflow id, tag) pairs, each workflow's in the
/// order n8n shows them inside a workflow: by tag id.
pub async fn tags_of(conn: Conn<'_>, workflow_ids: &[&str]) -> sqlx::Result<Vec<(String, TagRow)>> {
    if workflow_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<TagOf> = tags_of_sql(workflow_ids).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.workflow_id, r.tag)).collect())
}

/// [`tags_of`] outside a transaction.
pub async fn read_tags_of(
    reader: &mut Reader<'_>,
    workflow_ids: &[&str],
) -> sqlx::Result<Vec<(String, TagRow)>> {
    if workflow_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<TagOf> = reader.fetch_all(&tags_of_sql(workflow_ids)).await?;
    Ok(rows.into_iter().map(|r| (r.workflow_id, r.tag)).collect())
}

/// One workflow's tags as its tags route answers them: in the order the tags were created.
pub async fn tags_by_creation(conn: Conn<'_>, workflow_id: &str) -> sqlx::Result<Vec<TagRow>> {
    const SQL: &str = "select t.id, t.name, t.created_at, t.updated_at from workflow_tags wt \
                       join tags t on t.id = wt.tag_id where wt.workflow_id = $1 order by t.created_at, t.id";
    Sql::query(SQL).bind(workflow_id).fetch_all(conn).await
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
    Sql::query(CLEAR)
        .bind(workflow_id)
        .execute(conn.reborrow())
        .await?;
    for tag_id in tag_ids {
        Sql::query(ADD)
            .bind(workflow_id)
            .bind(tag_id)
            .execute(conn.reborrow())
            .await?;
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

direct_row!(VersionRow {
    version_id,
    workflow_id,
    nodes,
    connections,
    node_groups,
    authors,
    name,
    description,
    autosaved,
    created_at,
    updated_at,
});

macro_rules! version_columns {
    () => {
        "version_id, workflow_id, nodes, connections, node_groups, authors, name, description, autosaved, \
         created_at, updated_at"
    };
}

pub struct NewVersion<'a> {
    pub version_id: &'a str,
    pub workflow_id: &'a str,
    pub nodes: &'a str,
    pub connections: &'a str,
    pub node_groups: &'a str,
    pub authors: &'a str,
    pub now: &'a str,
}

/// Records a version; answers it. Its time is kept strictly after the workflow's previous
/// version (two saves within one millisecond get consecutive milliseconds), so the history's
/// newest-first order is the order of the saves.
pub async fn insert_version(mut conn: Conn<'_>, v: &NewVersion<'_>) -> sqlx::Result<VersionRow> {
    const LATEST: &str = "select max(created_at) from workflow_history where workflow_id = $1";
    let latest: Option<String> = Sql::query(LATEST)
        .bind(v.workflow_id)
        .fetch_scalar(conn.reborrow())
        .await?;
    let at = match latest
        .as_deref()
        .filter(|l| *l >= v.now)
        .and_then(crate::domain::time::parse_iso)
    {
        Some(previous) => crate::domain::time::iso(previous + chrono::Duration::milliseconds(1)),
        None => v.now.to_owned(),
    };
    const SQL: &str = concat!(
        "insert into workflow_history (version_id, workflow_id, nodes, connections, node_groups, authors, name, \
         description, autosaved, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, null, null, false, $7, $7) \
         returning ",
        version_columns!()
    );
    Sql::query(SQL)
        .bind(v.version_id)
        .bind(v.workflow_id)
        .bind(v.nodes)
        .bind(v.connections)
        .bind(v.node_groups)
        .bind(v.authors)
        .bind(at)
        .fetch_one(conn)
        .await
}

const FIND_VERSION: &str = concat!(
    "select ",
    version_columns!(),
    " from workflow_history where workflow_id = $1 and version_id = $2"
);

pub async fn find_version(
    conn: Conn<'_>,
    workflow_id: &str,
    version_id: &str,
) -> sqlx::Result<Option<VersionRow>> {
    Sql::query(FIND_VERSION)
        .bind(workflow_id)
        .bind(version_id)
        .fetch_optional(conn)
        .await
}

/// [`find_version`] outside a transaction.
pub async fn read_version(
    reader: &mut Reader<'_>,
    workflow_id: &str,
    version_id: &str,
) -> sqlx::Result<Option<VersionRow>> {
    reader
        .fetch_optional(&Sql::query(FIND_VERSION).bind(workflow_id).bind(version_id))
        .await
}

fn find_versions_sql<'q>(version_ids: &[&'q str]) -> Sql<'q> {
    let mut sql = Sql::build(concat!(
        "select ",
        version_columns!(),
        " from workflow_history where version_id in ("
    ));
    sql.push_list(version_ids.iter().copied()).push(")");
    sql
}

/// Versions of several workflows by version id (the published versions of a list page).
pub async fn find_versions(conn: Conn<'_>, version_ids: &[&str]) -> sqlx::Result<Vec<VersionRow>> {
    if version_ids.is_empty() {
        return Ok(Vec::new());
    }
    find_versions_sql(version_ids).fetch_all(conn).await
}

/// Newest first.
pub async fn list_versions(
    conn: Conn<'_>,
    workflow_id: &str,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<VersionRow>> {
    const SQL: &str = concat!(
        "select ",
        version_columns!(),
        " from workflow_history where workflow_id = $1 \
         order by created_at desc, version_id desc limit $2 offset $3"
    );
    Sql::query(SQL)
        .bind(workflow_id)
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(conn)
        .await
}

/// Sets the name and description a version is published under; answers the version.
pub async fn label_version(
    conn: Conn<'_>,
    version_id: &str,
    name: Option<&str>,
    description: Option<&str>,
    now: &str,
) -> sqlx::Result<Option<VersionRow>> {
    const SQL: &str = concat!(
        "update workflow_history set name = coalesce($2, name), description = coalesce($3, description), \
         updated_at = $4 where version_id = $1 returning ",
        version_columns!()
    );
    Sql::query(SQL)
        .bind(version_id)
        .bind(name)
        .bind(description)
        .bind(now)
        .fetch_optional(conn)
        .await
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

direct_row!(PublishEventRow {
    id,
    workflow_id,
    version_id,
    event,
    user_id,
    created_at
});

pub async fn insert_publish_event(conn: Conn<'_>, event: &PublishEventRow) -> sqlx::Result<()> {
    const SQL: &str =
        "insert into workflow_publish_history (id, workflow_id, version_id, event, user_id, \
                       created_at) values ($1, $2, $3, $4, $5, $6)";
    Sql::query(SQL)
        .bind(&event.id)
        .bind(&event.workflow_id)
        .bind(&event.version_id)
        .bind(&event.event)
        .bind(&event.user_id)
        .bind(&event.created_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The publish events of one version, oldest first.
const PUBLISH_EVENTS: &str = "select id, workflow_id, version_id, event, user_id, created_at \
                              from workflow_publish_history where workflow_id = $1 and version_id = $2 \
                              order by created_at, id";

pub async fn publish_events(
    conn: Conn<'_>,
    workflow_id: &str,
    version_id: &str,
) -> sqlx::Result<Vec<PublishEventRow>> {
    Sql::query(PUBLISH_EVENTS)
        .bind(workflow_id)
        .bind(version_id)
        .fetch_all(conn)
        .await
}

/// [`publish_events`] outside a transaction.
pub async fn read_publish_events(
    reader: &mut Reader<'_>,
    workflow_id: &str,
    version_id: &str,
) -> sqlx::Result<Vec<PublishEventRow>> {
    reader
        .fetch_all(
            &Sql::query(PUBLISH_EVENTS)
                .bind(workflow_id)
                .bind(version_id),
        )
        .await
}

/// The workflows in the given folders.
pub async fn in_folders(conn: Conn<'_>, folder_ids: &[String]) -> sqlx::Result<Vec<WorkflowRow>> {
    if folder_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::build(concat!(
        "select ",
        columns!(),
        " from workflows where parent_folder_id in ("
    ));
    sql.push_list(folder_ids).push(") order by id");
    sql.fetch_all(conn).await
}

/// The ids of a project's workflows.
pub async fn ids_in_project(conn: Conn<'_>, project_id: &str) -> sqlx::Result<Vec<String>> {
    const SQL: &str = "select id from workflows where project_id = $1 order by id";
    Sql::query(SQL).bind(project_id).fetch_scalars(conn).await
}

/// Every workflow (for the security audit).
pub async fn all(conn: Conn<'_>) -> sqlx::Result<Vec<WorkflowRow>> {
    const SQL: &str = concat!("select ", columns!(), " from workflows order by id");
    Sql::query(SQL).fetch_all(conn).await
}
