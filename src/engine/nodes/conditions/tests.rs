//! The conditions against answers recorded from n8n 2.8.4 (one Switch rule per case, every
//! matching output, on one item), plus its type-validation messages.

use serde_json::{json, Value};

use super::legacy;
use super::{ConditionError, Defaults, Filter};

const DEFAULTS: Defaults = Defaults {
    case_sensitive: true,
    strict: true,
    version: 2,
};

/// The item every case reads (standing in for what `{{ $json.<field> }}` resolves to).
fn item() -> Value {
    json!({"s": "Hello World", "n": 5, "ns": "7", "arr": [1, "Two", 3], "obj": {}, "obj2": {"a": 1},
           "t": true, "ts": "false", "d": "2024-03-01T10:00:00Z", "e": ""})
}

/// A one-condition filter: `left` names a field of [`item`] (absent fields read as null).
fn filter(
    left: &str,
    kind: &str,
    operation: &str,
    right: Value,
    right_type: Option<&str>,
    strict: bool,
    case_sensitive: bool,
    version: u8,
) -> Value {
    let mut operator = json!({"type": kind, "operation": operation});
    if let Some(t) = right_type {
        operator["rightType"] = json!(t);
    }
    if ["exists", "notExists", "empty", "notEmpty", "true", "false"].contains(&operation) {
        operator["singleValue"] = json!(true);
    }
    json!({
        "options": {"caseSensitive": case_sensitive, "leftValue": "",
                    "typeValidation": if strict { "strict" } else { "loose" }, "version": version},
        "combinator": "and",
        "conditions": [{"id": "c", "leftValue": item()[left].clone(), "rightValue": right, "operator": operator}]
    })
}

fn passes(value: &Value) -> Result<bool, ConditionError> {
    Filter::parse(value, DEFAULTS, chrono_tz::UTC)?.passes(0)
}

