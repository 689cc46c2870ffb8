//! Workflow rules checked against n8n 2.8.4: the tag filter of the list, the order of tags,
//! concurrent saves that change different fields, and the lifecycle the engine plugs into.

use std::sync::{Arc, Mutex};

use flowgate::db::workflows::{VersionRow, WorkflowRow};
use flowgate::db::Conn;
use flowgate::error::ApiError;
use flowgate::service::workflows::{WorkflowEvent, WorkflowLifecycle};
use serde_json::{json, Value};

use crate::helpers::{publishable_body, workflow_body, TestApp};

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

async fn tag(app: &TestApp, name: &str) -> String {
    let r = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .json(json!({ "name": name }))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    id(&r.json())
}

async fn tag_workflow(app: &TestApp, workflow: &str, tags: &[&str]) {
    let refs: Vec<Value> = tags.iter().map(|t| json!({ "id": t })).collect();
    let r = app
        .put(&format!("/api/v1/workflows/{workflow}/tags"))
        .key(&app.owner_key)
        .json(Value::Array(refs))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|w| w["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_tags_filter_keeps_workflows_carrying_every_named_tag() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let both = id(&app.create_workflow(key, workflow_body("both")).await);
    let only_a = id(&app.create_workflow(key, workflow_body("only a")).await);
    app.create_workflow(key, workflow_body("none")).await;
    let a = tag(&app, "a").await;
    let b = tag(&app, "b").await;
    tag_workflow(&app, &both, &[&a, &b]).await;
    tag_workflow(&app, &only_a, &[&a]).await;

    let list = |q: &'static str| {
        let request = app.get(&format!("/api/v1/workflows?{q}")).key(key);
        async move { names(&request.send().await.json()) }
    };
    assert_eq!(list("tags=a,b").await, vec!["both"]);
    assert_eq!(list("tags=a").await, vec!["both", "only a"]);
    assert_eq!(list("tags=a,%20a").await, vec!["both", "only a"]);
    // Names of no tag are passed over, but a workflow needs at least one named tag.
    assert_eq!(list("tags=a,nosuchtag").await, vec!["both", "only a"]);
    assert!(list("tags=nosuchtag").await.is_empty());
}

