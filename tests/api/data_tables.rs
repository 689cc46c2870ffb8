//! Data tables: tables, columns and rows through the public API, on both databases.

use serde_json::{json, Value};

use crate::helpers::TestApp;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// `filter` as a URL-encoded query value.
fn q(filter: Value) -> String {
    url_encode(&filter.to_string())
}

fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A table `people(name string, age number, active boolean, born date)` and its id.
async fn people(app: &TestApp, key: &str) -> String {
    let r = app
        .post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": format!("people {}", flowgate::domain::ids::random_alphanumeric(5)), "columns": [
            { "name": "name", "type": "string" },
            { "name": "age", "type": "number" },
            { "name": "active", "type": "boolean" },
            { "name": "born", "type": "date" }
        ]}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    id(&r.json())
}

async fn insert(app: &TestApp, key: &str, table: &str, rows: Value, return_type: &str) -> Value {
    let r = app
        .post(&format!("/api/v1/data-tables/{table}/rows"))
        .key(key)
        .json(json!({ "data": rows, "returnType": return_type }))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn seed(app: &TestApp, key: &str, table: &str) {
    insert(
        app,
        key,
        table,
        json!([
            { "name": "Ada", "age": 36, "active": true, "born": "1815-12-10" },
            { "name": "alan", "age": 41, "active": false, "born": "1912-06-23T00:00:00Z" },
            { "name": "Grace_H", "age": 85, "active": true, "born": null },
            { "name": null, "age": null, "active": null },
            { "name": "Linus", "age": 2.5, "active": false, "born": "1969-12-28T10:00:00+01:00" }
        ]),
        "count",
    )
    .await;
}

async fn names(app: &TestApp, key: &str, table: &str, query: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/data-tables/{table}/rows?{query}"))
        .key(key)
        .send()
        .await;
    assert_eq!(r.status, 200, "{query}: {}", r.text());
    r.json()["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|row| row["name"].clone())
        .collect()
}

#[tokio::test]
async fn tables_are_created_listed_renamed_and_deleted() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let created = app
        .post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "  Orders ", "columns": [
            { "name": "customer", "type": "string" }, { "name": "total", "type": "number" }] }))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let table = created.json();
    assert_eq!(table["name"], "Orders");
    assert_eq!(table["sizeBytes"], 0);
    assert_eq!(table["columns"][1]["name"], "total");
    assert_eq!(table["columns"][1]["type"], "number");
    assert_eq!(table["columns"][1]["index"], 1);
    let personal = app
        .get("/api/v1/projects?limit=250")
        .key(key)
        .send()
        .await
        .json()["data"]
        .as_array()
        .expect("projects")
        .iter()
        .find(|p| p["type"] == "personal")
        .map(|p| p["id"].clone())
        .expect("personal project");
    assert_eq!(table["projectId"], personal);
    let table_id = id(&table);
    assert_eq!(table_id.len(), 16);

    app.post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "Orders", "columns": [] }))
        .send()
        .await
        .assert_error(
            409,
            "Data table with name 'Orders' already exists in this project",
        );
    app.post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "", "columns": [] }))
        .send()
        .await
        .assert_error(
            400,
            "request/body/name must NOT have fewer than 1 characters",
        );
    app.post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "x" }))
        .send()
        .await
        .assert_error(400, "request/body must have required property 'columns'");
    app.post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "x", "columns": [{ "name": "1st", "type": "string" }] }))
        .send()
        .await
        .assert_error(
            400,
            "request/body/columns/0/name must match pattern \"^[a-zA-Z][a-zA-Z0-9_]*$\"",
        );
    app.post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "x", "columns": [{ "name": "a", "type": "json" }] }))
        .send()
        .await
        .assert_error(
            400,
            "request/body/columns/0/type must be equal to one of the allowed values: string, number, boolean, date",
        );
    app.post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "x", "columns": [{ "name": "id", "type": "number" }] }))
        .send()
        .await
        .assert_error(
            409,
            "Column name \"id\" is reserved as a system column name.",
        );
    app.post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "x", "columns": [{ "name": "a", "type": "number" }, { "name": "A", "type": "string" }] }))
        .send()
        .await
        .assert_error(409, "Data table column with name 'A' already exists in data table 'x'");
    app.post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "x", "columns": [], "projectId": "AAAAAAAAAAAAAAAA" }))
        .send()
        .await
        .assert_error(400, "Project with ID \"AAAAAAAAAAAAAAAA\" not found");

    let team = app.create_project("Team").await;
    let in_team = app
        .post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "Orders", "columns": [], "projectId": team }))
        .send()
        .await;
    assert_eq!(in_team.status, 201, "the same name in another project");
    let in_team = in_team.json();
    assert_eq!(in_team["projectId"], team.as_str());

    let got = app
        .get(&format!("/api/v1/data-tables/{table_id}"))
        .key(key)
        .send()
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["columns"].as_array().map(Vec::len), Some(2));
    app.get("/api/v1/data-tables/AAAAAAAAAAAAAAAA")
        .key(key)
        .send()
        .await
        .assert_error(404, "Data table with ID \"AAAAAAAAAAAAAAAA\" not found.");
    app.get("/api/v1/data-tables/nope")
        .key(key)
        .send()
        .await
        .assert_error(
            400,
            "request/params/dataTableId must match format \"nanoid\"",
        );

    let list = app.get("/api/v1/data-tables").key(key).send().await;
    assert_eq!(list.status, 200);
    let list = list.json();
    assert_eq!(list["data"].as_array().map(Vec::len), Some(2));
    assert!(list["data"][0]["sizeBytes"].is_i64());
    let by_project = app
        .get(&format!(
            "/api/v1/data-tables?filter={}",
            q(json!({ "projectId": team }))
        ))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(by_project["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(by_project["data"][0]["id"], in_team["id"]);
    let by_name = app
        .get(&format!(
            "/api/v1/data-tables?filter={}&sortBy=name:asc",
            q(json!({ "name": "ORD" }))
        ))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(by_name["data"].as_array().map(Vec::len), Some(2));
    let paged = app
        .get("/api/v1/data-tables?limit=1&sortBy=createdAt:asc")
        .key(key)
        .send()
        .await
        .json();
    let first_id = paged["data"][0]["id"].clone();
    let cursor = paged["nextCursor"].as_str().expect("next page");
    let second = app
        .get(&format!(
            "/api/v1/data-tables?sortBy=createdAt:asc&cursor={}",
            url_encode(cursor)
        ))
        .key(key)
        .send()
        .await
        .json();
    let mut both = vec![first_id, second["data"][0]["id"].clone()];
    both.sort_by_key(|v| v.to_string());
    let mut expected = vec![json!(table_id), in_team["id"].clone()];
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(both, expected);
    assert_eq!(second["nextCursor"], Value::Null);
    app.get("/api/v1/data-tables?sortBy=size")
        .key(key)
        .send()
        .await
        .assert_error(400, "request/query/sortBy must be equal to one of the allowed values: updatedAt:desc, updatedAt:asc, createdAt:desc, createdAt:asc, name:asc, name:desc, sizeBytes:asc, sizeBytes:desc");
    app.get("/api/v1/data-tables?filter=%7Bnope")
        .key(key)
        .send()
        .await
        .assert_error(400, "request/query/filter must be a valid JSON string");

    let renamed = app
        .patch(&format!("/api/v1/data-tables/{table_id}"))
        .key(key)
        .json(json!({ "name": "Sales" }))
        .send()
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(renamed.json()["name"], "Sales");
    app.post("/api/v1/data-tables")
        .key(key)
        .json(json!({ "name": "Taken", "columns": [] }))
        .send()
        .await;
    app.patch(&format!("/api/v1/data-tables/{table_id}"))
        .key(key)
        .json(json!({ "name": "Taken" }))
        .send()
        .await
        .assert_error(
            409,
            "Data table with name 'Taken' already exists in this project",
        );

    let gone = app
        .delete(&format!("/api/v1/data-tables/{table_id}"))
        .key(key)
        .send()
        .await;
    assert_eq!(gone.status, 204);
    assert!(gone.body.is_empty());
    app.get(&format!("/api/v1/data-tables/{table_id}"))
        .key(key)
        .send()
        .await
        .assert_error(
            404,
            &format!("Data table with ID \"{table_id}\" not found."),
        );
    app.delete(&format!("/api/v1/data-tables/{table_id}"))
        .key(key)
        .send()
        .await
        .assert_error(
            404,
            &format!("Data table with ID \"{table_id}\" not found."),
        );

    // Deleting the project deletes its tables, storage included.
    let r = app
        .delete(&format!("/api/v1/projects/{team}"))
        .key(key)
        .send()
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    app.get(&format!("/api/v1/data-tables/{}", id(&in_team)))
        .key(key)
        .send()
        .await
        .assert_error(
            404,
            &format!("Data table with ID \"{}\" not found.", id(&in_team)),
        );
}

#[tokio::test]
async fn columns_are_added_renamed_moved_and_dropped_with_their_values() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let table = people(&app, key).await;
    insert(
        &app,
        key,
        &table,
        json!([{ "name": "Ada", "age": 36 }]),
        "count",
    )
    .await;
    let base = format!("/api/v1/data-tables/{table}/columns");

    let listed = app.get(&base).key(key).send().await.json();
    let listed_names: Vec<&str> = listed
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(listed_names, vec!["name", "age", "active", "born"]);
    assert_eq!(listed[0]["dataTableId"], table.as_str());

    let added = app
        .post(&base)
        .key(key)
        .json(json!({ "name": "email", "type": "string", "index": 1 }))
        .send()
        .await;
    assert_eq!(added.status, 201, "{}", added.text());
    let email = added.json();
    assert_eq!(email["index"], 1);
    let order = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("columns")
            .iter()
            .map(|c| c["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let now = app.get(&base).key(key).send().await.json();
    assert_eq!(order(&now), vec!["name", "email", "age", "active", "born"]);
    let indexes: Vec<i64> = now
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["index"].as_i64().expect("index"))
        .collect();
    assert_eq!(indexes, vec![0, 1, 2, 3, 4]);

    app.post(&base)
        .key(key)
        .json(json!({ "name": "EMAIL", "type": "string" }))
        .send()
        .await
        .assert_error(
            409,
            &format!(
                "Data table column with name 'EMAIL' already exists in data table '{}'",
                app.get(&format!("/api/v1/data-tables/{table}"))
                    .key(key)
                    .send()
                    .await
                    .json()["name"]
                    .as_str()
                    .expect("name")
            ),
        );
    app.post(&base)
        .key(key)
        .json(json!({ "name": "createdAt", "type": "date" }))
        .send()
        .await
        .assert_error(
            409,
            "Column name \"createdAt\" is reserved as a system column name.",
        );
    app.post(&base)
        .key(key)
        .json(json!({ "name": "x", "type": "blob" }))
        .send()
        .await
        .assert_error(
            400,
            "request/body/type must be equal to one of the allowed values: string, number, boolean, date",
        );

    // The new column is null on existing rows and takes values at once.
    let rows = names(&app, key, &table, "").await;
    assert_eq!(rows, vec![json!("Ada")]);
    let row = &app
        .get(&format!("/api/v1/data-tables/{table}/rows"))
        .key(key)
        .send()
        .await
        .json()["data"][0];
    assert_eq!(row["email"], Value::Null);
    let keys: Vec<&str> = row
        .as_object()
        .expect("row")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        vec![
            "id",
            "createdAt",
            "updatedAt",
            "name",
            "email",
            "age",
            "active",
            "born"
        ]
    );

    let email_id = id(&email);
    let renamed = app
        .patch(&format!("{base}/{email_id}"))
        .key(key)
        .json(json!({ "name": "mail" }))
        .send()
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(renamed.json()["name"], "mail");
    let moved = app
        .patch(&format!("{base}/{email_id}"))
        .key(key)
        .json(json!({ "index": 4 }))
        .send()
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(moved.json()["index"], 4);
    let now = app.get(&base).key(key).send().await.json();
    assert_eq!(order(&now), vec!["name", "age", "active", "born", "mail"]);
    app.patch(&format!("{base}/{email_id}"))
        .key(key)
        .json(json!({ "name": "age" }))
        .send()
        .await
        .assert_error(
            409,
            &format!(
                "Data table column with name 'age' already exists in data table '{}'",
                app.get(&format!("/api/v1/data-tables/{table}"))
                    .key(key)
                    .send()
                    .await
                    .json()["name"]
                    .as_str()
                    .expect("name")
            ),
        );
    app.patch(&format!("{base}/{email_id}"))
        .key(key)
        .json(json!({}))
        .send()
        .await
        .assert_error(
            400,
            "request/body must have at least one of the properties: name, index",
        );
    app.patch(&format!("{base}/AAAAAAAAAAAAAAAA"))
        .key(key)
        .json(json!({ "name": "z" }))
        .send()
        .await
        .assert_error(
            404,
            &format!("Could not find the column 'AAAAAAAAAAAAAAAA' in the data table: {table}"),
        );

    insert(
        &app,
        key,
        &table,
        json!([{ "name": "Bo", "mail": "bo@example.com" }]),
        "count",
    )
    .await;
    let age = now.as_array().expect("columns")[1]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let dropped = app.delete(&format!("{base}/{age}")).key(key).send().await;
    assert_eq!(dropped.status, 204, "{}", dropped.text());
    let now = app.get(&base).key(key).send().await.json();
    assert_eq!(order(&now), vec!["name", "active", "born", "mail"]);
    let row = &app
        .get(&format!("/api/v1/data-tables/{table}/rows?sortBy=id:desc"))
        .key(key)
        .send()
        .await
        .json()["data"][0];
    assert_eq!(row["mail"], "bo@example.com");
    assert!(row.get("age").is_none());
    app.delete(&format!("{base}/{age}"))
        .key(key)
        .send()
        .await
        .assert_error(
            404,
            &format!("Could not find the column '{age}' in the data table: {table}"),
        );
}

