//! Who may call a webhook: the Webhook node's authentication (basic, header, bearer), its IP
//! allowlist, the same on a Wait node's resume webhook, and the refusals at publish. The
//! answers (status, text, `WWW-Authenticate`) are those n8n 2.8.4 gave to the same calls.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::support::*;

async fn credential(app: &TestApp, kind: &str, data: Value) -> String {
    let created = app
        .post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(json!({"name": format!("{kind} for a webhook"), "type": kind, "data": data}))
        .send()
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    created.json()["id"].as_str().expect("id").to_owned()
}

/// A Webhook node answering at once, with `parameters` added and `credentials` as given.
fn guarded_webhook(path: &str, parameters: Value, credentials: Value) -> Value {
    let mut all = json!({"path": path, "options": {}});
    for (k, v) in parameters.as_object().expect("object") {
        all[k] = v.clone();
    }
    json!({"nodes": [{
        "id": format!("{path}-node"), "name": "Webhook", "type": "n8n-nodes-base.webhook",
        "typeVersion": 2, "position": [0, 0], "webhookId": format!("{path}-hook"),
        "parameters": all, "credentials": credentials
    }]})
}

fn assert_refused(resp: &crate::helpers::Resp, status: u16, text: &str) {
    assert_eq!(resp.status, status, "{}", resp.text());
    assert_eq!(resp.text(), text);
    assert_eq!(
        resp.header("www-authenticate"),
        Some("Basic realm=\"Webhook\"")
    );
}

#[tokio::test]
async fn basic_auth_refuses_missing_and_wrong_credentials_and_runs_nothing_for_them() {
    let app = TestApp::spawn().await;
    let id = credential(
        &app,
        "httpBasicAuth",
        json!({"user": "ann", "password": "secret-pw"}),
    )
    .await;
    let workflow = guarded_webhook(
        "basic",
        json!({"authentication": "basicAuth"}),
        json!({"httpBasicAuth": {"id": id, "name": "b"}}),
    );
    let workflow_id = publish(&app, "basic auth", &workflow).await;

    let none = call(&app, "GET", "/webhook/basic", None, &[]).await;
    assert_refused(&none, 401, "Authorization is required!");
    // base64("ann:wrong")
    let wrong = call(
        &app,
        "GET",
        "/webhook/basic",
        None,
        &[("authorization", "Basic YW5uOndyb25n")],
    )
    .await;
    assert_refused(&wrong, 403, "Authorization data is wrong!");
    let bearer = call(
        &app,
        "GET",
        "/webhook/basic",
        None,
        &[("authorization", "Bearer x")],
    )
    .await;
    assert_refused(&bearer, 401, "Authorization is required!");
    let token = call(
        &app,
        "GET",
        "/webhook/basic",
        None,
        &[("x-auth-token", "abc")],
    )
    .await;
    assert_refused(&token, 403, "Authorization data is wrong!");
    assert!(executions(&app, &workflow_id).await.is_empty());

    // base64("ann:secret-pw")
    let right = call(
        &app,
        "GET",
        "/webhook/basic",
        None,
        &[("authorization", "Basic YW5uOnNlY3JldC1wdw==")],
    )
    .await;
    assert_eq!(right.status, 200, "{}", right.text());
    assert_eq!(right.json()["message"], "Workflow was started");
    let execution = last_execution(&app, &workflow_id).await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(executions(&app, &workflow_id).await.len(), 1);
    assert!(!execution.to_string().contains("secret-pw"));
}

#[tokio::test]
async fn header_and_bearer_auth_admit_only_the_exact_value() {
    let app = TestApp::spawn().await;
    let header = credential(
        &app,
        "httpHeaderAuth",
        json!({"name": "X-Secret", "value": "s3cret"}),
    )
    .await;
    let bearer = credential(&app, "httpBearerAuth", json!({"token": "tok-123"})).await;
    publish(
        &app,
        "header auth",
        &guarded_webhook(
            "header",
            json!({"authentication": "headerAuth"}),
            json!({"httpHeaderAuth": {"id": header, "name": "h"}}),
        ),
    )
    .await;
    publish(
        &app,
        "bearer auth",
        &guarded_webhook(
            "bearer",
            json!({"authentication": "bearerAuth"}),
            json!({"httpBearerAuth": {"id": bearer, "name": "t"}}),
        ),
    )
    .await;

    let none = call(&app, "GET", "/webhook/header", None, &[]).await;
    assert_refused(&none, 403, "Authorization data is wrong!");
    let wrong = call(
        &app,
        "GET",
        "/webhook/header",
        None,
        &[("x-secret", "nope")],
    )
    .await;
    assert_refused(&wrong, 403, "Authorization data is wrong!");
    let right = call(
        &app,
        "GET",
        "/webhook/header",
        None,
        &[("x-secret", "s3cret")],
    )
    .await;
    assert_eq!(right.status, 200, "{}", right.text());

    let wrong = call(
        &app,
        "GET",
        "/webhook/bearer",
        None,
        &[("authorization", "Bearer tok-12")],
    )
    .await;
    assert_refused(&wrong, 403, "Authorization data is wrong!");
    let right = call(
        &app,
        "GET",
        "/webhook/bearer",
        None,
        &[("authorization", "Bearer tok-123")],
    )
    .await;
    assert_eq!(right.status, 200, "{}", right.text());
}