#[tokio::test]
async fn tags_keep_n8ns_orders_inside_a_workflow_and_on_its_tags_route() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let wid = id(&app.create_workflow(key, workflow_body("tagged")).await);
    // Created in this order, named against it, with ids of their own.
    // Creation times have millisecond precision: a pause keeps the three apart.
    let mut created = Vec::new();
    for name in ["zz", "aa", "mm"] {
        created.push(tag(&app, name).await);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    tag_workflow(&app, &wid, &[&created[2], &created[0], &created[1]]).await;

    let on_route: Vec<String> = app
        .get(&format!("/api/v1/workflows/{wid}/tags"))
        .key(key)
        .send()
        .await
        .json()
        .as_array()
        .expect("tags")
        .iter()
        .map(id)
        .collect();
    assert_eq!(on_route, created.to_vec(), "the tags route: creation order");

    let mut by_id = created.to_vec();
    by_id.sort();
    let workflow = app
        .get(&format!("/api/v1/workflows/{wid}"))
        .key(key)
        .send()
        .await
        .json();
    let inside: Vec<String> = workflow["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(id)
        .collect();
    assert_eq!(inside, by_id, "inside a workflow: tag id order");
    let listed = app.get("/api/v1/workflows").key(key).send().await.json();
    let inside: Vec<String> = listed["data"][0]["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(id)
        .collect();
    assert_eq!(inside, by_id, "in the list: tag id order");
}

#[tokio::test]
async fn concurrent_saves_of_different_fields_keep_both_changes() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let folder = app
        .post("/api/v1/projects/personal/folders")
        .key(key)
        .json(json!({ "name": "Reports" }))
        .send()
        .await;
    assert_eq!(folder.status, 201, "{}", folder.text());
    let folder_id = id(&folder.json());

    for round in 0..8 {
        let mut body = workflow_body(&format!("race {round}"));
        body["description"] = json!("first");
        let wid = id(&app.create_workflow(key, body).await);
        // One save changes only the description, the other only the folder; each leaves the
        // other field out, which keeps its stored value.
        let mut describe = workflow_body(&format!("race {round}"));
        describe["description"] = json!("second");
        let mut file = workflow_body(&format!("race {round}"));
        file["parentFolderId"] = json!(folder_id);
        let path = format!("/api/v1/workflows/{wid}");
        let (a, b) = tokio::join!(
            app.put(&path).key(key).json(describe).send(),
            app.put(&path).key(key).json(file).send()
        );
        assert_eq!(
            (a.status.as_u16(), b.status.as_u16()),
            (200, 200),
            "{} {}",
            a.text(),
            b.text()
        );

        let stored = app.get(&path).key(key).send().await.json();
        assert_eq!(stored["description"], "second", "round {round}");
        let in_folder = app
            .get(&format!("/api/v1/projects/personal/folders/{folder_id}"))
            .key(key)
            .send()
            .await
            .json();
        assert_eq!(
            in_folder["totalWorkflows"].as_i64(),
            Some(round + 1),
            "round {round}: {in_folder}"
        );
    }
}

/// What a [`Recorder`] heard.
#[derive(Default)]
struct Heard {
    heard: Mutex<Vec<WorkflowEvent>>,
    unpublishing: Mutex<Vec<String>>,
}

/// A lifecycle that refuses to publish workflows named "refuse me" and records what it hears.
#[derive(Clone, Default)]
struct Recorder(Arc<Heard>);

impl std::ops::Deref for Recorder {
    type Target = Heard;

    fn deref(&self) -> &Heard {
        &self.0
    }
}

#[async_trait::async_trait]
impl WorkflowLifecycle for Recorder {
    async fn publishing(
        &self,
        _conn: Conn<'_>,
        workflow: &WorkflowRow,
        _version: &VersionRow,
    ) -> Result<(), ApiError> {
        if workflow.name == "refuse me" {
            return Err(ApiError::bad_request("The engine cannot run this workflow"));
        }
        Ok(())
    }

    async fn unpublishing(&self, _conn: Conn<'_>, workflow_id: &str) -> Result<(), ApiError> {
        self.unpublishing
            .lock()
            .expect("lock")
            .push(workflow_id.to_owned());
        Ok(())
    }

    fn changed(&self, event: WorkflowEvent) {
        self.heard.lock().expect("lock").push(event);
    }
}

#[tokio::test]
async fn the_lifecycle_hears_every_change_and_may_refuse_a_publish() {
    let recorder = Recorder::default();
    let app = TestApp::spawn_with_lifecycle(Arc::new(recorder.clone())).await;
    let key = &app.owner_key;
    let wid = id(&app.create_workflow(key, publishable_body("runs")).await);
    let base = format!("/api/v1/workflows/{wid}");

    let published = app.post(&format!("{base}/publish")).key(key).send().await;
    assert_eq!(published.status, 200, "{}", published.text());
    let version = published.json()["versionId"]
        .as_str()
        .expect("version")
        .to_owned();
    assert_eq!(
        app.post(&format!("{base}/unpublish"))
            .key(key)
            .send()
            .await
            .status,
        200
    );
    app.post(&format!("{base}/publish")).key(key).send().await;
    assert_eq!(
        app.post(&format!("{base}/archive"))
            .key(key)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(app.delete(&base).key(key).send().await.status, 200);

    let heard = recorder.heard.lock().expect("lock").clone();
    let workflow_id = wid.clone();
    assert_eq!(
        heard,
        vec![
            WorkflowEvent::Published {
                workflow_id: wid.clone(),
                version_id: version.clone()
            },
            WorkflowEvent::Unpublished {
                workflow_id: wid.clone()
            },
            WorkflowEvent::Published {
                workflow_id: wid.clone(),
                version_id: version
            },
            WorkflowEvent::Unpublished {
                workflow_id: wid.clone()
            },
            WorkflowEvent::Archived {
                workflow_id: wid.clone()
            },
            WorkflowEvent::Deleted { workflow_id },
        ]
    );
    assert_eq!(recorder.unpublishing.lock().expect("lock").len(), 3);

    // A refusal answers the listener's error and publishes nothing.
    let refused = id(&app
        .create_workflow(key, publishable_body("refuse me"))
        .await);
    app.post(&format!("/api/v1/workflows/{refused}/publish"))
        .key(key)
        .send()
        .await
        .assert_error(400, "The engine cannot run this workflow");
    let stored = app
        .get(&format!("/api/v1/workflows/{refused}"))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(stored["active"], false);
    assert_eq!(stored["activeVersion"], Value::Null);
    assert_eq!(
        recorder.heard.lock().expect("lock").len(),
        6,
        "nothing more heard"
    );
}
