//! The data-transformation nodes (Split Out, Aggregate, Limit, Sort, Remove Duplicates,
//! Summarize, Rename Keys, Date & Time, Crypto, Item Lists) run from a webhook: the answer,
//! and what the execution records (outputs, pairing, errors). Expected values were checked
//! against n8n 2.8.4 where they are n8n's behaviour.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::support::{self, call, last_execution, output_json, publish};

/// Webhook (answering with every item of the last node) → Split Out of `body.rows` → `nodes`.
fn workflow(path: &str, nodes: Vec<Value>) -> Value {
    let mut all = vec![
        json!({"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
               "position": [0, 0], "webhookId": format!("{path}-hook"),
               "parameters": {"path": path, "httpMethod": "POST", "responseMode": "lastNode",
                              "responseData": "allEntries", "options": {}}}),
        json!({"id": "split", "name": "Rows", "type": "n8n-nodes-base.splitOut", "typeVersion": 1,
               "position": [200, 0], "parameters": {"fieldToSplitOut": "body.rows", "options": {}}}),
    ];
    all.extend(nodes);
    let mut connections = serde_json::Map::new();
    for pair in all.windows(2) {
        connections.insert(
            pair[0]["name"].as_str().expect("name").to_owned(),
            json!({"main": [[{"node": pair[1]["name"], "type": "main", "index": 0}]]}),
        );
    }
    json!({"nodes": all, "connections": connections})
}

fn node(name: &str, kind: &str, version: f64, parameters: Value) -> Value {
    json!({"id": name, "name": name, "type": format!("n8n-nodes-base.{kind}"), "typeVersion": version,
           "position": [400, 0], "parameters": parameters})
}

/// Publishes the workflow, posts `rows`, answers the response and the execution.
async fn run(app: &TestApp, path: &str, nodes: Vec<Value>, rows: Value) -> (u16, Value, Value) {
    let id = publish(app, path, &workflow(path, nodes)).await;
    let answer = call(
        app,
        "POST",
        &format!("/webhook/{path}"),
        Some(&json!({"rows": rows})),
        &[],
    )
    .await;
    let status = answer.status.as_u16();
    let body = if status == 200 {
        answer.json()
    } else {
        Value::Null
    };
    (status, body, last_execution(app, &id).await)
}

fn paired(execution: &Value, node: &str) -> Vec<Value> {
    execution["data"]["resultData"]["runData"][node][0]["data"]["main"][0]
        .as_array()
        .map(|items| items.iter().map(|i| i["pairedItem"].clone()).collect())
        .unwrap_or_default()
}

fn error_message(execution: &Value) -> Value {
    execution["data"]["resultData"]["error"]["message"].clone()
}

