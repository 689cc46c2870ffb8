//! The golden workflows of `golden/*.json`, each run on a fresh instance.
//!
//! A file holds `workflow` (nodes, connections, settings), `calls` (webhook requests with the
//! expected `status` and `json` or `text`), and `execution` (the expected `status`,
//! `lastNodeExecuted`, node outputs by name (first run), how many times nodes ran (`runs`), the
//! order of all node runs (`order`), custom data (`metadata`) and error `message` of the last
//! execution). Expected JSON is matched as a subset: every expected key must be there with that
//! value, lists must have the same length (headers the client sends, and times, are left out of
//! the files).

use serde_json::Value;

use crate::helpers::TestApp;
use crate::support;

/// Whether `actual` holds everything `expected` says.
pub fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(av, ev)| contains(av, ev))
        }
        (Value::Number(a), Value::Number(e)) => a.as_f64() == e.as_f64(),
        _ => actual == expected,
    }
}

async fn run_one(name: &str, golden: &Value) {
    let app = TestApp::spawn().await;
    let workflow_id = support::publish(&app, name, &golden["workflow"]).await;
    for (i, call) in golden["calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let headers: Vec<(String, String)> = call["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let header_refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = call.get("body");
        let response = support::call(
            &app,
            call["method"].as_str().unwrap_or("GET"),
            call["path"].as_str().expect("path"),
            body,
            &header_refs,
        )
        .await;
        let context = format!("{name}, call {i}: {} {}", response.status, response.text());
        if let Some(status) = call["status"].as_u64() {
            assert_eq!(u64::from(response.status.as_u16()), status, "{context}");
        }
        if let Some(json) = call.get("json") {
            assert!(
                contains(&response.json(), json),
                "{context}\nexpected {json}"
            );
        }
        if let Some(text) = call.get("text").and_then(Value::as_str) {
            assert_eq!(response.text(), text, "{context}");
        }
        for (header, value) in call["responseHeaders"].as_object().into_iter().flatten() {
            assert_eq!(
                response.header(header),
                value.as_str(),
                "{context}: header {header}"
            );
        }
    }
    if let Some(expected) = golden.get("execution") {
        let execution = support::last_execution(&app, &workflow_id).await;
        let context = format!("{name}: execution {}", execution);
        if let Some(status) = expected.get("status") {
            assert_eq!(&execution["status"], status, "{context}");
        }
        if let Some(last) = expected.get("lastNodeExecuted") {
            assert_eq!(
                &execution["data"]["resultData"]["lastNodeExecuted"], last,
                "{context}"
            );
        }
        if let Some(metadata) = expected.get("metadata") {
            assert_eq!(
                &execution["data"]["resultData"]["metadata"], metadata,
                "{context}"
            );
            // The executions API answers the same custom data as `customData`.
            assert_eq!(&execution["customData"], metadata, "{context}: customData");
        }
        if let Some(message) = expected.get("errorMessage") {
            assert_eq!(
                &execution["data"]["resultData"]["error"]["message"], message,
                "{context}"
            );
        }
        for (node, outputs) in expected["nodes"].as_object().into_iter().flatten() {
            let runs = &execution["data"]["resultData"]["runData"][node];
            let actual: Vec<Value> = runs[0]["data"]["main"]
                .as_array()
                .map(|outputs| {
                    outputs
                        .iter()
                        .map(|items| {
                            Value::Array(
                                items
                                    .as_array()
                                    .map(|l| l.iter().map(|i| i["json"].clone()).collect())
                                    .unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            assert!(
                contains(&Value::Array(actual.clone()), outputs),
                "{context}\nnode {node}: got {actual:?}, expected {outputs}"
            );
        }
        let run_data = &execution["data"]["resultData"]["runData"];
        for (node, count) in expected["runs"].as_object().into_iter().flatten() {
            let runs = run_data[node].as_array().map_or(0, Vec::len);
            assert_eq!(
                Some(runs as u64),
                count.as_u64(),
                "{context}: runs of {node}"
            );
        }
        if let Some(order) = expected.get("order") {
            // Every node run, in the order of its `executionIndex`.
            let mut runs: Vec<(u64, String)> = run_data
                .as_object()
                .into_iter()
                .flatten()
                .flat_map(|(name, runs)| {
                    runs.as_array()
                        .into_iter()
                        .flatten()
                        .map(move |r| (r["executionIndex"].as_u64().unwrap_or(0), name.clone()))
                })
                .collect();
            runs.sort();
            let names: Vec<Value> = runs.into_iter().map(|(_, n)| Value::String(n)).collect();
            assert_eq!(&Value::Array(names), order, "{context}: node order");
        }
        for node in expected["notRun"].as_array().into_iter().flatten() {
            let node = node.as_str().expect("name");
            assert!(
                execution["data"]["resultData"]["runData"]
                    .get(node)
                    .is_none(),
                "{context}: {node} should not have run"
            );
        }
    }
}

#[tokio::test]
async fn golden_workflows_answer_and_record_as_n8n_does() {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/engine/golden");
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .expect("golden folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden workflows");
    for file in files {
        let name = file
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).expect("read");
        let golden: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        run_one(&name, &golden).await;
    }
}

#[test]
fn subset_matching_is_strict_where_it_must_be() {
    use serde_json::json;
    assert!(contains(&json!({"a": 1, "b": 2}), &json!({"a": 1})));
    assert!(!contains(&json!({"a": 1}), &json!({"a": 2})));
    assert!(!contains(&json!([1, 2]), &json!([1])));
    assert!(contains(&json!([{"a": 1, "x": 0}]), &json!([{"a": 1}])));
    assert!(contains(&json!(3.0), &json!(3)));
}
