//! The NUL character in any text input is a clear 400 at the edge, the same on SQLite and
//! PostgreSQL (which cannot store it in text and would otherwise fail the statement).

use serde_json::json;

use crate::helpers::{workflow_body, TestApp};

#[tokio::test]
async fn nul_in_json_bodies_is_refused_at_any_depth() {
    let app = TestApp::spawn().await;
    let key = app.owner_key.clone();

    let tag = app
        .post("/api/v1/tags")
        .key(&key)
        .json(json!({ "name": "a\u{0}b" }))
        .send()
        .await;
    tag.assert_error(
        400,
        "request/body/name must not contain the NUL character (\\u0000)",
    );

    let mut workflow = workflow_body("fine");
    workflow["name"] = json!("bad\u{0}name");
    let named = app
        .post("/api/v1/workflows")
        .key(&key)
        .json(workflow)
        .send()
        .await;
    assert_eq!(named.status, 400, "{}", named.text());

    let mut nested = workflow_body("fine");
    nested["settings"] = json!({ "timezone": "Europe/Paris\u{0}" });
    let deep = app
        .post("/api/v1/workflows")
        .key(&key)
        .json(nested)
        .send()
        .await;
    deep.assert_error(
        400,
        "request/body/settings/timezone must not contain the NUL character (\\u0000)",
    );

    let variable = app
        .post("/api/v1/variables")
        .key(&key)
        .json(json!({ "key": "SAFE_KEY", "value": "x\u{0}" }))
        .send()
        .await;
    assert_eq!(variable.status, 400, "{}", variable.text());

    // A NUL in an object key is refused too.
    let key_nul = app
        .post("/api/v1/tags")
        .key(&key)
        .json(json!({ "name": "ok", "x\u{0}": 1 }))
        .send()
        .await;
    assert_eq!(key_nul.status, 400, "{}", key_nul.text());

    // Nothing was stored.
    let tags = app.get("/api/v1/tags").key(&key).send().await.json();
    assert_eq!(tags["data"], json!([]));
    let workflows = app.get("/api/v1/workflows").key(&key).send().await.json();
    assert_eq!(workflows["data"], json!([]));
}

#[tokio::test]
async fn nul_in_query_values_and_path_ids_is_refused() {
    let app = TestApp::spawn().await;
    let key = app.owner_key.clone();

    for path in [
        "/api/v1/workflows?name=a%00b",
        "/api/v1/workflows?tags=x%00",
        "/api/v1/tags/a%00b",
        "/api/v1/workflows/abc%00",
        "/api/v1/credentials/abc%00/transfer",
    ] {
        let response = app.get(path).key(&key).send().await;
        assert_eq!(response.status, 400, "{path}: {}", response.text());
        assert!(
            response.message().contains("NUL character"),
            "{path}: {}",
            response.text()
        );
    }
    // An escaped percent sign is not a NUL.
    let literal = app
        .get("/api/v1/workflows?name=a%2500b")
        .key(&key)
        .send()
        .await;
    assert_eq!(literal.status, 200, "{}", literal.text());

    let rest = app
        .get("/rest/resolve-signup-token?inviterId=a%00&inviteeId=b")
        .send()
        .await;
    assert_eq!(rest.status, 400, "{}", rest.text());
}
