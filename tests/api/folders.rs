//! Folders inside projects: nesting, the `{count, data}` list, moves and deletion.

use serde_json::{json, Value};

use crate::helpers::{workflow_body, TestApp};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn folders_nest_and_list_with_filters_sort_and_paging() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let create = |body: Value| {
        app.post("/api/v1/projects/personal/folders")
            .key(key)
            .json(body)
            .send()
    };

    let top = create(json!({ "name": "Clients" })).await;
    assert_eq!(top.status, 201, "{}", top.text());
    let top = top.json();
    assert_eq!(top["parentFolderId"], Value::Null);
    let child = create(json!({ "name": "Acme", "parentFolderId": id(&top) }))
        .await
        .json();
    let _other = create(json!({ "name": "Archive" })).await.json();
    create(json!({ "name": "" })).await.assert_error(
        400,
        "request/body/name must NOT have fewer than 1 characters",
    );
    create(json!({ "name": "x", "parentFolderId": "AAAAAAAAAAAAAAAA" }))
        .await
        .assert_error(404, "Could not find the folder: AAAAAAAAAAAAAAAA");

    let all = app
        .get("/api/v1/projects/personal/folders?sortBy=name:asc")
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(all["count"], 3);
    let names: Vec<&str> = all["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["Acme", "Archive", "Clients"]);
    let acme = &all["data"][0];
    assert_eq!(acme["parentFolder"]["name"], "Clients");
    assert_eq!(acme["homeProject"]["type"], "personal");

    let roots = app.get("/api/v1/projects/personal/folders?filter=%7B%22parentFolderId%22%3A%220%22%7D&sortBy=name:desc").key(key).send().await.json();
    assert_eq!(roots["count"], 2);
    assert_eq!(roots["data"][0]["name"], "Clients");
    assert_eq!(roots["data"][0]["subFolderCount"], 1);
    let named = app
        .get("/api/v1/projects/personal/folders?filter=%7B%22name%22%3A%22ACM%22%7D")
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(named["count"], 1);
    let paged = app
        .get("/api/v1/projects/personal/folders?sortBy=name:asc&skip=1&take=1&select=id,name")
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(paged["count"], 3);
    assert_eq!(
        paged["data"],
        json!([{ "id": paged["data"][0]["id"], "name": "Archive" }])
    );
    assert_eq!(
        app.get("/api/v1/projects/personal/folders?filter=notjson")
            .key(key)
            .send()
            .await
            .status,
        400
    );
    assert_eq!(id(&child).len(), 16);
}

#[tokio::test]
async fn a_folder_shows_its_totals_and_can_be_renamed_and_moved() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let base = "/api/v1/projects/personal/folders";
    let a = app
        .post(base)
        .key(key)
        .json(json!({ "name": "A" }))
        .send()
        .await
        .json();
    let b = app
        .post(base)
        .key(key)
        .json(json!({ "name": "B", "parentFolderId": id(&a) }))
        .send()
        .await
        .json();
    let c = app
        .post(base)
        .key(key)
        .json(json!({ "name": "C", "parentFolderId": id(&b) }))
        .send()
        .await
        .json();
    let mut body = workflow_body("in C");
    body["parentFolderId"] = json!(id(&c));
    let wf = app.create_workflow(key, body).await;
    assert_eq!(wf["parentFolder"]["name"], "C");

    let details = app
        .get(&format!("{base}/{}", id(&a)))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(details["totalSubFolders"], 2);
    assert_eq!(details["totalWorkflows"], 1);

    let into_own_child = app
        .patch(&format!("{base}/{}", id(&a)))
        .key(key)
        .json(json!({ "parentFolderId": id(&c) }))
        .send()
        .await;
    assert_eq!(into_own_child.status, 400);
    let renamed = app
        .patch(&format!("{base}/{}", id(&c)))
        .key(key)
        .json(json!({ "name": "C2", "parentFolderId": null }))
        .send()
        .await
        .json();
    assert_eq!(renamed["name"], "C2");
    assert_eq!(renamed["parentFolderId"], Value::Null);
    assert_eq!(
        app.get(&format!("{base}/{}", id(&a)))
            .key(key)
            .send()
            .await
            .json()["totalWorkflows"],
        0
    );
    app.get(&format!("{base}/AAAAAAAAAAAAAAAA"))
        .key(key)
        .send()
        .await
        .assert_error(404, "Could not find the folder: AAAAAAAAAAAAAAAA");
}

#[tokio::test]
async fn deleting_a_folder_transfers_or_archives_its_contents() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let base = "/api/v1/projects/personal/folders";
    let keep = app
        .post(base)
        .key(key)
        .json(json!({ "name": "Keep" }))
        .send()
        .await
        .json();
    let drop = app
        .post(base)
        .key(key)
        .json(json!({ "name": "Drop" }))
        .send()
        .await
        .json();
    let inner = app
        .post(base)
        .key(key)
        .json(json!({ "name": "Inner", "parentFolderId": id(&drop) }))
        .send()
        .await
        .json();
    let mut body = workflow_body("moved along");
    body["parentFolderId"] = json!(id(&inner));
    let wf = app.create_workflow(key, body).await;

    let transferred = app
        .delete(&format!(
            "{base}/{}?transferToFolderId={}",
            id(&drop),
            id(&keep)
        ))
        .key(key)
        .send()
        .await;
    assert_eq!(transferred.status, 204);
    let moved_inner = app
        .get(&format!("{base}/{}", id(&inner)))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(moved_inner["parentFolderId"], keep["id"]);

    let archived = app
        .delete(&format!("{base}/{}", id(&keep)))
        .key(key)
        .send()
        .await;
    assert_eq!(archived.status, 204);
    let workflow = app
        .get(&format!("/api/v1/workflows/{}", id(&wf)))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(workflow["isArchived"], true);
    assert_eq!(
        app.get(base).key(key).send().await.json()["count"],
        0,
        "the sub-folders went with it"
    );
}
