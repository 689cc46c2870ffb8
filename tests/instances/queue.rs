//! Executions across several instances of the real binary on one PostgreSQL database: queue
//! mode with instances that receive and workers that run, each webhook call run once and
//! answered to its caller; schedules fired once per tick by whichever instance leads, also
//! while two believe they lead; a worker killed mid-run loses no acknowledged execution and
//! runs none twice; a full queue answers 503 with `Retry-After`.
//!
//! PostgreSQL only, except the one-process queue mode on SQLite: skipped, with a line on
//! stderr, unless `TEST_DATABASE_URL` is set (failed instead on CI with
//! `FLOWGATE_REQUIRE_POSTGRES=1`).
//!
//! The larger runs (1,000 calls over three instances, a schedule over 30 seconds, a database
//! restart under load) are in `queue_scale.rs` and `database_restart.rs`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::*;
use crate::support::*;

#[tokio::test]
async fn queue_mode_runs_each_webhook_call_once_on_a_worker_and_answers_its_caller() {
    let Some(url) =
        postgres_only("queue_mode_runs_each_webhook_call_once_on_a_worker_and_answers_its_caller")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    let a = cluster.main("a", RECEIVER).await;
    let b = cluster.main("b", RECEIVER).await;
    let worker_env: &[(&str, &str)] = &[
        ("EXECUTIONS_MODE", "queue"),
        ("N8N_CONCURRENCY_PRODUCTION_LIMIT", "3"),
    ];
    let w1 = cluster.worker("w1", worker_env).await;
    let w2 = cluster.worker("w2", worker_env).await;
    let (_, key) = bootstrap(&a).await;
    let echo_id = publish(&a, &key, "echo", &echo("echo")).await;
    let respond_id = publish(&b, &key, "respond", &responder("respond")).await;
    let ack_id = publish(&a, &key, "ack", &slow("ack", "onReceived", 0)).await;

    // Calls spread over both receiving instances, all at once.
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..60u16 {
        let port = if n % 2 == 0 { a.port } else { b.port };
        let path = ["/webhook/echo", "/webhook/respond", "/webhook/ack"][usize::from(n % 3)];
        calls.spawn(async move {
            let answer = request(port, "POST", path, &[], Some(&json!({"n": n.to_string()}))).await;
            (n, path, answer)
        });
    }
    while let Some(done) = calls.join_next().await {
        let (n, path, answer) = done.expect("call");
        match path {
            "/webhook/echo" => {
                assert_eq!(answer.status, 200, "{n}: {}", answer.text());
                assert_eq!(answer.json(), json!({"n": n.to_string()}), "{n}");
            }
            "/webhook/respond" => {
                assert_eq!(answer.status, 201, "{n}: {}", answer.text());
                assert_eq!(answer.text(), format!("hello {n}"));
            }
            _ => assert_eq!(answer.status, 200, "{n}: {}", answer.text()),
        }
    }

    let pool = cluster.pool().await;
    wait_all_ended(&pool, Duration::from_secs(30)).await;
    for id in [&echo_id, &respond_id, &ack_id] {
        let statuses = statuses(&pool, id).await;
        assert_eq!(statuses.len(), 20, "one execution per call: {statuses:?}");
        assert!(statuses.iter().all(|s| s == "success"), "{statuses:?}");
    }
    // Each execution was claimed once, by a worker; the receiving instances ran none.
    let claimed_by = [
        metric(&w1, "queue_claimed_total", "").await,
        metric(&w2, "queue_claimed_total", "").await,
    ];
    assert_eq!(claimed_by[0] + claimed_by[1], 60.0, "{claimed_by:?}");
    assert!(
        claimed_by.iter().all(|c| *c > 0.0),
        "both workers ran some: {claimed_by:?}"
    );
    assert_eq!(metric(&a, "queue_claimed_total", "").await, 0.0);
    assert_eq!(
        metric(&a, "queue_enqueued_total", "").await + metric(&b, "queue_enqueued_total", "").await,
        60.0
    );
    let latency = metric(&w1, "queue_claim_latency_seconds_count", "").await;
    assert_eq!(latency, claimed_by[0]);
    let answers: i64 = sqlx::query_scalar("select count(*) from execution_answers")
        .fetch_one(&pool)
        .await
        .expect("answers");
    assert_eq!(answers, 0, "every answer was read and removed");

    // Unpublished through one instance: the other stops answering at its next request.
    let off = a
        .send(
            "POST",
            &format!("/api/v1/workflows/{echo_id}/deactivate"),
            &[("x-n8n-api-key", &key)],
            None,
        )
        .await;
    assert_eq!(off.status, 200);
    let gone = request(
        b.port,
        "POST",
        "/webhook/echo",
        &[],
        Some(&json!({"n": "x"})),
    )
    .await;
    assert_eq!(gone.status, 404, "{}", gone.text());
    let on = b
        .send(
            "POST",
            &format!("/api/v1/workflows/{echo_id}/activate"),
            &[("x-n8n-api-key", &key)],
            None,
        )
        .await;
    assert_eq!(on.status, 200);
    let back = request(
        a.port,
        "POST",
        "/webhook/echo",
        &[],
        Some(&json!({"n": "y"})),
    )
    .await;
    assert_eq!(back.status, 200, "{}", back.text());
    assert_eq!(back.json(), json!({"n": "y"}));
}

