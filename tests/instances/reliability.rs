//! Reliability of the real binary: no acknowledged write is lost when the process is killed,
//! a database outage answers 503 quickly and heals by itself, hostile input gets clean 4xx
//! answers, and no secret reaches the logs or the database in clear.
//!
//! Each test runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set (the outage
//! test needs PostgreSQL: it cuts the network between server and database).

use std::path::Path;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Value};

use crate::support::*;

/// Where an instance keeps its data: a SQLite file in its folder, or a PostgreSQL schema.
struct Store {
    schema: Option<(String, String)>,
}

impl Store {
    fn new() -> Store {
        Store {
            schema: postgres_url().map(|url| (url, unique_schema("rel"))),
        }
    }

    fn env(&self, folder: &Path, extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
        std::fs::create_dir_all(folder).expect("folder");
        let mut env = vec![
            ("N8N_USER_FOLDER", folder.display().to_string()),
            ("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY.to_owned()),
            ("N8N_SECURE_COOKIE", "false".to_owned()),
            ("N8N_LOG_LEVEL", "debug".to_owned()),
        ];
        if let Some((url, schema)) = &self.schema {
            env.push(("DATABASE_URL", url.clone()));
            env.push(("DB_POSTGRESDB_SCHEMA", schema.clone()));
        }
        for (k, v) in extra {
            env.push((leak(k), (*v).to_owned()));
        }
        env
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

async fn start(dir: &Path, name: &str, env: &[(&'static str, String)]) -> Instance {
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, v.clone())).collect();
    let mut instance = Instance::start(dir, name, &env);
    instance.wait_ready().await;
    instance
}

fn workflow(name: &str) -> Value {
    json!({ "name": name, "nodes": [], "connections": {}, "settings": {} })
}

/// What a round of writes got acknowledged.
#[derive(Default)]
struct Acknowledged {
    workflows: Vec<String>,
    tags: Vec<String>,
    revoked_keys: Vec<String>,
    live_keys: Vec<String>,
    /// Data-table rows, by id.
    rows: Vec<i64>,
}

/// Writes until the connection fails (the process was killed); records what got a 2xx.
async fn write_until_killed(
    port: u16,
    key: &str,
    cookie: &str,
    table: &str,
    round: usize,
    acked: &mut Acknowledged,
) {
    for i in 0.. {
        let auth = [("x-n8n-api-key", key)];
        let name = format!("r{round}-w{i}");
        match try_request(
            port,
            "POST",
            "/api/v1/workflows",
            &auth,
            Some(&workflow(&name)),
        )
        .await
        {
            Ok(r) if r.status == 200 => acked
                .workflows
                .push(r.json()["id"].as_str().expect("id").to_owned()),
            Ok(r) => panic!("unexpected answer {}: {}", r.status, r.text()),
            Err(_) => return,
        }
        match try_request(
            port,
            "POST",
            "/api/v1/tags",
            &auth,
            Some(&json!({ "name": format!("r{round}-t{i}") })),
        )
        .await
        {
            Ok(r) if r.status == 201 => acked
                .tags
                .push(r.json()["id"].as_str().expect("id").to_owned()),
            Ok(r) => panic!("unexpected answer {}: {}", r.status, r.text()),
            Err(_) => return,
        }
        match try_request(
            port,
            "POST",
            &format!("/api/v1/data-tables/{table}/rows"),
            &auth,
            Some(&json!({ "data": [{ "label": format!("r{round}-row{i}") }], "returnType": "id" })),
        )
        .await
        {
            Ok(r) if r.status == 200 => acked.rows.push(r.json()[0].as_i64().expect("row id")),
            Ok(r) => panic!("unexpected answer {}: {}", r.status, r.text()),
            Err(_) => return,
        }
        let cookie_header = [("cookie", cookie)];
        let body =
            json!({ "label": format!("r{round}-k{i}"), "scopes": ["tag:list"], "expiresAt": null });
        let created =
            match try_request(port, "POST", "/rest/api-keys", &cookie_header, Some(&body)).await {
                Ok(r) if r.status == 200 => r.json()["data"].clone(),
                Ok(r) => panic!("unexpected answer {}: {}", r.status, r.text()),
                Err(_) => return,
            };
        let raw = created["rawApiKey"].as_str().expect("raw").to_owned();
        let id = created["id"].as_str().expect("id").to_owned();
        match try_request(
            port,
            "DELETE",
            &format!("/rest/api-keys/{id}"),
            &cookie_header,
            None,
        )
        .await
        {
            Ok(r) if r.status == 200 => acked.revoked_keys.push(raw),
            Ok(r) => panic!("unexpected answer {}: {}", r.status, r.text()),
            // Not acknowledged: the key may or may not be revoked; it is not checked.
            Err(_) => return,
        }
    }
}

#[tokio::test]
async fn no_acknowledged_write_is_lost_when_the_process_is_killed_twenty_times() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::new();
    // Checking every revoked key would trip the failed-key throttle.
    let env = store.env(
        &dir.path().join("data"),
        &[
            ("N8N_LOG_LEVEL", "warn"),
            ("N8N_PUBLIC_API_FAILED_AUTH_LIMIT", "1000000"),
        ],
    );
    let first = start(dir.path(), "first", &env).await;
    let (cookie, key) = bootstrap(&first).await;
    let table = first
        .send(
            "POST",
            "/api/v1/data-tables",
            &[("x-n8n-api-key", key.as_str())],
            Some(&json!({ "name": "crash", "columns": [{ "name": "label", "type": "string" }] })),
        )
        .await;
    assert_eq!(table.status, 201, "{}", table.text());
    let table = table.json()["id"].as_str().expect("id").to_owned();
    drop(first);

    let mut acked = Acknowledged::default();
    // Twenty kills at least; on a loaded machine a round may acknowledge little before its
    // kill, so rounds go on (up to sixty) until enough writes were acknowledged to check.
    for round in 0..60 {
        if round >= 20 && acked.workflows.len() > 20 && acked.tags.len() > 20 {
            break;
        }
        let mut instance = start(dir.path(), &format!("round{round}"), &env).await;
        let port = instance.port;
        let delay = Duration::from_millis(rand::thread_rng().gen_range(20..250));
        let writer = write_until_killed(port, &key, &cookie, &table, round, &mut acked);
        let killer = async {
            tokio::time::sleep(delay).await;
            instance.stop();
        };
        tokio::join!(writer, killer);
    }

    let check = start(dir.path(), "check", &env).await;
    let auth = [("x-n8n-api-key", key.as_str())];
    assert!(
        acked.workflows.len() > 20 && acked.tags.len() > 20,
        "the rounds wrote too little to mean anything: {}",
        acked.workflows.len()
    );
    for id in &acked.workflows {
        let r = check
            .send("GET", &format!("/api/v1/workflows/{id}"), &auth, None)
            .await;
        assert_eq!(r.status, 200, "acknowledged workflow {id} is lost");
    }
    for id in &acked.tags {
        let r = check
            .send("GET", &format!("/api/v1/tags/{id}"), &auth, None)
            .await;
        assert_eq!(r.status, 200, "acknowledged tag {id} is lost");
    }
    let mut stored = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!(
                "/api/v1/data-tables/{table}/rows?cursor={}",
                c.replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
            ),
            None => format!("/api/v1/data-tables/{table}/rows?limit=250"),
        };
        let page = check.send("GET", &path, &auth, None).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        for row in page["data"].as_array().expect("rows") {
            stored.insert(row["id"].as_i64().expect("id"));
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    for id in &acked.rows {
        assert!(
            stored.contains(id),
            "acknowledged data-table row {id} is lost"
        );
    }
    for revoked in &acked.revoked_keys {
        let r = check.get("/api/v1/tags", revoked).await;
        assert_eq!(r.status, 401, "a revoked key works again after a crash");
    }
    for live in &acked.live_keys {
        assert_eq!(check.get("/api/v1/tags", live).await.status, 200);
    }
    assert_eq!(check.get("/api/v1/tags", &key).await.status, 200);
}

/// A TCP proxy between the server and PostgreSQL that a test can cut and restore.
struct Proxy {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let generation = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (c, g) = (cut.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if c.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let (c2, g2) = (c.clone(), g.clone());
                tokio::spawn(async move {
                    let born = g2.load(Ordering::SeqCst);
                    let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                    else {
                        return;
                    };
                    let pipe = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    let watch = async {
                        while !c2.load(Ordering::SeqCst) && g2.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! { _ = pipe => {}, _ = watch => {} }
                });
            }
        });
        Proxy {
            port,
            cut,
            generation,
        }
    }

