//! The binary's command line: configuration errors, and headless set-up of the owner and keys.

use std::process::{Command, Output};

use crate::helpers::{test_config, TestApp};

pub fn flowgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowgate"));
    // Only what a test sets reaches the binary.
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().expect("dir");
    for (variable, value) in [
        ("N8N_PORT", "not-a-port"),
        ("DB_TYPE", "oracle"),
        ("N8N_PAYLOAD_SIZE_MAX", "0"),
        ("N8N_PUBLIC_API_DISABLED", "maybe"),
        ("EXECUTIONS_MODE", "cluster"),
        ("QUEUE_WORKER_LOCK_DURATION", "10"),
    ] {
        let output = flowgate()
            .env("N8N_USER_FOLDER", dir.path())
            .env(variable, value)
            .output()
            .expect("runs");

        assert_eq!(output.status.code(), Some(2), "{variable}");
        let message = stderr(&output);
        assert_eq!(
            message.trim_end().lines().count(),
            1,
            "{variable}: {message}"
        );
        assert!(message.contains(variable), "{variable}: {message}");
    }
}

#[tokio::test]
async fn the_owner_and_a_key_can_be_set_up_headlessly() {
    let dir = tempfile::tempdir().expect("dir");
    let (config, schema) = test_config(dir.path());
    let with_database = |command: &mut Command| {
        command
            .env("N8N_USER_FOLDER", dir.path())
            .env("N8N_ENCRYPTION_KEY", "test-encryption-key")
            .env("N8N_LOG_LEVEL", "warn");
        match &schema {
            Some((url, name)) => command
                .env("DATABASE_URL", url)
                .env("DB_POSTGRESDB_SCHEMA", name),
            None => command.env(
                "DB_SQLITE_DATABASE",
                config.sqlite_database.clone().expect("sqlite path"),
            ),
        };
    };

    let mut setup = flowgate();
    with_database(&mut setup);
    let setup = setup
        .args([
            "owner",
            "setup",
            "--email",
            "ops@example.com",
            "--first-name",
            "Ops",
            "--last-name",
            "Team",
        ])
        .env("N8N_OWNER_PASSWORD", "Headless-Passw0rd")
        .output()
        .expect("runs");
    assert!(setup.status.success(), "{}", stderr(&setup));

    let mut create = flowgate();
    with_database(&mut create);
    let create = create
        .args([
            "api-key",
            "create",
            "--label",
            "ci",
            "--scopes",
            "tag:list,tag:create",
            "--expires-in-days",
            "30",
        ])
        .output()
        .expect("runs");
    assert!(create.status.success(), "{}", stderr(&create));
    let key = String::from_utf8(create.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    assert!(
        key.starts_with("n8n_api_"),
        "stdout is the key alone: {key}"
    );

    let mut list = flowgate();
    with_database(&mut list);
    let list = list.args(["api-key", "list"]).output().expect("runs");
    let listing = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        listing.contains("ci") && listing.contains(&format!("******{}", &key[key.len() - 4..]))
    );
    assert!(!listing.contains(&key), "the list never shows a key");

    let app = TestApp::open(
        tempfile::tempdir().expect("dir"),
        config.clone(),
        schema.clone(),
    )
    .await;
    assert_eq!(app.get("/api/v1/tags").key(&key).send().await.status, 200);
    assert_eq!(
        app.delete("/api/v1/tags/AAAAAAAAAAAAAAAA")
            .key(&key)
            .send()
            .await
            .status,
        403
    );
    let login = app.login("ops@example.com", "Headless-Passw0rd").await;
    assert!(!login.cookie.is_empty());

    let id = listing
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .expect("id column")
        .to_owned();
    let mut revoke = flowgate();
    with_database(&mut revoke);
    assert!(revoke
        .args(["api-key", "revoke", &id])
        .status()
        .expect("runs")
        .success());
    assert_eq!(app.get("/api/v1/tags").key(&key).send().await.status, 401);
}
