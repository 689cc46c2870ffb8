//! The `/rest` endpoints of the web page's workflow, execution and overview pages: n8n's
//! shapes, the session cookie as the only credential, and the public API's access rules (a
//! member sees only their projects' workflows and executions).

use serde_json::{json, Value};

use flowgate::db::executions::{insert, NewExecution};

use crate::helpers::{publishable_body, workflow_body, TestApp};

async fn record(app: &TestApp, workflow_id: &str, status: &str, started: &str) -> i64 {
    let mut tx = app.state.db.begin().await.expect("tx");
    let id = insert(
        tx.conn(),
        &NewExecution {
            workflow_id,
            mode: "webhook",
            status,
            finished: status == "success",
            created_at: started,
            started_at: Some(started),
            stopped_at: Some(started),
            data: Some(r#"{"resultData":{"runData":{}}}"#),
        },
    )
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
    id
}

fn names(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|w| w["name"].as_str().expect("name").to_owned())
        .collect()
}

fn filter(value: Value) -> String {
    url_escape(&value.to_string())
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_workflow_list_filters_pages_and_shows_the_last_execution() {
    let app = TestApp::spawn().await;
    let cookie = app.owner.cookie.clone();
    let first = app
        .create_workflow(&app.owner_key, workflow_body("alpha one"))
        .await;
    let first_id = first["id"].as_str().expect("id").to_owned();
    app.create_workflow(&app.owner_key, workflow_body("alpha two"))
        .await;
    app.create_workflow(&app.owner_key, workflow_body("beta"))
        .await;
    record(&app, &first_id, "error", "2026-01-01T10:00:00.000Z").await;
    let last = record(&app, &first_id, "success", "2026-01-02T10:00:00.000Z").await;

    let all = app.get("/rest/workflows").cookie(&cookie).send().await;
    assert_eq!(all.status, 200, "{}", all.text());
    let body = all.json();
    assert_eq!(body["count"], 3);
    let item = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|w| w["id"] == first_id.as_str())
        .expect("listed")
        .clone();
    assert_eq!(item["lastExecution"]["id"], last.to_string());
    assert_eq!(item["lastExecution"]["status"], "success");
    assert_eq!(item["homeProject"]["type"], "personal");
    // n8n 2.8.4's list item, field for field, and the two of ours.
    let mut keys: Vec<&str> = item
        .as_object()
        .expect("item")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "active",
            "activeVersionId",
            "createdAt",
            "description",
            "homeProject",
            "id",
            "isArchived",
            "lastExecution",
            "name",
            "parentFolder",
            "scopes",
            "settings",
            "sharedWithProjects",
            "tags",
            "updatedAt",
            "versionId",
        ]
    );
    let mut project_keys: Vec<&str> = item["homeProject"]
        .as_object()
        .expect("homeProject")
        .keys()
        .map(String::as_str)
        .collect();
    project_keys.sort_unstable();
    assert_eq!(project_keys, ["icon", "id", "name", "type"]);
    assert_eq!(item["parentFolder"], Value::Null);
    assert_eq!(item["sharedWithProjects"], json!([]));
    assert_eq!(item["settings"], first["settings"], "the stored settings");
    assert!(item["scopes"]
        .as_array()
        .expect("scopes")
        .contains(&json!("workflow:publish")));
    assert!(item.get("nodes").is_none(), "the list leaves the graph out");

    let found = app
        .get(&format!(
            "/rest/workflows?filter={}",
            filter(json!({ "name": "ALPHA" }))
        ))
        .cookie(&cookie)
        .send()
        .await
        .json();
    let mut found = names(&found);
    found.sort();
    assert_eq!(found, ["alpha one", "alpha two"]);

    let page = app
        .get("/rest/workflows?limit=2")
        .cookie(&cookie)
        .send()
        .await
        .json();
    assert_eq!(page["data"].as_array().expect("data").len(), 2);
    let cursor = page["nextCursor"].as_str().expect("a next page");
    let rest = app
        .get(&format!(
            "/rest/workflows?limit=2&cursor={}",
            url_escape(cursor)
        ))
        .cookie(&cookie)
        .send()
        .await
        .json();
    assert_eq!(rest["data"].as_array().expect("data").len(), 1);
    assert_eq!(rest["nextCursor"], Value::Null);

    let bad = app
        .get("/rest/workflows?filter=%7Bnope")
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert!(bad.message().starts_with("Parameter \"filter\" is invalid"));
    assert_eq!(app.get("/rest/workflows").send().await.status, 401);
}

