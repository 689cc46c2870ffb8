//! `GET /insights/summary`: execution counts, failure rate, time saved and average run time
//! over a period, each with its change from the period of equal length before it.

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::openapi::{query_param, Doc};
use super::Endpoint;
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::error::Result;
use crate::extract::ApiQuery;
use crate::service::insights::{self as service, Period};

pub fn endpoints() -> Vec<Endpoint> {
    let figure = |unit: &str| {
        json!({"type": "object", "required": ["value", "deviation", "unit"], "properties": {
        "value": {"type": "number"}, "deviation": {"type": "number", "nullable": true}, "unit": {"type": "string", "enum": [unit]}}})
    };
    vec![Endpoint::new(
        Method::GET,
        "/insights/summary",
        Some(Scope::InsightsRead),
        get(summary),
        Doc::new(
            "getInsightsSummary",
            "Insights",
            "Summary of executions over a period",
        )
        .param(query_param(
            "startDate",
            json!({"type": "string", "format": "date-time"}),
            "Start of the period (default: 7 days ago).",
        ))
        .param(query_param(
            "endDate",
            json!({"type": "string", "format": "date-time"}),
            "End of the period (default: now).",
        ))
        .param(query_param(
            "projectId",
            json!({"type": "string"}),
            "Only this project's workflows.",
        ))
        .response(
            200,
            "The summary.",
            json!({"type": "object", "properties": {
                "total": figure("count"), "failed": figure("count"), "failureRate": figure("ratio"),
                "timeSaved": figure("minute"), "averageRunTime": figure("millisecond")}}),
        )
        .errors(&[404]),
    )]
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    start_date: Option<String>,
    end_date: Option<String>,
    project_id: Option<String>,
}

async fn summary(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Json<Value>> {
    let period = Period::parse(query.start_date.as_deref(), query.end_date.as_deref())?;
    let summary = service::summary(&state, &principal, period, query.project_id.as_deref()).await?;
    Ok(Json(summary))
}