#[tokio::test]
async fn inserts_are_typed_answer_each_return_type_and_are_all_or_nothing() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let table = people(&app, key).await;
    let rows = format!("/api/v1/data-tables/{table}/rows");

    let count = insert(
        &app,
        key,
        &table,
        json!([{ "name": "a" }, { "name": "b" }]),
        "count",
    )
    .await;
    assert_eq!(count, json!({ "count": 2 }));
    let ids = insert(
        &app,
        key,
        &table,
        json!([{ "name": "c" }, { "name": "d" }]),
        "id",
    )
    .await;
    assert_eq!(ids, json!([3, 4]));
    let all = insert(
        &app,
        key,
        &table,
        json!([{ "name": "e", "age": 7, "active": true, "born": "2020-02-29T12:00:00+02:00" }]),
        "all",
    )
    .await;
    let e = &all[0];
    assert_eq!(e["id"], 5);
    assert_eq!(e["name"], "e");
    assert_eq!(e["age"], 7);
    assert_eq!(e["active"], true);
    assert_eq!(e["born"], "2020-02-29T10:00:00.000Z");
    assert!(e["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    let default = app
        .post(&rows)
        .key(key)
        .json(json!({ "data": [{ "name": "f" }] }))
        .send()
        .await;
    assert_eq!(default.json(), json!({ "count": 1 }));

    let bad = |body: Value| app.post(&rows).key(key).json(body).send();
    bad(json!({ "data": [{ "name": "ok" }, { "age": "abc" }] }))
        .await
        .assert_error(
            400,
            "value 'abc' does not match column type 'number': 'age' expects a number but we got 'abc'",
        );
    bad(json!({ "data": [{ "name": "ok" }, { "active": "yes" }] }))
        .await
        .assert_error(
            400,
            "value 'yes' does not match column type 'boolean': 'active' expects a boolean but we got 'yes'",
        );
    bad(json!({ "data": [{ "born": "the day after" }] }))
        .await
        .assert_error(
            400,
            "value 'the day after' does not match column type 'date': 'born' expects a dateTime but we got 'the day after'",
        );
    bad(json!({ "data": [{ "nope": 1 }] }))
        .await
        .assert_error(400, "unknown column name 'nope'");
    bad(json!({ "data": [{ "id": 99, "name": "x" }] }))
        .await
        .assert_error(400, "unknown column name 'id'");
    bad(json!({ "data": [{ "name": "x", "createdAt": "2020-01-01" }] }))
        .await
        .assert_error(400, "unknown column name 'createdAt'");
    bad(json!({ "data": [] }))
        .await
        .assert_error(400, "request/body/data must NOT have fewer than 1 items");
    bad(json!({ "data": [1] }))
        .await
        .assert_error(400, "request/body/data/0 must be object");
    bad(json!({ "data": [{}], "returnType": "rows" }))
        .await
        .assert_error(
            400,
            "request/body/returnType must be equal to one of the allowed values: count, id, all",
        );

    // None of the failed batches wrote anything (the good first rows included).
    let listed = names(&app, key, &table, "limit=250").await;
    assert_eq!(listed.len(), 6, "{listed:?}");
    assert!(!listed.contains(&json!("ok")));

    // A large batch goes in whole, in more than one statement.
    let big: Vec<Value> = (0..3000)
        .map(|i| json!({ "name": format!("n{i}"), "age": i, "active": i % 2 == 0, "born": "2001-01-01" }))
        .collect();
    let ids = insert(&app, key, &table, Value::Array(big), "id").await;
    let ids = ids.as_array().expect("ids");
    assert_eq!(ids.len(), 3000);
    assert!(ids.windows(2).all(|w| w[0].as_i64() < w[1].as_i64()));
}

#[tokio::test]
async fn every_filter_condition_sorts_search_and_cursor_pages() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let table = people(&app, key).await;
    seed(&app, key, &table).await;
    let filtered = |filter: Value| {
        let app = &app;
        let table = table.clone();
        async move {
            let mut got = names(app, key, &table, &format!("filter={}", q(filter))).await;
            got.sort_by_key(|v| v.to_string());
            got
        }
    };
    let cond = |column: &str, condition: &str, value: Value| json!({ "type": "and", "filters": [{ "columnName": column, "condition": condition, "value": value }] });
    let strs = |items: &[&str]| -> Vec<Value> {
        let mut v: Vec<Value> = items.iter().map(|s| json!(s)).collect();
        v.sort_by_key(|v| v.to_string());
        v
    };

    assert_eq!(
        filtered(cond("name", "eq", json!("Ada"))).await,
        strs(&["Ada"])
    );
    assert_eq!(
        filtered(cond("age", "eq", json!(41))).await,
        strs(&["alan"])
    );
    assert_eq!(
        filtered(cond("active", "eq", json!(true))).await,
        strs(&["Ada", "Grace_H"])
    );
    assert_eq!(
        filtered(cond("name", "eq", Value::Null)).await,
        vec![Value::Null]
    );
    // neq keeps the rows whose value is null, as n8n does.
    let mut expected = strs(&["alan", "Grace_H", "Linus"]);
    expected.push(Value::Null);
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(filtered(cond("name", "neq", json!("Ada"))).await, expected);
    assert_eq!(
        filtered(cond("name", "neq", Value::Null)).await,
        strs(&["Ada", "alan", "Grace_H", "Linus"])
    );
    assert_eq!(
        filtered(cond("age", "gt", json!(36))).await,
        strs(&["alan", "Grace_H"])
    );
    assert_eq!(
        filtered(cond("age", "gte", json!(36))).await,
        strs(&["Ada", "alan", "Grace_H"])
    );
    assert_eq!(
        filtered(cond("age", "lt", json!(36))).await,
        strs(&["Linus"])
    );
    assert_eq!(
        filtered(cond("age", "lte", json!(36))).await,
        strs(&["Ada", "Linus"])
    );
    assert_eq!(
        filtered(cond("born", "lt", json!("1900-01-01"))).await,
        strs(&["Ada"])
    );
    assert_eq!(
        filtered(cond("born", "gte", json!("1969-12-28T09:00:00Z"))).await,
        strs(&["Linus"])
    );
    // like is case-sensitive, ilike is not; `_` is literal, `%` the only wildcard.
    assert_eq!(
        filtered(cond("name", "like", json!("a"))).await,
        strs(&["Ada", "alan", "Grace_H"])
    );
    assert_eq!(
        filtered(cond("name", "like", json!("A"))).await,
        strs(&["Ada"])
    );
    assert_eq!(
        filtered(cond("name", "like", json!("A%"))).await,
        strs(&["Ada"])
    );
    assert_eq!(
        filtered(cond("name", "ilike", json!("A%"))).await,
        strs(&["Ada", "alan"])
    );
    assert_eq!(
        filtered(cond("name", "ilike", json!("e_h"))).await,
        strs(&["Grace_H"])
    );
    assert_eq!(
        filtered(cond("name", "like", json!("e_h"))).await,
        Vec::<Value>::new()
    );
    assert_eq!(
        filtered(cond("id", "lte", json!(2))).await,
        strs(&["Ada", "alan"])
    );
    // and / or
    let both = json!({ "type": "and", "filters": [
        { "columnName": "active", "condition": "eq", "value": true },
        { "columnName": "age", "condition": "gt", "value": 40 }] });
    assert_eq!(filtered(both).await, strs(&["Grace_H"]));
    let either = json!({ "type": "or", "filters": [
        { "columnName": "name", "value": "Ada" },
        { "columnName": "age", "condition": "lt", "value": 3 }] });
    assert_eq!(filtered(either).await, strs(&["Ada", "Linus"]));

    let rows = format!("/api/v1/data-tables/{table}/rows");
    let fails = |filter: Value| {
        app.get(&format!("{rows}?filter={}", q(filter)))
            .key(key)
            .send()
    };
    fails(cond("nope", "eq", json!(1)))
        .await
        .assert_error(400, "unknown column name 'nope'");
    fails(cond("age", "gt", Value::Null))
        .await
        .assert_error(400, "GT filter value cannot be null or undefined");
    fails(cond("name", "like", Value::Null))
        .await
        .assert_error(400, "LIKE filter value cannot be null or undefined");
    fails(cond("age", "ilike", json!(3)))
        .await
        .assert_error(400, "ILIKE filter value must be a string");
    fails(cond("age", "eq", json!("old"))).await.assert_error(
        400,
        "value 'old' does not match column type 'number': 'age' expects a number but we got 'old'",
    );
    fails(cond("age", "between", json!(1)))
        .await
        .assert_error(400, "request/query/filter/filters/0/condition must be equal to one of the allowed values: eq, neq, like, ilike, gt, gte, lt, lte");
    app.get(&format!("{rows}?filter=%7B"))
        .key(key)
        .send()
        .await
        .assert_error(400, "request/query/filter must be a valid JSON string");
    // Hostile text is only ever a bound value.
    assert_eq!(
        filtered(cond("name", "eq", json!("x' or '1'='1"))).await,
        Vec::<Value>::new()
    );
    app.get(&format!("{rows}?sortBy=%22name%22;drop:asc"))
        .key(key)
        .send()
        .await
        .assert_error(400, "unknown column name '\"name\";drop'");

    // Sorting, with nulls where the database puts them but the order otherwise fixed.
    let by_age = names(
        &app,
        key,
        &table,
        "sortBy=age:desc&filter=".to_owned().as_str(),
    )
    .await;
    let without_null: Vec<Value> = by_age.into_iter().filter(|v| !v.is_null()).collect();
    assert_eq!(
        without_null,
        vec![
            json!("Grace_H"),
            json!("alan"),
            json!("Ada"),
            json!("Linus")
        ]
    );
    assert_eq!(
        names(&app, key, &table, "sortBy=id:desc&limit=2").await,
        vec![json!("Linus"), Value::Null]
    );
    // Search looks in string columns, in any case.
    assert_eq!(
        names(&app, key, &table, "search=AL").await,
        vec![json!("alan")]
    );
    assert_eq!(
        names(
            &app,
            key,
            &table,
            &format!("search=a&filter={}", q(cond("active", "eq", json!(true))))
        )
        .await,
        vec![json!("Ada"), json!("Grace_H")]
    );

    // Cursor pages in id order, each starting after the last id seen.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{rows}?cursor={}", url_encode(c)),
            None => format!("{rows}?limit=2"),
        };
        let page = app.get(&path).key(key).send().await;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        for row in page["data"].as_array().expect("data") {
            seen.push(row["id"].as_i64().expect("id"));
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, vec![1, 2, 3, 4, 5]);
    // Pages in another order go by offset.
    let first = app
        .get(&format!(
            "{rows}?limit=3&sortBy=name:asc&filter={}",
            q(cond("name", "neq", Value::Null))
        ))
        .key(key)
        .send()
        .await
        .json();
    let next = first["nextCursor"].as_str().expect("more");
    let second = app
        .get(&format!(
            "{rows}?cursor={}&sortBy=name:asc&filter={}",
            url_encode(next),
            q(cond("name", "neq", Value::Null))
        ))
        .key(key)
        .send()
        .await
        .json();
    assert_eq!(second["data"].as_array().map(Vec::len), Some(1));
    app.get(&format!("{rows}?cursor=garbage"))
        .key(key)
        .send()
        .await
        .assert_error(400, "An invalid cursor was provided");
}

