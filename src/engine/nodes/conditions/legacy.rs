//! The older condition lists of If v1, Filter v1 and Switch v1-v2: `{value1, operation,
//! value2}` entries grouped by data type (`boolean`, `dateTime`, `number`, `string`), compared
//! with JavaScript's loose rules, as those node versions do.

use serde_json::Value;

use super::js;
use crate::engine::nodes::types;

/// The data types of the older lists, in the order n8n checks them.
pub const DATA_TYPES: [&str; 4] = ["boolean", "dateTime", "number", "string"];

/// The value a field takes when the stored entry leaves it out, by data type: `value1`,
/// `operation`, `value2` (If v1 and Filter v1).
pub fn defaults(data_type: &str) -> (Value, &'static str, Value) {
    match data_type {
        "boolean" => (Value::Bool(false), "equal", Value::Bool(false)),
        "dateTime" => (Value::from(""), "after", Value::from("")),
        "number" => (Value::from(0), "smaller", Value::from(0)),
        _ => (Value::from(""), "equal", Value::from("")),
    }
}

/// One entry of a list, with the defaults filled in.
pub struct Entry {
    pub value1: Value,
    pub operation: String,
    pub value2: Value,
}

impl Entry {
    /// Reads a stored entry of `data_type`; `value1` may come from elsewhere (Switch v1-v2
    /// compares one node-level `value1` with each rule's `value2`).
    pub fn read(entry: &Value, data_type: &str) -> Entry {
        let (value1, operation, value2) = defaults(data_type);
        let field = |key: &str, default: Value| match entry.get(key) {
            None => default,
            Some(value) => value.clone(),
        };
        Entry {
            value1: field("value1", value1),
            operation: entry
                .get("operation")
                .and_then(Value::as_str)
                .unwrap_or(operation)
                .to_owned(),
            value2: field("value2", value2),
        }
    }

    /// Compares the entry's values as `data_type`.
    pub fn passes(&self, data_type: &str) -> Result<bool, String> {
        let (value1, value2) = if data_type == "dateTime" {
            (date_value(&self.value1)?, date_value(&self.value2)?)
        } else {
            (self.value1.clone(), self.value2.clone())
        };
        compare(&self.operation, &value1, &value2)
    }
}

/// A date as milliseconds, as these versions read dates (JavaScript's `new Date(text)`).
pub fn date_value(value: &Value) -> Result<Value, String> {
    let millis = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(_) => {
            types::to_datetime(value, chrono_tz::UTC).map(|t| t.timestamp_millis() as f64)
        }
        _ => None,
    };
    match millis {
        Some(m) if !m.is_nan() => Ok(types::number_value(m)),
        _ => Err(format!(
            "The value \"{}\" is not a valid DateTime.",
            js::to_string(value)
        )),
    }
}

/// One comparison of the older lists.
pub fn compare(operation: &str, value1: &Value, value2: &Value) -> Result<bool, String> {
    let or = |v: &Value, default: Value| if js::truthy(v) { v.clone() } else { default };
    let ordered = |v1: &Value, v2: &Value| js::compare(&or(v1, 0.into()), &or(v2, 0.into()));
    let text = |v: &Value| js::to_string(&or(v, "".into()));
    use std::cmp::Ordering::{Equal, Greater, Less};
    Ok(match operation {
        "after" | "larger" => ordered(value1, value2) == Some(Greater),
        "before" | "smaller" => ordered(value1, value2) == Some(Less),
        "largerEqual" => matches!(ordered(value1, value2), Some(Greater | Equal)),
        "smallerEqual" => matches!(ordered(value1, value2), Some(Less | Equal)),
        "contains" => text(value1).contains(&text(value2)),
        "notContains" => !text(value1).contains(&text(value2)),
        "startsWith" => own_text(value1, "startsWith")?.starts_with(&js::to_string(value2)),
        "notStartsWith" => !own_text(value1, "startsWith")?.starts_with(&js::to_string(value2)),
        "endsWith" => own_text(value1, "endsWith")?.ends_with(&js::to_string(value2)),
        "notEndsWith" => !own_text(value1, "endsWith")?.ends_with(&js::to_string(value2)),
        "equal" => js::strict_equals(value1, value2),
        "notEqual" => !js::strict_equals(value1, value2),
        "isEmpty" => is_empty(value1),
        "isNotEmpty" => !is_empty(value1),
        "regex" => matches_regex(value1, value2)?,
        "notRegex" => !matches_regex(value1, value2)?,
        other => return Err(format!("The operation \"{other}\" is not known")),
    })
}

/// `value1.startsWith(...)` exists on text only; JavaScript fails on anything else.
fn own_text(value: &Value, method: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(format!("value1.{method} is not a function")),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(list) => list.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Number(n) => n.as_f64().is_some_and(f64::is_nan),
        Value::Bool(_) => false,
    }
}

fn matches_regex(value1: &Value, value2: &Value) -> Result<bool, String> {
    let or_empty = |v: &Value| {
        if js::truthy(v) {
            js::to_string(v)
        } else {
            String::new()
        }
    };
    let regex = js::regex(&or_empty(value2), false)?;
    Ok(js::is_match(&regex, &or_empty(value1)))
}
