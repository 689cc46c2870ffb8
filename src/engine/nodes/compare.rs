//! How n8n's data nodes compare item values: lodash's `isEqual` and `lt` over JSON values
//! (a missing field is JavaScript's `undefined`), and JavaScript's `Array.prototype.sort` as
//! V8 runs it, so that a comparator that is not a total order (mixed types, missing fields)
//! orders items the way n8n does.

use std::cmp::Ordering;

use serde_json::Value;

use super::types;

/// lodash's `isEqual` for two JSON values, either of which may be missing (`undefined`).
/// Numbers compare by value (`1` equals `1.0`), objects regardless of key order.
pub fn is_equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => values_equal(a, b),
        _ => false,
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| values_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// lodash's `lt`: two strings compare as JavaScript strings (by UTF-16 code units); anything
/// else is first turned into a number, and `NaN` is never less than anything.
pub fn less_than(a: Option<&Value>, b: Option<&Value>) -> bool {
    if let (Some(Value::String(x)), Some(Value::String(y))) = (a, b) {
        return x.encode_utf16().cmp(y.encode_utf16()) == Ordering::Less;
    }
    to_number(a) < to_number(b)
}

/// JavaScript's `a < b` for two JSON values (objects and lists first become text, as
/// JavaScript's `ToPrimitive` makes them; two texts compare as text, anything else as numbers).
pub fn js_less(a: &Value, b: &Value) -> bool {
    let (x, y) = (primitive(a), primitive(b));
    if let (Value::String(x), Value::String(y)) = (&x, &y) {
        return x.encode_utf16().cmp(y.encode_utf16()) == Ordering::Less;
    }
    to_number(Some(&x)) < to_number(Some(&y))
}

/// JavaScript's `ToPrimitive`: a list becomes its elements joined by commas, an object
/// `[object Object]`.
fn primitive(value: &Value) -> Value {
    match value {
        Value::Array(_) | Value::Object(_) => Value::String(join_text(value)),
        other => other.clone(),
    }
}

/// `String(value)` for a JSON value as JavaScript writes it (a list joined by commas with
/// null entries empty, an object `[object Object]`).
pub fn join_text(value: &Value) -> String {
    match value {
        Value::Array(list) => list
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                other => join_text(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".to_owned(),
        other => types::js_string(other),
    }
}

/// lodash's `toNumber` (JavaScript's unary `+` for JSON values); `NaN` when not a number.
pub fn to_number(value: Option<&Value>) -> f64 {
    match value {
        None => f64::NAN,
        Some(Value::Null) => 0.0,
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(Value::String(s)) => string_to_number(s),
        // An array becomes the text of its elements joined by commas, then a number.
        Some(Value::Array(list)) => match list.as_slice() {
            [] => 0.0,
            [one] => match one {
                Value::Null => 0.0,
                Value::Array(_) => to_number(Some(one)),
                Value::Object(_) => f64::NAN,
                other => string_to_number(&types::js_string(other)),
            },
            _ => f64::NAN,
        },
        Some(Value::Object(_)) => f64::NAN,
    }
}

fn string_to_number(text: &str) -> f64 {
    let t = text.trim();
    if t.is_empty() {
        return 0.0;
    }
    let radix = |digits: &str, radix: u32| {
        u64::from_str_radix(digits, radix).map_or(f64::NAN, |n| n as f64)
    };
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return radix(hex, 16);
    }
    if let Some(bin) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        return radix(bin, 2);
    }
    if let Some(oct) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        return radix(oct, 8);
    }
    match t {
        "Infinity" | "+Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        // Rust reads "inf" and "nan", JavaScript does not.
        _ if t
            .chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') =>
        {
            f64::NAN
        }
        _ => t.parse::<f64>().unwrap_or(f64::NAN),
    }
}

/// `JSON.stringify` of a JSON value as JavaScript writes it (numbers as JavaScript prints
/// them: `1` rather than `1.0`).
pub fn js_stringify(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.is_finite() {
                out.push_str(&types::number_text(n));
            } else {
                out.push_str("null");
            }
        }
        Value::Array(list) => {
            out.push('[');
            for (i, entry) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(entry, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, entry)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_json(entry, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// JavaScript's `typeof` for a JSON value (`None` is `undefined`).
pub fn type_of(value: Option<&Value>) -> &'static str {
    match value {
        None => "undefined",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Null | Value::Array(_) | Value::Object(_)) => "object",
    }
}