#[tokio::test]
async fn three_regular_instances_answer_every_webhook_and_run_each_call_once() {
    let Some(url) =
        postgres_only("three_regular_instances_answer_every_webhook_and_run_each_call_once")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    let first = cluster.main("r1", &[]).await;
    let instances = [
        first,
        cluster.main("r2", &[]).await,
        cluster.main("r3", &[]).await,
    ];
    let (_, key) = bootstrap(&instances[0]).await;
    let id = publish(&instances[1], &key, "echo", &echo("echo3")).await;
    let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..45u16 {
        let port = ports[usize::from(n) % 3];
        calls.spawn(async move {
            (
                n,
                request(
                    port,
                    "POST",
                    "/webhook/echo3",
                    &[],
                    Some(&json!({"n": n.to_string()})),
                )
                .await,
            )
        });
    }
    while let Some(done) = calls.join_next().await {
        let (n, answer) = done.expect("call");
        assert_eq!(answer.status, 200, "{n}: {}", answer.text());
        assert_eq!(answer.json(), json!({"n": n.to_string()}));
    }
    let pool = cluster.pool().await;
    let statuses = statuses(&pool, &id).await;
    assert_eq!(statuses.len(), 45);
    assert!(statuses.iter().all(|s| s == "success"), "{statuses:?}");
    for instance in &instances {
        let ran = metric(
            instance,
            "workflow_executions_started_total",
            "mode=\"webhook\"",
        )
        .await;
        assert_eq!(ran, 15.0, "each instance ran the calls it received");
    }
}

