//! Executions: listing with n8n's id cursor, reading, tags, stopping and deleting recorded
//! runs; retries are refused (this server runs no workflows); insights over them.

use serde_json::{json, Value};

use flowgate::db::executions::{insert, NewExecution};

use crate::helpers::{workflow_body, TestApp};

/// Records a run of `workflow_id` (there is no engine to make one).
async fn record(
    app: &TestApp,
    workflow_id: &str,
    status: &str,
    started: &str,
    stopped: Option<&str>,
) -> i64 {
    let mut tx = app.state.db.begin().await.expect("tx");
    let id = insert(
        tx.conn(),
        &NewExecution {
            workflow_id,
            mode: "trigger",
            status,
            finished: status == "success",
            created_at: started,
            started_at: Some(started),
            stopped_at: stopped,
            data: Some(r#"{"resultData":{"runData":{}}}"#),
        },
    )
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
    id
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn executions_are_listed_newest_first_with_n8ns_id_cursor() {
    let app = TestApp::spawn().await;
    let wf = app
        .create_workflow(&app.owner_key, workflow_body("w"))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(
            record(
                &app,
                &wf,
                "success",
                &format!("2026-01-0{}T10:00:00.000Z", i + 1),
                Some(&format!("2026-01-0{}T10:00:02.000Z", i + 1)),
            )
            .await,
        );
    }
    let running = record(&app, &wf, "running", "2026-01-09T10:00:00.000Z", None).await;

    let first = app
        .get("/api/v1/executions?limit=2")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(
        ids(&first),
        vec![made[4].to_string(), made[3].to_string()],
        "running executions are left out unless asked for"
    );
    assert!(first["data"][0].get("data").is_none());
    let cursor = first["nextCursor"].as_str().expect("cursor");
    let decoded: Value = serde_json::from_slice(&base64_decode(cursor)).expect("json");
    assert_eq!(
        decoded,
        json!({ "lastId": made[3].to_string(), "limit": 2 })
    );
    let rest = app
        .get(&format!(
            "/api/v1/executions?cursor={}",
            cursor.replace('=', "%3D")
        ))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(ids(&rest), vec![made[2].to_string(), made[1].to_string()]);

    let only_running = app
        .get("/api/v1/executions?status=running")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(ids(&only_running), vec![running.to_string()]);
    let window = app.get("/api/v1/executions?startedAfter=2026-01-02T00:00:00Z&startedBefore=2026-01-03T23:00:00Z&includeData=true").key(&app.owner_key).send().await.json();
    assert_eq!(ids(&window), vec![made[2].to_string(), made[1].to_string()]);
    assert_eq!(
        window["data"][0]["data"]["resultData"],
        json!({ "runData": {} })
    );
    app.get("/api/v1/executions?cursor=nope")
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(400, "An invalid cursor was provided");
    app.get("/api/v1/executions?status=done")
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(
            400,
            "request/query/status must be equal to one of the allowed values",
        );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

#[tokio::test]
async fn an_execution_is_read_tagged_stopped_and_deleted() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let wf = app.create_workflow(key, workflow_body("w")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let done = record(
        &app,
        &wf,
        "success",
        "2026-01-01T10:00:00.000Z",
        Some("2026-01-01T10:00:01.000Z"),
    )
    .await;
    let live = record(&app, &wf, "running", "2026-01-01T11:00:00.000Z", None).await;
    let tag = app
        .post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "reviewed" }))
        .send()
        .await
        .json();

    let read = app
        .get(&format!("/api/v1/executions/{done}"))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(read["id"], done.to_string());
    assert_eq!(read["status"], "success");
    assert_eq!(read["workflowId"], wf.as_str());
    app.get("/api/v1/executions/999999")
        .key(key)
        .send()
        .await
        .assert_error(404, "Not Found");
    app.get("/api/v1/executions/abc")
        .key(key)
        .send()
        .await
        .assert_error(400, "request/params/id must be an integer >= 1");

    let tagged = app
        .put(&format!("/api/v1/executions/{done}/tags"))
        .key(key)
        .json(json!([{ "id": tag["id"] }]))
        .send()
        .await
        .json();
    assert_eq!(tagged[0]["name"], "reviewed");
    assert_eq!(
        app.get(&format!("/api/v1/executions/{done}/tags"))
            .key(key)
            .send()
            .await
            .json()[0]["name"],
        "reviewed"
    );

    let stopped = app
        .post(&format!("/api/v1/executions/{live}/stop"))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(stopped["status"], "canceled");
    assert!(stopped["stoppedAt"].is_string());
    app.post(&format!("/api/v1/executions/{done}/stop"))
        .key(key)
        .send()
        .await
        .assert_error(
            409,
            &format!("Execution {done} is not running and cannot be stopped"),
        );
    let retry = app
        .post(&format!("/api/v1/executions/{done}/retry"))
        .key(key)
        .send()
        .await;
    assert_eq!(retry.status, 409, "{}", retry.text());

    let deleted = app
        .delete(&format!("/api/v1/executions/{done}"))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(
        deleted["id"],
        json!(done),
        "a deleted execution's id is a number, as in n8n"
    );
    app.get(&format!("/api/v1/executions/{done}"))
        .key(key)
        .send()
        .await
        .assert_error(404, "Not Found");
}