#[tokio::test]
async fn updates_upserts_and_deletes_honour_return_data_and_dry_run() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let table = people(&app, key).await;
    seed(&app, key, &table).await;
    let base = format!("/api/v1/data-tables/{table}/rows");
    let active = json!({ "type": "and", "filters": [{ "columnName": "active", "condition": "eq", "value": true }] });

    // Update: true; returnData: the changed rows; dryRun: before/after pairs, nothing changed.
    let dry = app
        .patch(&format!("{base}/update"))
        .key(key)
        .json(json!({ "filter": active, "data": { "age": 1 }, "dryRun": true }))
        .send()
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    let dry = dry.json();
    let dry = dry.as_array().expect("pairs");
    assert_eq!(dry.len(), 4);
    assert_eq!(dry[0]["dryRunState"], "before");
    assert_eq!(dry[0]["age"], 36);
    assert_eq!(dry[1]["dryRunState"], "after");
    assert_eq!(dry[1]["age"], 1);
    assert_eq!(dry[1]["id"], dry[0]["id"]);
    let untouched = names(
        &app,
        key,
        &table,
        &format!(
            "filter={}",
            q(json!({ "filters": [{ "columnName": "age", "value": 1 }] }))
        ),
    )
    .await;
    assert!(untouched.is_empty(), "a dry run changed rows");

    let plain = app
        .patch(&format!("{base}/update"))
        .key(key)
        .json(json!({ "filter": active, "data": { "age": 50 } }))
        .send()
        .await;
    assert_eq!(plain.json(), json!(true));
    let returned = app
        .patch(&format!("{base}/update"))
        .key(key)
        .json(json!({ "filter": active, "data": { "age": 51, "born": "2000-01-01" }, "returnData": true }))
        .send()
        .await
        .json();
    let returned = returned.as_array().expect("rows");
    assert_eq!(returned.len(), 2);
    assert!(returned
        .iter()
        .all(|r| r["age"] == 51 && r["born"] == "2000-01-01T00:00:00.000Z"));
    assert!(returned[0]["updatedAt"].as_str() >= returned[0]["createdAt"].as_str());
    let none = app
        .patch(&format!("{base}/update"))
        .key(key)
        .json(json!({ "filter": { "filters": [{ "columnName": "name", "value": "nobody" }] }, "data": { "age": 1 }, "returnData": true }))
        .send()
        .await
        .json();
    assert_eq!(none, json!([]));
    let bad = |path: String, body: Value| app.patch(&path).key(key).json(body).send();
    bad(
        format!("{base}/update"),
        json!({ "filter": { "filters": [] }, "data": { "age": 1 } }),
    )
    .await
    .assert_error(400, "Filter must not be empty");
    bad(
        format!("{base}/update"),
        json!({ "filter": active, "data": {} }),
    )
    .await
    .assert_error(400, "Data columns must not be empty");
    bad(
        format!("{base}/update"),
        json!({ "filter": active, "data": { "id": 3 } }),
    )
    .await
    .assert_error(400, "unknown column name 'id'");
    bad(
        format!("{base}/update"),
        json!({ "filter": active, "data": { "age": "x" } }),
    )
    .await
    .assert_error(
        400,
        "value 'x' does not match column type 'number': 'age' expects a number but we got 'x'",
    );
    bad(format!("{base}/update"), json!({ "data": { "age": 1 } }))
        .await
        .assert_error(400, "request/body must have required property 'filter'");

    // Upsert: updates what matches, or inserts one row.
    let by_name =
        |n: &str| json!({ "filters": [{ "columnName": "name", "condition": "eq", "value": n }] });
    let dry_insert = app
        .post(&format!("{base}/upsert"))
        .key(key)
        .json(json!({ "filter": by_name("Zed"), "data": { "name": "Zed", "age": 9 }, "dryRun": true }))
        .send()
        .await
        .json();
    assert_eq!(dry_insert[0]["dryRunState"], "before");
    assert_eq!(dry_insert[0]["id"], Value::Null);
    assert_eq!(dry_insert[0]["name"], Value::Null);
    assert_eq!(dry_insert[1]["dryRunState"], "after");
    assert_eq!(dry_insert[1]["id"], 0);
    assert_eq!(dry_insert[1]["age"], 9);
    assert!(
        names(&app, key, &table, &format!("filter={}", q(by_name("Zed"))))
            .await
            .is_empty()
    );
    let inserted = app
        .post(&format!("{base}/upsert"))
        .key(key)
        .json(json!({ "filter": by_name("Zed"), "data": { "name": "Zed", "age": 9 }, "returnData": true }))
        .send()
        .await
        .json();
    assert_eq!(inserted["name"], "Zed");
    assert_eq!(inserted["id"], 6);
    let updated = app
        .post(&format!("{base}/upsert"))
        .key(key)
        .json(json!({ "filter": by_name("Zed"), "data": { "age": 10 }, "returnData": true }))
        .send()
        .await
        .json();
    assert_eq!(updated["id"], 6);
    assert_eq!(updated["age"], 10);
    let dry_update = app
        .post(&format!("{base}/upsert"))
        .key(key)
        .json(json!({ "filter": by_name("Zed"), "data": { "age": 11 }, "dryRun": true, "returnData": true }))
        .send()
        .await
        .json();
    assert_eq!(dry_update[0]["age"], 10);
    assert_eq!(dry_update[1]["age"], 11);
    let plain = app
        .post(&format!("{base}/upsert"))
        .key(key)
        .json(json!({ "filter": by_name("Zed"), "data": { "age": 12 } }))
        .send()
        .await
        .json();
    assert_eq!(plain, json!(true));
    assert_eq!(
        names(&app, key, &table, &format!("filter={}", q(by_name("Zed"))))
            .await
            .len(),
        1
    );

    // Delete: a filter is required; dryRun shows the rows and keeps them.
    let del = |query: String| {
        app.delete(&format!("{base}/delete?{query}"))
            .key(key)
            .send()
    };
    del(String::new())
        .await
        .assert_error(400, "request/query must have required property 'filter'");
    del(format!("filter={}", q(json!({ "filters": [] }))))
        .await
        .assert_error(
            400,
            "Filter is required for delete operations to prevent accidental deletion of all data",
        );
    let dry = del(format!("filter={}&dryRun=true", q(by_name("Zed"))))
        .await
        .json();
    assert_eq!(dry[0]["dryRunState"], "before");
    assert_eq!(dry[0]["name"], "Zed");
    assert_eq!(dry[1]["dryRunState"], "after");
    assert_eq!(dry[1]["id"], Value::Null);
    assert_eq!(dry[1]["name"], Value::Null);
    assert_eq!(
        names(&app, key, &table, &format!("filter={}", q(by_name("Zed"))))
            .await
            .len(),
        1
    );
    let returned = del(format!("filter={}&returnData=true", q(by_name("Zed"))))
        .await
        .json();
    assert_eq!(returned.as_array().map(Vec::len), Some(1));
    assert_eq!(returned[0]["name"], "Zed");
    let plain = del(format!("filter={}", q(by_name("Ada")))).await.json();
    assert_eq!(plain, json!(true));
    del(format!("filter={}&dryRun=maybe", q(by_name("Ada"))))
        .await
        .assert_error(400, "request/query/dryRun must be boolean");
    assert_eq!(names(&app, key, &table, "").await.len(), 4);

    let cleared = app.delete(&format!("{base}/clear")).key(key).send().await;
    assert_eq!(cleared.status, 200);
    assert_eq!(cleared.json(), json!({ "deletedCount": 4 }));
    assert!(names(&app, key, &table, "").await.is_empty());
}