#[tokio::test]
async fn the_ip_allowlist_refuses_other_addresses_before_anything_runs() {
    let app = TestApp::spawn().await;
    let outside = publish(
        &app,
        "outside",
        &guarded_webhook(
            "ip-outside",
            json!({"options": {"ipWhitelist": "10.0.0.0/8, 192.168.1.1"}}),
            json!({}),
        ),
    )
    .await;
    publish(
        &app,
        "inside",
        &guarded_webhook(
            "ip-inside",
            json!({"options": {"ipWhitelist": "10.0.0.0/8, 127.0.0.0/8"}}),
            json!({}),
        ),
    )
    .await;

    // The test client calls from the loopback address.
    let refused = call(&app, "GET", "/webhook/ip-outside", None, &[]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.text(), "IP is not allowed to access the webhook!");
    assert_eq!(refused.header("www-authenticate"), None);
    // A forged X-Forwarded-For counts for nothing without trusted proxies.
    let forged = call(
        &app,
        "GET",
        "/webhook/ip-outside",
        None,
        &[("x-forwarded-for", "10.1.2.3")],
    )
    .await;
    assert_eq!(forged.status, 403);
    assert!(executions(&app, &outside).await.is_empty());

    let admitted = call(&app, "GET", "/webhook/ip-inside", None, &[]).await;
    assert_eq!(admitted.status, 200, "{}", admitted.text());
}

