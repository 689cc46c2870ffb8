//! `/credentials`: n8n's eight credential routes. Secrets are sealed before they reach the
//! database and never leave the server: no response, log line or error message carries them.

use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::openapi::{list_of, path_param, schema_ref, Doc};
use super::Endpoint;
use crate::access::{self, ProjectAccess};
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::credentials::{self as repo, Changes, CredentialRow, NewCredential};
use crate::db::{projects, Conn};
use crate::domain::credential_types::{self, CredentialType};
use crate::domain::ids::{new_id, CredentialId, Named};
use crate::domain::names;
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{join_key, split_key, ListResponse, PageQuery};
use crate::service::credentials::{open, seal, test_connection, TestOutcome};

const NO_STORE: [(HeaderName, &str); 1] = [(CACHE_CONTROL, "no-store")];

pub fn endpoints() -> Vec<Endpoint> {
    let id = || path_param("id", "The ID of the credential.");
    vec![
        Endpoint::new(Method::GET, "/credentials", Some(Scope::CredentialList), get(list),
            Doc::new("getCredentials", "Credential", "List credentials").describe("Newest first. Secrets are never returned.").paginated()
                .response(200, "Operation successful.", list_of(schema_ref("credentialListItem")))),
        Endpoint::new(Method::POST, "/credentials", Some(Scope::CredentialCreate), post(create),
            Doc::new("createCredential", "Credential", "Create a credential").body(schema_ref("credentialCreate"))
                .response(200, "The credential (without its data).", schema_ref("credential")).errors(&[400, 404, 409])),
        Endpoint::new(Method::GET, "/credentials/{id}", Some(Scope::CredentialRead), get(read),
            Doc::new("getCredential", "Credential", "Retrieve a credential").param(id())
                .response(200, "The credential (without its data).", schema_ref("credential")).errors(&[404])),
        Endpoint::new(Method::PATCH, "/credentials/{id}", Some(Scope::CredentialUpdate), patch(update),
            Doc::new("updateCredential", "Credential", "Update a credential")
                .describe("`data` replaces the stored data, or with `isPartialData: true` is merged into it.")
                .param(id()).body(schema_ref("credentialUpdate")).response(200, "The credential.", schema_ref("credential")).errors(&[400, 404])),
        Endpoint::new(Method::DELETE, "/credentials/{id}", Some(Scope::CredentialDelete), delete(remove),
            Doc::new("deleteCredential", "Credential", "Delete a credential").param(id())
                .response(200, "The deleted credential.", schema_ref("deletedCredential")).errors(&[404])),
        Endpoint::new(Method::PUT, "/credentials/{id}/transfer", Some(Scope::CredentialMove), put(transfer),
            Doc::new("transferCredential", "Credential", "Transfer a credential to another project").param(id())
                .body(schema_ref("transferRequest")).empty_response(204, "Operation successful.").errors(&[400, 404])),
        Endpoint::new(Method::POST, "/credentials/{id}/test", Some(Scope::CredentialRead), post(test),
            Doc::new("testCredential", "Credential", "Test a credential").param(id())
                .response(200, "The outcome.", json!({"type": "object", "required": ["status", "message"], "properties": {
                    "status": {"type": "string", "enum": ["OK", "Error"]}, "message": {"type": "string"}}})).errors(&[404])),
        Endpoint::new(Method::GET, "/credentials/schema/{credentialTypeName}", None, get(schema),
            Doc::new("getCredentialType", "Credential", "Show a credential type's data schema")
                .param(path_param("credentialTypeName", "The credential type, e.g. n8nApi."))
                .response(200, "A JSON Schema of the type's fields.", json!({"type": "object"})).errors(&[404])),
    ]
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let fields = json!({
        "id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"},
        "isManaged": {"type": "boolean"}, "isGlobal": {"type": "boolean"}, "isResolvable": {"type": "boolean"},
        "resolvableAllowFallback": {"type": "boolean"}, "resolverId": {"type": "string", "nullable": true},
        "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}
    });
    let mut deleted = fields.clone();
    deleted["usageScope"] = json!({"type": "string", "enum": ["project", "instance"]});
    vec![
        (
            "credential",
            json!({"type": "object", "required": ["id", "name", "type"], "properties": fields}),
        ),
        (
            "deletedCredential",
            json!({"type": "object", "properties": deleted}),
        ),
        (
            "credentialListItem",
            json!({"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"},
            "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"},
            "shared": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"},
                "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}}}}}}),
        ),
        (
            "credentialCreate",
            json!({"type": "object", "required": ["name", "type", "data"], "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 16, "pattern": "^[a-zA-Z0-9_-]+$"},
            "name": {"type": "string", "minLength": 1, "maxLength": 128}, "type": {"type": "string"},
            "data": {"type": "object", "additionalProperties": {"nullable": true}}, "isResolvable": {"type": "boolean"},
            "projectId": {"type": "string"}}}),
        ),
        (
            "credentialUpdate",
            json!({"type": "object", "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 128}, "type": {"type": "string"},
            "data": {"type": "object", "additionalProperties": {"nullable": true}},
            "isGlobal": {"type": "boolean"}, "isResolvable": {"type": "boolean"}, "isPartialData": {"type": "boolean", "default": false}}}),
        ),
    ]
}

