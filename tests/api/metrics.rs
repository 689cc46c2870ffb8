//! `/metrics`: off by default, and when on, the request, authentication, key-verification,
//! pool and execution families with the numbers the requests made.

use crate::helpers::TestApp;

/// The value of the sample `series` (name and labels, exactly as exposed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[track_caller]
fn assert_sample(text: &str, series: &str, expected: f64) {
    assert_eq!(sample(text, series), Some(expected), "{series} in\n{text}");
}

#[tokio::test]
async fn metrics_are_off_unless_asked_for() {
    let app = TestApp::spawn_empty().await;

    let response = app.get("/metrics").send().await;

    response.assert_error(404, "not found");
}

#[tokio::test]
async fn requests_are_counted_and_timed_by_route_template_and_status() {
    let app = TestApp::spawn_with(|c| c.metrics = true).await;

    for _ in 0..3 {
        assert_eq!(
            app.get("/api/v1/tags")
                .key(&app.owner_key)
                .send()
                .await
                .status,
            200
        );
    }
    for id in ["AAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBB"] {
        let path = format!("/api/v1/tags/{id}");
        assert_eq!(app.get(&path).key(&app.owner_key).send().await.status, 404);
    }
    assert_eq!(app.get("/no/such/path").send().await.status, 404);
    let text = app.get("/metrics").send().await.text();

    let tags = r#"method="GET",path="/api/v1/tags",status_code="200""#;
    assert_sample(&text, &format!("n8n_http_requests_total{{{tags}}}"), 3.0);
    assert_sample(
        &text,
        &format!("n8n_http_request_duration_seconds_count{{{tags}}}"),
        3.0,
    );
    assert_sample(
        &text,
        &format!("n8n_http_request_duration_seconds_bucket{{{tags},le=\"+Inf\"}}"),
        3.0,
    );
    // Two ids, one series: the template labels it, never the raw path.
    assert_sample(
        &text,
        r#"n8n_http_requests_total{method="GET",path="/api/v1/tags/{id}",status_code="404"}"#,
        2.0,
    );
    assert!(!text.contains("AAAAAAAAAAAAAAAA"));
    assert_sample(
        &text,
        r#"n8n_http_requests_total{method="GET",path="unmatched",status_code="404"}"#,
        1.0,
    );
    assert!(!text.contains("/no/such/path"));
    assert!(text.contains("# TYPE n8n_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn histogram_buckets_are_cumulative() {
    let app = TestApp::spawn_with(|c| c.metrics = true).await;
    for _ in 0..5 {
        app.get("/api/v1/tags").key(&app.owner_key).send().await;
    }

    let text = app.get("/metrics").send().await.text();

    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with("n8n_http_request_duration_seconds_bucket{")
                && l.contains(r#"path="/api/v1/tags",status_code="200""#)
        })
        .map(|l| {
            l.rsplit(' ')
                .next()
                .expect("value")
                .parse()
                .expect("number")
        })
        .collect();
    assert_eq!(buckets.len(), 14, "13 bounds and +Inf");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&5.0));
}

#[tokio::test]
async fn authentication_failures_are_counted_by_reason() {
    let app = TestApp::spawn_with(|c| {
        c.metrics = true;
        c.failed_auth_per_minute = 3;
        c.proxy_hops = 1;
    })
    .await;
    let owner = app.owner.clone();
    let expiring = app
        .create_key(&owner, "expiring", &["tag:list".to_owned()])
        .await;
    app.sql("update api_keys set expires_at = 1000 where label = 'expiring'")
        .await;
    let tags_from = |ip: &str| app.get("/api/v1/tags").header("x-forwarded-for", ip);
    let unknown = flowgate::domain::api_key::RawApiKey::generate();

    // missing: no key at all
    let missing = tags_from("198.51.100.1").send().await;
    // invalid: a made-up key (fails the checksum) and a well-formed unknown one
    let garbage = tags_from("198.51.100.2").key("n8n_api_nope").send().await;
    let unknown = tags_from("198.51.100.2").key(unknown.expose()).send().await;
    // expired: a real key past its expiry
    let expired = tags_from("198.51.100.3").key(&expiring).send().await;
    // throttled: the fourth failure from one address within the minute
    for _ in 0..3 {
        tags_from("198.51.100.4").key("n8n_api_nope").send().await;
    }
    let throttled = tags_from("198.51.100.4").key("n8n_api_nope").send().await;
    let text = app.get("/metrics").send().await.text();

    assert_eq!(
        [
            missing.status,
            garbage.status,
            unknown.status,
            expired.status,
            throttled.status
        ],
        [401, 401, 401, 401, 429]
    );
    assert_sample(
        &text,
        r#"n8n_api_auth_failures_total{reason="missing"}"#,
        1.0,
    );
    assert_sample(
        &text,
        r#"n8n_api_auth_failures_total{reason="invalid"}"#,
        5.0,
    );
    assert_sample(
        &text,
        r#"n8n_api_auth_failures_total{reason="expired"}"#,
        1.0,
    );
    assert_sample(
        &text,
        r#"n8n_api_auth_failures_total{reason="throttled"}"#,
        1.0,
    );
    // Every key that reached verification was timed: 2 invalid, 1 expired, 3 before the
    // throttle (the throttled attempt is refused before verification).
    assert_sample(
        &text,
        "n8n_api_key_verification_duration_seconds_count",
        6.0,
    );
}

#[tokio::test]
async fn the_pool_executions_and_version_families_are_exposed() {
    let app = TestApp::spawn_with(|c| {
        c.metrics = true;
        c.metrics_prefix = "flowgate_".into();
    })
    .await;

    let response = app.get("/metrics").send().await;
    let text = response.text();

    assert_eq!(response.status, 200);
    assert!(response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    let idle = sample(&text, r#"flowgate_db_pool_connections{state="idle"}"#).expect("idle");
    let in_use = sample(&text, r#"flowgate_db_pool_connections{state="in_use"}"#).expect("in use");
    assert!(idle + in_use >= 1.0, "the pool keeps a connection open");
    for status in ["success", "error", "canceled", "crashed", "waiting"] {
        assert_sample(
            &text,
            &format!("flowgate_workflow_executions_total{{mode=\"webhook\",status=\"{status}\"}}"),
            0.0,
        );
    }
    assert_sample(
        &text,
        r#"flowgate_workflow_executions_active{state="running"}"#,
        0.0,
    );
    assert!(text.contains("# TYPE flowgate_workflow_execution_duration_seconds histogram"));
    assert!(text.contains(&format!(
        "flowgate_version_info{{version=\"{}\",revision=\"{}\"}} 1",
        flowgate::VERSION,
        flowgate::REVISION
    )));
    assert!(!text.contains("n8n_"), "the prefix applies to every family");
}
