//! `/workflows`: n8n's 17 workflow routes (CRUD, archive, transfer, publish, versions, tags).
//!
//! Every route first finds the workflow and the caller's access to its project
//! ([`crate::access`]): a workflow in a project the caller does not belong to is answered as
//! missing. Writes need editor rights in the project, transfers need project-admin rights at
//! the source and editor rights at the destination.

use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::openapi::{list_of, path_param, query_param, schema_ref, Doc};
use super::projects::ProjectView;
use super::tags::Tag;
use super::Endpoint;
use crate::access::{self, ProjectAccess};
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::workflows::{
    self as repo, Content, ListFilter, NewVersion, PublishEventRow, VersionRow, WorkflowRow,
};
use crate::db::{folders, projects, tags, users, Conn};
use crate::domain::ids::{is_plausible_id, new_id};
use crate::domain::time::now_iso;
use crate::domain::workflow::{self, BodyKind, WorkflowInput, NO_TRIGGER};
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::pagination::{ListResponse, PageQuery};

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
                .param(query_param("tags", json!({"type": "string"}), "Comma-separated tag names; workflows with any of them."))
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

pub fn schemas() -> Vec<(&'static str, Value)> {
    let node = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "webhookId": {"type": "string"}, "disabled": {"type": "boolean"},
            "notesInFlow": {"type": "boolean"}, "notes": {"type": "string"}, "type": {"type": "string"}, "typeVersion": {"type": "number"},
            "executeOnce": {"type": "boolean"}, "alwaysOutputData": {"type": "boolean"}, "retryOnFail": {"type": "boolean"},
            "maxTries": {"type": "number"}, "waitBetweenTries": {"type": "number"}, "continueOnFail": {"type": "boolean"},
            "onError": {"type": "string"}, "position": {"type": "array", "items": {"type": "number"}},
            "parameters": {"type": "object"}, "credentials": {"type": "object"}, "customTelemetryTags": {"type": "object"},
            "createdAt": {"type": "string"}, "updatedAt": {"type": "string"}
        }
    });
    let save = json!({"type": "string", "enum": ["DEFAULT", "all", "none"]});
    let settings = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "saveExecutionProgress": {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["DEFAULT"]}]},
            "saveManualExecutions": {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["DEFAULT"]}]},
            "saveDataErrorExecution": save, "saveDataSuccessExecution": save,
            "executionTimeout": {"type": "number"}, "errorWorkflow": {"type": "string"}, "timezone": {"type": "string"},
            "executionOrder": {"type": "string"}, "binaryMode": {"type": "string", "enum": ["separate", "combined"]},
            "callerPolicy": {"type": "string", "enum": ["any", "none", "workflowsFromAList", "workflowsFromSameOwner"]},
            "callerIds": {"type": "string"}, "timeSavedMode": {"type": "string", "enum": ["fixed", "dynamic"]},
            "timeSavedPerExecution": {"type": "number"},
            "redactionPolicy": {"type": "string", "enum": ["none", "non-manual", "manual-only", "all"]},
            "availableInMCP": {"type": "boolean"},
            "customTelemetryTags": {"type": "array", "items": {"type": "object", "required": ["key", "value"], "properties": {"key": {"type": "string"}, "value": {"type": "string"}}}},
            "credentialResolverId": {"type": "string"}
        }
    });
    let node_groups = json!({"type": "array", "items": {"type": "object", "required": ["id", "name", "nodeIds"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string", "maxLength": 155},
        "nodeIds": {"type": "array", "items": {"type": "string"}}}}});
    let version_fields = json!({
        "versionId": {"type": "string"}, "workflowId": {"type": "string"}, "authors": {"type": "string"},
        "name": {"type": "string", "nullable": true}, "description": {"type": "string", "nullable": true},
        "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}
    });
    let mut version = version_fields.clone();
    version["nodes"] = json!({"type": "array", "items": node});
    version["connections"] = json!({"type": "object"});
    version["nodeGroups"] = node_groups.clone();
    let mut active_version = version.clone();
    active_version["autosaved"] = json!({"type": "boolean"});
    active_version["workflowPublishHistory"] = json!({"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "workflowId": {"type": "string"}, "versionId": {"type": "string", "nullable": true},
        "event": {"type": "string"}, "userId": {"type": "string", "nullable": true}, "createdAt": {"type": "string", "format": "date-time"}}}});
    let shared = json!({"type": "array", "items": {"type": "object", "properties": {
        "role": {"type": "string"}, "workflowId": {"type": "string"}, "projectId": {"type": "string"},
        "project": schema_ref("project"),
        "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}}}});
    let workflow_properties = |list: bool| {
        let mut p = json!({
            "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string", "nullable": true},
            "active": {"type": "boolean"}, "activeVersionId": {"type": "string", "nullable": true},
            "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"},
            "isArchived": {"type": "boolean"}, "versionId": {"type": "string"}, "versionCounter": {"type": "integer"},
            "sourceWorkflowId": {"type": "string", "nullable": true}, "triggerCount": {"type": "integer"},
            "nodes": {"type": "array", "items": node}, "connections": {"type": "object"}, "nodeGroups": node_groups,
            "settings": settings, "staticData": {"type": "object", "nullable": true}, "pinData": {"type": "object", "nullable": true},
            "meta": {"type": "object", "nullable": true}, "tags": {"type": "array", "items": schema_ref("tag")},
            "shared": shared, "activeVersion": {"type": "object", "nullable": true, "properties": active_version},
            "parentFolder": {"type": "object", "nullable": true, "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "parentFolderId": {"type": "string", "nullable": true}}}
        });
        if list {
            if let Some(fields) = p.as_object_mut() {
                fields.remove("parentFolder");
            }
        }
        p
    };
    vec![
        (
            "workflow",
            json!({"type": "object", "required": ["id", "name", "active", "nodes", "connections", "settings"], "properties": workflow_properties(false)}),
        ),
        (
            "workflowListItem",
            json!({"type": "object", "required": ["id", "name", "active", "nodes", "connections", "settings"], "properties": workflow_properties(true)}),
        ),
        (
            "workflowInput",
            json!({
                "type": "object", "required": ["name", "nodes", "connections", "settings"],
                "description": "Read-only fields of a workflow (id, active, tags, versionId, ...) may be sent and are ignored.",
                "properties": {
                    "name": {"type": "string", "maxLength": workflow::NAME_MAX}, "description": {"type": "string", "nullable": true},
                    "nodes": {"type": "array", "items": node}, "connections": {"type": "object"}, "settings": settings,
                    "nodeGroups": node_groups, "staticData": {"nullable": true, "oneOf": [{"type": "object"}, {"type": "string"}]},
                    "pinData": {"type": "object", "nullable": true}, "meta": {"type": "object", "nullable": true},
                    "projectId": {"type": "string", "description": "Create only: the project to create the workflow in (default: your personal project)."},
                    "parentFolderId": {"type": "string", "nullable": true}
                }
            }),
        ),
        (
            "workflowVersion",
            json!({"type": "object", "properties": version}),
        ),
        (
            "workflowVersionSummary",
            json!({"type": "object", "properties": version_fields}),
        ),
        (
            "transferRequest",
            json!({"type": "object", "required": ["destinationProjectId"], "properties": {"destinationProjectId": {"type": "string"}}}),
        ),
        (
            "publishRequest",
            json!({"type": "object", "additionalProperties": false, "properties": {
            "versionId": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"}}}),
        ),
    ]
}

/// JSON stored as text, sent as it is.
fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned())
        .unwrap_or_else(|_| RawValue::from_string("null".to_owned()).expect("null is JSON"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shared {
    role: &'static str,
    workflow_id: String,
    project_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<ProjectView>,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishEvent {
    id: String,
    workflow_id: String,
    version_id: Option<String>,
    event: String,
    user_id: Option<String>,
    created_at: String,
}

/// A saved version as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    version_id: String,
    workflow_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    nodes: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connections: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_groups: Option<Box<RawValue>>,
    authors: String,
    name: Option<String>,
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    autosaved: Option<bool>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    workflow_publish_history: Option<Vec<PublishEvent>>,
}

impl VersionRow {
    fn into_api(self, content: bool, autosaved: bool) -> Version {
        Version {
            nodes: content.then(|| raw(&self.nodes)),
            connections: content.then(|| raw(&self.connections)),
            node_groups: content.then(|| raw(&self.node_groups)),
            autosaved: autosaved.then_some(self.autosaved),
            version_id: self.version_id,
            workflow_id: self.workflow_id,
            authors: self.authors,
            name: self.name,
            description: self.description,
            created_at: self.created_at,
            updated_at: self.updated_at,
            workflow_publish_history: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderRef {
    id: String,
    name: String,
    parent_folder_id: Option<String>,
}

/// A workflow as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    id: String,
    name: String,
    description: Option<String>,
    active: bool,
    active_version_id: Option<String>,
    created_at: String,
    updated_at: String,
    is_archived: bool,
    version_id: String,
    version_counter: i64,
    source_workflow_id: Option<String>,
    trigger_count: i64,
    nodes: Box<RawValue>,
    connections: Box<RawValue>,
    node_groups: Box<RawValue>,
    settings: Box<RawValue>,
    static_data: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin_data: Option<Option<Box<RawValue>>>,
    meta: Option<Box<RawValue>>,
    tags: Vec<Tag>,
    shared: Vec<Shared>,
    active_version: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_folder: Option<Option<FolderRef>>,
}

impl Workflow {
    fn from_row(row: WorkflowRow, exclude_pinned_data: bool) -> Workflow {
        Workflow {
            shared: vec![Shared {
                role: "workflow:owner",
                workflow_id: row.id.clone(),
                project_id: row.project_id.clone(),
                project: None,
                created_at: row.shared_at.clone(),
                updated_at: row.shared_at,
            }],
            id: row.id,
            name: row.name,
            description: row.description,
            active: row.active,
            active_version_id: row.active_version_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            is_archived: row.is_archived,
            version_id: row.version_id,
            version_counter: row.version_counter,
            source_workflow_id: None,
            trigger_count: row.trigger_count,
            nodes: raw(&row.nodes),
            connections: raw(&row.connections),
            node_groups: raw(&row.node_groups),
            settings: raw(&row.settings),
            static_data: row.static_data.as_deref().map(raw),
            pin_data: (!exclude_pinned_data).then(|| row.pin_data.as_deref().map(raw)),
            meta: row.meta.as_deref().map(raw),
            tags: Vec::new(),
            active_version: None,
            parent_folder: None,
        }
    }
}

/// How much of a single workflow to show.
#[derive(Clone, Copy)]
struct Detail {
    exclude_pinned_data: bool,
    parent_folder: bool,
}

const FULL: Detail = Detail {
    exclude_pinned_data: false,
    parent_folder: false,
};

/// The full view of one workflow: tags, project, published version with its history.
async fn view(mut conn: Conn<'_>, row: WorkflowRow, detail: Detail) -> Result<Workflow> {
    let tags = repo::tags_of(conn.reborrow(), &[row.id.as_str()]).await?;
    let project = projects::find(conn.reborrow(), &row.project_id).await?;
    let active_version = match &row.active_version_id {
        Some(version_id) => {
            let found = repo::find_version(conn.reborrow(), &row.id, version_id).await?;
            match found {
                Some(v) => {
                    let events = repo::publish_events(conn.reborrow(), &row.id, version_id).await?;
                    let mut version = v.into_api(true, true);
                    version.workflow_publish_history =
                        Some(events.into_iter().map(publish_event).collect());
                    Some(version)
                }
                None => None,
            }
        }
        None => None,
    };
    let parent_folder =
        if detail.parent_folder {
            match &row.parent_folder_id {
                Some(folder_id) => Some(folders::find(conn.reborrow(), folder_id).await?.map(
                    |f| FolderRef {
                        id: f.id,
                        name: f.name,
                        parent_folder_id: f.parent_folder_id,
                    },
                )),
                None => Some(None),
            }
        } else {
            None
        };
    let mut workflow = Workflow::from_row(row, detail.exclude_pinned_data);
    workflow.tags = tags.into_iter().map(|(_, t)| t.into_api()).collect();
    if let (Some(shared), Some(project)) = (workflow.shared.first_mut(), project) {
        shared.project = Some(project.into_api());
    }
    workflow.active_version = active_version;
    workflow.parent_folder = parent_folder;
    Ok(workflow)
}

fn publish_event(e: PublishEventRow) -> PublishEvent {
    PublishEvent {
        id: e.id,
        workflow_id: e.workflow_id,
        version_id: e.version_id,
        event: e.event,
        user_id: e.user_id,
        created_at: e.created_at,
    }
}

/// The answer for a workflow the caller cannot see: owners and admins get the route's own
/// message; others get n8n's access-check message, the same for missing and foreign ids.
fn not_found(principal: &Principal, id: &str, admin_message: &str) -> ApiError {
    if principal.role.is_instance_admin() {
        ApiError::not_found(admin_message)
    } else {
        ApiError::not_found(format!("Workflow with ID \"{id}\" not found."))
    }
}

/// Loads a workflow the caller can see, with the caller's access to its project.
async fn visible(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &str,
    admin_message: &str,
) -> Result<(WorkflowRow, ProjectAccess)> {
    let missing = || not_found(principal, id, admin_message);
    if !is_plausible_id(id) {
        return Err(missing());
    }
    let found = repo::find(conn.reborrow(), id).await?;
    access::visible(conn, principal, found, |r| &r.project_id, missing).await
}

/// As [`visible`], also requiring the right to change the workflow.
async fn writable(
    conn: Conn<'_>,
    principal: &Principal,
    id: &str,
    admin_message: &str,
) -> Result<WorkflowRow> {
    access::writable(visible(conn, principal, id, admin_message).await?)
}

/// "First Last" of the caller, recorded as the author of a version.
async fn author(conn: Conn<'_>, principal: &Principal) -> Result<String> {
    let user = users::find_by_id(conn, &principal.user_id).await?;
    Ok(user
        .map(|u| {
            format!(
                "{} {}",
                u.first_name.unwrap_or_default(),
                u.last_name.unwrap_or_default()
            )
            .trim()
            .to_owned()
        })
        .unwrap_or_default())
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

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListResponse<Workflow>>> {
    let offset = match query.offset.as_deref() {
        None => 0,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n >= 0 => n as u64,
            Ok(_) => return Err(ApiError::bad_request("request/query/offset must be >= 0")),
            Err(_) => return Err(ApiError::bad_request("request/query/offset must be number")),
        },
    };
    let page = query.page.page_with_offset(offset)?;
    let active = bool_query(query.active.as_deref(), "active")?;
    let exclude_pinned_data =
        bool_query(query.exclude_pinned_data.as_deref(), "excludePinnedData")?.unwrap_or(false);
    let tag_names: Option<Vec<String>> = query
        .tags
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .filter(|names: &Vec<String>| !names.is_empty());
    let filter = ListFilter {
        member: access::visible_to(&principal),
        active,
        tag_names: tag_names.as_deref(),
        name: query.name.as_deref().filter(|n| !n.is_empty()),
        project_id: query.project_id.as_deref().filter(|p| !p.is_empty()),
    };

    let mut conn = state.db.acquire().await?;
    let rows = repo::list(
        conn.conn(),
        &filter,
        page.after.as_deref(),
        page.offset,
        page.fetch_limit(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |w| w.id.clone());

    let ids: Vec<&str> = rows.iter().map(|w| w.id.as_str()).collect();
    let mut tags = repo::tags_of(conn.conn(), &ids).await?;
    let active_ids: Vec<&str> = rows
        .iter()
        .filter_map(|w| w.active_version_id.as_deref())
        .collect();
    let mut versions = repo::find_versions(conn.conn(), &active_ids).await?;

    let data = rows
        .into_iter()
        .map(|row| {
            let active_version = row
                .active_version_id
                .as_ref()
                .and_then(|v| versions.iter().position(|x| &x.version_id == v))
                .map(|i| versions.swap_remove(i).into_api(true, true));
            let id = row.id.clone();
            let mut workflow = Workflow::from_row(row, exclude_pinned_data);
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut tags)
                .into_iter()
                .partition(|(w, _)| *w == id);
            tags = rest;
            workflow.tags = mine.into_iter().map(|(_, t)| t.into_api()).collect();
            workflow.active_version = active_version;
            workflow
        })
        .collect();
    Ok(Json(ListResponse { data, next_cursor }))
}

/// Serialises a workflow input for storage.
fn to_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// A validated workflow's documents as stored (also used by `flowgate import n8n`).
pub(crate) struct StoredContent {
    pub(crate) nodes: String,
    pub(crate) connections: String,
    pub(crate) node_groups: String,
    pub(crate) settings: String,
    pub(crate) static_data: Option<String>,
    pub(crate) pin_data: Option<String>,
    pub(crate) meta: Option<String>,
}

impl StoredContent {
    pub(crate) fn of(input: &WorkflowInput) -> StoredContent {
        StoredContent {
            nodes: to_text(&Value::Array(input.nodes.clone())),
            connections: to_text(&input.connections),
            node_groups: to_text(&input.node_groups),
            settings: to_text(&input.settings),
            static_data: input.static_data.as_ref().map(to_text),
            pin_data: input.pin_data.as_ref().map(to_text),
            meta: input.meta.as_ref().map(to_text),
        }
    }

    pub(crate) fn content<'a>(
        &'a self,
        input: &'a WorkflowInput,
        description: Option<&'a str>,
        parent_folder_id: Option<&'a str>,
    ) -> Content<'a> {
        Content {
            name: &input.name,
            description,
            nodes: &self.nodes,
            connections: &self.connections,
            node_groups: &self.node_groups,
            settings: &self.settings,
            static_data: self.static_data.as_deref(),
            pin_data: self.pin_data.as_deref(),
            meta: self.meta.as_deref(),
            parent_folder_id,
        }
    }
}

/// Checks that `folder_id` is a folder of `project_id` (n8n: 404 with the folder's message).
async fn check_folder(conn: Conn<'_>, folder_id: &str, project_id: &str) -> Result<()> {
    let missing = || ApiError::not_found(format!("Could not find the folder: {folder_id}"));
    if !is_plausible_id(folder_id) {
        return Err(missing());
    }
    match folders::find(conn, folder_id).await? {
        Some(folder) if folder.project_id == project_id => Ok(()),
        _ => Err(missing()),
    }
}

fn parse_input(body: Value, kind: BodyKind) -> Result<WorkflowInput> {
    workflow::parse(body, kind).map_err(ApiError::BadRequest)
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Workflow>> {
    let input = parse_input(body, BodyKind::Create)?;
    let stored = StoredContent::of(&input);
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let project_id = match &input.project_id {
        Some(project_id) => {
            let missing =
                || ApiError::not_found(format!("Project with ID \"{project_id}\" not found"));
            if !is_plausible_id(project_id) {
                return Err(missing());
            }
            let access = access::project_access(tx.conn(), &principal, project_id)
                .await?
                .ok_or_else(missing)?;
            if !access.can_write() {
                return Err(ApiError::Forbidden);
            }
            project_id.clone()
        }
        None => projects::personal_project_id(tx.conn(), &principal.user_id)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user has no personal project")))?,
    };
    let folder = input.parent_folder_id.clone().flatten();
    if let Some(folder_id) = &folder {
        check_folder(tx.conn(), folder_id, &project_id).await?;
    }
    let id = new_id();
    let version_id = uuid::Uuid::new_v4().to_string();
    let description = input.description.clone().flatten();
    repo::insert(
        tx.conn(),
        &id,
        &version_id,
        &project_id,
        &stored.content(&input, description.as_deref(), folder.as_deref()),
        &now,
    )
    .await?;
    let authors = author(tx.conn(), &principal).await?;
    repo::insert_version(
        tx.conn(),
        &NewVersion {
            version_id: &version_id,
            workflow_id: &id,
            nodes: &stored.nodes,
            connections: &stored.connections,
            node_groups: &stored.node_groups,
            authors: &authors,
            now: &now,
        },
    )
    .await?;
    let row = repo::find(tx.conn(), &id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("created workflow vanished")))?;
    let workflow = view(
        tx.conn(),
        row,
        Detail {
            exclude_pinned_data: false,
            parent_folder: true,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(workflow))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadQuery {
    exclude_pinned_data: Option<String>,
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<Workflow>> {
    let exclude_pinned_data =
        bool_query(query.exclude_pinned_data.as_deref(), "excludePinnedData")?.unwrap_or(false);
    let mut conn = state.db.acquire().await?;
    let (row, _) = visible(conn.conn(), &principal, &id, "Not Found").await?;
    Ok(Json(
        view(
            conn.conn(),
            row,
            Detail {
                exclude_pinned_data,
                parent_folder: false,
            },
        )
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateQuery {
    publish_if_active: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<UpdateQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response> {
    let publish_if_active =
        bool_query(query.publish_if_active.as_deref(), "publishIfActive")?.unwrap_or(true);
    let input = parse_input(body, BodyKind::Update)?;
    let stored = StoredContent::of(&input);
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let current = writable(tx.conn(), &principal, &id, "Not Found").await?;
    if current.is_archived {
        return Err(ApiError::bad_request("Cannot update an archived workflow."));
    }
    let folder = match &input.parent_folder_id {
        None => current.parent_folder_id.clone(),
        Some(None) => None,
        Some(Some(folder_id)) => {
            check_folder(tx.conn(), folder_id, &current.project_id).await?;
            Some(folder_id.clone())
        }
    };
    let description = match &input.description {
        None => current.description.clone(),
        Some(d) => d.clone(),
    };
    let version_id = uuid::Uuid::new_v4().to_string();
    let updated = repo::update_content(
        tx.conn(),
        &id,
        &version_id,
        &stored.content(&input, description.as_deref(), folder.as_deref()),
        &now,
    )
    .await?
    .ok_or_else(|| not_found(&principal, &id, "Not Found"))?;
    let authors = author(tx.conn(), &principal).await?;
    repo::insert_version(
        tx.conn(),
        &NewVersion {
            version_id: &version_id,
            workflow_id: &id,
            nodes: &stored.nodes,
            connections: &stored.connections,
            node_groups: &stored.node_groups,
            authors: &authors,
            now: &now,
        },
    )
    .await?;

    // A published workflow is re-published with the new version, if the caller may publish.
    let mut refused: Option<ApiError> = None;
    if updated.active && publish_if_active {
        if !principal.scopes.contains(Scope::WorkflowActivate) {
            refused = Some(ApiError::WithBody {
                status: StatusCode::FORBIDDEN,
                body: json!({
                    "message": "The workflow was saved, but not published: the API key lacks the workflow:activate scope.",
                    "reason": "insufficient_api_key_scope",
                    "versionId": version_id,
                }),
            });
        } else {
            let nodes = Value::Array(input.nodes.clone());
            let triggers = workflow::trigger_count(&nodes);
            if !workflow::can_publish(&nodes) {
                refused = Some(ApiError::bad_request(NO_TRIGGER));
            } else {
                let version = repo::find_version(tx.conn(), &id, &version_id)
                    .await?
                    .ok_or_else(|| ApiError::not_found("Version not found"))?;
                state
                    .engine
                    .publishing(tx.conn(), &updated, &version)
                    .await?;
                repo::set_published(tx.conn(), &id, Some(&version_id), triggers, &now).await?;
                record_event(
                    tx.conn(),
                    &id,
                    Some(&version_id),
                    "activated",
                    &principal,
                    &now,
                )
                .await?;
            }
        }
    }
    // The new version is kept even when re-publishing was refused, as n8n keeps the draft.
    let row = repo::find(tx.conn(), &id)
        .await?
        .ok_or_else(|| not_found(&principal, &id, "Not Found"))?;
    let workflow = view(tx.conn(), row, FULL).await?;
    tx.commit().await?;
    state.engine.changed();
    match refused {
        Some(error) => Err(error),
        None => Ok(Json(workflow).into_response()),
    }
}

async fn record_event(
    conn: Conn<'_>,
    workflow_id: &str,
    version_id: Option<&str>,
    event: &str,
    principal: &Principal,
    now: &str,
) -> Result<()> {
    repo::insert_publish_event(
        conn,
        &PublishEventRow {
            id: new_id(),
            workflow_id: workflow_id.to_owned(),
            version_id: version_id.map(str::to_owned),
            event: event.to_owned(),
            user_id: Some(principal.user_id.clone()),
            created_at: now.to_owned(),
        },
    )
    .await?;
    Ok(())
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Workflow>> {
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), &principal, &id, "Not Found").await?;
    let workflow = view(tx.conn(), row, FULL).await?;
    repo::delete(tx.conn(), &id).await?;
    tx.commit().await?;
    state.engine.changed();
    Ok(Json(workflow))
}

async fn archive(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Workflow>> {
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), &principal, &id, "Workflow not found").await?;
    if !row.is_archived {
        // An archived workflow cannot stay published.
        if row.active {
            state.engine.unpublishing(tx.conn(), &id).await?;
            repo::set_published(tx.conn(), &id, None, 0, &now).await?;
            record_event(
                tx.conn(),
                &id,
                row.active_version_id.as_deref(),
                "deactivated",
                &principal,
                &now,
            )
            .await?;
        }
        repo::set_archived(tx.conn(), &id, true, &now).await?;
    }
    let row = repo::find(tx.conn(), &id)
        .await?
        .ok_or_else(|| not_found(&principal, &id, "Workflow not found"))?;
    let workflow = view(tx.conn(), row, FULL).await?;
    tx.commit().await?;
    Ok(Json(workflow))
}

async fn unarchive(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Workflow>> {
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), &principal, &id, "Workflow not found").await?;
    if !row.is_archived {
        return Err(ApiError::bad_request("Workflow is not archived"));
    }
    repo::set_archived(tx.conn(), &id, false, &now).await?;
    let row = repo::find(tx.conn(), &id)
        .await?
        .ok_or_else(|| not_found(&principal, &id, "Workflow not found"))?;
    let workflow = view(tx.conn(), row, FULL).await?;
    tx.commit().await?;
    Ok(Json(workflow))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferBody {
    destination_project_id: String,
}

async fn transfer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<StatusCode> {
    let destination = body.destination_project_id;
    let mut tx = state.db.begin().await?;
    let (row, source) = visible(tx.conn(), &principal, &id, "Not Found").await?;
    if !source.can_manage() {
        return Err(ApiError::Forbidden);
    }
    let unreachable = || {
        ApiError::bad_request(format!(
            "Could not find project with the id \"{destination}\". Make sure you have the permission to create workflows in it."
        ))
    };
    if !is_plausible_id(&destination) {
        return Err(unreachable());
    }
    let target = access::project_access(tx.conn(), &principal, &destination).await?;
    if !target.is_some_and(ProjectAccess::can_write) {
        return Err(unreachable());
    }
    if row.project_id == destination {
        return Err(ApiError::bad_request(
            "You can't transfer a workflow into the project that's already owning it.",
        ));
    }
    repo::transfer(tx.conn(), &id, &destination, &now_iso()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishBody {
    version_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
}

async fn do_publish(
    state: &AppState,
    principal: &Principal,
    id: &str,
    body: Option<PublishBody>,
) -> Result<Workflow> {
    let body = body.unwrap_or(PublishBody {
        version_id: None,
        name: None,
        description: None,
    });
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), principal, id, "Not Found").await?;
    if row.is_archived {
        return Err(ApiError::bad_request(
            "Cannot publish an archived workflow.",
        ));
    }
    let version_id = body
        .version_id
        .clone()
        .unwrap_or_else(|| row.version_id.clone());
    let version = repo::find_version(tx.conn(), id, &version_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Version not found"))?;
    let nodes: Value = serde_json::from_str(&version.nodes).unwrap_or(Value::Null);
    let triggers = workflow::trigger_count(&nodes);
    if !workflow::can_publish(&nodes) {
        return Err(ApiError::bad_request(NO_TRIGGER));
    }
    if body.name.is_some() || body.description.is_some() {
        repo::label_version(
            tx.conn(),
            &version_id,
            body.name.as_deref(),
            body.description.as_deref(),
            &now,
        )
        .await?;
    }
    state.engine.publishing(tx.conn(), &row, &version).await?;
    repo::set_published(tx.conn(), id, Some(&version_id), triggers, &now).await?;
    record_event(
        tx.conn(),
        id,
        Some(&version_id),
        "activated",
        principal,
        &now,
    )
    .await?;
    let row = repo::find(tx.conn(), id)
        .await?
        .ok_or_else(|| not_found(principal, id, "Not Found"))?;
    let workflow = view(tx.conn(), row, FULL).await?;
    tx.commit().await?;
    state.engine.changed();
    Ok(workflow)
}

async fn do_unpublish(state: &AppState, principal: &Principal, id: &str) -> Result<Workflow> {
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), principal, id, "Not Found").await?;
    if row.active {
        state.engine.unpublishing(tx.conn(), id).await?;
        repo::set_published(tx.conn(), id, None, 0, &now).await?;
        record_event(
            tx.conn(),
            id,
            row.active_version_id.as_deref(),
            "deactivated",
            principal,
            &now,
        )
        .await?;
    }
    let row = repo::find(tx.conn(), id)
        .await?
        .ok_or_else(|| not_found(principal, id, "Not Found"))?;
    let workflow = view(tx.conn(), row, FULL).await?;
    tx.commit().await?;
    state.engine.changed();
    Ok(workflow)
}

fn deprecated(response: impl IntoResponse, date: &'static str) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .insert(DEPRECATION, HeaderValue::from_static(date));
    response
}

async fn publish(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<PublishBody>,
) -> Result<Json<Workflow>> {
    Ok(Json(do_publish(&state, &principal, &id, body).await?))
}

async fn activate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<PublishBody>,
) -> Result<Response> {
    Ok(deprecated(
        Json(do_publish(&state, &principal, &id, body).await?),
        ACTIVATE_DEPRECATED,
    ))
}

async fn unpublish(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Workflow>> {
    Ok(Json(do_unpublish(&state, &principal, &id).await?))
}

async fn deactivate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response> {
    Ok(deprecated(
        Json(do_unpublish(&state, &principal, &id).await?),
        ACTIVATE_DEPRECATED,
    ))
}

async fn history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ListResponse<Version>>> {
    let page = query.page()?;
    let mut conn = state.db.acquire().await?;
    visible(conn.conn(), &principal, &id, "Workflow not found").await?;
    let rows = repo::list_versions(conn.conn(), &id, page.offset, page.fetch_limit()).await?;
    // History pages by offset, as n8n's does (a workflow has few versions).
    let (rows, next_cursor) = page.finish_by_offset(rows);
    Ok(Json(ListResponse {
        data: rows.into_iter().map(|v| v.into_api(false, false)).collect(),
        next_cursor,
    }))
}

async fn find_version(
    state: &AppState,
    principal: &Principal,
    id: &str,
    version_id: &str,
) -> Result<Version> {
    let mut conn = state.db.acquire().await?;
    visible(conn.conn(), principal, id, "Workflow not found").await?;
    let version = repo::find_version(conn.conn(), id, version_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Version not found"))?;
    Ok(version.into_api(true, false))
}

async fn version(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, version_id)): Path<(String, String)>,
) -> Result<Json<Version>> {
    Ok(Json(
        find_version(&state, &principal, &id, &version_id).await?,
    ))
}

async fn version_deprecated(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, version_id)): Path<(String, String)>,
) -> Result<Response> {
    Ok(deprecated(
        Json(find_version(&state, &principal, &id, &version_id).await?),
        VERSION_ROUTE_DEPRECATED,
    ))
}

fn tags_disabled(state: &AppState) -> Result<()> {
    if state.config.workflow_tags_disabled {
        return Err(ApiError::bad_request("Workflow Tags Disabled"));
    }
    Ok(())
}

async fn read_tags(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<Tag>>> {
    tags_disabled(&state)?;
    let mut conn = state.db.acquire().await?;
    visible(conn.conn(), &principal, &id, "Not Found").await?;
    let tags = repo::tags_of(conn.conn(), &[id.as_str()]).await?;
    Ok(Json(tags.into_iter().map(|(_, t)| t.into_api()).collect()))
}

#[derive(Deserialize)]
pub struct TagRef {
    id: String,
}

async fn update_tags(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Vec<Tag>>> {
    tags_disabled(&state)?;
    // The body is a bare array; an empty body read as `{}` is refused by the shape check.
    let refs: Vec<TagRef> = crate::extract::from_value("body", body)?;
    let mut ids: Vec<String> = refs.into_iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();
    let mut tx = state.db.begin().await?;
    writable(tx.conn(), &principal, &id, "Not Found").await?;
    for tag_id in &ids {
        if !is_plausible_id(tag_id) || tags::find(tx.conn(), tag_id).await?.is_none() {
            return Err(ApiError::not_found("Some tags not found"));
        }
    }
    repo::set_tags(tx.conn(), &id, &ids).await?;
    let tags = repo::tags_of(tx.conn(), &[id.as_str()]).await?;
    tx.commit().await?;
    Ok(Json(tags.into_iter().map(|(_, t)| t.into_api()).collect()))
}