#[tokio::test]
async fn members_reach_only_their_projects_tables_and_viewers_only_read() {
    let app = TestApp::spawn().await;
    let owner_key = &app.owner_key;
    let team = app.create_project("Ops").await;
    let member = app.add_user("member@example.com", "global:member").await;
    let member_key = app.full_key(&member).await;

    let hidden = people(&app, owner_key).await;
    let r = app
        .get(&format!("/api/v1/data-tables/{hidden}/rows"))
        .key(&member_key)
        .send()
        .await;
    r.assert_error(404, &format!("Data table with ID \"{hidden}\" not found."));
    let list = app
        .get("/api/v1/data-tables")
        .key(&member_key)
        .send()
        .await
        .json();
    assert_eq!(list["data"], json!([]));
    app.post("/api/v1/data-tables")
        .key(&member_key)
        .json(json!({ "name": "x", "columns": [], "projectId": team }))
        .send()
        .await
        .assert_error(400, &format!("Project with ID \"{team}\" not found"));

    let in_team = app
        .post("/api/v1/data-tables")
        .key(owner_key)
        .json(json!({ "name": "shared", "columns": [{ "name": "v", "type": "number" }], "projectId": team }))
        .send()
        .await
        .json();
    let shared = id(&in_team);
    app.add_member(&team, &member, "project:viewer").await;
    let read = app
        .get(&format!("/api/v1/data-tables/{shared}/rows"))
        .key(&member_key)
        .send()
        .await;
    assert_eq!(read.status, 200);
    let list = app
        .get("/api/v1/data-tables")
        .key(&member_key)
        .send()
        .await
        .json();
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
    let write = app
        .post(&format!("/api/v1/data-tables/{shared}/rows"))
        .key(&member_key)
        .json(json!({ "data": [{ "v": 1 }] }))
        .send()
        .await;
    write.assert_error(403, "Forbidden");
    app.delete(&format!("/api/v1/data-tables/{shared}"))
        .key(&member_key)
        .send()
        .await
        .assert_error(403, "Forbidden");

    // The session cookie is not accepted on these routes, as in n8n.
    let by_cookie = app
        .get("/api/v1/data-tables")
        .cookie(&app.owner.cookie)
        .send()
        .await;
    assert_eq!(by_cookie.status, 401);
}

