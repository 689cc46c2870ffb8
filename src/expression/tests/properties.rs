//! Any text, as an expression, answers a value or an error: never a panic, never a hang.

use proptest::prelude::*;

use super::fixture::Fixture;

fn fragments() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "{{",
        "}}",
        "{",
        "}",
        "$json",
        ".name",
        "$('Prepare')",
        ".item",
        "$input",
        ".all()",
        "(",
        ")",
        "[",
        "]",
        "'",
        "\"",
        "`",
        "\\",
        "+",
        " ",
        "1",
        "0.5",
        "null",
        ".isEmpty()",
        ".toDateTime()",
        "$now",
        ".plus(1, 'day')",
        "=>",
        ";",
        ",",
        "$if(",
        "a",
        "\n",
        "é",
        "constructor",
        "__proto__",
        "${",
        "/*",
        "//",
        "DateTime",
        "$node[",
        "$items(",
        "?.",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn built_from_expression_pieces(text in fragments()) {
        let fixture = Fixture::standard();
        let _ = fixture.eval(&format!("={text}"));
    }

    #[test]
    fn any_text_at_all(text in "\\PC{0,60}") {
        let fixture = Fixture::standard();
        let _ = fixture.eval(&format!("={text}"));
        let _ = fixture.eval(&format!("={{{{ {text} }}}}"));
    }
}

/// JSON the way webhook bodies and node outputs hold it, with the values where JavaScript and
/// Rust part ways: integers past 2^53, `-0`, integer-like keys, keys objects inherit.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        prop::sample::select(vec![0.5, -0.0, 1e21, 1e-7, 123.456, 2.0]).prop_map(Value::from),
        prop::sample::select(vec!["", "x", "Ada", "é ✓", "1", "null", "a\"b"])
            .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a",
        "b",
        "name",
        "x y",
        "0",
        "1",
        "01",
        "length",
        "toString",
        "__proto__",
        "é",
    ])
    .prop_map(str::to_owned)
}

/// A plain path from one of the roots the fast path knows.
fn plain_path() -> impl Strategy<Value = String> {
    let root = prop::sample::select(vec![
        "$json",
        "$('Prepare').item.json",
        "$('Webhook').item.json",
        "$node[\"Prepare\"].json",
        "$node.Prepare.json",
        "$('Unrun').item.json",
    ]);
    let step = prop_oneof![
        key().prop_map(|k| {
            if k.chars().all(|c| c.is_ascii_alphabetic()) {
                format!(".{k}")
            } else {
                format!("[\"{k}\"]")
            }
        }),
        key().prop_map(|k| format!("['{k}']")),
        (0usize..4).prop_map(|i| format!("[{i}]")),
    ];
    (root, prop::collection::vec(step, 0..4))
        .prop_map(|(root, steps)| root.to_owned() + &steps.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Wherever the fast path answers, JavaScript gives the same value, written the same way.
    #[test]
    fn the_fast_path_agrees_with_javascript(
        data in prop::collection::vec((key(), json_value()), 0..6),
        path in plain_path(),
        mixed in any::<bool>(),
    ) {
        let data: crate::engine::data::JsonObject = data.into_iter().collect();
        let mut fixture = Fixture::standard();
        fixture.input[0].json = data.clone();
        let prepare = fixture.run_data.get_mut("Prepare").and_then(|runs| runs.first_mut());
        if let Some(main) = prepare.and_then(|run| run.data.as_mut()).map(|d| &mut d.main) {
            if let Some(Some(items)) = main.first_mut() {
                items[0].json = data;
            }
        }
        let text = if mixed { format!("<{{{{ {path} }}}}>") } else { format!("{{{{ {path} }}}}") };
        let template = crate::expression::template::Template::parse(&text);
        let ctx = fixture.context();
        if let Some(fast) = crate::expression::fast_path(&template, &ctx) {
            let slow = crate::expression::Expressions::new(fixture.limits.clone())
                .evaluate_js(&template, &ctx);
            prop_assert_eq!(
                slow.as_ref().map(serde_json::Value::to_string),
                Ok(fast.to_string()),
                "{}", text
            );
        }
    }
}

/// The property above compares only where the fast path answers: it must answer the common
/// shapes, and leave the ones whose errors JavaScript words.
#[test]
fn the_fast_path_answers_the_common_references() {
    let fixture = Fixture::standard();
    let ctx = fixture.context();
    let fast = |code: &str| {
        let template = crate::expression::template::Template::parse(&format!("{{{{ {code} }}}}"));
        crate::expression::fast_path(&template, &ctx)
    };
    assert_eq!(fast("$json.name"), Some(serde_json::json!("Ada Lovelace")));
    assert_eq!(
        fast("$('Prepare').item.json.email"),
        Some(serde_json::json!("ada@example.com"))
    );
    assert_eq!(
        fast("$('Webhook').item.json.query.debug"),
        Some(serde_json::json!("1"))
    );
    assert_eq!(
        fast("$node[\"Prepare\"].json.age"),
        Some(serde_json::json!(36))
    );
    assert_eq!(
        fast("$node.Webhook.json.body.people[1].name"),
        Some(serde_json::json!("Alan Turing"))
    );
    // Not run, not upstream, or not there: JavaScript gives n8n's error or undefined.
    assert_eq!(fast("$('Unrun').item.json.x"), None);
    assert_eq!(fast("$('Nowhere').item.json.x"), None);
    assert_eq!(fast("$node[\"Prepare\"].json.missing"), None);
}
