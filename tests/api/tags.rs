use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::TestApp;

#[tokio::test]
async fn tags_can_be_created_read_renamed_and_deleted() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;

    let created = app
        .post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "  Production ", "id": "ignored" }))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let tag = created.json();
    let id = tag["id"].as_str().expect("id").to_owned();
    assert_eq!(tag["name"], "Production");
    assert_eq!(id.len(), 16);
    assert_ne!(id, "ignored");
    assert!(tag["createdAt"].as_str().expect("createdAt").ends_with('Z'));

    let read = app.get(&format!("/api/v1/tags/{id}")).key(key).send().await;
    assert_eq!(read.json(), tag);

    let renamed = app
        .put(&format!("/api/v1/tags/{id}"))
        .key(key)
        .json(json!({ "name": " Staging " }))
        .send()
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.json()["name"], "Staging");
    assert_eq!(renamed.json()["id"], id.as_str());

    let deleted = app
        .delete(&format!("/api/v1/tags/{id}"))
        .key(key)
        .send()
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["name"], "Staging");
    app.get(&format!("/api/v1/tags/{id}"))
        .key(key)
        .send()
        .await
        .assert_error(404, "Not Found");
}

#[tokio::test]
async fn duplicate_names_are_409_on_create_and_rename() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    app.post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "taken" }))
        .send()
        .await;
    let other = app
        .post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "free" }))
        .send()
        .await;
    let other_id = other.json()["id"].as_str().expect("id").to_owned();

    let create = app
        .post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": " taken " }))
        .send()
        .await;
    let rename = app
        .put(&format!("/api/v1/tags/{other_id}"))
        .key(key)
        .json(json!({ "name": "taken" }))
        .send()
        .await;

    create.assert_error(409, "Tag already exists");
    rename.assert_error(409, "Tag already exists");
    let list = app.get("/api/v1/tags").key(key).send().await;
    assert_eq!(list.json()["data"].as_array().expect("data").len(), 2);
}

#[tokio::test]
async fn missing_tags_are_404_not_found() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;

    for id in ["AAAAAAAAAAAAAAAA", "..%2F..%2Fetc", "x'%20or%20'1'='1"] {
        app.get(&format!("/api/v1/tags/{id}"))
            .key(key)
            .send()
            .await
            .assert_error(404, "Not Found");
        app.put(&format!("/api/v1/tags/{id}"))
            .key(key)
            .json(json!({ "name": "n" }))
            .send()
            .await
            .assert_error(404, "Not Found");
        app.delete(&format!("/api/v1/tags/{id}"))
            .key(key)
            .send()
            .await
            .assert_error(404, "Not Found");
    }
}

#[tokio::test]
async fn tag_bodies_are_validated() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;

    app.post("/api/v1/tags")
        .key(key)
        .json(json!({}))
        .send()
        .await
        .assert_error(400, "request/body must have required property 'name'");
    app.post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": 5 }))
        .send()
        .await
        .assert_error(400, "request/body/name must be string");
    app.post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "   " }))
        .send()
        .await
        .assert_error(400, "Tag name must be 1 to 24 characters long.");
    app.post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "x".repeat(25) }))
        .send()
        .await
        .assert_error(400, "Tag name must be 1 to 24 characters long.");
    let list = app.get("/api/v1/tags").key(key).send().await;
    assert_eq!(list.json(), json!({ "data": [], "nextCursor": null }));
}

#[tokio::test]
async fn following_next_cursor_walks_every_tag_exactly_once() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let mut created = HashSet::new();
    for i in 0..23 {
        let tag = app
            .post("/api/v1/tags")
            .key(key)
            .json(json!({ "name": format!("tag-{i:02}") }))
            .send()
            .await;
        created.insert(tag.json()["id"].as_str().expect("id").to_owned());
    }

    let mut seen = Vec::new();
    let mut path = "/api/v1/tags?limit=5".to_owned();
    let mut pages = 0;
    loop {
        let page = app.get(&path).key(key).send().await;
        assert_eq!(page.status, 200, "{}", page.text());
        let body = page.json();
        let data = body["data"].as_array().expect("data");
        assert!(data.len() <= 5);
        seen.extend(
            data.iter()
                .map(|t| t["id"].as_str().expect("id").to_owned()),
        );
        pages += 1;
        match body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/tags?cursor={}", urlencode(cursor)),
            None => break,
        }
    }

    assert_eq!(pages, 5);
    assert_eq!(seen.len(), 23);
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), created);
}