#[tokio::test]
async fn a_webhook_that_cannot_be_checked_is_not_published() {
    let app = TestApp::spawn().await;
    let jwt = create(
        &app,
        "jwt",
        &guarded_webhook(
            "jwt",
            json!({"authentication": "jwtAuth"}),
            json!({"jwtAuth": {"id": "x", "name": "j"}}),
        ),
    )
    .await;
    let refused = app
        .post(&format!("/api/v1/workflows/{jwt}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(refused.status, 400);
    let message = refused.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("\"Webhook\"") && message.contains("JWT Auth"),
        "{message}"
    );

    let uncredentialed = create(
        &app,
        "no credential",
        &guarded_webhook(
            "no-credential",
            json!({"authentication": "basicAuth"}),
            json!({}),
        ),
    )
    .await;
    let refused = app
        .post(&format!("/api/v1/workflows/{uncredentialed}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json()["message"],
        "Cannot publish workflow: 1 node have configuration issues:\n\nNode \"Webhook\":\n  - Missing required credential: httpBasicAuth"
    );
    let unknown = call(&app, "GET", "/webhook/no-credential", None, &[]).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_credential_that_is_gone_answers_that_the_node_is_not_set_up() {
    let app = TestApp::spawn().await;
    let id = credential(
        &app,
        "httpHeaderAuth",
        json!({"name": "X-Secret", "value": "s3cret"}),
    )
    .await;
    publish(
        &app,
        "header auth",
        &guarded_webhook(
            "gone",
            json!({"authentication": "headerAuth"}),
            json!({"httpHeaderAuth": {"id": id, "name": "h"}}),
        ),
    )
    .await;
    let deleted = app
        .delete(&format!("/api/v1/credentials/{id}"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let refused = call(
        &app,
        "GET",
        "/webhook/gone",
        None,
        &[("x-secret", "s3cret")],
    )
    .await;
    assert_refused(&refused, 500, "No authentication data defined on node!");
}

#[tokio::test]
async fn a_wait_nodes_resume_webhook_checks_its_own_authentication() {
    let app = TestApp::spawn().await;
    let id = credential(
        &app,
        "httpBasicAuth",
        json!({"user": "ann", "password": "secret-pw"}),
    )
    .await;
    let workflow = json!({
        "nodes": [
            {"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
             "webhookId": "resume-auth-hook", "parameters": {"path": "resume-auth", "options": {}}},
            {"id": "w", "name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [200, 0],
             "webhookId": "5a1e8c2d-0000-4000-8000-0000000000bb",
             "parameters": {"resume": "webhook", "incomingAuthentication": "basicAuth", "options": {}},
             "credentials": {"httpBasicAuth": {"id": id, "name": "b"}}}
        ],
        "connections": {"Webhook": {"main": [[{"node": "Wait", "type": "main", "index": 0}]]}},
    });
    let workflow_id = publish(&app, "resume with auth", &workflow).await;
    assert_eq!(
        call(&app, "GET", "/webhook/resume-auth", None, &[])
            .await
            .status,
        200
    );
    let waiting = last_execution(&app, &workflow_id).await;
    assert_eq!(waiting["status"], "waiting", "{waiting}");
    let execution_id = waiting["id"].as_str().expect("id").to_owned();
    let resume = format!("/webhook-waiting/{execution_id}");

    let refused = call(&app, "GET", &resume, None, &[]).await;
    assert_refused(&refused, 401, "Authorization is required!");
    let still = wait_for_status(&app, &execution_id, "waiting").await;
    assert_eq!(still["status"], "waiting");

    let resumed = call(
        &app,
        "GET",
        &resume,
        None,
        &[("authorization", "Basic YW5uOnNlY3JldC1wdw==")],
    )
    .await;
    assert_eq!(resumed.status, 200, "{}", resumed.text());
    let done = wait_for_status(&app, &execution_id, "success").await;
    assert_eq!(done["status"], "success");
}

#[tokio::test]
async fn cross_origin_calls_get_the_headers_of_the_nodes_allowed_origins() {
    let app = TestApp::spawn().await;
    let restricted = json!({"nodes": [{
        "id": "c1", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
        "position": [0, 0], "webhookId": "cors-restricted-hook",
        "parameters": {"path": "cors-restricted", "httpMethod": "POST",
                       "options": {"allowedOrigins": "https://a.example, https://b.example"}}
    }]});
    publish(&app, "restricted", &restricted).await;
    publish(
        &app,
        "open",
        &guarded_webhook("cors-open", json!({}), json!({})),
    )
    .await;

    let preflight = call(
        &app,
        "OPTIONS",
        "/webhook/cors-restricted",
        None,
        &[
            ("origin", "https://a.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "x-custom, content-type"),
        ],
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("OPTIONS, POST")
    );
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://a.example")
    );
    assert_eq!(preflight.header("access-control-max-age"), Some("300"));
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("x-custom, content-type")
    );

    let listed = call(
        &app,
        "POST",
        "/webhook/cors-restricted",
        None,
        &[("origin", "https://b.example")],
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(
        listed.header("access-control-allow-origin"),
        Some("https://b.example")
    );
    let other = call(
        &app,
        "POST",
        "/webhook/cors-restricted",
        None,
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(
        other.header("access-control-allow-origin"),
        Some("https://a.example")
    );
    let no_origin = call(&app, "POST", "/webhook/cors-restricted", None, &[]).await;
    assert_eq!(no_origin.status, 200);
    assert_eq!(no_origin.header("access-control-allow-origin"), None);
    assert_eq!(no_origin.header("access-control-allow-methods"), None);

    let open = call(
        &app,
        "GET",
        "/webhook/cors-open",
        None,
        &[("origin", "https://x.example")],
    )
    .await;
    assert_eq!(
        open.header("access-control-allow-origin"),
        Some("https://x.example")
    );
    assert_eq!(
        open.header("access-control-allow-methods"),
        Some("OPTIONS, GET")
    );

    let unknown = call(
        &app,
        "OPTIONS",
        "/webhook/nowhere",
        None,
        &[("origin", "https://x.example")],
    )
    .await;
    assert_eq!(unknown.status, 204);
    assert_eq!(
        unknown.header("access-control-allow-methods"),
        Some("OPTIONS")
    );
    assert_eq!(unknown.header("access-control-allow-origin"), None);
    let bare = call(&app, "OPTIONS", "/webhook/cors-open", None, &[]).await;
    assert_eq!(bare.status, 204);
    assert_eq!(bare.header("access-control-allow-methods"), None);
}
