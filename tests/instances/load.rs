//! Load: 64 concurrent clients mixing reads and writes against the real binary. Every answer
//! must be a success, the log must not mention a locked database, and memory must stay flat.
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
