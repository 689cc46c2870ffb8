//! The few JavaScript value rules n8n's comparisons rely on, over JSON values: `typeof`,
//! `String(value)`, truthiness, `===` and the relational operators, and JavaScript regular
//! expressions written as `/pattern/flags`.

use serde_json::Value;

use crate::engine::nodes::types;

/// JavaScript's `typeof` for a JSON value (`null`, lists and objects are all `object`).
pub fn type_of(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null | Value::Array(_) | Value::Object(_) => "object",
    }
}

/// JavaScript's `String(value)`: lists joined by commas, objects as `[object Object]`.
pub fn to_string(value: &Value) -> String {
    match value {
        Value::Array(list) => list
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                other => to_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".to_owned(),
        other => types::js_string(other),
    }
}

/// JavaScript truthiness.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// JavaScript's `===` between two JSON values: lists and objects are never the same object.
pub fn strict_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(_), _) | (Value::Object(_), _) => false,
        _ => a == b,
    }
}

/// The order `a` and `b` have for JavaScript's relational operators; `None` when a side is
/// `NaN` (every comparison is then false).
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    let primitive = |v: &Value| match v {
        Value::Array(_) | Value::Object(_) => Value::String(to_string(v)),
        other => other.clone(),
    };
    let (a, b) = (primitive(a), primitive(b));
    if let (Value::String(x), Value::String(y)) = (&a, &b) {
        return Some(x.encode_utf16().cmp(y.encode_utf16()));
    }
    let x = types::to_number(&a)?;
    let y = types::to_number(&b)?;
    x.partial_cmp(&y)
}

/// A JavaScript regular expression from `/pattern/flags` or a bare pattern, as n8n builds it.
pub fn regex(pattern: &str, ignore_case: bool) -> Result<fancy_regex::Regex, String> {
    let (body, flags) = split_regex_literal(pattern);
    let mut prefix = String::new();
    let mut flag = |c: char| {
        if !prefix.contains(c) {
            prefix.push(c);
        }
    };
    for c in flags.chars() {
        match c {
            'i' | 'm' | 's' => flag(c),
            // `g`, `y` and `u` do not change whether a fresh expression matches once.
            _ => {}
        }
    }
    if ignore_case {
        flag('i');
    }
    let source = if prefix.is_empty() {
        body.to_owned()
    } else {
        format!("(?{prefix}){body}")
    };
    fancy_regex::Regex::new(&source)
        .map_err(|e| format!("Invalid regular expression: /{body}/{flags}: {e}"))
}

/// `/pattern/flags` split into its parts; any other text is all pattern.
fn split_regex_literal(pattern: &str) -> (&str, &str) {
    if let Some(rest) = pattern.strip_prefix('/') {
        if let Some(end) = rest.rfind('/') {
            let flags = &rest[end + 1..];
            if flags.chars().all(|c| "gimusy".contains(c)) {
                return (&rest[..end], flags);
            }
        }
    }
    (pattern, "")
}

/// Whether `text` matches the expression (an expression that fails while matching, e.g.
/// by backtracking too long, does not match).
pub fn is_match(regex: &fancy_regex::Regex, text: &str) -> bool {
    regex.is_match(text).unwrap_or(false)
}
