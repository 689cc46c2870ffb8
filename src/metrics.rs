//! Prometheus metrics: the counters and histograms the server keeps, the request middleware
//! that feeds them, and the `/metrics` text exposition (served when `N8N_METRICS=true`).
//!
//! Hand-rolled on atomics rather than a metrics facade: the facade builds a label key (and
//! allocates) on every call, while here a request costs two clock reads, a clone of the route
//! template's `Arc`, one sharded-map look-up and a few relaxed atomic adds. The series are
//! few and bounded: route *templates* (never raw paths), eight method slots and the statuses
//! the server answers.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dashmap::DashMap;

use crate::app::AppState;

/// Upper bounds of the latency buckets, in seconds (Prometheus' defaults, from 1 ms).
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// The same bounds in nanoseconds, for comparing without floating point on the hot path.
const BUCKET_NANOS: [u64; 13] = [
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// A latency histogram. Buckets are stored non-cumulative (one add per observation) and
/// summed when rendered.
#[derive(Default)]
pub struct Histogram {
    /// One slot per bound, plus the overflow slot (`+Inf`).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let slot = BUCKET_NANOS
            .iter()
            .position(|&bound| nanos <= bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[slot].fetch_add(1, Relaxed);
        self.sum_nanos.fetch_add(nanos, Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Relaxed)).sum()
    }

    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let separator = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.buckets[BUCKETS.len()].load(Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{separator}le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.sum_nanos.load(Relaxed) as f64 / 1e9;
        let braces = |l: &str| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{{{l}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {cumulative}", braces(labels));
    }
}

/// Why a request to the public API was not authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No key (and no session cookie) was sent.
    Missing,
    /// A key or cookie was sent but is not a live credential.
    Invalid,
    /// A real key whose expiry has passed.
    Expired,
    /// The client's address is over the failed-attempt limit (429).
    Throttled,
}

impl AuthFailure {
    const ALL: [AuthFailure; 4] = [
        AuthFailure::Missing,
        AuthFailure::Invalid,
        AuthFailure::Expired,
        AuthFailure::Throttled,
    ];

    fn label(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Invalid => "invalid",
            AuthFailure::Expired => "expired",
            AuthFailure::Throttled => "throttled",
        }
    }
}

/// Method slots: the methods the API uses, and one for anything else, so that a client
/// inventing methods cannot grow the series.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];

fn method_slot(method: &Method) -> u8 {
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::PATCH => 4,
        Method::DELETE => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

/// The label of requests no route matched (404s of unknown paths), which must not label
/// series by their raw path.
const UNMATCHED: &str = "unmatched";

/// The key of one request series. The route is the router's own `Arc<str>`, so building a
/// key allocates nothing.
#[derive(Clone)]
struct SeriesKey {
    route: Option<MatchedPath>,
    method: u8,
    status: u16,
}

impl SeriesKey {
    fn route(&self) -> &str {
        self.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str)
    }
}

impl PartialEq for SeriesKey {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method && self.status == other.status && self.route() == other.route()
    }
}

impl Eq for SeriesKey {}

impl Hash for SeriesKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.route().hash(state);
        self.method.hash(state);
        self.status.hash(state);
    }
}

/// Everything the server counts. One per application state, so that tests (many apps in one
/// process) never see each other's numbers.
#[derive(Default)]
pub struct Metrics {
    requests: DashMap<SeriesKey, Histogram>,
    auth_failures: [AtomicU64; AuthFailure::ALL.len()],
    key_verification: Histogram,
}

impl Metrics {
    pub fn auth_failure(&self, reason: AuthFailure) {
        self.auth_failures[reason as usize].fetch_add(1, Relaxed);
    }

    /// Times one API-key verification (checksum, hash, database look-up).
    pub fn key_verified(&self, elapsed: Duration) {
        self.key_verification.observe(elapsed);
    }

    fn request(&self, key: SeriesKey, elapsed: Duration) {
        // The read path takes a shard's read lock only; the write lock is taken once per new
        // series.
        if let Some(series) = self.requests.get(&key) {
            series.observe(elapsed);
            return;
        }
        self.requests.entry(key).or_default().observe(elapsed);
    }

