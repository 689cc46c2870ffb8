//! Expressions evaluated against a small fixed run: Webhook → Prepare → Edit Fields (the node
//! evaluating). Expected values were checked on a running n8n 2.8 through a Webhook → Edit
//! Fields workflow whose fields are the expressions below.

mod bench;
mod dates;
mod extensions;
mod fixture;
mod language;
mod limits;
mod nodes;
mod properties;

use serde_json::{json, Value};

use fixture::Fixture;

/// Evaluates `expression` (with its `=`) for item 0 and expects a value.
pub(super) fn value(expression: &str) -> Value {
    Fixture::standard()
        .eval(expression)
        .unwrap_or_else(|e| panic!("{expression}: {e:?}"))
}

/// Evaluates `expression` for item 0 and expects an error; returns its message.
pub(super) fn error(expression: &str) -> String {
    match Fixture::standard().eval(expression) {
        Ok(v) => panic!("{expression}: expected an error, got {v}"),
        Err(e) => e.message,
    }
}

/// Asserts each `(expression, expected)` pair.
pub(super) fn check(cases: &[(&str, Value)]) {
    let fixture = Fixture::standard();
    for (expression, expected) in cases {
        let got = fixture
            .eval(expression)
            .unwrap_or_else(|e| panic!("{expression}: {e:?}"));
        assert_eq!(&got, expected, "{expression}");
    }
}

#[test]
fn the_fixture_answers_a_plain_path() {
    assert_eq!(value("={{ $json.name }}"), json!("Ada Lovelace"));
}

/// Prints the value (or error) of each expression of the file named by `EXPRESSIONS_FILE`
/// (one per line), as JSON lines: a tool to compare with a running n8n.
/// `EXPRESSIONS_FILE=cases.txt cargo test --lib print_expressions -- --ignored --nocapture`
#[test]
#[ignore]
fn print_expressions() {
    let Ok(path) = std::env::var("EXPRESSIONS_FILE") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let fixture = Fixture::standard();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let expression = line.rsplit('\t').next().unwrap_or(line);
        let out = match fixture.eval(expression) {
            Ok(v) => json!({"value": v}),
            Err(e) => json!({"error": e.message}),
        };
        println!("{}", json!({"expr": expression, "out": out}));
    }
}

#[test]
fn a_node_may_offer_its_expressions_more_variables() {
    let fixture = Fixture::standard();
    let mut additional = crate::engine::data::JsonObject::new();
    additional.insert(
        "$response".into(),
        json!({"body": {"next": "/p/2"}, "statusCode": 200}),
    );
    additional.insert("$pageCount".into(), json!(1));
    let mut context = fixture.context();
    context.additional = Some(&additional);
    let expressions = super::Expressions::default();
    let eval = |text: &str| expressions.resolve(&json!(text), &context);
    assert_eq!(eval("={{ $response.body.next }}"), Ok(json!("/p/2")));
    assert_eq!(eval("={{ $pageCount + 1 }}"), Ok(json!(2)));
    // The current item is still there, and other nodes' expressions see none of these.
    assert_eq!(eval("={{ $json.name }}"), Ok(json!("Ada Lovelace")));
    assert_eq!(
        fixture.eval("={{ typeof $pageCount }}"),
        Ok(json!("undefined"))
    );
}

#[test]
fn only_calling_an_extension_on_undefined_is_an_error_reading_a_property_is_not() {
    assert_eq!(value("={{ $json.noSuchField.length }}"), Value::Null);
    assert_eq!(
        value("={{ $json.noSuchField.length ? 1 : 2 }}"),
        Value::Null
    );
    assert_eq!(
        error("={{ $json.noSuchField.toInt() }}"),
        "toInt can't be used on undefined value"
    );
}
