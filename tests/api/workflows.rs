use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{publishable_body, workflow_body, TestApp};

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn creating_a_workflow_ignores_read_only_fields_and_fills_in_defaults() {
    let app = TestApp::spawn().await;
    let mut body = workflow_body("Inbox triage");
    body["id"] = json!("chosen-by-client");
    body["active"] = json!(true);
    body["tags"] = json!([{ "id": "x" }]);
    body["versionId"] = json!("v");

    let response = app
        .post("/api/v1/workflows")
        .key(&app.owner_key)
        .json(body)
        .send()
        .await;

    assert_eq!(response.status, 200, "{}", response.text());
    let workflow = response.json();
    assert_eq!(id(&workflow).len(), 16);
    assert_eq!(workflow["name"], "Inbox triage");
    assert_eq!(workflow["active"], false);
    assert_eq!(workflow["isArchived"], false);
    assert_eq!(workflow["versionCounter"], 1);
    assert_eq!(workflow["triggerCount"], 0);
    assert_eq!(workflow["staticData"], Value::Null);
    assert_eq!(workflow["activeVersion"], Value::Null);
    assert_eq!(workflow["parentFolder"], Value::Null);
    assert_eq!(workflow["tags"], json!([]));
    assert_eq!(
        workflow["settings"],
        json!({ "callerPolicy": "workflowsFromSameOwner", "availableInMCP": false })
    );
    assert!(
        workflow["nodes"][0]["id"]
            .as_str()
            .is_some_and(|i| i.len() == 36),
        "a node id is generated"
    );
    assert_eq!(workflow["nodes"][0]["typeVersion"], 1);
    assert_eq!(workflow["shared"][0]["role"], "workflow:owner");
    assert_eq!(workflow["shared"][0]["project"]["type"], "personal");
    assert_eq!(workflow["versionId"].as_str().map(str::len), Some(36));
}

