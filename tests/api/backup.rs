//! `flowgate export` and `flowgate import` with the real binary: a round trip into a new
//! database answers every read exactly as the original did (the same API key, password and
//! credential secrets still work), between SQLite and PostgreSQL both ways, and a refused
//! import (database not empty, file cut short or not an export, wrong key, a row the database
//! refuses) leaves the database as it was.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flowgate::config::{Config, DbType};
use flowgate::db::Conn;
use serde_json::{json, Value};

use crate::cli::{flowgate, stderr};
use crate::helpers::{
    publishable_body, test_config, workflow_body, TestApp, OWNER_EMAIL, PASSWORD,
};

const CREDENTIAL_SECRET: &str = "canary-Secret-9e1d";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// The binary on the database `config` names, without a key.
fn command(config: &Config) -> Command {
    let mut command = flowgate();
    command
        .env(
            "N8N_USER_FOLDER",
            config.user_folder.clone().expect("folder"),
        )
        .env("N8N_LOG_LEVEL", "warn");
    match &config.database_url {
        Some(url) => command
            .env("DATABASE_URL", url)
            .env("DB_POSTGRESDB_SCHEMA", &config.postgres_schema),
        None => command.env(
            "DB_SQLITE_DATABASE",
            config.sqlite_database.clone().expect("sqlite path"),
        ),
    };
    command
}

/// Runs the binary on the database `config` names, with the encryption key `key`.
pub fn run(config: &Config, key: &str, args: &[&str]) -> Output {
    command(config)
        .env("N8N_ENCRYPTION_KEY", key)
        .args(args)
        .output()
        .expect("runs")
}

fn export(app: &TestApp, file: &Path) -> Output {
    let output = run(
        &app.state.config,
        "test-encryption-key",
        &["export", "--output", &file.display().to_string()],
    );
    assert!(output.status.success(), "export: {}", stderr(&output));
    output
}

fn import(config: &Config, file: &Path) -> Output {
    run(
        config,
        "test-encryption-key",
        &["import", "--input", &file.display().to_string()],
    )
}

/// The one line a refused command writes.
#[track_caller]
pub fn refused(output: &Output, words: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    let message = stderr(output);
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    assert!(message.contains(words), "{message}");
}

/// A fresh, not yet created database: SQLite, or a new schema when `TEST_DATABASE_URL` is set.
fn new_database() -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("dir");
    let (config, _) = test_config(dir.path());
    (dir, config)
}

/// A fresh SQLite database, whatever `TEST_DATABASE_URL` says.
fn new_sqlite_database() -> (tempfile::TempDir, Config) {
    let (dir, mut config) = new_database();
    to_sqlite(&mut config);
    (dir, config)
}

fn to_sqlite(config: &mut Config) {
    config.database_url = None;
    config.db_type = DbType::Sqlite;
    config.sqlite_database = Some(config.data_folder().join("flowgate-test.sqlite"));
}

/// What the fixture made, to read back.
struct Made {
    workflow: String,
    credential: String,
    data_table: String,
    member_key: String,
}

