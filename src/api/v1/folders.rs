//! `/projects/{projectId}/folders`: folders inside a project (n8n's five folder routes).
//!
//! `personal` stands for the caller's personal project. A folder id of `0` in a move or
//! transfer means the project root, as in n8n.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::openapi::{path_param, query_param, schema_ref, Doc};
use super::Endpoint;
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::folders::{self as repo, FolderRow};
use crate::domain::ids::new_id;
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::folders::{
    self as service, folder_in, folder_not_found, project, writable_project, ROOT,
};
use crate::service::workflows::steps::{self, Actor};
use crate::service::workflows::Hooks;

const NAME_MAX: usize = 128;

pub fn endpoints() -> Vec<Endpoint> {
    let project = || {
        path_param(
            "projectId",
            "The ID of the project, or `personal` for your personal project.",
        )
    };
    let folder = || path_param("folderId", "The ID of the folder.");
    vec![
        Endpoint::new(Method::POST, "/projects/{projectId}/folders", Some(Scope::FolderCreate), post(create),
            Doc::new("createFolder", "Folders", "Create a folder").param(project()).body(schema_ref("folderCreate"))
                .response(201, "The folder.", schema_ref("folder")).errors(&[400, 404])).handler_kind(),
        Endpoint::new(Method::GET, "/projects/{projectId}/folders", Some(Scope::FolderList), get(list),
            Doc::new("getFolders", "Folders", "List the folders of a project").param(project())
                .param(query_param("filter", json!({"type": "string"}), "JSON: {\"parentFolderId\"?, \"name\"?, \"excludeFolderIdAndDescendants\"?}; parentFolderId \"0\" is the root."))
                .param(query_param("select", json!({"type": "string"}), "Comma-separated fields to return."))
                .param(query_param("sortBy", json!({"type": "string", "enum": ["name:asc", "name:desc", "createdAt:asc", "createdAt:desc", "updatedAt:asc", "updatedAt:desc"]}), "Sort order (default updatedAt:desc)."))
                .param(query_param("skip", json!({"type": "string"}), "Items to skip."))
                .param(query_param("take", json!({"type": "string"}), "Items to return (at most 250)."))
                .response(200, "Operation successful.", json!({"type": "object", "required": ["count", "data"], "properties": {
                    "count": {"type": "integer"}, "data": {"type": "array", "items": schema_ref("folderListItem")}}})).errors(&[404])),
        Endpoint::new(Method::GET, "/projects/{projectId}/folders/{folderId}", Some(Scope::FolderRead), get(read),
            Doc::new("getFolder", "Folders", "Retrieve a folder").param(project()).param(folder())
                .response(200, "Operation successful.", schema_ref("folderDetails")).errors(&[404])),
        Endpoint::new(Method::PATCH, "/projects/{projectId}/folders/{folderId}", Some(Scope::FolderUpdate), patch(update),
            Doc::new("updateFolder", "Folders", "Rename or move a folder").param(project()).param(folder()).body(schema_ref("folderUpdate"))
                .response(200, "The folder.", schema_ref("folder")).errors(&[400, 404])).handler_kind(),
        Endpoint::new(Method::DELETE, "/projects/{projectId}/folders/{folderId}", Some(Scope::FolderDelete), delete(remove),
            Doc::new("deleteFolder", "Folders", "Delete a folder")
                .describe("Deletes the folder and its sub-folders. With transferToFolderId (\"0\" for the project root) their contents move there; otherwise their workflows are archived and moved to the project root.")
                .param(project()).param(folder()).param(query_param("transferToFolderId", json!({"type": "string"}), "Where the contents go."))
                .empty_response(204, "Operation successful.").errors(&[400, 404])).handler_kind(),
    ]
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let base = json!({
        "id": {"type": "string", "readOnly": true}, "name": {"type": "string"},
        "parentFolderId": {"type": "string", "nullable": true},
        "createdAt": {"type": "string", "format": "date-time", "readOnly": true},
        "updatedAt": {"type": "string", "format": "date-time", "readOnly": true}
    });
    let mut listed = base.clone();
    listed["homeProject"] = json!({"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"}, "icon": {"type": "object", "nullable": true}}});
    listed["parentFolder"] = json!({"type": "object", "nullable": true, "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "parentFolderId": {"type": "string", "nullable": true}}});
    listed["tags"] = json!({"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}});
    listed["workflowCount"] = json!({"type": "integer"});
    listed["subFolderCount"] = json!({"type": "integer"});
    let mut details = base.clone();
    details["totalSubFolders"] = json!({"type": "integer"});
    details["totalWorkflows"] = json!({"type": "integer"});
    vec![
        ("folder", json!({"type": "object", "properties": base})),
        (
            "folderListItem",
            json!({"type": "object", "required": ["id"], "properties": listed}),
        ),
        (
            "folderDetails",
            json!({"type": "object", "properties": details}),
        ),
        (
            "folderCreate",
            json!({"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}, "parentFolderId": {"type": "string"}}}),
        ),
        (
            "folderUpdate",
            json!({"type": "object", "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}, "parentFolderId": {"type": "string", "nullable": true}}}),
        ),
    ]
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    id: String,
    name: String,
    parent_folder_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl FolderRow {
    fn into_api(self) -> Folder {
        Folder {
            id: self.id,
            name: self.name,
            parent_folder_id: self.parent_folder_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn valid_name(raw: &str) -> Result<&str> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(ApiError::bad_request(
            "request/body/name must NOT have fewer than 1 characters",
        )),
        n if n > NAME_MAX => Err(ApiError::bad_request(format!(
            "request/body/name must NOT have more than {NAME_MAX} characters"
        ))),
        _ => Ok(name),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    name: String,
    parent_folder_id: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Folder>)> {
    let name = valid_name(&body.name)?;
    let mut tx = state.db.begin().await?;
    let project_id = writable_project(tx.conn(), &principal, &project_id).await?;
    let parent = match body.parent_folder_id.as_deref().filter(|p| *p != ROOT) {
        Some(parent) => Some(folder_in(tx.conn(), &project_id, parent).await?.id),
        None => None,
    };
    let folder = repo::insert(
        tx.conn(),
        &new_id(),
        name,
        parent.as_deref(),
        &project_id,
        &now_iso(),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(folder.into_api())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    filter: Option<String>,
    select: Option<String>,
    sort_by: Option<String>,
    skip: Option<String>,
    take: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Value>> {
    let request = service::ListRequest::parse(service::ListQuery {
        filter: query.filter.as_deref(),
        select: query.select.as_deref(),
        sort_by: query.sort_by.as_deref(),
        skip: query.skip.as_deref(),
        take: query.take.as_deref(),
    })?;
    let page = service::list(&state, &principal, &project_id, &request).await?;
    let home = &page.home;
    let home_project = json!({ "id": home.id, "name": home.name, "type": home.kind, "icon": home.icon.as_deref().and_then(|i| serde_json::from_str::<Value>(i).ok()) });
    let data: Vec<Value> = page
        .rows
        .into_iter()
        .map(|row| {
            let parent = row.folder.parent_folder_id.as_ref().and_then(|id| page.parents.iter().find(|p| &p.id == id));
            let mut item = json!({
                "id": row.folder.id, "name": row.folder.name, "parentFolderId": row.folder.parent_folder_id,
                "createdAt": row.folder.created_at, "updatedAt": row.folder.updated_at,
                "homeProject": home_project,
                "parentFolder": parent.map(|p| json!({ "id": p.id, "name": p.name, "parentFolderId": p.parent_folder_id })),
                "tags": [], "workflowCount": row.workflow_count, "subFolderCount": row.sub_folder_count,
            });
            if let (Some(fields), Value::Object(all)) = (&request.select, &mut item) {
                let kept: Map<String, Value> = fields.iter().filter_map(|f| all.remove(f.as_str()).map(|v| (f.clone(), v))).collect();
                item = Value::Object(kept);
            }
            item
        })
        .collect();
    Ok(Json(json!({ "count": page.count, "data": data })))
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path((project_id, folder_id)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let mut conn = state.db.acquire().await?;
    let (project_id, _) = project(conn.conn(), &principal, &project_id).await?;
    let folder = folder_in(conn.conn(), &project_id, &folder_id).await?;
    let (sub_folders, workflows) = repo::totals(conn.conn(), &folder.id).await?;
    Ok(Json(json!({
        "id": folder.id, "name": folder.name, "parentFolderId": folder.parent_folder_id,
        "createdAt": folder.created_at, "updatedAt": folder.updated_at,
        "totalSubFolders": sub_folders, "totalWorkflows": workflows,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    name: Option<String>,
    #[serde(default, with = "double_option")]
    parent_folder_id: Option<Option<String>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(deserializer).map(Some)
    }
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path((project_id, folder_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<Folder>> {
    let name = body
        .name
        .as_deref()
        .map(valid_name)
        .transpose()?
        .map(str::to_owned);
    let mut tx = state.db.begin().await?;
    let project_id = writable_project(tx.conn(), &principal, &project_id).await?;
    let folder = folder_in(tx.conn(), &project_id, &folder_id).await?;
    let parent = match body.parent_folder_id {
        None => folder.parent_folder_id.clone(),
        Some(None) => None,
        Some(Some(p)) if p == ROOT => None,
        Some(Some(p)) => {
            let target = folder_in(tx.conn(), &project_id, &p).await?;
            if repo::subtree(tx.conn(), &folder.id)
                .await?
                .contains(&target.id)
            {
                return Err(ApiError::bad_request(
                    "Cannot move a folder into itself or one of its sub-folders",
                ));
            }
            Some(target.id)
        }
    };
    let updated = repo::update(
        tx.conn(),
        &folder.id,
        name.as_deref().unwrap_or(&folder.name),
        parent.as_deref(),
        &now_iso(),
    )
    .await?
    .ok_or_else(|| folder_not_found(&folder_id))?;
    tx.commit().await?;
    Ok(Json(updated.into_api()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQuery {
    transfer_to_folder_id: Option<String>,
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path((project_id, folder_id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<StatusCode> {
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let mut hooks = Hooks::new(&*state.lifecycle);
    let project_id = writable_project(tx.conn(), &principal, &project_id).await?;
    let folder = folder_in(tx.conn(), &project_id, &folder_id).await?;
    let subtree = repo::subtree(tx.conn(), &folder.id).await?;
    match query
        .transfer_to_folder_id
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        Some(target) => {
            let destination = if target == ROOT {
                None
            } else {
                let target = folder_in(tx.conn(), &project_id, target).await?;
                if subtree.contains(&target.id) {
                    return Err(ApiError::bad_request(
                        "Cannot transfer a folder's contents into itself or one of its sub-folders",
                    ));
                }
                Some(target.id)
            };
            repo::move_contents(tx.conn(), &folder.id, destination.as_deref(), &now).await?;
        }
        None => {
            let actor = Actor {
                user_id: &principal.user_id,
                now: &now,
            };
            steps::archive_in_folders(tx.conn(), &mut hooks, &subtree, actor).await?
        }
    }
    // Sub-folders still below it go with it (the foreign key cascades).
    repo::delete(tx.conn(), &folder.id).await?;
    tx.commit().await?;
    hooks.committed();
    Ok(StatusCode::NO_CONTENT)
}
