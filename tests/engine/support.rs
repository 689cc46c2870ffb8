//! Shared steps of the engine tests: publish a workflow, call a webhook, read executions.

use axum::http::Method;
use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};

/// Creates `workflow` (nodes, connections, settings) and publishes it; answers its id.
pub async fn publish(app: &TestApp, name: &str, workflow: &Value) -> String {
    let id = create(app, name, workflow).await;
    let published = app
        .post(&format!("/api/v1/workflows/{id}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(published.status, 200, "publish: {}", published.text());
    id
}

/// Creates `workflow` without publishing it; answers its id.
pub async fn create(app: &TestApp, name: &str, workflow: &Value) -> String {
    let body = json!({
        "name": name,
        "nodes": workflow["nodes"],
        "connections": workflow.get("connections").cloned().unwrap_or(json!({})),
        "settings": workflow.get("settings").cloned().unwrap_or(json!({"executionOrder": "v1"})),
    });
    let created = app
        .post("/api/v1/workflows")
        .key(&app.owner_key)
        .json(body)
        .send()
        .await;
    assert_eq!(created.status, 200, "create: {}", created.text());
    created.json()["id"].as_str().expect("id").to_owned()
}

/// Creates a credential of `kind` holding `data` (owned by the owner's project); answers its id.
pub async fn credential(app: &TestApp, kind: &str, data: Value) -> String {
    let created = app
        .post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(json!({"name": format!("{kind} test"), "type": kind, "data": data}))
        .send()
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    created.json()["id"].as_str().expect("id").to_owned()
}

/// Calls a webhook path (with query) with an optional body and headers.
pub async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = app.request(method, path);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    match body {
        Some(Value::String(text)) => request.raw(text.clone().into_bytes()).send().await,
        Some(json) => request.json(json.clone()).send().await,
        None => request.send().await,
    }
}

/// The newest execution of a workflow, with its data.
pub async fn last_execution(app: &TestApp, workflow_id: &str) -> Value {
    for _ in 0..200 {
        let list = app
            .get(&format!(
                "/api/v1/executions?workflowId={workflow_id}&includeData=true&limit=1"
            ))
            .key(&app.owner_key)
            .send()
            .await;
        assert_eq!(list.status, 200, "{}", list.text());
        if let Some(first) = list.json()["data"]
            .as_array()
            .and_then(|d| d.first())
            .cloned()
        {
            if first["status"] != "running" && first["status"] != "new" {
                return first;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no finished execution of workflow {workflow_id}");
}

/// Every execution of a workflow (newest first), without data.
pub async fn executions(app: &TestApp, workflow_id: &str) -> Vec<Value> {
    let list = app
        .get(&format!(
            "/api/v1/executions?workflowId={workflow_id}&limit=250"
        ))
        .key(&app.owner_key)
        .send()
        .await;
    list.json()["data"].as_array().cloned().unwrap_or_default()
}

/// The json of every item of a node's run output `output`.
pub fn output_json(execution: &Value, node: &str, run: usize, output: usize) -> Vec<Value> {
    execution["data"]["resultData"]["runData"][node][run]["data"]["main"][output]
        .as_array()
        .map(|items| items.iter().map(|i| i["json"].clone()).collect())
        .unwrap_or_default()
}

/// Polls an execution until it has `status` (the run may finish after the answer).
pub async fn wait_for_status(app: &TestApp, id: &str, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        let found = app
            .get(&format!("/api/v1/executions/{id}?includeData=true"))
            .key(&app.owner_key)
            .send()
            .await;
        last = found.json();
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("execution {id} never reached {status}: {last}");
}

/// Posts `body` with `content_type` to the production webhook at `path`.
pub async fn upload(app: &TestApp, path: &str, body: Vec<u8>, content_type: &str) -> Resp {
    app.post(&format!("/webhook/{path}"))
        .header("content-type", content_type)
        .raw(body)
        .send()
        .await
}
