//! `/rest/workflows` and `/rest/tags`: what the web page lists and draws. Every call goes
//! through [`crate::service::workflows`] with the signed-in user as the principal, so the web
//! page sees and changes exactly what the same user's API key could.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::data;
use crate::access::ProjectAccess;
use crate::api::v1::workflows::view::Workflow;
use crate::app::AppState;
use crate::auth::session::SessionUser;
use crate::auth::{Principal, Scope};
use crate::db::executions::LatestRow;
use crate::db::folders::FolderRow;
use crate::db::projects::ProjectRow;
use crate::db::workflows::ListFilter;
use crate::db::{tags, webhooks};
use crate::domain::ids::{Named, WorkflowId};
use crate::engine::workflow::Node;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::pagination::{Limit, PageQuery};
use crate::service::workflows::page::{self, PageContext};
use crate::service::workflows::{self as service, Details, PublishRequest};

/// n8n's `filter` query parameter of the workflow list (tags by name).
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListFilterBody {
    name: Option<String>,
    tags: Option<Vec<String>>,
    project_id: Option<String>,
    active: Option<bool>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    filter: Option<String>,
    limit: Option<Limit>,
    cursor: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HomeProject {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    icon: Option<Value>,
}

impl From<ProjectRow> for HomeProject {
    fn from(p: ProjectRow) -> HomeProject {
        HomeProject {
            icon: p.icon.as_deref().and_then(|i| serde_json::from_str(i).ok()),
            id: p.id,
            name: p.name,
            kind: p.kind,
        }
    }
}

/// n8n's `parentFolder` of a list item: the folder the workflow sits in, or `null` at the
/// project's root.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParentFolder {
    id: String,
    name: String,
    parent_folder_id: Option<String>,
}

impl From<FolderRow> for ParentFolder {
    fn from(f: FolderRow) -> ParentFolder {
        ParentFolder {
            id: f.id,
            name: f.name,
            parent_folder_id: f.parent_folder_id,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LastExecution {
    id: String,
    status: String,
    started_at: Option<String>,
}

impl From<LatestRow> for LastExecution {
    fn from(e: LatestRow) -> LastExecution {
        LastExecution {
            id: e.id.to_string(),
            status: e.status,
            started_at: e.started_at,
        }
    }
}

/// A workflow of the list: n8n's list item (the same fields), with two of ours that n8n's
/// clients ignore: `scopes` (n8n lists them only on request) and the newest execution.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListItem {
    id: String,
    name: String,
    description: Option<String>,
    active: bool,
    is_archived: bool,
    created_at: String,
    updated_at: String,
    version_id: String,
    active_version_id: Option<String>,
    settings: Box<RawValue>,
    tags: Vec<crate::api::v1::tags::Tag>,
    parent_folder: Option<ParentFolder>,
    home_project: Option<HomeProject>,
    /// Always empty: a workflow belongs to its home project only (no sharing here).
    shared_with_projects: [(); 0],
    scopes: Vec<&'static str>,
    last_execution: Option<LastExecution>,
}

/// The workflow scopes n8n lists on a workflow for the caller's access to its project,
/// within what the caller's role allows.
fn workflow_scopes(principal: &Principal, access: Option<ProjectAccess>) -> Vec<&'static str> {
    let Some(access) = access else {
        return Vec::new();
    };
    access
        .project_scopes()
        .into_iter()
        .filter(|s| s.starts_with("workflow:"))
        .filter(|s| {
            let needed = match *s {
                "workflow:publish" => Some(Scope::WorkflowActivate),
                "workflow:delete" => Some(Scope::WorkflowDelete),
                "workflow:update" => Some(Scope::WorkflowUpdate),
                _ => None,
            };
            needed.is_none_or(|scope| principal.scopes.contains(scope))
        })
        .collect()
}

impl ListItem {
    /// A workflow of the list with what the page shows beside it.
    fn new(d: Details, principal: &Principal, context: &mut PageContext) -> ListItem {
        ListItem {
            parent_folder: d
                .row
                .parent_folder_id
                .as_ref()
                .and_then(|f| context.folders.get(f).cloned().flatten())
                .map(ParentFolder::from),
            settings: RawValue::from_string(d.row.settings).unwrap_or_else(|_| empty_object()),
            description: d.row.description,
            shared_with_projects: [],
            scopes: workflow_scopes(
                principal,
                context.access.get(&d.row.project_id).copied().flatten(),
            ),
            last_execution: context.latest.remove(&d.row.id).map(LastExecution::from),
            home_project: context
                .homes
                .get(&d.row.project_id)
                .cloned()
                .flatten()
                .map(HomeProject::from),
            tags: d.tags.into_iter().map(|t| t.into_api()).collect(),
            id: d.row.id,
            name: d.row.name,
            active: d.row.active,
            is_archived: d.row.is_archived,
            created_at: d.row.created_at,
            updated_at: d.row.updated_at,
            version_id: d.row.version_id,
            active_version_id: d.row.active_version_id,
        }
    }
}

/// `GET /rest/workflows?filter=&limit=&cursor=`: a page of the workflows the user can see.
/// The answer is n8n's `{count, data}` with the public API's `nextCursor`; `count` is the
/// page's length (the list is paged by cursor, not counted).
pub async fn list(
    State(state): State<AppState>,
    user: SessionUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::WorkflowList)?;
    let filter: ListFilterBody = super::list_filter(query.filter.as_deref())?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let tag_names = filter.tags.filter(|t| !t.is_empty()).map(|t| {
        t.into_iter()
            .map(|n| n.trim().to_owned())
            .collect::<Vec<_>>()
    });
    let list_filter = ListFilter {
        member: None,
        active: filter.active,
        tag_names: tag_names.as_deref(),
        name: filter.name.as_deref().filter(|n| !n.is_empty()),
        project_id: filter.project_id.as_deref().filter(|p| !p.is_empty()),
    };
    let (listed, next_cursor) = service::list(&state, &principal, list_filter, &page).await?;
    let mut context = page::context(&state, &principal, &listed).await?;
    let items: Vec<ListItem> = listed
        .into_iter()
        .map(|d| ListItem::new(d, &principal, &mut context))
        .collect();
    Ok(axum::Json(json!({
        "count": items.len(),
        "data": items,
        "nextCursor": next_cursor,
    }))
    .into_response())
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).expect("valid JSON")
}

