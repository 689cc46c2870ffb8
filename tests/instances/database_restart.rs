//! The database restarts under load: a queue-mode receiver and a worker on a private
//! PostgreSQL server that is restarted twice (`fast`, then `immediate`) while callers keep
//! calling two webhooks. Every call answered 2xx has its execution stored and ended with
//! success (none lost, none run twice); calls refused during the outage are the callers' to
//! retry, and whatever they left behind ends too (nothing stays queued or running).
//!
//! Runs in the PostgreSQL pass only (skipped like the other PostgreSQL tests without
//! `TEST_DATABASE_URL`), and needs the PostgreSQL server binaries on this machine (see
//! `private_postgres.rs`); the shared server is never restarted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::cluster::*;
use crate::private_postgres::PrivatePostgres;
use crate::support::*;

const CALLERS: usize = 8;

/// One call and how it was answered (`None`: no HTTP answer at all).
struct Call {
    n: u32,
    path: &'static str,
    status: Option<u16>,
    body: String,
}

#[tokio::test]
async fn a_postgres_restart_under_load_loses_no_acknowledged_execution() {
    const TEST: &str = "a_postgres_restart_under_load_loses_no_acknowledged_execution";
    if postgres_only(TEST).is_none() {
        return;
    }
    let Some(server) = PrivatePostgres::start(TEST) else {
        return;
    };
    let server = Arc::new(server);
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &server.url());
    // Leases longer than the outages: an outage shorter than the lease loses nothing, a
    // longer one marks the runs in flight crashed (n8n's rule; tested elsewhere).
    let lease: &[(&str, &str)] = &[
        ("QUEUE_WORKER_LOCK_DURATION", "60000"),
        ("QUEUE_WORKER_LOCK_RENEW_TIME", "1000"),
    ];
    let receiver = cluster.main("a", &[RECEIVER, lease].concat()).await;
    let worker_env = [
        &[
            ("EXECUTIONS_MODE", "queue"),
            ("N8N_CONCURRENCY_PRODUCTION_LIMIT", "5"),
        ][..],
        lease,
    ]
    .concat();
    let worker = cluster.worker("w", &worker_env).await;
    let (_, key) = bootstrap(&receiver).await;
    let echo_id = publish(&receiver, &key, "echo", &echo("echo")).await;
    let acked_id = publish(&receiver, &key, "acked", &slow("acked", "onReceived", 0)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU32::new(0));
    let calls = Arc::new(Mutex::new(Vec::<Call>::new()));
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..CALLERS {
        let (stop, next, calls) = (Arc::clone(&stop), Arc::clone(&next), Arc::clone(&calls));
        let port = receiver.port;
        callers.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let path = if n % 2 == 0 {
                    "/webhook/echo"
                } else {
                    "/webhook/acked"
                };
                let body = json!({"n": n.to_string()});
                let answer = try_request(port, "POST", path, &[], Some(&body)).await;
                let call = match answer {
                    Ok(a) => Call {
                        n,
                        path,
                        status: Some(a.status),
                        body: a.text(),
                    },
                    Err(e) => Call {
                        n,
                        path,
                        status: None,
                        body: e.to_string(),
                    },
                };
                calls.lock().expect("calls").push(call);
            }
        });
    }

    for mode in ["fast", "immediate"] {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let server = Arc::clone(&server);
        tokio::task::spawn_blocking(move || server.restart(mode))
            .await
            .expect("restart");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(done) = callers.join_next().await {
        done.expect("caller");
    }
    // Served again after both restarts.
    for path in ["/webhook/echo", "/webhook/acked"] {
        let body = json!({"n": format!("after {path}")});
        let after = request(receiver.port, "POST", path, &[], Some(&body)).await;
        assert_eq!(
            after.status,
            200,
            "{path} after the restarts: {}",
            after.text()
        );
    }

    let pool = cluster.pool().await;
    wait_all_ended(&pool, Duration::from_secs(90)).await;
    let mut runs: HashMap<String, Vec<String>> = HashMap::new();
    for id in [&echo_id, &acked_id] {
        for (status, n) in webhook_runs(&pool, id).await {
            let n = n.expect("every execution holds its call's data");
            runs.entry(n).or_default().push(status);
        }
    }
    let calls = std::mem::take(&mut *calls.lock().expect("calls"));
    let acknowledged: Vec<&Call> = calls
        .iter()
        .filter(|c| c.status.is_some_and(|s| (200..300).contains(&s)))
        .collect();
    let mut lost = Vec::new();
    for call in &acknowledged {
        if call.path == "/webhook/echo" {
            let answered: serde_json::Value =
                serde_json::from_str(&call.body).unwrap_or(serde_json::Value::Null);
            assert_eq!(answered, json!({"n": call.n.to_string()}), "{}", call.n);
        }
        match runs.get(&call.n.to_string()).map(Vec::as_slice) {
            Some([status]) if status == "success" => {}
            other => lost.push(format!("{} {}: {other:?}", call.path, call.n)),
        }
    }
    assert!(
        lost.is_empty(),
        "every acknowledged call has one successful execution; not so for {} of {}: {:?}",
        lost.len(),
        acknowledged.len(),
        &lost[..lost.len().min(10)]
    );
    // Nothing ran twice, acknowledged or not.
    let twice: Vec<_> = runs.iter().filter(|(_, s)| s.len() > 1).collect();
    assert!(twice.is_empty(), "calls with two executions: {twice:?}");
    let refused = calls.len() - acknowledged.len();
    let retried = worker.log().matches("trying again").count();
    eprintln!(
        "database restarts under load: {} calls, {} acknowledged, {refused} refused or cut off; \
         {retried} writes retried by the worker",
        calls.len(),
        acknowledged.len()
    );
}
