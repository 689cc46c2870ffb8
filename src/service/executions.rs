//! Executions: who may see, list, stop and retry which runs. The public API's `/executions`
//! and the web page's `/rest/executions` both go through here, so a session user and an API
//! key's owner meet the same rules: an execution is reached through its workflow's project
//! ([`crate::access`]); one the caller cannot see is answered as missing, and stopping or
//! retrying needs the right to change the workflow's project.

use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::access;
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::executions::{self as repo, ExecutionRow, Filter};
use crate::db::{workflows, Conn};
use crate::domain::ids::{is_plausible_id, ExecutionId, Named, TypedId};
use crate::domain::time::now_iso;
use crate::engine::execute::{Ended, RetryRefusal};
use crate::error::{ApiError, Result};

pub fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

/// The answer for an execution id that is not an integer of at least 1.
fn malformed_id() -> ApiError {
    ApiError::bad_request("request/params/id must be an integer >= 1")
}

/// An execution id given as text (a query's `lastId`).
pub fn parse_id(id: &str) -> Result<i64> {
    ExecutionId::parse(id)
        .map(ExecutionId::get)
        .ok_or_else(malformed_id)
}

/// Loads an execution of a workflow the caller can see; `write` also requires the right to
/// change the workflow's project.
pub async fn visible(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &Named<ExecutionId>,
    write: bool,
) -> Result<ExecutionRow> {
    let id = id.or_missing(|_| malformed_id())?.get();
    let row = repo::find(conn.reborrow(), id)
        .await?
        .ok_or_else(not_found)?;
    let workflow = workflows::find(conn.reborrow(), &row.workflow_id).await?;
    let visible = access::visible(conn, principal, workflow, |w| &w.project_id, not_found).await?;
    if write {
        access::writable(visible)?;
    }
    Ok(row)
}

/// Whether the caller can see the workflow `workflow_id` (a workflow they cannot see has no
/// executions for them).
async fn workflow_visible(
    mut conn: Conn<'_>,
    principal: &Principal,
    workflow_id: &str,
) -> Result<bool> {
    if !is_plausible_id(workflow_id) {
        return Ok(false);
    }
    Ok(match workflows::find(conn.reborrow(), workflow_id).await? {
        Some(w) => access::project_access(conn, principal, &w.project_id)
            .await?
            .is_some(),
        None => false,
    })
}

/// One page of the executions the caller can see, newest first, below `before_id`; with
/// `count`, also how many match in all.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: Filter<'_>,
    before_id: Option<i64>,
    fetch_limit: u64,
    count: bool,
) -> Result<(Vec<ExecutionRow>, Option<i64>)> {
    let mut conn = state.db.acquire().await?;
    if let Some(workflow_id) = filter.workflow_id {
        if !workflow_visible(conn.conn(), principal, workflow_id).await? {
            return Ok((Vec::new(), count.then_some(0)));
        }
    }
    let filter = Filter {
        member: access::visible_to(principal),
        ..filter
    };
    let rows = repo::list(conn.conn(), &filter, before_id, fetch_limit).await?;
    let total = if count {
        Some(repo::count(conn.conn(), &filter).await?)
    } else {
        None
    };
    Ok((rows, total))
}

/// One execution the caller can see, with the workflow as it ran when `with_workflow`.
pub async fn read(
    state: &AppState,
    principal: &Principal,
    id: &Named<ExecutionId>,
    with_workflow: bool,
) -> Result<(ExecutionRow, Option<Box<RawValue>>)> {
    let mut conn = state.db.acquire().await?;
    let row = visible(conn.conn(), principal, id, false).await?;
    let snapshot = if with_workflow {
        workflow_data(conn.conn(), &row).await?
    } else {
        None
    };
    Ok((row, snapshot))
}

/// Cancels a run in progress; answers the execution as it is once stopped.
pub async fn stop(
    state: &AppState,
    principal: &Principal,
    id: &Named<ExecutionId>,
) -> Result<ExecutionRow> {
    let mut tx = state.db.begin().await?;
    let row = visible(tx.conn(), principal, id, true).await?;
    if !repo::cancel(tx.conn(), row.id, &now_iso()).await? {
        return Err(ApiError::conflict(format!(
            "Execution {} is not running and cannot be stopped",
            row.id
        )));
    }
    let row = repo::find(tx.conn(), row.id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    state.engine.cancel(row.id);
    Ok(row)
}

/// Which runs a bulk stop cancels (the statuses as stored: `new`, `running`, `waiting`).
pub struct StopMany<'a> {
    pub statuses: &'a [String],
    pub workflow_id: Option<&'a str>,
    pub started_after: Option<&'a str>,
    pub started_before: Option<&'a str>,
}

