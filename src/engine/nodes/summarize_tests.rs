use super::*;
use serde_json::json;

fn items(values: Vec<Value>) -> Vec<Item> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| Item::paired(v.as_object().expect("object").clone(), i))
        .collect()
}

fn aggregation(kind: &str, field: &str) -> Aggregation {
    serde_json::from_value(json!({"aggregation": kind, "field": field})).expect("aggregation")
}

fn options() -> Options {
    Options {
        dot_notation: true,
        ..Options::default()
    }
}

fn jsons(items: &[Item]) -> Vec<Value> {
    items
        .iter()
        .map(|i| Value::Object(i.json.clone()))
        .collect()
}

fn sales() -> Vec<Item> {
    items(vec![
        json!({"country": "DE", "city": "Berlin", "amount": 10, "tag": "a"}),
        json!({"country": "FR", "city": "Paris", "amount": 5.5, "tag": "b"}),
        json!({"country": "DE", "city": "Bonn", "amount": "7", "tag": "a"}),
        json!({"country": "DE", "city": "Berlin", "amount": 2, "tag": null}),
    ])
}

#[test]
fn every_aggregation_over_all_items() {
    let list = [
        aggregation("count", "tag"),
        aggregation("countUnique", "tag"),
        aggregation("sum", "amount"),
        aggregation("average", "amount"),
        aggregation("min", "amount"),
        aggregation("max", "city"),
        aggregation("append", "tag"),
        aggregation("concatenate", "city"),
    ];
    let out = summarize(&sales(), &list, &[], &options()).expect("summary");
    assert_eq!(
        jsons(&out),
        vec![json!({
            "count_tag": 3,
            "unique_count_tag": 2,
            "sum_amount": 17.5,
            "average_amount": 5.833333333333333,
            "min_amount": 2,
            "max_city": "Paris",
            "appended_tag": ["a", "b", "a"],
            "concatenated_city": "Berlin,Paris,Bonn,Berlin"
        })]
    );
    assert_eq!(out[0].lineage().len(), 4);
}

#[test]
fn splits_make_one_item_per_group_with_the_group_values() {
    let out = summarize(
        &sales(),
        &[aggregation("sum", "amount")],
        &["country".to_owned(), "city".to_owned()],
        &options(),
    )
    .expect("summary");
    assert_eq!(
        jsons(&out),
        vec![
            json!({"sum_amount": 12, "city": "Berlin", "country": "DE"}),
            json!({"sum_amount": 0, "city": "Bonn", "country": "DE"}),
            json!({"sum_amount": 5.5, "city": "Paris", "country": "FR"}),
        ]
    );
    let paired: Vec<usize> = out[0].lineage().iter().map(|p| p.item).collect();
    assert_eq!(paired, vec![0, 3]);
}

#[test]
fn a_single_item_nests_the_groups() {
    let single = Options {
        single_item: true,
        ..options()
    };
    let input = items(vec![
        json!({"k": "b", "n": 1}),
        json!({"k": 2, "n": 1}),
        json!({"k": "b", "n": 3}),
    ]);
    let out = summarize(
        &input,
        &[aggregation("sum", "n")],
        &["k".to_owned()],
        &single,
    )
    .expect("summary");
    let json = Value::Object(out[0].json.clone());
    assert_eq!(json, json!({"2": {"sum_n": 1}, "b": {"sum_n": 4}}));
    let keys: Vec<&String> = out[0].json.keys().collect();
    assert_eq!(keys, vec!["2", "b"]);
}

