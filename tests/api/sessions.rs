use serde_json::json;

use crate::helpers::{TestApp, OWNER_EMAIL, PASSWORD};

const WRONG: &str = "Wrong username or password. Do you have caps lock on?";

#[tokio::test]
async fn sign_in_with_the_right_password_sets_a_working_cookie() {
    let app = TestApp::spawn().await;

    let user = app.login("OWNER@example.com", PASSWORD).await;

    let me = app.get("/rest/login").cookie(&user.cookie).send().await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["data"]["email"], OWNER_EMAIL);
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
    let app = TestApp::spawn().await;

    let wrong = app
        .post("/rest/login")
        .json(json!({ "emailOrLdapLoginId": OWNER_EMAIL, "password": "Wrong-Passw0rd" }))
        .send()
        .await;
    let unknown = app
        .post("/rest/login")
        .json(json!({ "emailOrLdapLoginId": "nobody@example.com", "password": PASSWORD }))
        .send()
        .await;
    let not_email = app
        .post("/rest/login")
        .json(json!({ "emailOrLdapLoginId": "nobody", "password": PASSWORD }))
        .send()
        .await;

    assert_eq!(wrong.json(), json!({ "code": 401, "message": WRONG }));
    assert_eq!(unknown.json(), json!({ "code": 401, "message": WRONG }));
    assert_eq!(wrong.status, 401);
    assert!(wrong.cookie().is_none());
    assert_eq!(
        not_email.json(),
        json!({ "code": 400, "message": "Invalid email address" })
    );
}

#[tokio::test]
async fn sign_in_is_throttled_per_login_name() {
    let app = TestApp::spawn().await;
    let attempt = || {
        app.post("/rest/login")
            .json(json!({ "emailOrLdapLoginId": OWNER_EMAIL, "password": "Wrong-Passw0rd" }))
    };

    for _ in 0..5 {
        assert_eq!(attempt().send().await.status, 401);
    }
    let throttled = attempt().send().await;
    let even_right = app
        .post("/rest/login")
        .json(json!({ "emailOrLdapLoginId": OWNER_EMAIL, "password": PASSWORD }))
        .send()
        .await;

    assert_eq!(throttled.status, 429);
    assert!(throttled.header("retry-after").is_some());
    assert_eq!(even_right.status, 429);
}

#[tokio::test]
async fn sign_out_ends_the_session_everywhere() {
    let app = TestApp::spawn().await;
    let user = app.login(OWNER_EMAIL, PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/tags")
            .cookie(&user.cookie)
            .send()
            .await
            .status,
        200
    );

    let logout = app.post("/rest/logout").cookie(&user.cookie).send().await;

    assert_eq!(logout.status, 200);
    assert!(logout
        .header("set-cookie")
        .expect("clears")
        .contains("Max-Age=0"));
    assert_eq!(
        app.get("/rest/login")
            .cookie(&user.cookie)
            .send()
            .await
            .status,
        401
    );
    assert_eq!(
        app.get("/rest/api-keys")
            .cookie(&user.cookie)
            .send()
            .await
            .status,
        401
    );
    app.get("/api/v1/tags")
        .cookie(&user.cookie)
        .send()
        .await
        .assert_error(401, "Unauthorized");
}

#[tokio::test]
async fn rest_routes_without_a_session_are_401() {
    let app = TestApp::spawn().await;

    let response = app.get("/rest/api-keys").send().await;
    let forged = app
        .get("/rest/api-keys")
        .cookie("n8n-auth=forged")
        .send()
        .await;

    assert_eq!(
        response.json(),
        json!({ "code": 401, "message": "Unauthorized" })
    );
    assert_eq!(forged.status, 401);
}

#[tokio::test]
async fn state_changing_rest_calls_from_another_origin_are_refused() {
    let app = TestApp::spawn().await;

    let cross = app
        .post("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .header("host", "localhost:5678")
        .header("origin", "https://evil.example")
        .json(json!({ "label": "x", "scopes": ["tag:read"], "expiresAt": null }))
        .send()
        .await;
    let same = app
        .post("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .header("host", "localhost:5678")
        .header("origin", "http://localhost:5678")
        .json(json!({ "label": "x", "scopes": ["tag:read"], "expiresAt": null }))
        .send()
        .await;

    assert_eq!(cross.status, 403);
    assert_eq!(same.status, 200, "{}", same.text());
}
