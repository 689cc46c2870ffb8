//! `POST /source-control/pull` against a bare git repository the test makes: a clone writes
//! n8n's layout and pushes, the server fetches from the bare repository over `file://`.
//! Tests that need git print a note and return when it is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{TestApp, OWNER_EMAIL};

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn git_installed() -> bool {
    let found = Command::new("git").arg("--version").output().is_ok();
    if !found {
        eprintln!("note: git is not installed; source-control pull test skipped");
    }
    found
}

/// A bare repository and a clone that writes into it.
struct Remote {
    _dir: tempfile::TempDir,
    bare: PathBuf,
    work: PathBuf,
}

impl Remote {
    fn new() -> Remote {
        let dir = tempfile::tempdir().expect("temp dir");
        let bare = dir.path().join("remote.git");
        let work = dir.path().join("clone");
        std::fs::create_dir_all(&bare).expect("bare dir");
        std::fs::create_dir_all(&work).expect("work dir");
        git(&bare, &["init", "--quiet", "--bare"]);
        git(&work, &["init", "--quiet"]);
        git(&work, &["checkout", "--quiet", "-b", "main"]);
        Remote {
            _dir: dir,
            bare,
            work,
        }
    }

    fn url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    fn write(&self, file: &str, content: &Value) {
        let path = self.work.join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(path, serde_json::to_vec_pretty(content).expect("json")).expect("write");
    }

    fn write_raw(&self, file: &str, content: &str) {
        let path = self.work.join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
        std::fs::write(path, content).expect("write");
    }

    fn push(&self) {
        git(&self.work, &["add", "--all"]);
        git(
            &self.work,
            &["commit", "--quiet", "--allow-empty", "-m", "export"],
        );
        git(
            &self.work,
            &["push", "--quiet", "--force", &self.url(), "main:main"],
        );
    }
}

fn workflow_file(id: &str, name: &str, owner: Value) -> Value {
    json!({
        "id": id,
        "name": name,
        "nodes": [
            {"id": "n1", "name": "Every hour", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2, "position": [0, 0], "parameters": {}},
            {"id": "n2", "name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0], "parameters": {}}
        ],
        "connections": {"Every hour": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"},
        "triggerCount": 1,
        "versionId": "8d5a1b0c-0000-4000-8000-000000000001",
        "owner": owner,
        "parentFolderId": null,
        "isArchived": false
    })
}

async fn spawn(remote: &Remote) -> TestApp {
    let url = remote.url();
    TestApp::spawn_with(move |c| c.source_control_repository_url = Some(url)).await
}

async fn pull(app: &TestApp, body: Value) -> crate::helpers::Resp {
    app.post("/api/v1/source-control/pull")
        .key(&app.owner_key)
        .json(body)
        .send()
        .await
}

fn entry<'a>(files: &'a Value, kind: &str, id: &str) -> &'a Value {
    files
        .as_array()
        .expect("array")
        .iter()
        .find(|f| f["type"] == kind && f["id"] == id)
        .unwrap_or_else(|| panic!("no {kind} {id} in {files}"))
}

#[tokio::test]
async fn pull_without_a_configured_repository_answers_n8ns_400_body() {
    let app = TestApp::spawn().await;

    let response = pull(&app, json!({})).await;

    assert_eq!(response.status, 400);
    assert_eq!(
        response.json(),
        json!({"status": "Error", "message": "Source Control is not connected to a repository"})
    );
}