/// Cancels every run the caller may change that matches; answers how many.
#[tracing::instrument(skip_all, fields(workflow.id = ?stop.workflow_id))]
pub async fn stop_many(state: &AppState, principal: &Principal, stop: StopMany<'_>) -> Result<u64> {
    let mut tx = state.db.begin().await?;
    if let Some(workflow_id) = stop.workflow_id {
        let missing = || ApiError::not_found("Workflow not found or not accessible");
        let workflow = if is_plausible_id(workflow_id) {
            workflows::find(tx.conn(), workflow_id).await?
        } else {
            None
        };
        let workflow = workflow.ok_or_else(missing)?;
        if !access::project_access(tx.conn(), principal, &workflow.project_id)
            .await?
            .is_some_and(|a| a.can_write())
        {
            return Err(missing());
        }
    }
    let filter = Filter {
        member: access::visible_to(principal),
        statuses: Some(stop.statuses),
        workflow_id: stop.workflow_id,
        project_id: None,
        started_after: stop.started_after,
        started_before: stop.started_before,
        exclude_running: false,
    };
    let stopped = repo::cancel_matching(tx.conn(), &filter, &now_iso()).await?;
    tx.commit().await?;
    Ok(stopped)
}

/// A finished retry: the execution retried, the run that retried it, and its stored record.
pub struct Retry {
    pub original: ExecutionRow,
    pub ended: Ended,
    pub stored: Option<ExecutionRow>,
}

/// Runs a failed execution again from the node that failed (n8n waits for the new run to end
/// before answering).
pub async fn retry(
    state: &AppState,
    principal: &Principal,
    id: &Named<ExecutionId>,
    load_workflow: bool,
) -> Result<Retry> {
    let original = {
        let mut conn = state.db.acquire().await?;
        visible(conn.conn(), principal, id, true).await?
    };
    let ended = match state.engine.retry(original.id, load_workflow).await? {
        Ok(ended) => ended,
        Err(RetryRefusal::Missing(message)) => return Err(ApiError::not_found(message)),
        Err(RetryRefusal::Conflict(message)) => return Err(ApiError::conflict(message)),
    };
    let mut conn = state.db.acquire().await?;
    let stored = repo::find(conn.conn(), ended.id).await?;
    Ok(Retry {
        original,
        ended,
        stored,
    })
}

fn raw(text: &str) -> Option<Box<RawValue>> {
    RawValue::from_string(text.to_owned()).ok()
}

/// The workflow as it ran: the stored snapshot, or the workflow's row with the version the
/// execution ran (the engine keeps versions rather than a copy per execution).
pub async fn workflow_data(conn: Conn<'_>, row: &ExecutionRow) -> Result<Option<Box<RawValue>>> {
    if let Some(text) = row.workflow_data.as_deref() {
        return Ok(raw(text));
    }
    let Some(version_id) = row.workflow_version_id.as_deref() else {
        return Ok(None);
    };
    let mut conn = conn;
    let Some(workflow) = workflows::find(conn.reborrow(), &row.workflow_id).await? else {
        return Ok(None);
    };
    let Some(version) = workflows::find_version(conn, &row.workflow_id, version_id).await? else {
        return Ok(None);
    };
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    let snapshot = json!({
        "id": workflow.id,
        "name": workflow.name,
        "active": workflow.active,
        "activeVersionId": workflow.active_version_id,
        "isArchived": workflow.is_archived,
        "createdAt": workflow.created_at,
        "updatedAt": workflow.updated_at,
        "nodes": parse(&version.nodes),
        "connections": parse(&version.connections),
        "settings": parse(&workflow.settings),
        "staticData": workflow.static_data.as_deref().map(parse),
        "pinData": workflow.pin_data.as_deref().map(parse),
    });
    Ok(raw(&snapshot.to_string()))
}
