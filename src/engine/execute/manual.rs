//! Manual runs (n8n's "Execute workflow" in the editor): the caller gets the execution's id as
//! soon as its row is written, and the run goes on in its own task, as in n8n, where the editor
//! then follows the execution.

use super::*;
use crate::engine::nodes::{MANUAL, START};
use crate::engine::workflow::Node;

/// Why a manual run cannot start from the workflow as it is.
pub const NO_MANUAL_START: &str = "This workflow has no trigger to start a manual run from: \
     add a Manual Trigger, or pin data to a trigger (this server has no test webhooks; call a \
     published webhook at its production URL instead)";

impl Engine {
    /// The trigger a manual run of `workflow` starts from: `requested` when given, else the
    /// first enabled Manual Trigger, else the first enabled trigger with pinned data. Other
    /// triggers would wait for an outside event (n8n's test webhooks and listeners), which this
    /// server does not offer, so they are refused with the reason.
    pub fn manual_start(
        &self,
        workflow: &Workflow,
        requested: Option<&str>,
    ) -> Result<String, ApiError> {
        let pinned = |name: &str| {
            workflow
                .pin_data
                .get(name)
                .and_then(Value::as_array)
                .is_some_and(|items| !items.is_empty())
        };
        let startable =
            |node: &Node| node.kind == MANUAL || node.kind == START || pinned(&node.name);
        if let Some(name) = requested {
            let node = workflow.node(name).ok_or_else(|| {
                ApiError::bad_request(format!("The node \"{name}\" is not in the workflow"))
            })?;
            if node.disabled {
                return Err(ApiError::bad_request(format!(
                    "The node \"{name}\" is disabled"
                )));
            }
            if !startable(node) {
                return Err(ApiError::bad_request(NO_MANUAL_START));
            }
            return Ok(node.name.clone());
        }
        let enabled = || workflow.nodes.iter().filter(|n| !n.disabled);
        let is_trigger = |node: &Node| self.registry().get(node).is_some_and(|t| t.is_trigger());
        enabled()
            .find(|n| n.kind == MANUAL || n.kind == START)
            .or_else(|| enabled().find(|n| is_trigger(n) && pinned(&n.name)))
            .map(|n| n.name.clone())
            .ok_or_else(|| ApiError::bad_request(NO_MANUAL_START))
    }

    /// Starts a manual execution of `workflow` at its node `start` with one empty item (what a
    /// Manual Trigger emits; a trigger with pinned data gives its pinned items instead) and
    /// answers the new execution's id.
    pub async fn start_manual(
        &self,
        workflow: Arc<Workflow>,
        start: &str,
    ) -> Result<i64, ApiError> {
        let Some(node) = workflow.node(start).cloned() else {
            return Err(ApiError::bad_request(format!(
                "The node \"{start}\" is not in the workflow"
            )));
        };
        // Manual runs are not production runs: no concurrency slot, never queued.
        let id = self
            .insert(&workflow, Mode::Manual, None, "running", None)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the execution did not start")))?;
        let env = self.env(&workflow, id, Mode::Manual, None);
        let input = Connections::single(vec![Item::new(JsonObject::new())]);
        let mut run = Run::start(workflow, env, &node, input);
        let engine = self.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.drive(id, &mut run, Mode::Manual, None).await {
                tracing::warn!(error = %e, execution.id = id, "a manual run could not be recorded");
            }
        });
        Ok(id)
    }
}
