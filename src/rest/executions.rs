//! `/rest/executions`: the runs the web page lists and inspects, with stop and retry. Every
//! call goes through [`crate::service::executions`] with the signed-in user as the
//! principal, so a member sees only the executions of their projects' workflows.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::data;
use crate::app::AppState;
use crate::auth::session::SessionUser;
use crate::auth::Scope;
use crate::db::executions::{ExecutionRow, Filter};
use crate::db::workflows;
use crate::domain::ids::{ExecutionId, Named};
use crate::error::{ApiError, Result};
use crate::extract::{ApiQuery, OptionalJson};
use crate::pagination::{Limit, DEFAULT_LIMIT};
use crate::service::executions as service;

const STATUSES: [&str; 8] = [
    "canceled", "crashed", "error", "new", "running", "success", "unknown", "waiting",
];

/// n8n's `filter` query parameter of the execution list.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListFilterBody {
    status: Option<Vec<String>>,
    workflow_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    filter: Option<String>,
    limit: Option<Limit>,
    /// The last id of the previous page (n8n's paging of this list).
    last_id: Option<String>,
}

/// An execution of the list: n8n's execution summary.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    id: String,
    finished: bool,
    mode: String,
    retry_of: Option<String>,
    retry_success_id: Option<String>,
    wait_till: Option<String>,
    created_at: String,
    started_at: Option<String>,
    stopped_at: Option<String>,
    workflow_id: String,
    workflow_name: Option<String>,
    status: String,
}

impl Summary {
    fn new(r: ExecutionRow, workflow_name: Option<String>) -> Summary {
        Summary {
            id: r.id.to_string(),
            workflow_name,
            finished: r.finished,
            mode: r.mode,
            retry_of: r.retry_of,
            retry_success_id: r.retry_success_id,
            wait_till: r.wait_till,
            created_at: r.created_at,
            started_at: r.started_at,
            stopped_at: r.stopped_at,
            workflow_id: r.workflow_id,
            status: r.status,
        }
    }
}

/// `GET /rest/executions?filter=&limit=&lastId=`: n8n's `{count, estimated, results}`,
/// newest first, running ones included.
pub async fn list(
    State(state): State<AppState>,
    user: SessionUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::ExecutionList)?;
    let filter: ListFilterBody = super::list_filter(query.filter.as_deref())?;
    if let Some(statuses) = &filter.status {
        if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
            return Err(ApiError::bad_request(format!(
                "Unknown execution status \"{bad}\""
            )));
        }
    }
    let last_id = match query.last_id.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            service::parse_id(text)
                .map_err(|_| ApiError::bad_request("lastId must be an execution id"))?,
        ),
    };
    let limit = query.limit.map_or(DEFAULT_LIMIT, |l| l.0);
    let statuses = filter.status.filter(|s| !s.is_empty());
    let list_filter = Filter {
        member: None,
        statuses: statuses.as_deref(),
        workflow_id: filter.workflow_id.as_deref().filter(|w| !w.is_empty()),
        project_id: None,
        started_after: None,
        started_before: None,
        exclude_running: false,
    };
    let (rows, count) = service::list(
        &state,
        &principal,
        list_filter,
        last_id,
        u64::from(limit),
        true,
    )
    .await?;
    let names = workflow_names(&state, &rows).await?;
    let results: Vec<Summary> = rows
        .into_iter()
        .map(|r| {
            let name = names.get(&r.workflow_id).cloned();
            Summary::new(r, name)
        })
        .collect();
    Ok(data(json!({
        "count": count.unwrap_or_default(),
        "estimated": false,
        "results": results,
    }))
    .into_response())
}

async fn workflow_names(
    state: &AppState,
    rows: &[ExecutionRow],
) -> Result<HashMap<String, String>> {
    let mut conn = state.db.acquire().await?;
    let mut names = HashMap::new();
    for row in rows {
        if !names.contains_key(&row.workflow_id) {
            if let Some(w) = workflows::find(conn.conn(), &row.workflow_id).await? {
                names.insert(row.workflow_id.clone(), w.name);
            }
        }
    }
    Ok(names)
}

/// `GET /rest/executions/{id}`: the execution with its run data and the workflow as it ran.
/// The run data is sent as JSON (n8n sends it in its `flatted` encoding).
pub async fn read(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<ExecutionId>>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::ExecutionRead)?;
    let (row, snapshot) = service::read(&state, &principal, &id, true).await?;
    let mut execution = row.into_api(true);
    if snapshot.is_some() {
        execution.workflow_data = snapshot;
    }
    Ok(data(execution).into_response())
}

/// `POST /rest/executions/{id}/stop`.
pub async fn stop(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<ExecutionId>>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::ExecutionStop)?;
    let row = service::stop(&state, &principal, &id).await?;
    Ok(data(json!({
        "mode": row.mode,
        "startedAt": row.started_at,
        "stoppedAt": row.stopped_at,
        "finished": row.finished,
        "status": row.status,
    }))
    .into_response())
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryBody {
    load_workflow: Option<bool>,
}

/// `POST /rest/executions/{id}/retry`: the new execution's summary once it has ended.
pub async fn retry(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<ExecutionId>>,
    OptionalJson(body): OptionalJson<RetryBody>,
) -> Result<Response> {
    let principal = user.principal();
    principal.require(Scope::ExecutionRetry)?;
    let load_workflow = body.and_then(|b| b.load_workflow).unwrap_or(false);
    let retry = service::retry(&state, &principal, &id, load_workflow).await?;
    let (started_at, stopped_at, status) = match retry.stored {
        Some(r) => (r.started_at, r.stopped_at, r.status),
        None => (None, None, retry.ended.status.as_str().to_owned()),
    };
    Ok(data(json!({
        "id": retry.ended.id.to_string(),
        "mode": "retry",
        "retryOf": retry.original.id.to_string(),
        "workflowId": retry.original.workflow_id,
        "startedAt": started_at,
        "stoppedAt": stopped_at,
        "status": status,
    }))
    .into_response())
}