#[test]
fn every_operator_answers_as_n8n_does() {
    // (field, type, operation, right value, right type, strict, case sensitive, format, n8n's answer)
    let cases: Vec<(&str, &str, &str, Value, Option<&str>, bool, bool, u8, bool)> = vec![
        (
            "s",
            "string",
            "contains",
            json!("world"),
            None,
            true,
            false,
            2,
            true,
        ),
        (
            "s",
            "string",
            "contains",
            json!("world"),
            None,
            true,
            true,
            2,
            false,
        ),
        (
            "s",
            "string",
            "startsWith",
            json!("hello"),
            None,
            true,
            false,
            2,
            true,
        ),
        (
            "s",
            "string",
            "notEndsWith",
            json!("World"),
            None,
            true,
            true,
            2,
            false,
        ),
        (
            "s",
            "string",
            "regex",
            json!("^hello"),
            None,
            true,
            true,
            2,
            false,
        ),
        (
            "s",
            "string",
            "regex",
            json!("/^hello/i"),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "s",
            "string",
            "notRegex",
            json!("o w"),
            None,
            true,
            false,
            2,
            false,
        ),
        (
            "s",
            "string",
            "notContains",
            json!("xyz"),
            None,
            true,
            true,
            2,
            true,
        ),
        ("e", "string", "empty", json!(""), None, true, true, 2, true),
        (
            "missing",
            "string",
            "empty",
            json!(""),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "missing",
            "string",
            "exists",
            json!(""),
            None,
            true,
            true,
            2,
            false,
        ),
        (
            "e",
            "string",
            "exists",
            json!(""),
            None,
            true,
            true,
            2,
            true,
        ),
        ("n", "number", "gte", json!(5), None, true, true, 2, true),
        (
            "n",
            "number",
            "notEquals",
            json!(5),
            None,
            true,
            true,
            2,
            false,
        ),
        ("n", "number", "lt", json!("10"), None, false, true, 2, true),
        (
            "missing",
            "number",
            "lt",
            json!(10),
            None,
            true,
            true,
            2,
            false,
        ),
        (
            "missing",
            "number",
            "equals",
            json!(""),
            None,
            false,
            true,
            2,
            false,
        ),
        ("e", "number", "lt", json!(1), None, false, true, 2, true),
        ("e", "number", "lt", json!(1), None, false, true, 3, true),
        (
            "e",
            "number",
            "empty",
            json!(""),
            None,
            false,
            true,
            3,
            true,
        ),
        (
            "ns",
            "number",
            "equals",
            json!(7),
            None,
            false,
            true,
            2,
            true,
        ),
        (
            "n",
            "number",
            "notEmpty",
            json!(""),
            None,
            true,
            true,
            2,
            true,
        ),
        ("t", "boolean", "true", json!(""), None, true, true, 2, true),
        (
            "ts",
            "boolean",
            "false",
            json!(""),
            None,
            false,
            true,
            2,
            true,
        ),
        (
            "ts",
            "boolean",
            "false",
            json!(""),
            None,
            false,
            true,
            1,
            false,
        ),
        (
            "missing",
            "boolean",
            "false",
            json!(""),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "t",
            "boolean",
            "equals",
            json!("true"),
            None,
            false,
            true,
            2,
            true,
        ),
        (
            "arr",
            "array",
            "contains",
            json!("two"),
            Some("any"),
            true,
            false,
            2,
            true,
        ),
        (
            "arr",
            "array",
            "contains",
            json!("two"),
            Some("any"),
            true,
            true,
            2,
            false,
        ),
        (
            "arr",
            "array",
            "contains",
            json!(3),
            Some("any"),
            true,
            true,
            2,
            true,
        ),
        (
            "arr",
            "array",
            "contains",
            json!("3"),
            Some("any"),
            true,
            true,
            2,
            false,
        ),
        (
            "arr",
            "array",
            "lengthEquals",
            json!(3),
            Some("number"),
            true,
            true,
            2,
            true,
        ),
        (
            "arr",
            "array",
            "lengthGt",
            json!("2"),
            Some("number"),
            false,
            true,
            2,
            true,
        ),
        (
            "arr",
            "array",
            "lengthLte",
            json!(2),
            Some("number"),
            true,
            true,
            2,
            false,
        ),
        (
            "arr",
            "array",
            "notEmpty",
            json!(""),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "obj",
            "object",
            "empty",
            json!(""),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "obj2",
            "object",
            "notEmpty",
            json!(""),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "missing",
            "object",
            "empty",
            json!(""),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "d",
            "dateTime",
            "after",
            json!("2024-02-29"),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "d",
            "dateTime",
            "beforeOrEquals",
            json!("2024-03-01T11:00:00+01:00"),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "d",
            "dateTime",
            "equals",
            json!("2024-03-01T10:00:00.000Z"),
            None,
            true,
            true,
            2,
            true,
        ),
        (
            "missing",
            "dateTime",
            "after",
            json!("2024-01-01"),
            None,
            true,
            true,
            2,
            false,
        ),
        (
            "missing",
            "dateTime",
            "notEmpty",
            json!(""),
            None,
            true,
            true,
            2,
            false,
        ),
    ];
    for (left, kind, operation, right, right_type, strict, case_sensitive, version, expected) in
        cases
    {
        let value = filter(
            left,
            kind,
            operation,
            right.clone(),
            right_type,
            strict,
            case_sensitive,
            version,
        );
        assert_eq!(
            passes(&value),
            Ok(expected),
            "{left} {kind}:{operation} {right} (strict {strict}, case {case_sensitive}, v{version})"
        );
    }
}

#[test]
fn a_string_compared_as_a_number_in_strict_mode_fails_naming_the_condition() {
    let value = filter("ns", "number", "gt", json!(5), None, true, true, 2);
    let error = passes(&value).expect_err("strict");
    assert_eq!(
        error.message,
        "Wrong type: '7' is a string but was expecting a number [condition 0, item 0]"
    );
    assert_eq!(
        error.description.as_deref(),
        Some("\n<p>Try either:</p>\n<ol>\n  <li>Enabling 'Convert types where required'</li>\n  <li>Converting the first field to a number by adding <code>.toNumber()</code></li>\n</ol>\n\t\t\t")
    );
}

