//! One side of a condition read as the operator's type, the way n8n's filter parameter reads
//! it: strict validation takes only values of that type, loose validation converts (`"5"` is
//! a number, `"true"` a boolean, a JSON text a list), and a value that cannot be read fails the
//! condition with n8n's message.

use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::js;
use crate::engine::nodes::types;

/// The types a condition compares as (n8n's `FilterOperatorType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandType {
    String,
    Number,
    Boolean,
    Array,
    Object,
    DateTime,
    Any,
}

impl OperandType {
    pub fn parse(name: &str) -> Option<OperandType> {
        Some(match name {
            "string" => OperandType::String,
            "number" => OperandType::Number,
            "boolean" => OperandType::Boolean,
            "array" => OperandType::Array,
            "object" => OperandType::Object,
            "dateTime" => OperandType::DateTime,
            "any" => OperandType::Any,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            OperandType::String => "string",
            OperandType::Number => "number",
            OperandType::Boolean => "boolean",
            OperandType::Array => "array",
            OperandType::Object => "object",
            OperandType::DateTime => "dateTime",
            OperandType::Any => "any",
        }
    }
}

/// A side of a condition after reading.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// No value: n8n's "does not exist". A JSON `null` reads as this, like JavaScript's
    /// `undefined`, since after expressions a missing field and a `null` look the same and a
    /// missing field is by far the more common.
    Missing,
    /// JavaScript's `null` (an empty text or list read as a number by filter format 3): does
    /// not exist, but counts as 0 in `<` and `>`.
    Null,
    Text(String),
    Number(f64),
    Boolean(bool),
    List(Vec<Value>),
    Object(Map<String, Value>),
    /// Unix milliseconds.
    Date(i64),
    /// A value compared as it is (`any`).
    Raw(Value),
}

impl Operand {
    pub fn exists(&self) -> bool {
        !matches!(self, Operand::Missing | Operand::Null)
    }
}

/// How the values of a filter are read (n8n's filter `options`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub strict: bool,
    /// The filter format version (1-3): 2 reads booleans by n8n's rules before JavaScript's,
    /// 3 takes an empty text or list as no number.
    pub version: u8,
    pub zone: Tz,
}

/// Reads `value` as `kind`; `None` when it cannot be read as that type.
pub fn read(value: &Value, kind: OperandType, reading: Reading) -> Option<Operand> {
    if value.is_null() {
        return Some(Operand::Missing);
    }
    let strict = reading.strict;
    match kind {
        OperandType::Any => Some(Operand::Raw(value.clone())),
        OperandType::Boolean if !strict => {
            if reading.version >= 2 {
                if let Some(b) = types::to_boolean(value) {
                    return Some(Operand::Boolean(b));
                }
            }
            Some(Operand::Boolean(js::truthy(value)))
        }
        OperandType::Boolean => value.as_bool().map(Operand::Boolean),
        OperandType::Number => {
            let empty = match value {
                Value::String(s) => s.trim().is_empty(),
                Value::Array(list) => list.is_empty(),
                _ => false,
            };
            if empty && reading.version >= 3 {
                return Some(Operand::Null);
            }
            if strict && !value.is_number() {
                return None;
            }
            types::to_number(value).map(Operand::Number)
        }
        OperandType::String => match value {
            Value::String(s) => Some(Operand::Text(s.clone())),
            _ if strict => None,
            // n8n writes objects and lists as JSON here, not as `String()` does.
            other => Some(Operand::Text(types::js_string(other))),
        },
        OperandType::Array => {
            if strict && !value.is_array() {
                return None;
            }
            match value {
                Value::Array(list) => Some(Operand::List(list.clone())),
                other => types::to_array(&Value::String(js::to_string(other))).map(Operand::List),
            }
        }
        OperandType::Object => {
            if strict && !(value.is_object() || value.is_array()) {
                return None;
            }
            match value {
                Value::Object(map) => Some(Operand::Object(map.clone())),
                other => match serde_json::from_str::<Value>(&js::to_string(other)) {
                    Ok(Value::Object(map)) => Some(Operand::Object(map)),
                    _ => None,
                },
            }
        }
        // n8n reads dates the same way in strict and loose mode.
        OperandType::DateTime => {
            types::to_datetime(value, reading.zone).map(|t| Operand::Date(t.timestamp_millis()))
        }
    }
}
