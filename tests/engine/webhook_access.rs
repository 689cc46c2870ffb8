//! Who may call a webhook: the Webhook node's authentication (basic, header, bearer, JWT), its IP
//! allowlist, the same on a Wait node's resume webhook, and the refusals at publish. The
//! answers (status, text, `WWW-Authenticate`) are those n8n 2.8.4 gave to the same calls (the JWT
//! refusals, the `jwtPayload` item field and the signed answer's header and claims included).

use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};
use crate::support::*;

/// A call without a body.
async fn send(app: &TestApp, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    call(app, method, path, None, headers).await
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

/// Publishes a workflow of one [`guarded_webhook`]; answers its id.
async fn publish_guarded(
    app: &TestApp,
    path: &str,
    parameters: Value,
    credentials: Value,
) -> String {
    publish(app, path, &guarded_webhook(path, parameters, credentials)).await
}

/// Creates a workflow of one [`guarded_webhook`] and asks to publish it; answers the answer.
async fn try_publish(app: &TestApp, path: &str, parameters: Value, credentials: Value) -> Resp {
    let id = create(app, path, &guarded_webhook(path, parameters, credentials)).await;
    app.post(&format!("/api/v1/workflows/{id}/activate"))
        .key(&app.owner_key)
        .send()
        .await
}

fn assert_refused(resp: &Resp, status: u16, text: &str) {
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
    let workflow_id = publish_guarded(
        &app,
        "basic",
        json!({"authentication": "basicAuth"}),
        json!({"httpBasicAuth": {"id": id, "name": "b"}}),
    )
    .await;

    let missing: &[(&str, &str)] = &[];
    for (headers, status, text) in [
        (missing, 401, "Authorization is required!"),
        // base64("ann:wrong")
        (
            &[("authorization", "Basic YW5uOndyb25n")],
            403,
            "Authorization data is wrong!",
        ),
        (
            &[("authorization", "Bearer x")],
            401,
            "Authorization is required!",
        ),
        (
            &[("x-auth-token", "abc")],
            403,
            "Authorization data is wrong!",
        ),
    ] {
        let refused = send(&app, "GET", "/webhook/basic", headers).await;
        assert_refused(&refused, status, text);
    }
    assert!(executions(&app, &workflow_id).await.is_empty());

    // base64("ann:secret-pw")
    let right = send(
        &app,
        "GET",
        "/webhook/basic",
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
    publish_guarded(
        &app,
        "header",
        json!({"authentication": "headerAuth"}),
        json!({"httpHeaderAuth": {"id": header, "name": "h"}}),
    )
    .await;
    publish_guarded(
        &app,
        "bearer",
        json!({"authentication": "bearerAuth"}),
        json!({"httpBearerAuth": {"id": bearer, "name": "t"}}),
    )
    .await;

    let wrong_bearer: &[(&str, &str)] = &[("authorization", "Bearer tok-12")];
    for (path, headers) in [
        ("/webhook/header", &[][..]),
        ("/webhook/header", &[("x-secret", "nope")]),
        ("/webhook/bearer", wrong_bearer),
    ] {
        let refused = send(&app, "GET", path, headers).await;
        assert_refused(&refused, 403, "Authorization data is wrong!");
    }
    let right_bearer: &[(&str, &str)] = &[("authorization", "Bearer tok-123")];
    for (path, headers) in [
        ("/webhook/header", &[("x-secret", "s3cret")][..]),
        ("/webhook/bearer", right_bearer),
    ] {
        let admitted = send(&app, "GET", path, headers).await;
        assert_eq!(admitted.status, 200, "{path}: {}", admitted.text());
    }
}

#[tokio::test]
async fn the_ip_allowlist_refuses_other_addresses_before_anything_runs() {
    let app = TestApp::spawn().await;
    let outside = publish_guarded(
        &app,
        "ip-outside",
        json!({"options": {"ipWhitelist": "10.0.0.0/8, 192.168.1.1"}}),
        json!({}),
    )
    .await;
    publish_guarded(
        &app,
        "ip-inside",
        json!({"options": {"ipWhitelist": "10.0.0.0/8, 127.0.0.0/8"}}),
        json!({}),
    )
    .await;

    // The test client calls from the loopback address.
    let refused = send(&app, "GET", "/webhook/ip-outside", &[]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.text(), "IP is not allowed to access the webhook!");
    assert_eq!(refused.header("www-authenticate"), None);
    // A forged X-Forwarded-For counts for nothing without trusted proxies.
    let forged = send(
        &app,
        "GET",
        "/webhook/ip-outside",
        &[("x-forwarded-for", "10.1.2.3")],
    )
    .await;
    assert_eq!(forged.status, 403);
    assert!(executions(&app, &outside).await.is_empty());

    let admitted = send(&app, "GET", "/webhook/ip-inside", &[]).await;
    assert_eq!(admitted.status, 200, "{}", admitted.text());
}

#[tokio::test]
async fn a_webhook_that_cannot_be_checked_is_not_published() {
    let app = TestApp::spawn().await;
    let refused = try_publish(
        &app,
        "oidc",
        json!({"authentication": "oidcAuth"}),
        json!({"oidcWebhookAuth": {"id": "x", "name": "o"}}),
    )
    .await;
    assert_eq!(refused.status, 400);
    let message = refused.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("\"Webhook\"") && message.contains("oidcAuth"),
        "{message}"
    );

    let refused = try_publish(
        &app,
        "no-credential",
        json!({"authentication": "basicAuth"}),
        json!({}),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json()["message"],
        "Cannot publish workflow: 1 node have configuration issues:\n\nNode \"Webhook\":\n  - Missing required credential: httpBasicAuth"
    );
    let unknown = send(&app, "GET", "/webhook/no-credential", &[]).await;
    assert_eq!(unknown.status, 404);

    // A Respond to Webhook node answering with a JWT needs its signing credential too.
    let unsigned = json!({"nodes": [
        {"id": "u-hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
         "position": [0, 0], "webhookId": "u-hook-id",
         "parameters": {"path": "unsigned", "responseMode": "responseNode", "options": {}}},
        {"id": "u-respond", "name": "Respond", "type": "n8n-nodes-base.respondToWebhook",
         "typeVersion": 1.1, "position": [200, 0],
         "parameters": {"respondWith": "jwt", "options": {}}}
    ], "connections": {"Webhook": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]}}});
    let id = create(&app, "unsigned", &unsigned).await;
    let refused = app
        .post(&format!("/api/v1/workflows/{id}/activate"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json()["message"],
        "Cannot publish workflow: 1 node have configuration issues:\n\nNode \"Respond\":\n  - Missing required credential: jwtAuth"
    );
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
    publish_guarded(
        &app,
        "gone",
        json!({"authentication": "headerAuth"}),
        json!({"httpHeaderAuth": {"id": id, "name": "h"}}),
    )
    .await;
    let deleted = app
        .delete(&format!("/api/v1/credentials/{id}"))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let refused = send(&app, "GET", "/webhook/gone", &[("x-secret", "s3cret")]).await;
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
        send(&app, "GET", "/webhook/resume-auth", &[]).await.status,
        200
    );
    let waiting = last_execution(&app, &workflow_id).await;
    assert_eq!(waiting["status"], "waiting", "{waiting}");
    let execution_id = waiting["id"].as_str().expect("id").to_owned();
    let resume = format!("/webhook-waiting/{execution_id}");

    let refused = send(&app, "GET", &resume, &[]).await;
    assert_refused(&refused, 401, "Authorization is required!");
    let still = wait_for_status(&app, &execution_id, "waiting").await;
    assert_eq!(still["status"], "waiting");

    let resumed = send(
        &app,
        "GET",
        &resume,
        &[("authorization", "Basic YW5uOnNlY3JldC1wdw==")],
    )
    .await;
    assert_eq!(resumed.status, 200, "{}", resumed.text());
    let done = wait_for_status(&app, &execution_id, "success").await;
    assert_eq!(done["status"], "success");
}

