//! n8n's field typing, shared by the nodes that take typed values (Edit Fields, the
//! conditions of If, Filter and Switch): a value is checked against a type and converted the
//! way n8n converts it (a numeric string is a number, `"true"` a boolean, a JSON text an object),
//! with n8n's error messages.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::{Number, Value};

/// The types a field can be declared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    String,
    Number,
    Boolean,
    Array,
    Object,
    DateTime,
    Time,
    Any,
}

impl FieldType {
    /// n8n's type names (`string`, `number`, `boolean`, `array`, `object`, `dateTime`, `time`,
    /// `any`; the Edit Fields v3.0-3.2 forms `stringValue` and so on too).
    pub fn parse(name: &str) -> Option<FieldType> {
        let name = name.strip_suffix("Value").unwrap_or(name);
        Some(match name.to_ascii_lowercase().as_str() {
            "string" => FieldType::String,
            "number" => FieldType::Number,
            "boolean" => FieldType::Boolean,
            "array" => FieldType::Array,
            "object" => FieldType::Object,
            "datetime" | "date" => FieldType::DateTime,
            "time" => FieldType::Time,
            "any" => FieldType::Any,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Array => "array",
            FieldType::Object => "object",
            FieldType::DateTime => "dateTime",
            FieldType::Time => "time",
            FieldType::Any => "any",
        }
    }
}

/// n8n's short description of a value in error messages: `'text'`, `'5'`, `'null'`, `object`,
/// `array`.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "'null'".to_owned(),
        Value::Array(_) => "array".to_owned(),
        Value::Object(_) => "object".to_owned(),
        other => format!("'{}'", js_string(other)),
    }
}

/// A value as JavaScript's `String(value)` writes it (objects as JSON, as n8n's
/// `tryToParseString` does).
pub fn js_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        other => other.to_string(),
    }
}

/// A number as JavaScript prints it (`3` rather than `3.0`, `1e21` for large ones).
pub fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    js_number(f)
}

/// An `f64` as JavaScript's `String(number)` writes it.
pub fn js_number(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if f == f.trunc() && f.abs() < 1e21 {
        return format!("{}", f as i128);
    }
    let text = format!("{f}");
    if f.abs() >= 1e21 || (f != 0.0 && f.abs() < 1e-6) {
        // JavaScript switches to exponent notation here.
        let e = format!("{f:e}");
        return e.replace("e", "e+").replace("e+-", "e-");
    }
    text
}

/// JavaScript's `Number(value)`; `None` for `NaN`.
pub fn to_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Null => Some(0.0),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Some(0.0);
            }
            if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                return i64::from_str_radix(hex, 16).ok().map(|i| i as f64);
            }
            match t {
                "Infinity" | "+Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                _ if t
                    .chars()
                    .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') =>
                {
                    None
                }
                _ => t.parse::<f64>().ok(),
            }
        }
        Value::Array(list) => match list.as_slice() {
            [] => Some(0.0),
            [one] => to_number(one),
            _ => None,
        },
        Value::Object(_) => None,
    }
}

/// A JSON number for `f` (integers stay integers).
pub fn number_value(f: f64) -> Value {
    if f == f.trunc() && f.abs() < 9.007_199_254_740_992e15 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// n8n's boolean reading: booleans, `"true"`/`"false"` in any case, and the numbers 0 and 1.
pub fn to_boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Value::String(s) if s.trim().is_empty() => None,
        other => match to_number(other) {
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            _ => None,
        },
    }
}

/// n8n's array reading: a list, or a JSON text of one (single quotes allowed).
pub fn to_array(value: &Value) -> Option<Vec<Value>> {
    match value {
        Value::Array(list) => Some(list.clone()),
        other => {
            let text = js_string(other);
            let parsed = serde_json::from_str::<Value>(&text)
                .or_else(|_| serde_json::from_str::<Value>(&text.replace('\'', "\"")))
                .ok()?;
            match parsed {
                Value::Array(list) => Some(list),
                _ => None,
            }
        }
    }
}

/// n8n's object reading: an object, or a JSON text of one.
pub fn to_object(value: &Value) -> Option<serde_json::Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map.clone()),
        Value::Array(_) => None,
        other => match serde_json::from_str::<Value>(&js_string(other)).ok()? {
            Value::Object(map) => Some(map),
            _ => None,
        },
    }
}

/// n8n's date reading (ISO 8601, HTTP and RFC 2822 dates, SQL dates, or what JavaScript's
/// `Date.parse` reads), in `zone` when the text has no offset.
pub fn to_datetime(value: &Value, zone: chrono_tz::Tz) -> Option<DateTime<FixedOffset>> {
    let text = match value {
        Value::Number(n) => {
            let ms = n.as_f64()?;
            return Utc
                .timestamp_millis_opt(ms as i64)
                .single()
                .map(|t| t.with_timezone(&zone).fixed_offset());
        }
        other => js_string(other),
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(text) {
        return Some(t);
    }
    let local = |naive: NaiveDateTime| {
        zone.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.fixed_offset())
    };
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return local(naive);
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f %#z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t);
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return local(date.and_hms_opt(0, 0, 0)?);
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%a, %d %b %Y %H:%M:%S GMT") {
        return Some(t);
    }
    None
}

/// Why a value does not fit its declared type, in n8n's words.
pub fn type_error(field: &str, expected: FieldType, value: &Value) -> String {
    match expected {
        FieldType::Time => format!(
            "'{field}' expects time (hh:mm:(:ss)) but we got {}.",
            describe(value)
        ),
        _ => format!(
            "'{field}' expects a {} but we got {}",
            expected.name(),
            describe(value)
        ),
    }
}

