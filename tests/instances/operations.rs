//! Running the binary as an operator does: `--version`, the container health check, the
//! client address in request logs behind a proxy, and refusing a database that a newer
//! version migrated. SQLite by default; PostgreSQL too when `TEST_DATABASE_URL` is set.

use std::path::Path;
use std::process::Command;

use flowgate::db::Db;
use serde_json::Value;

use crate::support::*;

/// Database settings for the binary and for `Config`: a SQLite file in `dir`, or a fresh
/// schema of `TEST_DATABASE_URL`.
fn database_env(dir: &Path) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("N8N_USER_FOLDER", dir.display().to_string()),
        ("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY.to_owned()),
    ];
    match postgres_url() {
        Some(url) => {
            env.push(("DATABASE_URL", url));
            env.push(("DB_POSTGRESDB_SCHEMA", unique_schema("ops")));
        }
        None => env.push((
            "DB_SQLITE_DATABASE",
            dir.join("ops.sqlite").display().to_string(),
        )),
    }
    env
}

fn with_env(command: &mut Command, env: &[(&str, String)]) {
    for (name, value) in env {
        command.env(name, value);
    }
}

#[test]
fn version_names_the_release_and_the_git_revision() {
    let output = flowgate().arg("--version").output().expect("runs");

    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert_eq!(
        stdout,
        format!("flowgate {} ({})", flowgate::VERSION, flowgate::REVISION)
    );
    assert!(!flowgate::REVISION.is_empty());
    // Built from a git checkout without an override, the revision is HEAD's.
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if let Some(head) = head.filter(|_| std::env::var_os("FLOWGATE_GIT_REVISION").is_none()) {
        assert_eq!(flowgate::REVISION, head);
    }
}

#[tokio::test]
async fn the_health_check_command_passes_against_a_live_server_and_fails_without_one() {
    let dir = tempfile::tempdir().expect("dir");
    let env = database_env(dir.path());
    let mut server = Instance::start(dir.path(), "server", &env);
    server.wait_ready().await;

    let mut healthy = flowgate();
    with_env(&mut healthy, &env);
    // Listening on every address means probing loopback.
    let healthy = healthy
        .args(["healthcheck"])
        .env("N8N_PORT", server.port.to_string())
        .env("N8N_LISTEN_ADDRESS", "0.0.0.0")
        .output()
        .expect("runs");
    server.stop();
    let mut down = flowgate();
    with_env(&mut down, &env);
    let down = down
        .args(["healthcheck"])
        .env("N8N_PORT", free_port().to_string())
        .output()
        .expect("runs");

    assert!(healthy.status.success(), "{}", stderr(&healthy));
    assert_eq!(down.status.code(), Some(1));
    assert_eq!(
        stderr(&down).trim_end().lines().count(),
        1,
        "{}",
        stderr(&down)
    );
    assert!(stderr(&down).contains("/healthz"));
}

#[tokio::test]
async fn request_logs_carry_the_client_address_the_trusted_proxy_reported() {
    let dir = tempfile::tempdir().expect("dir");
    let mut env = database_env(dir.path());
    env.extend([
        ("N8N_PROXY_HOPS", "1".to_owned()),
        ("N8N_LOG_LEVEL", "debug".to_owned()),
        ("N8N_LOG_FORMAT", "json".to_owned()),
    ]);
    let mut server = Instance::start(dir.path(), "server", &env);
    server.wait_ready().await;

    let response = server
        .send(
            "GET",
            "/api/v1/tags",
            &[("x-forwarded-for", "6.6.6.6, 203.0.113.7")],
            None,
        )
        .await;
    assert_eq!(response.status, 401);
    // The line is written after the response is sent; give it a moment.
    let mut line = None;
    for _ in 0..100 {
        line = server.log().lines().find_map(|l| {
            let entry: Value = serde_json::from_str(l).ok()?;
            (entry["span"]["route"] == "/api/v1/tags" && entry["status"] == 401).then_some(entry)
        });
        if line.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.stop();

    let line = line.unwrap_or_else(|| panic!("no request line in\n{}", server.log()));
    assert_eq!(line["span"]["client_ip"], "203.0.113.7", "{line}");
    assert!(
        !server.log().contains("6.6.6.6"),
        "the forged entry is never logged"
    );
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_version_is_refused_with_one_line() {
    let dir = tempfile::tempdir().expect("dir");
    let env = database_env(dir.path());
    // Migrate with this version, then record a migration it does not know, as a newer
    // release would have.
    let mut config = flowgate::config::Config::for_data_folder(dir.path());
    for (name, value) in &env {
        match *name {
            "DATABASE_URL" => config.database_url = Some(value.clone()),
            "DB_POSTGRESDB_SCHEMA" => config.postgres_schema = value.clone(),
            "DB_SQLITE_DATABASE" => config.sqlite_database = Some(value.into()),
            _ => {}
        }
    }
    let db = Db::connect(&config).await.expect("connects");
    db.migrate().await.expect("migrates");
    let mut tx = db.begin().await.expect("tx");
    flowgate::on_conn!(tx.conn(), c => sqlx::query(
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
         values ($1, 'from a newer release', true, $2, 0)")
        .bind(99_990_101_i64)
        .bind(vec![0u8; 48])
        .execute(c)
        .await
        .map(|_| ()))
    .expect("insert");
    tx.commit().await.expect("commit");
    db.close().await;

    let mut start = flowgate();
    with_env(&mut start, &env);
    let output = start
        .args(["start"])
        .env("N8N_PORT", free_port().to_string())
        .output()
        .expect("runs and exits");

    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    assert!(
        message.contains("newer version") && message.contains("99990101"),
        "{message}"
    );
}
