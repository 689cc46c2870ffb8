//! `/users`: n8n's five user routes (legacy handler routes: their 401 wording differs).

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::openapi::{list_of, path_param, query_param, schema_ref, Doc};
use super::Endpoint;
use crate::access;
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::users::{self as repo, UserRow};
use crate::domain::ids::{Named, UserRef};
use crate::error::{ApiError, Result};
use crate::extract::{from_value, ApiJson, ApiQuery};
use crate::pagination::{join_key, split_key, ListResponse, PageQuery};
use crate::service::users::{self as service, InviteResult, Invitee};

pub fn endpoints() -> Vec<Endpoint> {
    let id = || path_param("id", "The ID or email address of the user.");
    let include_role = || {
        query_param(
            "includeRole",
            json!({"type": "boolean", "default": false}),
            "Include the user's global role.",
        )
    };
    vec![
        Endpoint::new(Method::GET, "/users", Some(Scope::UserList), get(list),
            Doc::new("getUsers", "User", "Retrieve all users").paginated().param(include_role())
                .param(query_param("offset", json!({"type": "integer", "minimum": 0}), "Items to skip."))
                .param(query_param("projectId", json!({"type": "string"}), "Only the members of this project."))
                .response(200, "Operation successful.", list_of(schema_ref("user")))).handler_kind(),
        Endpoint::new(Method::POST, "/users", Some(Scope::UserCreate), post(create),
            Doc::new("createUser", "User", "Create (invite) users").body(json!({"type": "array", "items": {"type": "object", "required": ["email"],
                "properties": {"email": {"type": "string", "format": "email"}, "role": {"type": "string", "enum": ["global:admin", "global:member"]}}}}))
                .response(201, "The invited users.", json!({"type": "array", "items": schema_ref("inviteResult")})).errors(&[400])).handler_kind(),
        Endpoint::new(Method::GET, "/users/{id}", Some(Scope::UserRead), get(read),
            Doc::new("getUser", "User", "Get a user by id or email").param(id()).param(include_role())
                .response(200, "Operation successful.", schema_ref("user")).errors(&[404])).handler_kind(),
        Endpoint::new(Method::DELETE, "/users/{id}", Some(Scope::UserDelete), delete(remove),
            Doc::new("deleteUser", "User", "Delete a user").param(id())
                .param(query_param("transferId", json!({"type": "string"}), "A project to receive the user's workflows and folders; without it they are deleted."))
                .empty_response(204, "Operation successful.").errors(&[400, 404])).handler_kind(),
        Endpoint::new(Method::PATCH, "/users/{id}/role", Some(Scope::UserChangeRole), patch(change_role),
            Doc::new("changeRole", "User", "Change a user's global role").param(id())
                .body(json!({"type": "object", "required": ["newRoleName"], "properties": {"newRoleName": {"type": "string", "enum": ["global:admin", "global:member"]}}}))
                .empty_response(204, "Operation successful.").errors(&[400, 404])).handler_kind(),
    ]
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "user",
            json!({"type": "object", "required": ["email"], "properties": {
            "id": {"type": "string", "readOnly": true}, "email": {"type": "string", "format": "email"},
            "firstName": {"type": "string", "maxLength": 32, "nullable": true, "readOnly": true},
            "lastName": {"type": "string", "maxLength": 32, "nullable": true, "readOnly": true},
            "isPending": {"type": "boolean", "readOnly": true},
            "createdAt": {"type": "string", "format": "date-time", "readOnly": true},
            "updatedAt": {"type": "string", "format": "date-time", "readOnly": true},
            "role": {"type": "string", "readOnly": true}}}),
        ),
        (
            "inviteResult",
            json!({"type": "object", "properties": {
            "user": {"type": "object", "properties": {"id": {"type": "string"}, "email": {"type": "string"}, "emailSent": {"type": "boolean"},
                "role": {"type": "string"}, "inviteAcceptUrl": {"type": "string"}}},
            "error": {"type": "string"}}}),
        ),
    ]
}

/// A user as the public API shows them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    id: String,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    is_pending: bool,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

impl UserRow {
    pub fn into_api(self, include_role: bool) -> User {
        User {
            is_pending: self.password_hash.is_none(),
            role: include_role.then_some(self.role),
            id: self.id,
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn boolean(value: Option<&str>, name: &str) -> Result<bool> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
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
    include_role: Option<String>,
    project_id: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListResponse<User>>> {
    let offset = match query.offset.as_deref() {
        None => 0,
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request("request/query/offset must be >= 0"))?,
    };
    let page = query.page.page_with_offset(offset)?;
    let include_role = boolean(query.include_role.as_deref(), "includeRole")?;
    let mut conn = state.db.acquire().await?;
    if let Some(project_id) = query.project_id.as_deref() {
        // A project the caller cannot see lists nobody.
        if access::project_access(conn.conn(), &principal, project_id)
            .await?
            .is_none()
        {
            return Ok(Json(ListResponse {
                data: Vec::new(),
                next_cursor: None,
            }));
        }
    }
    let rows = repo::list(
        conn.conn(),
        query.project_id.as_deref(),
        page.after.as_deref().and_then(split_key),
        page.offset,
        page.fetch_limit(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |u| join_key(&u.created_at, &u.id));
    Ok(Json(ListResponse {
        data: rows.into_iter().map(|u| u.into_api(include_role)).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadQuery {
    include_role: Option<String>,
}

async fn find_user(state: &AppState, user: &Named<UserRef>) -> Result<UserRow> {
    let mut conn = state.db.acquire().await?;
    let found = match user.id() {
        Some(UserRef::Email(email)) => repo::find_by_email(conn.conn(), email).await?,
        Some(UserRef::Id(id)) => repo::find_by_id(conn.conn(), id).await?,
        None => None,
    };
    found.ok_or_else(|| ApiError::not_found(format!("Could not find user with id: {user}")))
}

async fn read(
    State(state): State<AppState>,
    Path(id): Path<Named<UserRef>>,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<User>> {
    let include_role = boolean(query.include_role.as_deref(), "includeRole")?;
    Ok(Json(find_user(&state, &id).await?.into_api(include_role)))
}

#[derive(Deserialize)]
pub struct InviteEntry {
    email: String,
    role: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Vec<InviteResult>>)> {
    let entries: Vec<InviteEntry> = from_value("body", body)?;
    let invitees = entries
        .into_iter()
        .map(|e| Invitee {
            email: e.email,
            role: e.role,
        })
        .collect();
    let results = service::invite(&state, &principal.user_id, invitees).await?;
    Ok((StatusCode::CREATED, Json(results)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQuery {
    transfer_id: Option<String>,
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<UserRef>>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<StatusCode> {
    // n8n answers a missing user with 400 here (404 on the other user routes).
    let user = find_user(&state, &id).await.map_err(|_| {
        ApiError::bad_request(
            "Request to delete a user failed because the user to delete was not found in DB",
        )
    })?;
    service::delete(
        &state,
        &principal.user_id,
        &user.id,
        query.transfer_id.as_deref().filter(|t| !t.is_empty()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleBody {
    new_role_name: String,
}

async fn change_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<UserRef>>,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<StatusCode> {
    let user = find_user(&state, &id)
        .await
        .map_err(|_| ApiError::not_found("Target user not found"))?;
    service::change_role(
        &state,
        &principal.user_id,
        principal.role,
        &user.id,
        &body.new_role_name,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