#[tokio::test]
async fn fifty_parallel_upserts_leave_one_row_and_parallel_inserts_lose_none() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let table = people(&app, key).await;
    let base = format!("/api/v1/data-tables/{table}/rows");
    let upserts = (0..50).map(|i| {
        app.post(&format!("{base}/upsert"))
            .key(key)
            .json(json!({ "filter": { "filters": [{ "columnName": "name", "value": "same" }] }, "data": { "name": "same", "age": i } }))
            .send()
    });
    for r in futures::future::join_all(upserts).await {
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let same = names(
        &app,
        key,
        &table,
        &format!(
            "filter={}",
            q(json!({ "filters": [{ "columnName": "name", "value": "same" }] }))
        ),
    )
    .await;
    assert_eq!(same.len(), 1, "parallel upserts made {} rows", same.len());

    let inserts = (0..20).map(|i| {
        let rows: Vec<Value> = (0..25)
            .map(|j| json!({ "name": format!("p{i}-{j}") }))
            .collect();
        app.post(&base)
            .key(key)
            .json(json!({ "data": rows }))
            .send()
    });
    for r in futures::future::join_all(inserts).await {
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let mut total = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{base}?cursor={}", url_encode(c)),
            None => format!("{base}?limit=250"),
        };
        let page = app.get(&path).key(key).send().await.json();
        total += page["data"].as_array().expect("data").len();
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(total, 1 + 20 * 25);
}