/// A credential as the API shows it: metadata only.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    is_managed: bool,
    is_global: bool,
    is_resolvable: bool,
    resolvable_allow_fallback: bool,
    resolver_id: Option<String>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage_scope: Option<&'static str>,
}

impl CredentialRow {
    fn into_api(self) -> Credential {
        Credential {
            usage_scope: None,
            id: self.id,
            name: self.name,
            kind: self.kind,
            is_managed: self.is_managed,
            is_global: self.is_global,
            is_resolvable: self.is_resolvable,
            resolvable_allow_fallback: self.resolvable_allow_fallback,
            resolver_id: self.resolver_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn not_found(principal: &Principal, id: &str, admin_message: &str) -> ApiError {
    if principal.role.is_instance_admin() {
        ApiError::not_found(admin_message)
    } else {
        ApiError::not_found(format!("Credential with ID \"{id}\" not found."))
    }
}

/// Loads a credential the caller can see, with the caller's access to its project.
async fn visible(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &Named<CredentialId>,
    admin_message: &str,
) -> Result<(CredentialRow, ProjectAccess)> {
    let missing = || not_found(principal, id.as_str(), admin_message);
    let id = id.or_missing(|_| missing())?;
    let found = repo::find(conn.reborrow(), id).await?;
    access::visible(conn, principal, found, |r| &r.project_id, missing).await
}

/// As [`visible`], also requiring the right to change the credential.
async fn writable(
    conn: Conn<'_>,
    principal: &Principal,
    id: &Named<CredentialId>,
    admin_message: &str,
) -> Result<CredentialRow> {
    access::writable(visible(conn, principal, id, admin_message).await?)
}

fn known_type(name: &str) -> Result<&'static CredentialType> {
    credential_types::find(name)
        .ok_or_else(|| ApiError::bad_request("req.body.type is not a known type"))
}

fn valid_name(name: &str) -> Result<&str> {
    names::credential(name).map_err(ApiError::bad_request)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedWith {
    id: String,
    name: String,
    role: &'static str,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedCredential {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    created_at: String,
    updated_at: String,
    shared: Vec<SharedWith>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response> {
    let page = query.page()?;
    let mut conn = state.db.acquire().await?;
    let rows = repo::list(
        conn.conn(),
        access::visible_to(&principal),
        page.after.as_deref().and_then(split_key),
        page.offset,
        page.fetch_limit(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |c| join_key(&c.created_at, &c.id));
    let mut project_ids: Vec<&str> = rows.iter().map(|c| c.project_id.as_str()).collect();
    project_ids.sort_unstable();
    project_ids.dedup();
    let projects = projects::find_many(conn.conn(), &project_ids).await?;
    let data: Vec<ListedCredential> = rows
        .into_iter()
        .map(|c| ListedCredential {
            shared: projects
                .iter()
                .filter(|p| p.id == c.project_id)
                .map(|p| SharedWith {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    role: "credential:owner",
                    created_at: c.shared_at.clone(),
                    updated_at: c.shared_at.clone(),
                })
                .collect(),
            id: c.id,
            name: c.name,
            kind: c.kind,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
        .collect();
    Ok((NO_STORE, Json(ListResponse { data, next_cursor })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    id: Option<String>,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    data: Map<String, Value>,
    #[serde(default)]
    is_resolvable: bool,
    project_id: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response> {
    let name = valid_name(&body.name)?;
    let kind = known_type(&body.kind)?;
    kind.validate(&body.data).map_err(ApiError::BadRequest)?;
    let id = match body.id {
        Some(id) => {
            let valid = (1..=16).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid {
                return Err(ApiError::bad_request("request/body/id must match pattern \"^[a-zA-Z0-9_-]+$\" and be 1 to 16 characters long"));
            }
            id
        }
        None => new_id(),
    };
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let requested = body.project_id.as_deref();
    let project_id = access::target_project(tx.conn(), &principal, requested, || {
        let id = requested.unwrap_or_default();
        ApiError::not_found(format!("Project with ID \"{id}\" not found"))
    })
    .await?;
    if repo::find(tx.conn(), &id).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "Credential with ID \"{id}\" already exists."
        )));
    }
    let sealed = seal(&state.keys, &id, &body.data);
    repo::insert(
        tx.conn(),
        &NewCredential {
            id: &id,
            name,
            kind: &kind.name,
            data: &sealed,
            key_id: state.keys.primary_id(),
            project_id: &project_id,
            is_resolvable: body.is_resolvable,
            now: &now,
        },
    )
    .await?;
    let row = repo::find(tx.conn(), &id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("created credential vanished")))?;
    tx.commit().await?;
    Ok((NO_STORE, Json(row.into_api())).into_response())
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<CredentialId>>,
) -> Result<Response> {
    let mut conn = state.db.acquire().await?;
    let (row, _) = visible(conn.conn(), &principal, &id, "Credential not found").await?;
    Ok((NO_STORE, Json(row.into_api())).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    data: Option<Map<String, Value>>,
    is_global: Option<bool>,
    is_resolvable: Option<bool>,
    #[serde(default)]
    is_partial_data: bool,
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<CredentialId>>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Response> {
    let name = body.name.as_deref().map(valid_name).transpose()?;
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), &principal, &id, "Credential not found").await?;
    if row.is_managed {
        return Err(ApiError::bad_request(
            "Managed credentials cannot be updated.",
        ));
    }
    if body.is_global.is_some_and(|g| g != row.is_global) && !principal.role.is_instance_admin() {
        return Err(ApiError::ForbiddenWith(
            "You do not have permission to change global sharing for credentials".into(),
        ));
    }
    let kind = known_type(body.kind.as_deref().unwrap_or(&row.kind))?;
    let data = match body.data {
        // A change of name (or flags) alone keeps the secrets.
        None => open(&state.keys, &row)?,
        Some(given) if body.is_partial_data => {
            let mut merged = open(&state.keys, &row)?;
            merged.extend(given);
            merged
        }
        Some(given) => given,
    };
    kind.validate(&data).map_err(ApiError::BadRequest)?;
    let now = now_iso();
    repo::update(
        tx.conn(),
        &row.id,
        &Changes {
            name: name.unwrap_or(&row.name),
            kind: &kind.name,
            data: &seal(&state.keys, &row.id, &data),
            key_id: state.keys.primary_id(),
            is_global: body.is_global.unwrap_or(row.is_global),
            is_resolvable: body.is_resolvable.unwrap_or(row.is_resolvable),
            now: &now,
        },
    )
    .await?;
    let row = repo::find(tx.conn(), &row.id)
        .await?
        .ok_or_else(|| not_found(&principal, id.as_str(), "Credential not found"))?;
    tx.commit().await?;
    Ok((NO_STORE, Json(row.into_api())).into_response())
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<CredentialId>>,
) -> Result<Json<Credential>> {
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), &principal, &id, "Not Found").await?;
    repo::delete(tx.conn(), &row.id).await?;
    tx.commit().await?;
    let usage_scope = if row.is_global { "instance" } else { "project" };
    let mut credential = row.into_api();
    credential.usage_scope = Some(usage_scope);
    Ok(Json(credential))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferBody {
    destination_project_id: String,
}

async fn transfer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<CredentialId>>,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<StatusCode> {
    let destination = body.destination_project_id;
    let mut tx = state.db.begin().await?;
    // n8n answers one 400 naming the id whether the credential is missing, hidden or only
    // shared with the caller (it looks the credential up with the move scope).
    let missing = || {
        ApiError::bad_request(format!(
            "Could not find the credential with the id \"{id}\". Make sure you have the permission to move it."
        ))
    };
    let (row, source) = match visible(tx.conn(), &principal, &id, "Credential not found").await {
        Ok(found) => found,
        Err(ApiError::NotFound(_)) => return Err(missing()),
        Err(other) => return Err(other),
    };
    if !source.can_manage() {
        return Err(missing());
    }
    access::transfer_target(tx.conn(), &principal, &destination, || {
        ApiError::bad_request(format!(
            "Could not find project with the id \"{destination}\". Make sure you have the permission to create credentials in it."
        ))
    })
    .await?;
    if row.project_id == destination {
        return Err(ApiError::bad_request(
            "You can't transfer a credential into the project that's already owning it.",
        ));
    }
    repo::transfer(tx.conn(), &row.id, &destination, &now_iso()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<CredentialId>>,
) -> Result<Json<TestOutcome>> {
    let row = {
        let mut conn = state.db.acquire().await?;
        visible(conn.conn(), &principal, &id, "Credential not found")
            .await?
            .0
    };
    let data = open(&state.keys, &row)?;
    let kind = known_type(&row.kind)?;
    Ok(Json(test_connection(&state, kind, &data).await))
}

async fn schema(Path(type_name): Path<String>) -> Result<Json<Value>> {
    let kind =
        credential_types::find(&type_name).ok_or_else(|| ApiError::not_found("Not Found"))?;
    Ok(Json(kind.schema()))
}