#[tokio::test]
async fn workflow_bodies_are_validated_with_n8ns_messages() {
    let app = TestApp::spawn().await;
    let post = |body: Value| {
        app.post("/api/v1/workflows")
            .key(&app.owner_key)
            .json(body)
            .send()
    };

    post(json!({ "name": "w", "nodes": [], "connections": {} }))
        .await
        .assert_error(400, "request/body must have required property 'settings'");
    post(json!({ "name": "w", "nodes": [{ "foo": 1 }], "connections": {}, "settings": {} }))
        .await
        .assert_error(
            400,
            "request/body/nodes/0 must NOT have additional properties",
        );
    post(json!({ "name": "w", "nodes": [], "connections": [], "settings": {} }))
        .await
        .assert_error(400, "request/body/connections must be object");
    post(json!({ "name": "w", "nodes": [], "connections": {}, "settings": { "callerPolicy": "everyone" } })).await
        .assert_error(400, "request/body/settings/callerPolicy must be equal to one of the allowed values");
    post(json!([1, 2]))
        .await
        .assert_error(400, "request/body must be object");

    let list = app
        .get("/api/v1/workflows")
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(list.json()["data"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn a_workflow_can_be_read_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let created = app.create_workflow(key, workflow_body("v1")).await;
    let wid = id(&created);
    let mut pinned = workflow_body("v1");
    pinned["pinData"] = json!({ "Start": [{ "json": { "a": 1 } }] });

    let updated = app
        .put(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .json(pinned)
        .send()
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["versionCounter"], 2);
    assert_ne!(updated.json()["versionId"], created["versionId"]);

    let read = app
        .get(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(read["pinData"]["Start"][0]["json"]["a"], 1);
    let without_pins = app
        .get(&format!("/api/v1/workflows/{wid}?excludePinnedData=true"))
        .key(key)
        .send()
        .await
        .json();
    assert!(without_pins.get("pinData").is_none());

    let missing_settings = app
        .put(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .json(json!({ "name": "only name" }))
        .send()
        .await;
    missing_settings.assert_error(400, "request/body must have required property 'nodes'");

    let deleted = app
        .delete(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .send()
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["id"], wid.as_str());
    assert_eq!(deleted.json()["shared"][0]["workflowId"], wid.as_str());
    app.get(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .send()
        .await
        .assert_error(404, "Not Found");
    app.delete(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .send()
        .await
        .assert_error(404, "Not Found");
}

#[tokio::test]
async fn the_list_filters_by_name_active_tags_and_project() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let alpha = app
        .create_workflow(key, publishable_body("Alpha report"))
        .await;
    let beta = app.create_workflow(key, workflow_body("Beta sync")).await;
    let project = app.create_project("Ops").await;
    let mut in_project = workflow_body("Gamma ops");
    in_project["projectId"] = json!(project);
    let gamma = app.create_workflow(key, in_project).await;
    app.post(&format!("/api/v1/workflows/{}/publish", id(&alpha)))
        .key(key)
        .send()
        .await;
    let tag = app
        .post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "finance" }))
        .send()
        .await
        .json();
    app.put(&format!("/api/v1/workflows/{}/tags", id(&beta)))
        .key(key)
        .json(json!([{ "id": id(&tag) }]))
        .send()
        .await;
    let names = |q: &str| {
        let request = app.get(&format!("/api/v1/workflows?{q}")).key(key);
        async move {
            let body = request.send().await.json();
            let mut names: Vec<String> = body["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|w| w["name"].as_str().expect("name").to_owned())
                .collect();
            names.sort();
            names
        }
    };

    assert_eq!(
        names("").await,
        vec!["Alpha report", "Beta sync", "Gamma ops"]
    );
    assert_eq!(names("name=REPORT").await, vec!["Alpha report"]);
    assert_eq!(names("active=true").await, vec!["Alpha report"]);
    assert_eq!(names("active=false").await, vec!["Beta sync", "Gamma ops"]);
    assert_eq!(names("tags=finance,unknown").await, vec!["Beta sync"]);
    assert_eq!(
        names(&format!("projectId={project}")).await,
        vec!["Gamma ops"]
    );
    assert_eq!(id(&gamma).len(), 16);
    app.get("/api/v1/workflows?active=maybe")
        .key(key)
        .send()
        .await
        .assert_error(400, "request/query/active must be boolean");
    app.get("/api/v1/workflows?offset=-1")
        .key(key)
        .send()
        .await
        .assert_error(400, "request/query/offset must be >= 0");
    let listed = app
        .get("/api/v1/workflows?name=Beta")
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(listed["data"][0]["tags"][0]["name"], "finance");
    assert!(
        listed["data"][0]["shared"][0].get("project").is_none(),
        "list items carry shared[] without the project"
    );
}

#[tokio::test]
async fn following_next_cursor_walks_1003_workflows_exactly_once() {
    let app = TestApp::spawn().await;
    let created = crate::fixtures::bulk_workflows(&app, 1003).await;

    let mut seen = Vec::new();
    let mut path = "/api/v1/workflows?limit=100&excludePinnedData=true".to_owned();
    loop {
        let page = app.get(&path).key(&app.owner_key).send().await;
        assert_eq!(page.status, 200, "{}", page.text());
        let body = page.json();
        seen.extend(body["data"].as_array().expect("data").iter().map(id));
        match body["nextCursor"].as_str() {
            Some(cursor) => {
                path = format!(
                    "/api/v1/workflows?cursor={}",
                    cursor
                        .replace('+', "%2B")
                        .replace('/', "%2F")
                        .replace('=', "%3D")
                )
            }
            None => break,
        }
    }

    assert_eq!(seen.len(), 1003);
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), created);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(
        seen, sorted,
        "workflows are listed in id order, as n8n lists them"
    );
    // An n8n-style offset cursor still works: {"limit":100,"offset":1000}.
    let tail = app
        .get("/api/v1/workflows?cursor=eyJsaW1pdCI6MTAwLCJvZmZzZXQiOjEwMDB9")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(tail["data"].as_array().expect("data").len(), 3);
    assert_eq!(tail["nextCursor"], Value::Null);
}

#[tokio::test]
async fn a_list_item_shows_the_tags_and_published_version_the_workflow_read_shows() {
    // Arrange: a published workflow with two tags and a plain one without any.
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let published = app
        .create_workflow(key, publishable_body("Listed one"))
        .await;
    let plain = app.create_workflow(key, workflow_body("Listed two")).await;
    let mut tag_ids = Vec::new();
    for name in ["zeta", "alpha"] {
        let tag = app
            .post("/api/v1/tags")
            .key(key)
            .json(json!({ "name": name }))
            .send()
            .await
            .json();
        tag_ids.push(json!({ "id": id(&tag) }));
    }
    app.put(&format!("/api/v1/workflows/{}/tags", id(&published)))
        .key(key)
        .json(Value::Array(tag_ids))
        .send()
        .await;
    let publish = app
        .post(&format!("/api/v1/workflows/{}/publish", id(&published)))
        .key(key)
        .json(json!({ "name": "Release", "description": "it's \"quoted\"" }))
        .send()
        .await;
    assert_eq!(publish.status, 200, "{}", publish.text());

    // Act
    let listed = app
        .get("/api/v1/workflows?name=Listed")
        .key(key)
        .send()
        .await
        .json();
    let read = app
        .get(&format!("/api/v1/workflows/{}", id(&published)))
        .key(key)
        .send()
        .await
        .json();

    // Assert
    let data = listed["data"].as_array().expect("data");
    let item = |wid: &str| {
        data.iter()
            .find(|w| w["id"] == wid)
            .expect("listed")
            .clone()
    };
    let one = item(&id(&published));
    assert_eq!(one["tags"], read["tags"]);
    assert_eq!(one["tags"].as_array().map(Vec::len), Some(2));
    let mut version = read["activeVersion"].clone();
    version
        .as_object_mut()
        .expect("a published version")
        .remove("workflowPublishHistory");
    let mut listed_version = one["activeVersion"].clone();
    if let Some(v) = listed_version.as_object_mut() {
        v.remove("workflowPublishHistory");
    }
    assert_eq!(listed_version, version);
    assert_eq!(one["activeVersion"]["name"], "Release");
    let two = item(&id(&plain));
    assert_eq!(two["tags"], json!([]));
    assert_eq!(two["activeVersion"], Value::Null);
}

#[tokio::test]
async fn publishing_needs_a_trigger_and_records_history() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let manual = app.create_workflow(key, workflow_body("manual")).await;
    let scheduled = app
        .create_workflow(key, publishable_body("scheduled"))
        .await;
    let sid = id(&scheduled);

    app.post(&format!("/api/v1/workflows/{}/publish", id(&manual))).key(key).send().await.assert_error(
        400,
        "Workflow cannot be activated because it has no trigger node. At least one trigger, webhook, or polling node is required.",
    );
    let published = app
        .post(&format!("/api/v1/workflows/{sid}/publish"))
        .key(key)
        .json(json!({ "name": "First release" }))
        .send()
        .await;

    assert_eq!(published.status, 200, "{}", published.text());
    let body = published.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["triggerCount"], 1);
    assert_eq!(body["activeVersionId"], scheduled["versionId"]);
    assert_eq!(body["activeVersion"]["name"], "First release");
    assert_eq!(
        body["activeVersion"]["workflowPublishHistory"][0]["event"],
        "activated"
    );
    assert!(published.header("deprecation").is_none());

    let unpublished = app
        .post(&format!("/api/v1/workflows/{sid}/deactivate"))
        .key(key)
        .send()
        .await;
    assert_eq!(unpublished.header("deprecation"), Some("@1784764800"));
    assert_eq!(unpublished.json()["active"], false);
    assert_eq!(unpublished.json()["activeVersionId"], Value::Null);
    let activated = app
        .post(&format!("/api/v1/workflows/{sid}/activate"))
        .key(key)
        .send()
        .await;
    assert_eq!(activated.header("deprecation"), Some("@1784764800"));
    assert_eq!(activated.json()["active"], true);

    let archived = app
        .post(&format!("/api/v1/workflows/{sid}/archive"))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(archived["isArchived"], true);
    assert_eq!(archived["active"], false, "archiving unpublishes");
    app.post(&format!("/api/v1/workflows/{sid}/publish"))
        .key(key)
        .send()
        .await
        .assert_error(400, "Cannot publish an archived workflow.");
    assert_eq!(
        app.post(&format!("/api/v1/workflows/{sid}/archive"))
            .key(key)
            .send()
            .await
            .status,
        200,
        "archive is idempotent"
    );
    assert_eq!(
        app.post(&format!("/api/v1/workflows/{sid}/unarchive"))
            .key(key)
            .send()
            .await
            .json()["isArchived"],
        false
    );
    app.post(&format!("/api/v1/workflows/{sid}/unarchive"))
        .key(key)
        .send()
        .await
        .assert_error(400, "Workflow is not archived");
    app.post("/api/v1/workflows/AAAAAAAAAAAAAAAA/archive")
        .key(key)
        .send()
        .await
        .assert_error(404, "Workflow not found");
}