    /// Cuts every open connection and refuses new ones. Returns once the pipes have seen the
    /// cut (they poll every 20 ms), so no query slips through an old connection afterwards.
    async fn cut(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_database_outage_answers_503_quickly_and_heals_by_itself() {
    let Some(url) = postgres_only("a_database_outage_answers_503_quickly_and_heals_by_itself")
    else {
        return;
    };
    let parsed = reqwest::Url::parse(&url).expect("url");
    let proxy = Proxy::start(parsed.port().unwrap_or(5432)).await;
    let mut through_proxy = parsed.clone();
    through_proxy.set_port(Some(proxy.port)).expect("port");
    let dir = tempfile::tempdir().expect("dir");
    let schema = unique_schema("outage");
    let folder = dir.path().join("data");
    std::fs::create_dir_all(&folder).expect("folder");
    let env = vec![
        ("DATABASE_URL", through_proxy.to_string()),
        ("DB_POSTGRESDB_SCHEMA", schema),
        ("N8N_USER_FOLDER", folder.display().to_string()),
        ("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY.to_owned()),
        ("N8N_SECURE_COOKIE", "false".to_owned()),
    ];
    let instance = start(dir.path(), "outage", &env).await;
    let (_, key) = bootstrap(&instance).await;
    assert_eq!(instance.get("/api/v1/tags", &key).await.status, 200);

    proxy.cut().await;
    let began = Instant::now();
    let during = instance.get("/api/v1/tags", &key).await;
    let took = began.elapsed();
    let ready = instance.send("GET", "/healthz/readiness", &[], None).await;
    let write = instance
        .send(
            "POST",
            "/api/v1/tags",
            &[("x-n8n-api-key", &key)],
            Some(&json!({ "name": "during" })),
        )
        .await;

    assert_eq!(during.status, 503, "{}", during.text());
    assert!(during.json()["message"].is_string());
    assert!(
        !during.text().to_lowercase().contains("sql") && !during.text().contains("5432"),
        "no database detail leaks: {}",
        during.text()
    );
    assert!(took < Duration::from_secs(8), "the answer took {took:?}");
    assert_eq!(ready.status, 503);
    assert_eq!(write.status, 503);
    assert_eq!(
        instance.send("GET", "/healthz", &[], None).await.status,
        200,
        "the process itself is alive"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = instance.get("/api/v1/tags", &key).await;
        if r.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service did not resume: {} {}",
            r.status,
            r.text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        instance
            .send("GET", "/healthz/readiness", &[], None)
            .await
            .status,
        200
    );
    let log = instance.log();
    assert!(!log.contains("panicked"), "{log}");
}

/// Sends raw bytes and answers the status code of the response, if any.
async fn raw_exchange(port: u16, bytes: &[u8]) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let _ = stream.write_all(bytes).await;
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw);
    text.lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
}

#[tokio::test]
async fn hostile_input_gets_clean_client_errors_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::new();
    let env = store.env(
        &dir.path().join("data"),
        &[("N8N_REQUEST_TIMEOUT", "2"), ("N8N_PAYLOAD_SIZE_MAX", "1")],
    );
    let instance = start(dir.path(), "hostile", &env).await;
    let (_, key) = bootstrap(&instance).await;
    let port = instance.port;

