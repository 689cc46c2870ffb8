//! `flowgate import n8n` with the real binary, on the files of `tests/fixtures/n8n/` (as
//! `n8n export:workflow --all` and `n8n export:credentials --all --decrypted` write them).

use std::process::Output;

use serde_json::{json, Value};

use crate::backup::{refused, run, stored_data};
use crate::cli::stderr;
use crate::helpers::TestApp;

const WORKFLOWS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/n8n/workflows.json"
);
const CREDENTIALS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/n8n/credentials.json"
);
const ENCRYPTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/n8n/credentials-encrypted.json"
);

fn import(app: &TestApp, args: &[&str]) -> Output {
    let mut all = vec!["import", "n8n"];
    all.extend_from_slice(args);
    run(&app.state.config, "test-encryption-key", &all)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

async fn get(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).key(&app.owner_key).send().await;
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    response.json()
}

async fn personal_project(app: &TestApp) -> (String, String) {
    let projects = get(app, "/api/v1/projects").await;
    let personal = projects["data"]
        .as_array()
        .expect("projects")
        .iter()
        .find(|p| p["type"] == "personal")
        .expect("personal project")
        .clone();
    (
        personal["id"].as_str().expect("id").to_owned(),
        personal["name"].as_str().expect("name").to_owned(),
    )
}

