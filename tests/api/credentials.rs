//! Credentials: validation against the type catalog, secrets that never come back, partial
//! updates, transfers, the credential test with its network guard, and key rotation.

use serde_json::{json, Value};

use crate::helpers::{test_config, TestApp};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

fn postgres_credential(password: &str) -> Value {
    json!({ "name": "Warehouse", "type": "postgres", "data": { "host": "db.internal", "port": 5432, "user": "etl", "password": password, "ssl": "require" } })
}

/// The stored data of a credential, opened with the app's keys (what a workflow would use).
async fn stored_data(app: &TestApp, credential_id: &str) -> Value {
    let mut conn = app.state.db.acquire().await.expect("conn");
    let row = flowgate::db::credentials::find(conn.conn(), credential_id)
        .await
        .expect("query")
        .expect("row");
    let plain = app
        .state
        .keys
        .open(&row.data, &format!("credential:{credential_id}"))
        .expect("opens");
    serde_json::from_slice(&plain).expect("json")
}

#[tokio::test]
async fn a_credential_is_created_and_its_secrets_never_come_back() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;

    let created = app
        .post("/api/v1/credentials")
        .key(key)
        .json(postgres_credential("canary-Passw0rd-7f3a"))
        .send()
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let credential = created.json();
    assert_eq!(credential["type"], "postgres");
    assert_eq!(credential["isManaged"], false);
    assert!(credential.get("data").is_none());
    let cid = id(&credential);

    for response in [
        created,
        app.get(&format!("/api/v1/credentials/{cid}"))
            .key(key)
            .send()
            .await,
        app.get("/api/v1/credentials").key(key).send().await,
    ] {
        assert!(
            !response.text().contains("canary-Passw0rd-7f3a"),
            "{}",
            response.text()
        );
        assert!(!response.text().contains("db.internal"));
    }
    let listed = app.get("/api/v1/credentials").key(key).send().await.json();
    assert_eq!(listed["data"][0]["shared"][0]["role"], "credential:owner");
    assert!(listed["data"][0]["shared"][0]["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("Olive Owner")));
    assert_eq!(
        stored_data(&app, &cid).await["password"],
        "canary-Passw0rd-7f3a"
    );

    let mut conn = app.state.db.acquire().await.expect("conn");
    let raw: String = flowgate::on_conn!(conn.conn(), c => sqlx::query_scalar("select data from credentials").fetch_one(c).await).expect("row");
    assert!(
        raw.starts_with("v1$") && !raw.contains("canary") && !raw.contains("etl"),
        "the data column is sealed"
    );
}

#[tokio::test]
async fn credential_data_is_checked_against_the_type() {
    let app = TestApp::spawn().await;
    let create = |body: Value| {
        app.post("/api/v1/credentials")
            .key(&app.owner_key)
            .json(body)
            .send()
    };

    create(json!({ "name": "x", "type": "nope", "data": {} }))
        .await
        .assert_error(400, "req.body.type is not a known type");
    create(json!({ "name": "x", "type": "httpHeaderAuth", "data": { "value": "v" } }))
        .await
        .assert_error(400, "request.body.data requires property \"name\"");
    create(json!({ "name": "x", "type": "postgres", "data": { "port": "5432" } }))
        .await
        .assert_error(400, "request.body.data.port is not of a type(s) number");
    create(json!({ "name": "x", "type": "postgres", "data": { "colour": "red" } }))
        .await
        .assert_error(
            400,
            "request.body.data is not allowed to have the additional property \"colour\"",
        );
    create(json!({ "name": "x", "type": "postgres" }))
        .await
        .assert_error(400, "request/body must have required property 'data'");
    create(json!({ "name": "x", "type": "postgres", "data": {}, "id": "has spaces" })).await.assert_error(
        400,
        "request/body/id must match pattern \"^[a-zA-Z0-9_-]+$\" and be 1 to 16 characters long",
    );
    assert_eq!(
        create(json!({ "name": "x", "type": "postgres", "data": {}, "id": "my-cred_1" }))
            .await
            .json()["id"],
        "my-cred_1"
    );
    create(json!({ "name": "y", "type": "postgres", "data": {}, "id": "my-cred_1" }))
        .await
        .assert_error(409, "Credential with ID \"my-cred_1\" already exists.");
    assert_eq!(
        app.get("/api/v1/credentials")
            .key(&app.owner_key)
            .send()
            .await
            .json()["data"]
            .as_array()
            .expect("data")
            .len(),
        1
    );
}

#[tokio::test]
async fn updates_keep_replace_or_merge_the_secrets() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let cid = id(&app
        .post("/api/v1/credentials")
        .key(key)
        .json(postgres_credential("first-secret"))
        .send()
        .await
        .json());
    let patch = |body: Value| {
        app.patch(&format!("/api/v1/credentials/{cid}"))
            .key(key)
            .json(body)
            .send()
    };

    let renamed = patch(json!({ "name": "Renamed" })).await;
    assert_eq!(renamed.json()["name"], "Renamed");
    assert_eq!(
        stored_data(&app, &cid).await["password"],
        "first-secret",
        "a rename keeps the secrets"
    );

    assert_eq!(
        patch(json!({ "data": { "password": "second-secret" }, "isPartialData": true }))
            .await
            .status,
        200
    );
    let merged = stored_data(&app, &cid).await;
    assert_eq!(merged["password"], "second-secret");
    assert_eq!(merged["host"], "db.internal", "a partial update merges");

    assert_eq!(
        patch(json!({ "data": { "host": "other" } })).await.status,
        200
    );
    let replaced = stored_data(&app, &cid).await;
    assert_eq!(
        replaced,
        json!({ "host": "other" }),
        "a full update replaces"
    );

    patch(json!({ "data": { "port": "x" } }))
        .await
        .assert_error(400, "request.body.data.port is not of a type(s) number");
    patch(json!({ "type": "httpHeaderAuth" }))
        .await
        .assert_error(
            400,
            "request.body.data is not allowed to have the additional property \"host\"",
        );
    assert_eq!(
        stored_data(&app, &cid).await,
        json!({ "host": "other" }),
        "failed updates change nothing"
    );
    app.patch("/api/v1/credentials/AAAAAAAAAAAAAAAA")
        .key(key)
        .json(json!({ "name": "x" }))
        .send()
        .await
        .assert_error(404, "Credential not found");
}