#[test]
fn version_one_groups_by_text_and_fails_on_missing_fields() {
    let input = items(vec![json!({"k": 1}), json!({"k": "1"}), json!({"x": 0})]);
    let v11 = summarize(
        &input,
        &[aggregation("count", "k")],
        &["k".to_owned()],
        &options(),
    )
    .expect("summary");
    assert_eq!(
        jsons(&v11),
        vec![
            json!({"count_k": 1, "k": 1}),
            json!({"count_k": 1, "k": "1"}),
            json!({"count_k": 0})
        ]
    );
    let v1 = Options {
        keys_as_text: true,
        fail_if_field_not_found: true,
        ..options()
    };
    let out =
        summarize(&input, &[aggregation("count", "k")], &["k".to_owned()], &v1).expect("summary");
    assert_eq!(
        jsons(&out),
        vec![
            json!({"count_k": 2, "k": "1"}),
            json!({"count_k": 0, "k": "undefined"})
        ]
    );
    let error = summarize(&input, &[aggregation("sum", "nope")], &[], &v1).expect_err("missing");
    assert_eq!(
        error.message,
        "The field 'nope' does not exist in any items"
    );
    let error = summarize(&input, &[aggregation("sum", "")], &[], &v1).expect_err("empty");
    assert!(error
        .message
        .starts_with("You need to add at least one aggregation"));
}

#[test]
fn empty_split_values_can_be_skipped_and_names_are_normalized() {
    let input = items(vec![
        json!({"a b": {"c": "x"}, "g": ""}),
        json!({"a b": {"c": "y"}, "g": "z"}),
    ]);
    let skip = Options {
        skip_empty_split_fields: true,
        ..options()
    };
    let out = summarize(
        &input,
        &[aggregation("concatenate", "[\"a b\"].c")],
        &["g".to_owned()],
        &skip,
    )
    .expect("summary");
    assert_eq!(
        jsons(&out),
        vec![json!({"concatenated_a_b_c": "y", "g": "z"})]
    );
}

#[test]
fn version_one_output_recorded_from_n8n() {
    // n8n 2.8.4, Summarize v1 split by "g" with "skip empty split fields".
    let input = items(vec![
        json!({"g": 1, "x": null, "o": {"a": 1}, "s": "3"}),
        json!({"g": "1", "x": "", "o": {"a": 1}}),
        json!({"x": 5, "o": [1, 2]}),
        json!({"g": "", "x": true, "o": "z"}),
        json!({"g": false, "x": "b", "o": [1, 3]}),
        json!({"g": 1, "x": "B", "o": [1, 2]}),
    ]);
    let list: Vec<Aggregation> = serde_json::from_value(json!([
        {"aggregation": "count", "field": "x", "includeEmpty": true},
        {"aggregation": "average", "field": "s"},
        {"aggregation": "concatenate", "field": "x", "includeEmpty": true, "separateBy": ", "},
        {"aggregation": "append", "field": "o", "includeEmpty": true},
        {"aggregation": "countUnique", "field": "o"},
        {"aggregation": "max", "field": "o"},
        {"aggregation": "min", "field": "x"}
    ]))
    .expect("aggregations");
    let v1 = Options {
        keys_as_text: true,
        skip_empty_split_fields: true,
        ..options()
    };
    let out = summarize(&input, &list, &["g".to_owned()], &v1).expect("summary");
    assert_eq!(
        jsons(&out),
        vec![
            json!({"count_x": 3, "average_s": null, "concatenated_x": "null, , B",
                   "appended_o": [{"a": 1}, {"a": 1}, [1, 2]], "unique_count_o": 3,
                   "max_o": {"a": 1}, "min_x": "B", "g": "1"}),
            json!({"count_x": 1, "average_s": null, "concatenated_x": "5", "appended_o": [[1, 2]],
                   "unique_count_o": 1, "max_o": [1, 2], "min_x": 5, "g": "undefined"}),
            json!({"count_x": 1, "average_s": null, "concatenated_x": "b", "appended_o": [[1, 3]],
                   "unique_count_o": 1, "max_o": [1, 3], "min_x": "b", "g": "false"}),
        ]
    );
    let paired: Vec<usize> = out[0].lineage().iter().map(|p| p.item).collect();
    assert_eq!(paired, vec![0, 1, 5]);
}
