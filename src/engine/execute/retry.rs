//! n8n's retry of a failed execution: the stored run data continues from the node that
//! failed, in mode `retry`, linked to the original both ways.

use super::*;

/// Why an execution cannot be retried (n8n answers 409, or 404 when it is missing).
#[derive(Debug)]
pub enum RetryRefusal {
    Missing(String),
    Conflict(String),
}

impl Engine {
    /// Retries a failed execution from where it failed (n8n's retry): the stored run data
    /// without the failed run of the last node, in mode `retry`, linked both ways. With
    /// `load_workflow`, the workflow's current version replaces the nodes on the stack.
    pub async fn retry(
        &self,
        id: i64,
        load_workflow: bool,
    ) -> Result<Result<Ended, RetryRefusal>, ApiError> {
        let row = {
            let mut conn = self.inner().db.acquire().await?;
            repo::find(conn.conn(), id).await?
        };
        let Some(row) = row else {
            return Ok(Err(RetryRefusal::Missing(format!(
                "The execution with the ID \"{id}\" does not exist."
            ))));
        };
        match row.status.as_str() {
            "new" => {
                return Ok(Err(RetryRefusal::Conflict(
                    "Execution is queued to run (not yet started) so it cannot be retried".into(),
                )))
            }
            "running" | "waiting" => {
                return Ok(Err(RetryRefusal::Conflict(format!(
                    "The execution is {} and cannot be retried until it ends",
                    row.status
                ))))
            }
            _ if row.finished || row.status == "success" => {
                return Ok(Err(RetryRefusal::Conflict(
                    "The execution succeeded, so it cannot be retried.".into(),
                )))
            }
            _ => {}
        }
        let mut data: RunExecutionData = match row.data.as_deref().map(serde_json::from_str) {
            Some(Ok(data)) => data,
            _ => {
                return Ok(Err(RetryRefusal::Conflict(
                    "The execution was aborted before starting, so it cannot be retried".into(),
                )))
            }
        };
        if data.execution_data.is_none() {
            return Ok(Err(RetryRefusal::Conflict(
                "The execution was aborted before starting, so it cannot be retried".into(),
            )));
        }
        let workflow = if load_workflow {
            self.runnable(&row.workflow_id).await?
        } else {
            let mut conn = self.inner().db.acquire().await?;
            let version = row.workflow_version_id.clone().unwrap_or_default();
            self.version(conn.conn(), &row.workflow_id, &version)
                .await?
        };
        let Some(workflow) = workflow else {
            return Ok(Err(RetryRefusal::Conflict(
                "Workflow could not be found and so the data not be loaded for the retry.".into(),
            )));
        };
        if let Some(last) = data.result_data.last_node_executed.clone() {
            data.result_data.error = None;
            if let Some(runs) = data.result_data.run_data.get_mut(&last) {
                if runs.last().is_some_and(|r| r.error.is_some()) {
                    runs.pop();
                }
                if runs.is_empty() {
                    data.result_data.run_data.shift_remove(&last);
                }
            }
        }
        data.wait_till = None;
        if let Some(state) = data.execution_data.as_mut() {
            for entry in &mut state.node_execution_stack {
                let name = entry
                    .node
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                match workflow.node(&name) {
                    Some(node) => {
                        if load_workflow {
                            entry.node = node.raw.clone();
                        }
                    }
                    None => {
                        return Ok(Err(RetryRefusal::Conflict(format!(
                            "Could not find the node \"{name}\" in workflow. It probably got deleted or renamed. Without it the workflow can sadly not be retried."
                        ))))
                    }
                }
            }
        }
        let new_id = self
            .insert(&workflow, Mode::Retry, Some(id), "running", None)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the retry did not start")))?;
        let env = self.env(&workflow, new_id, Mode::Retry, None);
        let mut run = Run::resume(workflow, env, data);
        self.drive(new_id, &mut run, Mode::Retry, Some(id))
            .await
            .map(Ok)
    }
}
