//! How `=` parameters are split, evaluated and joined.

use serde_json::json;

use super::{check, error, value};

#[test]
fn a_lone_block_keeps_its_javascript_type() {
    check(&[
        ("={{ $json.age }}", json!(36)),
        ("={{ $json.age + 1 }}", json!(37)),
        ("={{ $json.flag }}", json!(true)),
        ("={{ $json.tags }}", json!(["math", "poetry", "math"])),
        ("={{ $json.nested }}", json!({"a": {"b": [1, 2, 3]}})),
        ("={{ $json.nothing }}", json!(null)),
        ("={{ {a: 1} }}", json!({"a": 1})),
        ("={{ [1, 'two'] }}", json!([1, "two"])),
        ("={{ 0.1 + 0.2 }}", json!(0.30000000000000004)),
        ("={{ 'a' + 'b' }}", json!("ab")),
    ]);
}

#[test]
fn text_around_blocks_makes_a_string() {
    check(&[
        ("=Hi {{ $json.name }}!", json!("Hi Ada Lovelace!")),
        ("={{ $json.age }} years", json!("36 years")),
        ("={{ $json.age }}{{ $json.score }}", json!("3612.5")),
        ("={{ 1 }} ", json!("1 ")),
        ("=plain text", json!("plain text")),
        ("=", json!("")),
        ("=a \\{{ b }}", json!("a \\{{ b }}")),
    ]);
}

#[test]
fn values_in_text_are_written_as_javascript_joins_them() {
    check(&[
        ("=[{{ $json.nothing }}]", json!("[]")),
        ("=[{{ $json.missing }}]", json!("[]")),
        ("=[{{ $json.empty }}]", json!("[]")),
        ("=[{{ 0 }}|{{ false }}]", json!("[0|false]")),
        ("=[{{ $json.tags }}]", json!("[math,poetry,math]")),
        ("=[{{ $json.nested }}]", json!("[[object Object]]")),
        ("=[{{ 1e21 }}]", json!("[1e+21]")),
        ("=[{{ 0 / 0 }}]", json!("[]")),
    ]);
}

#[test]
fn a_missing_value_is_undefined_and_a_failing_block_too() {
    check(&[
        ("={{ $json.missing }}", json!(null)),
        ("={{ $json.missing.deeper }}", json!(null)),
        ("=x{{ $json.missing.deeper }}y", json!("xy")),
        ("={{ undefinedName }}", json!(null)),
        ("={{ (() => { throw new Error('boom') })() }}", json!(null)),
    ]);
}

#[test]
fn plain_paths_and_javascript_agree() {
    let fixture = super::Fixture::standard();
    for path in [
        "$json.name",
        "$json.nested.a.b[1]",
        "$json[\"x y\"]",
        "$json.score",
    ] {
        let fast = fixture.eval(&format!("={{{{ {path} }}}}"));
        // The same path written so the fast path does not take it.
        let slow = fixture.eval(&format!("={{{{ ({path}) }}}}"));
        assert_eq!(fast, slow, "{path}");
    }
}

#[test]
fn a_syntax_error_fails_the_whole_expression() {
    assert_eq!(error("={{ $json.name + }}"), "invalid syntax");
    assert_eq!(error("=ok {{ 1 }} then {{ ) }}"), "invalid syntax");
}

#[test]
fn functions_are_refused_as_results() {
    assert_eq!(
        error("={{ $json.name.toUpperCase }}"),
        "this is a function, please add ()"
    );
    assert_eq!(
        error("={{ DateTime }}"),
        "this is a DateTime, please access its methods"
    );
}

#[test]
fn constructors_and_prototypes_are_out_of_reach() {
    assert_eq!(
        error("={{ $json.constructor }}"),
        "Expression contains invalid constructor function call"
    );
    assert_eq!(
        error("={{ $json.__proto__ }}"),
        "Cannot access \"__proto__\" due to security concerns"
    );
    assert_eq!(
        error("={{ $json['prototype'] }}"),
        "Cannot access \"prototype\" due to security concerns"
    );
}

#[test]
fn an_expression_cannot_change_what_the_next_one_sees() {
    let _ = value("={{ (Math.max = () => 0, leak = 1, JSON.stringify = null) }}");
    let _ = value("={{ Object.assign(Math, {min: () => 0}) }}");
    assert_eq!(value("={{ Math.max(1, 2) }}"), json!(2));
    assert_eq!(value("={{ Math.min(1, 2) }}"), json!(1));
    assert_eq!(value("={{ typeof leak }}"), json!("undefined"));
    assert_eq!(value("={{ JSON.stringify([1]) }}"), json!("[1]"));
}

#[test]
fn blocks_follow_n8ns_statement_rules() {
    check(&[
        ("={{ 1; 2 }}", json!(1)),
        ("=x {{ 1 + 2", json!("x 3")),
        ("={{ $json.age; }}", json!(36)),
    ]);
    assert_eq!(error("={{ }}"), "invalid syntax");
    assert_eq!(error("={{ let a = 1 }}"), "invalid syntax");
    assert_eq!(error("={{ {a:{b:1}} }}"), "invalid syntax");
}

#[test]
fn objects_built_in_an_expression_can_use_extension_names_as_keys() {
    check(&[
        (
            "={{ (() => { const o = {}; o.first = 1; o.keys = 2; return o })() }}",
            json!({"first": 1, "keys": 2}),
        ),
        ("={{ $json.first }}", json!(null)),
    ]);
}

#[test]
fn nested_parameters_are_walked() {
    let fixture = super::Fixture::standard();
    let got = crate::expression::Expressions::default().resolve(
        &json!({"a": ["={{ $json.age }}", "plain"], "b": {"c": "=x{{ 1 + 1 }}"}, "d": 5}),
        &fixture.context(),
    );
    assert_eq!(
        got,
        Ok(json!({"a": [36, "plain"], "b": {"c": "x2"}, "d": 5}))
    );
}

#[test]
fn a_forbidden_name_is_refused_even_when_the_item_has_it() {
    let mut fixture = super::Fixture::standard();
    fixture.input[0]
        .json
        .insert("constructor".into(), json!("data"));
    assert_eq!(
        fixture
            .eval("={{ $json.constructor }}")
            .map_err(|e| e.message),
        Err("Expression contains invalid constructor function call".into())
    );
}

#[test]
fn object_hands_out_no_way_around_property_checks() {
    check(&[
        ("={{ typeof Object.defineProperty }}", json!("undefined")),
        ("={{ Object.keys({a: 1}) }}", json!(["a"])),
        ("={{ Object.entries({a: 1}) }}", json!([["a", 1]])),
        ("={{ $json.setPrototypeOf }}", json!(null)),
    ]);
    for name in [
        "getPrototypeOf",
        "mainModule",
        "binding",
        "_load",
        "__defineGetter__",
    ] {
        assert_eq!(
            error(&format!("={{{{ $json.{name} }}}}")),
            format!("Cannot access \"{name}\" due to security concerns")
        );
    }
    assert_eq!(
        error("={{ $json[\"constructor\"] }}"),
        "Cannot access \"constructor\" due to security concerns"
    );
}
