//! Binary data, black-box: files uploaded to webhooks (multipart and raw bodies) and files
//! downloaded by HTTP Request are kept in the binary data store of each mode, referred to
//! from the stored execution (never as base64 in it), answered byte for byte, refused past
//! the size limit, and deleted with their execution.

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::Router;
use flowgate::engine::config::BinaryDataMode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

use crate::helpers::TestApp;
use crate::support::{last_execution, publish, upload};

/// Bytes no text decoding would keep intact: every byte value, twice.
fn payload() -> Vec<u8> {
    (0..=255u8).chain((0..=255u8).rev()).collect()
}

async fn app_in(mode: BinaryDataMode) -> TestApp {
    TestApp::spawn_with(|c| c.engine.binary_data_mode = Some(mode)).await
}

fn multipart(boundary: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nquarterly\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"report.bin\"\r\n\
             Content-Type: application/x-report\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// Webhook (answered by Respond to Webhook with the binary property `property`).
fn echo_workflow(path: &str, property: &str, webhook_options: Value) -> Value {
    json!({
        "nodes": [
            {"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
             "position": [0, 0], "webhookId": format!("{path}-hook"),
             "parameters": {"path": path, "httpMethod": "POST", "responseMode": "responseNode",
                            "options": webhook_options}},
            {"id": "respond", "name": "Respond", "type": "n8n-nodes-base.respondToWebhook",
             "typeVersion": 1.1, "position": [200, 0],
             "parameters": {"respondWith": "binary", "responseDataSource": "set",
                            "inputFieldName": property, "options": {}}}
        ],
        "connections": {"Webhook": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]}}
    })
}

fn webhook_binary(execution: &Value, property: &str) -> Value {
    execution["data"]["resultData"]["runData"]["Webhook"][0]["data"]["main"][0][0]["binary"]
        [property]
        .clone()
}

/// The number of stored files of an execution in `database` mode.
async fn rows_of(app: &TestApp, execution_id: i64) -> i64 {
    let mut conn = app.state.db.acquire().await.expect("connection");
    flowgate::db::binary_data::count_for_execution(conn.conn(), execution_id)
        .await
        .expect("count")
}

/// The execution's id (the API writes it as a string).
fn execution_id_of(execution: &Value) -> i64 {
    execution["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .or_else(|| execution["id"].as_i64())
        .expect("an execution id")
}

/// Where a `filesystem` mode reference points.
fn file_of(app: &TestApp, id: &str) -> std::path::PathBuf {
    let relative = id.strip_prefix("filesystem-v2:").expect("a filesystem id");
    app.folder.join(".n8n").join("binaryData").join(relative)
}

/// Uploads a multipart form, checks the stored reference and the byte-identical answer, and
/// answers the execution.
async fn multipart_round_trip(app: &TestApp, path: &str) -> (String, Value) {
    let workflow_id = publish(app, path, &echo_workflow(path, "doc", json!({}))).await;
    let file = payload();
    let answer = upload(
        app,
        path,
        multipart("b0undary", &file),
        "multipart/form-data; boundary=b0undary",
    )
    .await;

    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.body, file, "the answer is the uploaded file");
    assert_eq!(answer.header("content-type"), Some("application/x-report"));
    let execution = last_execution(app, &workflow_id).await;
    assert_eq!(execution["status"], "success", "{execution}");
    let item = &execution["data"]["resultData"]["runData"]["Webhook"][0]["data"]["main"][0][0];
    assert_eq!(item["json"]["body"], json!({"title": "quarterly"}));
    let entry = webhook_binary(&execution, "doc");
    // As n8n 2.8: the extension and kind come from the MIME type, which has neither here.
    assert_eq!(entry["fileName"], "report.bin");
    assert!(entry.get("fileExtension").is_none(), "{entry}");
    assert!(entry.get("fileType").is_none(), "{entry}");
    assert_eq!(entry["mimeType"], "application/x-report");
    assert_eq!(entry["fileSize"], "512 B");
    assert_eq!(entry["bytes"], 512);
    // The stored execution carries a reference, never the bytes.
    let stored = execution.to_string();
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&file);
    assert!(
        !stored.contains(&encoded[..40]),
        "base64 of the file in {stored}"
    );
    (workflow_id, execution)
}

