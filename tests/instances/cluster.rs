//! The helpers of the tests that run several instances of the real binary on one
//! PostgreSQL database: a cluster of instances and workers sharing a schema, with short leases
//! so that takeovers happen within a test's patience; the workflows they run; and the checks
//! read from the shared database or an instance's `/metrics`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;

/// Instances sharing one PostgreSQL schema, with short leases so that takeovers happen
/// within a test's patience.
pub struct Cluster {
    pub dir: PathBuf,
    pub url: String,
    pub schema: String,
}

impl Cluster {
    pub fn new(dir: &Path, url: &str) -> Cluster {
        Cluster {
            dir: dir.to_owned(),
            url: url.to_owned(),
            schema: unique_schema("queue"),
        }
    }

    pub fn env(&self, name: &str, extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
        let folder = self.dir.join(name);
        std::fs::create_dir_all(&folder).expect("user folder");
        let mut env: Vec<(&'static str, String)> = vec![
            ("DATABASE_URL", self.url.clone()),
            ("DB_POSTGRESDB_SCHEMA", self.schema.clone()),
            ("DB_POSTGRESDB_POOL_SIZE", "6".to_owned()),
            ("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY.to_owned()),
            ("N8N_USER_FOLDER", folder.display().to_string()),
            ("N8N_SECURE_COOKIE", "false".to_owned()),
            ("N8N_LOG_LEVEL", "info".to_owned()),
            ("N8N_METRICS", "true".to_owned()),
            ("QUEUE_WORKER_LOCK_DURATION", "2000".to_owned()),
            ("QUEUE_WORKER_LOCK_RENEW_TIME", "400".to_owned()),
            ("QUEUE_WORKER_STALLED_INTERVAL", "500".to_owned()),
            ("N8N_MULTI_MAIN_SETUP_KEY_TTL", "2".to_owned()),
            ("N8N_MULTI_MAIN_SETUP_CHECK_INTERVAL", "1".to_owned()),
        ];
        for (k, v) in extra {
            env.push((leak(k), (*v).to_owned()));
        }
        env
    }

    pub async fn main(&self, name: &str, extra: &[(&str, &str)]) -> Instance {
        let env = self.env(name, extra);
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, v.clone())).collect();
        let mut instance = Instance::start(&self.dir, name, &env);
        instance.wait_ready().await;
        instance
    }

    pub async fn worker(&self, name: &str, extra: &[(&str, &str)]) -> Instance {
        let env = self.env(name, extra);
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, v.clone())).collect();
        let mut instance = Instance::worker(&self.dir, name, &env);
        instance.wait_ready().await;
        instance
    }

    pub async fn pool(&self) -> sqlx::PgPool {
        pg_pool(&self.url, &self.schema).await
    }
}

pub fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

pub const QUEUE: &[(&str, &str)] = &[("EXECUTIONS_MODE", "queue")];
/// A receiving instance of queue mode that runs nothing itself.
pub const RECEIVER: &[(&str, &str)] = &[
    ("EXECUTIONS_MODE", "queue"),
    ("N8N_CONCURRENCY_PRODUCTION_LIMIT", "0"),
];

pub fn webhook(path: &str, mode: &str) -> Value {
    json!({"id": "h", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
           "webhookId": format!("{path}-hook"), "parameters": {"path": path, "httpMethod": "POST", "responseMode": mode, "options": {}}})
}

pub fn connect(pairs: &[(&str, &str)]) -> Value {
    let mut connections = serde_json::Map::new();
    for (from, to) in pairs {
        connections.insert(
            (*from).to_owned(),
            json!({"main": [[{"node": to, "type": "main", "index": 0}]]}),
        );
    }
    Value::Object(connections)
}

/// A webhook answering its last node: `{"n": <body.n>}`.
pub fn echo(path: &str) -> Value {
    json!({
        "nodes": [
            webhook(path, "lastNode"),
            {"id": "s", "name": "Echo", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
             "parameters": {"assignments": {"assignments": [{"id": "a", "name": "n", "value": "={{ $json.body.n }}", "type": "string"}]}, "options": {}}}
        ],
        "connections": connect(&[("Webhook", "Echo")]),
    })
}

/// A webhook answered by a Respond to Webhook node: `hello <body.n>`.
pub fn responder(path: &str) -> Value {
    json!({
        "nodes": [
            webhook(path, "responseNode"),
            {"id": "r", "name": "Respond", "type": "n8n-nodes-base.respondToWebhook", "typeVersion": 1.1, "position": [200, 0],
             "parameters": {"respondWith": "text", "responseBody": "=hello {{ $json.body.n }}", "options": {"responseCode": 201}}}
        ],
        "connections": connect(&[("Webhook", "Respond")]),
    })
}

