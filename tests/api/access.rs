//! Access is per project, not only per key: two projects, several users, route by route.
//!
//! Fixture: team project "Shared" with alice (editor) and carol (viewer); bob belongs to no
//! team project. Every member key holds every scope a member may have.

use serde_json::{json, Value};

use crate::helpers::{workflow_body, TestApp, TestUser};

struct World {
    app: TestApp,
    shared: String,
    alice: TestUser,
    alice_key: String,
    bob: TestUser,
    bob_key: String,
    carol_key: String,
    /// A workflow in "Shared".
    workflow: String,
    /// A workflow in bob's personal project.
    bobs_workflow: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let shared = app.create_project("Shared").await;
    let alice = app.add_user("alice@example.com", "global:member").await;
    let bob = app.add_user("bob@example.com", "global:member").await;
    let carol = app.add_user("carol@example.com", "global:member").await;
    app.add_member(&shared, &alice, "project:editor").await;
    app.add_member(&shared, &carol, "project:viewer").await;
    let alice_key = app.full_key(&alice).await;
    let bob_key = app.full_key(&bob).await;
    let carol_key = app.full_key(&carol).await;
    let mut body = workflow_body("shared work");
    body["projectId"] = json!(shared);
    let workflow = app.create_workflow(&alice_key, body).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let bobs_workflow = app
        .create_workflow(&bob_key, workflow_body("bob's own"))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    World {
        app,
        shared,
        alice,
        alice_key,
        bob,
        bob_key,
        carol_key,
        workflow,
        bobs_workflow,
    }
}

