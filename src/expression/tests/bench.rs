//! Evaluations per second of typical expressions on one thread, and the cost of a fresh
//! JavaScript runtime against the thread's warm one. A measuring tool, not a timed test:
//! `bench/run --expressions` runs it in release mode and keeps the figures.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::fixture::Fixture;

/// Evaluates `expression` for at least `span`, checking every answer; evaluations per second.
fn rate(fixture: &Fixture, expression: &str, expected: &Value, span: Duration) -> f64 {
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < span {
        for _ in 0..100 {
            let got = fixture
                .eval(expression)
                .unwrap_or_else(|e| panic!("{expression}: {e:?}"));
            assert_eq!(&got, expected, "{expression}");
        }
        count += 100;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

#[test]
#[ignore]
fn expression_throughput() {
    let span = Duration::from_millis(
        std::env::var("EXPRESSION_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    let fixture = Fixture::standard();
    let cases: [(&str, &str, Value); 7] = [
        (
            "plain path (fast path)",
            "={{ $json.nested.a.b[1] }}",
            json!(2),
        ),
        (
            "paired item path (fast path)",
            "={{ $('Prepare').item.json.email }}",
            json!("ada@example.com"),
        ),
        (
            "text with two paths (fast path)",
            "={{ $json.name }} <{{ $json.email }}>",
            json!("Ada Lovelace <ada@example.com>"),
        ),
        (
            "string method",
            "={{ $json.name.toUpperCase() }}",
            json!("ADA LOVELACE"),
        ),
        (
            "extension function",
            "={{ $json.email.extractDomain() }}",
            json!("example.com"),
        ),
        (
            "Luxon format",
            "={{ DateTime.fromISO($json.joined).toFormat('yyyy-LL-dd') }}",
            json!("2024-01-05"),
        ),
        (
            "array extension",
            "={{ $json.tags.unique().length }}",
            json!(2),
        ),
    ];
    let mut lines = vec![
        "| expression | evaluations/s (one thread) |".to_owned(),
        "|---|---|".to_owned(),
    ];
    for (label, expression, expected) in &cases {
        let per_second = rate(&fixture, expression, expected, span);
        lines.push(format!("| {label}: `{expression}` | {per_second:.0} |"));
    }
    // A fresh runtime: what every evaluation would cost without the thread's warm one.
    let expression = "={{ $json.name.toUpperCase() }}";
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        crate::expression::js::discard_runtime();
        let got = fixture.eval(expression).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(got, json!("ADA LOVELACE"));
    }
    let fresh = started.elapsed() / rounds;
    let warm =
        Duration::from_secs_f64(1.0 / rate(&fixture, expression, &json!("ADA LOVELACE"), span));
    lines.push(String::new());
    lines.push(format!(
        "Fresh runtime (load Luxon, jmespath, the prelude, then evaluate): {:.2} ms; warm runtime: {:.1} µs ({:.0}x).",
        fresh.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e6,
        fresh.as_secs_f64() / warm.as_secs_f64()
    ));
    println!("{}", lines.join("\n"));
}