/// The nodes of `nodes` (a stored JSON list) that the engine cannot run, by name.
fn unsupported(state: &AppState, nodes: &str) -> Vec<Value> {
    let list: Vec<Value> = serde_json::from_str(nodes).unwrap_or_default();
    let parsed: Vec<Node> = list
        .into_iter()
        .filter_map(|n| serde_json::from_value(n).ok())
        .collect();
    state
        .engine
        .registry()
        .unsupported(&parsed)
        .into_iter()
        .map(|u| json!({ "name": u.name, "type": u.kind, "typeVersion": u.version }))
        .collect()
}

/// A workflow as the page shows it: the public API's view with its pinned data (as n8n's
/// editor reads it; the page offers a manual run from a pinned trigger), n8n's `homeProject`
/// and `scopes`, and the nodes this server cannot run (of the draft and of the published
/// version).
async fn shown(state: &AppState, principal: &Principal, details: Details) -> Result<Value> {
    let project_id = details.row.project_id.clone();
    let mut unsupported_nodes = unsupported(state, &details.row.nodes);
    let published = details
        .active_version
        .as_ref()
        .map(|v| unsupported(state, &v.nodes))
        .unwrap_or_default();
    let home_project = details.project.clone().map(HomeProject::from);
    let access = page::accesses(state, principal, std::iter::once(project_id.clone())).await?;
    let webhooks = production_webhooks(state, &details.row.id).await?;
    let mut view = serde_json::to_value(Workflow::new(details, false))
        .map_err(|e| ApiError::Internal(e.into()))?;
    for node in published {
        if !unsupported_nodes.iter().any(|u| u["name"] == node["name"]) {
            unsupported_nodes.push(node);
        }
    }
    if let Value::Object(fields) = &mut view {
        fields.insert("homeProject".into(), json!(home_project));
        fields.insert(
            "scopes".into(),
            json!(workflow_scopes(
                principal,
                access.get(&project_id).copied().flatten()
            )),
        );
        fields.insert("unsupportedNodes".into(), Value::Array(unsupported_nodes));
        fields.insert("webhooks".into(), Value::Array(webhooks));
    }
    Ok(view)
}

/// Where the published version answers: each registered webhook's node, method and
/// production URL, so that a person can call it from the page.
async fn production_webhooks(state: &AppState, workflow_id: &str) -> Result<Vec<Value>> {
    let rows = {
        let mut conn = state.db.acquire().await?;
        webhooks::of_workflow(conn.conn(), workflow_id).await?
    };
    let base = state.config.webhook_base_url();
    let base = base.trim_end_matches('/');
    let endpoint = state.config.engine.endpoint_webhook.trim_matches('/');
    Ok(rows
        .into_iter()
        .map(|row| {
            json!({
                "node": row.node,
                "method": row.method,
                "url": format!("{base}/{endpoint}/{}", row.path),
            })
        })
        .collect())
}