#[tokio::test]
async fn deleting_answers_the_usage_scope_and_transfers_move_credentials() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let cid = id(&app
        .post("/api/v1/credentials")
        .key(key)
        .json(postgres_credential("s"))
        .send()
        .await
        .json());
    let project = app.create_project("Data").await;

    let moved = app
        .put(&format!("/api/v1/credentials/{cid}/transfer"))
        .key(key)
        .json(json!({ "destinationProjectId": project }))
        .send()
        .await;
    assert_eq!(moved.status, 204);
    let listed = app.get("/api/v1/credentials").key(key).send().await.json();
    assert_eq!(listed["data"][0]["shared"][0]["id"], project.as_str());
    app.put(&format!("/api/v1/credentials/{cid}/transfer"))
        .key(key)
        .json(json!({ "destinationProjectId": project }))
        .send()
        .await
        .assert_error(
            400,
            "You can't transfer a credential into the project that's already owning it.",
        );

    app.put("/api/v1/credentials/nosuchcredential/transfer")
        .key(key)
        .json(json!({ "destinationProjectId": project }))
        .send()
        .await
        .assert_error(
            400,
            "Could not find the credential with the id \"nosuchcredential\". Make sure you have the permission to move it.",
        );

    let deleted = app
        .delete(&format!("/api/v1/credentials/{cid}"))
        .key(key)
        .send()
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["usageScope"], "project");
    app.delete(&format!("/api/v1/credentials/{cid}"))
        .key(key)
        .send()
        .await
        .assert_error(404, "Not Found");
}