#[tokio::test]
async fn n8n_exports_arrive_in_the_owners_project_with_their_ids_tags_and_sealed_secrets() {
    let app = TestApp::spawn().await;
    let existing = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .json(json!({ "name": "reporting" }))
        .send()
        .await
        .json();

    let output = import(
        &app,
        &["--workflows", WORKFLOWS, "--credentials", CREDENTIALS],
    );

    assert!(output.status.success(), "{}", stderr(&output));
    let (project, project_name) = personal_project(&app).await;
    assert_eq!(
        stdout(&output),
        format!("imported 3 workflows, 3 credentials and 1 new tag (1 existing) into project \"{project_name}\" ({project})")
    );
    let notes = stderr(&output);
    assert!(
        notes.contains("stored unchecked: openWeatherMapApi"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "workflow \"Sync users\" (Xk3PqR7tY2wZ9aBc) was active in n8n and is imported unpublished"
        ),
        "{notes}"
    );

    // n8n's ids, unpublished, tagged, content as exported.
    let synced = get(&app, "/api/v1/workflows/Xk3PqR7tY2wZ9aBc").await;
    assert_eq!(synced["name"], "Sync users");
    assert_eq!(synced["active"], false);
    assert_eq!(synced["versionId"], "0b7c1f1e-3c1d-4c55-9a61-5f1c2d3e4f50");
    assert_eq!(synced["tags"][0]["id"], "tAgPr0duct10n001");
    assert_eq!(synced["tags"][0]["name"], "production");
    assert_eq!(
        synced["nodes"][1]["credentials"],
        json!({ "httpBasicAuth": { "id": "cR3dB4s1cAuth001", "name": "Example API" } })
    );
    assert_eq!(synced["settings"]["executionOrder"], "v1");
    // The times n8n recorded, not the import's.
    assert_eq!(synced["createdAt"], "2025-03-01T09:00:00.000Z");
    assert_eq!(synced["updatedAt"], "2025-03-04T17:30:00.000Z");
    assert_eq!(synced["shared"][0]["projectId"], project.as_str());
    let report = get(&app, "/api/v1/workflows/Mn0pQrStUvWx1234").await;
    let tag_ids: Vec<&str> = report["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["id"].as_str().expect("id"))
        .collect();
    // Inside a workflow, n8n shows tags in tag-id order.
    let mut expected = ["tAgPr0duct10n001", existing["id"].as_str().expect("id")];
    expected.sort();
    assert_eq!(tag_ids, expected);
    assert_eq!(report["pinData"]["Totals"][0]["json"]["total"], 42.1);
    let old = get(&app, "/api/v1/workflows/3").await;
    assert_eq!(old["isArchived"], true);

    // Credentials keep their ids and are sealed with this instance's key.
    let credentials = get(&app, "/api/v1/credentials").await;
    let mut names: Vec<&str> = credentials["data"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Example API", "Team Slack", "Weather service"]);
    let example = credentials["data"]
        .as_array()
        .expect("credentials")
        .iter()
        .find(|c| c["id"] == "cR3dB4s1cAuth001")
        .expect("credential");
    assert_eq!(example["createdAt"], "2025-02-10T08:00:00.000Z");
    assert_eq!(
        stored_data(&app, "cR3dB4s1cAuth001").await,
        json!({ "user": "api-user", "password": "n8n-Secret-42" })
    );
    assert_eq!(
        stored_data(&app, "w3AtherKey000001").await,
        json!({ "apiKey": "weather-fixture-key" })
    );
    let merged = app
        .patch("/api/v1/credentials/cR3dB4s1cAuth001")
        .key(&app.owner_key)
        .json(json!({ "data": { "user": "other" }, "isPartialData": true }))
        .send()
        .await;
    assert_eq!(merged.status, 200, "{}", merged.text());
    assert_eq!(
        stored_data(&app, "cR3dB4s1cAuth001").await,
        json!({ "user": "other", "password": "n8n-Secret-42" })
    );
}

#[tokio::test]
async fn a_second_import_replaces_by_id_and_creates_no_copies() {
    let app = TestApp::spawn().await;
    let first = import(
        &app,
        &["--workflows", WORKFLOWS, "--credentials", CREDENTIALS],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    // Changed here between the two imports: the second import brings n8n's content back.
    let renamed = app
        .put("/api/v1/workflows/Mn0pQrStUvWx1234")
        .key(&app.owner_key)
        .json(json!({ "name": "Changed here", "nodes": [], "connections": {}, "settings": {} }))
        .send()
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());

    let again = import(
        &app,
        &["--workflows", WORKFLOWS, "--credentials", CREDENTIALS],
    );

    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again)
            .starts_with("imported 3 workflows, 3 credentials and 0 new tags (2 existing)")
            && stdout(&again).ends_with("(3 workflows and 3 credentials replaced by id)"),
        "{}",
        stdout(&again)
    );
    assert!(
        !stderr(&again).contains("was imported as"),
        "{}",
        stderr(&again)
    );
    let workflows = get(&app, "/api/v1/workflows").await;
    assert_eq!(workflows["data"].as_array().map(Vec::len), Some(3));
    let report = get(&app, "/api/v1/workflows/Mn0pQrStUvWx1234").await;
    assert_eq!(report["name"], "Weekly report");
    assert_eq!(report["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["updatedAt"], "2025-03-02T10:05:00.000Z");
    assert_eq!(get(&app, "/api/v1/workflows/3").await["isArchived"], true);
    let credentials = get(&app, "/api/v1/credentials").await;
    assert_eq!(credentials["data"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        stored_data(&app, "cR3dB4s1cAuth001").await,
        json!({ "user": "api-user", "password": "n8n-Secret-42" })
    );
    let tags = get(&app, "/api/v1/tags").await;
    assert_eq!(tags["data"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn ids_taken_by_another_project_are_renamed_with_every_reference_to_them() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("dir");
    let files = dir.path().join("workflows.json");
    let caller = json!({
        "id": "CallerWorkflow01", "name": "Caller",
        "nodes": [
            { "id": "1", "name": "Start", "type": "n8n-nodes-base.manualTrigger",
              "typeVersion": 1, "position": [0, 0], "parameters": {} },
            { "id": "2", "name": "Call", "type": "n8n-nodes-base.executeWorkflow",
              "typeVersion": 1.2, "position": [200, 0],
              "parameters": { "workflowId": { "__rl": true, "mode": "list", "value": "CalledWorkflow01" } } }
        ],
        "connections": { "Start": { "main": [[{ "node": "Call", "type": "main", "index": 0 }]] } },
        "settings": { "errorWorkflow": "CalledWorkflow01" }
    });
    let called = json!({
        "id": "CalledWorkflow01", "name": "Called",
        "nodes": [
            { "id": "1", "name": "Start", "type": "n8n-nodes-base.executeWorkflowTrigger",
              "typeVersion": 1.1, "position": [0, 0], "parameters": { "inputSource": "passthrough" } }
        ],
        "connections": {}, "settings": {}
    });
    std::fs::write(&files, json!([caller, called]).to_string()).expect("write");
    let files = files.display().to_string();
    let team = app.create_project("Elsewhere").await;
    let into_team = import(&app, &["--workflows", &files, "--project", &team]);
    assert!(into_team.status.success(), "{}", stderr(&into_team));

    let personal = import(&app, &["--workflows", &files]);

    assert!(personal.status.success(), "{}", stderr(&personal));
    let notes = stderr(&personal);
    assert!(
        notes.contains("workflow CallerWorkflow01 was imported as"),
        "{notes}"
    );
    let new_called = notes
        .lines()
        .find_map(|line| line.strip_prefix("workflow CalledWorkflow01 was imported as "))
        .and_then(|rest| rest.split(' ').next())
        .expect("the called workflow's new id")
        .to_owned();
    let (project, _) = personal_project(&app).await;
    let workflows = get(&app, &format!("/api/v1/workflows?projectId={project}")).await;
    let copy = workflows["data"]
        .as_array()
        .expect("workflows")
        .iter()
        .find(|w| w["name"] == "Caller")
        .expect("the caller's copy")
        .clone();
    assert_ne!(copy["id"], "CallerWorkflow01");
    assert_eq!(
        copy["nodes"][1]["parameters"]["workflowId"]["value"],
        new_called.as_str()
    );
    assert_eq!(copy["settings"]["errorWorkflow"], new_called.as_str());
    // The team's workflows are untouched.
    let original = get(&app, "/api/v1/workflows/CallerWorkflow01").await;
    assert_eq!(original["shared"][0]["projectId"], team.as_str());
    assert_eq!(
        original["nodes"][1]["parameters"]["workflowId"]["value"],
        "CalledWorkflow01"
    );
}

#[tokio::test]
async fn a_flowgate_export_given_as_n8n_files_is_named_as_such() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("dir");
    let backup = dir.path().join("backup.json");
    let exported = run(
        &app.state.config,
        "test-encryption-key",
        &["export", "--output", &backup.display().to_string()],
    );
    assert!(exported.status.success(), "{}", stderr(&exported));

    refused(
        &import(&app, &["--workflows", &backup.display().to_string()]),
        "is a flowgate export, not n8n's: restore it with `flowgate import --input",
    );
}

#[tokio::test]
async fn bad_input_is_refused_whole_and_a_project_can_be_chosen() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("dir");
    let invalid = dir.path().join("invalid.json");
    std::fs::write(
        &invalid,
        r#"[{"id":"sLackT0ken000002","name":"No token","type":"slackApi","data":{"signatureSecret":"s"}}]"#,
    )
    .expect("write");
    let invalid = invalid.display().to_string();

    refused(
        &import(&app, &["--workflows", WORKFLOWS, "--credentials", &invalid]),
        "(credential \"No token\"): request.body.data requires property \"accessToken\"",
    );
    refused(
        &import(&app, &["--credentials", ENCRYPTED]),
        "export with `n8n export:credentials --all --decrypted`",
    );
    let cut = dir.path().join("cut.json");
    let whole = std::fs::read_to_string(WORKFLOWS).expect("read");
    std::fs::write(&cut, &whole[..whole.len() / 2]).expect("write");
    refused(
        &import(&app, &["--workflows", &cut.display().to_string()]),
        "it was cut short",
    );
    refused(
        &import(
            &app,
            &[
                "--credentials",
                CREDENTIALS,
                "--project",
                "NoSuchProject000",
            ],
        ),
        "no project with id NoSuchProject000",
    );
    // Nothing of the refused imports arrived (the workflows of the first went with it).
    assert_eq!(get(&app, "/api/v1/workflows").await["data"], json!([]));
    assert_eq!(get(&app, "/api/v1/credentials").await["data"], json!([]));

    let team = app.create_project("Integrations").await;
    let into_team = import(&app, &["--credentials", CREDENTIALS, "--project", &team]);
    assert!(into_team.status.success(), "{}", stderr(&into_team));
    assert!(
        stdout(&into_team).ends_with(&format!("into project \"Integrations\" ({team})")),
        "{}",
        stdout(&into_team)
    );
    let credentials = get(&app, "/api/v1/credentials").await;
    assert!(credentials["data"]
        .as_array()
        .expect("credentials")
        .iter()
        .all(|c| c["shared"][0]["id"] == team.as_str()));

    let empty = TestApp::spawn_empty().await;
    refused(
        &import(&empty, &["--workflows", WORKFLOWS]),
        "the owner is not set up yet",
    );
}
