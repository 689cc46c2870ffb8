//! Stored credentials: each generic type, OAuth2, predefined types, and the refusals.

use serde_json::json;

use super::server::TestServer;
use super::*;
use crate::helpers::TestApp;

#[tokio::test]
async fn generic_credentials_authenticate_the_request_and_stay_out_of_the_execution() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;

    let (seen, execution) = with_generic(
        &app,
        &server,
        "header-auth",
        "httpHeaderAuth",
        json!({"name": "X-Api-Key", "value": "header-secret-1"}),
        "/header",
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(seen.header("x-api-key"), Some("header-secret-1"));
    assert!(!execution.to_string().contains("header-secret-1"));

    let (seen, _) = with_generic(
        &app,
        &server,
        "basic-auth",
        "httpBasicAuth",
        json!({"user": "ada", "password": "basic-secret"}),
        "/basic",
    )
    .await;
    // base64("ada:basic-secret")
    assert_eq!(
        seen.header("authorization"),
        Some("Basic YWRhOmJhc2ljLXNlY3JldA==")
    );

    let (seen, _) = with_generic(
        &app,
        &server,
        "query-auth",
        "httpQueryAuth",
        json!({"name": "api_key", "value": "query-secret"}),
        "/query",
    )
    .await;
    assert_eq!(seen.query, "api_key=query-secret");

    let (seen, _) = with_generic(
        &app,
        &server,
        "bearer-auth",
        "httpBearerAuth",
        json!({"token": "bearer-secret"}),
        "/bearer",
    )
    .await;
    assert_eq!(seen.header("authorization"), Some("Bearer bearer-secret"));

    let (seen, _) = with_generic(
        &app,
        &server,
        "custom-auth",
        "httpCustomAuth",
        json!({"json": "{\"headers\": {\"X-Sig\": \"s1\"}, \"qs\": {\"tenant\": \"t1\"}}"}),
        "/custom",
    )
    .await;
    assert_eq!(seen.header("x-sig"), Some("s1"));
    assert_eq!(seen.query, "tenant=t1");

    let (seen, execution) = with_generic(
        &app,
        &server,
        "digest-auth",
        "httpDigestAuth",
        json!({"user": "ada", "password": "lovelace"}),
        "/digest",
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(http_output(&execution), vec![json!({"digest": "accepted"})]);
    assert!(seen
        .header("authorization")
        .is_some_and(|a| a.starts_with("Digest username=\"ada\"")));
}

#[tokio::test]
async fn oauth2_client_credentials_fetch_a_token_once_and_reuse_it() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let id = credential(
        &app,
        "oAuth2Api",
        json!({"grantType": "clientCredentials", "accessTokenUrl": server.url("/token"),
               "clientId": "client-1", "clientSecret": "secret-1", "scope": "read", "authentication": "header"}),
    )
    .await;
    let parameters = json!({"url": server.url("/protected"), "authentication": "genericCredentialType",
                            "genericAuthType": "oAuth2Api", "options": {}});
    let workflow_id = publish(
        &app,
        "oauth2",
        &workflow("oauth2", 4.2, parameters, uses("oAuth2Api", &id)),
    )
    .await;
    for _ in 0..2 {
        call(&app, "POST", "/webhook/oauth2", Some(&json!({})), &[]).await;
    }
    let execution = last_execution(&app, &workflow_id).await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(
        http_output(&execution),
        vec![json!({"granted": "Bearer token-1"})]
    );
    assert_eq!(server.tokens_issued(), 1);
    let token_request = &server.seen_at("/token")[0];
    assert_eq!(
        token_request.body_text(),
        "grant_type=client_credentials&scope=read"
    );
    assert_eq!(server.seen_at("/protected").len(), 2);
}