#[tokio::test]
async fn the_size_limit_refuses_writes_with_n8n_message() {
    let app = TestApp::spawn_with(|c| {
        c.data_tables_max_size_bytes = 64 * 1024;
        c.data_tables_size_check_cache_ms = 0;
    })
    .await;
    let key = &app.owner_key;
    let table = people(&app, key).await;
    let base = format!("/api/v1/data-tables/{table}/rows");
    let filler = "x".repeat(1000);
    let mut refused = None;
    for _ in 0..40 {
        let rows: Vec<Value> = (0..20).map(|_| json!({ "name": filler })).collect();
        let r = app
            .post(&base)
            .key(key)
            .json(json!({ "data": rows }))
            .send()
            .await;
        if r.status != 200 {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the limit was never reached");
    assert_eq!(refused.status, 400, "{}", refused.text());
    let message = refused.message();
    assert!(
        message.starts_with("Data table size limit exceeded: ")
            && message.ends_with("limit is 0.06MB"),
        "{message}"
    );
    // Reads and deletes still work, and clearing makes room again.
    assert_eq!(app.get(&base).key(key).send().await.status, 200);
    let cleared = app.delete(&format!("{base}/clear")).key(key).send().await;
    assert_eq!(cleared.status, 200);
    let listed = app.get("/api/v1/data-tables").key(key).send().await.json();
    assert!(listed["data"][0]["sizeBytes"].as_i64().is_some());
}

/// A caller who cannot see a table gets the 404 of a missing table on every write, even with
/// storage full: the size error would tell them the table exists and how big the data is.
#[tokio::test]
async fn writes_to_a_hidden_table_are_404_before_the_size_limit() {
    let app = TestApp::spawn_with(|c| {
        // Every write is over a limit of zero bytes.
        c.data_tables_max_size_bytes = 0;
        c.data_tables_size_check_cache_ms = 0;
    })
    .await;
    let owner_key = &app.owner_key;
    let member = app.add_user("member@example.com", "global:member").await;
    let member_key = app.full_key(&member).await;
    let hidden = people(&app, owner_key).await;
    let base = format!("/api/v1/data-tables/{hidden}/rows");
    let filter = json!({ "filters": [{ "columnName": "name", "condition": "eq", "value": "A" }] });

    // The owner sees the table, so the owner gets the size error.
    let full = app
        .post(&base)
        .key(owner_key)
        .json(json!({ "data": [{ "name": "A" }] }))
        .send()
        .await;
    assert_eq!(full.status, 400, "{}", full.text());
    assert!(
        full.message().starts_with("Data table size limit exceeded"),
        "{}",
        full.message()
    );

    let not_found = format!("Data table with ID \"{hidden}\" not found.");
    app.post(&base)
        .key(&member_key)
        .json(json!({ "data": [{ "name": "A" }] }))
        .send()
        .await
        .assert_error(404, &not_found);
    app.post(&format!("{base}/upsert"))
        .key(&member_key)
        .json(json!({ "filter": filter, "data": { "name": "A" } }))
        .send()
        .await
        .assert_error(404, &not_found);
    app.patch(&format!("{base}/update"))
        .key(&member_key)
        .json(json!({ "filter": filter, "data": { "name": "B" } }))
        .send()
        .await
        .assert_error(404, &not_found);
    // The same answer as a table that does not exist at all.
    let missing = "AbCdEfGhIjKlMnOp";
    app.post(&format!("/api/v1/data-tables/{missing}/rows"))
        .key(&member_key)
        .json(json!({ "data": [{ "name": "A" }] }))
        .send()
        .await
        .assert_error(404, &format!("Data table with ID \"{missing}\" not found."));
}