/// Fills an instance with one of everything an export carries.
async fn populate(app: &TestApp) -> Made {
    let key = &app.owner_key;
    let team = app.create_project("Operations").await;
    let member = app.add_user("member@example.com", "global:member").await;
    app.add_member(&team, &member, "project:editor").await;
    let member_key = app.full_key(&member).await;
    let invited = app
        .post("/api/v1/users")
        .key(key)
        .json(json!([{ "email": "invited@example.com" }]))
        .send()
        .await;
    assert_eq!(invited.status, 201, "{}", invited.text());

    for name in ["prod", "ops"] {
        let tag = app
            .post("/api/v1/tags")
            .key(key)
            .json(json!({ "name": name }))
            .send()
            .await;
        assert_eq!(tag.status, 201, "{}", tag.text());
    }
    let tags = app.get("/api/v1/tags").key(key).send().await.json();
    let prod = id(&tags["data"][0]);

    let folder = app
        .post("/api/v1/projects/personal/folders")
        .key(key)
        .json(json!({ "name": "Clients" }))
        .send()
        .await
        .json();
    let child = app
        .post("/api/v1/projects/personal/folders")
        .key(key)
        .json(json!({ "name": "Acme", "parentFolderId": id(&folder) }))
        .send()
        .await;
    assert_eq!(child.status, 201, "{}", child.text());

    let workflow = id(&app
        .create_workflow(key, publishable_body("Hourly report"))
        .await);
    let mut changed = publishable_body("Hourly report v2");
    changed["pinData"] = json!({ "Set": [{ "json": { "n": 1.50 } }] });
    let put = app
        .put(&format!("/api/v1/workflows/{workflow}"))
        .key(key)
        .json(changed)
        .send()
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
    let published = app
        .post(&format!("/api/v1/workflows/{workflow}/publish"))
        .key(key)
        .send()
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    let tagged = app
        .put(&format!("/api/v1/workflows/{workflow}/tags"))
        .key(key)
        .json(json!([{ "id": prod }]))
        .send()
        .await;
    assert_eq!(tagged.status, 200, "{}", tagged.text());
    let mut in_folder = workflow_body("Filed away");
    in_folder["parentFolderId"] = json!(id(&folder));
    app.create_workflow(key, in_folder).await;
    let mut team_workflow = workflow_body("Team flow");
    team_workflow["projectId"] = json!(team);
    let archived = id(&app.create_workflow(key, team_workflow).await);
    let archive = app
        .post(&format!("/api/v1/workflows/{archived}/archive"))
        .key(key)
        .send()
        .await;
    assert_eq!(archive.status, 200, "{}", archive.text());

    let credential = app
        .post("/api/v1/credentials")
        .key(key)
        .json(json!({ "name": "Basic", "type": "httpBasicAuth", "data": { "user": "etl", "password": CREDENTIAL_SECRET } }))
        .send()
        .await;
    assert_eq!(credential.status, 200, "{}", credential.text());
    let credential = id(&credential.json());
    let team_credential = app
        .post("/api/v1/credentials")
        .key(key)
        .json(json!({ "name": "Warehouse", "type": "postgres", "projectId": team, "data": { "host": "db", "port": 5432, "user": "u", "password": "p" } }))
        .send()
        .await;
    assert_eq!(team_credential.status, 200, "{}", team_credential.text());

    for body in [
        json!({ "key": "API_URL", "value": "https://example.com" }),
        json!({ "key": "API_URL", "value": "team one", "projectId": team }),
    ] {
        let variable = app
            .post("/api/v1/variables")
            .key(key)
            .json(body)
            .send()
            .await;
        assert_eq!(variable.status, 201, "{}", variable.text());
    }

    let table = app
        .post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "people", "columns": [
            { "name": "name", "type": "string" },
            { "name": "age", "type": "number" },
            { "name": "active", "type": "boolean" },
            { "name": "born", "type": "date" }
        ]}))
        .send()
        .await;
    assert_eq!(table.status, 201, "{}", table.text());
    let data_table = id(&table.json());
    let rows = app
        .post(&format!("/api/v1/data-tables/{data_table}/rows"))
        .key(key)
        .json(json!({ "data": [
            { "name": "Ada", "age": 36, "active": true, "born": "1815-12-10" },
            { "name": "gone", "age": 1, "active": false },
            { "name": "Linus", "age": 2.5, "active": null, "born": null },
            { "name": null, "age": null, "active": false }
        ], "returnType": "id" }))
        .send()
        .await;
    assert_eq!(rows.status, 200, "{}", rows.text());
    // A gap in the row ids, which a restore must keep.
    let deleted = app
        .delete(&format!(
            "/api/v1/data-tables/{data_table}/rows/delete?filter={}",
            "%7B%22type%22%3A%22and%22%2C%22filters%22%3A%5B%7B%22columnName%22%3A%22name%22%2C%22condition%22%3A%22eq%22%2C%22value%22%3A%22gone%22%7D%5D%7D"
        ))
        .key(key)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());

    let mut tx = app.state.db.begin().await.expect("tx");
    let execution = flowgate::db::executions::insert(
        tx.conn(),
        &flowgate::db::executions::NewExecution {
            workflow_id: &workflow,
            mode: "trigger",
            status: "success",
            finished: true,
            created_at: "2026-01-02T03:04:05.000Z",
            started_at: Some("2026-01-02T03:04:05.000Z"),
            stopped_at: Some("2026-01-02T03:04:06.000Z"),
            data: Some(r#"{"resultData":{"runData":{}}}"#),
        },
    )
    .await
    .expect("execution");
    tx.commit().await.expect("commit");
    let execution_tags = app
        .put(&format!("/api/v1/executions/{execution}/tags"))
        .key(key)
        .json(json!([{ "id": prod }]))
        .send()
        .await;
    assert_eq!(execution_tags.status, 200, "{}", execution_tags.text());

    Made {
        workflow,
        credential,
        data_table,
        member_key,
    }
}