#[tokio::test]
async fn members_manage_their_own_credentials_only() {
    let app = TestApp::spawn().await;
    let member = app.add_user("m@example.com", "global:member").await;
    let member_key = app.full_key(&member).await;
    let owners = id(&app
        .post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(postgres_credential("owner-secret"))
        .send()
        .await
        .json());

    let mine = app
        .post("/api/v1/credentials")
        .key(&member_key)
        .json(postgres_credential("member-secret"))
        .send()
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text());
    let mine = id(&mine.json());
    assert_eq!(
        app.patch(&format!("/api/v1/credentials/{mine}"))
            .key(&member_key)
            .json(json!({ "name": "mine" }))
            .send()
            .await
            .status,
        200
    );
    // Members may not hold credential:read or credential:list.
    app.get(&format!("/api/v1/credentials/{mine}"))
        .key(&member_key)
        .send()
        .await
        .assert_error(403, "Forbidden");
    app.get("/api/v1/credentials")
        .key(&member_key)
        .send()
        .await
        .assert_error(403, "Forbidden");
    let missing = format!("Credential with ID \"{owners}\" not found.");
    app.patch(&format!("/api/v1/credentials/{owners}"))
        .key(&member_key)
        .json(json!({ "name": "x" }))
        .send()
        .await
        .assert_error(404, &missing);
    app.delete(&format!("/api/v1/credentials/{owners}"))
        .key(&member_key)
        .send()
        .await
        .assert_error(404, &missing);
}

#[tokio::test]
async fn the_schema_route_serves_the_n8n_node_credential_test() {
    let app = TestApp::spawn().await;
    let any_key = app.key_with(&app.owner, &["tag:read"]).await;

    let schema = app
        .get("/api/v1/credentials/schema/n8nApi")
        .key(&any_key)
        .send()
        .await;
    assert_eq!(schema.status, 200);
    let body = schema.json();
    assert_eq!(body["additionalProperties"], false);
    assert_eq!(body["required"], json!(["apiKey", "baseUrl"]));
    app.get("/api/v1/credentials/schema/noSuchType")
        .key(&any_key)
        .send()
        .await
        .assert_error(404, "Not Found");
    app.get("/api/v1/credentials/schema/n8nApi")
        .send()
        .await
        .assert_error(401, "Unauthorized");
}

/// Serves the test app's router on a loopback port; answers its base URL.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{address}/api/v1")
}

#[tokio::test]
async fn the_credential_test_calls_the_service_behind_a_network_guard() {
    let app = TestApp::spawn_with(|c| c.credential_test_allow_private = true).await;
    let base = serve(&app).await;
    let create = |api_key: &str| {
        app.post("/api/v1/credentials").key(&app.owner_key).json(json!({ "name": "self", "type": "n8nApi", "data": { "apiKey": api_key, "baseUrl": base } })).send()
    };
    let good = id(&create(&app.owner_key).await.json());
    let bad = id(&create("n8n_api_wrong").await.json());
    let untestable = id(&app
        .post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(json!({ "name": "b", "type": "httpBasicAuth", "data": { "user": "u" } }))
        .send()
        .await
        .json());

    let ok = app
        .post(&format!("/api/v1/credentials/{good}/test"))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    let refused = app
        .post(&format!("/api/v1/credentials/{bad}/test"))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    let none = app
        .post(&format!("/api/v1/credentials/{untestable}/test"))
        .key(&app.owner_key)
        .send()
        .await
        .json();

    assert_eq!(
        ok,
        json!({ "status": "OK", "message": "Connection successful!" })
    );
    assert_eq!(refused["status"], "Error");
    assert_eq!(
        none,
        json!({ "status": "Error", "message": "No testing function found for this credential." })
    );

    let guarded = TestApp::spawn().await;
    let cid = id(&guarded
        .post("/api/v1/credentials")
        .key(&guarded.owner_key)
        .json(json!({ "name": "s", "type": "n8nApi", "data": { "apiKey": "k", "baseUrl": base } }))
        .send()
        .await
        .json());
    let blocked = guarded
        .post(&format!("/api/v1/credentials/{cid}/test"))
        .key(&guarded.owner_key)
        .send()
        .await
        .json();
    assert_eq!(
        blocked,
        json!({ "status": "Error", "message": "Requests to private, loopback or link-local addresses are not allowed" })
    );
}