#[tokio::test]
async fn stopping_in_bulk_counts_what_it_stopped() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let wf = app.create_workflow(key, workflow_body("w")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for status in ["running", "waiting", "success", "running"] {
        record(&app, &wf, status, "2026-01-01T10:00:00.000Z", None).await;
    }

    let stopped = app
        .post("/api/v1/executions/stop")
        .key(key)
        .json(json!({ "status": ["running", "waiting"], "workflowId": wf }))
        .send()
        .await;

    assert_eq!(stopped.json(), json!({ "stopped": 3 }));
    app.post("/api/v1/executions/stop")
        .key(key)
        .json(json!({ "status": [] }))
        .send()
        .await
        .assert_error(400, "request/body/status must NOT have fewer than 1 items");
    app.post("/api/v1/executions/stop")
        .key(key)
        .json(json!({ "status": ["running"], "workflowId": "AAAAAAAAAAAAAAAA" }))
        .send()
        .await
        .assert_error(404, "Workflow not found or not accessible");
}

#[tokio::test]
async fn members_see_executions_of_their_projects_only() {
    let app = TestApp::spawn().await;
    let member = app.add_user("m@example.com", "global:member").await;
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
    let hidden = record(&app, &owners, "success", "2026-01-01T10:00:00.000Z", None).await;
    let visible = record(&app, &mine, "success", "2026-01-01T10:00:00.000Z", None).await;

    assert_eq!(
        ids(&app
            .get("/api/v1/executions")
            .key(&member_key)
            .send()
            .await
            .json()),
        vec![visible.to_string()]
    );
    app.get(&format!("/api/v1/executions/{hidden}"))
        .key(&member_key)
        .send()
        .await
        .assert_error(404, "Not Found");
    assert_eq!(
        app.get(&format!("/api/v1/executions?workflowId={owners}"))
            .key(&member_key)
            .send()
            .await
            .json()["data"],
        json!([])
    );
}

#[tokio::test]
async fn insights_summarise_the_runs_of_a_period_against_the_one_before() {
    let app = TestApp::spawn().await;
    let mut body = workflow_body("saver");
    body["settings"] = json!({ "timeSavedPerExecution": 5 });
    let wf = app.create_workflow(&app.owner_key, body).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    record(
        &app,
        &wf,
        "success",
        "2026-03-02T10:00:00.000Z",
        Some("2026-03-02T10:00:01.000Z"),
    )
    .await;
    record(
        &app,
        &wf,
        "success",
        "2026-03-03T10:00:00.000Z",
        Some("2026-03-03T10:00:03.000Z"),
    )
    .await;
    record(
        &app,
        &wf,
        "error",
        "2026-03-04T10:00:00.000Z",
        Some("2026-03-04T10:00:02.000Z"),
    )
    .await;
    record(
        &app,
        &wf,
        "success",
        "2026-02-25T10:00:00.000Z",
        Some("2026-02-25T10:00:01.000Z"),
    )
    .await;

    let summary = app
        .get("/api/v1/insights/summary?startDate=2026-03-01T00:00:00Z&endDate=2026-03-08T00:00:00Z")
        .key(&app.owner_key)
        .send()
        .await
        .json();

    assert_eq!(
        summary["total"],
        json!({ "value": 3.0, "deviation": 2.0, "unit": "count" })
    );
    assert_eq!(summary["failed"]["value"], 1.0);
    assert!((summary["failureRate"]["value"].as_f64().expect("rate") - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        summary["timeSaved"],
        json!({ "value": 10.0, "deviation": 5.0, "unit": "minute" })
    );
    assert_eq!(summary["averageRunTime"]["value"], 2000.0);
    assert_eq!(summary["averageRunTime"]["unit"], "millisecond");
    app.get("/api/v1/insights/summary?startDate=2026-03-08T00:00:00Z&endDate=2026-03-01T00:00:00Z")
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(400, "endDate must be the same as or after startDate");
}
