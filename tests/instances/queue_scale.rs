//! The larger runs of several instances on one PostgreSQL database: 1,000 webhook calls spread
//! over three queue-mode instances, each run exactly once; a schedule firing every second on
//! two instances for 30 seconds, each tick once, through the death (SIGKILL) of the leader.
//!
//! PostgreSQL only: skipped, with a line on stderr, unless `TEST_DATABASE_URL` is set (failed
//! instead on CI with `FLOWGATE_REQUIRE_POSTGRES=1`). No assertion on how fast anything runs,
//! except the failover bound that the schedule test exists to check, with slack for a loaded
//! machine.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::*;
use crate::support::*;

const CALLS: u32 = 1000;
/// Callers at once: enough to keep every instance's slots busy, few enough for a 2-core box.
const CALLERS: usize = 24;

#[tokio::test]
async fn a_thousand_webhook_calls_over_three_queue_instances_run_each_exactly_once() {
    let Some(url) =
        postgres_only("a_thousand_webhook_calls_over_three_queue_instances_run_each_exactly_once")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    // Each instance receives calls, queues them and runs queued executions (any one's).
    let instances = [
        cluster.main("q1", QUEUE).await,
        cluster.main("q2", QUEUE).await,
        cluster.main("q3", QUEUE).await,
    ];
    let (_, key) = bootstrap(&instances[0]).await;
    let id = publish(&instances[1], &key, "echo", &echo("echo1000")).await;

    let ports: Arc<Vec<u16>> = Arc::new(instances.iter().map(|i| i.port).collect());
    let next = Arc::new(AtomicU32::new(0));
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..CALLERS {
        let (ports, next) = (Arc::clone(&ports), Arc::clone(&next));
        callers.spawn(async move {
            let mut wrong = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= CALLS {
                    return wrong;
                }
                let port = ports[n as usize % ports.len()];
                let body = json!({"n": n.to_string()});
                match try_request(port, "POST", "/webhook/echo1000", &[], Some(&body)).await {
                    Ok(answer)
                        if answer.status == 200
                            && serde_json::from_slice::<serde_json::Value>(&answer.body).ok()
                                == Some(body.clone()) => {}
                    Ok(answer) => wrong.push(format!("{n}: {} {}", answer.status, answer.text())),
                    Err(e) => wrong.push(format!("{n}: {e}")),
                }
            }
        });
    }
    let mut wrong = Vec::new();
    while let Some(done) = callers.join_next().await {
        wrong.extend(done.expect("caller"));
    }
    assert!(
        wrong.is_empty(),
        "every call answered its own n: {} wrong, first {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );

    let pool = cluster.pool().await;
    wait_all_ended(&pool, Duration::from_secs(60)).await;
    let runs = webhook_runs(&pool, &id).await;
    assert_eq!(runs.len(), CALLS as usize, "one execution per call");
    let not_success: Vec<_> = runs.iter().filter(|(s, _)| s != "success").collect();
    assert!(not_success.is_empty(), "all succeeded: {not_success:?}");
    // Each execution ran with its own call's data: no call ran twice, none went missing.
    let mut seen = HashSet::new();
    for (_, n) in &runs {
        let n = n.clone().expect("the call's n in the run data");
        assert!(seen.insert(n.clone()), "call {n} has two executions");
    }
    let expected: HashSet<String> = (0..CALLS).map(|n| n.to_string()).collect();
    assert_eq!(seen, expected);

    // Claimed once and started once each, across the three; each queued what it received.
    let mut claimed = Vec::new();
    let mut started = 0.0;
    for (i, instance) in instances.iter().enumerate() {
        claimed.push(metric(instance, "queue_claimed_total", "").await);
        started += metric(
            instance,
            "workflow_executions_started_total",
            "mode=\"webhook\"",
        )
        .await;
        let received = (0..CALLS)
            .filter(|n| *n as usize % instances.len() == i)
            .count();
        assert_eq!(
            metric(instance, "queue_enqueued_total", "").await,
            received as f64,
            "instance {i} queued the calls it received"
        );
    }
    assert_eq!(claimed.iter().sum::<f64>(), f64::from(CALLS), "{claimed:?}");
    assert_eq!(started, f64::from(CALLS), "no execution started twice");
    let answers: i64 = sqlx::query_scalar("select count(*) from execution_answers")
        .fetch_one(&pool)
        .await
        .expect("answers");
    assert_eq!(answers, 0, "every answer was read and removed");
}