#[test]
fn loose_mode_names_a_value_it_cannot_convert() {
    let value = filter("s", "number", "gt", json!(5), None, false, true, 2);
    let error = passes(&value).expect_err("not a number");
    assert_eq!(
        error.message,
        "Conversion error: the string 'Hello World' can't be converted to a number [condition 0, item 0]"
    );
    assert_eq!(
        error.description.as_deref(),
        Some("Try changing the type of the comparison.")
    );
    let both = json!({"options": {"typeValidation": "strict"}, "combinator": "and",
        "conditions": [{"leftValue": "a", "rightValue": "b", "operator": {"type": "number", "operation": "equals"}}]});
    assert_eq!(
        passes(&both).expect_err("both").message,
        "Comparison type expects a number but both fields are a string"
    );
}

#[test]
fn combinators_stop_at_the_first_decisive_condition() {
    let condition = |left: Value, right: Value| json!({"leftValue": left, "rightValue": right, "operator": {"type": "number", "operation": "equals"}});
    let bad = condition(json!("x"), json!(1));
    let or = json!({"combinator": "or", "options": {"typeValidation": "strict"},
                    "conditions": [condition(json!(1), json!(1)), bad.clone()]});
    assert_eq!(passes(&or), Ok(true));
    let and = json!({"combinator": "and", "options": {"typeValidation": "strict"},
                     "conditions": [condition(json!(1), json!(2)), bad]});
    assert_eq!(passes(&and), Ok(false));
    let none = json!({"combinator": "and", "conditions": []});
    assert_eq!(passes(&none), Ok(true));
}

#[test]
fn missing_options_take_the_nodes_defaults() {
    let value = json!({"combinator": "and",
        "conditions": [{"leftValue": "ABC", "rightValue": "abc", "operator": {"type": "string", "operation": "equals"}}]});
    assert_eq!(passes(&value), Ok(false));
    let ignore_case = Defaults {
        case_sensitive: false,
        ..DEFAULTS
    };
    assert_eq!(
        Filter::parse(&value, ignore_case, chrono_tz::UTC).and_then(|f| f.passes(0)),
        Ok(true)
    );
}

#[test]
fn an_invalid_pattern_fails_instead_of_not_matching() {
    let value = filter(
        "s",
        "string",
        "regex",
        json!("(unclosed"),
        None,
        true,
        true,
        2,
    );
    let error = passes(&value).expect_err("invalid");
    assert!(
        error
            .message
            .starts_with("Invalid regular expression: /(unclosed/"),
        "{}",
        error.message
    );
}

#[test]
fn legacy_lists_compare_with_javascripts_loose_rules() {
    let cases = [
        (
            "number",
            json!({"value1": 3, "operation": "smaller", "value2": 5}),
            Ok(true),
        ),
        ("number", json!({"value1": 3}), Ok(false)),
        (
            "number",
            json!({"value1": "", "operation": "isEmpty"}),
            Ok(true),
        ),
        (
            "string",
            json!({"value1": "abc", "operation": "contains", "value2": "b"}),
            Ok(true),
        ),
        (
            "string",
            json!({"value1": "abc", "operation": "regex", "value2": "/B/i"}),
            Ok(true),
        ),
        (
            "string",
            json!({"value1": 5, "operation": "startsWith", "value2": "5"}),
            Err("value1.startsWith is not a function".to_owned()),
        ),
        ("boolean", json!({"value1": true, "value2": true}), Ok(true)),
        (
            "boolean",
            json!({"value1": "true", "value2": true}),
            Ok(false),
        ),
        (
            "dateTime",
            json!({"value1": "2024-01-02", "value2": "2024-01-01"}),
            Ok(true),
        ),
        (
            "dateTime",
            json!({"value1": "soon", "value2": "2024-01-01"}),
            Err("The value \"soon\" is not a valid DateTime.".to_owned()),
        ),
    ];
    for (data_type, entry, expected) in cases {
        assert_eq!(
            legacy::Entry::read(&entry, data_type).passes(data_type),
            expected,
            "{data_type} {entry}"
        );
    }
}