fn names(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|w| w["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn members_see_only_their_projects_workflows() {
    let w = world().await;
    let list = |key: &str, q: &str| w.app.get(&format!("/api/v1/workflows{q}")).key(key).send();

    assert_eq!(
        names(&list(&w.alice_key, "").await.json()),
        vec!["shared work"]
    );
    assert_eq!(names(&list(&w.bob_key, "").await.json()), vec!["bob's own"]);
    assert_eq!(
        names(&list(&w.carol_key, "").await.json()),
        vec!["shared work"]
    );
    assert_eq!(
        names(&list(&w.app.owner_key, "").await.json()),
        vec!["bob's own", "shared work"]
    );
    // A foreign project in the filter lists nothing (and says nothing about the project).
    assert_eq!(
        names(
            &list(&w.bob_key, &format!("?projectId={}", w.shared))
                .await
                .json()
        ),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_foreign_workflow_is_answered_as_missing_on_every_route() {
    let w = world().await;
    let app = &w.app;
    let wid = &w.workflow;
    let missing = format!("Workflow with ID \"{wid}\" not found.");
    let key = &w.bob_key;

    app.get(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .send()
        .await
        .assert_error(404, &missing);
    app.put(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .json(workflow_body("hijack"))
        .send()
        .await
        .assert_error(404, &missing);
    app.delete(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .send()
        .await
        .assert_error(404, &missing);
    app.post(&format!("/api/v1/workflows/{wid}/archive"))
        .key(key)
        .send()
        .await
        .assert_error(404, &missing);
    app.post(&format!("/api/v1/workflows/{wid}/publish"))
        .key(key)
        .send()
        .await
        .assert_error(404, &missing);
    app.get(&format!("/api/v1/workflows/{wid}/history"))
        .key(key)
        .send()
        .await
        .assert_error(404, &missing);
    app.get(&format!("/api/v1/workflows/{wid}/tags"))
        .key(key)
        .send()
        .await
        .assert_error(404, &missing);
    app.put(&format!("/api/v1/workflows/{wid}/transfer"))
        .key(key)
        .json(json!({ "destinationProjectId": "x" }))
        .send()
        .await
        .assert_error(404, &missing);
    // The same answer as for an id that does not exist at all.
    app.get("/api/v1/workflows/AAAAAAAAAAAAAAAA")
        .key(key)
        .send()
        .await
        .assert_error(404, "Workflow with ID \"AAAAAAAAAAAAAAAA\" not found.");

    let still = app
        .get(&format!("/api/v1/workflows/{wid}"))
        .key(&w.app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(still["name"], "shared work");
    assert_eq!(still["isArchived"], false);
}

#[tokio::test]
async fn viewers_read_but_do_not_write() {
    let w = world().await;
    let app = &w.app;
    let wid = &w.workflow;

    assert_eq!(
        app.get(&format!("/api/v1/workflows/{wid}"))
            .key(&w.carol_key)
            .send()
            .await
            .status,
        200
    );
    app.put(&format!("/api/v1/workflows/{wid}"))
        .key(&w.carol_key)
        .json(workflow_body("x"))
        .send()
        .await
        .assert_error(403, "Forbidden");
    app.delete(&format!("/api/v1/workflows/{wid}"))
        .key(&w.carol_key)
        .send()
        .await
        .assert_error(403, "Forbidden");
    let mut body = workflow_body("viewer's");
    body["projectId"] = json!(w.shared);
    app.post("/api/v1/workflows")
        .key(&w.carol_key)
        .json(body)
        .send()
        .await
        .assert_error(403, "Forbidden");
    assert_eq!(
        app.put(&format!("/api/v1/workflows/{wid}"))
            .key(&w.alice_key)
            .json(workflow_body("edited"))
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn nobody_creates_or_moves_into_a_project_they_cannot_write() {
    let w = world().await;
    let app = &w.app;
    let mut body = workflow_body("sneaky");
    body["projectId"] = json!(w.shared);

    app.post("/api/v1/workflows")
        .key(&w.bob_key)
        .json(body)
        .send()
        .await
        .assert_error(404, &format!("Project with ID \"{}\" not found", w.shared));
    let moved = app
        .put(&format!("/api/v1/workflows/{}/transfer", w.bobs_workflow))
        .key(&w.bob_key)
        .json(json!({ "destinationProjectId": w.shared }))
        .send()
        .await;
    assert_eq!(moved.status, 400);
    let still = app
        .get(&format!("/api/v1/workflows/{}", w.bobs_workflow))
        .key(&w.bob_key)
        .send()
        .await
        .json();
    assert_ne!(
        still["shared"][0]["projectId"],
        json!(w.shared),
        "nothing moved"
    );

    // Editors may not move workflows out of a team project; project admins may.
    let out = app
        .put(&format!("/api/v1/workflows/{}/transfer", w.workflow))
        .key(&w.alice_key)
        .json(json!({ "destinationProjectId": w.shared }))
        .send()
        .await;
    out.assert_error(403, "Forbidden");
}

#[tokio::test]
async fn leaving_a_project_takes_effect_on_the_next_request() {
    let w = world().await;
    let app = &w.app;
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{}", w.workflow))
            .key(&w.alice_key)
            .send()
            .await
            .status,
        200
    );

    let removed = app
        .delete(&format!(
            "/api/v1/projects/{}/users/{}",
            w.shared, w.alice.id
        ))
        .key(&app.owner_key)
        .send()
        .await;

    assert_eq!(removed.status, 204);
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{}", w.workflow))
            .key(&w.alice_key)
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        names(
            &app.get("/api/v1/workflows")
                .key(&w.alice_key)
                .send()
                .await
                .json()
        ),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn folders_and_members_of_a_foreign_project_are_hidden() {
    let w = world().await;
    let app = &w.app;
    let folder = app
        .post(&format!("/api/v1/projects/{}/folders", w.shared))
        .key(&w.alice_key)
        .json(json!({ "name": "Reports" }))
        .send()
        .await;
    assert_eq!(folder.status, 201, "{}", folder.text());
    let missing = format!("Project with ID \"{}\" not found", w.shared);

    app.get(&format!("/api/v1/projects/{}/folders", w.shared))
        .key(&w.bob_key)
        .send()
        .await
        .assert_error(404, &missing);
    app.post(&format!("/api/v1/projects/{}/folders", w.shared))
        .key(&w.bob_key)
        .json(json!({ "name": "x" }))
        .send()
        .await
        .assert_error(404, &missing);
    app.post(&format!("/api/v1/projects/{}/folders", w.shared))
        .key(&w.carol_key)
        .json(json!({ "name": "x" }))
        .send()
        .await
        .assert_error(403, "Forbidden");
    assert_eq!(
        app.get(&format!("/api/v1/projects/{}/folders", w.shared))
            .key(&w.carol_key)
            .send()
            .await
            .json()["count"],
        1
    );

    let members = app
        .get(&format!("/api/v1/projects/{}/users", w.shared))
        .key(&w.alice_key)
        .send()
        .await;
    assert_eq!(members.status, 200);
    assert_eq!(
        members.json()["data"].as_array().expect("data").len(),
        3,
        "the owner (creator), alice and carol"
    );
    app.get(&format!("/api/v1/projects/{}/users", w.shared))
        .key(&w.bob_key)
        .send()
        .await
        .assert_error(
            404,
            &format!("Could not find project with ID \"{}\"", w.shared),
        );
    assert_eq!(
        app.get(&format!("/api/v1/users?projectId={}", w.shared))
            .key(&w.bob_key)
            .send()
            .await
            .json()["data"],
        json!([])
    );
    assert_eq!(w.bob.email, "bob@example.com");
}
