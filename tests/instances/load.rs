//! Load: 64 concurrent clients mixing reads and writes against the real binary. Every answer
//! must be a success, the log must not mention a locked database, and memory must stay flat.
//!
//! A burst of 200 concurrent failed sign-ins must not blow up memory (password hashing is
//! bounded).
//!
//! The default run is short (15 seconds) to fit the suite's time budget; set
//! `FLOWGATE_LOAD_SECONDS` (e.g. 300) for the long variant.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn sixty_four_clients_mixing_reads_and_writes_get_no_errors_and_memory_stays_flat() {
    let seconds: u64 = std::env::var("FLOWGATE_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let dir = tempfile::tempdir().expect("dir");
    let folder = dir.path().join("data");
    std::fs::create_dir_all(&folder).expect("folder");
    let mut env = vec![
        ("N8N_USER_FOLDER", folder.display().to_string()),
        ("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY.to_owned()),
        ("N8N_SECURE_COOKIE", "false".to_owned()),
        ("N8N_LOG_LEVEL", "warn".to_owned()),
    ];
    if let Some(url) = postgres_url() {
        env.push(("DATABASE_URL", url));
        env.push(("DB_POSTGRESDB_SCHEMA", unique_schema("load")));
    }
    let mut instance = Instance::start(dir.path(), "load", &env);
    instance.wait_ready().await;
    let (_, key) = bootstrap(&instance).await;
    let port = instance.port;
    let pid = instance.pid();
    let tag = instance
        .send(
            "POST",
            "/api/v1/tags",
            &[("x-n8n-api-key", &key)],
            Some(&json!({ "name": "load" })),
        )
        .await
        .json();
    let tag_id = tag["id"].as_str().expect("id").to_owned();

    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let ok = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for client in 0..64u32 {
        let key = key.clone();
        let tag_id = tag_id.clone();
        let ok = ok.clone();
        clients.push(tokio::spawn(async move {
            let auth = [("x-n8n-api-key", key.as_str())];
            let mut mine: Option<String> = None;
            let mut n = 0u32;
            let mut failures = Vec::new();
            while Instant::now() < stop_at {
                n += 1;
                let response = match n % 6 {
                    0 => try_request(port, "POST", "/api/v1/workflows", &auth, Some(&json!({ "name": format!("c{client}-{n}"), "nodes": [], "connections": {}, "settings": {} }))).await,
                    1 => match &mine {
                        Some(id) => try_request(port, "PUT", &format!("/api/v1/workflows/{id}"), &auth, Some(&json!({ "name": format!("c{client}-{n}"), "nodes": [], "connections": {}, "settings": {} }))).await,
                        None => try_request(port, "GET", "/api/v1/tags", &auth, None).await,
                    },
                    2 => try_request(port, "GET", "/api/v1/workflows?limit=20&excludePinnedData=true", &auth, None).await,
                    3 => try_request(port, "GET", &format!("/api/v1/tags/{tag_id}"), &auth, None).await,
                    4 => try_request(port, "POST", "/api/v1/variables", &auth, Some(&json!({ "key": format!("V{client}_{n}"), "value": "x" }))).await,
                    _ => match &mine {
                        Some(id) => try_request(port, "GET", &format!("/api/v1/workflows/{id}"), &auth, None).await,
                        None => try_request(port, "GET", "/api/v1/workflows?limit=5", &auth, None).await,
                    },
                };
                match response {
                    Ok(r) if (200..300).contains(&r.status) => {
                        if n.is_multiple_of(6) {
                            mine = r.json()["id"].as_str().map(str::to_owned);
                        }
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => failures.push(format!("{} {}", r.status, r.text())),
                    Err(e) => failures.push(e.to_string()),
                }
            }
            failures
        }));
    }
    // The first seconds fill the pools and caches; memory is measured after them.
    tokio::time::sleep(Duration::from_secs(seconds.min(6) / 2)).await;
    let baseline_rss = rss_kib(pid);
    let mut failures = Vec::new();
    for client in clients {
        failures.extend(client.await.expect("client"));
    }
    let final_rss = rss_kib(pid);
    let log = instance.log();
    instance.stop();

    assert!(
        failures.is_empty(),
        "{} failures, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    assert!(
        ok.load(Ordering::Relaxed) > 64 * 5,
        "too few requests to mean anything: {}",
        ok.load(Ordering::Relaxed)
    );
    assert!(!log.to_lowercase().contains("database is locked"), "{log}");
    assert!(!log.contains("panicked"));
    eprintln!(
        "load: {} requests, RSS {baseline_rss} KiB after warm-up, {final_rss} KiB at the end",
        ok.load(Ordering::Relaxed)
    );
    assert!(
        final_rss <= baseline_rss * 3 / 2 + 20 * 1024,
        "memory grew from {baseline_rss} KiB to {final_rss} KiB"
    );
}

/// Each sign-in runs argon2id with 19 MiB of memory; without a bound on how many run at once,
/// 100 concurrent failed sign-ins once took the server from 79 MiB to 1.9 GiB. With the bound,
/// the peak stays within a hash's memory per CPU of the resting size.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_failed_sign_ins_keep_memory_bounded() {
    let dir = tempfile::tempdir().expect("dir");
    let folder = dir.path().join("data");
    std::fs::create_dir_all(&folder).expect("folder");
    let mut env = vec![
        ("N8N_USER_FOLDER", folder.display().to_string()),
        ("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY.to_owned()),
        ("N8N_SECURE_COOKIE", "false".to_owned()),
        ("N8N_LOG_LEVEL", "warn".to_owned()),
    ];
    if let Some(url) = postgres_url() {
        env.push(("DATABASE_URL", url));
        env.push(("DB_POSTGRESDB_SCHEMA", unique_schema("signin")));
    }
    if let Ok(v) = std::env::var("XMALLOC") {
        env.push(("MALLOC_ARENA_MAX", v));
    }
    let mut instance = Instance::start(dir.path(), "signin", &env);
    instance.wait_ready().await;
    bootstrap(&instance).await;
    let port = instance.port;
    let pid = instance.pid();
    let resting = rss_kib(pid);

    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            peak
        })
    };
    let mut attempts = Vec::new();
    for i in 0..200 {
        attempts.push(tokio::spawn(async move {
            let body = json!({
                "emailOrLdapLoginId": format!("nobody{i}@example.com"),
                "password": "Wrong-Passw0rd1",
            });
            try_request(port, "POST", "/rest/login", &[], Some(&body))
                .await
                .map(|r| r.status)
        }));
    }
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("task"));
    }
    done.store(true, Ordering::Relaxed);
    let peak = sampler.await.expect("sampler");
    let after = rss_kib(pid);
    let log = instance.log();
    instance.stop();

    for status in &statuses {
        match status {
            Ok(401 | 429 | 503) => {}
            other => panic!("a sign-in answered {other:?}"),
        }
    }
    assert!(statuses.iter().any(|s| matches!(s, Ok(401))));
    assert!(!log.contains("panicked"), "{log}");
    eprintln!(
        "sign-in burst: RSS {resting} KiB at rest, {peak} KiB at the peak, {after} KiB after"
    );
    // One 19 MiB argon2 memory per hashing thread (one per CPU) plus the connections
    // themselves; unbounded, this burst reached 700 MiB.
    assert!(
        peak <= resting + 64 * 1024,
        "memory went from {resting} KiB to {peak} KiB"
    );
    // Each job's argon2 memory goes back to the system when the job ends: what stays is the
    // connections' buffers, not a hash's 19 MiB per thread.
    assert!(
        after <= resting + 16 * 1024,
        "memory stayed at {after} KiB after the burst (from {resting} KiB)"
    );
}
