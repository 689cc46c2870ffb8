//! `/workflows`: n8n's 17 workflow routes (CRUD, archive, transfer, publish, versions, tags).
//! The handlers read the request and shape the answer; the rules live in
//! [`crate::service::workflows`], the answer types in [`view`], the OpenAPI schemas in
//! [`schema`].

mod schema;
pub(crate) mod view;

use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::openapi::{list_of, path_param, query_param, schema_ref, Doc};
use super::tags::Tag;
use super::Endpoint;
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::workflows::ListFilter;
use crate::domain::ids::{Named, WorkflowId};
use crate::domain::workflow::{self, BodyKind, WorkflowInput};
use crate::error::{ApiError, Result};
use crate::extract::{from_value, ApiJson, ApiQuery, OptionalJson};
use crate::pagination::{ListResponse, PageQuery};
use crate::service::workflows::{self as service, PublishRequest};
pub use schema::schemas;
use view::{Version, VersionView, Workflow};

const DEPRECATION: HeaderName = HeaderName::from_static("deprecation");
/// n8n's deprecation dates (Unix seconds) of the old activate/deactivate routes and of
/// `GET /workflows/{id}/{versionId}`.
const ACTIVATE_DEPRECATED: &str = "@1784764800";
const VERSION_ROUTE_DEPRECATED: &str = "@1787702400";

pub fn endpoints() -> Vec<Endpoint> {
    let id = || path_param("id", "The ID of the workflow.");
    let version_id = || path_param("versionId", "The version ID.");
    let workflow = || schema_ref("workflow");
    vec![
        Endpoint::new(Method::GET, "/workflows", Some(Scope::WorkflowList), get(list),
            Doc::new("getWorkflows", "Workflow", "Retrieve all workflows").describe("Retrieve all workflows from your instance.")
                .param(query_param("active", json!({"type": "string", "enum": ["true", "false"]}), "Only published (true) or unpublished (false) workflows."))
                .param(query_param("tags", json!({"type": "string"}), "Comma-separated tag names; workflows carrying every one of them."))
                .param(query_param("name", json!({"type": "string"}), "Part of the workflow name (case-insensitive)."))
                .param(query_param("projectId", json!({"type": "string"}), "Only workflows of this project."))
                .param(query_param("excludePinnedData", json!({"type": "string", "enum": ["true", "false"]}), "Leave out pinned data."))
                .param(query_param("offset", json!({"type": "integer", "minimum": 0}), "Items to skip."))
                .paginated().response(200, "Operation successful.", list_of(schema_ref("workflowListItem")))),
        Endpoint::new(Method::POST, "/workflows", Some(Scope::WorkflowCreate), post(create),
            Doc::new("createWorkflow", "Workflow", "Create a workflow").describe("Create a workflow in your instance.")
                .body(schema_ref("workflowInput")).response(200, "A workflow object", workflow()).errors(&[400, 404])),
        Endpoint::new(Method::GET, "/workflows/{id}", Some(Scope::WorkflowRead), get(read),
            Doc::new("getWorkflow", "Workflow", "Retrieves a workflow").param(id())
                .param(query_param("excludePinnedData", json!({"type": "string", "enum": ["true", "false"]}), "Leave out pinned data."))
                .response(200, "Operation successful.", workflow()).errors(&[404])),
        Endpoint::new(Method::PUT, "/workflows/{id}", Some(Scope::WorkflowUpdate), put(update),
            Doc::new("updateWorkflow", "Workflow", "Update a workflow").describe("Update a workflow. A new version is saved; a published workflow is re-published unless publishIfActive=false.")
                .param(id()).param(query_param("publishIfActive", json!({"type": "string", "enum": ["true", "false"]}), "Re-publish a published workflow (default true)."))
                .body(schema_ref("workflowInput")).response(200, "Workflow object", workflow()).errors(&[400, 404, 409])),
        Endpoint::new(Method::DELETE, "/workflows/{id}", Some(Scope::WorkflowDelete), delete(remove),
            Doc::new("deleteWorkflow", "Workflow", "Delete a workflow").param(id()).response(200, "Operation successful.", workflow()).errors(&[404])),
        Endpoint::new(Method::POST, "/workflows/{id}/archive", Some(Scope::WorkflowDelete), post(archive),
            Doc::new("archiveWorkflow", "Workflow", "Archive a workflow").param(id()).response(200, "Operation successful.", workflow()).errors(&[404])),
        Endpoint::new(Method::POST, "/workflows/{id}/unarchive", Some(Scope::WorkflowDelete), post(unarchive),
            Doc::new("unarchiveWorkflow", "Workflow", "Unarchive a workflow").param(id()).response(200, "Operation successful.", workflow()).errors(&[400, 404])),
        Endpoint::new(Method::PUT, "/workflows/{id}/transfer", Some(Scope::WorkflowMove), put(transfer),
            Doc::new("transferWorkflow", "Workflow", "Transfer a workflow to another project").param(id())
                .body(schema_ref("transferRequest")).empty_response(204, "Operation successful.").errors(&[400, 404])),
        Endpoint::new(Method::POST, "/workflows/{id}/publish", Some(Scope::WorkflowActivate), post(publish),
            Doc::new("publishWorkflow", "Workflow", "Publish a workflow").param(id()).optional_body(schema_ref("publishRequest"))
                .response(200, "Workflow object", workflow()).errors(&[400, 404])),
        Endpoint::new(Method::POST, "/workflows/{id}/unpublish", Some(Scope::WorkflowActivate), post(unpublish),
            Doc::new("unpublishWorkflow", "Workflow", "Unpublish a workflow").param(id()).response(200, "Workflow object", workflow()).errors(&[404])),
        Endpoint::new(Method::POST, "/workflows/{id}/activate", Some(Scope::WorkflowActivate), post(activate),
            Doc::new("activateWorkflow", "Workflow", "Activate a workflow (deprecated: use publish)").param(id()).optional_body(schema_ref("publishRequest"))
                .response(200, "Workflow object", workflow()).errors(&[400, 404]).deprecated()),
        Endpoint::new(Method::POST, "/workflows/{id}/deactivate", Some(Scope::WorkflowActivate), post(deactivate),
            Doc::new("deactivateWorkflow", "Workflow", "Deactivate a workflow (deprecated: use unpublish)").param(id())
                .response(200, "Workflow object", workflow()).errors(&[404]).deprecated()),
        Endpoint::new(Method::GET, "/workflows/{id}/history", Some(Scope::WorkflowRead), get(history),
            Doc::new("getWorkflowHistory", "Workflow", "Retrieve the versions of a workflow").param(id()).paginated()
                .response(200, "Operation successful.", list_of(schema_ref("workflowVersionSummary"))).errors(&[404])),
        Endpoint::new(Method::GET, "/workflows/{id}/versions/{versionId}", Some(Scope::WorkflowRead), get(version),
            Doc::new("getWorkflowVersion", "Workflow", "Retrieve one version of a workflow").param(id()).param(version_id())
                .response(200, "Operation successful.", schema_ref("workflowVersion")).errors(&[404])),
        Endpoint::new(Method::GET, "/workflows/{id}/{versionId}", Some(Scope::WorkflowRead), get(version_deprecated),
            Doc::new("getWorkflowVersionDeprecated", "Workflow", "Retrieve one version of a workflow (deprecated)").param(id()).param(version_id())
                .response(200, "Operation successful.", schema_ref("workflowVersion")).errors(&[404]).deprecated())
            .handler_kind(),
        Endpoint::new(Method::GET, "/workflows/{id}/tags", Some(Scope::WorkflowTagsList), get(read_tags),
            Doc::new("getWorkflowTags", "Workflow", "Get the tags of a workflow").param(id())
                .response(200, "List of tags", json!({"type": "array", "items": schema_ref("tag")})).errors(&[404])),
        Endpoint::new(Method::PUT, "/workflows/{id}/tags", Some(Scope::WorkflowTagsUpdate), put(update_tags),
            Doc::new("updateWorkflowTags", "Workflow", "Replace the tags of a workflow").param(id())
                .body(json!({"type": "array", "items": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}))
                .response(200, "List of tags", json!({"type": "array", "items": schema_ref("tag")})).errors(&[400, 404])),
    ]
}

