//! Expressions evaluated against a small fixed run: Webhook → Prepare → Edit Fields (the node
//! evaluating). Expected values were checked on a running n8n 2.8 through a Webhook → Edit
//! Fields workflow whose fields are the expressions below.

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
