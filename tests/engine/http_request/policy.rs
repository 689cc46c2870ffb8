//! The outbound policy as workflows meet it.

use serde_json::json;

use super::server::TestServer;
use super::*;
use crate::helpers::TestApp;

#[tokio::test]
async fn cloud_metadata_is_refused_directly_and_through_a_redirect() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let direct = run(
        &app,
        "metadata",
        4.2,
        json!({"url": "http://169.254.169.254/latest/meta-data/", "options": {"timeout": 2000}}),
        json!({}),
    )
    .await;
    assert_eq!(direct["status"], "error");
    assert_eq!(
        http_error(&direct)["message"],
        "Requests to cloud metadata addresses are not allowed (169.254.169.254)"
    );

    let redirected = run(
        &app,
        "metadata-redirect",
        4.2,
        json!({"url": server.url("/redirect?to=http%3A%2F%2F169.254.169.254%2Flatest%2F"), "options": {"timeout": 2000}}),
        json!({}),
    )
    .await;
    assert_eq!(redirected["status"], "error");
    assert_eq!(
        http_error(&redirected)["message"],
        "Requests to cloud metadata addresses are not allowed (169.254.169.254)"
    );
    assert_eq!(server.seen_at("/redirect").len(), 1);

    // A redirect to an allowed place is followed (from version 4 by default).
    let followed = run(
        &app,
        "redirect-ok",
        4.2,
        json!({"url": server.url("/redirect?to=%2Ftext"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(http_output(&followed), vec![json!({"data": "hello there"})]);
}

#[tokio::test]
async fn the_operator_can_allow_only_listed_hosts_or_refuse_private_networks() {
    let server = TestServer::start().await;
    let listed = TestApp::spawn_with(|c| c.outbound.allowed_hosts = "api.example.com".into()).await;
    let refused = run(
        &listed,
        "not-listed",
        4.2,
        json!({"url": server.url("/things"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&refused)["message"],
        "The host \"127.0.0.1\" is not in the hosts this instance may call (N8N_OUTBOUND_ALLOWED_HOSTS)"
    );

    let private = TestApp::spawn_with(|c| c.outbound.block_private_networks = true).await;
    let blocked = run(
        &private,
        "private",
        4.2,
        json!({"url": server.url("/things"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&blocked)["message"],
        "Requests to private, loopback or link-local addresses are not allowed"
    );
    let by_name = run(
        &private,
        "private-name",
        4.2,
        json!({"url": server.url("/things").replace("127.0.0.1", "localhost"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&by_name)["message"],
        "Requests to private, loopback or link-local addresses are not allowed"
    );
    assert!(server.seen().is_empty());
}

/// IPv6 addresses that carry the metadata address (IPv4-mapped, NAT64) are the metadata
/// address; ranges that are not global unicast (benchmarking, documentation) are refused once
/// private networks are.
#[tokio::test]
async fn embedded_metadata_and_special_purpose_ranges_are_refused() {
    let app = TestApp::spawn().await;
    for (name, url) in [
        ("mapped", "http://[::ffff:169.254.169.254]/latest/"),
        ("nat64", "http://[64:ff9b::a9fe:a9fe]/latest/"),
    ] {
        let refused = run(
            &app,
            name,
            4.2,
            json!({"url": url, "options": {"timeout": 2000}}),
            json!({}),
        )
        .await;
        let message = http_error(&refused)["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.starts_with("Requests to cloud metadata addresses are not allowed"),
            "{name}: {message}"
        );
    }

    let private = TestApp::spawn_with(|c| c.outbound.block_private_networks = true).await;
    for (name, url) in [
        ("benchmarking", "http://198.18.0.1/"),
        ("documentation", "http://[2001:db8::1]/"),
        ("six-to-four", "http://[2002:7f00:1::1]/"),
    ] {
        let refused = run(
            &private,
            name,
            4.2,
            json!({"url": url, "options": {"timeout": 2000}}),
            json!({}),
        )
        .await;
        assert_eq!(
            http_error(&refused)["message"],
            "Requests to private, loopback or link-local addresses are not allowed",
            "{name}"
        );
    }
}