/// Everything the API answers about the instance, as the owner's key reads it (storage
/// figures left out: they measure the database, not the data).
async fn answers(app: &TestApp, key: &str, made: &Made) -> Vec<(String, Value)> {
    let workflow = &made.workflow;
    let table = &made.data_table;
    let mut out = Vec::new();
    for path in [
        "/api/v1/workflows".to_owned(),
        "/api/v1/workflows?active=false".to_owned(),
        format!("/api/v1/workflows/{workflow}"),
        format!("/api/v1/workflows/{workflow}/history"),
        format!("/api/v1/workflows/{workflow}/tags"),
        "/api/v1/tags".to_owned(),
        "/api/v1/credentials".to_owned(),
        "/api/v1/variables".to_owned(),
        "/api/v1/projects".to_owned(),
        "/api/v1/users".to_owned(),
        "/api/v1/projects/personal/folders".to_owned(),
        "/api/v1/executions".to_owned(),
        "/api/v1/data-tables".to_owned(),
        format!("/api/v1/data-tables/{table}/rows"),
    ] {
        let response = app.get(&path).key(key).send().await;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        let mut body = response.json();
        if let Some(tables) = body.get_mut("data").and_then(Value::as_array_mut) {
            for table in tables {
                if let Some(t) = table.as_object_mut() {
                    t.remove("sizeBytes");
                }
            }
        }
        out.push((path, body));
    }
    out
}

/// Exports `source`, imports into the database of `target`, and checks that the new
/// database answers as the old one to the owner's `key`. Answers the app over the new
/// database.
async fn round_trip(
    source: &TestApp,
    key: &str,
    made: &Made,
    target: (tempfile::TempDir, Config),
) -> TestApp {
    let before = answers(source, key, made).await;
    let file = source.folder.join("export.json");
    export(source, &file);
    let (dir, config) = target;
    let imported = import(&config, &file);
    assert!(imported.status.success(), "import: {}", stderr(&imported));
    let summary = String::from_utf8_lossy(&imported.stdout).into_owned();
    assert!(
        summary.starts_with("imported users 3, projects 4,")
            && summary.contains("data table rows 3"),
        "{summary}"
    );
    let schema = config
        .database_url
        .clone()
        .map(|url| (url, config.postgres_schema.clone()));
    let target = TestApp::open(dir, config, schema).await;

    // The old key works, and every answer is the same.
    let after = answers(&target, key, made).await;
    for ((path, old), (_, new)) in before.iter().zip(&after) {
        assert_eq!(old, new, "{path}");
    }
    target
}

#[tokio::test]
async fn an_imported_export_answers_as_the_original_and_its_keys_passwords_and_secrets_work() {
    let source = TestApp::spawn().await;
    let made = populate(&source).await;
    let target = round_trip(&source, &source.owner_key, &made, new_database()).await;

    // The member's key too, and the owner's password.
    assert_eq!(
        target
            .get("/api/v1/workflows")
            .key(&made.member_key)
            .send()
            .await
            .status,
        200
    );
    let owner = target.login(OWNER_EMAIL, PASSWORD).await;
    assert!(!owner.cookie.is_empty());
    // The secret opens with the same key: it is what was stored, and a partial update
    // merges into it.
    assert_eq!(
        stored_data(&target, &made.credential).await,
        json!({ "user": "etl", "password": CREDENTIAL_SECRET })
    );
    let merged = target
        .patch(&format!("/api/v1/credentials/{}", made.credential))
        .key(&source.owner_key)
        .json(json!({ "data": { "user": "loader" }, "isPartialData": true }))
        .send()
        .await;
    assert_eq!(merged.status, 200, "{}", merged.text());
    assert_eq!(
        stored_data(&target, &made.credential).await,
        json!({ "user": "loader", "password": CREDENTIAL_SECRET })
    );

    // New rows are numbered after the restored ones.
    let rows = target
        .post(&format!("/api/v1/data-tables/{}/rows", made.data_table))
        .key(&source.owner_key)
        .json(json!({ "data": [{ "name": "new" }], "returnType": "id" }))
        .send()
        .await;
    assert_eq!(rows.status, 200, "{}", rows.text());
    assert_eq!(rows.json(), json!([5]), "{}", rows.text());
    let mut tx = target.state.db.begin().await.expect("tx");
    let execution = flowgate::db::executions::insert(
        tx.conn(),
        &flowgate::db::executions::NewExecution {
            workflow_id: &made.workflow,
            mode: "manual",
            status: "success",
            finished: true,
            created_at: "2026-01-03T00:00:00.000Z",
            started_at: None,
            stopped_at: None,
            data: None,
        },
    )
    .await
    .expect("a new execution gets a fresh id");
    tx.commit().await.expect("commit");
    assert_eq!(execution, 2);
}

