//! n8n expressions (`={{ ... }}`): the interface the engine evaluates parameters through.
//!
//! This first version understands literal text and plain property paths into the current
//! item (`{{ $json.a.b }}`, `{{ $json["x y"] }}`); anything else is refused with an error that
//! says so. The full language replaces it behind the same interface.

use serde_json::Value;

use crate::engine::data::{Item, JsonObject, RunData, SourceData};
use crate::engine::workflow::{Node, Workflow};

/// Limits on one evaluation.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_expression_length: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_expression_length: 64 * 1024,
        }
    }
}

/// What an expression may know about the execution it runs in.
#[derive(Clone, Debug, Default)]
pub struct ExecutionInfo {
    pub id: String,
    pub mode: String,
    pub resume_url: String,
    pub custom_data: JsonObject,
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
}

/// An expression that could not be evaluated, in n8n's words.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpressionError {
    pub message: String,
    pub description: Option<String>,
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
            return Err(error("The expression is too long"));
        }
        let mut parts: Vec<Value> = Vec::new();
        let mut rest = text;
        let mut literal = String::new();
        while let Some(start) = rest.find("{{") {
            literal.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| error("invalid syntax"))?;
            if !literal.is_empty() {
                parts.push(Value::String(std::mem::take(&mut literal)));
            }
            parts.push(path(after[..end].trim(), ctx)?);
            rest = &after[end + 2..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Value::String(literal));
        }
        if parts.len() == 1 && !text.trim_start().starts_with(|c: char| c != '{') {
            return Ok(parts.pop().unwrap_or(Value::Null));
        }
        if parts.len() == 1 && text.starts_with("{{") && text.ends_with("}}") {
            return Ok(parts.pop().unwrap_or(Value::Null));
        }
        Ok(Value::String(
            parts
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect(),
        ))
    }
}

fn error(message: &str) -> ExpressionError {
    ExpressionError {
        message: message.to_owned(),
        description: None,
    }
}

/// `$json.a.b`, `$json["a"]`, or a number, string or boolean literal.
fn path(code: &str, ctx: &Context<'_>) -> Result<Value, ExpressionError> {
    if let Ok(literal) = serde_json::from_str::<Value>(code) {
        return Ok(literal);
    }
    let rest = code
        .strip_prefix("$json")
        .ok_or_else(|| error("this expression is not supported yet"))?;
    let mut current = Value::Object(
        ctx.input
            .get(ctx.item_index)
            .map(|i| i.json.clone())
            .unwrap_or_default(),
    );
    let mut rest = rest;
    while !rest.is_empty() {
        let (key, next) = if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            (r[..end].to_owned(), &r[end..])
        } else if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]").ok_or_else(|| error("invalid syntax"))?;
            (r[..end].to_owned(), &r[end + 2..])
        } else {
            return Err(error("this expression is not supported yet"));
        };
        current = current.get(&key).cloned().unwrap_or(Value::Null);
        rest = next;
    }
    Ok(current)
}
