//! Authentication of the public API: the answers for missing, bad, revoked and expired keys,
//! sessions, the disabled API, throttling, and role changes taking effect at once.

use crate::helpers::TestApp;

#[tokio::test]
async fn a_missing_key_is_401_unauthorized_on_controller_routes() {
    let app = TestApp::spawn().await;

    let response = app.get("/api/v1/tags").send().await;

    response.assert_error(401, "Unauthorized");
    assert!(response.header("set-cookie").is_none());
}

#[tokio::test]
async fn malformed_unknown_and_tampered_keys_are_401() {
    let app = TestApp::spawn().await;
    let mut tampered = app.owner_key.clone().into_bytes();
    let i = tampered.len() - 10;
    tampered[i] = if tampered[i] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let unknown = flowgate::domain::api_key::RawApiKey::generate();

    for key in [
        "garbage",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
        tampered.as_str(),
        unknown.expose(),
    ] {
        app.get("/api/v1/tags")
            .key(key)
            .send()
            .await
            .assert_error(401, "Unauthorized");
    }
}

#[tokio::test]
async fn a_key_without_the_routes_scope_is_403() {
    let app = TestApp::spawn().await;
    let key = app.key_with(&app.owner, &["tag:read"]).await;

    app.get("/api/v1/tags")
        .key(&key)
        .send()
        .await
        .assert_error(403, "Forbidden");
}

#[tokio::test]
async fn a_session_cookie_works_on_the_public_api_with_its_roles_scopes() {
    let app = TestApp::spawn().await;
    let member = app.add_user("member@example.com", "global:member").await;

    let owner_list = app
        .get("/api/v1/tags")
        .cookie(&app.owner.cookie)
        .send()
        .await;
    let member_list = app.get("/api/v1/tags").cookie(&member.cookie).send().await;
    let created = app
        .post("/api/v1/tags")
        .cookie(&member.cookie)
        .json(serde_json::json!({ "name": "m" }))
        .send()
        .await;
    let member_delete = app
        .delete(&format!(
            "/api/v1/tags/{}",
            created.json()["id"].as_str().expect("id")
        ))
        .cookie(&member.cookie)
        .send()
        .await;

    assert_eq!(owner_list.status, 200);
    assert_eq!(member_list.status, 200);
    // Members may not hold tag:delete, so their session may not either.
    member_delete.assert_error(403, "Forbidden");
}

