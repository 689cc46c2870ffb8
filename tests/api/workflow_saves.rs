//! Concurrent saves of one workflow: a field a save does not name keeps its current value,
//! even when another save changes that field at the same time.

use serde_json::json;

use crate::helpers::{workflow_body, TestApp};

#[tokio::test]
async fn two_concurrent_saves_keep_each_others_fields() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let folder = app
        .post("/api/v1/projects/personal/folders")
        .key(key)
        .json(json!({ "name": "Filed" }))
        .send()
        .await;
    assert_eq!(folder.status, 201, "{}", folder.text());
    let folder_id = folder.json()["id"].as_str().expect("id").to_owned();

    for round in 0..20 {
        let created = app.create_workflow(key, workflow_body("saved twice")).await;
        let path = format!("/api/v1/workflows/{}", created["id"].as_str().expect("id"));
        // One save sets the description and names no folder; the other files the workflow
        // and names no description. Each must keep what the other wrote.
        let mut described = workflow_body("saved twice");
        described["description"] = json!(format!("round {round}"));
        let mut filed = workflow_body("saved twice");
        filed["parentFolderId"] = json!(folder_id);
        let (a, b) = tokio::join!(
            app.put(&path).key(key).json(described).send(),
            app.put(&path).key(key).json(filed).send()
        );
        assert_eq!(a.status, 200, "{}", a.text());
        assert_eq!(b.status, 200, "{}", b.text());

        let saved = app.get(&path).key(key).send().await.json();
        assert_eq!(
            saved["description"],
            json!(format!("round {round}")),
            "round {round}"
        );
        // The workflow API does not show the folder on a read: count the folder's workflows.
        let filed_so_far = app
            .get(&format!("/api/v1/projects/personal/folders/{folder_id}"))
            .key(key)
            .send()
            .await
            .json();
        assert_eq!(filed_so_far["totalWorkflows"], round + 1, "round {round}");
    }
}
