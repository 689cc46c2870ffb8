//! Manual runs of a workflow's draft (n8n's `POST /rest/workflows/{id}/run`): editors of the
//! workflow's project may start them; pinned data stands in for the nodes it is pinned to.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{visible, Wording};
use crate::access;
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::workflows as repo;
use crate::domain::ids::{Named, WorkflowId};
use crate::error::{ApiError, Result};

/// What the caller asks for besides the workflow: the trigger to start from, and the pinned
/// data to use instead of the saved one (n8n's editor sends its current pins).
#[derive(Default)]
pub struct ManualRun {
    pub trigger: Option<String>,
    pub pin_data: Option<Map<String, Value>>,
}

/// Starts a manual execution of the saved draft of workflow `id` and answers its id; the run
/// goes on after the answer.
#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn run_manually(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
    request: ManualRun,
) -> Result<i64> {
    let (row, version) = {
        let mut conn = state.db.acquire().await?;
        let found = visible(conn.conn(), principal, id, Wording::NotFound).await?;
        // n8n's `workflow:execute` belongs to the project roles that may edit.
        let row = access::writable(found)?;
        let version = repo::find_version(conn.conn(), &row.id, &row.version_id)
            .await?
            .ok_or_else(|| ApiError::not_found("Version not found"))?;
        (row, version)
    };
    if row.is_archived {
        return Err(ApiError::bad_request("Cannot run an archived workflow."));
    }
    let mut workflow =
        crate::engine::parse_version(&row, &version).map_err(ApiError::bad_request)?;
    // A manual run is never the published workflow running (n8n runs it as inactive).
    workflow.active = false;
    if let Some(pins) = request.pin_data {
        workflow.pin_data = pins;
    }
    let unsupported = state.engine.registry().unsupported(&workflow.nodes);
    if !unsupported.is_empty() {
        let names: Vec<String> = unsupported
            .iter()
            .map(|u| format!("\"{}\" ({} version {})", u.name, u.kind, u.version))
            .collect();
        return Err(ApiError::bad_request(format!(
            "This workflow cannot run: this server cannot run the node{} {}",
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        )));
    }
    let start = state
        .engine
        .manual_start(&workflow, request.trigger.as_deref())?;
    state.engine.start_manual(Arc::new(workflow), &start).await
}
