//! The `googleApi` credential: a stand-in for Google's token endpoint checks the signed JWT
//! (claims and RS256 signature with the account's public key) and issues a token, which the
//! HTTP Request node sends as a Bearer token, asking once for many requests, and again when a
//! service refuses the token it has.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::signature::Verifier;
use serde_json::{json, Value};
use sha2::Sha256;

use super::server::TestServer;
use super::*;
use crate::helpers::TestApp;

/// What the stand-in token endpoint checked, one entry per token asked for.
#[derive(Clone)]
struct TokenEndpoint {
    key: rsa::RsaPublicKey,
    audience: Arc<Mutex<String>>,
    claims: Arc<Mutex<Vec<Value>>>,
}

async fn issue(
    State(endpoint): State<TokenEndpoint>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> (axum::http::StatusCode, Json<Value>) {
    let refuse = |why: &str| {
        (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": why})),
        )
    };
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return refuse("grant_type");
    }
    let assertion = form.get("assertion").cloned().unwrap_or_default();
    let parts: Vec<&str> = assertion.split('.').collect();
    if parts.len() != 3 {
        return refuse("Invalid JWT");
    }
    let decode = |part: &str| -> Value {
        URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(Value::Null)
    };
    if decode(parts[0]) != json!({"alg": "RS256", "typ": "JWT"}) {
        return refuse("Invalid JWT header");
    }
    let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(endpoint.key.clone());
    let signature = URL_SAFE_NO_PAD
        .decode(parts[2])
        .ok()
        .and_then(|bytes| rsa::pkcs1v15::Signature::try_from(bytes.as_slice()).ok());
    let valid = signature.is_some_and(|signature| {
        verifier
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .is_ok()
    });
    if !valid {
        return refuse("Invalid JWT Signature.");
    }
    let claims = decode(parts[1]);
    let audience = endpoint.audience.lock().expect("lock").clone();
    let now = chrono::Utc::now().timestamp();
    let iat = claims["iat"].as_i64().unwrap_or_default();
    if claims["aud"] != audience.as_str()
        || (iat - now).abs() > 60
        || claims["exp"].as_i64() != Some(iat + 3600)
    {
        return refuse("Invalid JWT claims");
    }
    let mut issued = endpoint.claims.lock().expect("lock");
    issued.push(claims);
    (
        axum::http::StatusCode::OK,
        Json(
            json!({"access_token": format!("google-token-{}", issued.len()),
                    "expires_in": 3599, "token_type": "Bearer"}),
        ),
    )
}

async fn token_endpoint(key: rsa::RsaPublicKey) -> (String, TokenEndpoint) {
    let endpoint = TokenEndpoint {
        key,
        audience: Arc::default(),
        claims: Arc::default(),
    };
    let app = Router::new()
        .route("/token", post(issue))
        .with_state(endpoint.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/token", listener.local_addr().expect("address"));
    *endpoint.audience.lock().expect("lock") = url.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, endpoint)
}

#[tokio::test]
async fn a_google_service_account_gets_one_token_for_its_requests_and_its_key_stays_out() {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("key");
    let pem = key.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
    let (token_url, endpoint) = token_endpoint(key.to_public_key()).await;
    let app = TestApp::spawn_with(|config| config.google_token_url = token_url.clone()).await;
    let server = TestServer::start().await;
    let id = credential(
        &app,
        "googleApi",
        json!({"email": "robot@project.iam.gserviceaccount.com", "privateKey": pem,
               "inpersonate": true, "delegatedEmail": "ada@example.com",
               "httpNode": true, "scopes": "https://www.googleapis.com/auth/drive.readonly"}),
    )
    .await;
    let params = json!({"url": server.url("/drive"), "authentication": "predefinedCredentialType",
                        "nodeCredentialType": "googleApi", "options": {}});

    let first = run(
        &app,
        "google-1",
        4.2,
        params.clone(),
        uses("googleApi", &id),
    )
    .await;
    let second = run(&app, "google-2", 4.2, params, uses("googleApi", &id)).await;

    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(second["status"], "success", "{second}");
    let seen = server.seen_at("/drive");
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(
            request.header("authorization"),
            Some("Bearer google-token-1")
        );
    }
    let issued = endpoint.claims.lock().expect("lock").clone();
    assert_eq!(issued.len(), 1, "the token is reused until it expires");
    assert_eq!(issued[0]["iss"], "robot@project.iam.gserviceaccount.com");
    assert_eq!(issued[0]["sub"], "ada@example.com");
    assert_eq!(
        issued[0]["scope"],
        "https://www.googleapis.com/auth/drive.readonly"
    );
    let body_of_key = pem.lines().nth(1).expect("a key line");
    for execution in [&first, &second] {
        let text = execution.to_string();
        assert!(!text.contains(body_of_key) && !text.contains("google-token-1"));
    }
}

#[tokio::test]
async fn a_refused_google_assertion_fails_the_node_with_googles_reason() {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("key");
    let other = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("key");
    // The endpoint knows another account's key: the signature does not verify.
    let (token_url, _) = token_endpoint(other.to_public_key()).await;
    let app = TestApp::spawn_with(|config| config.google_token_url = token_url.clone()).await;
    let server = TestServer::start().await;
    let pem = key.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
    let id = credential(
        &app,
        "googleApi",
        json!({"email": "robot@project.iam.gserviceaccount.com", "privateKey": pem,
               "httpNode": true, "scopes": "https://www.googleapis.com/auth/drive"}),
    )
    .await;
    let execution = run(
        &app,
        "google-refused",
        4.2,
        json!({"url": server.url("/drive"), "authentication": "predefinedCredentialType",
               "nodeCredentialType": "googleApi", "options": {}}),
        uses("googleApi", &id),
    )
    .await;
    assert_eq!(execution["status"], "error");
    assert_eq!(http_error(&execution)["message"], "Invalid JWT Signature.");
    assert!(server.seen_at("/drive").is_empty());
}

#[tokio::test]
async fn a_google_token_the_service_refuses_is_renewed_once_and_the_new_one_kept() {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("key");
    let pem = key.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
    let (token_url, endpoint) = token_endpoint(key.to_public_key()).await;
    let app = TestApp::spawn_with(|config| config.google_token_url = token_url.clone()).await;
    let server = TestServer::start().await;
    let id = credential(
        &app,
        "googleApi",
        json!({"email": "robot@project.iam.gserviceaccount.com", "privateKey": pem,
               "httpNode": true, "scopes": "https://www.googleapis.com/auth/drive"}),
    )
    .await;
    let params = json!({"url": server.url("/google-protected"), "authentication": "predefinedCredentialType",
                        "nodeCredentialType": "googleApi", "options": {}});

    let first = run(&app, "renew-1", 4.2, params.clone(), uses("googleApi", &id)).await;
    let second = run(&app, "renew-2", 4.2, params, uses("googleApi", &id)).await;

    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(second["status"], "success", "{second}");
    let sent: Vec<Option<String>> = server
        .seen_at("/google-protected")
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(
        sent,
        [
            Some("Bearer google-token-1".to_owned()),
            Some("Bearer google-token-2".to_owned()),
            Some("Bearer google-token-2".to_owned()),
        ],
        "refused once, renewed, and the renewed token kept for the next run"
    );
    assert_eq!(endpoint.claims.lock().expect("lock").len(), 2);
}