    // A header of a megabyte.
    let huge = format!(
        "GET /api/v1/tags HTTP/1.1\r\nHost: x\r\nX-N8N-API-KEY: {key}\r\nX-Junk: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let status = raw_exchange(port, huge.as_bytes()).await;
    assert!(status.is_none_or(|s| (400..500).contains(&s)), "{status:?}");

    // A client that sends half a request and stalls is cut off by the request timeout.
    let began = Instant::now();
    let stalled = format!("POST /api/v1/tags HTTP/1.1\r\nHost: x\r\nX-N8N-API-KEY: {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"na");
    let status = raw_exchange(port, stalled.as_bytes()).await;
    assert!(began.elapsed() < Duration::from_secs(15));
    assert!(
        status.is_none_or(|s| s == 408 || (400..500).contains(&s)),
        "{status:?}"
    );

    let auth = [("x-n8n-api-key", key.as_str())];
    // A giant array, under the size limit, of the wrong shape.
    let giant =
        json!({ "name": "g", "nodes": vec![json!(1); 100_000], "connections": {}, "settings": {} });
    let r = instance
        .send("POST", "/api/v1/workflows", &auth, Some(&giant))
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    // Over the size limit.
    let over = json!({ "name": "x".repeat(2 << 20) });
    assert_eq!(
        instance
            .send("POST", "/api/v1/tags", &auth, Some(&over))
            .await
            .status,
        413
    );
    // Path tricks and SQL in ids.
    for path in [
        "/api/v1/workflows/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/tags/1%27%20or%20%271%27=%271",
        "/api/v1/credentials/%00",
        "/api/v1/executions/1;drop",
    ] {
        let r = instance.send("GET", path, &auth, None).await;
        assert!(
            (400..500).contains(&r.status),
            "{path}: {} {}",
            r.status,
            r.text()
        );
        assert!(r.json()["message"].is_string());
    }
    // Deep nesting.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = raw_exchange(port, format!("POST /api/v1/tags HTTP/1.0\r\nX-N8N-API-KEY: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{deep}", deep.len()).as_bytes()).await;
    assert_eq!(r, Some(400));

    let tags = instance.get("/api/v1/tags", &key).await.json();
    assert_eq!(tags["data"], json!([]), "nothing was stored");
    assert_eq!(
        instance.get("/api/v1/workflows", &key).await.json()["data"],
        json!([])
    );
    assert!(!instance.log().contains("panicked"));
}

#[tokio::test]
async fn no_secret_reaches_the_logs_or_the_database_in_clear() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::new();
    let folder = dir.path().join("data");
    let env = store.env(&folder, &[]);
    let instance = start(dir.path(), "secrets", &env).await;
    let (cookie, key) = bootstrap(&instance).await;
    let canary = format!("canary-{}", flowgate::domain::ids::random_alphanumeric(20));
    let auth = [("x-n8n-api-key", key.as_str())];

    // A full scenario touching every secret-bearing path.
    let credential = instance
        .send("POST", "/api/v1/credentials", &auth, Some(&json!({ "name": "c", "type": "httpHeaderAuth", "data": { "name": "X-Token", "value": canary } })))
        .await;
    assert_eq!(credential.status, 200);
    let cid = credential.json()["id"].as_str().expect("id").to_owned();
    instance
        .send(
            "PATCH",
            &format!("/api/v1/credentials/{cid}"),
            &auth,
            Some(&json!({ "data": { "value": canary }, "isPartialData": true })),
        )
        .await;
    instance
        .send(
            "POST",
            &format!("/api/v1/credentials/{cid}/test"),
            &auth,
            None,
        )
        .await;
    instance
        .send(
            "PATCH",
            &format!("/api/v1/credentials/{cid}"),
            &auth,
            Some(&json!({ "data": { "value": 5 } })),
        )
        .await;
    let invited = instance
        .send(
            "POST",
            "/api/v1/users",
            &auth,
            Some(&json!([{ "email": "new@example.com" }])),
        )
        .await
        .json();
    let token = invited[0]["user"]["inviteAcceptUrl"]
        .as_str()
        .expect("url")
        .split("token=")
        .nth(1)
        .expect("token")
        .to_owned();
    let invitee_password = format!(
        "Invitee-{}9",
        flowgate::domain::ids::random_alphanumeric(10)
    );
    instance.send("POST", "/rest/invitations/accept", &[], Some(&json!({ "token": token, "firstName": "N", "lastName": "U", "password": invitee_password }))).await;
    instance
        .send(
            "POST",
            "/rest/login",
            &[],
            Some(&json!({ "emailOrLdapLoginId": OWNER_EMAIL, "password": "Wrong-Passw0rd1" })),
        )
        .await;
    instance
        .get(
            "/api/v1/tags",
            "n8n_api_thisIsNotAKeyButLooksLikeOneAAAAAAAAAAAAAAAAAAAA",
        )
        .await;
    let session_token = cookie.trim_start_matches("n8n-auth=").to_owned();
    let secrets = [
        canary.as_str(),
        PASSWORD,
        key.as_str(),
        &key[8..40],
        invitee_password.as_str(),
        session_token.as_str(),
        ENCRYPTION_KEY,
    ];

    let log = instance.log();
    assert!(
        log.len() > 1000,
        "debug logging wrote little: {}",
        log.len()
    );
    drop(instance);
    for secret in secrets {
        assert!(!log.contains(secret), "a secret is in the log");
    }
    let stored = match &store.schema {
        None => {
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(folder.join(".n8n")).expect("data folder") {
                let path = entry.expect("entry").path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("sqlite"))
                {
                    bytes.extend(std::fs::read(&path).expect("read"));
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Some((url, schema)) => {
            let pool = pg_pool(url, schema).await;
            let tables: Vec<String> = sqlx::query_scalar(
                "select table_name::text from information_schema.tables where table_schema = $1",
            )
            .bind(schema)
            .fetch_all(&pool)
            .await
            .expect("tables");
            let mut all = String::new();
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("select t::text from \"{table}\" t"))
                        .fetch_all(&pool)
                        .await
                        .expect("rows");
                all.push_str(&rows.join("\n"));
            }
            all
        }
    };
    assert!(
        stored.len() > 1000,
        "the database dump is too small to mean anything"
    );
    for secret in secrets {
        assert!(!stored.contains(secret), "a secret is stored in clear");
    }
}