/// (method, path, origin sent, status, allowed origin, allowed methods)
type CorsCase = (
    &'static str,
    &'static str,
    Option<&'static str>,
    u16,
    Option<&'static str>,
    Option<&'static str>,
);

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
    publish_guarded(&app, "cors-open", json!({}), json!({})).await;

    let preflight = send(
        &app,
        "OPTIONS",
        "/webhook/cors-restricted",
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

    // (method, path, origin sent, status, allowed origin, allowed methods)
    let cases: [CorsCase; 6] = [
        (
            "POST",
            "/webhook/cors-restricted",
            Some("https://b.example"),
            200,
            Some("https://b.example"),
            Some("OPTIONS, POST"),
        ),
        (
            "POST",
            "/webhook/cors-restricted",
            Some("https://evil.example"),
            200,
            Some("https://a.example"),
            Some("OPTIONS, POST"),
        ),
        ("POST", "/webhook/cors-restricted", None, 200, None, None),
        (
            "GET",
            "/webhook/cors-open",
            Some("https://x.example"),
            200,
            Some("https://x.example"),
            Some("OPTIONS, GET"),
        ),
        (
            "OPTIONS",
            "/webhook/nowhere",
            Some("https://x.example"),
            204,
            None,
            Some("OPTIONS"),
        ),
        ("OPTIONS", "/webhook/cors-open", None, 204, None, None),
    ];
    for (method, path, origin, status, allowed_origin, allowed_methods) in cases {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        let answer = send(&app, method, path, &headers).await;
        let case = format!("{method} {path} from {origin:?}");
        assert_eq!(answer.status, status, "{case}: {}", answer.text());
        assert_eq!(
            answer.header("access-control-allow-origin"),
            allowed_origin,
            "{case}"
        );
        assert_eq!(
            answer.header("access-control-allow-methods"),
            allowed_methods,
            "{case}"
        );
    }
}

