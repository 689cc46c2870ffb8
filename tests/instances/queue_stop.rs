//! Stopping an execution through one instance while it runs on another (a queue worker): the
//! API marks the row canceled at once; the worker's heartbeat sees it and cancels the run,
//! which ends canceled without running its remaining nodes.
//!
//! PostgreSQL only: skipped, with a line on stderr, unless `TEST_DATABASE_URL` is set.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::*;
use crate::support::*;

#[tokio::test]
async fn a_stop_through_one_instance_cancels_the_run_on_the_worker_running_it() {
    let Some(url) =
        postgres_only("a_stop_through_one_instance_cancels_the_run_on_the_worker_running_it")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    let a = cluster.main("a", RECEIVER).await;
    let worker = cluster.worker("w", QUEUE).await;
    let (_, key) = bootstrap(&a).await;
    // The run waits 60 s: long past the test's patience, so only a cancel ends it in time.
    let id = publish(&a, &key, "slow", &slow("slow", "onReceived", 60)).await;
    let pool = cluster.pool().await;
    let ack = request(a.port, "POST", "/webhook/slow", &[], Some(&json!({"n": 1}))).await;
    assert_eq!(ack.status, 200, "{}", ack.text());
    let deadline = Instant::now() + Duration::from_secs(20);
    let execution: i64 = loop {
        let running: Option<i64> = sqlx::query_scalar(
            "select id from executions where workflow_id = $1 and status = 'running' and lease_owner is not null",
        )
        .bind(&id)
        .fetch_optional(&pool)
        .await
        .expect("running");
        if let Some(execution) = running {
            break execution;
        }
        assert!(Instant::now() < deadline, "the worker claims the run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let stopped = a
        .send(
            "POST",
            &format!("/api/v1/executions/{execution}/stop"),
            &[("x-n8n-api-key", &key)],
            None,
        )
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text());
    assert_eq!(stopped.json()["status"], "canceled");

    // The worker ends the run: its claim is released (the end is recorded) long before the
    // Wait node's 60 s, with the row still canceled and the node after Wait never run.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let owner: Option<String> =
            sqlx::query_scalar("select lease_owner from executions where id = $1")
                .bind(execution)
                .fetch_one(&pool)
                .await
                .expect("owner");
        if owner.is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "the worker cancels the run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, data): (String, Option<String>) =
        sqlx::query_as("select status, data from executions where id = $1")
            .bind(execution)
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!(status, "canceled");
    let data: serde_json::Value =
        serde_json::from_str(data.as_deref().unwrap_or("{}")).expect("data");
    assert!(
        data.pointer("/resultData/runData/After").is_none(),
        "the node after Wait did not run: {data}"
    );
    // The run ended on the worker (a cancel inside the Wait node ends that node with n8n's
    // "The execution was canceled"; the stored status stays canceled either way).
    assert_eq!(
        metric(&worker, "workflow_executions_total", "mode=\"webhook\"").await,
        1.0,
        "the worker ended the run"
    );
    if let Some(error) = data.pointer("/resultData/error/message") {
        assert_eq!(error, "The execution was canceled", "{data}");
    }
}
