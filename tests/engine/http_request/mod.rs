//! The HTTP Request node, black-box: workflows published through the API call a local test
//! service (which records what it gets), and the executions are read back through the API.
//! Expected messages, wire formats and item shapes were checked against n8n 2.8.

mod answers;
mod auth;
mod aws;
mod google;
mod pages;
mod policy;
mod refresh;
mod requests;
mod server;

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::support::{call, credential, last_execution, output_json, publish};
use server::{Seen, TestServer};

pub(super) fn webhook(path: &str) -> Value {
    json!({"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
           "position": [0, 0], "webhookId": format!("{path}-hook"),
           "parameters": {"path": path, "httpMethod": "POST", "responseMode": "lastNode", "options": {}}})
}

/// A workflow: Webhook → HTTP Request (`parameters`, `extra` merged into the node).
pub(super) fn workflow(path: &str, version: f64, parameters: Value, extra: Value) -> Value {
    let mut node = json!({"id": "http", "name": "HTTP Request", "type": "n8n-nodes-base.httpRequest",
                          "typeVersion": version, "position": [200, 0], "parameters": parameters});
    if let (Some(node), Some(extra)) = (node.as_object_mut(), extra.as_object()) {
        node.extend(extra.clone());
    }
    json!({
        "nodes": [webhook(path), node],
        "connections": {"Webhook": {"main": [[{"node": "HTTP Request", "type": "main", "index": 0}]]}},
    })
}

/// Publishes the workflow, calls its webhook, and answers the finished execution.
pub(super) async fn run(
    app: &TestApp,
    path: &str,
    version: f64,
    parameters: Value,
    extra: Value,
) -> Value {
    let id = publish(app, path, &workflow(path, version, parameters, extra)).await;
    call(
        app,
        "POST",
        &format!("/webhook/{path}"),
        Some(&json!({"n": 1})),
        &[],
    )
    .await;
    last_execution(app, &id).await
}

pub(super) fn http_output(execution: &Value) -> Vec<Value> {
    output_json(execution, "HTTP Request", 0, 0)
}

pub(super) fn http_error(execution: &Value) -> Value {
    execution["data"]["resultData"]["runData"]["HTTP Request"][0]["error"].clone()
}

pub(super) fn uses(kind: &str, id: &str) -> Value {
    json!({"credentials": {kind: {"id": id, "name": format!("{kind} test")}}})
}

/// Runs a GET of `path` with generic credential `kind` (a new credential of `data`), and
/// answers what the service saw and the execution.
pub(super) async fn with_generic(
    app: &TestApp,
    server: &TestServer,
    name: &str,
    kind: &str,
    data: Value,
    path: &str,
) -> (Seen, Value) {
    let id = credential(app, kind, data).await;
    let execution = run(
        app,
        name,
        4.2,
        json!({"url": server.url(path), "authentication": "genericCredentialType",
               "genericAuthType": kind, "options": {}}),
        uses(kind, &id),
    )
    .await;
    let seen = server.seen_at(path).last().cloned().expect("a request");
    (seen, execution)
}