fn bool_query(value: Option<&str>, name: &str) -> Result<Option<bool>> {
    match value {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::bad_request(format!(
            "request/query/{name} must be boolean"
        ))),
    }
}

fn parse_input(body: Value, kind: BodyKind) -> Result<WorkflowInput> {
    workflow::parse(body, kind).map_err(ApiError::BadRequest)
}

fn deprecated(response: impl IntoResponse, date: &'static str) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .insert(DEPRECATION, HeaderValue::from_static(date));
    response
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(flatten)]
    page: PageQuery,
    offset: Option<String>,
    active: Option<String>,
    tags: Option<String>,
    name: Option<String>,
    project_id: Option<String>,
    exclude_pinned_data: Option<String>,
}

/// `offset` as n8n validates it: a number, at least 0.
fn offset(text: Option<&str>) -> Result<u64> {
    match text.map(str::parse::<i64>) {
        None => Ok(0),
        Some(Ok(n)) if n >= 0 => Ok(n as u64),
        Some(Ok(_)) => Err(ApiError::bad_request("request/query/offset must be >= 0")),
        Some(Err(_)) => Err(ApiError::bad_request("request/query/offset must be number")),
    }
}

/// `a, b,c` as the tag names `a`, `b`, `c` (none when empty).
fn tag_names(text: Option<&str>) -> Option<Vec<String>> {
    let names: Vec<String> = text?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!names.is_empty()).then_some(names)
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListResponse<Workflow>>> {
    let page = query
        .page
        .page_with_offset(offset(query.offset.as_deref())?)?;
    let exclude_pinned_data =
        bool_query(query.exclude_pinned_data.as_deref(), "excludePinnedData")?.unwrap_or(false);
    let tag_names = tag_names(query.tags.as_deref());
    let filter = ListFilter {
        member: None,
        active: bool_query(query.active.as_deref(), "active")?,
        tag_names: tag_names.as_deref(),
        name: query.name.as_deref().filter(|n| !n.is_empty()),
        project_id: query.project_id.as_deref().filter(|p| !p.is_empty()),
    };
    let (listed, next_cursor) = service::list(&state, &principal, filter, &page).await?;
    let data = listed
        .into_iter()
        .map(|details| Workflow::new(details, exclude_pinned_data))
        .collect();
    Ok(Json(ListResponse { data, next_cursor }))
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Workflow>> {
    let input = parse_input(body, BodyKind::Create)?;
    let created = service::create(&state, &principal, input).await?;
    Ok(Json(Workflow::new(created, false)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadQuery {
    exclude_pinned_data: Option<String>,
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<Workflow>> {
    let exclude_pinned_data =
        bool_query(query.exclude_pinned_data.as_deref(), "excludePinnedData")?.unwrap_or(false);
    let details = service::read(&state, &principal, &id).await?;
    Ok(Json(Workflow::new(details, exclude_pinned_data)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateQuery {
    publish_if_active: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
    ApiQuery(query): ApiQuery<UpdateQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Workflow>> {
    let publish_if_active =
        bool_query(query.publish_if_active.as_deref(), "publishIfActive")?.unwrap_or(true);
    let input = parse_input(body, BodyKind::Update)?;
    let updated = service::update(&state, &principal, &id, input, publish_if_active).await?;
    Ok(Json(Workflow::new(updated, false)))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Json<Workflow>> {
    let deleted = service::delete(&state, &principal, &id).await?;
    Ok(Json(Workflow::new(deleted, false)))
}

async fn archive(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Json<Workflow>> {
    let archived = service::archive(&state, &principal, &id).await?;
    Ok(Json(Workflow::new(archived, false)))
}

async fn unarchive(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Json<Workflow>> {
    let restored = service::unarchive(&state, &principal, &id).await?;
    Ok(Json(Workflow::new(restored, false)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferBody {
    destination_project_id: String,
}

async fn transfer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<StatusCode> {
    service::transfer(&state, &principal, &id, &body.destination_project_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn publish(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
    OptionalJson(body): OptionalJson<PublishRequest>,
) -> Result<Json<Workflow>> {
    let published = service::publish(&state, &principal, &id, body.unwrap_or_default()).await?;
    Ok(Json(Workflow::new(published, false)))
}

async fn activate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
    OptionalJson(body): OptionalJson<PublishRequest>,
) -> Result<Response> {
    let published = service::publish(&state, &principal, &id, body.unwrap_or_default()).await?;
    Ok(deprecated(
        Json(Workflow::new(published, false)),
        ACTIVATE_DEPRECATED,
    ))
}

async fn unpublish(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Json<Workflow>> {
    let unpublished = service::unpublish(&state, &principal, &id).await?;
    Ok(Json(Workflow::new(unpublished, false)))
}

async fn deactivate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Response> {
    let unpublished = service::unpublish(&state, &principal, &id).await?;
    Ok(deprecated(
        Json(Workflow::new(unpublished, false)),
        ACTIVATE_DEPRECATED,
    ))
}

async fn history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ListResponse<Version>>> {
    let page = query.page()?;
    let (versions, next_cursor) = service::history(&state, &principal, &id, &page).await?;
    let data = versions
        .into_iter()
        .map(|v| Version::new(v, VersionView::Summary))
        .collect();
    Ok(Json(ListResponse { data, next_cursor }))
}

async fn version(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, version_id)): Path<(Named<WorkflowId>, String)>,
) -> Result<Json<Version>> {
    let version = service::version(&state, &principal, &id, &version_id).await?;
    Ok(Json(Version::new(version, VersionView::Content)))
}

async fn version_deprecated(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, version_id)): Path<(Named<WorkflowId>, String)>,
) -> Result<Response> {
    let version = service::version(&state, &principal, &id, &version_id).await?;
    Ok(deprecated(
        Json(Version::new(version, VersionView::Content)),
        VERSION_ROUTE_DEPRECATED,
    ))
}

async fn read_tags(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
) -> Result<Json<Vec<Tag>>> {
    let tags = service::tags(&state, &principal, &id).await?;
    Ok(Json(tags.into_iter().map(|t| t.into_api()).collect()))
}

#[derive(Deserialize)]
pub struct TagRef {
    id: String,
}

async fn update_tags(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<WorkflowId>>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Vec<Tag>>> {
    // The body is a bare array; an empty body read as `{}` is refused by the shape check.
    let refs: Vec<TagRef> = from_value("body", body)?;
    let ids = refs.into_iter().map(|r| r.id).collect();
    let tags = service::set_tags(&state, &principal, &id, ids).await?;
    Ok(Json(tags.into_iter().map(|t| t.into_api()).collect()))
}
