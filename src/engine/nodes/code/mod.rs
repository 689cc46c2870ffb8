//! Code (`n8n-nodes-base.code`) and the legacy Function / Function Item nodes: the node's
//! JavaScript runs in the embedded QuickJS of the expression engine, in a fresh scope per
//! run, on a blocking thread, under the Code node's time and memory limits
//! (`N8N_RUNNERS_TASK_TIMEOUT`, `N8N_RUNNERS_MAX_OLD_SPACE_SIZE`).
//!
//! What the code sees and what it may return follow n8n's task runner: the expression
//! variables (`$input`, `$json`, `$('Node')`, `$now`, ...), `items` / `item`, `console`,
//! timers, a small `Buffer` and n8n's binary helpers on `this.helpers` (`getBinaryDataBuffer`,
//! `assertBinaryData`, `binaryToString`, `prepareBinaryData`); no module can be required, and
//! there is no `process`, `fetch`, file system or network. Python is refused at publish.

mod errors;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::Registry;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};
use crate::engine::workflow::Node;
use crate::expression::code::CodeMode;

pub const CODE: &str = "n8n-nodes-base.code";
pub const FUNCTION: &str = "n8n-nodes-base.function";
pub const FUNCTION_ITEM: &str = "n8n-nodes-base.functionItem";

/// Which of the three nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Code,
    Function,
    FunctionItem,
}

struct Script(Kind);

/// What the legacy nodes run when their code parameter is missing: n8n's default adds
/// `myNewField: 1` to each item.
const FUNCTION_DEFAULT: &str =
    "for (const each of items) {\n  each.json.myNewField = 1;\n}\nreturn items;";
const FUNCTION_ITEM_DEFAULT: &str = "item.myNewField = 1;\nreturn item;";

/// The Code node's language: JavaScript unless a version-2 node says otherwise.
fn language(node: &Node) -> &str {
    if node.type_version < 2.0 {
        return "javaScript";
    }
    node.parameters
        .get("language")
        .and_then(Value::as_str)
        .unwrap_or("javaScript")
}

#[async_trait]
impl NodeType for Script {
    fn refusal(&self, node: &Node) -> Option<String> {
        if self.0 != Kind::Code {
            return None;
        }
        match language(node) {
            "javaScript" => None,
            "python" | "pythonNative" => Some(
                "Python Code nodes cannot run on this server; only JavaScript is supported"
                    .to_owned(),
            ),
            other => Some(format!(
                "the language \"{other}\" is not supported; only JavaScript is"
            )),
        }
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let (mode, code) = match self.0 {
            Kind::Code => {
                if let Some(reason) = self.refusal(run.node) {
                    return Err(NodeError::operation(reason));
                }
                let mode = match run
                    .raw_param("mode")
                    .and_then(Value::as_str)
                    .unwrap_or("runOnceForAllItems")
                {
                    "runOnceForAllItems" => CodeMode::All,
                    "runOnceForEachItem" => CodeMode::Each,
                    other => {
                        return Err(NodeError::operation(format!(
                            "The mode \"{other}\" is not known; use \"runOnceForAllItems\" or \"runOnceForEachItem\""
                        )))
                    }
                };
                // `jsCode` takes no expression in n8n: it is the code as written.
                let code = run
                    .raw_param("jsCode")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if code.is_empty() {
                    return Err(errors::no_code());
                }
                (mode, code)
            }
            Kind::Function => (
                CodeMode::Function,
                run.raw_param("functionCode")
                    .and_then(Value::as_str)
                    .unwrap_or(FUNCTION_DEFAULT),
            ),
            Kind::FunctionItem => (
                CodeMode::FunctionItem,
                run.raw_param("functionCode")
                    .and_then(Value::as_str)
                    .unwrap_or(FUNCTION_ITEM_DEFAULT),
            ),
        };
        let binary_bytes = if code.contains("getBinaryDataBuffer") {
            stored_bytes(run).await?
        } else {
            None
        };
        let prepared = {
            let context = run.context(0);
            run.env
                .expressions
                .prepare_code(
                    code,
                    mode,
                    run.continue_on_fail(),
                    &context,
                    binary_bytes.as_ref(),
                )
                .map_err(NodeError::from)?
        };
        let items = prepared
            .run(run.env.code, run.env.cancel.clone())
            .await
            .map_err(|failure| errors::to_node_error(failure, self.0 != Kind::Code))?;
        Ok(Outcome::single(items))
    }
}

/// The base64 text of the input items' binary entries kept in the binary data store, by
/// item index and property (inline entries carry theirs already); `None` when there are none.
async fn stored_bytes(run: &NodeRun<'_>) -> Result<Option<Value>, NodeError> {
    let mut by_item = serde_json::Map::new();
    for (index, item) in run.input.items(0).iter().enumerate() {
        let Some(binary) = &item.binary else {
            continue;
        };
        if !binary.values().any(|entry| entry.get("id").is_some()) {
            continue;
        }
        let inlined = crate::engine::binary::inline_item(run, item).await?;
        let mut by_property = serde_json::Map::new();
        for (property, entry) in inlined.binary.iter().flatten() {
            if let Some(data) = entry.get("data").filter(|_| entry.get("id").is_some()) {
                by_property.insert(property.clone(), data.clone());
            }
        }
        by_item.insert(index.to_string(), Value::Object(by_property));
    }
    Ok((!by_item.is_empty()).then_some(Value::Object(by_item)))
}

pub fn register(registry: &mut Registry) {
    registry.add(CODE, &[1.0, 2.0], Arc::new(Script(Kind::Code)));
    registry.add(FUNCTION, &[1.0], Arc::new(Script(Kind::Function)));
    registry.add(FUNCTION_ITEM, &[1.0], Arc::new(Script(Kind::FunctionItem)));
}
