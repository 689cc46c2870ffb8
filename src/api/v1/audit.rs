//! `POST /audit`: the security audit (see [`crate::service::audit`]).

use axum::extract::State;
use axum::http::Method;
use axum::routing::post;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::openapi::Doc;
use super::Endpoint;
use crate::app::AppState;
use crate::auth::Scope;
use crate::db::{api_keys, credentials, workflows};
use crate::error::{ApiError, Result};
use crate::extract::OptionalJson;
use crate::service::audit::{self, Inputs, CATEGORIES};

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(Method::POST, "/audit", Some(Scope::SecurityAuditGenerate), post(generate),
        Doc::new("generateAudit", "Audit", "Generate an audit").describe("Risk reports keyed \"<Category> Risk Report\"; an empty array when nothing is found.")
            .optional_body(json!({"type": "object", "properties": {"additionalOptions": {"type": "object", "properties": {
                "daysAbandonedWorkflow": {"type": "integer", "minimum": 1},
                "categories": {"type": "array", "items": {"type": "string", "enum": CATEGORIES}}}}}}))
            .response(200, "The audit report.", json!({"oneOf": [{"type": "object"}, {"type": "array", "maxItems": 0}]})))
    .handler_kind()]
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    days_abandoned_workflow: Option<i64>,
    categories: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Body {
    #[serde(default)]
    additional_options: Option<Options>,
}

async fn generate(
    State(state): State<AppState>,
    OptionalJson(body): OptionalJson<Body>,
) -> Result<Json<Value>> {
    let options = body
        .unwrap_or_default()
        .additional_options
        .unwrap_or_default();
    let days = options.days_abandoned_workflow.unwrap_or(90);
    if days < 1 {
        return Err(ApiError::bad_request(
            "request/body/additionalOptions/daysAbandonedWorkflow must be >= 1",
        ));
    }
    let categories = options.categories.unwrap_or_default();
    if let Some(i) = categories
        .iter()
        .position(|c| !CATEGORIES.contains(&c.as_str()))
    {
        return Err(ApiError::bad_request(format!("request/body/additionalOptions/categories/{i} must be equal to one of the allowed values")));
    }
    let mut conn = state.db.acquire().await?;
    let workflows = workflows::all(conn.conn()).await?;
    let credentials = credentials::all(conn.conn()).await?;
    let keys_without_expiry = api_keys::any_without_expiry(conn.conn()).await?;
    let inputs = Inputs {
        workflows: &workflows,
        credentials: &credentials,
        config: &state.config,
        encryption_key_configured: state.config.encryption_key.is_some(),
        keys_without_expiry,
        now: chrono::Utc::now(),
    };
    Ok(Json(
        audit::run(&inputs, &categories, days).unwrap_or_else(|| json!([])),
    ))
}