#[tokio::test]
async fn updating_a_published_workflow_republishes_it_unless_told_not_to() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let wf = app.create_workflow(key, publishable_body("live")).await;
    let wid = id(&wf);
    app.post(&format!("/api/v1/workflows/{wid}/publish"))
        .key(key)
        .send()
        .await;

    let republished = app
        .put(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .json(publishable_body("live v2"))
        .send()
        .await
        .json();
    assert_eq!(republished["activeVersionId"], republished["versionId"]);

    let draft = app
        .put(&format!("/api/v1/workflows/{wid}?publishIfActive=false"))
        .key(key)
        .json(publishable_body("live v3"))
        .send()
        .await
        .json();
    assert_ne!(draft["activeVersionId"], draft["versionId"]);
    assert_eq!(draft["activeVersionId"], republished["versionId"]);

    let no_activate = app
        .key_with(&app.owner, &["workflow:update", "workflow:read"])
        .await;
    let refused = app
        .put(&format!("/api/v1/workflows/{wid}"))
        .key(&no_activate)
        .json(publishable_body("live v4"))
        .send()
        .await;
    assert_eq!(refused.status, 403);
    let body = refused.json();
    assert_eq!(body["reason"], "insufficient_api_key_scope");
    let saved = app
        .get(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(
        saved["name"], "live v4",
        "the draft is saved even though publishing was refused"
    );
    assert_eq!(body["versionId"], saved["versionId"]);
    assert_eq!(saved["activeVersionId"], republished["versionId"]);
}

#[tokio::test]
async fn every_save_is_a_version_in_the_history() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let wf = app.create_workflow(key, workflow_body("v1")).await;
    let wid = id(&wf);
    for name in ["v2", "v3"] {
        app.put(&format!("/api/v1/workflows/{wid}"))
            .key(key)
            .json(workflow_body(name))
            .send()
            .await;
    }

    let history = app
        .get(&format!("/api/v1/workflows/{wid}/history?limit=2"))
        .key(key)
        .send()
        .await
        .json();
    let versions = history["data"].as_array().expect("data");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["authors"], "Olive Owner");
    assert!(versions[0].get("nodes").is_none());
    let rest = app
        .get(&format!(
            "/api/v1/workflows/{wid}/history?cursor={}",
            history["nextCursor"]
                .as_str()
                .expect("cursor")
                .replace('=', "%3D")
        ))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(rest["data"].as_array().expect("data").len(), 1);
    assert_eq!(
        rest["data"][0]["versionId"], wf["versionId"],
        "the oldest version comes last"
    );
    assert_eq!(rest["nextCursor"], Value::Null);

    let first = app
        .get(&format!(
            "/api/v1/workflows/{wid}/versions/{}",
            wf["versionId"].as_str().expect("v")
        ))
        .key(key)
        .send()
        .await;
    assert_eq!(first.json()["nodes"][0]["name"], "Start");
    let deprecated = app
        .get(&format!(
            "/api/v1/workflows/{wid}/{}",
            wf["versionId"].as_str().expect("v")
        ))
        .key(key)
        .send()
        .await;
    assert_eq!(deprecated.status, 200);
    assert_eq!(deprecated.header("deprecation"), Some("@1787702400"));
    app.get(&format!("/api/v1/workflows/{wid}/versions/nope"))
        .key(key)
        .send()
        .await
        .assert_error(404, "Version not found");
    app.get("/api/v1/workflows/AAAAAAAAAAAAAAAA/history")
        .key(key)
        .send()
        .await
        .assert_error(404, "Workflow not found");
}

