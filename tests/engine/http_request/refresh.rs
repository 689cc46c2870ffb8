//! OAuth2 with a stored token (authorization code grant): a service's 401 makes the node
//! refresh the token at the token URL, send the request again, and write the new token data
//! back into the credential, sealed. The token requests were checked against n8n 2.8.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use super::*;
use crate::helpers::TestApp;

/// A token URL and an API on 127.0.0.1. The API takes only tokens the token URL issued
/// (`fresh-N`); the token URL records each request (authorization header and body).
#[derive(Clone, Default)]
struct Service {
    token_requests: Arc<Mutex<Vec<(String, String)>>>,
    api_tokens: Arc<Mutex<Vec<String>>>,
}

impl Service {
    async fn start() -> (Service, String) {
        let service = Service::default();
        let app = Router::new().fallback(answer).with_state(service.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (service, base)
    }

    fn token_requests(&self) -> Vec<(String, String)> {
        self.token_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn api_tokens(&self) -> Vec<String> {
        self.api_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

async fn answer(State(service): State<Service>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .unwrap_or_default();
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let json = |status: StatusCode, value: Value| {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            value.to_string(),
        )
            .into_response()
    };
    if parts.uri.path() == "/revoked" {
        return json(
            StatusCode::BAD_REQUEST,
            json!({"error": "token_revoked", "error_description": "The refresh token was revoked"}),
        );
    }
    if parts.uri.path() == "/token" {
        let mut requests = service
            .token_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        requests.push((authorization, String::from_utf8_lossy(&body).into_owned()));
        let n = requests.len();
        return json(
            StatusCode::OK,
            json!({"access_token": format!("fresh-{n}"), "token_type": "Bearer", "expires_in": 3600}),
        );
    }
    service
        .api_tokens
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(authorization.clone());
    match authorization.strip_prefix("Bearer fresh-") {
        Some(_) => json(StatusCode::OK, json!({"granted": true})),
        None => json(
            StatusCode::UNAUTHORIZED,
            json!({"message": "token expired"}),
        ),
    }
}

/// The stored row's sealed text and its data opened with the app's keys.
async fn stored(app: &TestApp, id: &str) -> (String, Value) {
    let mut conn = app.state.db.acquire().await.expect("conn");
    let row = flowgate::db::credentials::find(conn.conn(), id)
        .await
        .expect("query")
        .expect("row");
    let plain = app
        .state
        .keys
        .open(&row.data, &format!("credential:{id}"))
        .expect("opens");
    (row.data, serde_json::from_slice(&plain).expect("json"))
}

const OLD_TOKEN: &str = "stale-access-7f3a";
const REFRESH_TOKEN: &str = "refresh-9c21";

async fn connected(app: &TestApp, base: &str, authentication: &str) -> String {
    credential(
        app,
        "oAuth2Api",
        json!({"grantType": "authorizationCode", "authUrl": format!("{base}/authorize"),
               "accessTokenUrl": format!("{base}/token"), "clientId": "client-7", "clientSecret": "secret-7",
               "scope": "read", "authentication": authentication,
               "oauthTokenData": json!({"access_token": OLD_TOKEN, "refresh_token": REFRESH_TOKEN,
                                        "token_type": "Bearer", "expires_in": 3600}).to_string()}),
    )
    .await
}

#[tokio::test]
async fn a_refused_stored_token_is_refreshed_written_back_sealed_and_used_next_time() {
    let app = TestApp::spawn().await;
    let (service, base) = Service::start().await;
    let id = connected(&app, &base, "header").await;
    let parameters = json!({"url": format!("{base}/api"), "authentication": "genericCredentialType",
                            "genericAuthType": "oAuth2Api", "options": {}});
    let workflow_id = publish(
        &app,
        "refresh",
        &workflow("refresh", 4.2, parameters, uses("oAuth2Api", &id)),
    )
    .await;
    call(&app, "POST", "/webhook/refresh", Some(&json!({})), &[]).await;
    let first = last_execution(&app, &workflow_id).await;
    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(http_output(&first), vec![json!({"granted": true})]);

    // One refresh: the client in a Basic header, the refresh token in the form body.
    let requests = service.token_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, "Basic Y2xpZW50LTc6c2VjcmV0LTc=");
    assert_eq!(
        requests[0].1,
        format!("refresh_token={REFRESH_TOKEN}&grant_type=refresh_token")
    );
    assert_eq!(
        service.api_tokens(),
        vec![format!("Bearer {OLD_TOKEN}"), "Bearer fresh-1".to_owned()]
    );

    // Written back sealed: nothing of the tokens in clear in the row; the refresh token the
    // answer left out is kept.
    let (sealed, data) = stored(&app, &id).await;
    for secret in ["fresh-1", REFRESH_TOKEN, OLD_TOKEN, "secret-7"] {
        assert!(!sealed.contains(secret), "{secret} in clear");
    }
    // Kept as JSON text, as it was given.
    let token: Value =
        serde_json::from_str(data["oauthTokenData"].as_str().expect("text")).expect("json");
    assert_eq!(token["access_token"], "fresh-1");
    assert_eq!(token["refresh_token"], REFRESH_TOKEN);
    assert_eq!(data["clientSecret"], "secret-7");

    // The next run uses the new token without refreshing.
    call(&app, "POST", "/webhook/refresh", Some(&json!({})), &[]).await;
    let second = last_execution(&app, &workflow_id).await;
    assert_eq!(second["status"], "success", "{second}");
    assert_eq!(service.token_requests().len(), 1);
    assert_eq!(
        service.api_tokens().last().map(String::as_str),
        Some("Bearer fresh-1")
    );

    // No token in the executions' stored data.
    for execution in [&first, &second] {
        let text = execution.to_string();
        for secret in ["fresh-1", REFRESH_TOKEN, OLD_TOKEN] {
            assert!(!text.contains(secret), "{secret} in an execution");
        }
    }
}

#[tokio::test]
async fn the_client_goes_in_the_body_when_the_credential_says_so_and_pages_share_one_refresh() {
    let app = TestApp::spawn().await;
    let (service, base) = Service::start().await;
    let id = connected(&app, &base, "body").await;
    let parameters = json!({"url": format!("{base}/api"), "authentication": "genericCredentialType",
                            "genericAuthType": "oAuth2Api",
                            "options": {"pagination": {"pagination": {
                                "parameters": {"parameters": [{"type": "qs", "name": "page", "value": "={{ $pageCount + 1 }}"}]},
                                "limitPagesFetched": true, "maxRequests": 3}}}});
    let execution = run(
        &app,
        "refresh-body",
        4.2,
        parameters,
        uses("oAuth2Api", &id),
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(http_output(&execution).len(), 3);
    let requests = service.token_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].0, "");
    assert_eq!(
        requests[0].1,
        format!("refresh_token={REFRESH_TOKEN}&grant_type=refresh_token&client_id=client-7&client_secret=secret-7")
    );
    // The pages after the refresh carry the new token at once.
    assert_eq!(
        service.api_tokens(),
        vec![
            format!("Bearer {OLD_TOKEN}"),
            "Bearer fresh-1".to_owned(),
            "Bearer fresh-1".to_owned(),
            "Bearer fresh-1".to_owned()
        ]
    );
}

#[tokio::test]
async fn a_token_that_cannot_be_refreshed_fails_in_n8ns_words_and_stays_stored() {
    let app = TestApp::spawn().await;
    let (service, base) = Service::start().await;
    let parameters = json!({"url": format!("{base}/api"), "authentication": "genericCredentialType",
                            "genericAuthType": "oAuth2Api", "options": {}});
    // No refresh token.
    let without = credential(
        &app,
        "oAuth2Api",
        json!({"grantType": "authorizationCode", "accessTokenUrl": format!("{base}/token"),
               "clientId": "client-7", "clientSecret": "secret-7",
               "oauthTokenData": json!({"access_token": OLD_TOKEN}).to_string()}),
    )
    .await;
    let execution = run(
        &app,
        "no-refresh",
        4.2,
        parameters.clone(),
        uses("oAuth2Api", &without),
    )
    .await;
    let error = http_error(&execution);
    assert_eq!(error["message"], "refreshToken is required");
    assert_eq!(error["httpCode"], "ERR_ASSERTION");
    assert!(service.token_requests().is_empty());

    // The token URL refuses the refresh token: its description, as an authentication error;
    // the stored token is left as it was.
    let refused = credential(
        &app,
        "oAuth2Api",
        json!({"grantType": "authorizationCode", "accessTokenUrl": format!("{base}/revoked"),
               "clientId": "client-7", "clientSecret": "secret-7",
               "oauthTokenData": json!({"access_token": OLD_TOKEN, "refresh_token": REFRESH_TOKEN}).to_string()}),
    )
    .await;
    let execution = run(
        &app,
        "revoked",
        4.2,
        parameters,
        uses("oAuth2Api", &refused),
    )
    .await;
    assert_eq!(execution["status"], "error");
    let error = http_error(&execution);
    assert_eq!(error["message"], "The refresh token was revoked");
    assert_eq!(error["httpCode"], "EAUTH");
    assert!(!execution.to_string().contains(REFRESH_TOKEN));
    let (_, data) = stored(&app, &refused).await;
    let token: Value =
        serde_json::from_str(data["oauthTokenData"].as_str().expect("text")).expect("json");
    assert_eq!(token["access_token"], OLD_TOKEN);
}

/// A client-credentials token is written back into the credential, sealed, as n8n does: the
/// first one fetched (stored as an object, as n8n's editor keeps token data) and the one
/// fetched again after a service refused the stored token (kept as JSON text, as given).
#[tokio::test]
async fn a_client_credentials_token_is_written_back_sealed() {
    let app = TestApp::spawn().await;
    let (service, base) = Service::start().await;
    // Two clients: tokens are cached in memory by client, and the second must not get the
    // first one's.
    let client = |stored: Option<&str>| {
        let id = if stored.is_some() {
            "client-b"
        } else {
            "client-a"
        };
        let mut data = json!({"grantType": "clientCredentials",
                              "accessTokenUrl": format!("{base}/token"),
                              "clientId": id, "clientSecret": "secret-cc"});
        if let Some(token) = stored {
            data["oauthTokenData"] = json!({"access_token": token}).to_string().into();
        }
        data
    };
    let fresh = credential(&app, "oAuth2Api", client(None)).await;
    let stale = credential(&app, "oAuth2Api", client(Some(OLD_TOKEN))).await;
    for (path, id) in [("cc-fresh", &fresh), ("cc-stale", &stale)] {
        let parameters = json!({"url": format!("{base}/api"), "authentication": "genericCredentialType",
                                "genericAuthType": "oAuth2Api", "options": {}});
        let workflow_id = publish(
            &app,
            path,
            &workflow(path, 4.2, parameters, uses("oAuth2Api", id)),
        )
        .await;
        call(
            &app,
            "POST",
            &format!("/webhook/{path}"),
            Some(&json!({})),
            &[],
        )
        .await;
        let execution = last_execution(&app, &workflow_id).await;
        assert_eq!(execution["status"], "success", "{path}: {execution}");
        assert_eq!(http_output(&execution), vec![json!({"granted": true})]);
    }
    assert_eq!(service.token_requests().len(), 2);

    let (sealed, data) = stored(&app, &fresh).await;
    assert!(!sealed.contains("fresh-1"), "the token in clear");
    assert_eq!(data["oauthTokenData"]["access_token"], "fresh-1");
    assert_eq!(data["oauthTokenData"]["token_type"], "Bearer");
    assert_eq!(data["clientSecret"], "secret-cc");

    let (sealed, data) = stored(&app, &stale).await;
    assert!(!sealed.contains("fresh-2"), "the token in clear");
    let token: Value =
        serde_json::from_str(data["oauthTokenData"].as_str().expect("text")).expect("json");
    assert_eq!(token["access_token"], "fresh-2");
    assert_eq!(
        service.api_tokens(),
        vec![
            "Bearer fresh-1".to_owned(),
            format!("Bearer {OLD_TOKEN}"),
            "Bearer fresh-2".to_owned()
        ]
    );
}