/// `GET /rest/workflows/{id}`.
pub async fn read(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::WorkflowRead)?;
    let details = service::read(&state, &principal, &id).await?;
    Ok(data(shown(&state, &principal, details).await?).into_response())
}

/// `POST /rest/workflows/{id}/activate` (n8n's publish): the given version, else the draft.
pub async fn activate(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<WorkflowId>>,
    OptionalJson(body): OptionalJson<PublishRequest>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::WorkflowActivate)?;
    let details = service::publish(&state, &principal, &id, body.unwrap_or_default()).await?;
    Ok(data(shown(&state, &principal, details).await?).into_response())
}

/// `POST /rest/workflows/{id}/deactivate` (n8n's unpublish).
pub async fn deactivate(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::WorkflowActivate)?;
    let details = service::unpublish(&state, &principal, &id).await?;
    Ok(data(shown(&state, &principal, details).await?).into_response())
}

/// `POST /rest/workflows/{id}/archive`.
pub async fn archive(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::WorkflowDelete)?;
    let details = service::archive(&state, &principal, &id).await?;
    Ok(data(shown(&state, &principal, details).await?).into_response())
}

/// `POST /rest/workflows/{id}/unarchive`.
pub async fn unarchive(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::WorkflowDelete)?;
    let details = service::unarchive(&state, &principal, &id).await?;
    Ok(data(shown(&state, &principal, details).await?).into_response())
}

/// `GET /rest/tags`: the tags to filter by (the first 250, oldest first).
pub async fn tags(State(state): State<AppState>, user: SessionUser) -> Result<Response> {
    user.principal().require(Scope::TagList)?;
    let mut conn = state.db.acquire().await?;
    let rows = tags::list(conn.conn(), None, 0, 250).await?;
    let list: Vec<_> = rows.into_iter().map(|t| t.into_api()).collect();
    Ok(data(list).into_response())
}

/// The body of n8n's manual run: the workflow as the editor has it (only its `id` and
/// `pinData` are read: the saved draft is what runs), and the trigger to start from.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunBody {
    workflow_data: Option<RunWorkflowData>,
    trigger_to_start_from: Option<TriggerToStartFrom>,
    run_data: Option<Value>,
    destination_node: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunWorkflowData {
    id: Option<String>,
    /// Absent: the saved pins; `null`: none; an object: these.
    #[serde(default, deserialize_with = "present")]
    pin_data: Option<Option<serde_json::Map<String, Value>>>,
}

#[derive(Deserialize)]
struct TriggerToStartFrom {
    name: String,
    data: Option<Value>,
}

/// Tells a field sent as `null` from a field left out.
fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `POST /rest/workflows/{id}/run`: a manual execution of the saved draft, answered with
/// `{"data": {"executionId"}}` once it is recorded as running (the run goes on after the
/// answer, as in n8n). Partial runs and test webhooks are refused with the reason.
pub async fn run(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<WorkflowId>>,
    ApiJson(body): ApiJson<RunBody>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::WorkflowRead)?;
    let workflow_data = body.workflow_data.ok_or_else(|| {
        ApiError::bad_request("request/body must have required property 'workflowData'")
    })?;
    match workflow_data.id.as_deref() {
        None | Some("") => {
            return Err(ApiError::bad_request(
                "You cannot execute a workflow without an ID",
            ))
        }
        Some(body_id) if body_id != id.as_str() => {
            return Err(ApiError::bad_request(
                "Workflow ID in body does not match workflow ID in URL",
            ))
        }
        Some(_) => {}
    }
    if body.run_data.is_some() || body.destination_node.is_some() {
        return Err(ApiError::bad_request(
            "This server runs whole workflows only: runData and destinationNode (partial runs) are not supported",
        ));
    }
    let trigger = match body.trigger_to_start_from {
        Some(TriggerToStartFrom { data: Some(_), .. }) => {
            return Err(ApiError::bad_request(
                "This server does not take a trigger's output in triggerToStartFrom.data: pin the data to the trigger instead",
            ))
        }
        Some(TriggerToStartFrom { name, data: None }) => Some(name),
        None => None,
    };
    let request = service::ManualRun {
        trigger,
        pin_data: workflow_data.pin_data.map(|pins| pins.unwrap_or_default()),
    };
    let execution_id = service::run_manually(&state, &principal, &id, request).await?;
    Ok(data(json!({ "executionId": execution_id.to_string() })).into_response())
}
