//! Behind reverse proxies: which `X-Forwarded-For` entry is the client (exactly
//! `N8N_PROXY_HOPS` from the right), and the public URL in what the server writes.

use crate::helpers::TestApp;

const BAD_KEY: &str = "n8n_api_not-a-key";

#[tokio::test]
async fn with_one_trusted_hop_the_entry_the_proxy_wrote_is_the_client() {
    let app = TestApp::spawn_with(|c| {
        c.failed_auth_per_minute = 2;
        c.proxy_hops = 1;
    })
    .await;
    let attempt = |forwarded: &str| {
        app.get("/api/v1/tags")
            .key(BAD_KEY)
            .header("x-forwarded-for", forwarded)
            .send()
    };

    // The client forges a different left-hand entry on every attempt; the proxy's entry
    // (the right-most) stays the same, and it is the one counted.
    let first = attempt("1.1.1.1, 203.0.113.7").await;
    let second = attempt("2.2.2.2, 203.0.113.7").await;
    let third = attempt("3.3.3.3, 203.0.113.7").await;
    // Putting the throttled address on the left does not make another client throttled.
    let other = attempt("203.0.113.7, 198.51.100.9").await;

    assert_eq!(
        [first.status, second.status, third.status, other.status],
        [401, 401, 429, 401]
    );
}

#[tokio::test]
async fn with_two_trusted_hops_the_second_entry_from_the_right_is_the_client() {
    let app = TestApp::spawn_with(|c| {
        c.failed_auth_per_minute = 1;
        c.proxy_hops = 2;
    })
    .await;
    let attempt = |forwarded: &str| {
        app.get("/api/v1/tags")
            .key(BAD_KEY)
            .header("x-forwarded-for", forwarded)
            .send()
    };

    let first = attempt("203.0.113.7, 10.0.0.1").await;
    // Same client behind the outer proxy, reached through another inner proxy address.
    let again = attempt("9.9.9.9, 203.0.113.7, 10.0.0.2").await;
    let someone_else = attempt("198.51.100.9, 10.0.0.1").await;

    assert_eq!(
        [first.status, again.status, someone_else.status],
        [401, 429, 401]
    );
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_for_is_ignored() {
    let app = TestApp::spawn_with(|c| {
        c.failed_auth_per_minute = 1;
        c.proxy_hops = 0;
    })
    .await;
    let attempt = |forwarded: &str| {
        app.get("/api/v1/tags")
            .key(BAD_KEY)
            .header("x-forwarded-for", forwarded)
            .send()
    };

    let first = attempt("203.0.113.7").await;
    // A new address in the header does not escape: the peer address is what counts.
    let forged = attempt("198.51.100.9").await;

    assert_eq!([first.status, forged.status], [401, 429]);
}

#[tokio::test]
async fn the_openapi_server_is_the_public_url_when_it_is_configured() {
    let app = TestApp::spawn_with(|c| {
        c.editor_base_url = Some("https://flows.example.com".into());
        c.path = "/n8n/".into();
    })
    .await;

    for path in ["/api/v1/openapi.json", "/n8n/api/v1/openapi.json"] {
        let document = app.get(path).send().await.json();

        assert_eq!(
            document["servers"][0]["url"], "https://flows.example.com/n8n/api/v1",
            "{path}"
        );
    }
}
