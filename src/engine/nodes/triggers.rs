//! Trigger nodes: they start executions, and inside a run they hand on the data their trigger
//! produced (the webhook request, the schedule tick, the caller's items).

use std::sync::Arc;

use async_trait::async_trait;

use super::Registry;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};
use crate::engine::workflow::Node;

/// A trigger inside a run: its outputs are its input, as the trigger prepared it.
struct PassThroughTrigger;

#[async_trait]
impl NodeType for PassThroughTrigger {
    fn outputs(&self, node: &Node) -> usize {
        // A webhook listening to several methods has one output per method.
        node.parameters
            .get("httpMethod")
            .and_then(serde_json::Value::as_array)
            .map_or(1, |methods| methods.len().max(1))
    }

    fn is_trigger(&self) -> bool {
        true
    }

    fn refusal(&self, node: &Node) -> Option<String> {
        (node.kind == WEBHOOK)
            .then(|| crate::engine::webhook::access::refusal(node))
            .flatten()
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        Ok(Outcome::Output(
            run.input
                .main
                .iter()
                .map(|items| items.clone().unwrap_or_default())
                .collect(),
        ))
    }
}

pub const WEBHOOK: &str = "n8n-nodes-base.webhook";
pub const SCHEDULE: &str = "n8n-nodes-base.scheduleTrigger";
pub const CRON: &str = "n8n-nodes-base.cron";
pub const INTERVAL: &str = "n8n-nodes-base.interval";
pub const MANUAL: &str = "n8n-nodes-base.manualTrigger";
pub const EXECUTE_WORKFLOW_TRIGGER: &str = "n8n-nodes-base.executeWorkflowTrigger";
pub const ERROR_TRIGGER: &str = "n8n-nodes-base.errorTrigger";
pub const START: &str = "n8n-nodes-base.start";

pub fn register(registry: &mut Registry) {
    let trigger: Arc<dyn NodeType> = Arc::new(PassThroughTrigger);
    registry.add(WEBHOOK, &[1.0, 1.1, 2.0, 2.1], trigger.clone());
    registry.add(SCHEDULE, &[1.0, 1.1, 1.2, 1.3], trigger.clone());
    registry.add(CRON, &[1.0], trigger.clone());
    registry.add(INTERVAL, &[1.0], trigger.clone());
    registry.add(MANUAL, &[1.0], trigger.clone());
    registry.add(ERROR_TRIGGER, &[1.0], trigger.clone());
    registry.add(START, &[1.0], trigger);
}