#[tokio::test]
async fn pull_imports_workflows_folders_tags_variables_and_credential_stubs() {
    if !git_installed() {
        return;
    }
    let remote = Remote::new();
    let app = spawn(&remote).await;
    let team = app.create_project("Ops").await;
    remote.write("folders.json", &json!({"folders": [
        {"id": "FolderParent0001", "name": "Parent", "parentFolderId": null, "homeProjectId": team, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"},
        {"id": "FolderChild00001", "name": "Child", "parentFolderId": "FolderParent0001", "homeProjectId": team, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}
    ]}));
    let mut in_team = workflow_file(
        "WfTeam0000000001",
        "Team flow",
        json!({"type": "team", "teamId": team, "teamName": "Ops"}),
    );
    in_team["parentFolderId"] = json!("FolderChild00001");
    remote.write("workflows/WfTeam0000000001.json", &in_team);
    remote.write(
        "workflows/WfMine0000000001.json",
        &workflow_file(
            "WfMine0000000001",
            "My flow",
            json!({"type": "personal", "personalEmail": OWNER_EMAIL}),
        ),
    );
    remote.write(
        "tags.json",
        &json!({"tags": [{"id": "TagProd000000001", "name": "prod"}],
        "mappings": [{"workflowId": "WfTeam0000000001", "tagId": "TagProd000000001"}]}),
    );
    remote.write(
        "variable_stubs.json",
        &json!([{"id": "VarApiUrl0000001", "key": "API_URL", "value": "", "type": "string"}]),
    );
    remote.write("credential_stubs/CredHeader000001.json", &json!({"id": "CredHeader000001", "name": "Header",
        "type": "httpHeaderAuth", "data": {"name": "X-Token", "value": "leaked-secret"}, "ownedBy": null}));
    remote.push();

    let response = pull(&app, json!({})).await;

    assert_eq!(response.status, 200, "{}", response.text());
    let files = response.json();
    assert_eq!(files.as_array().map(Vec::len), Some(7), "{files}");
    let team_flow = entry(&files, "workflow", "WfTeam0000000001");
    assert_eq!(team_flow["status"], "created");
    assert_eq!(team_flow["conflict"], false);
    assert_eq!(team_flow["location"], "remote");
    assert_eq!(team_flow["file"], "workflows/WfTeam0000000001.json");
    assert_eq!(team_flow["owner"]["projectId"], team.as_str());
    assert_eq!(team_flow["owner"]["type"], "team");
    assert_eq!(
        entry(&files, "workflow", "WfMine0000000001")["owner"]["type"],
        "personal"
    );
    assert_eq!(
        entry(&files, "folders", "FolderChild00001")["status"],
        "created"
    );
    assert_eq!(entry(&files, "tags", "TagProd000000001")["name"], "prod");
    assert_eq!(
        entry(&files, "variables", "VarApiUrl0000001")["name"],
        "API_URL"
    );
    assert_eq!(
        entry(&files, "credential", "CredHeader000001")["file"],
        "credential_stubs/CredHeader000001.json"
    );

    let workflow = app
        .get("/api/v1/workflows/WfTeam0000000001")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(workflow["name"], "Team flow");
    assert_eq!(workflow["shared"][0]["projectId"], team.as_str());
    assert_eq!(workflow["tags"][0]["name"], "prod");
    assert_eq!(workflow["active"], false);
    assert_eq!(workflow["versionCounter"], 1);
    let folder = app
        .get(&format!("/api/v1/projects/{team}/folders/FolderChild00001"))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(folder["parentFolderId"], "FolderParent0001", "{folder}");
    assert_eq!(folder["totalWorkflows"], 1, "{folder}");
    let variables = app
        .get("/api/v1/variables")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(variables["data"][0]["key"], "API_URL");
    assert_eq!(variables["data"][0]["value"], "");
    let credential = app
        .get("/api/v1/credentials/CredHeader000001")
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(credential.status, 200, "{}", credential.text());
    assert_eq!(credential.json()["type"], "httpHeaderAuth");
    // The stub's data was sealed like any credential's: the credential routes can open it.
    let patched = app
        .patch("/api/v1/credentials/CredHeader000001")
        .key(&app.owner_key)
        .json(json!({"data": {"value": "real-secret"}, "isPartialData": true}))
        .send()
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    let row = {
        let mut conn = app.state.db.acquire().await.expect("conn");
        flowgate::db::credentials::find(conn.conn(), "CredHeader000001")
            .await
            .expect("find")
            .expect("row")
    };
    let opened = app
        .state
        .keys
        .open(&row.data, "credential:CredHeader000001")
        .expect("opens");
    let data: Value = serde_json::from_slice(&opened).expect("json");
    assert_eq!(data, json!({"name": "", "value": "real-secret"}));

    // A later stub renames the credential but never replaces its secrets.
    remote.write(
        "credential_stubs/CredHeader000001.json",
        &json!({"id": "CredHeader000001", "name": "Renamed",
        "type": "httpHeaderAuth", "data": {"name": "X-Other", "value": "other"}, "ownedBy": null}),
    );
    remote.push();
    let renamed = pull(&app, json!({})).await;
    assert_eq!(
        entry(&renamed.json(), "credential", "CredHeader000001")["status"],
        "modified"
    );
    let row = {
        let mut conn = app.state.db.acquire().await.expect("conn");
        flowgate::db::credentials::find(conn.conn(), "CredHeader000001")
            .await
            .expect("find")
            .expect("row")
    };
    assert_eq!(row.name, "Renamed");
    let opened = app
        .state
        .keys
        .open(&row.data, "credential:CredHeader000001")
        .expect("opens");
    let data: Value = serde_json::from_slice(&opened).expect("json");
    assert_eq!(data, json!({"name": "", "value": "real-secret"}));
}

#[tokio::test]
async fn a_second_pull_without_changes_imports_nothing() {
    if !git_installed() {
        return;
    }
    let remote = Remote::new();
    remote.write(
        "workflows/WfSame0000000001.json",
        &workflow_file("WfSame0000000001", "Same", Value::Null),
    );
    remote.write(
        "tags.json",
        &json!({"tags": [{"id": "TagSame000000001", "name": "same"}], "mappings": []}),
    );
    remote.push();
    let app = spawn(&remote).await;
    let local_only = app
        .create_workflow(&app.owner_key, crate::helpers::workflow_body("Only here"))
        .await;
    assert_eq!(pull(&app, json!({})).await.status, 200);

    let second = pull(&app, json!({})).await;

    assert_eq!(second.status, 200, "{}", second.text());
    assert_eq!(second.json(), json!([]));
    let workflow = app
        .get("/api/v1/workflows/WfSame0000000001")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(workflow["versionCounter"], 1);
    // What the repository lacks is not deleted here.
    let kept = app
        .get(&format!(
            "/api/v1/workflows/{}",
            local_only["id"].as_str().expect("id")
        ))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(kept.status, 200);
}

#[tokio::test]
async fn a_symbolic_link_in_the_repository_is_not_followed() {
    if !git_installed() {
        return;
    }
    let remote = Remote::new();
    std::fs::create_dir_all(remote.work.join("workflows")).expect("folder");
    std::os::unix::fs::symlink(
        "/etc/hostname",
        remote.work.join("workflows/WfLink0000000001.json"),
    )
    .expect("symlink");
    remote.push();
    let app = spawn(&remote).await;

    let response = pull(&app, json!({})).await;

    // Checked out as a plain file holding the link's target, which is no workflow.
    assert_eq!(response.status, 400, "{}", response.text());
    assert!(
        response
            .message()
            .starts_with("workflows/WfLink0000000001.json is not valid JSON"),
        "{}",
        response.message()
    );
}

#[tokio::test]
async fn a_remote_change_updates_the_workflow_with_a_new_version() {
    if !git_installed() {
        return;
    }
    let remote = Remote::new();
    remote.write(
        "workflows/WfEdit0000000001.json",
        &workflow_file("WfEdit0000000001", "Before", Value::Null),
    );
    remote.push();
    let app = spawn(&remote).await;
    assert_eq!(pull(&app, json!({})).await.status, 200);
    remote.write(
        "workflows/WfEdit0000000001.json",
        &workflow_file("WfEdit0000000001", "After", Value::Null),
    );
    remote.push();

    let response = pull(&app, json!({})).await;

    assert_eq!(response.status, 200, "{}", response.text());
    let files = response.json();
    let changed = entry(&files, "workflow", "WfEdit0000000001");
    assert_eq!(changed["status"], "modified");
    assert_eq!(changed["conflict"], false);
    assert_eq!(changed["name"], "After (Local: Before)");
    let workflow = app
        .get("/api/v1/workflows/WfEdit0000000001")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(workflow["name"], "After");
    assert_eq!(workflow["versionCounter"], 2);
    let history = app
        .get("/api/v1/workflows/WfEdit0000000001/history")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(history["data"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn changes_on_both_sides_conflict_with_409_and_force_takes_the_remote() {
    if !git_installed() {
        return;
    }
    let remote = Remote::new();
    remote.write(
        "workflows/WfBoth0000000001.json",
        &workflow_file("WfBoth0000000001", "Original", Value::Null),
    );
    remote.push();
    let app = spawn(&remote).await;
    assert_eq!(pull(&app, json!({})).await.status, 200);
    let mut local = app
        .get("/api/v1/workflows/WfBoth0000000001")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    let edit = json!({"name": "Edited here", "nodes": local["nodes"].take(), "connections": local["connections"].take(), "settings": {}});
    let edited = app
        .put("/api/v1/workflows/WfBoth0000000001")
        .key(&app.owner_key)
        .json(edit)
        .send()
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text());

    // A local edit alone is not pulled over.
    let quiet = pull(&app, json!({})).await;
    assert_eq!(quiet.json(), json!([]));

    remote.write(
        "workflows/WfBoth0000000001.json",
        &workflow_file("WfBoth0000000001", "Edited there", Value::Null),
    );
    remote.push();
    let conflict = pull(&app, json!({})).await;

    assert_eq!(conflict.status, 409, "{}", conflict.text());
    let files = conflict.json();
    assert!(files.is_array(), "{files}");
    assert_eq!(
        entry(&files, "workflow", "WfBoth0000000001")["conflict"],
        true
    );
    let after_409 = app
        .get("/api/v1/workflows/WfBoth0000000001")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(after_409["name"], "Edited here");

    let forced = pull(&app, json!({"force": true})).await;

    assert_eq!(forced.status, 200, "{}", forced.text());
    assert_eq!(
        entry(&forced.json(), "workflow", "WfBoth0000000001")["conflict"],
        true
    );
    let after_force = app
        .get("/api/v1/workflows/WfBoth0000000001")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(after_force["name"], "Edited there");
    assert_eq!(pull(&app, json!({})).await.json(), json!([]));
}

#[tokio::test]
async fn auto_publish_follows_n8ns_modes() {
    if !git_installed() {
        return;
    }
    let remote = Remote::new();
    remote.write(
        "workflows/WfPub00000000001.json",
        &workflow_file("WfPub00000000001", "Scheduled", Value::Null),
    );
    let mut manual = workflow_file("WfManual00000001", "Manual only", Value::Null);
    manual["nodes"] = json!([{"id": "m", "name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}}]);
    manual["connections"] = json!({});
    remote.write("workflows/WfManual00000001.json", &manual);
    remote.push();
    let app = spawn(&remote).await;

    let first = pull(&app, json!({"autoPublish": "all"})).await;

    assert_eq!(first.status, 200, "{}", first.text());
    let files = first.json();
    assert!(
        entry(&files, "workflow", "WfManual00000001")["publishingError"].is_string(),
        "{files}"
    );
    let published = app
        .get("/api/v1/workflows/WfPub00000000001")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(published["active"], true);
    assert_eq!(published["activeVersionId"], published["versionId"]);
    let first_version = published["versionId"].clone();

    // `none` leaves the published version as it was; the new one is a draft.
    remote.write(
        "workflows/WfPub00000000001.json",
        &workflow_file("WfPub00000000001", "Scheduled v2", Value::Null),
    );
    remote.push();
    assert_eq!(pull(&app, json!({"autoPublish": "none"})).await.status, 200);
    let drafted = app
        .get("/api/v1/workflows/WfPub00000000001")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(drafted["active"], true);
    assert_eq!(drafted["activeVersionId"], first_version);
    assert_ne!(drafted["versionId"], first_version);

    // `published` re-publishes what was published here.
    remote.write(
        "workflows/WfPub00000000001.json",
        &workflow_file("WfPub00000000001", "Scheduled v3", Value::Null),
    );
    remote.push();
    let third = pull(&app, json!({"autoPublish": "published"})).await;
    assert_eq!(
        entry(&third.json(), "workflow", "WfPub00000000001")["isLocalPublished"],
        true
    );
    let republished = app
        .get("/api/v1/workflows/WfPub00000000001")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(republished["activeVersionId"], republished["versionId"]);
    assert_eq!(
        republished["activeVersion"]["workflowPublishHistory"][0]["event"],
        "activated"
    );

    let bad = pull(&app, json!({"autoPublish": "sometimes"})).await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.message()
            .starts_with("request/body/autoPublish must be equal to one of the allowed values"),
        "{}",
        bad.message()
    );
}

#[tokio::test]
async fn a_file_that_cannot_be_imported_rolls_back_the_whole_pull() {
    if !git_installed() {
        return;
    }
    let remote = Remote::new();
    remote.write(
        "workflows/WfGood0000000001.json",
        &workflow_file("WfGood0000000001", "Good", Value::Null),
    );
    remote.write(
        "workflows/WfBad00000000001.json",
        &json!({"id": "WfBad00000000001", "name": "Bad", "nodes": "not a list", "connections": {}}),
    );
    remote.write(
        "tags.json",
        &json!({"tags": [{"id": "TagRollback00001", "name": "rollback"}], "mappings": []}),
    );
    remote.push();
    let app = spawn(&remote).await;

    let response = pull(&app, json!({})).await;

    assert_eq!(response.status, 400, "{}", response.text());
    assert!(
        response
            .message()
            .contains("workflows/WfBad00000000001.json"),
        "{}",
        response.message()
    );
    let good = app
        .get("/api/v1/workflows/WfGood0000000001")
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(good.status, 404);
    let tags = app
        .get("/api/v1/tags")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(tags["data"], json!([]));
}

#[tokio::test]
async fn existing_variable_values_and_tag_names_are_respected() {
    if !git_installed() {
        return;
    }
    let remote = Remote::new();
    remote.write(
        "variable_stubs.json",
        &json!([{"id": "VarOther00000001", "key": "TOKEN", "value": "", "type": "string"}]),
    );
    remote.push();
    let app = spawn(&remote).await;
    let created = app
        .post("/api/v1/variables")
        .key(&app.owner_key)
        .json(json!({"key": "TOKEN", "value": "keep-me"}))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());

    let response = pull(&app, json!({})).await;

    assert_eq!(response.json(), json!([]));
    let variables = app
        .get("/api/v1/variables")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(variables["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(variables["data"][0]["value"], "keep-me");

    let tag = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .json(json!({"name": "prod"}))
        .send()
        .await;
    assert_eq!(tag.status, 201);
    remote.write(
        "tags.json",
        &json!({"tags": [{"id": "TagOther00000001", "name": "prod"}], "mappings": []}),
    );
    remote.push();
    pull(&app, json!({})).await.assert_error(
        400,
        "A tag with the name <strong>prod</strong> already exists locally.<br />Please either rename the local tag, or the remote one with the id <strong>TagOther00000001</strong> in the tags.json file.",
    );
}

#[tokio::test]
async fn an_unreachable_repository_or_branch_answers_400_with_a_message() {
    if !git_installed() {
        return;
    }
    let remote = Remote::new();
    remote.write_raw("README.md", "# n8n Source Control\n");
    remote.push();
    let url = remote.url();
    let app = TestApp::spawn_with(move |c| {
        c.source_control_repository_url = Some(url);
        c.source_control_branch = "does-not-exist".to_owned();
    })
    .await;

    let response = pull(&app, json!({})).await;

    assert_eq!(response.status, 400, "{}", response.text());
    assert!(
        response
            .message()
            .starts_with("Unable to fetch branch \"does-not-exist\" from the repository"),
        "{}",
        response.message()
    );

    let missing = TestApp::spawn_with(|c| {
        c.source_control_repository_url = Some("/nonexistent/repository.git".to_owned())
    })
    .await;
    let response = pull(&missing, json!({})).await;
    assert_eq!(response.status, 400);
    assert!(
        response.message().contains("does not exist"),
        "{}",
        response.message()
    );
}
