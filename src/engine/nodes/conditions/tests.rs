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

/// One condition on a field of [`item`] (absent fields read as null): strict, case
/// sensitive, filter format 2 unless changed, and n8n's answer.
struct Case {
    field: &'static str,
    kind: &'static str,
    operation: &'static str,
    right: Value,
    right_type: Option<&'static str>,
    strict: bool,
    case_sensitive: bool,
    version: u8,
    expected: bool,
}

fn case(field: &'static str, kind: &'static str, operation: &'static str, right: Value) -> Case {
    Case {
        field,
        kind,
        operation,
        right,
        right_type: None,
        strict: true,
        case_sensitive: true,
        version: 2,
        expected: false,
    }
}

impl Case {
    fn right_type(self, right_type: &'static str) -> Case {
        Case {
            right_type: Some(right_type),
            ..self
        }
    }

    fn loose(self) -> Case {
        Case {
            strict: false,
            ..self
        }
    }

    fn ignore_case(self) -> Case {
        Case {
            case_sensitive: false,
            ..self
        }
    }

    fn format(self, version: u8) -> Case {
        Case { version, ..self }
    }

    fn is(self, expected: bool) -> Case {
        Case { expected, ..self }
    }

    fn filter(&self) -> Value {
        let mut operator = json!({"type": self.kind, "operation": self.operation});
        if let Some(t) = self.right_type {
            operator["rightType"] = json!(t);
        }
        if ["exists", "notExists", "empty", "notEmpty", "true", "false"].contains(&self.operation) {
            operator["singleValue"] = json!(true);
        }
        json!({
            "options": {"caseSensitive": self.case_sensitive, "leftValue": "",
                        "typeValidation": if self.strict { "strict" } else { "loose" }, "version": self.version},
            "combinator": "and",
            "conditions": [{"id": "c", "leftValue": item()[self.field].clone(), "rightValue": self.right, "operator": operator}]
        })
    }
}

fn passes(value: &Value) -> Result<bool, ConditionError> {
    Filter::parse(value, DEFAULTS, chrono_tz::UTC)?.passes(0)
}

#[test]
fn every_operator_answers_as_n8n_does() {
    let cases = [
        case("s", "string", "contains", json!("world"))
            .ignore_case()
            .is(true),
        case("s", "string", "contains", json!("world")).is(false),
        case("s", "string", "startsWith", json!("hello"))
            .ignore_case()
            .is(true),
        case("s", "string", "notEndsWith", json!("World")).is(false),
        case("s", "string", "regex", json!("^hello")).is(false),
        case("s", "string", "regex", json!("/^hello/i")).is(true),
        case("s", "string", "notRegex", json!("o w"))
            .ignore_case()
            .is(false),
        case("s", "string", "notContains", json!("xyz")).is(true),
        case("e", "string", "empty", json!("")).is(true),
        case("missing", "string", "empty", json!("")).is(true),
        case("missing", "string", "exists", json!("")).is(false),
        case("e", "string", "exists", json!("")).is(true),
        case("n", "number", "gte", json!(5)).is(true),
        case("n", "number", "notEquals", json!(5)).is(false),
        case("n", "number", "lt", json!("10")).loose().is(true),
        case("missing", "number", "lt", json!(10)).is(false),
        case("missing", "number", "equals", json!(""))
            .loose()
            .is(false),
        case("e", "number", "lt", json!(1)).loose().is(true),
        case("e", "number", "lt", json!(1))
            .loose()
            .format(3)
            .is(true),
        case("e", "number", "empty", json!(""))
            .loose()
            .format(3)
            .is(true),
        case("ns", "number", "equals", json!(7)).loose().is(true),
        case("n", "number", "notEmpty", json!("")).is(true),
        case("t", "boolean", "true", json!("")).is(true),
        case("ts", "boolean", "false", json!("")).loose().is(true),
        case("ts", "boolean", "false", json!(""))
            .loose()
            .format(1)
            .is(false),
        case("missing", "boolean", "false", json!("")).is(true),
        case("t", "boolean", "equals", json!("true"))
            .loose()
            .is(true),
        case("arr", "array", "contains", json!("two"))
            .right_type("any")
            .ignore_case()
            .is(true),
        case("arr", "array", "contains", json!("two"))
            .right_type("any")
            .is(false),
        case("arr", "array", "contains", json!(3))
            .right_type("any")
            .is(true),
        case("arr", "array", "contains", json!("3"))
            .right_type("any")
            .is(false),
        case("arr", "array", "lengthEquals", json!(3))
            .right_type("number")
            .is(true),
        case("arr", "array", "lengthGt", json!("2"))
            .right_type("number")
            .loose()
            .is(true),
        case("arr", "array", "lengthLte", json!(2))
            .right_type("number")
            .is(false),
        case("arr", "array", "notEmpty", json!("")).is(true),
        case("obj", "object", "empty", json!("")).is(true),
        case("obj2", "object", "notEmpty", json!("")).is(true),
        case("missing", "object", "empty", json!("")).is(true),
        case("d", "dateTime", "after", json!("2024-02-29")).is(true),
        case(
            "d",
            "dateTime",
            "beforeOrEquals",
            json!("2024-03-01T11:00:00+01:00"),
        )
        .is(true),
        case("d", "dateTime", "equals", json!("2024-03-01T10:00:00.000Z")).is(true),
        case("missing", "dateTime", "after", json!("2024-01-01")).is(false),
        case("missing", "dateTime", "notEmpty", json!("")).is(false),
    ];
    for case in cases {
        let value = case.filter();
        assert_eq!(passes(&value), Ok(case.expected), "{value}");
    }
}

#[test]
fn a_string_compared_as_a_number_in_strict_mode_fails_naming_the_condition() {
    let value = case("ns", "number", "gt", json!(5)).filter();
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
    let value = case("s", "number", "gt", json!(5)).loose().filter();
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
    let value = case("s", "string", "regex", json!("(unclosed")).filter();
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
