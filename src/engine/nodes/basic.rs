//! The simplest nodes: No Operation (passes items on) and Stop and Error (fails the run with
//! a message or an error object).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::Registry;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};

struct NoOp;

#[async_trait]
impl NodeType for NoOp {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        Ok(Outcome::single(run.input.items(0).to_vec()))
    }
}

struct StopAndError;

#[async_trait]
impl NodeType for StopAndError {
    fn outputs(&self, _node: &crate::engine::workflow::Node) -> usize {
        0
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let kind = run.param_str("errorType", 0, "errorMessage")?;
        if kind == "errorMessage" {
            return Err(NodeError::operation(run.param_str(
                "errorMessage",
                0,
                "",
            )?));
        }
        let object = match run.param_value("errorObject", 0)? {
            Some(Value::String(text)) => serde_json::from_str::<Value>(&text)
                .map_err(|_| NodeError::operation("The error object is not valid JSON"))?,
            Some(value) => value,
            None => Value::Object(Default::default()),
        };
        let text = |key: &str| {
            object
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let message = text("message")
            .or_else(|| text("description"))
            .or_else(|| text("error"))
            .unwrap_or_else(|| format!("Error: {object}"));
        let mut error = NodeError::operation(message);
        error.details.description = text("description");
        Err(error)
    }
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.noOp", &[1.0], Arc::new(NoOp));
    registry.add(
        "n8n-nodes-base.stopAndError",
        &[1.0],
        Arc::new(StopAndError),
    );
}