/// n8n's `validateFieldType`: checks `value` against `expected` and converts it. `Null` passes
/// through. With `strict`, the value must already have the type (no conversion). Strings are
/// kept as they are unless `parse_strings` (the Edit Fields node turns anything into text
/// itself before it asks).
pub fn validate(
    field: &str,
    value: &Value,
    expected: FieldType,
    strict: bool,
    zone: chrono_tz::Tz,
) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let fail = || type_error(field, expected, value);
    match expected {
        FieldType::Any => Ok(value.clone()),
        FieldType::String => {
            if strict && !value.is_string() {
                return Err(fail());
            }
            Ok(value.clone())
        }
        FieldType::Number => {
            if strict && !value.is_number() {
                return Err(fail());
            }
            to_number(value).map(number_value).ok_or_else(fail)
        }
        FieldType::Boolean => {
            if strict && !value.is_boolean() {
                return Err(fail());
            }
            to_boolean(value).map(Value::Bool).ok_or_else(fail)
        }
        FieldType::Array => {
            if strict && !value.is_array() {
                return Err(fail());
            }
            to_array(value).map(Value::Array).ok_or_else(fail)
        }
        FieldType::Object => {
            if strict && !value.is_object() && !value.is_array() {
                return Err(fail());
            }
            to_object(value).map(Value::Object).ok_or_else(fail)
        }
        FieldType::DateTime => to_datetime(value, zone)
            .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
            .ok_or_else(|| {
                format!(
                    "{} <br/><br/> Consider using <a href=\"https://moment.github.io/luxon/api-docs/index.html#datetimefromformat\" target=\"_blank\"><code>DateTime.fromFormat</code></a> to work with custom date formats.",
                    fail()
                )
            }),
        FieldType::Time => {
            let text = js_string(value);
            if is_time(&text) {
                Ok(Value::String(text))
            } else {
                Err(fail())
            }
        }
    }
}

/// `hh:mm`, `hh:mm:ss`, with an optional offset.
fn is_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    if !(digits(0) && digits(1) && bytes.get(2) == Some(&b':') && digits(3) && digits(4)) {
        return false;
    }
    let mut rest = &text[5..];
    if let Some(seconds) = rest.strip_prefix(':') {
        if seconds.len() < 2 || !seconds.as_bytes()[..2].iter().all(u8::is_ascii_digit) {
            return false;
        }
        rest = &seconds[2..];
    }
    rest.is_empty()
        || ((rest.starts_with('+') || rest.starts_with('-'))
            && rest[1..].chars().all(|c| c.is_ascii_digit() || c == ':'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const UTC: chrono_tz::Tz = chrono_tz::UTC;

    #[test]
    fn numbers_convert_as_javascript_converts_them() {
        assert_eq!(
            validate("n", &json!("5"), FieldType::Number, false, UTC),
            Ok(json!(5))
        );
        assert_eq!(
            validate("n", &json!(" 2.5 "), FieldType::Number, false, UTC),
            Ok(json!(2.5))
        );
        assert_eq!(
            validate("n", &json!(""), FieldType::Number, false, UTC),
            Ok(json!(0))
        );
        assert_eq!(
            validate("n", &json!("abc"), FieldType::Number, false, UTC),
            Err("'n' expects a number but we got 'abc'".to_owned())
        );
        assert_eq!(
            validate("n", &json!("5"), FieldType::Number, true, UTC),
            Err("'n' expects a number but we got '5'".to_owned())
        );
        assert_eq!(js_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js_number(3.0), "3");
    }

    #[test]
    fn booleans_arrays_and_objects_follow_n8n() {
        assert_eq!(
            validate("b", &json!("TRUE"), FieldType::Boolean, false, UTC),
            Ok(json!(true))
        );
        assert_eq!(
            validate("b", &json!(0), FieldType::Boolean, false, UTC),
            Ok(json!(false))
        );
        assert!(validate("b", &json!("yes"), FieldType::Boolean, false, UTC).is_err());
        assert_eq!(
            validate("a", &json!("['x', 'y']"), FieldType::Array, false, UTC),
            Ok(json!(["x", "y"]))
        );
        assert_eq!(
            validate("a", &json!({"k": 1}), FieldType::Array, false, UTC),
            Err("'a' expects a array but we got object".to_owned())
        );
        assert_eq!(
            validate("o", &json!("{\"k\":1}"), FieldType::Object, false, UTC),
            Ok(json!({"k": 1}))
        );
        assert_eq!(
            validate("x", &Value::Null, FieldType::Number, true, UTC),
            Ok(Value::Null)
        );
    }

    #[test]
    fn dates_and_times_are_read_in_the_zone() {
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().expect("tz");
        assert_eq!(
            validate(
                "d",
                &json!("2026-01-02 10:00:00"),
                FieldType::DateTime,
                false,
                berlin
            ),
            Ok(json!("2026-01-02T10:00:00.000+01:00"))
        );
        assert_eq!(
            validate(
                "d",
                &json!("2026-01-02T10:00:00Z"),
                FieldType::DateTime,
                false,
                berlin
            ),
            Ok(json!("2026-01-02T10:00:00.000Z"))
        );
        assert!(validate("d", &json!("soon"), FieldType::DateTime, false, berlin).is_err());
        assert_eq!(
            validate("t", &json!("09:30"), FieldType::Time, false, UTC),
            Ok(json!("09:30"))
        );
        assert!(validate("t", &json!("9:30"), FieldType::Time, false, UTC).is_err());
    }
}