#[tokio::test]
async fn a_schedule_every_second_on_two_instances_fires_each_tick_once_through_leader_changes() {
    let Some(url) = postgres_only(
        "a_schedule_every_second_on_two_instances_fires_each_tick_once_through_leader_changes",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    let a = cluster.main("a", &[]).await;
    let mut b = cluster.main("b", &[]).await;
    let (_, key) = bootstrap(&a).await;
    let id = publish(&a, &key, "every second", &every_second()).await;
    let pool = cluster.pool().await;

    // Split brain on purpose: right after the holder renews, the lease is made to run out, so
    // the other instance takes it at its own next check while the holder still believes it
    // leads until its next one: both fire for up to a second. Waiting for the renewal (rather
    // than expiring on a timer) makes the handover certain whatever the two check phases are.
    let handovers = hand_the_lease_over(&pool, 4, Duration::from_secs(30)).await;
    assert_eq!(handovers, 4, "the lease changed hands four times");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let fired_by = [
        metric(&a, "workflow_executions_started_total", "mode=\"trigger\"").await,
        metric(&b, "workflow_executions_started_total", "mode=\"trigger\"").await,
    ];
    assert!(
        fired_by.iter().all(|n| *n > 0.0),
        "both instances led at some point: {fired_by:?}"
    );

    // The leader dies: the other fires within the lease (2 s) and one check (1 s).
    let b_fired = metric(&b, "workflow_executions_started_total", "mode=\"trigger\"").await;
    let a_fired = metric(&a, "workflow_executions_started_total", "mode=\"trigger\"").await;
    let holder: Option<String> =
        sqlx::query_scalar("select owner from leases where name = 'scheduler'")
            .fetch_optional(&pool)
            .await
            .expect("lease");
    assert!(holder.is_some());
    b.stop();
    let killed_at = chrono::Utc::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let a_after = metric(&a, "workflow_executions_started_total", "mode=\"trigger\"").await;
    assert!(
        a_after >= a_fired + 2.0,
        "a fires after b died: {a_fired} -> {a_after} (b had fired {b_fired})"
    );

    wait_all_ended(&pool, Duration::from_secs(10)).await;
    let times = tick_times(&pool, &id).await;
    let distinct: HashSet<&String> = times.iter().collect();
    assert_eq!(
        distinct.len(),
        times.len(),
        "no tick fired twice: {times:?}"
    );
    let ticks: i64 =
        sqlx::query_scalar("select count(*) from schedule_ticks where workflow_id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .expect("ticks");
    assert_eq!(
        ticks as usize,
        times.len(),
        "one execution per recorded tick"
    );
    // No gap past the bound once b died: a took over within lease (2 s) + check (1 s) + the
    // next tick (1 s), with a second of slack for a loaded machine.
    let mut after: Vec<chrono::DateTime<chrono::FixedOffset>> = times
        .iter()
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .filter(|t| *t > killed_at - chrono::Duration::seconds(1))
        .collect();
    after.sort();
    assert!(!after.is_empty());
    let first_after = after[0].with_timezone(&chrono::Utc);
    assert!(
        first_after - killed_at <= chrono::Duration::seconds(5),
        "takeover within the bound: killed at {killed_at}, next tick {first_after}"
    );
}

/// Expires the `scheduler` lease each time its holder renews it (the first renewal after a
/// handover included), until it has changed hands
/// `times` times or `patience` ran out; answers how many handovers were seen.
async fn hand_the_lease_over(pool: &sqlx::PgPool, times: usize, patience: Duration) -> usize {
    async fn lease(pool: &sqlx::PgPool) -> Option<(String, String)> {
        sqlx::query_as("select owner, expires_at from leases where name = 'scheduler'")
            .fetch_optional(pool)
            .await
            .expect("lease")
    }
    const EXPIRED: &str = "2000-01-01T00:00:00.000Z";
    let deadline = Instant::now() + patience;
    let mut handovers = 0;
    let mut last = lease(pool).await;
    while handovers < times && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let seen = lease(pool).await;
        if seen == last {
            continue;
        }
        let (Some((owner, expires_at)), Some((last_owner, _))) = (&seen, &last) else {
            last = seen;
            continue;
        };
        if owner != last_owner {
            // The new holder keeps it until it has renewed once, so it leads alone a while.
            handovers += 1;
        } else if expires_at != EXPIRED {
            sqlx::query(
                "update leases set expires_at = $1 where name = 'scheduler' and owner = $2",
            )
            .bind(EXPIRED)
            .bind(owner)
            .execute(pool)
            .await
            .expect("expire");
        }
        last = lease(pool).await;
    }
    handovers
}

#[tokio::test]
async fn a_worker_killed_mid_run_loses_no_acknowledged_execution_and_runs_none_twice() {
    let Some(url) = postgres_only(
        "a_worker_killed_mid_run_loses_no_acknowledged_execution_and_runs_none_twice",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    let a = cluster.main("a", RECEIVER).await;
    let worker_env: &[(&str, &str)] = &[
        ("EXECUTIONS_MODE", "queue"),
        ("N8N_CONCURRENCY_PRODUCTION_LIMIT", "5"),
    ];
    let mut w1 = cluster.worker("w1", worker_env).await;
    let (_, key) = bootstrap(&a).await;
    let waited_id = publish(&a, &key, "waited", &slow("waited", "lastNode", 4)).await;
    let acked_id = publish(&a, &key, "acked", &slow("acked", "onReceived", 4)).await;
    let pool = cluster.pool().await;

    // A caller waiting for its answer, claimed first.
    let port = a.port;
    let waiting_caller = tokio::spawn(async move {
        request(
            port,
            "POST",
            "/webhook/waited",
            &[],
            Some(&json!({"n": "w"})),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Eleven acknowledged calls: four run on w1 beside the first, seven wait in the queue.
    for n in 0..11 {
        let ack = request(
            a.port,
            "POST",
            "/webhook/acked",
            &[],
            Some(&json!({"n": n})),
        )
        .await;
        assert_eq!(ack.status, 200, "{}", ack.text());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let running: i64 =
            sqlx::query_scalar("select count(*) from executions where status = 'running'")
                .fetch_one(&pool)
                .await
                .expect("count");
        if running == 5 {
            break;
        }
        assert!(Instant::now() < deadline, "w1 runs five: {running}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w1.stop(); // SIGKILL
    let w2 = cluster.worker("w2", worker_env).await;

    // The waiting caller hears that its execution crashed, within the lease and a sweep.
    let answer = waiting_caller.await.expect("caller");
    assert_eq!(answer.status, 500, "{}", answer.text());
    assert_eq!(answer.json()["message"], "Error in workflow");

    wait_all_ended(&pool, Duration::from_secs(30)).await;
    let waited = statuses(&pool, &waited_id).await;
    assert_eq!(waited, vec!["crashed"]);
    let acked = statuses(&pool, &acked_id).await;
    assert_eq!(
        acked.len(),
        11,
        "every acknowledged call has its execution: {acked:?}"
    );
    let crashed = acked.iter().filter(|s| *s == "crashed").count();
    let succeeded = acked.iter().filter(|s| *s == "success").count();
    assert_eq!((crashed, succeeded), (4, 7), "{acked:?}");
    // The seven queued ones ran on w2, once each; the crashed ones did not run again.
    assert_eq!(metric(&w2, "queue_claimed_total", "").await, 7.0);
    let owners: i64 =
        sqlx::query_scalar("select count(*) from executions where lease_owner is not null")
            .fetch_one(&pool)
            .await
            .expect("owners");
    assert_eq!(owners, 0);
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after_and_drains_once_a_worker_starts() {
    let Some(url) =
        postgres_only("a_full_queue_answers_503_with_retry_after_and_drains_once_a_worker_starts")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    let limited: &[(&str, &str)] = &[
        ("EXECUTIONS_MODE", "queue"),
        ("N8N_CONCURRENCY_PRODUCTION_LIMIT", "0"),
        ("N8N_EXECUTIONS_QUEUE_LIMIT", "3"),
    ];
    let a = cluster.main("a", limited).await;
    let (_, key) = bootstrap(&a).await;
    let id = publish(&a, &key, "acked", &slow("acked", "onReceived", 0)).await;
    let mut answers = Vec::new();
    for n in 0..5 {
        answers.push(
            request(
                a.port,
                "POST",
                "/webhook/acked",
                &[],
                Some(&json!({"n": n})),
            )
            .await,
        );
    }
    let codes: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(codes, vec![200, 200, 200, 503, 503]);
    assert_eq!(answers[3].header("retry-after"), Some("5"));
    assert!(answers[3].json()["message"].as_str().is_some());
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(metric(&a, "queue_depth", "").await, 3.0);
    assert_eq!(metric(&a, "queue_refused_total", "").await, 2.0);

    let _worker = cluster.worker("w", QUEUE).await;
    let pool = cluster.pool().await;
    wait_all_ended(&pool, Duration::from_secs(15)).await;
    assert_eq!(statuses(&pool, &id).await, vec!["success"; 3]);
    let again = request(
        a.port,
        "POST",
        "/webhook/acked",
        &[],
        Some(&json!({"n": 9})),
    )
    .await;
    assert_eq!(again.status, 200);
}

#[tokio::test]
async fn queue_mode_on_sqlite_runs_in_one_process() {
    let dir = tempfile::tempdir().expect("dir");
    let folder = dir.path().join("solo");
    std::fs::create_dir_all(&folder).expect("folder");
    let env = vec![
        ("N8N_USER_FOLDER", folder.display().to_string()),
        ("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY.to_owned()),
        ("N8N_SECURE_COOKIE", "false".to_owned()),
        ("EXECUTIONS_MODE", "queue".to_owned()),
    ];
    let mut solo = Instance::start(dir.path(), "solo", &env);
    solo.wait_ready().await;
    let (_, key) = bootstrap(&solo).await;
    publish(&solo, &key, "echo", &echo("echo")).await;
    publish(&solo, &key, "respond", &responder("respond")).await;
    for n in 0..5 {
        let echoed = request(
            solo.port,
            "POST",
            "/webhook/echo",
            &[],
            Some(&json!({"n": format!("{n}")})),
        )
        .await;
        assert_eq!(echoed.status, 200, "{}", echoed.text());
        assert_eq!(echoed.json(), json!({"n": format!("{n}")}));
        let answered = request(
            solo.port,
            "POST",
            "/webhook/respond",
            &[],
            Some(&json!({"n": n})),
        )
        .await;
        assert_eq!(answered.status, 201, "{}", answered.text());
        assert_eq!(answered.text(), format!("hello {n}"));
    }
    let executions = solo.get("/api/v1/executions?limit=50", &key).await.json();
    let list = executions["data"].as_array().expect("list");
    assert_eq!(list.len(), 10);
    assert!(list.iter().all(|e| e["status"] == "success"), "{list:?}");
}

#[tokio::test]
async fn executions_of_a_killed_regular_instance_are_marked_crashed_by_another_within_the_lease() {
    let Some(url) = postgres_only(
        "executions_of_a_killed_regular_instance_are_marked_crashed_by_another_within_the_lease",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    let a = cluster.main("a", &[]).await;
    let mut b = cluster.main("b", &[]).await;
    let (_, key) = bootstrap(&a).await;
    let id = publish(&a, &key, "slow", &slow("slow", "onReceived", 30)).await;
    for n in 0..3 {
        let ack = request(b.port, "POST", "/webhook/slow", &[], Some(&json!({"n": n}))).await;
        assert_eq!(ack.status, 200);
    }
    let pool = cluster.pool().await;
    // "onReceived" answers before the run is recorded; wait until all three are.
    let deadline = Instant::now() + Duration::from_secs(5);
    while statuses(&pool, &id).await != vec!["running"; 3] {
        assert!(
            Instant::now() < deadline,
            "three running: {:?}",
            statuses(&pool, &id).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.stop(); // SIGKILL
    let killed = Instant::now();
    // Lease 2 s, sweep every 0.5 s: crashed within about 2.5 s, well before the runs' end.
    wait_all_ended(&pool, Duration::from_secs(10)).await;
    assert!(
        killed.elapsed() < Duration::from_secs(6),
        "{:?}",
        killed.elapsed()
    );
    assert_eq!(statuses(&pool, &id).await, vec!["crashed"; 3]);
    // a goes on serving.
    let ack = request(a.port, "POST", "/webhook/slow", &[], Some(&json!({"n": 9}))).await;
    assert_eq!(ack.status, 200);
}

#[tokio::test]
async fn a_worker_stopped_with_sigterm_finishes_its_running_executions_first() {
    let Some(url) =
        postgres_only("a_worker_stopped_with_sigterm_finishes_its_running_executions_first")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    let a = cluster.main("a", RECEIVER).await;
    let worker = cluster.worker("w", QUEUE).await;
    let (_, key) = bootstrap(&a).await;
    let id = publish(&a, &key, "slow", &slow("slow", "onReceived", 2)).await;
    let pool = cluster.pool().await;
    let ack = request(a.port, "POST", "/webhook/slow", &[], Some(&json!({"n": 1}))).await;
    assert_eq!(ack.status, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while statuses(&pool, &id).await != vec!["running"] {
        assert!(Instant::now() < deadline, "the worker claims it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &worker.pid().to_string()])
        .status()
        .expect("kill");
    assert!(terminated.success());
    // Queued meanwhile: a stopping worker claims nothing more.
    let later = request(a.port, "POST", "/webhook/slow", &[], Some(&json!({"n": 2}))).await;
    assert_eq!(later.status, 200);
    wait_until_exited(worker.pid(), Duration::from_secs(10)).await;
    assert_eq!(statuses(&pool, &id).await, vec!["success", "new"]);
}

/// Waits until process `pid` is gone (or a zombie of the test process).
async fn wait_until_exited(pid: u32, patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = state
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .chars()
            .next();
        if matches!(state, None | Some('Z') | Some('X')) {
            return;
        }
        assert!(Instant::now() < deadline, "process {pid} did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
