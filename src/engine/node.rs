//! What a node is to the engine: a type that turns its input items into output items, the
//! view of the run it gets while it does so ([`NodeRun`]), and the errors it can fail with,
//! serialised the way n8n stores them.
//!
//! Parameters are read lazily, one at a time, and evaluated for one item: n8n evaluates a
//! parameter only when the node asks for it, so an expression in a field the current mode does
//! not use never runs (and never fails the node).

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::data::{Connections, Item, JsonObject, PairedItem, PairedItems, RunData, SourceData};
use super::run::RunEnv;
use super::workflow::{Node, OnError, Workflow};
use crate::expression::{Context, ExpressionError};

/// A node type the engine can run (one implementation may serve several type versions).
#[async_trait]
pub trait NodeType: Send + Sync {
    /// How many main outputs the node has with these parameters (If: 2; Switch: one per rule).
    fn outputs(&self, _node: &Node) -> usize {
        1
    }

    /// How many main inputs the node has (Merge: 2 or more).
    fn inputs(&self, _node: &Node) -> usize {
        1
    }

    /// Which inputs must have arrived before a waiting multi-input node may run when the
    /// stack is empty (`v1` order only; n8n's `requiredInputs`).
    fn required_inputs(&self, _node: &Node) -> RequiredInputs {
        RequiredInputs::Any
    }

    /// Whether the node starts executions (its input is the trigger's data, passed through).
    fn is_trigger(&self) -> bool {
        false
    }

    /// Why this node, with these parameters, cannot run here (checked at publish): a mode of
    /// a supported type that is not built, e.g. a Code node in Python.
    fn refusal(&self, _node: &Node) -> Option<String> {
        None
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError>;
}

/// n8n's `requiredInputs` of a multi-input node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequiredInputs {
    /// Runs with whatever arrived.
    Any,
    /// At least this many inputs must have data.
    Count(usize),
    /// These inputs must have data.
    Indexes(Vec<usize>),
}

/// What a node run produced.
#[derive(Debug)]
pub enum Outcome {
    /// Items per output; an empty output ends that branch.
    Output(Vec<Vec<Item>>),
    /// No output at all (n8n's `null`): the node is recorded, nothing follows.
    Nothing,
    /// The execution pauses here until `till` (or until resumed by its webhook, when `till`
    /// is n8n's far-future date).
    Wait { till: chrono::DateTime<chrono::Utc> },
}

impl Outcome {
    pub fn single(items: Vec<Item>) -> Outcome {
        Outcome::Output(vec![items])
    }
}

/// A node's failure, in n8n's two kinds. The rarely used parts are boxed, so a `Result`
/// carrying one stays small on the hot path.
#[derive(Clone, Debug)]
pub struct NodeError {
    /// `NodeOperationError` (the node's own rule failed) or `NodeApiError` (a remote service).
    pub name: &'static str,
    pub message: String,
    pub details: Box<ErrorDetails>,
}

/// What an error may say beyond its message.
#[derive(Clone, Debug, Default)]
pub struct ErrorDetails {
    pub description: Option<String>,
    /// The item being processed, when the failure belongs to one.
    pub item_index: Option<usize>,
    /// For API errors: the remote status.
    pub http_code: Option<String>,
    /// `context` entries n8n shows (e.g. `itemIndex`).
    pub context: JsonObject,
    /// The underlying errors' own messages (n8n's `messages`, e.g. `404 - "{...}"`).
    pub messages: Vec<String>,
    /// Set for errors n8n stores as plain application errors (the Code node's): no name,
    /// node or timestamp, but the line of the code that failed.
    pub application: Option<ApplicationError>,
}

/// What an application error adds: the line of the user's code and the error's first line.
#[derive(Clone, Debug, Default)]
pub struct ApplicationError {
    pub line_number: Option<u64>,
    /// `Type: message` of the underlying error (n8n stores its JavaScript stack).
    pub stack: String,
}

impl NodeError {
    pub fn operation(message: impl Into<String>) -> NodeError {
        NodeError {
            name: "NodeOperationError",
            message: message.into(),
            details: Box::default(),
        }
    }

    pub fn api(message: impl Into<String>, http_code: Option<String>) -> NodeError {
        let mut error = NodeError::operation(message);
        error.name = "NodeApiError";
        error.details.http_code = http_code;
        error
    }

    pub fn with_description(mut self, description: impl Into<String>) -> NodeError {
        self.details.description = Some(description.into());
        self
    }

    pub fn at_item(mut self, index: usize) -> NodeError {
        self.details.item_index = Some(index);
        self.details
            .context
            .insert("itemIndex".into(), json!(index));
        self
    }