#[tokio::test]
async fn split_out_keeps_other_fields_and_pairs_each_part_with_its_item() {
    let app = TestApp::spawn().await;
    let split = node(
        "Tags",
        "splitOut",
        1.0,
        json!({"fieldToSplitOut": "tags", "include": "allOtherFields",
        "options": {"destinationFieldName": "tag"}}),
    );
    let (status, body, execution) = run(
        &app,
        "split-tags",
        vec![split],
        json!([{"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": "c"}]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!([{"id": 1, "tag": "a"}, {"id": 1, "tag": "b"}, {"id": 2, "tag": "c"}])
    );
    assert_eq!(
        paired(&execution, "Tags"),
        vec![json!({"item": 0}), json!({"item": 0}), json!({"item": 1})]
    );
}

#[tokio::test]
async fn aggregating_all_item_data_pairs_the_new_item_with_the_kept_items() {
    let app = TestApp::spawn().await;
    let aggregate = node(
        "All",
        "aggregate",
        1.0,
        json!({"aggregate": "aggregateAllItemData",
        "destinationFieldName": "all", "include": "specifiedFields", "fieldsToInclude": "k, missing", "options": {}}),
    );
    let (_, body, execution) = run(
        &app,
        "aggregate-all",
        vec![aggregate],
        json!([{"k": 2, "x": 1}, {"x": 2}, {"k": 3}]),
    )
    .await;
    assert_eq!(body, json!([{"all": [{"k": 2}, {"k": 3}]}]));
    assert_eq!(
        paired(&execution, "All"),
        vec![json!([{"item": 0}, {"item": 2}])]
    );
}

#[tokio::test]
async fn removing_other_fields_pairs_items_by_their_kept_position_as_n8n_does() {
    let app = TestApp::spawn().await;
    let dedupe = node(
        "Dedupe",
        "removeDuplicates",
        2.0,
        json!({"compare": "selectedFields",
        "fieldsToCompare": "k", "options": {"removeOtherFields": true}}),
    );
    let (_, body, execution) = run(
        &app,
        "dedupe-trim",
        vec![dedupe],
        json!([{"k": 2, "x": 1}, {"k": 1, "x": 2}, {"k": 2, "x": 3}, {"k": 3}]),
    )
    .await;
    assert_eq!(body, json!([{"k": 2}, {"k": 1}, {"k": 3}]));
    assert_eq!(
        paired(&execution, "Dedupe"),
        vec![json!({"item": 0}), json!({"item": 1}), json!({"item": 2})]
    );
}

#[tokio::test]
async fn a_summary_in_a_single_item_nests_groups_under_their_values() {
    let app = TestApp::spawn().await;
    let summarize = node(
        "Sum",
        "summarize",
        1.1,
        json!({
        "fieldsToSummarize": {"values": [{"aggregation": "sum", "field": "n"}]},
        "fieldsToSplitBy": "group", "options": {"outputFormat": "singleItem"}}),
    );
    let (_, body, execution) = run(
        &app,
        "summary-single",
        vec![summarize],
        json!([{"group": "b", "n": 1}, {"group": 2, "n": 4}, {"group": "b", "n": 2.5}]),
    )
    .await;
    assert_eq!(body, json!([{"2": {"sum_n": 4}, "b": {"sum_n": 3.5}}]));
    assert_eq!(
        paired(&execution, "Sum"),
        vec![json!([{"item": 0}, {"item": 1}, {"item": 2}])]
    );
}

#[tokio::test]
async fn limit_keeps_the_last_items_unchanged() {
    let app = TestApp::spawn().await;
    let limit = node(
        "Last",
        "limit",
        1.0,
        json!({"maxItems": 2, "keep": "lastItems"}),
    );
    let (_, body, execution) = run(
        &app,
        "limit-last",
        vec![limit],
        json!([{"n": 1}, {"n": 2}, {"n": 3}]),
    )
    .await;
    assert_eq!(body, json!([{"n": 2}, {"n": 3}]));
    assert_eq!(output_json(&execution, "Last", 0, 0).len(), 2);
}

#[tokio::test]
async fn sorting_by_code_fails_the_run_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let sort = node(
        "Sort",
        "sort",
        1.0,
        json!({"type": "code", "code": "return 0;"}),
    );
    let (status, _, execution) = run(&app, "sort-code", vec![sort], json!([{"n": 1}])).await;
    assert_ne!(status, 200);
    assert_eq!(execution["status"], "error");
    assert_eq!(
        error_message(&execution),
        "sort type code is not supported by this server"
    );
}

#[tokio::test]
async fn a_missing_sort_field_fails_with_n8ns_message() {
    let app = TestApp::spawn().await;
    let sort = node(
        "Sort",
        "sort",
        1.0,
        json!({"sortFieldsUi": {"sortField": [{"fieldName": "nope"}]}}),
    );
    let (_, _, execution) = run(&app, "sort-missing", vec![sort], json!([{"n": 1}])).await;
    assert_eq!(
        error_message(&execution),
        "Couldn't find the field 'nope' in the input data"
    );
}

#[tokio::test]
async fn deduplicating_across_executions_answers_an_honest_error() {
    let app = TestApp::spawn().await;
    let dedupe = node(
        "Seen",
        "removeDuplicates",
        2.0,
        json!({"operation": "removeItemsSeenInPreviousExecutions",
        "dedupeValue": "={{ $json.id }}"}),
    );
    let (_, _, execution) = run(&app, "dedupe-history", vec![dedupe], json!([{"id": 1}])).await;
    assert_eq!(execution["status"], "error");
    assert_eq!(
        error_message(&execution),
        "Removing items processed in previous executions is not supported by this server"
    );
}

