//! How published workflows run: webhook registration, refusals at publish, saving rules,
//! error workflows, and the execution records they leave.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::support::{self, call, last_execution, publish};

fn webhook(name: &str, path: &str, mode: &str) -> Value {
    json!({"id": name, "name": name, "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
           "webhookId": format!("{path}-hook"), "parameters": {"path": path, "responseMode": mode, "options": {}}})
}

fn node(name: &str, kind: &str, parameters: Value) -> Value {
    json!({"id": name, "name": name, "type": kind, "typeVersion": 1, "position": [200, 0], "parameters": parameters})
}

fn chain(names: &[&str]) -> Value {
    let mut connections = serde_json::Map::new();
    for pair in names.windows(2) {
        connections.insert(
            pair[0].to_owned(),
            json!({"main": [[{"node": pair[1], "type": "main", "index": 0}]]}),
        );
    }
    Value::Object(connections)
}

#[tokio::test]
async fn an_unknown_webhook_answers_n8ns_404() {
    let app = TestApp::spawn().await;
    let response = call(&app, "GET", "/webhook/nothing/here", None, &[]).await;
    assert_eq!(response.status, 404);
    assert_eq!(
        response.json()["message"],
        "The requested webhook \"GET nothing/here\" is not registered."
    );
    assert!(response.json()["hint"]
        .as_str()
        .is_some_and(|h| h.contains("must be active")));
    let test = call(&app, "GET", "/webhook-test/anything", None, &[]).await;
    assert_eq!(test.status, 404);
    assert_eq!(
        test.json()["message"],
        "The requested webhook \"anything\" is not registered."
    );
}

