//! Variables: global and project variables with n8n's key rules.

use serde_json::{json, Value};

use crate::helpers::TestApp;

fn keys(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|v| v["key"].as_str().expect("key").to_owned())
        .collect()
}

#[tokio::test]
async fn variables_are_created_listed_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let project = app.create_project("P").await;

    let created = app
        .post("/api/v1/variables")
        .key(key)
        .json(json!({ "key": "API_URL", "value": "https://example.com" }))
        .send()
        .await;
    assert_eq!(created.status, 201);
    // n8n's 201 is empty; ours carries the created variable (a documented superset).
    let body = created.json();
    assert_eq!(body["key"], "API_URL");
    assert_eq!(body["value"], "https://example.com");
    assert_eq!(body["type"], "string");
    assert!(body["project"].is_null());
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    app.post("/api/v1/variables")
        .key(key)
        .json(json!({ "key": "EMPTY", "value": "" }))
        .send()
        .await;
    let in_project = app
        .post("/api/v1/variables")
        .key(key)
        .json(json!({ "key": "API_URL", "value": "project one", "projectId": project }))
        .send()
        .await
        .json();
    assert_eq!(in_project["project"]["id"], project.as_str());

    let all = app.get("/api/v1/variables").key(key).send().await.json();
    assert_eq!(keys(&all), vec!["API_URL", "API_URL", "EMPTY"]);
    let global = app
        .get("/api/v1/variables?projectId=null")
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(keys(&global), vec!["API_URL", "EMPTY"]);
    assert_eq!(global["data"][0]["project"], Value::Null);
    assert_eq!(global["data"][0]["type"], "string");
    let scoped = app
        .get(&format!("/api/v1/variables?projectId={project}"))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(scoped["data"][0]["project"]["name"], "P");
    assert_eq!(
        keys(
            &app.get("/api/v1/variables?state=empty")
                .key(key)
                .send()
                .await
                .json()
        ),
        vec!["EMPTY"]
    );

    let id = all["data"][2]["id"].as_str().expect("id").to_owned();
    let updated = app
        .put(&format!("/api/v1/variables/{id}"))
        .key(key)
        .json(json!({ "key": "1_NOW_OK", "value": "filled" }))
        .send()
        .await;
    assert_eq!(updated.status, 204);
    assert_eq!(
        app.delete(&format!("/api/v1/variables/{id}"))
            .key(key)
            .send()
            .await
            .status,
        204
    );
    app.delete(&format!("/api/v1/variables/{id}"))
        .key(key)
        .send()
        .await
        .assert_error(404, "Variable not found");
}

#[tokio::test]
async fn variable_keys_and_values_follow_n8ns_rules() {
    let app = TestApp::spawn().await;
    let create = |body: Value| {
        app.post("/api/v1/variables")
            .key(&app.owner_key)
            .json(body)
            .send()
    };

    create(json!({ "key": "1STARTS_WITH_DIGIT", "value": "x" }))
        .await
        .assert_error(
            400,
            "request/body/key must match pattern \"^[A-Za-z_][A-Za-z0-9_]*$\"",
        );
    create(json!({ "key": "has-dash", "value": "x" }))
        .await
        .assert_error(
            400,
            "request/body/key must match pattern \"^[A-Za-z_][A-Za-z0-9_]*$\"",
        );
    create(json!({ "key": "K".repeat(51), "value": "x" }))
        .await
        .assert_error(400, "request/body/key must be 1 to 50 characters long");
    create(json!({ "key": "LONG", "value": "v".repeat(1001) }))
        .await
        .assert_error(
            400,
            "request/body/value must NOT have more than 1000 characters",
        );
    create(json!({ "key": "X" }))
        .await
        .assert_error(400, "request/body must have required property 'value'");
    assert_eq!(
        create(json!({ "key": "DUP", "value": "1" })).await.status,
        201
    );
    create(json!({ "key": "DUP", "value": "2" }))
        .await
        .assert_error(400, "Variable with key \"DUP\" already exists");
    create(json!({ "key": "P", "value": "1", "projectId": "AAAAAAAAAAAAAAAA" }))
        .await
        .assert_error(404, "Project with ID \"AAAAAAAAAAAAAAAA\" not found");
}

#[tokio::test]
async fn members_see_global_variables_and_their_projects_only() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let theirs = app.create_project("Theirs").await;
    let mine = app.create_project("Mine").await;
    let member = app.add_user("m@example.com", "global:member").await;
    app.add_member(&mine, &member, "project:viewer").await;
    for (k, p) in [
        ("GLOBAL", None),
        ("MINE", Some(&mine)),
        ("THEIRS", Some(&theirs)),
    ] {
        app.post("/api/v1/variables")
            .key(key)
            .json(json!({ "key": k, "value": "v", "projectId": p }))
            .send()
            .await;
    }
    let member_key = app.key_with(&member, &["variable:list"]).await;

    assert_eq!(
        keys(
            &app.get("/api/v1/variables")
                .key(&member_key)
                .send()
                .await
                .json()
        ),
        vec!["GLOBAL", "MINE"]
    );
    assert_eq!(
        keys(
            &app.get(&format!("/api/v1/variables?projectId={theirs}"))
                .key(&member_key)
                .send()
                .await
                .json()
        ),
        Vec::<String>::new()
    );
}