#[tokio::test]
async fn crypto_writes_hmacs_and_random_values_into_flat_fields() {
    let app = TestApp::spawn().await;
    let hmac = node(
        "Hmac",
        "crypto",
        1.0,
        json!({"action": "hmac", "type": "SHA256", "value": "={{ $json.text }}",
        "secret": "key", "dataPropertyName": "sig.hex"}),
    );
    let mut id = node(
        "Id",
        "crypto",
        1.0,
        json!({"action": "generate", "dataPropertyName": "id"}),
    );
    id["position"] = json!([600, 0]);
    let (_, body, _) = run(
        &app,
        "crypto-hmac",
        vec![hmac, id],
        json!([{"text": "The quick brown fox jumps over the lazy dog"}]),
    )
    .await;
    assert_eq!(
        body[0]["sig.hex"],
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
    let uuid = body[0]["id"].as_str().expect("uuid");
    assert_eq!(uuid.len(), 36);
    assert_eq!(uuid.as_bytes()[14], b'4');
}

#[tokio::test]
async fn date_time_writes_the_current_date_and_fails_bad_dates_per_item() {
    let app = TestApp::spawn().await;
    let now = node(
        "Now",
        "dateTime",
        2.0,
        json!({"operation": "getCurrentDate", "includeTime": false,
        "outputFieldName": "today", "options": {"timezone": "Asia/Tokyo", "includeInputFields": true}}),
    );
    let mut format = node(
        "Format",
        "dateTime",
        2.0,
        json!({"operation": "formatDate", "date": "={{ $json.d }}",
        "format": "yyyy-MM-dd", "options": {"includeInputFields": true}}),
    );
    format["onError"] = json!("continueRegularOutput");
    format["position"] = json!([600, 0]);
    let (_, body, execution) = run(
        &app,
        "dates-now",
        vec![now, format],
        json!([{"d": "2024-02-29T10:00:00Z"}, {"d": "not a date"}]),
    )
    .await;
    let today = body[0]["today"].as_str().expect("today");
    assert!(today.ends_with("T00:00:00.000+09:00"), "{today}");
    assert_eq!(body[0]["formattedDate"], "2024-02-29");
    assert_eq!(body[1], json!({"error": "Invalid date format"}));
    assert_eq!(execution["status"], "success");
}

#[tokio::test]
async fn rename_keys_with_an_invalid_expression_fails_the_item() {
    let app = TestApp::spawn().await;
    let rename = node(
        "Rename",
        "renameKeys",
        1.0,
        json!({"additionalOptions": {"regexReplacement":
        {"replacements": [{"searchRegex": "(", "replaceRegex": "x"}]}}}),
    );
    let (_, _, execution) = run(&app, "rename-bad", vec![rename], json!([{"a": 1}])).await;
    assert_eq!(execution["status"], "error");
    assert!(error_message(&execution)
        .as_str()
        .is_some_and(|m| m.starts_with("Invalid regular expression: /(/")));
}

#[tokio::test]
async fn versions_n8n_has_but_this_server_does_not_are_refused_at_publish() {
    let app = TestApp::spawn().await;
    let old = node("Old", "dateTime", 1.0, json!({}));
    let id = support::create(&app, "old-date", &workflow("old-date", vec![old])).await;
    let refused = app
        .post(&format!("/api/v1/workflows/{id}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.text().contains("Old"), "{}", refused.text());
}

#[tokio::test]
async fn item_lists_3_1_orders_duplicates_by_type_and_summarizes_by_text() {
    let app = TestApp::spawn().await;
    let dedupe = node(
        "Dedupe",
        "itemLists",
        3.1,
        json!({"operation": "removeDuplicates",
        "compare": "selectedFields", "fieldsToCompare": "k", "options": {}}),
    );
    let mut summarize = node(
        "Sum",
        "itemLists",
        3.1,
        json!({"operation": "summarize",
        "fieldsToSummarize": {"values": [{"aggregation": "count", "field": "x"}]}, "fieldsToSplitBy": "k", "options": {}}),
    );
    summarize["position"] = json!([600, 0]);
    let (_, body, execution) = run(
        &app,
        "item-lists",
        vec![dedupe, summarize],
        json!([{"k": 2, "x": 1}, {"k": "2", "x": 2}, {"k": 2, "x": 3}, {"k": null}, {"k": [1]}, {"k": null, "x": 5}]),
    )
    .await;
    assert_eq!(
        output_json(&execution, "Dedupe", 0, 0),
        vec![
            json!({"k": 2, "x": 1}),
            json!({"k": "2", "x": 2}),
            json!({"k": null}),
            json!({"k": [1]})
        ]
    );
    assert_eq!(
        body,
        json!([{"k": "2", "count_x": 2}, {"k": "null", "count_x": 0}, {"k": "[1]", "count_x": 0}])
    );
    assert_eq!(
        paired(&execution, "Sum"),
        vec![
            json!([{"item": 0}, {"item": 1}]),
            json!([{"item": 2}]),
            json!([{"item": 3}])
        ]
    );
}

#[tokio::test]
async fn crypto_hashes_a_posted_file_and_leaves_the_file_behind() {
    let app = TestApp::spawn().await;
    let mut flow = workflow("hash-file", vec![]);
    let nodes = flow["nodes"].as_array_mut().expect("nodes");
    nodes.truncate(1);
    nodes.push(node(
        "Hash",
        "crypto",
        1.0,
        json!({"action": "hash", "type": "MD5", "binaryData": true,
        "binaryPropertyName": "data", "dataPropertyName": "md5"}),
    ));
    flow["connections"] =
        json!({"Webhook": {"main": [[{"node": "Hash", "type": "main", "index": 0}]]}});
    let id = publish(&app, "hash-file", &flow).await;
    let answer = call(
        &app,
        "POST",
        "/webhook/hash-file",
        Some(&json!("hello")),
        &[("content-type", "application/octet-stream")],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    // n8n 2.8.4 answers the same digest and keeps no file on the new item.
    assert_eq!(answer.json()[0]["md5"], "5d41402abc4b2a76b9719d911017c592");
    let execution = last_execution(&app, &id).await;
    let item = &execution["data"]["resultData"]["runData"]["Hash"][0]["data"]["main"][0][0];
    assert!(item.get("binary").is_none(), "{item}");
}

#[tokio::test]
async fn a_posted_file_splits_out_and_aggregates_back_with_its_binary() {
    let app = TestApp::spawn().await;
    let mut flow = workflow("split-files", vec![]);
    let nodes = flow["nodes"].as_array_mut().expect("nodes");
    nodes.truncate(1);
    nodes.push(node(
        "Files",
        "splitOut",
        1.0,
        json!({"fieldToSplitOut": "$binary", "options": {}}),
    ));
    let mut aggregate = node(
        "All",
        "aggregate",
        1.0,
        json!({"aggregate": "aggregateAllItemData",
        "options": {"includeBinaries": true}}),
    );
    aggregate["position"] = json!([600, 0]);
    nodes.push(aggregate);
    flow["connections"] = json!({
        "Webhook": {"main": [[{"node": "Files", "type": "main", "index": 0}]]},
        "Files": {"main": [[{"node": "All", "type": "main", "index": 0}]]},
    });
    let id = publish(&app, "split-files", &flow).await;
    let answer = call(
        &app,
        "POST",
        "/webhook/split-files",
        Some(&json!("hello")),
        &[("content-type", "application/octet-stream")],
    )
    .await;
    // n8n 2.8.4: one item with no fields carrying the file, gathered into `data: [{}]`.
    assert_eq!(answer.json(), json!([{"data": [{}]}]));
    let execution = last_execution(&app, &id).await;
    let runs = &execution["data"]["resultData"]["runData"];
    let file = &runs["Files"][0]["data"]["main"][0][0];
    assert_eq!(file["json"], json!({}));
    assert_eq!(
        file["binary"]["data"]["mimeType"],
        "application/octet-stream"
    );
    let gathered = &runs["All"][0]["data"]["main"][0][0];
    assert_eq!(
        gathered["binary"]["data"]["data"],
        file["binary"]["data"]["data"]
    );
    assert_eq!(gathered["pairedItem"], json!([{"item": 0}]));
}
