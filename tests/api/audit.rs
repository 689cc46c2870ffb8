//! The security audit: each rule with a workflow that triggers it and one that does not.

use serde_json::{json, Value};

use crate::helpers::TestApp;

fn workflow(name: &str, nodes: Value) -> Value {
    json!({ "name": name, "nodes": nodes, "connections": {}, "settings": {} })
}

fn node(name: &str, kind: &str, parameters: Value) -> Value {
    json!({ "name": name, "type": kind, "typeVersion": 1, "position": [0, 0], "parameters": parameters })
}

async fn audit(app: &TestApp, body: Value) -> Value {
    let response = app
        .post("/api/v1/audit")
        .key(&app.owner_key)
        .json(body)
        .send()
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

fn titles(report: &Value) -> Vec<String> {
    report["sections"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|x| x["title"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn nodes_in(report: &Value, title: &str) -> Vec<String> {
    report["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["title"] == title)
        .flat_map(|s| s["location"].as_array().cloned().unwrap_or_default())
        .map(|l| {
            l["nodeName"]
                .as_str()
                .or(l["name"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_clean_instance_with_safe_settings_reports_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.secure_cookie = true;
        c.public_api_disabled = false;
    })
    .await;
    // The test instance's only key never expires; give it an expiry so no setting is flagged.
    app.sql("update api_keys set expires_at = 4102444800").await;
    app.create_workflow(
        &app.owner_key,
        workflow(
            "safe",
            json!([node("Set", "n8n-nodes-base.set", json!({}))]),
        ),
    )
    .await;

    assert_eq!(
        audit(&app, json!({ "additionalOptions": {} })).await,
        json!([])
    );
}

#[tokio::test]
async fn every_rule_flags_the_risky_workflow_and_not_the_safe_one() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let used = app
        .post("/api/v1/credentials")
        .key(key)
        .json(json!({ "name": "used", "type": "httpHeaderAuth", "data": { "name": "X-Key" } }))
        .send()
        .await
        .json();
    let unused = app
        .post("/api/v1/credentials")
        .key(key)
        .json(json!({ "name": "unused", "type": "httpHeaderAuth", "data": { "name": "X-Key" } }))
        .send()
        .await
        .json();
    let mut http = node("Http", "n8n-nodes-base.httpRequest", json!({}));
    http["credentials"] = json!({ "httpHeaderAuth": { "id": used["id"], "name": "used" } });
    let risky = json!([
        node(
            "Shell",
            "n8n-nodes-base.executeCommand",
            json!({ "command": "ls" })
        ),
        node("Read", "n8n-nodes-base.readWriteFile", json!({})),
        node(
            "Query",
            "n8n-nodes-base.postgres",
            json!({ "query": "select * from t where id = {{ $json.id }}" })
        ),
        node("Hook", "n8n-nodes-base.webhook", json!({ "path": "x" })),
        node("Community", "n8n-nodes-acme.widget", json!({})),
        http,
    ]);
    let safe = json!([
        node(
            "Safe query",
            "n8n-nodes-base.postgres",
            json!({ "query": "select 1" })
        ),
        node(
            "Safe hook",
            "n8n-nodes-base.webhook",
            json!({ "path": "y", "authentication": "headerAuth" })
        ),
        node("Set", "n8n-nodes-base.set", json!({})),
    ]);
    app.create_workflow(key, workflow("risky", risky)).await;
    app.create_workflow(key, workflow("safe", safe)).await;

    let report = audit(&app, json!({})).await;

    let credentials = &report["Credentials Risk Report"];
    assert_eq!(credentials["risk"], "credentials");
    assert_eq!(
        nodes_in(credentials, "Credentials not used in any workflow"),
        vec!["unused"]
    );
    assert_eq!(
        nodes_in(credentials, "Credentials not used in active workflows"),
        vec!["used"],
        "the risky workflow is not published"
    );
    assert_eq!(
        nodes_in(
            &report["Database Risk Report"],
            "Expressions in \"Execute Query\" fields in SQL nodes"
        ),
        vec!["Query"]
    );
    assert_eq!(
        nodes_in(&report["Nodes Risk Report"], "Official risky nodes"),
        vec!["Shell"]
    );
    assert_eq!(
        nodes_in(&report["Nodes Risk Report"], "Community nodes"),
        vec!["Community"]
    );
    assert_eq!(
        nodes_in(
            &report["Filesystem Risk Report"],
            "Nodes that interact with the filesystem"
        ),
        vec!["Read"]
    );
    assert_eq!(
        nodes_in(
            &report["Instance Risk Report"],
            "Unprotected webhooks in instance"
        ),
        vec!["Hook"]
    );
    let settings = report["Instance Risk Report"]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["title"] == "Security settings")
        .expect("settings")
        .clone();
    assert!(
        settings["settings"]["findings"]["secureCookieDisabled"].is_string(),
        "the test instance runs without secure cookies"
    );
    assert!(settings["settings"]["findings"]["publicApiKeysWithoutExpiry"].is_string());
    assert!(
        settings["settings"]["findings"]
            .get("encryptionKeyNotSet")
            .is_none(),
        "the tests set the key explicitly"
    );
    assert_eq!(unused["name"], "unused");
}

#[tokio::test]
async fn categories_limit_the_report_and_are_validated() {
    let app = TestApp::spawn().await;
    app.create_workflow(
        &app.owner_key,
        workflow(
            "risky",
            json!([node("Shell", "n8n-nodes-base.executeCommand", json!({}))]),
        ),
    )
    .await;

    let only_nodes = audit(
        &app,
        json!({ "additionalOptions": { "categories": ["nodes"] } }),
    )
    .await;
    assert_eq!(
        only_nodes
            .as_object()
            .expect("object")
            .keys()
            .collect::<Vec<_>>(),
        vec!["Nodes Risk Report"]
    );
    assert_eq!(
        titles(&only_nodes["Nodes Risk Report"]),
        vec!["Official risky nodes"]
    );
    let bad = app
        .post("/api/v1/audit")
        .key(&app.owner_key)
        .json(json!({ "additionalOptions": { "categories": ["everything"] } }))
        .send()
        .await;
    bad.assert_error(
        400,
        "request/body/additionalOptions/categories/0 must be equal to one of the allowed values",
    );
    assert_eq!(
        app.post("/api/v1/audit")
            .key(&app.owner_key)
            .send()
            .await
            .status,
        200,
        "the body is optional"
    );
}

#[tokio::test]
async fn a_number_of_days_past_any_date_is_answered_not_a_crash() {
    let app = TestApp::spawn().await;
    app.post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(json!({ "name": "unused", "type": "httpHeaderAuth", "data": { "name": "X-Key", "value": "v" } }))
        .send()
        .await;
    // Found by the schema fuzzer: this used to overflow the date arithmetic (500).
    for days in [1_730_895_301_365_215_i64, i64::MAX] {
        let report = audit(
            &app,
            json!({ "additionalOptions": { "daysAbandonedWorkflow": days, "categories": ["credentials"] } }),
        )
        .await;
        assert!(report.is_object() || report.is_array(), "{report}");
    }
}