    /// The error as n8n stores it in `runData[node][run].error` and `resultData.error`.
    pub fn to_json(&self, node: &Node, now_ms: i64) -> Value {
        if let Some(application) = &self.details.application {
            return self.application_json(application);
        }
        let mut error = json!({
            "level": "warning",
            "tags": {},
            "timestamp": now_ms,
            "context": self.details.context,
            "functionality": "regular",
            "name": self.name,
            "node": node.raw,
            "messages": self.details.messages,
            "message": self.message,
            // n8n stores a JavaScript stack; ours names the error without host paths.
            "stack": format!("{}: {}", self.name, self.message),
        });
        if let Some(description) = &self.details.description {
            error["description"] = json!(description);
        }
        if let Some(code) = &self.details.http_code {
            error["httpCode"] = json!(code);
        }
        error
    }
}

impl NodeError {
    /// A plain application error, in n8n's key order.
    fn application_json(&self, application: &ApplicationError) -> Value {
        let mut error = serde_json::Map::new();
        error.insert("level".into(), json!("error"));
        error.insert("tags".into(), json!({}));
        error.insert("description".into(), json!(self.details.description));
        if let Some(index) = self.details.item_index {
            error.insert("itemIndex".into(), json!(index));
            error.insert("context".into(), json!({ "itemIndex": index }));
        }
        if let Some(line) = application.line_number {
            error.insert("lineNumber".into(), json!(line));
        }
        error.insert("message".into(), json!(self.message));
        error.insert("stack".into(), json!(application.stack));
        Value::Object(error)
    }
}

impl From<ExpressionError> for NodeError {
    fn from(e: ExpressionError) -> NodeError {
        let mut error = NodeError::operation(e.message);
        error.name = "ExpressionError";
        error.details.description = e.description;
        error
    }
}

/// The view of the run a node gets while it runs.
pub struct NodeRun<'a> {
    pub node: &'a Node,
    pub workflow: &'a Workflow,
    /// Every input, each item linked to its own index (as n8n rewrites them before a run).
    pub input: &'a Connections,
    /// The items expressions see as `$input` / `$json` (input 0, or for `v1` order the first
    /// input that has items).
    pub items: &'a [Item],
    pub source: &'a [Option<SourceData>],
    pub run_index: usize,
    pub run_data: &'a RunData,
    pub env: &'a Arc<RunEnv>,
    /// The node's own context in this execution (n8n's `getContext('node')`): what it keeps
    /// between its runs, e.g. the items Loop Over Items has still to hand out.
    pub context: &'a std::sync::Mutex<JsonObject>,
}

