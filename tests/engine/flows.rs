//! Flows across executions: sub-workflows, waits that resume by time or by webhook.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::support::{self, call, last_execution, publish};

fn webhook(path: &str, mode: &str) -> Value {
    json!({"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
           "webhookId": format!("{path}-hook"), "parameters": {"path": path, "responseMode": mode, "options": {}}})
}

fn connect(pairs: &[(&str, &str)]) -> Value {
    let mut connections = serde_json::Map::new();
    for (from, to) in pairs {
        connections.insert(
            (*from).to_owned(),
            json!({"main": [[{"node": to, "type": "main", "index": 0}]]}),
        );
    }
    Value::Object(connections)
}

async fn sub_workflow(app: &TestApp, name: &str) -> String {
    let sub = json!({
        "nodes": [
            {"id": "t", "name": "Start", "type": "n8n-nodes-base.executeWorkflowTrigger", "typeVersion": 1.1, "position": [0, 0],
             "parameters": {"inputSource": "passthrough"}},
            {"id": "s", "name": "Mark", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
             "parameters": {"assignments": {"assignments": [{"id": "a", "name": "sub", "value": "yes", "type": "string"}]},
                            "includeOtherFields": true, "options": {}}}
        ],
        "connections": connect(&[("Start", "Mark")]),
    });
    support::create(app, name, &sub).await
}

fn caller(path: &str, sub_id: &str) -> Value {
    json!({
        "nodes": [
            webhook(path, "lastNode"),
            {"id": "c", "name": "Call", "type": "n8n-nodes-base.executeWorkflow", "typeVersion": 1.2, "position": [200, 0],
             "parameters": {"workflowId": {"__rl": true, "value": sub_id, "mode": "id"}, "options": {}}}
        ],
        "connections": connect(&[("Webhook", "Call")]),
    })
}

