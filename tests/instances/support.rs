//! Helpers of the instance tests: the real binary as a child process on a free loopback
//! port, a minimal HTTP/1.0 client (so no HTTP client crate is needed), and the database
//! the instances share.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const ENCRYPTION_KEY: &str = "instances-test-encryption-key";
pub const OWNER_EMAIL: &str = "owner@example.com";
pub const PASSWORD: &str = "Instances-Passw0rd";

/// The PostgreSQL URL to run against, if any (the same variable as the API suite's).
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// The PostgreSQL URL of a test that runs only on PostgreSQL. Without one the test is skipped
/// and says so on stderr (it still counts as passed, so the line is the only trace); on CI
/// with `FLOWGATE_REQUIRE_POSTGRES=1` a missing URL fails the test instead, so a PostgreSQL
/// run whose URL got lost cannot pass by skipping.
pub fn postgres_only(test: &str) -> Option<String> {
    use std::io::Write as _;
    let url = postgres_url();
    if url.is_none() {
        let ci = std::env::var("CI").ok();
        let require = std::env::var("FLOWGATE_REQUIRE_POSTGRES").ok();
        assert!(
            !postgres_required(ci.as_deref(), require.as_deref()),
            "{test} needs PostgreSQL: TEST_DATABASE_URL is unset or not a postgres URL, and \
             FLOWGATE_REQUIRE_POSTGRES=1 on CI forbids skipping it"
        );
        // Straight to the process's stderr: the test harness captures `eprintln!` of
        // passing tests, which would hide the skip.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: needs PostgreSQL (set TEST_DATABASE_URL): {test}"
        );
    }
    url
}

/// Whether a PostgreSQL-only test must fail rather than skip: on CI (`CI` set to anything
/// but empty, `false` or `0`) when `FLOWGATE_REQUIRE_POSTGRES=1`.
pub fn postgres_required(ci: Option<&str>, require: Option<&str>) -> bool {
    let on_ci = ci.is_some_and(|value| !matches!(value.trim(), "" | "0" | "false" | "FALSE"));
    on_ci && require.is_some_and(|value| value.trim() == "1")
}

/// A schema name no other run uses, so runs never see each other's tables.
pub fn unique_schema(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        flowgate::domain::ids::random_alphanumeric(10).to_lowercase()
    )
}

/// The binary with an empty environment plus `PATH`: only what a test sets reaches it.
pub fn flowgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowgate"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    command
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One running server process, killed when dropped.
pub struct Instance {
    pub port: u16,
    child: Child,
    log: std::path::PathBuf,
}

impl Instance {
    /// Starts `flowgate start` with `env` on a free port; its log goes to a file in `dir`.
    pub fn start(dir: &Path, name: &str, env: &[(&str, String)]) -> Instance {
        Instance::spawn(dir, name, "start", "N8N_PORT", env)
    }

    /// Starts `flowgate worker` with `env`, its health server on a free port.
    pub fn worker(dir: &Path, name: &str, env: &[(&str, String)]) -> Instance {
        let mut env = env.to_vec();
        env.push(("QUEUE_HEALTH_CHECK_ACTIVE", "true".to_owned()));
        Instance::spawn(dir, name, "worker", "QUEUE_HEALTH_CHECK_PORT", &env)
    }

    fn spawn(
        dir: &Path,
        name: &str,
        subcommand: &str,
        port_variable: &str,
        env: &[(&str, String)],
    ) -> Instance {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let mut command = flowgate();
        command
            .arg(subcommand)
            .env(port_variable, port.to_string())
            .env("N8N_LISTEN_ADDRESS", "127.0.0.1")
            .stdout(Stdio::null())
            .stderr(file);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("the binary starts");
        Instance { port, child, log }
    }

    /// Waits until `/healthz/readiness` answers 200; panics with the log if the process
    /// exits or a deadline passes first.
    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!("instance exited with {status}:\n{}", self.log());
            }
            if let Ok(r) = try_request(self.port, "GET", "/healthz/readiness", &[], None).await {
                if r.status == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "instance not ready in time:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn get(&self, path: &str, key: &str) -> HttpResponse {
        request(self.port, "GET", path, &[("x-n8n-api-key", key)], None).await
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> HttpResponse {
        request(self.port, method, path, headers, body).await
    }

    /// Stops the process (SIGKILL; these tests do not test shutdown).
    /// The operating-system process id of the server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fully read HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `n8n-auth=<token>` pair of `Set-Cookie`.
    pub fn cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .find(|(_, v)| v.starts_with("n8n-auth="))
            .and_then(|(_, v)| v.split(';').next())
            .map(str::to_owned)
    }
}

pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> HttpResponse {
    try_request(port, method, path, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path} on port {port}: {e}"))
}

/// HTTP/1.0, so the server closes the connection after one response and never chunks it:
/// the response is everything up to EOF.
pub async fn try_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> std::io::Result<HttpResponse> {
    let body = body.map(|b| ("application/json", serde_json::to_vec(b).expect("json")));
    try_request_bytes(port, method, path, headers, body).await
}

/// As [`try_request`], with a body of any content type.
pub async fn try_request_bytes(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> std::io::Result<HttpResponse> {
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some((content_type, body)) = &body {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    let body = body.map(|(_, bytes)| bytes);
    head.push_str("\r\n");
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(head.as_bytes()).await?;
        if let Some(body) = &body {
            stream.write_all(body).await?;
        }
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .map_err(|_| std::io::Error::other("timed out"))??;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// A connection pool to the shared database, in `schema`, for checks and arranging states
/// no endpoint reaches.
pub async fn pg_pool(url: &str, schema: &str) -> sqlx::PgPool {
    use std::str::FromStr;
    let options = sqlx::postgres::PgConnectOptions::from_str(url)
        .expect("TEST_DATABASE_URL")
        .options([("search_path", schema)]);
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("connects to TEST_DATABASE_URL")
}

/// Sets up the owner and answers (session cookie, all-scopes key).
pub async fn bootstrap(instance: &Instance) -> (String, String) {
    let setup = instance
        .send("POST", "/rest/owner/setup", &[], Some(&json!({ "email": OWNER_EMAIL, "firstName": "Olive", "lastName": "Owner", "password": PASSWORD })))
        .await;
    assert_eq!(setup.status, 200, "{}", setup.text());
    let cookie = setup.cookie().expect("cookie");
    let scopes = instance
        .send("GET", "/rest/api-keys/scopes", &[("cookie", &cookie)], None)
        .await
        .json()["data"]
        .clone();
    let key = instance
        .send(
            "POST",
            "/rest/api-keys",
            &[("cookie", &cookie)],
            Some(&json!({ "label": "all", "scopes": scopes, "expiresAt": null })),
        )
        .await
        .json()["data"]["rawApiKey"]
        .as_str()
        .expect("key")
        .to_owned();
    (cookie, key)
}