/// An HS256 token over `payload` signed with `secret`, as a caller's JWT library makes it.
fn hs256_token(secret: &str, payload: &Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use hmac::Mac;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(payload.to_string());
    let signed = format!("{header}.{body}");
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(signed.as_bytes());
    format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn jwt_auth_admits_a_valid_token_and_hands_its_payload_to_the_workflow() {
    let app = TestApp::spawn().await;
    let id = credential(
        &app,
        "jwtAuth",
        json!({"keyType": "passphrase", "secret": "jwt-secret-1", "algorithm": "HS256"}),
    )
    .await;
    let workflow_id = publish_guarded(
        &app,
        "jwt",
        json!({"authentication": "jwtAuth"}),
        json!({"jwtAuth": {"id": id, "name": "j"}}),
    )
    .await;
    let now = chrono::Utc::now().timestamp();
    let forged = hs256_token("not-the-secret", &json!({"sub": "ci"}));
    let expired = hs256_token("jwt-secret-1", &json!({"sub": "ci", "exp": now - 10}));
    let early = hs256_token("jwt-secret-1", &json!({"sub": "ci", "nbf": now + 600}));
    let no_token: &[(&str, &str)] = &[];
    for (headers, status, text) in [
        (no_token, 401, "No token provided"),
        (&[("authorization", "Bearer")], 401, "No token provided"),
        (&[("authorization", "Bearer abc")], 403, "jwt malformed"),
        (
            &[("authorization", &*format!("Bearer {forged}"))],
            403,
            "invalid signature",
        ),
        (
            &[("authorization", &*format!("Bearer {expired}"))],
            403,
            "jwt expired",
        ),
        (
            &[("authorization", &*format!("Bearer {early}"))],
            403,
            "jwt not active",
        ),
    ] {
        let refused = send(&app, "GET", "/webhook/jwt", headers).await;
        assert_refused(&refused, status, text);
    }
    assert!(executions(&app, &workflow_id).await.is_empty());

    let payload = json!({"sub": "ci", "role": "deployer", "exp": now + 600});
    let token = hs256_token("jwt-secret-1", &payload);
    let admitted = send(
        &app,
        "GET",
        "/webhook/jwt",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(admitted.status, 200, "{}", admitted.text());
    let execution = last_execution(&app, &workflow_id).await;
    assert_eq!(execution["status"], "success", "{execution}");
    let item = &output_json(&execution, "Webhook", 0, 0)[0];
    assert_eq!(item["jwtPayload"], payload);
    assert!(!execution.to_string().contains("jwt-secret-1"));
}

#[tokio::test]
async fn a_token_a_respond_to_webhook_node_signs_is_admitted_by_a_jwt_webhook() {
    let app = TestApp::spawn().await;
    let id = credential(
        &app,
        "jwtAuth",
        json!({"keyType": "passphrase", "secret": "shared-secret-2", "algorithm": "HS512"}),
    )
    .await;
    let reference = json!({"jwtAuth": {"id": id, "name": "j"}});
    let guarded = publish_guarded(
        &app,
        "guarded",
        json!({"authentication": "jwtAuth"}),
        reference.clone(),
    )
    .await;
    let issuer = json!({"nodes": [
        {"id": "issue-hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
         "position": [0, 0], "webhookId": "issue-hook-id",
         "parameters": {"path": "issue", "responseMode": "responseNode", "options": {}}},
        {"id": "issue-respond", "name": "Respond", "type": "n8n-nodes-base.respondToWebhook",
         "typeVersion": 1.1, "position": [200, 0],
         "parameters": {"respondWith": "jwt", "payload": "={\"sub\": \"{{ $json.query.who }}\"}", "options": {}},
         "credentials": reference}
    ], "connections": {"Webhook": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]}}});
    publish(&app, "issuer", &issuer).await;

    let issued = send(&app, "GET", "/webhook/issue?who=ci", &[]).await;
    assert_eq!(issued.status, 200, "{}", issued.text());
    let token = issued.json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert!(!issued.text().contains("shared-secret-2"));

    let admitted = send(
        &app,
        "GET",
        "/webhook/guarded",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(admitted.status, 200, "{}", admitted.text());
    let execution = last_execution(&app, &guarded).await;
    let claims = &output_json(&execution, "Webhook", 0, 0)[0]["jwtPayload"];
    assert_eq!(claims["sub"], "ci", "{claims}");
    assert!(claims["iat"].is_i64(), "{claims}");
    let tampered = format!("{token}x");
    let refused = send(
        &app,
        "GET",
        "/webhook/guarded",
        &[("authorization", &format!("Bearer {tampered}"))],
    )
    .await;
    assert_refused(&refused, 403, "invalid signature");
}
