use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

fn setup_body(email: &str, first: &str, password: &str) -> serde_json::Value {
    json!({ "email": email, "firstName": first, "lastName": "Owner", "password": password })
}

#[tokio::test]
async fn owner_setup_creates_the_owner_and_signs_them_in() {
    let app = TestApp::spawn_empty().await;

    let response = app
        .post("/rest/owner/setup")
        .json(setup_body("Boss@Example.com", "Olive", PASSWORD))
        .send()
        .await;

    assert_eq!(response.status, 200, "{}", response.text());
    let user = &response.json()["data"];
    assert_eq!(user["email"], "boss@example.com");
    assert_eq!(user["role"], "global:owner");
    assert_eq!(user["isPending"], false);
    assert!(user.get("passwordHash").is_none() && !response.text().contains("argon2"));
    let set_cookie = response.header("set-cookie").expect("cookie");
    assert!(set_cookie.starts_with("n8n-auth="));
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    let me = app
        .get("/rest/login")
        .cookie(&response.cookie().expect("pair"))
        .send()
        .await;
    assert_eq!(me.json()["data"]["email"], "boss@example.com");
    let settings = app.get("/rest/settings").send().await;
    assert_eq!(
        settings.json()["data"]["userManagement"]["isInstanceOwnerSetUp"],
        true
    );
}

#[tokio::test]
async fn a_second_owner_setup_is_refused() {
    let app = TestApp::spawn().await;

    let again = app
        .post("/rest/owner/setup")
        .json(setup_body("other@example.com", "Eve", PASSWORD))
        .send()
        .await;

    assert_eq!(again.status, 400);
    assert_eq!(
        again.json(),
        json!({ "code": 400, "message": "Instance owner already setup" })
    );
}

#[tokio::test]
async fn concurrent_owner_setups_leave_exactly_one_owner() {
    let app = TestApp::spawn_empty().await;

    let attempts = (0..4).map(|i| {
        let body = setup_body(&format!("owner{i}@example.com"), "Olive", PASSWORD);
        let request = app.post("/rest/owner/setup").json(body);
        async move { request.send().await.status.as_u16() }
    });
    let statuses = futures::future::join_all(attempts).await;

    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn owner_setup_validates_with_n8ns_messages() {
    let app = TestApp::spawn_empty().await;
    let cases = [
        (
            setup_body("not-an-email", "Olive", PASSWORD),
            "Invalid email address",
        ),
        (
            setup_body("a@example.com", "", PASSWORD),
            "First name is required",
        ),
        (
            json!({ "email": "a@example.com", "firstName": "A", "lastName": " ", "password": PASSWORD }),
            "Last name is required",
        ),
        (
            setup_body("a@example.com", "Olive", "Sh0rt"),
            "Password must be 8 to 64 characters long.",
        ),
        (
            setup_body("a@example.com", "Olive", "NoDigitsAtAll"),
            "Password must contain at least 1 number.",
        ),
        (
            setup_body("a@example.com", "Olive", "lowercase123"),
            "Password must contain at least 1 uppercase letter.",
        ),
        (
            json!({ "email": "a@example.com" }),
            "request/body must have required property 'firstName'",
        ),
    ];

    for (body, message) in cases {
        let response = app.post("/rest/owner/setup").json(body).send().await;
        assert_eq!(response.status, 400, "{message}");
        assert_eq!(response.json(), json!({ "code": 400, "message": message }));
    }
    let settings = app.get("/rest/settings").send().await;
    assert_eq!(
        settings.json()["data"]["userManagement"]["isInstanceOwnerSetUp"],
        false
    );
}
