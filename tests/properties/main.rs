//! Property tests of the parsers that face clients: whatever bytes arrive, they answer a
//! value or a clean error, never a panic, and what they accept keeps its invariants.
//! (`proptest` keeps any failing case it finds under `proptest-regressions/`, committed as
//! the corpus of past failures.)

mod engine_runs;

use flowgate::api::v1::data_tables::query_filter;
use flowgate::db::data_tables::{Cell, ColumnRow, ColumnType, Condition};
use flowgate::domain::api_key::{RawApiKey, KEY_LEN, PREFIX};
use flowgate::domain::workflow::{self, BodyKind};
use flowgate::error::ApiError;
use flowgate::extract::{parse_body, parse_query};
use flowgate::pagination::{PageQuery, MAX_LIMIT};
use proptest::prelude::*;
use serde_json::Value;

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_owned()),
                    Just("nodes".to_owned()),
                    Just("connections".to_owned()),
                    Just("settings".to_owned()),
                    Just("type".to_owned()),
                    Just("position".to_owned()),
                    Just("staticData".to_owned()),
                    "[a-zA-Z]{1,8}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_key_parser_accepts_only_well_formed_keys(input in "\\PC{0,80}") {
        if let Some(key) = RawApiKey::parse(&input) {
            prop_assert_eq!(key.expose().len(), KEY_LEN);
            prop_assert!(key.expose().starts_with(PREFIX));
        }
    }

    #[test]
    fn random_keys_with_the_right_shape_rarely_pass_the_checksum(body in "[A-Za-z0-9]{46}") {
        let candidate = format!("{PREFIX}{body}");
        // A CRC-32 in six base-62 digits lets about one in 4 billion random strings through.
        if RawApiKey::parse(&candidate).is_some() {
            prop_assert_eq!(RawApiKey::parse(&candidate).map(|k| k.expose().to_owned()), Some(candidate));
        }
    }

    #[test]
    fn any_cursor_is_a_page_of_at_most_250_or_a_clean_400(cursor in "\\PC{0,120}", limit in prop::option::of(-5i64..2000)) {
        let mut query = format!("cursor={}", urlencoding(&cursor));
        if let Some(l) = limit {
            query.push_str(&format!("&limit={l}"));
        }
        match parse_query::<PageQuery>(&query).and_then(|q| q.page()) {
            Ok(page) => prop_assert!((1..=MAX_LIMIT).contains(&page.limit)),
            Err(ApiError::BadRequest(_)) => {}
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn base64_json_cursors_never_buy_more_than_250_items(limit in any::<i64>(), offset in any::<i64>()) {
        use base64::Engine;
        let json = format!("{{\"limit\":{limit},\"offset\":{offset}}}");
        let cursor = base64::engine::general_purpose::STANDARD.encode(json);
        if let Ok(page) = parse_query::<PageQuery>(&format!("cursor={}", urlencoding(&cursor))).and_then(|q| q.page()) {
            prop_assert!((1..=MAX_LIMIT).contains(&page.limit));
        }
        if let Ok(page) = parse_query::<PageQuery>(&format!("cursor={}", urlencoding(&cursor))).and_then(|q| q.id_page()) {
            prop_assert!((1..=MAX_LIMIT).contains(&page.limit));
        }
    }

    #[test]
    fn any_body_bytes_parse_or_answer_400(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        match parse_body::<Value>(&bytes) {
            Ok(_) | Err(ApiError::BadRequest(_)) => {}
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn any_json_is_a_valid_workflow_or_a_validation_message(body in json_value(), update in any::<bool>()) {
        let kind = if update { BodyKind::Update } else { BodyKind::Create };
        match workflow::parse(body, kind) {
            Ok(input) => {
                for node in &input.nodes {
                    prop_assert!(node.get("id").is_some_and(Value::is_string), "every node gets an id");
                }
                prop_assert!(input.settings.is_object());
                prop_assert!(input.connections.is_object());
            }
            Err(message) => prop_assert!(message.starts_with("request/body"), "{message}"),
        }
    }
}

/// The columns the filter properties run against.
fn filter_columns() -> Vec<ColumnRow> {
    [
        ("name", "string"),
        ("age", "number"),
        ("ok", "boolean"),
        ("due", "date"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, kind))| ColumnRow {
        id: format!("col{i:013}"),
        data_table_id: "AAAAAAAAAAAAAAAA".to_owned(),
        name: (*name).to_owned(),
        type_name: (*kind).to_owned(),
        position: i as i64,
    })
    .collect()
}

/// Filter-shaped JSON: mostly well-formed, with arbitrary names, conditions and values.
fn filter_json() -> impl Strategy<Value = Value> {
    let item = (
        prop_oneof![
            Just("name"),
            Just("age"),
            Just("ok"),
            Just("due"),
            Just("id"),
            Just("createdAt"),
            Just("nope"),
            Just("\"x\"; drop")
        ],
        prop_oneof![
            Just("eq"),
            Just("neq"),
            Just("like"),
            Just("ilike"),
            Just("gt"),
            Just("gte"),
            Just("lt"),
            Just("lte"),
            Just("between")
        ],
        json_value(),
    )
        .prop_map(|(c, op, v)| serde_json::json!({ "columnName": c, "condition": op, "value": v }));
    (
        prop_oneof![Just("and"), Just("or"), Just("xor")],
        prop::collection::vec(item, 0..5),
    )
        .prop_map(|(kind, filters)| serde_json::json!({ "type": kind, "filters": filters }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_filter_text_is_a_checked_filter_or_a_clean_400(text in "\\PC{0,120}") {
        match query_filter(&text, &filter_columns(), "empty") {
            Ok(_) | Err(ApiError::BadRequest(_)) => {}
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn accepted_filters_name_only_known_columns_with_values_of_their_type(raw in filter_json()) {
        let columns = filter_columns();
        match query_filter(&raw.to_string(), &columns, "empty") {
            Ok(filter) => {
                prop_assert!(!filter.predicates.is_empty());
                for p in &filter.predicates {
                    let kind = match p.column.as_str() {
                        "id" => ColumnType::Number,
                        "createdAt" | "updatedAt" => ColumnType::Date,
                        other => {
                            let column = columns.iter().find(|c| c.name == other);
                            prop_assert!(column.is_some(), "unknown column {other} accepted");
                            column.map(ColumnRow::column_type).unwrap_or(ColumnType::String)
                        }
                    };
                    let fits = match (&p.value, kind) {
                        (Cell::Null(_), _) => matches!(p.condition, Condition::Eq | Condition::Neq),
                        (Cell::Integer(_), ColumnType::Number) => p.column == "id",
                        (Cell::Number(n), ColumnType::Number) => n.is_finite(),
                        (Cell::Boolean(_), ColumnType::Boolean) => true,
                        (Cell::Text(t), ColumnType::Date) => t.len() == 24 && t.ends_with('Z'),
                        (Cell::Text(t), ColumnType::String) => !t.contains('\0'),
                        _ => false,
                    };
                    prop_assert!(fits, "{:?} on a {:?} column", p.value, kind);
                }
            }
            Err(ApiError::BadRequest(_)) => {}
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}

fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