#[tokio::test]
async fn a_sealed_value_copied_to_another_credential_does_not_open() {
    let app = TestApp::spawn_with(|c| c.credential_test_allow_private = true).await;
    let a = id(&app
        .post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(postgres_credential("aaa"))
        .send()
        .await
        .json());
    let b = id(&app
        .post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(postgres_credential("bbb"))
        .send()
        .await
        .json());

    app.sql(&format!("update credentials set data = (select data from credentials where id = '{a}') where id = '{b}'")).await;

    let mut conn = app.state.db.acquire().await.expect("conn");
    let row = flowgate::db::credentials::find(conn.conn(), &b)
        .await
        .expect("query")
        .expect("row");
    assert!(app
        .state
        .keys
        .open(&row.data, &format!("credential:{b}"))
        .is_err());
    let answer = app
        .patch(&format!("/api/v1/credentials/{b}"))
        .key(&app.owner_key)
        .json(json!({ "name": "x" }))
        .send()
        .await;
    assert_eq!(answer.status, 500);
    assert!(
        !answer.text().contains("aaa") && !answer.text().contains("credential:"),
        "{}",
        answer.text()
    );
}

#[tokio::test]
async fn the_encryption_key_can_be_rotated() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut config, schema) = test_config(dir.path());
    let first = TestApp::open(
        tempfile::tempdir().expect("dir"),
        config.clone(),
        schema.clone(),
    )
    .await;
    let setup = first.post("/rest/owner/setup").json(json!({ "email": "o@example.com", "firstName": "O", "lastName": "W", "password": "Passw0rd-ok" })).send().await;
    let cookie = setup.cookie().expect("cookie");
    let cid = id(&first
        .post("/api/v1/credentials")
        .cookie(&cookie)
        .json(postgres_credential("rotate-me"))
        .send()
        .await
        .json());
    drop(first);

    // The new key alone cannot open what the old one sealed: the server refuses to start.
    config.encryption_key = Some("second-key".into());
    let db = flowgate::db::Db::connect(&config).await.expect("db");
    let refused = flowgate::app::AppState::new(config.clone(), db)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(refused.contains("N8N_ENCRYPTION_KEY"), "{refused}");

    // With the old key as a previous key it starts, and re-encryption moves everything over.
    config.encryption_keys_previous = vec!["test-encryption-key".into()];
    let rotating = TestApp::open(
        tempfile::tempdir().expect("dir"),
        config.clone(),
        schema.clone(),
    )
    .await;
    assert_eq!(stored_data(&rotating, &cid).await["password"], "rotate-me");
    let count = flowgate::instance::reencrypt(&rotating.state.db, &rotating.state.keys)
        .await
        .expect("re-encrypt");
    assert_eq!(count, 1);
    drop(rotating);

    config.encryption_keys_previous = Vec::new();
    let rotated = TestApp::open(tempfile::tempdir().expect("dir"), config, schema).await;
    assert_eq!(stored_data(&rotated, &cid).await["password"], "rotate-me");
    let login = rotated
        .post("/rest/login")
        .json(json!({ "emailOrLdapLoginId": "o@example.com", "password": "Passw0rd-ok" }))
        .send()
        .await;
    assert_eq!(login.status, 200, "sessions and keys survive the rotation");
}
