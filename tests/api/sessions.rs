use serde_json::json;

use crate::helpers::{workflow_body, TestApp, OWNER_EMAIL, PASSWORD};

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

/// The same-origin rule holds on every cookie-authenticated write, `/api/v1` included, while
/// API-key requests (which a browser cannot forge) are unaffected.
#[tokio::test]
async fn cookie_writes_on_the_public_api_from_another_site_are_refused() {
    let app = TestApp::spawn().await;
    let workflow = app
        .create_workflow(&app.owner_key, workflow_body("csrf target"))
        .await;
    let archive = format!(
        "/api/v1/workflows/{}/archive",
        workflow["id"].as_str().unwrap()
    );

    let cross_origin = app
        .post(&archive)
        .cookie(&app.owner.cookie)
        .header("host", "localhost:5678")
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .raw("a=b")
        .send()
        .await;
    let cross_site = app
        .post(&archive)
        .cookie(&app.owner.cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await;
    let form_body = app
        .post(&archive)
        .cookie(&app.owner.cookie)
        .header("content-type", "text/plain")
        .raw("x")
        .send()
        .await;
    cross_origin.assert_error(403, "Cross-origin request refused");
    assert_eq!(cross_site.status, 403);
    assert_eq!(form_body.status, 403);
    let unchanged = app
        .get(&format!(
            "/api/v1/workflows/{}",
            workflow["id"].as_str().unwrap()
        ))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(unchanged.json()["isArchived"], false);

    let same_origin = app
        .post(&archive)
        .cookie(&app.owner.cookie)
        .header("host", "localhost:5678")
        .header("origin", "http://localhost:5678")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await;
    assert_eq!(same_origin.status, 200, "{}", same_origin.text());

    // A key request with a foreign Origin and a form type is not a browser's forged write.
    let other = app
        .create_workflow(&app.owner_key, workflow_body("by key"))
        .await;
    let by_key = app
        .post(&format!(
            "/api/v1/workflows/{}/archive",
            other["id"].as_str().unwrap()
        ))
        .key(&app.owner_key)
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await;
    assert_eq!(by_key.status, 200, "{}", by_key.text());
}

/// Password hashing is bounded: a burst of sign-ins (to unknown accounts, which cost a full
/// verification too) is answered 401 or, past a short wait for a slot, 503 with
/// `Retry-After`; none hangs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_failed_sign_ins_is_answered_401_or_503_never_hangs() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let mut attempts = Vec::new();
    for i in 0..40 {
        let app = app.clone();
        attempts.push(tokio::spawn(async move {
            let response = app
                .post("/rest/login")
                .json(json!({
                    "emailOrLdapLoginId": format!("nobody{i}@example.com"),
                    "password": "Wrong-Passw0rd",
                }))
                .send()
                .await;
            (
                response.status.as_u16(),
                response.header("retry-after").map(str::to_owned),
            )
        }));
    }
    let answers = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        let mut answers = Vec::new();
        for attempt in attempts {
            answers.push(attempt.await.expect("task"));
        }
        answers
    })
    .await
    .expect("every sign-in is answered");
    assert!(answers.iter().any(|(status, _)| *status == 401));
    for (status, retry_after) in answers {
        assert!(status == 401 || status == 503, "status {status}");
        if status == 503 {
            assert_eq!(retry_after.as_deref(), Some("5"));
        }
    }
}