/// Sorts `list` in place as V8's `Array.prototype.sort` does with comparator `compare`
/// (negative: `a` first; positive: `b` first).
///
/// Short arrays (under 64 elements, the usual case for workflow items) take V8's exact path:
/// the leading run is found (and reversed when strictly descending), then binary insertion
/// sort. With a comparator that is not a total order the result depends on these steps, so
/// they are followed exactly. Longer arrays use a stable merge sort, which agrees with V8
/// whenever the comparator is consistent.
pub fn js_sort<T>(list: &mut [T], mut compare: impl FnMut(&T, &T) -> f64) {
    let n = list.len();
    if n < 2 {
        return;
    }
    if n >= 64 {
        list.sort_by(|a, b| {
            let order = compare(a, b);
            if order < 0.0 {
                Ordering::Less
            } else if order > 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        });
        return;
    }
    let mut run = 2;
    let descending = compare(&list[1], &list[0]) < 0.0;
    for i in 2..n {
        let order = compare(&list[i], &list[i - 1]);
        if (descending && order >= 0.0) || (!descending && order < 0.0) {
            break;
        }
        run += 1;
    }
    if descending {
        list[..run].reverse();
    }
    for start in run..n {
        let (mut left, mut right) = (0, start);
        while left < right {
            let mid = left + ((right - left) >> 1);
            if compare(&list[start], &list[mid]) < 0.0 {
                right = mid;
            } else {
                left = mid + 1;
            }
        }
        list[left..=start].rotate_right(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_is_deep_and_numeric() {
        assert!(is_equal(Some(&json!(1)), Some(&json!(1.0))));
        assert!(is_equal(
            Some(&json!({"a": [1, {"b": 2}], "c": null})),
            Some(&json!({"c": null, "a": [1, {"b": 2}]}))
        ));
        assert!(!is_equal(Some(&json!(1)), Some(&json!("1"))));
        assert!(!is_equal(None, Some(&Value::Null)));
        assert!(is_equal(None, None));
    }

    #[test]
    fn less_than_compares_strings_as_text_and_the_rest_as_numbers() {
        assert!(less_than(Some(&json!("B")), Some(&json!("a"))));
        assert!(less_than(Some(&json!(9)), Some(&json!("10"))));
        assert!(!less_than(Some(&json!("9")), Some(&json!("10"))));
        assert!(less_than(Some(&Value::Null), Some(&json!(1))));
        assert!(!less_than(None, Some(&json!(1))));
        assert!(!less_than(Some(&json!(1)), None));
        assert!(less_than(Some(&json!(false)), Some(&json!(true))));
        assert!(less_than(Some(&json!([2])), Some(&json!(3))));
        assert!(!less_than(Some(&json!({"a": 1})), Some(&json!(3))));
        assert_eq!(to_number(Some(&json!(" 0x1f "))), 31.0);
        assert!(to_number(Some(&json!("inf"))).is_nan());
    }

    #[test]
    fn javascript_less_than_turns_lists_into_text() {
        assert!(js_less(&json!(2), &json!(10)));
        assert!(!js_less(&json!("2"), &json!("10")));
        assert!(js_less(&json!("2"), &json!(10)));
        assert!(js_less(&json!([1, 2]), &json!("1,3")));
        assert!(!js_less(&json!("abc"), &json!(1)));
        assert_eq!(join_text(&json!([1, null, [2, 3]])), "1,,2,3");
    }

    #[test]
    fn stringify_writes_numbers_as_javascript_does() {
        assert_eq!(
            js_stringify(&json!({"a": 1.0, "b": [2.5, "x", null], "c": {"d": true}})),
            r#"{"a":1,"b":[2.5,"x",null],"c":{"d":true}}"#
        );
    }

    #[test]
    fn sorting_is_stable_and_follows_v8_for_inconsistent_comparators() {
        let mut list = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        js_sort(&mut list, |a, b| f64::from(a.0 - b.0));
        assert_eq!(list, vec![(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
        // A comparator that always says "b first": V8 reverses the leading strictly
        // descending run of the whole array.
        let mut list = vec![1, 2, 3, 4];
        js_sort(&mut list, |_, _| -1.0);
        assert_eq!(list, vec![4, 3, 2, 1]);
        let mut long: Vec<i32> = (0..100).rev().collect();
        js_sort(&mut long, |a, b| f64::from(a - b));
        assert_eq!(long, (0..100).collect::<Vec<_>>());
    }
}
