//! Binary data across processes: in queue mode (whose default binary data mode is `database`)
//! a file uploaded to one instance is run, and answered, by a worker with a data folder of
//! its own, because the file is in the shared database; the stored execution holds only the
//! reference.
//!
//! PostgreSQL only: skipped, with a line on stderr, unless `TEST_DATABASE_URL` is set.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn an_upload_received_by_one_instance_is_answered_by_a_worker_from_the_database() {
    let test = "an_upload_received_by_one_instance_is_answered_by_a_worker_from_the_database";
    let Some(url) = postgres_only(test) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let schema = unique_schema("binary");
    let env = |name: &str, extra: &[(&'static str, &str)]| {
        let folder = dir.path().join(name);
        std::fs::create_dir_all(&folder).expect("user folder");
        let mut env = vec![
            ("DATABASE_URL", url.clone()),
            ("DB_POSTGRESDB_SCHEMA", schema.clone()),
            ("DB_POSTGRESDB_POOL_SIZE", "4".to_owned()),
            ("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY.to_owned()),
            ("N8N_USER_FOLDER", folder.display().to_string()),
            ("N8N_SECURE_COOKIE", "false".to_owned()),
            ("EXECUTIONS_MODE", "queue".to_owned()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        env
    };
    // The receiving instance runs nothing itself.
    let mut receiver = Instance::start(
        dir.path(),
        "receiver",
        &env("receiver", &[("N8N_CONCURRENCY_PRODUCTION_LIMIT", "0")]),
    );
    receiver.wait_ready().await;
    let mut worker = Instance::worker(dir.path(), "worker", &env("worker", &[]));
    worker.wait_ready().await;
    let (_, key) = bootstrap(&receiver).await;
    let workflow = json!({
        "name": "echo file",
        "nodes": [
            {"id": "h", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
             "position": [0, 0], "webhookId": "file-hook",
             "parameters": {"path": "file", "httpMethod": "POST", "responseMode": "responseNode", "options": {}}},
            {"id": "r", "name": "Respond", "type": "n8n-nodes-base.respondToWebhook", "typeVersion": 1.1,
             "position": [200, 0],
             "parameters": {"respondWith": "binary", "responseDataSource": "set", "inputFieldName": "doc", "options": {}}}
        ],
        "connections": {"Webhook": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"}
    });
    let created = receiver
        .send(
            "POST",
            "/api/v1/workflows",
            &[("x-n8n-api-key", &key)],
            Some(&workflow),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let published = receiver
        .send(
            "POST",
            &format!("/api/v1/workflows/{id}/activate"),
            &[("x-n8n-api-key", &key)],
            None,
        )
        .await;
    assert_eq!(published.status, 200, "{}", published.text());

    let file: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let mut body = b"--sep\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.bin\"\r\n\
Content-Type: application/octet-stream\r\n\r\n"
        .to_vec();
    body.extend_from_slice(&file);
    body.extend_from_slice(b"\r\n--sep--\r\n");
    let answer = try_request_bytes(
        receiver.port,
        "POST",
        "/webhook/file",
        &[],
        Some(("multipart/form-data; boundary=sep", body)),
    )
    .await
    .expect("the upload");

    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.body, file, "the worker answered the uploaded bytes");
    let pool = pg_pool(&url, &schema).await;
    let (files, referenced): (i64, i64) = sqlx::query_as(
        "select (select count(*) from binary_data), \
         (select count(*) from executions where data like '%\"id\":\"database:%')",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!((files, referenced), (1, 1));
    // Nothing but the worker's run wrote the execution, and it holds no bytes: 3000 bytes
    // of base64 would be 4000 characters.
    let size: i64 = sqlx::query_scalar("select max(length(data))::bigint from executions")
        .fetch_one(&pool)
        .await
        .expect("size");
    assert!(size < 4000, "execution data of {size} characters");
}