    /// The exposition text: every family, series sorted so that scrapes diff cleanly.
    pub fn render(&self, state: &AppState) -> String {
        let prefix = state.config.metrics_prefix.as_str();
        let mut out = String::with_capacity(8 * 1024);

        family(
            &mut out,
            prefix,
            "version_info",
            "gauge",
            "The server's version and git revision.",
        );
        let _ = writeln!(
            out,
            "{prefix}version_info{{version=\"{}\",revision=\"{}\"}} 1",
            escape(crate::VERSION),
            escape(crate::REVISION)
        );

        // A snapshot first, so that no shard lock is held while the text is written.
        let name = format!("{prefix}http_request_duration_seconds");
        let mut series: Vec<_> = self
            .requests
            .iter()
            .map(|entry| {
                let key = entry.key();
                let labels = format!(
                    "method=\"{}\",path=\"{}\",status_code=\"{}\"",
                    METHODS[usize::from(key.method)],
                    escape(key.route()),
                    key.status
                );
                let mut histogram = String::new();
                entry.value().render(&mut histogram, &name, &labels);
                (
                    (key.route().to_owned(), key.method, key.status),
                    labels,
                    entry.value().count(),
                    histogram,
                )
            })
            .collect();
        series.sort_by(|a, b| a.0.cmp(&b.0));
        family(
            &mut out,
            prefix,
            "http_requests_total",
            "counter",
            "Requests answered, by method, route template and status.",
        );
        for (_, labels, count, _) in &series {
            let _ = writeln!(out, "{prefix}http_requests_total{{{labels}}} {count}");
        }
        family(
            &mut out,
            prefix,
            "http_request_duration_seconds",
            "histogram",
            "Time from receiving a request to sending the response head, by method, route template and status.",
        );
        for (_, _, _, histogram) in &series {
            out.push_str(histogram);
        }

        family(
            &mut out,
            prefix,
            "api_auth_failures_total",
            "counter",
            "Public API requests that failed authentication, by reason: missing (no key), invalid (unknown, revoked or malformed key or session), expired (a key past its expiry), throttled (429 after too many failures from the address).",
        );
        for reason in AuthFailure::ALL {
            let _ = writeln!(
                out,
                "{prefix}api_auth_failures_total{{reason=\"{}\"}} {}",
                reason.label(),
                self.auth_failures[reason as usize].load(Relaxed)
            );
        }

        family(
            &mut out,
            prefix,
            "api_key_verification_duration_seconds",
            "histogram",
            "Time to verify an API key: checksum, keyed hash and database look-up.",
        );
        self.key_verification.render(
            &mut out,
            &format!("{prefix}api_key_verification_duration_seconds"),
            "",
        );

        let (open, idle) = state.db.pool_usage();
        family(
            &mut out,
            prefix,
            "db_pool_connections",
            "gauge",
            "Database connections of this instance's pool, by state.",
        );
        let _ = writeln!(out, "{prefix}db_pool_connections{{state=\"idle\"}} {idle}");
        let _ = writeln!(
            out,
            "{prefix}db_pool_connections{{state=\"in_use\"}} {}",
            open.saturating_sub(idle)
        );

        state.engine.render_metrics(&mut out, prefix);
        out
    }
}

pub fn family(out: &mut String, prefix: &str, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {prefix}{name} {help}");
    let _ = writeln!(out, "# TYPE {prefix}{name} {kind}");
}

/// Escapes a label value as the text format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The middleware that counts and times every request by its route template. It sits
/// outside the timeout and panic layers, so 408s and 500s from panics are counted too.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = method_slot(request.method());
    let response = next.run(request).await;
    let key = SeriesKey {
        route,
        method,
        status: response.status().as_u16(),
    };
    state.metrics.request(key, started.elapsed());
    response
}

/// `GET /metrics`: the Prometheus text exposition (format 0.0.4).
pub async fn serve(State(state): State<AppState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(&state),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_whose_bound_they_do_not_exceed() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(500));
        histogram.observe(Duration::from_millis(1));
        histogram.observe(Duration::from_millis(30));
        histogram.observe(Duration::from_secs(60));

        let mut out = String::new();
        histogram.render(&mut out, "t", "a=\"b\"");

        assert!(out.contains("t_bucket{a=\"b\",le=\"0.001\"} 2\n"));
        assert!(out.contains("t_bucket{a=\"b\",le=\"0.025\"} 2\n"));
        assert!(out.contains("t_bucket{a=\"b\",le=\"0.05\"} 3\n"));
        assert!(out.contains("t_bucket{a=\"b\",le=\"10\"} 3\n"));
        assert!(out.contains("t_bucket{a=\"b\",le=\"+Inf\"} 4\n"));
        assert!(out.contains("t_count{a=\"b\"} 4\n"));
        assert!(out.contains("t_sum{a=\"b\"} 60.0315\n"));
        assert_eq!(histogram.count(), 4);
    }

    #[test]
    fn a_histogram_without_labels_renders_without_braces() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_millis(2));
        let mut out = String::new();
        histogram.render(&mut out, "t", "");
        assert!(out.contains("t_bucket{le=\"0.0025\"} 1\n"));
        assert!(out.contains("t_count 1\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