#[tokio::test]
async fn with_the_public_api_disabled_keys_are_refused_but_sessions_work() {
    let app = TestApp::spawn_with(|c| c.public_api_disabled = true).await;
    let raw = flowgate::domain::api_key::RawApiKey::generate();

    app.get("/api/v1/tags")
        .key(raw.expose())
        .send()
        .await
        .assert_error(401, "Unauthorized");
    assert_eq!(
        app.get("/api/v1/tags")
            .cookie(&app.owner.cookie)
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn keys_stop_working_when_their_owner_is_deleted() {
    let app = TestApp::spawn().await;
    let member = app.add_user("member@example.com", "global:member").await;
    let key = app.key_with(&member, &["tag:list"]).await;
    assert_eq!(app.get("/api/v1/tags").key(&key).send().await.status, 200);

    app.sql(&format!("delete from users where id = '{}'", member.id))
        .await;

    app.get("/api/v1/tags")
        .key(&key)
        .send()
        .await
        .assert_error(401, "Unauthorized");
}

#[tokio::test]
async fn keys_stop_working_when_their_owner_is_disabled() {
    let app = TestApp::spawn().await;
    let member = app.add_user("member@example.com", "global:member").await;
    let key = app.key_with(&member, &["tag:list"]).await;

    app.sql(&format!(
        "update users set disabled = true where id = '{}'",
        member.id
    ))
    .await;

    app.get("/api/v1/tags")
        .key(&key)
        .send()
        .await
        .assert_error(401, "Unauthorized");
    app.get("/api/v1/tags")
        .cookie(&member.cookie)
        .send()
        .await
        .assert_error(401, "Unauthorized");
}

#[tokio::test]
async fn a_demoted_users_keys_lose_the_scopes_of_the_old_role_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.add_user("admin@example.com", "global:admin").await;
    let key = app.key_with(&admin, &["tag:list", "tag:delete"]).await;
    let tag = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .json(serde_json::json!({ "name": "doomed" }))
        .send()
        .await;
    let tag_id = tag.json()["id"].as_str().expect("id").to_owned();

    app.sql(&format!(
        "update users set role = 'global:member' where id = '{}'",
        admin.id
    ))
    .await;

    assert_eq!(app.get("/api/v1/tags").key(&key).send().await.status, 200);
    app.delete(&format!("/api/v1/tags/{tag_id}"))
        .key(&key)
        .send()
        .await
        .assert_error(403, "Forbidden");

    app.sql(&format!(
        "update users set role = 'global:admin' where id = '{}'",
        admin.id
    ))
    .await;

    assert_eq!(
        app.delete(&format!("/api/v1/tags/{tag_id}"))
            .key(&key)
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_throttled_without_locking_out_others() {
    let app = TestApp::spawn_with(|c| {
        c.failed_auth_per_minute = 5;
        c.proxy_hops = 1;
    })
    .await;
    let attacker = |key: &str| {
        app.get("/api/v1/tags")
            .key(key)
            .header("x-forwarded-for", "203.0.113.7")
            .send()
    };
    let bad = flowgate::domain::api_key::RawApiKey::generate();

    for _ in 0..5 {
        assert_eq!(attacker(bad.expose()).await.status, 401);
    }
    let throttled = attacker(bad.expose()).await;
    let elsewhere = app
        .get("/api/v1/tags")
        .key(&app.owner_key)
        .header("x-forwarded-for", "198.51.100.1")
        .send()
        .await;

    assert_eq!(throttled.status, 429);
    assert!(throttled
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|s| (1..=60).contains(&s)));
    assert!(throttled.json()["message"].is_string());
    assert_eq!(elsewhere.status, 200);
}

/// A second instance on the database of `app` (the same SQLite file, or the same PostgreSQL
/// schema), with connections of its own.
async fn second_instance(app: &TestApp) -> TestApp {
    TestApp::open(
        tempfile::tempdir().expect("dir"),
        app.state.config.clone(),
        app.pg_schema.clone(),
    )
    .await
}

#[tokio::test]
async fn key_and_user_changes_on_one_instance_hold_on_another_from_the_next_request() {
    let a = TestApp::spawn().await;
    let b = second_instance(&a).await;
    let tag = a
        .post("/api/v1/tags")
        .key(&a.owner_key)
        .json(serde_json::json!({ "name": "shared" }))
        .send()
        .await;
    assert_eq!(tag.status, 201, "{}", tag.text());
    let tag_path = format!("/api/v1/tags/{}", tag.json()["id"].as_str().expect("id"));
    // Each read on B comes right after a change on A, with nothing in between.
    let read = |key: String| {
        let b = &b;
        let path = tag_path.clone();
        async move { b.get(&path).key(&key).send().await.status }
    };

    // A demoted admin loses the admin scopes of their key.
    let admin = a.add_user("admin@example.com", "global:admin").await;
    let admin_key = a.key_with(&admin, &["tag:read", "user:read"]).await;
    let user_path = format!("/api/v1/users/{}", admin.id);
    assert_eq!(b.get(&user_path).key(&admin_key).send().await.status, 200);
    let demoted = a
        .patch(&format!("/api/v1/users/{}/role", admin.id))
        .key(&a.owner_key)
        .json(serde_json::json!({ "newRoleName": "global:member" }))
        .send()
        .await;
    assert_eq!(demoted.status, 204, "{}", demoted.text());
    assert_eq!(b.get(&user_path).key(&admin_key).send().await.status, 403);
    assert_eq!(read(admin_key.clone()).await, 200);

    // A disabled user's key stops working; enabled again, it works again.
    let member = a.add_user("member@example.com", "global:member").await;
    let member_key = a.key_with(&member, &["tag:read"]).await;
    assert_eq!(read(member_key.clone()).await, 200);
    a.sql(&format!(
        "update users set disabled = true where id = '{}'",
        member.id
    ))
    .await;
    assert_eq!(read(member_key.clone()).await, 401);
    a.sql(&format!(
        "update users set disabled = false where id = '{}'",
        member.id
    ))
    .await;
    assert_eq!(read(member_key.clone()).await, 200);

    // An expired key.
    a.sql(&format!(
        "update api_keys set expires_at = 1 where user_id = '{}'",
        member.id
    ))
    .await;
    assert_eq!(read(member_key).await, 401);

    // A deleted key.
    let keys = a.get("/rest/api-keys").cookie(&admin.cookie).send().await;
    let key_id = keys.json()["data"]["items"][0]["id"]
        .as_str()
        .expect("key id")
        .to_owned();
    assert_eq!(read(admin_key.clone()).await, 200);
    let deleted = a
        .delete(&format!("/rest/api-keys/{key_id}"))
        .cookie(&admin.cookie)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(read(admin_key).await, 401);

    // A deleted user.
    let leaving = a.add_user("leaving@example.com", "global:member").await;
    let leaving_key = a.key_with(&leaving, &["tag:read"]).await;
    assert_eq!(read(leaving_key.clone()).await, 200);
    let removed = a
        .delete(&format!("/api/v1/users/{}", leaving.id))
        .key(&a.owner_key)
        .send()
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text());
    assert_eq!(read(leaving_key).await, 401);
}