impl NodeRun<'_> {
    /// The expression context for item `item_index`.
    pub fn context(&self, item_index: usize) -> Context<'_> {
        Context {
            workflow: self.workflow,
            run_data: self.run_data,
            node: self.node,
            input: self.items,
            source: self.source,
            item_index,
            run_index: self.run_index,
            execution: &self.env.execution,
            vars: &self.env.vars,
            env: self.env.env_access(),
            now: self.env.now(),
            timezone: &self.env.timezone,
            additional: None,
        }
    }

    /// The raw (unevaluated) parameter at a dotted path (`options.responseCode`).
    pub fn raw_param(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let first = parts.next()?;
        let mut current = self.node.parameters.get(first)?;
        for part in parts {
            current = current.get(part)?;
        }
        Some(current)
    }

    /// The parameter at `path`, evaluated for item `item_index`; `None` when absent.
    pub fn param_value(&self, path: &str, item_index: usize) -> Result<Option<Value>, NodeError> {
        match self.raw_param(path) {
            None => Ok(None),
            Some(raw) => Ok(Some(self.eval(raw, item_index)?)),
        }
    }

    /// Evaluates any parameter value (or part of one) for item `item_index`.
    pub fn eval(&self, raw: &Value, item_index: usize) -> Result<Value, NodeError> {
        if !contains_expression(raw) {
            return Ok(raw.clone());
        }
        let context = self.context(item_index);
        self.env
            .expressions
            .resolve(raw, &context)
            .map_err(|e| NodeError::from(e).at_item(item_index))
    }

    /// As [`NodeRun::eval`], with variables only this node offers (`$response`, ...).
    pub fn eval_with(
        &self,
        raw: &Value,
        item_index: usize,
        additional: &JsonObject,
    ) -> Result<Value, NodeError> {
        if !contains_expression(raw) {
            return Ok(raw.clone());
        }
        let mut context = self.context(item_index);
        context.additional = Some(additional);
        self.env
            .expressions
            .resolve(raw, &context)
            .map_err(|e| NodeError::from(e).at_item(item_index))
    }

    /// The parameter at `path` for item `item_index`, read as `T`, or `default` when absent.
    pub fn param<T: DeserializeOwned>(
        &self,
        path: &str,
        item_index: usize,
        default: T,
    ) -> Result<T, NodeError> {
        match self.param_value(path, item_index)? {
            None | Some(Value::Null) => Ok(default),
            Some(value) => from_param(path, value),
        }
    }

    /// A string parameter; numbers and booleans are written as text, as n8n does.
    pub fn param_str(
        &self,
        path: &str,
        item_index: usize,
        default: &str,
    ) -> Result<String, NodeError> {
        Ok(match self.param_value(path, item_index)? {
            None | Some(Value::Null) => default.to_owned(),
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
        })
    }

    /// A boolean parameter; `"true"`/`"false"` from an expression count.
    pub fn param_bool(
        &self,
        path: &str,
        item_index: usize,
        default: bool,
    ) -> Result<bool, NodeError> {
        Ok(match self.param_value(path, item_index)? {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => b,
            Some(Value::String(s)) if s == "true" => true,
            Some(Value::String(s)) if s == "false" => false,
            Some(other) => {
                return Err(NodeError::operation(format!(
                    "The parameter \"{path}\" must be a boolean, got {other}"
                )))
            }
        })
    }

    /// A number parameter; numeric text from an expression counts.
    pub fn param_f64(&self, path: &str, item_index: usize, default: f64) -> Result<f64, NodeError> {
        Ok(match self.param_value(path, item_index)? {
            None | Some(Value::Null) => default,
            Some(Value::Number(n)) => n.as_f64().unwrap_or(default),
            Some(Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
                s.trim().parse::<f64>().unwrap_or(default)
            }
            Some(other) => {
                return Err(NodeError::operation(format!(
                    "The parameter \"{path}\" must be a number, got {other}"
                )))
            }
        })
    }

    /// The decrypted credential of type `kind` the node refers to (`credentials.<kind>.id`),
    /// if the workflow's project may use it. Never store what this answers in items or errors.
    pub async fn credentials(&self, kind: &str) -> Result<JsonObject, NodeError> {
        let id = self
            .node
            .credentials
            .get(kind)
            .and_then(|reference| reference.get("id"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                // n8n's HTTP Request may use any credential and says this; other nodes
                // declare theirs and name the type.
                NodeError::operation(if self.node.kind == super::nodes::HTTP_REQUEST {
                    "Credentials not found".to_owned()
                } else {
                    format!("Node does not have any credentials set for \"{kind}\"!")
                })
            })?;
        let services = self
            .env
            .services
            .as_ref()
            .ok_or_else(|| NodeError::operation("Credentials are not available in this run"))?;
        services
            .credential(self.workflow.project_id.as_deref(), kind, id)
            .await
    }

    /// Whether the node turns item failures into output items (`continueOnFail` /
    /// `onError: continue...`), as n8n nodes check with `continueOnFail()`.
    pub fn continue_on_fail(&self) -> bool {
        self.node.on_error() != OnError::StopWorkflow
    }

    /// The node's type version.
    pub fn version(&self) -> f64 {
        self.node.type_version
    }

    /// Runs `each` over every input item; a failing item becomes an `{error}` item when the
    /// node continues on failure, otherwise the node fails with that item's error.
    pub fn per_item(
        &self,
        mut each: impl FnMut(usize, &Item) -> Result<Vec<Item>, NodeError>,
    ) -> Result<Vec<Item>, NodeError> {
        let mut out = Vec::with_capacity(self.items.len());
        for (index, item) in self.items.iter().enumerate() {
            match each(index, item) {
                Ok(items) => out.extend(items),
                Err(error) if self.continue_on_fail() => out.push(error_item(&error, index)),
                Err(error) => {
                    return Err(if error.details.item_index.is_none() {
                        error.at_item(index)
                    } else {
                        error
                    })
                }
            }
        }
        Ok(out)
    }
}

/// The item a node puts out for a failed input item when it continues on failure.
pub fn error_item(error: &NodeError, index: usize) -> Item {
    let mut json = JsonObject::new();
    json.insert("error".into(), Value::String(error.message.clone()));
    Item {
        json,
        paired_item: Some(PairedItems::One(PairedItem::new(index))),
        ..Item::default()
    }
}

/// Reads an evaluated parameter as `T`, naming the parameter when it has the wrong shape.
pub fn from_param<T: DeserializeOwned>(path: &str, value: Value) -> Result<T, NodeError> {
    serde_json::from_value(value).map_err(|e| {
        NodeError::operation(format!(
            "The parameter \"{path}\" has an unexpected value: {e}"
        ))
    })
}

/// Whether a parameter value holds an expression anywhere (a string starting with `=`).
pub fn contains_expression(value: &Value) -> bool {
    match value {
        Value::String(s) => s.starts_with('='),
        Value::Array(list) => list.iter().any(contains_expression),
        Value::Object(map) => map.values().any(contains_expression),
        _ => false,
    }
}