#[tokio::test]
async fn a_sub_workflow_runs_with_the_callers_items_and_hands_back_its_output() {
    let app = TestApp::spawn().await;
    let sub = sub_workflow(&app, "sub").await;
    // n8n 2.x publishes a caller only once the workflow it calls is published.
    let caller_id = support::create(&app, "caller", &caller("call-sub", &sub)).await;
    let refused = app
        .post(&format!("/api/v1/workflows/{caller_id}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    refused.assert_error(
        400,
        &format!("Cannot publish workflow: Node \"Call\" references workflow {sub} (\"sub\") which is not published. Please publish all referenced sub-workflows first."),
    );
    let published = app
        .post(&format!("/api/v1/workflows/{sub}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    assert_eq!(published.json()["triggerCount"], 0);
    let published = app
        .post(&format!("/api/v1/workflows/{caller_id}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(published.status, 200, "{}", published.text());

    let answer = call(&app, "GET", "/webhook/call-sub?x=1", None, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["sub"], "yes");
    assert_eq!(answer.json()["query"], json!({"x": "1"}));
    let ran = last_execution(&app, &sub).await;
    assert_eq!(ran["mode"], "integrated");
    assert_eq!(ran["status"], "success");
    let outer = last_execution(&app, &caller_id).await;
    assert_eq!(
        outer["data"]["resultData"]["runData"]["Call"][0]["data"]["main"][0][0]["pairedItem"],
        json!({"item": 0})
    );
}

#[tokio::test]
async fn a_wait_for_its_webhook_stores_the_run_and_its_resume_url_continues_it() {
    let app = TestApp::spawn().await;
    let workflow = json!({
        "nodes": [
            webhook("waits", "onReceived"),
            {"id": "w", "name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [200, 0],
             "webhookId": "5a1e8c2d-0000-4000-8000-0000000000aa", "parameters": {"resume": "webhook", "options": {}}},
            {"id": "n", "name": "After", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [400, 0], "parameters": {}}
        ],
        "connections": connect(&[("Webhook", "Wait"), ("Wait", "After")]),
    });
    let id = publish(&app, "waits", &workflow).await;
    assert_eq!(
        call(&app, "GET", "/webhook/waits", None, &[]).await.json()["message"],
        "Workflow was started"
    );
    let waiting = last_execution(&app, &id).await;
    assert_eq!(waiting["status"], "waiting", "{waiting}");
    assert_eq!(waiting["waitTill"], "3000-01-01T00:00:00.000Z");
    assert_eq!(waiting["finished"], false);
    assert_eq!(
        waiting["data"]["resultData"]["runData"]["Wait"][0]["executionStatus"],
        "waiting"
    );
    let execution_id = waiting["id"].as_str().expect("id").to_owned();

    let wrong_method = call(
        &app,
        "POST",
        &format!("/webhook-waiting/{execution_id}"),
        Some(&json!({})),
        &[],
    )
    .await;
    assert_eq!(wrong_method.status, 404);
    assert_eq!(
        wrong_method.json()["message"],
        format!("The workflow for execution \"{execution_id}\" does not contain a waiting webhook with a matching path/method.")
    );
    let resumed = call(
        &app,
        "GET",
        &format!("/webhook-waiting/{execution_id}?q=1"),
        None,
        &[],
    )
    .await;
    assert_eq!(resumed.status, 200, "{}", resumed.text());
    assert_eq!(resumed.json()["message"], "Workflow was started");
    let done = support::wait_for_status(&app, &execution_id, "success").await;
    let after = &done["data"]["resultData"]["runData"]["After"][0]["data"]["main"][0][0]["json"];
    assert_eq!(after["query"], json!({"q": "1"}));
    assert_eq!(
        done["data"]["resultData"]["runData"]["Wait"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let again = call(
        &app,
        "GET",
        &format!("/webhook-waiting/{execution_id}"),
        None,
        &[],
    )
    .await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.json()["message"],
        format!("The execution \"{execution_id} has finished already.")
    );
}

#[tokio::test]
async fn a_long_wait_is_stored_and_resumed_when_due() {
    let app = TestApp::spawn().await;
    let workflow = json!({
        "nodes": [
            webhook("later", "onReceived"),
            {"id": "w", "name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [200, 0],
             "webhookId": "5a1e8c2d-0000-4000-8000-0000000000bb", "parameters": {"amount": 2, "unit": "hours"}},
            {"id": "n", "name": "After", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [400, 0], "parameters": {}}
        ],
        "connections": connect(&[("Webhook", "Wait"), ("Wait", "After")]),
    });
    let id = publish(&app, "later", &workflow).await;
    call(&app, "GET", "/webhook/later", None, &[]).await;
    let waiting = last_execution(&app, &id).await;
    assert_eq!(waiting["status"], "waiting");
    let till =
        chrono::DateTime::parse_from_rfc3339(waiting["waitTill"].as_str().expect("waitTill"))
            .expect("date");
    let hours = (till.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!((115..=120).contains(&hours), "{hours} minutes");
    // Make it due, and let the engine's background task find it.
    let execution_id = waiting["id"].as_str().expect("id").to_owned();
    app.sql(&format!(
        "update executions set wait_till = '2000-01-01T00:00:00.000Z' where id = {execution_id}"
    ))
    .await;
    app.state.engine.start_background();
    let done = support::wait_for_status(&app, &execution_id, "success").await;
    assert!(done["data"]["resultData"]["runData"]["After"].is_array());
    app.state.engine.shutdown();
}

#[tokio::test]
async fn a_short_wait_stays_in_the_run() {
    let app = TestApp::spawn().await;
    let workflow = json!({
        "nodes": [
            webhook("soon", "lastNode"),
            {"id": "w", "name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [200, 0],
             "webhookId": "5a1e8c2d-0000-4000-8000-0000000000cc", "parameters": {"amount": 1, "unit": "seconds"}}
        ],
        "connections": connect(&[("Webhook", "Wait")]),
    });
    let id = publish(&app, "soon", &workflow).await;
    let started = std::time::Instant::now();
    let answer = call(&app, "GET", "/webhook/soon?z=9", None, &[]).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(answer.json()["query"], json!({"z": "9"}));
    assert_eq!(last_execution(&app, &id).await["status"], "success");
}

#[tokio::test]
async fn a_failed_execution_is_retried_from_the_failed_node_and_linked_both_ways() {
    let app = TestApp::spawn().await;
    let failing = |kind: &str| {
        json!({
            "name": "retry me",
            "nodes": [
                webhook("retry", "lastNode"),
                {"id": "s", "name": "Step", "type": kind, "typeVersion": 1, "position": [200, 0],
                 "parameters": {"errorMessage": "not yet"}}
            ],
            "connections": connect(&[("Webhook", "Step")]),
            "settings": {"executionOrder": "v1"},
        })
    };
    let id = publish(&app, "retry me", &failing("n8n-nodes-base.stopAndError")).await;
    assert_eq!(
        call(&app, "GET", "/webhook/retry?n=1", None, &[])
            .await
            .status,
        500
    );
    let failed = last_execution(&app, &id).await;
    let failed_id = failed["id"].as_str().expect("id").to_owned();
    assert_eq!(
        failed["data"]["executionData"]["nodeExecutionStack"][0]["node"]["name"],
        "Step"
    );

    // The same version fails again, in a new execution that names the one it retries.
    let again = app
        .post(&format!("/api/v1/executions/{failed_id}/retry"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["mode"], "retry");
    assert_eq!(again.json()["status"], "error");
    assert_eq!(again.json()["retryOf"], failed_id.as_str());

    // With the workflow fixed and loadWorkflow, the retry resumes at the failed node and succeeds.
    let fixed = app
        .put(&format!("/api/v1/workflows/{id}"))
        .key(&app.owner_key)
        .json(failing("n8n-nodes-base.noOp"))
        .send()
        .await;
    assert_eq!(fixed.status, 200, "{}", fixed.text());
    let retried = app
        .post(&format!("/api/v1/executions/{failed_id}/retry"))
        .key(&app.owner_key)
        .json(json!({"loadWorkflow": true}))
        .send()
        .await;
    assert_eq!(retried.status, 200, "{}", retried.text());
    let body = retried.json();
    assert_eq!(body["status"], "success");
    assert_eq!(body["finished"], true);
    // The webhook node is not run again: its run comes from the failed execution.
    let runs = &body["data"]["resultData"]["runData"];
    assert_eq!(
        runs["Webhook"][0]["data"]["main"][0][0]["json"]["query"],
        json!({"n": "1"})
    );
    assert_eq!(runs["Step"].as_array().map(Vec::len), Some(1));
    let original = app
        .get(&format!("/api/v1/executions/{failed_id}"))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(original["retrySuccessId"], body["id"]);

    let succeeded = body["id"].as_str().expect("id").to_owned();
    app.post(&format!("/api/v1/executions/{succeeded}/retry"))
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(409, "The execution succeeded, so it cannot be retried.");
}

#[tokio::test]
async fn a_running_execution_can_be_stopped_but_not_deleted() {
    let app = TestApp::spawn().await;
    let workflow = json!({
        "nodes": [
            webhook("slow", "onReceived"),
            {"id": "w", "name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [200, 0],
             "webhookId": "5a1e8c2d-0000-4000-8000-0000000000dd", "parameters": {"amount": 30, "unit": "seconds"}}
        ],
        "connections": connect(&[("Webhook", "Wait")]),
    });
    let id = publish(&app, "slow", &workflow).await;
    call(&app, "GET", "/webhook/slow", None, &[]).await;
    let mut running = None;
    for _ in 0..200 {
        let list = app
            .get(&format!(
                "/api/v1/executions?workflowId={id}&status=running"
            ))
            .key(&app.owner_key)
            .send()
            .await
            .json();
        if let Some(first) = list["data"].as_array().and_then(|d| d.first()).cloned() {
            running = Some(first["id"].as_str().expect("id").to_owned());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let running = running.expect("a running execution");
    app.delete(&format!("/api/v1/executions/{running}"))
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(400, "Cannot delete a running execution");
    let stopped = app
        .post(&format!("/api/v1/executions/{running}/stop"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text());
    assert_eq!(stopped.json()["status"], "canceled");
    // The stop is recorded at once; the run then ends and saves what it did.
    let mut ended = support::wait_for_status(&app, &running, "canceled").await;
    for _ in 0..200 {
        if ended["data"]["resultData"]["runData"]["Webhook"].is_array() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        ended = support::wait_for_status(&app, &running, "canceled").await;
    }
    assert!(ended["stoppedAt"].is_string());
    assert!(
        ended["data"]["resultData"]["runData"]["Webhook"].is_array(),
        "{ended}"
    );
}