fn urlencode(value: &str) -> String {
    value
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

#[tokio::test]
async fn n8n_offset_cursors_are_accepted() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    for i in 0..3 {
        app.post("/api/v1/tags")
            .key(key)
            .json(json!({ "name": format!("t{i}") }))
            .send()
            .await;
    }

    // {"limit":2,"offset":2}, as n8n builds it.
    let page = app
        .get("/api/v1/tags?cursor=eyJsaW1pdCI6Miwib2Zmc2V0IjoyfQ%3D%3D")
        .key(key)
        .send()
        .await;
    let first = app.get("/api/v1/tags?limit=2").key(key).send().await.json();

    assert_eq!(page.status, 200);
    assert_eq!(page.json()["data"].as_array().expect("data").len(), 1);
    assert_eq!(page.json()["nextCursor"], json!(null));
    // Offset 2 holds the one tag the first page of two did not.
    let mut names: Vec<Value> = first["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    names.push(page.json()["data"][0]["name"].clone());
    names.sort_by_key(|n| n.to_string());
    assert_eq!(names, vec![json!("t0"), json!("t1"), json!("t2")]);
}

#[tokio::test]
async fn bad_paging_parameters_are_400() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;

    app.get("/api/v1/tags?cursor=abc")
        .key(key)
        .send()
        .await
        .assert_error(400, "An invalid cursor was provided");
    app.get("/api/v1/tags?limit=0")
        .key(key)
        .send()
        .await
        .assert_error(400, "request/query/limit must be >= 1");
    app.get("/api/v1/tags?limit=-1")
        .key(key)
        .send()
        .await
        .assert_error(400, "request/query/limit must be >= 1");
    app.get("/api/v1/tags?limit=abc")
        .key(key)
        .send()
        .await
        .assert_error(400, "request/query/limit must be number");
}

#[tokio::test]
async fn limits_above_250_are_capped_at_250() {
    let app = TestApp::spawn().await;
    let now = flowgate::domain::time::now_iso();
    let mut tx = app.state.db.begin().await.expect("tx");
    for i in 0..260 {
        flowgate::db::tags::insert(
            tx.conn(),
            &flowgate::domain::ids::new_id(),
            &format!("bulk-{i}"),
            &now,
        )
        .await
        .expect("insert");
    }
    tx.commit().await.expect("commit");

    let page = app
        .get("/api/v1/tags?limit=1000")
        .key(&app.owner_key)
        .send()
        .await;
    // {"limit":100000,"offset":0}: a cursor cannot buy more either.
    let greedy = app
        .get("/api/v1/tags?cursor=eyJsaW1pdCI6MTAwMDAwLCJvZmZzZXQiOjB9")
        .key(&app.owner_key)
        .send()
        .await;

    assert_eq!(page.json()["data"].as_array().expect("data").len(), 250);
    assert!(page.json()["nextCursor"].is_string());
    assert_eq!(greedy.json()["data"].as_array().expect("data").len(), 250);
}

#[tokio::test]
async fn sql_metacharacters_in_names_are_stored_as_text() {
    let app = TestApp::spawn().await;
    let name = "x'); drop table tags;--";

    let created = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .json(json!({ "name": name }))
        .send()
        .await;

    assert_eq!(created.status, 201);
    assert_eq!(created.json()["name"], name);
    assert_eq!(
        app.get("/api/v1/tags")
            .key(&app.owner_key)
            .send()
            .await
            .json()["data"][0]["name"],
        name
    );
}

/// Offsets past what a database binds (a crafted cursor, a huge `offset`) are a clean 400 on
/// both databases, never a 500 or a wrapped number.
#[tokio::test]
async fn cursors_and_offsets_past_any_integer_are_400() {
    use base64::Engine as _;
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    for offset in [
        "9223372036854775808",
        "9223372036854775807",
        "18446744073709551615",
    ] {
        let cursor = base64::engine::general_purpose::STANDARD
            .encode(format!(r#"{{"limit":10,"offset":{offset}}}"#));
        for route in ["tags", "workflows", "users", "credentials", "variables"] {
            let encoded = cursor
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D");
            app.get(&format!("/api/v1/{route}?cursor={encoded}"))
                .key(key)
                .send()
                .await
                .assert_error(400, "An invalid cursor was provided");
        }
    }
    for route in ["workflows", "users"] {
        let response = app
            .get(&format!("/api/v1/{route}?offset=18446744073709551615"))
            .key(key)
            .send()
            .await;
        assert_eq!(response.status, 400, "{route}: {}", response.text());
    }
}
