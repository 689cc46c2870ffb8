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
