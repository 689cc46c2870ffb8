//! Requests at and past the limits of one statement: data-table filters with very many
//! conditions, invitations of very many users, and the order of the checks a data-table write
//! makes (access before size, so a caller who cannot see a table learns nothing of it).

use serde_json::{json, Value};

use crate::helpers::TestApp;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn table(app: &TestApp) -> String {
    let r = app
        .post("/api/v1/data-tables")
        .key(&app.owner_key)
        .json(json!({ "name": "limits", "columns": [{ "name": "name", "type": "string" }, { "name": "n", "type": "number" }] }))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    id(&r.json())
}

fn filter(count: usize, kind: &str) -> Value {
    let filters: Vec<Value> = (0..count)
        .map(|i| json!({ "columnName": "n", "condition": "eq", "value": i }))
        .collect();
    json!({ "type": kind, "filters": filters })
}

fn query(filter: &Value) -> String {
    filter
        .to_string()
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_row_filter_with_too_many_conditions_is_refused_with_400() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let table = table(&app).await;
    let base = format!("/api/v1/data-tables/{table}/rows");
    app.post(&base)
        .key(key)
        .json(json!({ "data": [{ "name": "a", "n": 1 }] }))
        .send()
        .await;

    // At the cap: answered.
    let at_cap = app
        .get(&format!("{base}?filter={}", query(&filter(100, "or"))))
        .key(key)
        .send()
        .await;
    assert_eq!(at_cap.status, 200, "{}", at_cap.text());
    assert_eq!(at_cap.json()["data"].as_array().map(Vec::len), Some(1));

    let in_query = "request/query/filter/filters must NOT have more than 100 items";
    app.get(&format!("{base}?filter={}", query(&filter(150, "or"))))
        .key(key)
        .send()
        .await
        .assert_error(400, in_query);
    app.delete(&format!(
        "{base}/delete?filter={}",
        query(&filter(150, "and"))
    ))
    .key(key)
    .send()
    .await
    .assert_error(400, in_query);
    // Past SQLite's expression depth (1,000) and PostgreSQL's bind limit (65,535).
    let in_body = "request/body/filter/filters must NOT have more than 100 items";
    for (count, kind) in [(1_000, "or"), (70_000, "and")] {
        let body = json!({ "filter": filter(count, kind), "data": { "name": "b" } });
        app.patch(&format!("{base}/update"))
            .key(key)
            .json(body.clone())
            .send()
            .await
            .assert_error(400, in_body);
        app.post(&format!("{base}/upsert"))
            .key(key)
            .json(body)
            .send()
            .await
            .assert_error(400, in_body);
    }
}

#[tokio::test]
async fn inviting_more_users_than_one_statement_holds_is_a_400_not_a_500() {
    let app = TestApp::spawn().await;
    let invitees: Vec<Value> = (0..33_000)
        .map(|i| json!({ "email": format!("user{i}@example.com") }))
        .collect();
    let r = app
        .post("/api/v1/users")
        .key(&app.owner_key)
        .json(Value::Array(invitees))
        .send()
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.message().contains("too many values"), "{}", r.message());
    // Nobody was invited: the refusal came before any write.
    let users = app
        .get("/api/v1/users")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(users["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn writes_to_a_table_the_caller_cannot_see_are_answered_404_before_any_size_check() {
    let app = TestApp::spawn_with(|c| {
        c.data_tables_max_size_bytes = 1;
        c.data_tables_size_check_cache_ms = 0;
    })
    .await;
    let hidden = table(&app).await;
    let member = app.add_user("outsider@example.com", "global:member").await;
    let member_key = app.full_key(&member).await;
    let missing = format!("Data table with ID \"{hidden}\" not found.");
    let base = format!("/api/v1/data-tables/{hidden}/rows");

    app.post(&base)
        .key(&member_key)
        .json(json!({ "data": [{ "name": "x" }] }))
        .send()
        .await
        .assert_error(404, &missing);
    app.post(&format!("{base}/upsert"))
        .key(&member_key)
        .json(json!({ "filter": { "filters": [{ "columnName": "name", "value": "x" }] }, "data": { "name": "y" } }))
        .send()
        .await
        .assert_error(404, &missing);
    app.patch(&format!("{base}/update"))
        .key(&member_key)
        .json(json!({ "filter": { "filters": [{ "columnName": "name", "value": "x" }] }, "data": { "name": "y" } }))
        .send()
        .await
        .assert_error(404, &missing);
}
