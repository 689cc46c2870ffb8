//! `POST /rest/workflows/{id}/run`: a manual run of the saved draft (n8n's "Execute
//! workflow"), answered with the new execution's id while the run goes on; pinned data stands
//! in for the nodes it is pinned to; who may run what follows n8n's `workflow:execute`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Manual Trigger → Set (`greeting` from the input's `name`, or "nobody").
fn manual_flow(name: &str) -> Value {
    json!({
        "name": name,
        "nodes": [
            { "id": "m1", "name": "Click", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {} },
            { "id": "m2", "name": "Greet", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [240, 0],
              "parameters": { "mode": "manual", "assignments": { "assignments": [
                  { "id": "g1", "name": "greeting", "value": "={{ 'hello ' + ($json.name || 'nobody') }}", "type": "string" }
              ] }, "options": {} } }
        ],
        "connections": { "Click": { "main": [[{ "node": "Greet", "type": "main", "index": 0 }]] } },
        "settings": { "executionOrder": "v1" }
    })
}

/// Webhook → Set: runs by hand only with data pinned to the webhook.
fn webhook_flow(name: &str, pins: Value) -> Value {
    json!({
        "name": name,
        "nodes": [
            { "id": "w1", "name": "Hook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
              "webhookId": "6a1f0c1e-5b8e-4e8e-9a51-2f0f4d1d7c11",
              "parameters": { "httpMethod": "POST", "path": "manual-run-test", "options": {} } },
            { "id": "w2", "name": "Greet", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [240, 0],
              "parameters": { "mode": "manual", "assignments": { "assignments": [
                  { "id": "g1", "name": "greeting", "value": "={{ 'hello ' + $json.name }}", "type": "string" }
              ] }, "options": {} } }
        ],
        "connections": { "Hook": { "main": [[{ "node": "Greet", "type": "main", "index": 0 }]] } },
        "settings": { "executionOrder": "v1" },
        "pinData": pins
    })
}