/// The stored data of a credential, opened with the app's keys.
pub async fn stored_data(app: &TestApp, credential_id: &str) -> Value {
    let mut conn = app.state.db.acquire().await.expect("conn");
    let row = flowgate::db::credentials::find(conn.conn(), credential_id)
        .await
        .expect("query")
        .expect("row");
    let plain = app
        .state
        .keys
        .open(&row.data, &format!("credential:{credential_id}"))
        .expect("opens");
    serde_json::from_slice(&plain).expect("json")
}

#[tokio::test]
async fn the_export_file_is_private_versioned_and_holds_secrets_only_sealed() {
    let source = TestApp::spawn().await;
    populate(&source).await;
    let file = source.folder.join("backup.json");
    std::fs::write(&file, "an older backup").expect("write");
    let output = export(&source, &file);

    let summary = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        summary.starts_with("exported users 3, projects 4, project_relations 5, tags 2, folders 2, workflows 3, workflow_history 4,"),
        "{summary}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(!text.contains(CREDENTIAL_SECRET), "a secret in clear");
    assert!(!text.contains(PASSWORD), "a password in clear");
    assert!(!text.contains(&source.owner_key), "an API key in clear");
    let document: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(document["format"], "flowgate-export");
    assert_eq!(document["version"], 1);
    assert_eq!(document["keyIds"], json!([source.state.keys.primary_id()]));
    assert!(
        document["tables"]["sessions"].is_null(),
        "sessions are left out"
    );
    assert!(document["tables"]["credentials"][0]["data"]
        .as_str()
        .is_some_and(|d| d.starts_with("v1$")));
    assert_eq!(
        document["dataTableRows"]
            .as_object()
            .expect("rows")
            .values()
            .next()
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(3)
    );
    // Nothing is left beside it.
    let leftovers: Vec<PathBuf> = std::fs::read_dir(&source.folder)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn moving_between_sqlite_and_postgres_works_both_ways() {
    if crate::helpers::postgres_url().is_none() {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    }
    // SQLite to PostgreSQL.
    let sqlite = TestApp::spawn_with(to_sqlite).await;
    assert!(!sqlite.state.db.is_postgres());
    let made = populate(&sqlite).await;
    let postgres = round_trip(&sqlite, &sqlite.owner_key, &made, new_database()).await;
    assert!(postgres.state.db.is_postgres());

    // And back, from the PostgreSQL copy into SQLite.
    let back = round_trip(&postgres, &sqlite.owner_key, &made, new_sqlite_database()).await;
    assert!(!back.state.db.is_postgres());
    assert_eq!(
        stored_data(&back, &made.credential).await,
        json!({ "user": "etl", "password": CREDENTIAL_SECRET })
    );
}

#[tokio::test]
async fn a_database_that_holds_data_is_refused_and_left_as_it_was() {
    let source = TestApp::spawn().await;
    let made = populate(&source).await;
    let file = source.folder.join("export.json");
    export(&source, &file);

    let target = TestApp::spawn().await;
    let tag = target
        .post("/api/v1/tags")
        .key(&target.owner_key)
        .json(json!({ "name": "mine" }))
        .send()
        .await;
    assert_eq!(tag.status, 201);
    let before = target
        .get("/api/v1/tags")
        .key(&target.owner_key)
        .send()
        .await
        .json();

    refused(
        &import(&target.state.config, &file),
        "the database is not empty (users 1, projects 1, project_relations 1, tags 1, api_keys 1)",
    );

    let after = target
        .get("/api/v1/tags")
        .key(&target.owner_key)
        .send()
        .await
        .json();
    assert_eq!(before, after);
    // The target's own secret is still the one its keys were hashed with.
    assert_eq!(
        target
            .get("/api/v1/tags")
            .key(&target.owner_key)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        target
            .get(&format!("/api/v1/workflows/{}", made.workflow))
            .key(&target.owner_key)
            .send()
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_damaged_or_foreign_file_is_refused_and_the_database_stays_empty() {
    let source = TestApp::spawn().await;
    let made = populate(&source).await;
    let file = source.folder.join("export.json");
    export(&source, &file);
    let good = std::fs::read_to_string(&file).expect("read");
    let (dir, config) = new_database();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };

    let cut = write("cut.json", &good[..good.len() / 2]);
    refused(&import(&config, &cut), "it was cut short");
    let garbage = write("garbage.json", "\u{1f}\u{8b}not json at all");
    refused(
        &import(&config, &garbage),
        "not a flowgate export: not valid JSON",
    );
    let n8n = write(
        "n8n.json",
        r#"[{"id":"1","name":"x","nodes":[],"connections":{}}]"#,
    );
    refused(&import(&config, &n8n), "`flowgate import n8n`");
    let newer = write(
        "newer.json",
        &good.replacen("\"version\":1", "\"version\":2", 1),
    );
    refused(&import(&config, &newer), "export version 2");
    let mut document: Value = serde_json::from_str(&good).expect("JSON");
    document["tables"]["users"][0]["disabled"] = json!("no");
    let typed = write("typed.json", &document.to_string());
    refused(
        &import(&config, &typed),
        "tables.users[0].disabled must be true or false",
    );
    refused(
        &import(&config, &dir.path().join("missing.json")),
        "missing.json",
    );
    // Well-formed, but a row the database refuses (a second user with the same e-mail) half-way
    // through: the transaction leaves nothing.
    let mut document: Value = serde_json::from_str(&good).expect("JSON");
    let users = document["tables"]["users"].as_array_mut().expect("users");
    let mut twin = users[0].clone();
    twin["id"] = json!(flowgate::domain::ids::new_user_id());
    twin["role"] = json!("global:member");
    users.push(twin);
    let clash = write("clash.json", &document.to_string());
    refused(&import(&config, &clash), "tables.users:");
    // Without a key nothing is tried (and no key file is made up).
    let keyless = command(&config)
        .args(["import", "--input", &file.display().to_string()])
        .output()
        .expect("runs");
    refused(
        &keyless,
        "set N8N_ENCRYPTION_KEY to the key of the instance that made the export",
    );
    assert!(!config.data_folder().join("config").exists());
    // Another key cannot open the secrets.
    refused(
        &run(
            &config,
            "another-key",
            &["import", "--input", &file.display().to_string()],
        ),
        "import with the N8N_ENCRYPTION_KEY of the instance that made the export",
    );

    // After all that, the database is still empty: the real file goes in whole.
    let imported = import(&config, &file);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let schema = config
        .database_url
        .clone()
        .map(|url| (url, config.postgres_schema.clone()));
    let target = TestApp::open(dir, config, schema).await;
    let workflow = target
        .get(&format!("/api/v1/workflows/{}", made.workflow))
        .key(&source.owner_key)
        .send()
        .await;
    assert_eq!(workflow.status, 200, "{}", workflow.text());
}

#[tokio::test]
async fn the_export_covers_every_table_and_column_of_the_schema() {
    use flowgate::backup::tables::{SKIPPED, TABLES};
    let app = TestApp::spawn_empty().await;
    let mut tx = app.state.db.begin().await.expect("tx");
    let columns: Vec<(String, String)> = match tx.conn() {
        Conn::Postgres(c) => {
            sqlx::query_as(
                "select table_name::text, column_name::text from information_schema.columns \
             where table_schema = current_schema() order by table_name, ordinal_position",
            )
            .fetch_all(c)
            .await
        }
        Conn::Sqlite(c) => {
            sqlx::query_as(
                "select m.name, p.name from sqlite_master m join pragma_table_info(m.name) p \
             where m.type = 'table' and m.name not like 'sqlite_%' order by m.name, p.cid",
            )
            .fetch_all(c)
            .await
        }
    }
    .expect("schema");
    drop(tx);

    let mut in_schema: Vec<String> = columns
        .iter()
        .filter(|(table, _)| !SKIPPED.contains(&table.as_str()))
        .map(|(table, column)| format!("{table}.{column}"))
        .collect();
    let mut exported: Vec<String> = TABLES
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .map(move |c| format!("{}.{}", t.name, c.name))
        })
        .collect();
    in_schema.sort();
    exported.sort();
    assert_eq!(
        in_schema, exported,
        "a migration changed the schema: add the change to src/backup/tables.rs (and raise the export version)"
    );
}