/// Lease TTL (2 s) + leadership check (1 s) + one tick period (1 s): the longest a killed
/// leader's schedule can pause with the test cluster's settings (with the defaults: 10 s +
/// 3 s + one period).
const FAILOVER_BOUND: Duration = Duration::from_secs(4);
/// Slack on that bound for a loaded machine (a late timer, a slow check).
const SLACK: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_schedule_every_second_for_thirty_seconds_on_two_instances_fires_each_tick_once_when_the_leader_is_killed(
) {
    let Some(url) = postgres_only(
        "a_schedule_every_second_for_thirty_seconds_on_two_instances_fires_each_tick_once_when_the_leader_is_killed",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let cluster = Cluster::new(dir.path(), &url);
    let mut instances = [cluster.main("a", &[]).await, cluster.main("b", &[]).await];
    let (_, key) = bootstrap(&instances[0]).await;
    let id = publish(&instances[1], &key, "every second", &every_second()).await;
    let pool = cluster.pool().await;
    let began = Instant::now();

    tokio::time::sleep(Duration::from_secs(12)).await;
    // The leader is the instance whose scheduled runs go on growing (only one does).
    let leader = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let before = fired(&instances).await;
            tokio::time::sleep(Duration::from_millis(2500)).await;
            let after = fired(&instances).await;
            let grew: Vec<usize> = (0..2).filter(|&i| after[i] > before[i]).collect();
            if let [only] = grew.as_slice() {
                break *only;
            }
            assert!(
                Instant::now() < deadline,
                "one instance leads: {before:?} -> {after:?}"
            );
        }
    };
    let fired_before_kill = fired(&instances).await;
    instances[leader].stop(); // SIGKILL: no lease released
    let killed_at = chrono::Utc::now();
    let survivor = &instances[1 - leader];

    // The rest of the 30 seconds; then unpublished, so the list of ticks stops growing.
    let rest = Duration::from_secs(30).saturating_sub(began.elapsed());
    tokio::time::sleep(rest.max(Duration::from_secs(12))).await;
    let off = survivor
        .send(
            "POST",
            &format!("/api/v1/workflows/{id}/deactivate"),
            &[("x-n8n-api-key", &key)],
            None,
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text());
    let survivor_fired = metric(
        survivor,
        "workflow_executions_started_total",
        "mode=\"trigger\"",
    )
    .await;
    assert!(
        survivor_fired >= fired_before_kill[1 - leader] + 5.0,
        "the survivor took the schedule over: {fired_before_kill:?} -> {survivor_fired}"
    );
    // The killed leader's last run, if one was in flight, is marked crashed within its lease.
    wait_all_ended(&pool, Duration::from_secs(30)).await;

    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("select status, data from executions where workflow_id = $1 order by id")
            .bind(&id)
            .fetch_all(&pool)
            .await
            .expect("executions");
    let crashed = rows.iter().filter(|(s, _)| s == "crashed").count();
    assert!(
        crashed <= 1,
        "only a run in flight at the kill crashed: {crashed}"
    );
    assert!(
        rows.iter().all(|(s, _)| s == "success" || s == "crashed"),
        "{:?}",
        rows.iter().map(|(s, _)| s).collect::<Vec<_>>()
    );
    // No tick ran twice: the tick time each run received is unique...
    let times = tick_times_of(&rows);
    let distinct: HashSet<&String> = times.iter().collect();
    assert_eq!(
        distinct.len(),
        times.len(),
        "no tick fired twice: {times:?}"
    );
    // ...and each recorded tick has exactly one execution.
    let mut ticks: Vec<String> =
        sqlx::query_scalar("select tick_at from schedule_ticks where workflow_id = $1")
            .bind(&id)
            .fetch_all(&pool)
            .await
            .expect("ticks");
    assert_eq!(ticks.len(), rows.len(), "one execution per recorded tick");

    // No gap beyond what a failover allows, at the kill or anywhere else.
    ticks.sort();
    let ticks: Vec<chrono::DateTime<chrono::Utc>> = ticks
        .iter()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap_or_else(|e| panic!("tick time {t}: {e}"))
                .with_timezone(&chrono::Utc)
        })
        .collect();
    assert!(ticks.len() >= 15, "ticks over 30 s: {}", ticks.len());
    let bound = chrono::Duration::from_std(FAILOVER_BOUND + SLACK).expect("bound");
    let mut across_kill = None;
    for pair in ticks.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap <= bound,
            "a gap of {gap} between ticks {} and {} (killed at {killed_at})",
            pair[0],
            pair[1]
        );
        if pair[0] <= killed_at && killed_at < pair[1] {
            across_kill = Some(gap);
        }
    }
    let across_kill = across_kill.expect("ticks on both sides of the kill");
    eprintln!("schedule failover: the gap across the kill was {across_kill}");
}

/// How many scheduled runs each instance started.
async fn fired(instances: &[Instance; 2]) -> [f64; 2] {
    [
        metric(
            &instances[0],
            "workflow_executions_started_total",
            "mode=\"trigger\"",
        )
        .await,
        metric(
            &instances[1],
            "workflow_executions_started_total",
            "mode=\"trigger\"",
        )
        .await,
    ]
}

/// The tick time each run received (runs that crashed before writing their data have none).
fn tick_times_of(rows: &[(String, Option<String>)]) -> Vec<String> {
    rows.iter()
        .filter_map(|(_, data)| {
            let data: serde_json::Value = serde_json::from_str(data.as_deref()?).ok()?;
            data.pointer("/resultData/runData/Every second/0/data/main/0/0/json/timestamp")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}
