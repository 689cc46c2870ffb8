//! `/credentials`: n8n's eight credential routes. Secrets are sealed before they reach the
//! database and never leave the server: no response, log line or error message carries them.

use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderName, Method, StatusCode};
use axum::routing::{delete, get, patch, post, put};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::openapi::{list_of, path_param, schema_ref, Doc};
use super::Endpoint;
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::credentials::CredentialRow;
use crate::domain::credential_types;
use crate::domain::ids::{CredentialId, Named};
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{ListResponse, PageQuery};
use crate::service::credentials::{self as service, TestOutcome};

/// Credential answers are not to be cached (n8n sends the same header).
type NoStore = [(HeaderName, &'static str); 1];
const NO_STORE: NoStore = [(CACHE_CONTROL, "no-store")];

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
) -> Result<(NoStore, Json<ListResponse<ListedCredential>>)> {
    let (listed, next_cursor) = service::list(&state, &principal, &query.page()?).await?;
    let data = listed
        .into_iter()
        .map(|(c, project)| ListedCredential {
            shared: project
                .into_iter()
                .map(|p| SharedWith {
                    id: p.id,
                    name: p.name,
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
    Ok((NO_STORE, Json(ListResponse { data, next_cursor })))
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
) -> Result<(NoStore, Json<Credential>)> {
    let new = service::Create {
        id: body.id,
        name: body.name,
        kind: body.kind,
        data: body.data,
        is_resolvable: body.is_resolvable,
        project_id: body.project_id,
    };
    let row = service::create(&state, &principal, new).await?;
    Ok((NO_STORE, Json(row.into_api())))
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<CredentialId>>,
) -> Result<(NoStore, Json<Credential>)> {
    let row = service::read(&state, &principal, &id).await?;
    Ok((NO_STORE, Json(row.into_api())))
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
) -> Result<(NoStore, Json<Credential>)> {
    let changes = service::Update {
        name: body.name,
        kind: body.kind,
        data: body.data,
        is_global: body.is_global,
        is_resolvable: body.is_resolvable,
        is_partial_data: body.is_partial_data,
    };
    let row = service::update(&state, &principal, &id, changes).await?;
    Ok((NO_STORE, Json(row.into_api())))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<CredentialId>>,
) -> Result<Json<Credential>> {
    let row = service::delete(&state, &principal, &id).await?;
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
    service::transfer(&state, &principal, &id, &body.destination_project_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<CredentialId>>,
) -> Result<Json<TestOutcome>> {
    Ok(Json(service::test(&state, &principal, &id).await?))
}

async fn schema(Path(type_name): Path<String>) -> Result<Json<Value>> {
    let kind =
        credential_types::find(&type_name).ok_or_else(|| ApiError::not_found("Not Found"))?;
    Ok(Json(kind.schema()))
}