#[tokio::test]
async fn a_stored_oauth2_token_is_used_as_it_is() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let (_, execution) = with_generic(
        &app,
        &server,
        "oauth2-stored",
        "oAuth2Api",
        json!({"grantType": "authorizationCode", "authUrl": server.url("/auth"), "accessTokenUrl": server.url("/token"),
               "clientId": "c", "clientSecret": "s", "oauthTokenData": "{\"access_token\": \"stored-token\"}"}),
        "/protected",
    )
    .await;
    assert_eq!(
        http_output(&execution),
        vec![json!({"granted": "Bearer stored-token"})]
    );
}

#[tokio::test]
async fn a_predefined_credential_type_applies_its_own_rule() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let id = credential(&app, "githubApi", json!({"accessToken": "gh-secret"})).await;
    let execution = run(
        &app,
        "github",
        4.2,
        json!({"url": server.url("/repos"), "authentication": "predefinedCredentialType",
               "nodeCredentialType": "githubApi", "options": {}}),
        uses("githubApi", &id),
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(
        server.seen_at("/repos")[0].header("authorization"),
        Some("token gh-secret")
    );

    let telegram = credential(&app, "telegramApi", json!({"accessToken": "t"})).await;
    let refused = run(
        &app,
        "telegram",
        4.2,
        json!({"url": server.url("/bot"), "authentication": "predefinedCredentialType",
               "nodeCredentialType": "telegramApi", "options": {}}),
        uses("telegramApi", &telegram),
    )
    .await;
    assert_eq!(
        http_error(&refused)["message"],
        "The credential type \"telegramApi\" cannot be used by the HTTP Request node on this server"
    );
}

#[tokio::test]
async fn a_missing_or_foreign_credential_fails_the_node_in_n8ns_words() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let params = json!({"url": server.url("/secret"), "authentication": "genericCredentialType",
                        "genericAuthType": "httpHeaderAuth", "options": {}});

    let unset = run(&app, "no-credential", 4.2, params.clone(), json!({})).await;
    assert_eq!(unset["status"], "error");
    assert_eq!(http_error(&unset)["message"], "Credentials not found");

    let unknown = run(
        &app,
        "unknown-credential",
        4.2,
        params.clone(),
        uses("httpHeaderAuth", "doesNotExist1"),
    )
    .await;
    assert_eq!(
        http_error(&unknown)["message"],
        "Credential with ID \"doesNotExist1\" does not exist for type \"httpHeaderAuth\"."
    );

    let project = app.create_project("Elsewhere").await;
    let foreign = app
        .post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(
            json!({"name": "theirs", "type": "httpHeaderAuth", "projectId": project,
                     "data": {"name": "X-Key", "value": "not-yours"}}),
        )
        .send()
        .await;
    assert_eq!(foreign.status, 200, "{}", foreign.text());
    let foreign_id = foreign.json()["id"].as_str().expect("id").to_owned();
    let denied = run(
        &app,
        "foreign-credential",
        4.2,
        params,
        uses("httpHeaderAuth", &foreign_id),
    )
    .await;
    let error = http_error(&denied);
    assert_eq!(error["message"], "Node has no access to credential");
    assert_eq!(
        error["description"],
        "Please recreate the credential or ask its owner to share it with you."
    );
    assert!(server.seen_at("/secret").is_empty());
}

#[tokio::test]
async fn a_refused_oauth2_token_is_renewed_with_client_credentials_and_the_request_sent_again() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let (_, execution) = with_generic(
        &app,
        &server,
        "oauth2-renew",
        "oAuth2Api",
        json!({"grantType": "clientCredentials", "accessTokenUrl": server.url("/token"),
               "clientId": "client-1", "clientSecret": "secret-1",
               "oauthTokenData": "{\"access_token\": \"expired\"}"}),
        "/protected",
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(
        http_output(&execution),
        vec![json!({"granted": "Bearer token-1"})]
    );
    let attempts: Vec<String> = server
        .seen_at("/protected")
        .iter()
        .filter_map(|s| s.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(attempts, vec!["Bearer expired", "Bearer token-1"]);
    assert!(!execution.to_string().contains("secret-1"));
}
