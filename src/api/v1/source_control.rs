//! `POST /source-control/pull`: imports the configured git repository (see
//! [`crate::service::source_control`]).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::openapi::{schema_ref, Doc};
use super::Endpoint;
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Result};
use crate::extract::OptionalJson;
use crate::service::source_control::{self, AutoPublish, Outcome, PullError, Puller};

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::POST,
        "/source-control/pull",
        Some(Scope::SourceControlPull),
        post(pull),
        Doc::new("pull", "SourceControl", "Pull changes from the remote repository")
            .describe("Fetches the configured branch and imports its workflows, folders, tags, variable stubs and credential stubs. \
                       Conflicts (a workflow changed here and in the repository since the last pull) answer 409 with the file list unless `force` is true.")
            .optional_body(schema_ref("pull"))
            .response(200, "Import result", json!({"type": "array", "items": schema_ref("sourceControlledFile")}))
            .response(409, "Conflicts; nothing was imported", json!({"type": "array", "items": schema_ref("sourceControlledFile")}))
            .errors(&[400]),
    )]
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "pull",
            json!({"type": "object", "properties": {
                "force": {"type": "boolean", "example": true},
                "autoPublish": {"type": "string", "enum": ["none", "all", "published"], "default": "none"}
            }}),
        ),
        (
            "sourceControlledFile",
            json!({"type": "object", "required": ["file", "id", "name", "type", "status", "location", "conflict", "updatedAt"], "properties": {
                "file": {"type": "string", "description": "The file, relative to the repository root."},
                "id": {"type": "string"}, "name": {"type": "string"},
                "type": {"type": "string", "enum": ["credential", "workflow", "tags", "variables", "folders"]},
                "status": {"type": "string", "enum": ["created", "modified"]},
                "location": {"type": "string", "enum": ["local", "remote"]},
                "conflict": {"type": "boolean"}, "updatedAt": {"type": "string"},
                "isLocalPublished": {"type": "boolean"}, "isRemoteArchived": {"type": "boolean"},
                "parentFolderId": {"type": "string", "nullable": true},
                "owner": {"type": "object", "properties": {"type": {"type": "string", "enum": ["personal", "team"]},
                    "projectId": {"type": "string"}, "projectName": {"type": "string"}}},
                "publishingError": {"type": "string"}
            }}),
        ),
    ]
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PullBody {
    #[serde(default)]
    force: Option<bool>,
    #[serde(default)]
    auto_publish: Option<AutoPublish>,
}

async fn pull(
    State(state): State<AppState>,
    principal: Principal,
    OptionalJson(body): OptionalJson<PullBody>,
) -> Result<Response> {
    let body = body.unwrap_or_default();
    let puller = Puller {
        user_id: &principal.user_id,
    };
    let outcome = source_control::pull(
        &state,
        &puller,
        body.force.unwrap_or(false),
        body.auto_publish.unwrap_or_default(),
    )
    .await;
    match outcome {
        Ok(Outcome::Pulled(files)) => Ok(Json(files).into_response()),
        Ok(Outcome::Conflicts(files)) => Ok((StatusCode::CONFLICT, Json(files)).into_response()),
        // n8n's exact body for this one case: it carries a `status` field.
        Err(PullError::NotConnected) => Err(ApiError::WithBody {
            status: StatusCode::BAD_REQUEST,
            body: json!({"status": "Error", "message": source_control::NOT_CONNECTED}),
        }),
        Err(PullError::Repository(message)) => Err(ApiError::BadRequest(message)),
        Err(PullError::Database(e)) => Err(ApiError::Database(e)),
        Err(PullError::Internal(e)) => Err(ApiError::Internal(e)),
        Err(PullError::Api(e)) => Err(e),
    }
}
