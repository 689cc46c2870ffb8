//! n8n expressions (`={{ ... }}`): the interface the engine evaluates parameters through.
//!
//! A parameter string starting with `=` is an expression: literal text with `{{ code }}`
//! blocks of JavaScript ([`template`]). Plain property paths are answered in Rust ([`fast`]);
//! everything else runs in an embedded QuickJS ([`js`]) that has Luxon, jmespath, n8n's `$`
//! variables and extension functions, under a time and memory limit, and sees only the part
//! of the run the expression mentions ([`scope`], [`lineage`]). The Code node's JavaScript
//! runs in the same runtime with the same variables ([`code`]).

pub mod code;
mod fast;
mod host;
mod js;
mod lineage;
mod scope;
mod template;

use std::time::Duration;

use serde_json::Value;

use crate::engine::data::{Item, JsonObject, RunData, SourceData};
use crate::engine::workflow::{Node, Workflow};
use template::{Chunk, Template};

/// Limits on one evaluation.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_expression_length: usize,
    /// How long one evaluation may run (n8n: 5 s).
    pub timeout: Duration,
    /// How much memory the JavaScript runtime may hold during one evaluation (n8n: 128 MB).
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_expression_length: 64 * 1024,
            timeout: Duration::from_secs(5),
            memory_bytes: 128 * 1024 * 1024,
        }
    }
}

/// What an expression may know about the execution it runs in.
#[derive(Clone, Debug, Default)]
pub struct ExecutionInfo {
    pub id: String,
    pub mode: String,
    pub resume_url: String,
    pub custom_data: CustomData,
}

/// The execution's custom data (`$execution.customData`): expressions of every node of the
/// run read and write the same map, which the run keeps in `resultData.metadata`.
#[derive(Clone, Debug, Default)]
pub struct CustomData(std::sync::Arc<std::sync::Mutex<JsonObject>>);

impl CustomData {
    pub fn new(values: JsonObject) -> CustomData {
        CustomData(std::sync::Arc::new(std::sync::Mutex::new(values)))
    }

    /// A copy of the values.
    pub fn snapshot(&self) -> JsonObject {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the values (with what an expression left).
    pub fn replace(&self, values: JsonObject) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = values;
    }
}

/// Whether `$env` may be read.
#[derive(Clone, Copy, Debug)]
pub enum EnvAccess<'a> {
    Blocked,
    Allowed(&'a std::collections::HashMap<String, String>),
}

/// Everything an expression can see, for one item of one node.
pub struct Context<'a> {
    pub workflow: &'a Workflow,
    pub run_data: &'a RunData,
    pub node: &'a Node,
    pub input: &'a [Item],
    pub source: &'a [Option<SourceData>],
    pub item_index: usize,
    pub run_index: usize,
    pub execution: &'a ExecutionInfo,
    pub vars: &'a JsonObject,
    pub env: EnvAccess<'a>,
    pub now: chrono::DateTime<chrono::Utc>,
    pub timezone: &'a str,
    /// Variables a node offers its own expressions only (n8n's additional keys), e.g. the
    /// HTTP Request node's `$response` and `$pageCount` while it paginates.
    pub additional: Option<&'a JsonObject>,
}

/// An expression that could not be evaluated, in n8n's words.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpressionError {
    pub message: String,
    pub description: Option<String>,
}

impl ExpressionError {
    pub(crate) fn new(message: impl Into<String>) -> ExpressionError {
        ExpressionError {
            message: message.into(),
            description: None,
        }
    }

    pub(crate) fn with_description(
        message: impl Into<String>,
        description: impl Into<String>,
    ) -> ExpressionError {
        ExpressionError {
            message: message.into(),
            description: Some(description.into()),
        }
    }
}

impl std::fmt::Display for ExpressionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Evaluates n8n expressions; cheap to clone, shared by the whole server.
#[derive(Clone, Debug, Default)]
pub struct Expressions {
    limits: Limits,
}

impl Expressions {
    pub fn new(limits: Limits) -> Expressions {
        Expressions { limits }
    }

