//! Team projects and their members.

use serde_json::{json, Value};

use crate::helpers::{workflow_body, TestApp};

#[tokio::test]
async fn a_project_is_created_renamed_listed_and_deleted_with_its_workflows() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;

    let created = app
        .post("/api/v1/projects")
        .key(key)
        .json(json!({ "name": "Marketing" }))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let project = created.json();
    let id = project["id"].as_str().expect("id").to_owned();
    assert_eq!(project["type"], "team");
    assert_eq!(project["role"], "project:admin");
    assert!(project["scopes"]
        .as_array()
        .expect("scopes")
        .contains(&json!("workflow:create")));

    let renamed = app
        .put(&format!("/api/v1/projects/{id}"))
        .key(key)
        .json(json!({ "name": "Growth" }))
        .send()
        .await;
    assert_eq!(renamed.status, 204);
    let list = app.get("/api/v1/projects").key(key).send().await.json();
    let names: Vec<&str> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert!(names.contains(&"Growth"));
    assert!(
        names.iter().any(|n| n.starts_with("Olive Owner")),
        "personal projects are listed too: {names:?}"
    );

    let mut body = workflow_body("campaign");
    body["projectId"] = json!(id);
    let wf = app.create_workflow(key, body).await;
    let deleted = app
        .delete(&format!("/api/v1/projects/{id}"))
        .key(key)
        .send()
        .await;
    assert_eq!(deleted.status, 204);
    app.get(&format!(
        "/api/v1/workflows/{}",
        wf["id"].as_str().expect("id")
    ))
    .key(key)
    .send()
    .await
    .assert_error(404, "Not Found");
    app.delete(&format!("/api/v1/projects/{id}"))
        .key(key)
        .send()
        .await
        .assert_error(404, &format!("Could not find project with ID \"{id}\""));
}

#[tokio::test]
async fn project_names_are_validated_and_personal_projects_protected() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let personal = app.create_workflow(key, workflow_body("w")).await["shared"][0]["projectId"]
        .as_str()
        .expect("id")
        .to_owned();

    app.post("/api/v1/projects")
        .key(key)
        .json(json!({ "name": "" }))
        .send()
        .await
        .assert_error(
            400,
            "request/body/name must NOT have fewer than 1 characters",
        );
    app.post("/api/v1/projects")
        .key(key)
        .json(json!({ "name": "x".repeat(256) }))
        .send()
        .await
        .assert_error(
            400,
            "request/body/name must NOT have more than 255 characters",
        );
    assert_eq!(
        app.delete(&format!("/api/v1/projects/{personal}"))
            .key(key)
            .send()
            .await
            .status,
        400
    );
    assert_eq!(
        app.put(&format!("/api/v1/projects/{personal}"))
            .key(key)
            .json(json!({ "name": "mine" }))
            .send()
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn members_are_added_changed_and_removed() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let project = app.create_project("Team").await;
    let user = app.add_user("u@example.com", "global:member").await;
    let members = || {
        app.get(&format!("/api/v1/projects/{project}/users"))
            .key(key)
            .send()
    };
    let role_of = |body: &Value, id: &str| {
        body["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|m| m["id"] == id)
            .map(|m| m["role"].clone())
    };

    let bad_role = app
        .post(&format!("/api/v1/projects/{project}/users"))
        .key(key)
        .json(json!({ "relations": [{ "userId": user.id, "role": "project:owner" }] }))
        .send()
        .await;
    assert_eq!(bad_role.status, 400);
    let empty = app
        .post(&format!("/api/v1/projects/{project}/users"))
        .key(key)
        .json(json!({ "relations": [] }))
        .send()
        .await;
    empty.assert_error(
        400,
        "request/body/relations must NOT have fewer than 1 items",
    );
    let unknown = app.post(&format!("/api/v1/projects/{project}/users")).key(key).json(json!({ "relations": [{ "userId": "00000000-0000-4000-8000-000000000000", "role": "project:viewer" }] })).send().await;
    assert_eq!(unknown.status, 404);

    app.add_member(&project, &user, "project:viewer").await;
    assert_eq!(
        role_of(&members().await.json(), &user.id),
        Some(json!("project:viewer"))
    );
    let changed = app
        .patch(&format!("/api/v1/projects/{project}/users/{}", user.id))
        .key(key)
        .json(json!({ "role": "project:editor" }))
        .send()
        .await;
    assert_eq!(changed.status, 204);
    assert_eq!(
        role_of(&members().await.json(), &user.id),
        Some(json!("project:editor"))
    );
    let removed = app
        .delete(&format!("/api/v1/projects/{project}/users/{}", user.id))
        .key(key)
        .send()
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(role_of(&members().await.json(), &user.id), None);
    assert_eq!(
        app.delete(&format!("/api/v1/projects/{project}/users/{}", user.id))
            .key(key)
            .send()
            .await
            .status,
        404
    );
}