/// A webhook answered at once whose run then waits `seconds` (in the run, status running).
pub fn slow(path: &str, mode: &str, seconds: u64) -> Value {
    json!({
        "nodes": [
            webhook(path, mode),
            {"id": "w", "name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [200, 0],
             "webhookId": format!("{path}-wait"), "parameters": {"amount": seconds, "unit": "seconds"}},
            {"id": "n", "name": "After", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [400, 0], "parameters": {}}
        ],
        "connections": connect(&[("Webhook", "Wait"), ("Wait", "After")]),
    })
}

pub async fn publish(instance: &Instance, key: &str, name: &str, workflow: &Value) -> String {
    let body = json!({
        "name": name,
        "nodes": workflow["nodes"],
        "connections": workflow["connections"],
        "settings": {"executionOrder": "v1"},
    });
    let created = instance
        .send(
            "POST",
            "/api/v1/workflows",
            &[("x-n8n-api-key", key)],
            Some(&body),
        )
        .await;
    assert_eq!(created.status, 200, "create: {}", created.text());
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let published = instance
        .send(
            "POST",
            &format!("/api/v1/workflows/{id}/activate"),
            &[("x-n8n-api-key", key)],
            None,
        )
        .await;
    assert_eq!(published.status, 200, "publish: {}", published.text());
    id
}

/// A value of `/metrics` (the sum over the lines of `name` whose labels contain `labels`).
pub async fn metric(instance: &Instance, name: &str, labels: &str) -> f64 {
    let text = request(instance.port, "GET", "/metrics", &[], None)
        .await
        .text();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            let (metric_name, rest) = series.split_once('{').unwrap_or((series, ""));
            metric_name.ends_with(name) && rest.contains(labels)
        })
        .filter_map(|(_, value)| value.parse::<f64>().ok())
        .sum()
}

/// Waits until no execution is queued or running; panics past `patience`.
pub async fn wait_all_ended(pool: &sqlx::PgPool, patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        let open: i64 = sqlx::query_scalar(
            "select count(*) from executions where status in ('new', 'running')",
        )
        .fetch_one(pool)
        .await
        .expect("count");
        if open == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{open} executions still queued or running"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn statuses(pool: &sqlx::PgPool, workflow_id: &str) -> Vec<String> {
    sqlx::query_scalar("select status from executions where workflow_id = $1 order by id")
        .bind(workflow_id)
        .fetch_all(pool)
        .await
        .expect("statuses")
}

/// The times of the ticks that started executions of `workflow_id`, from the run data.
pub async fn tick_times(pool: &sqlx::PgPool, workflow_id: &str) -> Vec<String> {
    let rows: Vec<Option<String>> =
        sqlx::query_scalar("select data from executions where workflow_id = $1 order by id")
            .bind(workflow_id)
            .fetch_all(pool)
            .await
            .expect("executions");
    rows.into_iter()
        .map(|data| {
            let data: Value = serde_json::from_str(&data.unwrap_or_default()).expect("data");
            data.pointer("/resultData/runData/Every second/0/data/main/0/0/json/timestamp")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("a tick time in {data}"))
                .to_owned()
        })
        .collect()
}

/// A Schedule Trigger firing every second into a No Operation node.
pub fn every_second() -> Value {
    json!({
        "nodes": [
            {"id": "t", "name": "Every second", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2, "position": [0, 0],
             "parameters": {"rule": {"interval": [{"field": "seconds", "secondsInterval": 1}]}}},
            {"id": "n", "name": "Done", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [200, 0], "parameters": {}}
        ],
        "connections": connect(&[("Every second", "Done")]),
    })
}

/// The status of each execution of `workflow_id` and the `n` of the webhook body that
/// started it (from the stored run data, or the trigger data of one that never ran), oldest
/// first.
pub async fn webhook_runs(pool: &sqlx::PgPool, workflow_id: &str) -> Vec<(String, Option<String>)> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("select status, data from executions where workflow_id = $1 order by id")
            .bind(workflow_id)
            .fetch_all(pool)
            .await
            .expect("executions");
    rows.into_iter()
        .map(|(status, data)| {
            let n = data
                .and_then(|d| serde_json::from_str::<Value>(&d).ok())
                .and_then(|d| {
                    d.pointer("/resultData/runData/Webhook/0/data/main/0/0/json/body/n")
                        .or_else(|| {
                            d.pointer(
                                "/executionData/nodeExecutionStack/0/data/main/0/0/json/body/n",
                            )
                        })
                        .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_owned))
                });
            (status, n)
        })
        .collect()
}