    /// A parameter value as stored in a node, with its expressions evaluated.
    pub fn resolve(&self, value: &Value, ctx: &Context<'_>) -> Result<Value, ExpressionError> {
        match value {
            Value::String(s) => match s.strip_prefix('=') {
                Some(expression) => self.evaluate(expression, ctx),
                None => Ok(value.clone()),
            },
            Value::Array(list) => list
                .iter()
                .map(|v| self.resolve(v, ctx))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (k, v) in map {
                    out.insert(k.clone(), self.resolve(v, ctx)?);
                }
                Ok(Value::Object(out))
            }
            _ => Ok(value.clone()),
        }
    }

    fn evaluate(&self, text: &str, ctx: &Context<'_>) -> Result<Value, ExpressionError> {
        if text.len() > self.limits.max_expression_length {
            return Err(ExpressionError::new(format!(
                "The expression is too long ({} characters; at most {} are allowed)",
                text.len(),
                self.limits.max_expression_length
            )));
        }
        let template = Template::parse(text);
        if !template.has_code() {
            return Ok(Value::String(
                template
                    .chunks
                    .iter()
                    .map(|c| match c {
                        Chunk::Text(t) | Chunk::Code(t) => t.as_str(),
                    })
                    .collect(),
            ));
        }
        if let Some(value) = fast_path(&template, ctx) {
            return Ok(value);
        }
        self.evaluate_js(&template, ctx)
    }

    fn evaluate_js(
        &self,
        template: &Template,
        ctx: &Context<'_>,
    ) -> Result<Value, ExpressionError> {
        #[derive(serde::Serialize)]
        struct Request<'r> {
            chunks: &'r [Chunk],
            data: scope::Data<'r>,
        }
        let needs = scope::Needs::scan(template);
        let mut data = scope::data(ctx, &needs);
        if template.codes().any(|code| code.contains("$parameter")) {
            data.resolved_parameters = Some(self.resolve_parameters(ctx));
        }
        let request = Request {
            chunks: &template.chunks,
            data,
        };
        let request = serde_json::to_string(&request).map_err(|e| {
            ExpressionError::new(format!(
                "The run's data could not be handed to the expression: {e}"
            ))
        })?;
        let limits = js::JsLimits {
            timeout: self.limits.timeout,
            memory_bytes: self.limits.memory_bytes,
        };
        let answer = js::evaluate(&request, limits).map_err(|failure| match failure {
            js::JsFailure::TimedOut => ExpressionError::with_description(
                "The expression took too long to evaluate",
                format!(
                    "Expressions may run for at most {} ms",
                    self.limits.timeout.as_millis()
                ),
            ),
            js::JsFailure::OutOfMemory => ExpressionError::with_description(
                "The expression used too much memory",
                format!(
                    "Expressions may use at most {} MB",
                    self.limits.memory_bytes / (1024 * 1024)
                ),
            ),
            js::JsFailure::Internal(message) => {
                tracing::warn!(%message, "expression runtime failed");
                ExpressionError::new("The expression could not be evaluated")
            }
            // Only Code node runs are stopped from outside or wait for promises.
            js::JsFailure::Canceled | js::JsFailure::NeverSettled => {
                ExpressionError::new("The expression could not be evaluated")
            }
        })?;
        read_answer(&answer, &ctx.execution.custom_data)
    }
}

thread_local! {
    /// How deep `$parameter` resolution is nested on this thread (a parameter whose
    /// expression reads `$parameter` again).
    static PARAMETER_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Expressions {
    /// `$parameter.name` gives the value of the current node's top-level parameters with
    /// their expressions evaluated for the same item, as n8n does; a parameter that is just
    /// `={{ $parameter.name }}` of itself, or nesting deeper than three, stays unevaluated.
    fn resolve_parameters(&self, ctx: &Context<'_>) -> JsonObject {
        let depth = PARAMETER_DEPTH.with(|d| d.get());
        let mut resolved = JsonObject::new();
        if depth >= 3 {
            return resolved;
        }
        PARAMETER_DEPTH.with(|d| d.set(depth + 1));
        for (name, raw) in &ctx.node.parameters {
            let Some(text) = raw.as_str().and_then(|t| t.strip_prefix('=')) else {
                continue;
            };
            if text == format!("{{{{ $parameter.{name} }}}}") {
                continue;
            }
            let outcome = match self.evaluate(text, ctx) {
                Ok(value) => serde_json::json!({ "value": value }),
                Err(e) => {
                    serde_json::json!({"error": {"message": e.message, "description": e.description}})
                }
            };
            resolved.insert(name.clone(), outcome);
        }
        PARAMETER_DEPTH.with(|d| d.set(depth));
        resolved
    }
}

/// Plain paths in every block: answered without JavaScript when certain.
fn fast_path(template: &Template, ctx: &Context<'_>) -> Option<Value> {
    if let Some(code) = template.lone_code() {
        return fast::lookup(code, ctx).cloned();
    }
    let mut text = String::new();
    for chunk in &template.chunks {
        match chunk {
            Chunk::Text(t) => text.push_str(t),
            Chunk::Code(code) => text.push_str(&fast::as_text(fast::lookup(code, ctx)?)?),
        }
    }
    Some(Value::String(text))
}

/// The prelude answers `{"value": v}`, `{"undefined": true}` or `{"error": {...}}`, with
/// `customData` when the expression changed it.
fn read_answer(answer: &str, custom_data: &CustomData) -> Result<Value, ExpressionError> {
    let parsed: Value = serde_json::from_str(answer).map_err(|e| {
        ExpressionError::new(format!("The expression's result could not be read: {e}"))
    })?;
    if let Some(Value::Object(custom)) = parsed.get("customData") {
        custom_data.replace(custom.clone());
    }
    if let Some(error) = parsed.get("error") {
        return Err(ExpressionError {
            message: error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("invalid syntax")
                .to_owned(),
            description: error
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    Ok(parsed.get("value").cloned().unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests;