#[tokio::test]
async fn a_multipart_upload_is_kept_on_disk_referred_to_and_answered_byte_identical() {
    let app = app_in(BinaryDataMode::Filesystem).await;
    let (workflow_id, execution) = multipart_round_trip(&app, "fs-upload").await;
    let execution_id = execution_id_of(&execution);

    let entry = webhook_binary(&execution, "doc");
    assert_eq!(entry["data"], "filesystem-v2");
    let id = entry["id"].as_str().expect("id");
    assert!(
        id.starts_with(&format!(
            "filesystem-v2:workflows/{workflow_id}/executions/{execution_id}/binary_data/"
        )),
        "{id}"
    );
    let file = file_of(&app, id);
    assert_eq!(std::fs::read(&file).expect("the stored file"), payload());

    let deleted = app
        .delete(&format!("/api/v1/executions/{execution_id}"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert!(!file.exists(), "the file went with its execution");
}

#[tokio::test]
async fn a_multipart_upload_is_kept_in_the_database_and_deleted_with_its_execution() {
    let app = app_in(BinaryDataMode::Database).await;
    let (_, execution) = multipart_round_trip(&app, "db-upload").await;
    let execution_id = execution_id_of(&execution);

    let entry = webhook_binary(&execution, "doc");
    assert_eq!(entry["data"], "database");
    assert!(entry["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("database:")));
    assert_eq!(rows_of(&app, execution_id).await, 1);
    assert!(!app.folder.join(".n8n").join("binaryData").exists());

    let deleted = app
        .delete(&format!("/api/v1/executions/{execution_id}"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(rows_of(&app, execution_id).await, 0);
}

#[tokio::test]
async fn a_raw_body_becomes_the_named_binary_property_and_is_answered_by_the_last_node() {
    for mode in [BinaryDataMode::Filesystem, BinaryDataMode::Database] {
        let app = app_in(mode).await;
        let path = "raw-upload";
        let workflow = json!({
            "nodes": [
                {"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
                 "position": [0, 0], "webhookId": "raw-hook",
                 "parameters": {"path": path, "httpMethod": "POST", "responseMode": "lastNode",
                                "responseData": "firstEntryBinary",
                                "responseBinaryPropertyName": "upload",
                                "options": {"binaryPropertyName": "upload"}}}
            ],
            "connections": {}
        });
        let workflow_id = publish(&app, path, &workflow).await;
        let answer = upload(&app, path, payload(), "image/png").await;

        assert_eq!(answer.status, 200, "{mode:?}: {}", answer.text());
        assert_eq!(answer.body, payload(), "{mode:?}");
        assert_eq!(answer.header("content-type"), Some("image/png"));
        let execution = last_execution(&app, &workflow_id).await;
        let entry = webhook_binary(&execution, "upload");
        assert_eq!(entry["mimeType"], "image/png", "{execution}");
        assert_eq!(entry["fileType"], "image");
        assert_eq!(entry["fileExtension"], "png");
        // n8n names the file after its temporary file: a UUID.
        assert_eq!(
            entry["fileName"].as_str().map(str::len),
            Some(36),
            "{entry}"
        );
        assert!(entry["id"].is_string(), "{mode:?}: a reference: {entry}");
    }
}

#[tokio::test]
async fn the_raw_body_option_keeps_a_json_body_as_binary_data_too() {
    let app = app_in(BinaryDataMode::Filesystem).await;
    let path = "raw-json";
    let workflow_id = publish(
        &app,
        path,
        &echo_workflow(path, "data", json!({"rawBody": true})),
    )
    .await;
    let answer = upload(&app, path, br#"{"a":1}"#.to_vec(), "application/json").await;

    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.body, br#"{"a":1}"#);
    let execution = last_execution(&app, &workflow_id).await;
    let item = &execution["data"]["resultData"]["runData"]["Webhook"][0]["data"]["main"][0][0];
    assert_eq!(item["json"]["body"], json!({"a": 1}));
    assert_eq!(item["binary"]["data"]["mimeType"], "application/json");
    assert_eq!(item["binary"]["data"]["data"], "filesystem-v2");
}

#[tokio::test]
async fn default_mode_keeps_the_bytes_inline_as_base64() {
    let app = app_in(BinaryDataMode::Default).await;
    let (_, execution) = {
        let path = "inline-upload";
        let workflow_id = publish(&app, path, &echo_workflow(path, "doc", json!({}))).await;
        let answer = upload(
            &app,
            path,
            multipart("b0undary", b"hello"),
            "multipart/form-data; boundary=b0undary",
        )
        .await;
        assert_eq!(answer.body, b"hello");
        (
            workflow_id.clone(),
            last_execution(&app, &workflow_id).await,
        )
    };
    let entry = webhook_binary(&execution, "doc");
    assert_eq!(entry["data"], "aGVsbG8=");
    assert!(entry.get("id").is_none(), "{entry}");
}

#[tokio::test]
async fn files_over_the_limits_are_refused_before_anything_runs() {
    // `database` mode: N8N_BINARY_DATA_DATABASE_MAX_FILE_SIZE (MiB), per file.
    let app = TestApp::spawn_with(|c| {
        c.engine.binary_data_mode = Some(BinaryDataMode::Database);
        c.engine.binary_data_db_max_file_size_mib = 1;
        c.payload_size_max_mib = 4;
    })
    .await;
    let workflow_id = publish(&app, "big", &echo_workflow("big", "doc", json!({}))).await;
    let big = vec![7u8; 1024 * 1024 + 1];
    let refused = upload(
        &app,
        "big",
        multipart("b0undary", &big),
        "multipart/form-data; boundary=b0undary",
    )
    .await;
    assert_eq!(refused.status, 413, "{}", refused.text());
    assert!(
        refused.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("N8N_BINARY_DATA_DATABASE_MAX_FILE_SIZE")),
        "{}",
        refused.text()
    );
    assert!(crate::support::executions(&app, &workflow_id)
        .await
        .is_empty());

    // Every mode: the request body itself is bounded by N8N_PAYLOAD_SIZE_MAX.
    let app = TestApp::spawn_with(|c| {
        c.engine.binary_data_mode = Some(BinaryDataMode::Filesystem);
        c.payload_size_max_mib = 1;
    })
    .await;
    publish(&app, "huge", &echo_workflow("huge", "doc", json!({}))).await;
    let refused = upload(&app, "huge", big, "application/octet-stream").await;
    assert_eq!(refused.status, 413, "{}", refused.text());
}

#[tokio::test]
async fn a_malformed_multipart_body_is_a_422() {
    let app = app_in(BinaryDataMode::Filesystem).await;
    publish(
        &app,
        "bad-form",
        &echo_workflow("bad-form", "doc", json!({})),
    )
    .await;
    let refused = upload(
        &app,
        "bad-form",
        b"--b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end".to_vec(),
        "multipart/form-data; boundary=b0undary",
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.text());
}

#[tokio::test]
async fn an_execution_not_kept_by_the_saving_rules_leaves_no_files() {
    let app = app_in(BinaryDataMode::Filesystem).await;
    let mut workflow = echo_workflow("unsaved", "doc", json!({}));
    workflow["settings"] = json!({"executionOrder": "v1", "saveDataSuccessExecution": "none"});
    publish(&app, "unsaved", &workflow).await;
    let answer = upload(
        &app,
        "unsaved",
        multipart("b0undary", &payload()),
        "multipart/form-data; boundary=b0undary",
    )
    .await;
    assert_eq!(answer.body, payload());
    let root = app.folder.join(".n8n").join("binaryData").join("workflows");
    // The run records its end after answering; wait for the folder of its files to go.
    for _ in 0..200 {
        let left = walk(&root);
        if left.is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("files left: {:?}", walk(&root));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The uploads a local service received: headers and body of each.
type Uploads = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A local service that serves a file and records uploads.
async fn file_service() -> (String, Uploads) {
    let seen: Uploads = Arc::default();
    let record = Arc::clone(&seen);
    let app = Router::new()
        .route(
            "/files/scan.pdf",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "application/pdf"),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"scan.pdf\"",
                        ),
                    ],
                    payload(),
                )
            }),
        )
        .route(
            "/upload",
            post(move |headers: HeaderMap, body: Bytes| {
                let record = Arc::clone(&record);
                async move {
                    record
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((headers, body.to_vec()));
                    axum::Json(json!({"ok": true}))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}"), seen)
}

#[tokio::test]
async fn http_request_downloads_into_the_store_and_sends_stored_files() {
    for mode in [BinaryDataMode::Filesystem, BinaryDataMode::Database] {
        let app = app_in(mode).await;
        let (base, seen) = file_service().await;
        let flow = json!({
            "nodes": [
                {"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
                 "position": [0, 0], "webhookId": "files-hook",
                 "parameters": {"path": "files", "httpMethod": "POST", "responseMode": "lastNode", "options": {}}},
                {"id": "get", "name": "Download", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
                 "position": [200, 0],
                 "parameters": {"url": format!("{base}/files/scan.pdf"),
                                "options": {"response": {"response": {"responseFormat": "file", "outputPropertyName": "scan"}}}}},
                {"id": "put", "name": "Send raw", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
                 "position": [400, 0],
                 "parameters": {"method": "POST", "url": format!("{base}/upload"), "sendBody": true,
                                "contentType": "binaryData", "inputDataFieldName": "scan", "options": {}}},
                {"id": "form", "name": "Send form", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
                 "position": [400, 200],
                 "parameters": {"method": "POST", "url": format!("{base}/upload"), "sendBody": true,
                                "contentType": "multipart-form-data",
                                "bodyParameters": {"parameters": [
                                    {"parameterType": "formBinaryData", "name": "attachment", "inputDataFieldName": "scan"},
                                    {"name": "note", "value": "signed"}]},
                                "options": {}}}
            ],
            "connections": {
                "Webhook": {"main": [[{"node": "Download", "type": "main", "index": 0}]]},
                "Download": {"main": [[{"node": "Send raw", "type": "main", "index": 0},
                                       {"node": "Send form", "type": "main", "index": 0}]]}
            }
        });
        let workflow_id = publish(&app, "files", &flow).await;
        crate::support::call(&app, "POST", "/webhook/files", Some(&json!({})), &[]).await;
        let execution = last_execution(&app, &workflow_id).await;
        assert_eq!(execution["status"], "success", "{mode:?}: {execution}");

        let downloaded = &execution["data"]["resultData"]["runData"]["Download"][0]["data"]["main"]
            [0][0]["binary"]["scan"];
        assert_eq!(downloaded["fileName"], "scan.pdf", "{downloaded}");
        assert_eq!(downloaded["mimeType"], "application/pdf");
        assert_eq!(downloaded["fileType"], "pdf");
        assert_eq!(downloaded["fileSize"], "512 B");
        let expected_data = match mode {
            BinaryDataMode::Database => "database",
            _ => "filesystem-v2",
        };
        assert_eq!(downloaded["data"], expected_data);
        assert!(downloaded["id"].is_string());

        let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(seen.len(), 2, "{mode:?}");
        let raw = seen
            .iter()
            .find(|(h, _)| {
                h.get(header::CONTENT_TYPE)
                    .is_some_and(|c| c == "application/pdf")
            })
            .expect("the raw upload");
        assert_eq!(raw.1, payload(), "{mode:?}: the file sent as the body");
        let form = seen
            .iter()
            .find(|(h, _)| {
                h.get(header::CONTENT_TYPE)
                    .and_then(|c| c.to_str().ok())
                    .is_some_and(|c| c.starts_with("multipart/form-data"))
            })
            .expect("the form upload");
        let window = payload();
        assert!(
            form.1.windows(window.len()).any(|w| w == window.as_slice()),
            "{mode:?}: the file inside the form"
        );
        let text = String::from_utf8_lossy(&form.1);
        assert!(
            text.contains("name=\"attachment\"; filename=\"scan.pdf\""),
            "{text}"
        );
        assert!(text.contains("name=\"note\""), "{text}");
    }
}

#[tokio::test]
async fn pruning_sweeps_files_of_executions_that_are_gone_and_a_deleted_workflow_takes_its_files() {
    let app = app_in(BinaryDataMode::Filesystem).await;
    let (_, execution) = multipart_round_trip(&app, "swept").await;
    let id = execution_id_of(&execution);
    let file = file_of(
        &app,
        webhook_binary(&execution, "doc")["id"]
            .as_str()
            .expect("id"),
    );
    assert!(file.exists());
    // Gone without this instance deleting its files (another instance sharing the folder).
    app.sql(&format!("delete from executions where id = {id}"))
        .await;
    let swept = app.state.engine.binary().sweep().await.expect("sweep");
    assert_eq!(swept, 1);
    assert!(!file.exists());

    let (workflow_id, execution) = multipart_round_trip(&app, "dropped").await;
    let file = file_of(
        &app,
        webhook_binary(&execution, "doc")["id"]
            .as_str()
            .expect("id"),
    );
    assert!(file.exists());
    let deleted = app
        .delete(&format!("/api/v1/workflows/{workflow_id}"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert!(!file.exists(), "the files went with the workflow");
}

#[tokio::test]
async fn with_the_raw_body_option_an_unparsed_body_is_data_and_there_is_no_body() {
    let app = app_in(BinaryDataMode::Filesystem).await;
    let path = "raw-octets";
    let workflow_id = publish(
        &app,
        path,
        &echo_workflow(path, "data", json!({"rawBody": true})),
    )
    .await;
    let answer = upload(&app, path, payload(), "application/octet-stream").await;

    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.body, payload());
    let execution = last_execution(&app, &workflow_id).await;
    let item = &execution["data"]["resultData"]["runData"]["Webhook"][0]["data"]["main"][0][0];
    assert!(item["json"].get("body").is_none(), "{item}");
    assert_eq!(
        item["binary"]["data"]["mimeType"],
        "application/octet-stream"
    );
    assert_eq!(item["binary"]["data"]["fileExtension"], "bin");
}

#[tokio::test]
async fn a_queued_execution_refers_to_its_trigger_files_before_any_worker_claims_it() {
    // Queue mode with no slot here: the execution waits in the queue, unclaimed.
    let app = TestApp::spawn_with(|c| {
        c.engine.mode = flowgate::engine::config::ExecutionsMode::Queue;
        c.engine.concurrency = 0;
    })
    .await;
    let mut workflow = echo_workflow("queued", "doc", json!({}));
    workflow["nodes"][0]["parameters"]["responseMode"] = json!("onReceived");
    workflow["nodes"].as_array_mut().expect("nodes").truncate(1);
    workflow["connections"] = json!({});
    publish(&app, "queued", &workflow).await;
    let answer = upload(
        &app,
        "queued",
        multipart("b0undary", &payload()),
        "multipart/form-data; boundary=b0undary",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());

    let (status, data, owner): (String, String, Option<String>) = {
        let mut conn = app.state.db.acquire().await.expect("connection");
        flowgate::db::sql::Sql::query("select status, data, lease_owner from executions")
            .fetch_one(conn.conn())
            .await
            .expect("the queued execution")
    };
    assert_eq!(
        (status.as_str(), owner),
        ("new", None),
        "queued and claimable"
    );
    // Queue mode keeps binary data in the database by default.
    assert!(data.contains("\"id\":\"database:"), "{data}");
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(payload());
    assert!(!data.contains(&encoded[..40]), "{data}");
}