#[tokio::test]
async fn a_workflow_is_read_published_and_archived_with_unsupported_nodes_named() {
    let app = TestApp::spawn().await;
    let cookie = app.owner.cookie.clone();
    let mut body = publishable_body("graph");
    body["nodes"].as_array_mut().expect("nodes").push(json!({
        "id": "n3", "name": "Mystery", "type": "n8n-nodes-base.noSuchNode", "typeVersion": 1,
        "position": [400, 0], "parameters": {}
    }));
    let id = app.create_workflow(&app.owner_key, body).await["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let read = app
        .get(&format!("/rest/workflows/{id}"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(read.status, 200, "{}", read.text());
    let shown = &read.json()["data"];
    assert_eq!(shown["nodes"].as_array().expect("nodes").len(), 3);
    assert!(shown["connections"]["Every hour"].is_object());
    assert_eq!(shown["unsupportedNodes"][0]["name"], "Mystery");
    assert_eq!(shown["unsupportedNodes"].as_array().expect("list").len(), 1);

    let refused = app
        .post(&format!("/rest/workflows/{id}/activate"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.message().contains("Mystery"), "{}", refused.text());

    let published = app
        .create_workflow(&app.owner_key, publishable_body("runnable"))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let answer = app
        .post(&format!("/rest/workflows/{published}/activate"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["data"]["active"], true);
    assert!(answer.json()["data"]["activeVersion"]["nodes"].is_array());
    let answer = app
        .post(&format!("/rest/workflows/{published}/deactivate"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(answer.json()["data"]["active"], false);
    let answer = app
        .post(&format!("/rest/workflows/{published}/archive"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["data"]["isArchived"], true);
}

#[tokio::test]
async fn a_published_workflow_shows_the_urls_its_webhooks_answer_at() {
    let app = TestApp::spawn().await;
    let cookie = app.owner.cookie.clone();
    let body = json!({
        "name": "callable",
        "nodes": [{
            "id": "w1", "name": "Incoming", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
            "webhookId": "5c0f7a52-1d2e-4c3b-9a8f-0e1d2c3b4a59", "position": [0, 0], "parameters": { "path": "call-me", "httpMethod": "POST" }
        }],
        "connections": {}, "settings": {}
    });
    let id = app.create_workflow(&app.owner_key, body).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/rest/workflows/{id}");
    let read =
        || async { app.get(&path).cookie(&cookie).send().await.json()["data"]["webhooks"].clone() };
    assert_eq!(read().await, json!([]), "a draft answers nowhere");

    let published = app
        .post(&format!("/rest/workflows/{id}/activate"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    let webhooks = &published.json()["data"]["webhooks"];
    assert_eq!(webhooks.as_array().map(Vec::len), Some(1), "{webhooks}");
    assert_eq!(webhooks[0]["node"], "Incoming");
    assert_eq!(webhooks[0]["method"], "POST");
    let url = webhooks[0]["url"].as_str().expect("url");
    assert!(url.ends_with("/webhook/call-me"), "{url}");
    let called = app.post("/webhook/call-me").json(json!({})).send().await;
    assert_eq!(called.status, 200, "{}", called.text());

    app.post(&format!("/rest/workflows/{id}/deactivate"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(read().await, json!([]));
}

#[tokio::test]
async fn a_member_sees_only_their_projects_workflows_and_executions() {
    let app = TestApp::spawn().await;
    let member = app.add_user("member@example.com", "global:member").await;
    let member_key = app.full_key(&member).await;
    let owners = app
        .create_workflow(&app.owner_key, workflow_body("owner's"))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mine = app
        .create_workflow(&member_key, workflow_body("mine"))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let hidden = record(&app, &owners, "error", "2026-01-01T10:00:00.000Z").await;
    let visible = record(&app, &mine, "success", "2026-01-01T11:00:00.000Z").await;

    let list = app
        .get("/rest/workflows")
        .cookie(&member.cookie)
        .send()
        .await
        .json();
    assert_eq!(names(&list), ["mine"]);
    app.get(&format!("/rest/workflows/{owners}"))
        .cookie(&member.cookie)
        .send()
        .await
        .assert_error(404, &format!("Workflow with ID \"{owners}\" not found."));
    app.post(&format!("/rest/workflows/{owners}/archive"))
        .cookie(&member.cookie)
        .send()
        .await
        .assert_error(404, &format!("Workflow with ID \"{owners}\" not found."));

    let executions = app
        .get("/rest/executions")
        .cookie(&member.cookie)
        .send()
        .await
        .json();
    let results = executions["data"]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["id"], visible.to_string());
    assert_eq!(results[0]["workflowName"], "mine");
    assert_eq!(executions["data"]["count"], 1);
    let by_workflow = app
        .get(&format!(
            "/rest/executions?filter={}",
            filter(json!({ "workflowId": owners }))
        ))
        .cookie(&member.cookie)
        .send()
        .await
        .json();
    assert_eq!(by_workflow["data"]["results"], json!([]));
    app.get(&format!("/rest/executions/{hidden}"))
        .cookie(&member.cookie)
        .send()
        .await
        .assert_error(404, "Not Found");
    app.post(&format!("/rest/executions/{hidden}/retry"))
        .cookie(&member.cookie)
        .send()
        .await
        .assert_error(404, "Not Found");
    // Insights are for owners and admins, as the insights:read scope says.
    assert_eq!(
        app.get("/rest/insights/summary")
            .cookie(&member.cookie)
            .send()
            .await
            .status,
        403
    );

    let owner_view = app
        .get("/rest/executions")
        .cookie(&app.owner.cookie)
        .send()
        .await
        .json();
    assert_eq!(owner_view["data"]["count"], 2);
}

#[tokio::test]
async fn executions_are_filtered_by_status_paged_by_last_id_and_read_with_their_data() {
    let app = TestApp::spawn().await;
    let cookie = app.owner.cookie.clone();
    let wf = app
        .create_workflow(&app.owner_key, workflow_body("runs"))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let a = record(&app, &wf, "success", "2026-01-01T10:00:00.000Z").await;
    let b = record(&app, &wf, "error", "2026-01-01T11:00:00.000Z").await;
    let c = record(&app, &wf, "running", "2026-01-01T12:00:00.000Z").await;

    let ids = |body: &Value| -> Vec<String> {
        body["data"]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|e| e["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let all = app
        .get("/rest/executions")
        .cookie(&cookie)
        .send()
        .await
        .json();
    assert_eq!(ids(&all), [c.to_string(), b.to_string(), a.to_string()]);
    assert_eq!(all["data"]["estimated"], false);
    let errors = app
        .get(&format!(
            "/rest/executions?filter={}",
            filter(json!({ "status": ["error"] }))
        ))
        .cookie(&cookie)
        .send()
        .await
        .json();
    assert_eq!(ids(&errors), [b.to_string()]);
    assert_eq!(errors["data"]["count"], 1);
    let older = app
        .get(&format!("/rest/executions?limit=1&lastId={b}"))
        .cookie(&cookie)
        .send()
        .await
        .json();
    assert_eq!(ids(&older), [a.to_string()]);
    app.get(&format!(
        "/rest/executions?filter={}",
        filter(json!({ "status": ["bogus"] }))
    ))
    .cookie(&cookie)
    .send()
    .await
    .assert_error(400, "Unknown execution status \"bogus\"");

    let one = app
        .get(&format!("/rest/executions/{a}"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(one.status, 200, "{}", one.text());
    assert!(one.json()["data"]["data"]["resultData"]["runData"].is_object());
    app.post(&format!("/rest/executions/{a}/stop"))
        .cookie(&cookie)
        .send()
        .await
        .assert_error(
            409,
            &format!("Execution {a} is not running and cannot be stopped"),
        );
}

#[tokio::test]
async fn insights_by_time_count_each_day_of_the_period() {
    let app = TestApp::spawn().await;
    let cookie = app.owner.cookie.clone();
    let wf = app
        .create_workflow(&app.owner_key, workflow_body("daily"))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    record(&app, &wf, "success", "2026-03-01T10:00:00.000Z").await;
    record(&app, &wf, "error", "2026-03-01T11:00:00.000Z").await;
    record(&app, &wf, "success", "2026-03-03T09:00:00.000Z").await;
    let period = "startDate=2026-03-01T00:00:00.000Z&endDate=2026-03-04T00:00:00.000Z";

    let days = app
        .get(&format!("/rest/insights/by-time?{period}"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(days.status, 200, "{}", days.text());
    let days = days.json()["data"].clone();
    let days = days.as_array().expect("days");
    assert_eq!(days.len(), 3, "{days:?}");
    assert_eq!(days[0]["date"], "2026-03-01T00:00:00.000Z");
    assert_eq!(days[0]["values"]["succeeded"], 1);
    assert_eq!(days[0]["values"]["failed"], 1);
    assert_eq!(days[0]["values"]["failureRate"], 0.5);
    assert_eq!(days[1]["values"]["total"], 0);
    assert_eq!(days[2]["values"]["succeeded"], 1);

    let summary = app
        .get(&format!("/rest/insights/summary?{period}"))
        .cookie(&cookie)
        .send()
        .await
        .json();
    assert_eq!(summary["data"]["total"]["value"], 3.0);
    assert_eq!(summary["data"]["failed"]["value"], 1.0);
    assert_eq!(summary["data"]["total"]["deviation"], Value::Null);
    app.get("/rest/insights/by-time?startDate=2026-03-04T00:00:00.000Z&endDate=2026-03-01T00:00:00.000Z")
        .cookie(&cookie)
        .send()
        .await
        .assert_error(400, "endDate must be the same as or after startDate");
}

#[tokio::test]
async fn the_workflow_list_filters_by_tag_name_and_lists_the_tags_to_choose_from() {
    let app = TestApp::spawn().await;
    let cookie = app.owner.cookie.clone();
    let tagged = app
        .create_workflow(&app.owner_key, workflow_body("tagged"))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.create_workflow(&app.owner_key, workflow_body("plain"))
        .await;
    let tag = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .json(json!({ "name": "billing" }))
        .send()
        .await
        .json()["id"]
        .as_str()
        .expect("tag id")
        .to_owned();
    let set = app
        .put(&format!("/api/v1/workflows/{tagged}/tags"))
        .key(&app.owner_key)
        .json(json!([{ "id": tag }]))
        .send()
        .await;
    assert_eq!(set.status, 200, "{}", set.text());

    let tags = app.get("/rest/tags").cookie(&cookie).send().await.json();
    assert_eq!(tags["data"][0]["name"], "billing");
    let found = app
        .get(&format!(
            "/rest/workflows?filter={}",
            filter(json!({ "tags": ["billing"] }))
        ))
        .cookie(&cookie)
        .send()
        .await
        .json();
    assert_eq!(names(&found), ["tagged"]);
    assert_eq!(found["data"][0]["tags"][0]["name"], "billing");
}
