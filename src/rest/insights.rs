//! `/rest/insights/*`: the overview's figures, through [`crate::service::insights`] as the
//! public API's summary (owners and admins only, as the `insights:read` scope says).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::data;
use crate::app::AppState;
use crate::auth::session::SessionUser;
use crate::auth::Scope;
use crate::error::Result;
use crate::extract::ApiQuery;
use crate::service::insights::{self, Period};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    start_date: Option<String>,
    end_date: Option<String>,
    project_id: Option<String>,
}

/// `GET /rest/insights/summary`.
pub async fn summary(
    State(state): State<AppState>,
    user: SessionUser,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::InsightsRead)?;
    let period = Period::parse(query.start_date.as_deref(), query.end_date.as_deref())?;
    let summary =
        insights::summary(&state, &principal, period, query.project_id.as_deref()).await?;
    Ok(data(summary).into_response())
}

/// `GET /rest/insights/by-time`: the figures day by day.
pub async fn by_time(
    State(state): State<AppState>,
    user: SessionUser,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::InsightsRead)?;
    let period = Period::parse(query.start_date.as_deref(), query.end_date.as_deref())?;
    let days = insights::by_time(&state, &principal, period, query.project_id.as_deref()).await?;
    Ok(data(Value::Array(days)).into_response())
}