#[tokio::test]
async fn unsupported_nodes_are_refused_at_publish_with_their_names() {
    let app = TestApp::spawn().await;
    let workflow = json!({
        "nodes": [webhook("Webhook", "x", "lastNode"), node("Sheet", "n8n-nodes-base.googleSheets", json!({}))],
        "connections": chain(&["Webhook", "Sheet"]),
    });
    let id = support::create(&app, "unsupported", &workflow).await;
    let refused = app
        .post(&format!("/api/v1/workflows/{id}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    let message = refused.message();
    assert!(
        message.contains("\"Sheet\"") && message.contains("n8n-nodes-base.googleSheets"),
        "{message}"
    );
    // Nothing was published and nothing answers.
    let workflow = app
        .get(&format!("/api/v1/workflows/{id}"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(workflow.json()["active"], false);
    assert_eq!(call(&app, "GET", "/webhook/x", None, &[]).await.status, 404);
}

#[tokio::test]
async fn two_workflows_cannot_take_the_same_webhook() {
    let app = TestApp::spawn().await;
    let workflow = json!({"nodes": [webhook("Webhook", "same", "onReceived")]});
    publish(&app, "first", &workflow).await;
    let second = support::create(&app, "second", &workflow).await;
    let refused = app
        .post(&format!("/api/v1/workflows/{second}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    refused.assert_error(400, "There is a conflict with one of the webhooks.");
}

#[tokio::test]
async fn unpublishing_removes_the_webhook_and_republishing_restores_it() {
    let app = TestApp::spawn().await;
    let id = publish(
        &app,
        "toggle",
        &json!({"nodes": [webhook("Webhook", "toggle", "onReceived")]}),
    )
    .await;
    assert_eq!(
        call(&app, "GET", "/webhook/toggle", None, &[]).await.status,
        200
    );
    let off = app
        .post(&format!("/api/v1/workflows/{id}/deactivate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(
        call(&app, "GET", "/webhook/toggle", None, &[]).await.status,
        404
    );
    let on = app
        .post(&format!("/api/v1/workflows/{id}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(on.status, 200);
    assert_eq!(
        call(&app, "GET", "/webhook/toggle", None, &[]).await.status,
        200
    );
    let archived = app
        .post(&format!("/api/v1/workflows/{id}/archive"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(archived.status, 200);
    assert_eq!(
        call(&app, "GET", "/webhook/toggle", None, &[]).await.status,
        404
    );
}

#[tokio::test]
async fn the_published_version_runs_not_the_draft() {
    let app = TestApp::spawn().await;
    let published = json!({
        "nodes": [webhook("Webhook", "version", "lastNode"), node("Stop", "n8n-nodes-base.stopAndError", json!({"errorMessage": "published"}))],
        "connections": chain(&["Webhook", "Stop"]),
    });
    let id = publish(&app, "versions", &published).await;
    // A draft saved without re-publishing does not change what runs.
    let draft = json!({
        "name": "versions",
        "nodes": [webhook("Webhook", "version", "lastNode"), node("Stop", "n8n-nodes-base.stopAndError", json!({"errorMessage": "draft"}))],
        "connections": chain(&["Webhook", "Stop"]),
        "settings": {"executionOrder": "v1"},
    });
    let saved = app
        .put(&format!("/api/v1/workflows/{id}?publishIfActive=false"))
        .key(&app.owner_key)
        .json(draft)
        .send()
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(
        call(&app, "GET", "/webhook/version", None, &[])
            .await
            .status,
        500
    );
    let execution = last_execution(&app, &id).await;
    assert_eq!(
        execution["data"]["resultData"]["error"]["message"],
        "published"
    );
}

#[tokio::test]
async fn parameterised_paths_hand_their_values_to_the_run() {
    let app = TestApp::spawn().await;
    let hook = json!({"id": "w", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
                      "webhookId": "4f0e9a3c-0000-4000-8000-000000000001",
                      "parameters": {"path": "users/:id/orders/:order", "responseMode": "lastNode", "options": {}}});
    publish(&app, "params", &json!({"nodes": [hook]})).await;
    let response = call(
        &app,
        "GET",
        "/webhook/4f0e9a3c-0000-4000-8000-000000000001/users/7/orders/99",
        None,
        &[],
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["params"], json!({"id": "7", "order": "99"}));
}

#[tokio::test]
async fn bodies_are_read_by_their_content_type() {
    let app = TestApp::spawn().await;
    let mut hook = webhook("Webhook", "body", "lastNode");
    hook["parameters"]["httpMethod"] = json!("POST");
    publish(&app, "bodies", &json!({"nodes": [hook]})).await;
    let json_body = call(
        &app,
        "POST",
        "/webhook/body",
        Some(&json!({"a": [1, 2]})),
        &[],
    )
    .await;
    assert_eq!(json_body.json()["body"], json!({"a": [1, 2]}));
    let text = call(
        &app,
        "POST",
        "/webhook/body",
        Some(&json!("hello")),
        &[("content-type", "text/plain")],
    )
    .await;
    assert_eq!(text.json()["body"], json!("hello"));
    let form = call(
        &app,
        "POST",
        "/webhook/body",
        Some(&json!("a=1&a=2&b=x")),
        &[("content-type", "application/x-www-form-urlencoded")],
    )
    .await;
    assert_eq!(form.json()["body"], json!({"a": ["1", "2"], "b": "x"}));
    let bad = call(
        &app,
        "POST",
        "/webhook/body",
        Some(&json!("{bad")),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["message"], "Failed to parse request body");
}

#[tokio::test]
async fn executions_not_to_be_kept_are_not_kept() {
    let app = TestApp::spawn().await;
    let workflow = json!({
        "nodes": [webhook("Webhook", "quiet", "lastNode")],
        "settings": {"executionOrder": "v1", "saveDataSuccessExecution": "none"},
    });
    let id = publish(&app, "quiet", &workflow).await;
    assert_eq!(
        call(&app, "GET", "/webhook/quiet", None, &[]).await.status,
        200
    );
    assert!(support::executions(&app, &id).await.is_empty());
}

#[tokio::test]
async fn a_failed_run_starts_the_error_workflow_with_n8ns_payload() {
    let app = TestApp::spawn().await;
    let catcher = json!({
        "nodes": [
            {"id": "e", "name": "Error Trigger", "type": "n8n-nodes-base.errorTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
            node("Keep", "n8n-nodes-base.noOp", json!({}))
        ],
        "connections": chain(&["Error Trigger", "Keep"]),
    });
    let catcher_id = support::create(&app, "catcher", &catcher).await;
    let failing = json!({
        "nodes": [webhook("Webhook", "breaks", "lastNode"), node("Stop", "n8n-nodes-base.stopAndError", json!({"errorMessage": "it broke"}))],
        "connections": chain(&["Webhook", "Stop"]),
        "settings": {"executionOrder": "v1", "errorWorkflow": catcher_id},
    });
    let failing_id = publish(&app, "failing", &failing).await;
    assert_eq!(
        call(&app, "GET", "/webhook/breaks", None, &[]).await.status,
        500
    );
    let failed = last_execution(&app, &failing_id).await;
    let caught = last_execution(&app, &catcher_id).await;
    assert_eq!(caught["mode"], "error");
    assert_eq!(caught["status"], "success");
    let payload = &support::output_json(&caught, "Keep", 0, 0)[0];
    assert_eq!(payload["execution"]["id"], failed["id"]);
    assert_eq!(payload["execution"]["error"]["message"], "it broke");
    assert_eq!(payload["execution"]["lastNodeExecuted"], "Stop");
    assert_eq!(payload["execution"]["mode"], "webhook");
    assert_eq!(
        payload["workflow"],
        json!({"id": failing_id, "name": "failing"})
    );
}

#[tokio::test]
async fn an_execution_records_n8ns_run_data_shape() {
    let app = TestApp::spawn().await;
    let id = publish(
        &app,
        "shape",
        &json!({"nodes": [webhook("Webhook", "shape", "lastNode"), node("Pass", "n8n-nodes-base.noOp", json!({}))],
                "connections": chain(&["Webhook", "Pass"])}),
    )
    .await;
    call(&app, "GET", "/webhook/shape", None, &[]).await;
    let execution = last_execution(&app, &id).await;
    assert_eq!(execution["mode"], "webhook");
    assert_eq!(execution["finished"], true);
    assert!(execution["stoppedAt"].is_string() && execution["startedAt"].is_string());
    let data = &execution["data"];
    assert_eq!(data["version"], 1);
    let hook_run = &data["resultData"]["runData"]["Webhook"][0];
    assert_eq!(hook_run["source"], json!([]));
    assert_eq!(hook_run["executionIndex"], 0);
    assert_eq!(hook_run["executionStatus"], "success");
    assert_eq!(
        hook_run["data"]["main"][0][0]["pairedItem"],
        json!({"item": 0})
    );
    let pass_run = &data["resultData"]["runData"]["Pass"][0];
    assert_eq!(
        pass_run["source"],
        json!([{"previousNode": "Webhook", "previousNodeOutput": 0, "previousNodeRun": 0}])
    );
    assert_eq!(pass_run["executionIndex"], 1);
    assert_eq!(data["executionData"]["nodeExecutionStack"], json!([]));
}

#[tokio::test]
async fn metrics_count_executions_by_mode_and_status() {
    let app = TestApp::spawn_with(|c| c.metrics = true).await;
    publish(
        &app,
        "counted",
        &json!({"nodes": [webhook("Webhook", "counted", "lastNode")]}),
    )
    .await;
    assert_eq!(
        call(&app, "GET", "/webhook/counted", None, &[])
            .await
            .status,
        200
    );
    assert_eq!(
        call(&app, "GET", "/webhook/counted", None, &[])
            .await
            .status,
        200
    );
    let text = app.get("/metrics").send().await.text();
    assert!(
        text.contains("n8n_workflow_executions_started_total{mode=\"webhook\"} 2"),
        "{text}"
    );
    assert!(text.contains("n8n_workflow_executions_total{mode=\"webhook\",status=\"success\"} 2"));
    assert!(text.contains("n8n_workflow_execution_duration_seconds_count 2"));
}