/// The execution `id` once it has ended, read through `/rest` with `cookie`.
async fn ended(app: &TestApp, cookie: &str, id: &str) -> Value {
    for _ in 0..200 {
        let read = app
            .get(&format!("/rest/executions/{id}"))
            .cookie(cookie)
            .send()
            .await;
        assert_eq!(read.status, 200, "{}", read.text());
        let execution = read.json()["data"].clone();
        if !["new", "running"].contains(&execution["status"].as_str().unwrap_or_default()) {
            return execution;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("execution {id} did not end");
}

fn greetings(execution: &Value) -> Vec<Value> {
    execution["data"]["resultData"]["runData"]["Greet"][0]["data"]["main"][0]
        .as_array()
        .expect("Greet's output")
        .iter()
        .map(|item| item["json"]["greeting"].clone())
        .collect()
}

async fn run(app: &TestApp, cookie: &str, id: &str, body: Value) -> crate::helpers::Resp {
    app.post(&format!("/rest/workflows/{id}/run"))
        .cookie(cookie)
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn a_manual_run_of_the_draft_answers_its_execution_id_and_runs_in_mode_manual() {
    let app = TestApp::spawn().await;
    let cookie = app.owner.cookie.clone();
    let workflow = app
        .create_workflow(&app.owner_key, manual_flow("by hand"))
        .await;
    let id = workflow["id"].as_str().expect("id");

    let read = app
        .get(&format!("/rest/workflows/{id}"))
        .cookie(&cookie)
        .send()
        .await
        .json();
    assert!(read["data"]["scopes"]
        .as_array()
        .expect("scopes")
        .contains(&json!("workflow:execute")));

    let started = run(&app, &cookie, id, json!({ "workflowData": { "id": id } })).await;
    assert_eq!(started.status, 200, "{}", started.text());
    let body = started.json();
    let execution_id = body["data"]["executionId"]
        .as_str()
        .expect("executionId, a string as n8n's")
        .to_owned();
    assert_eq!(body["data"].as_object().expect("data").len(), 1, "{body}");

    let execution = ended(&app, &cookie, &execution_id).await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(execution["mode"], "manual");
    assert_eq!(execution["workflowId"], id);
    assert_eq!(greetings(&execution), [json!("hello nobody")]);

    // Started from the named trigger, as the editor asks.
    let again = run(
        &app,
        &cookie,
        id,
        json!({ "workflowData": { "id": id }, "triggerToStartFrom": { "name": "Click" } }),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.text());
    let again_id = again.json()["data"]["executionId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_ne!(again_id, execution_id);
    assert_eq!(ended(&app, &cookie, &again_id).await["status"], "success");
}

#[tokio::test]
async fn pinned_data_starts_a_manual_run_from_a_trigger_and_the_body_pins_replace_the_saved_ones() {
    let app = TestApp::spawn().await;
    let cookie = app.owner.cookie.clone();
    let pinned = app
        .create_workflow(
            &app.owner_key,
            webhook_flow(
                "pinned",
                json!({ "Hook": [{ "json": { "name": "Saved" } }] }),
            ),
        )
        .await;
    let id = pinned["id"].as_str().expect("id");

    let saved = run(&app, &cookie, id, json!({ "workflowData": { "id": id } })).await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let execution_id = saved.json()["data"]["executionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let execution = ended(&app, &cookie, &execution_id).await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(greetings(&execution), [json!("hello Saved")]);

    let sent = run(
        &app,
        &cookie,
        id,
        json!({ "workflowData": { "id": id, "pinData": {
            "Hook": [{ "json": { "name": "Ada" } }, { "json": { "name": "Grace" } }]
        } } }),
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    let execution_id = sent.json()["data"]["executionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let execution = ended(&app, &cookie, &execution_id).await;
    assert_eq!(
        greetings(&execution),
        [json!("hello Ada"), json!("hello Grace")]
    );

    // Without pins a webhook waits for a call: n8n's test webhooks, which this server does
    // not have, so it says what to do instead.
    let unpinned = run(
        &app,
        &cookie,
        id,
        json!({ "workflowData": { "id": id, "pinData": null } }),
    )
    .await;
    assert_eq!(unpinned.status, 400, "{}", unpinned.text());
    assert!(
        unpinned.message().contains("Manual Trigger"),
        "{}",
        unpinned.text()
    );
}

#[tokio::test]
async fn a_manual_run_refuses_bad_bodies_and_callers_without_workflow_execute() {
    let app = TestApp::spawn().await;
    let cookie = app.owner.cookie.clone();
    let workflow = app
        .create_workflow(&app.owner_key, manual_flow("guarded"))
        .await;
    let id = workflow["id"].as_str().expect("id");

    run(&app, &cookie, id, json!({})).await.assert_error(
        400,
        "request/body must have required property 'workflowData'",
    );
    run(&app, &cookie, id, json!({ "workflowData": {} }))
        .await
        .assert_error(400, "You cannot execute a workflow without an ID");
    run(
        &app,
        &cookie,
        id,
        json!({ "workflowData": { "id": "other" } }),
    )
    .await
    .assert_error(400, "Workflow ID in body does not match workflow ID in URL");
    let partial = run(
        &app,
        &cookie,
        id,
        json!({ "workflowData": { "id": id }, "runData": {}, "destinationNode": "Greet" }),
    )
    .await;
    assert_eq!(partial.status, 400, "{}", partial.text());
    let missing_trigger = run(
        &app,
        &cookie,
        id,
        json!({ "workflowData": { "id": id }, "triggerToStartFrom": { "name": "Nope" } }),
    )
    .await;
    missing_trigger.assert_error(400, "The node \"Nope\" is not in the workflow");
    let unauthenticated = app
        .post(&format!("/rest/workflows/{id}/run"))
        .json(json!({ "workflowData": { "id": id } }))
        .send()
        .await;
    assert_eq!(unauthenticated.status, 401);

    // A member outside the project does not see it; a viewer of it may not run it; an
    // editor may.
    let member = app.add_user("runner@example.com", "global:member").await;
    run(
        &app,
        &member.cookie,
        id,
        json!({ "workflowData": { "id": id } }),
    )
    .await
    .assert_error(404, &format!("Workflow with ID \"{id}\" not found."));
    let project = app.create_project("Team").await;
    let team_flow = app
        .create_workflow(&app.owner_key, manual_flow("team flow"))
        .await;
    let team_id = team_flow["id"].as_str().expect("id");
    let transferred = app
        .put(&format!("/api/v1/workflows/{team_id}/transfer"))
        .key(&app.owner_key)
        .json(json!({ "destinationProjectId": project }))
        .send()
        .await;
    assert!(
        transferred.status.is_success(),
        "transfer: {}",
        transferred.text()
    );
    app.add_member(&project, &member, "project:viewer").await;
    let viewed = run(
        &app,
        &member.cookie,
        team_id,
        json!({ "workflowData": { "id": team_id } }),
    )
    .await;
    assert_eq!(viewed.status, 403, "{}", viewed.text());
    let viewer_read = app
        .get(&format!("/rest/workflows/{team_id}"))
        .cookie(&member.cookie)
        .send()
        .await
        .json();
    assert!(!viewer_read["data"]["scopes"]
        .as_array()
        .expect("scopes")
        .contains(&json!("workflow:execute")));
}
