//! `GET /insights/summary`: execution counts, failure rate, time saved and average run time
//! over a period, each with its change from the period of equal length before it.

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use axum::Json;
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::openapi::{query_param, Doc};
use super::Endpoint;
use crate::access;
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::executions::{self, Totals};
use crate::domain::ids::is_plausible_id;
use crate::domain::time::{iso, parse_iso};
use crate::error::{ApiError, Result};
use crate::extract::ApiQuery;

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

fn figure(value: f64, before: f64, unit: &str, had_before: bool) -> Value {
    let deviation = if had_before {
        Some(value - before)
    } else {
        None
    };
    json!({ "value": value, "deviation": deviation, "unit": unit })
}

fn rate(t: &Totals) -> f64 {
    if t.total == 0 {
        0.0
    } else {
        t.failed as f64 / t.total as f64
    }
}

fn average(t: &Totals) -> f64 {
    if t.timed == 0 {
        0.0
    } else {
        t.run_time_ms / t.timed as f64
    }
}

async fn summary(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Json<Value>> {
    let parse = |v: Option<&str>, name: &str| {
        v.map(|s| {
            parse_iso(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "request/query/{name} must match format \"date-time\""
                ))
            })
        })
        .transpose()
    };
    let end = parse(query.end_date.as_deref(), "endDate")?.unwrap_or_else(Utc::now);
    let start = parse(query.start_date.as_deref(), "startDate")?.unwrap_or(end - Duration::days(7));
    if start > end {
        return Err(ApiError::bad_request(
            "endDate must be the same as or after startDate",
        ));
    }
    let previous_start = start - (end - start);
    let mut conn = state.db.acquire().await?;
    let project = match query.project_id.as_deref() {
        Some(p) => {
            if !is_plausible_id(p)
                || access::project_access(conn.conn(), &principal, p)
                    .await?
                    .is_none()
            {
                return Err(ApiError::not_found(format!(
                    "Project with ID \"{p}\" not found"
                )));
            }
            Some(p)
        }
        None => None,
    };
    let now = executions::totals(conn.conn(), &iso(start), &iso(end), project).await?;
    let before =
        executions::totals(conn.conn(), &iso(previous_start), &iso(start), project).await?;
    let had_before = before.total > 0;
    Ok(Json(json!({
        "total": figure(now.total as f64, before.total as f64, "count", had_before),
        "failed": figure(now.failed as f64, before.failed as f64, "count", had_before),
        "failureRate": figure(rate(&now), rate(&before), "ratio", had_before),
        "timeSaved": figure(now.minutes_saved, before.minutes_saved, "minute", had_before),
        "averageRunTime": figure(average(&now), average(&before), "millisecond", had_before),
    })))
}