#[tokio::test]
async fn concurrent_updates_never_lose_a_version() {
    let app = TestApp::spawn().await;
    let wf = app
        .create_workflow(&app.owner_key, workflow_body("busy"))
        .await;
    let wid = id(&wf);

    let updates = (0..20).map(|i| {
        let request = app
            .put(&format!("/api/v1/workflows/{wid}"))
            .key(&app.owner_key)
            .json(workflow_body(&format!("edit {i}")));
        async move { request.send().await.status.as_u16() }
    });
    let statuses = futures::future::join_all(updates).await;

    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let current = app
        .get(&format!("/api/v1/workflows/{wid}"))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(current["versionCounter"], 21);
    let history = app
        .get(&format!("/api/v1/workflows/{wid}/history?limit=250"))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(history["data"].as_array().expect("data").len(), 21);
}

#[tokio::test]
async fn workflow_tags_are_replaced_as_a_bare_array() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let wf = app.create_workflow(key, workflow_body("tagged")).await;
    let wid = id(&wf);
    let a = app
        .post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "a" }))
        .send()
        .await
        .json();
    // Creation times have millisecond precision: a pause keeps the two apart.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let b = app
        .post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "b" }))
        .send()
        .await
        .json();

    let set = app
        .put(&format!("/api/v1/workflows/{wid}/tags"))
        .key(key)
        .json(json!([{ "id": id(&b) }, { "id": id(&a) }]))
        .send()
        .await;
    assert_eq!(set.status, 200);
    assert_eq!(
        set.json()
            .as_array()
            .expect("array")
            .iter()
            .map(|t| t["name"].clone())
            .collect::<Vec<_>>(),
        vec![json!("a"), json!("b")]
    );
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{wid}/tags"))
            .key(key)
            .send()
            .await
            .json()
            .as_array()
            .expect("array")
            .len(),
        2
    );

    app.put(&format!("/api/v1/workflows/{wid}/tags"))
        .key(key)
        .json(json!([{ "id": "nope" }]))
        .send()
        .await
        .assert_error(404, "Some tags not found");
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{wid}/tags"))
            .key(key)
            .send()
            .await
            .json()
            .as_array()
            .expect("array")
            .len(),
        2,
        "a failed replace changes nothing"
    );
    let cleared = app
        .put(&format!("/api/v1/workflows/{wid}/tags"))
        .key(key)
        .json(json!([]))
        .send()
        .await;
    assert_eq!(cleared.json(), json!([]));
    app.delete(&format!("/api/v1/tags/{}", id(&a)))
        .key(key)
        .send()
        .await;
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{wid}"))
            .key(key)
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn workflow_tags_can_be_switched_off() {
    let app = TestApp::spawn_with(|c| c.workflow_tags_disabled = true).await;
    let wf = app
        .create_workflow(&app.owner_key, workflow_body("w"))
        .await;

    app.get(&format!("/api/v1/workflows/{}/tags", id(&wf)))
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(400, "Workflow Tags Disabled");
}

#[tokio::test]
async fn a_workflow_moves_between_projects() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let wf = app.create_workflow(key, workflow_body("mover")).await;
    let wid = id(&wf);
    let project = app.create_project("Destination").await;
    let transfer = |destination: &str| {
        app.put(&format!("/api/v1/workflows/{wid}/transfer"))
            .key(key)
            .json(json!({ "destinationProjectId": destination }))
            .send()
    };

    let moved = transfer(&project).await;
    assert_eq!(moved.status, 204);
    assert!(moved.body.is_empty());
    let read = app
        .get(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(read["shared"][0]["projectId"], project.as_str());
    assert_eq!(read["shared"][0]["project"]["name"], "Destination");

    transfer(&project).await.assert_error(
        400,
        "You can't transfer a workflow into the project that's already owning it.",
    );
    transfer("AAAAAAAAAAAAAAAA").await.assert_error(
        400,
        "Could not find project with the id \"AAAAAAAAAAAAAAAA\". Make sure you have the permission to create workflows in it.",
    );
    app.put(&format!("/api/v1/workflows/{wid}/transfer"))
        .key(key)
        .json(json!({}))
        .send()
        .await
        .assert_error(
            400,
            "request/body must have required property 'destinationProjectId'",
        );
}
