//! Pagination: each mode and stop condition against a local paged service, the page limit, a
//! pagination that never ends, and the failures. Items, requests and messages were checked
//! against n8n 2.8 with the same service.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use super::*;
use crate::helpers::TestApp;

/// (path, query, `x-page` header, body) of each request, in arrival order.
type Seen = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// A paged service on 127.0.0.1: it records each request (path, query, `x-page` header, body)
/// and answers by path, the page number coming from `page` in the query.
struct Pages {
    base: String,
    seen: Seen,
}

impl Pages {
    async fn start() -> Pages {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new().fallback(page).with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Pages { base, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The query strings of the requests to `path`, in order.
    fn queries(&self, path: &str) -> Vec<String> {
        self.requests(path).into_iter().map(|r| r.1).collect()
    }

    /// (path, query, `x-page` header, body) of the requests to `path`.
    fn requests(&self, path: &str) -> Vec<(String, String, String, String)> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.iter().filter(|r| r.0 == path).cloned().collect()
    }
}

async fn page(State(seen): State<Seen>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let header_page = parts
        .headers
        .get("x-page")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let path = parts.uri.path().to_owned();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    seen.lock().unwrap_or_else(|e| e.into_inner()).push((
        path.clone(),
        query.clone(),
        header_page.clone(),
        body.clone(),
    ));
    let n: u64 = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1);
    let json = |status: u16, value: Value| {
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, "application/json")],
            value.to_string(),
        )
            .into_response()
    };
    match path.as_str() {
        "/items" if n <= 3 => json(200, json!([{"page": n, "i": 1}, {"page": n, "i": 2}])),
        "/items" => json(200, json!([])),
        "/next" => {
            let next = (n < 3).then(|| format!("http://{host}/next?page={}", n + 1));
            json(200, json!({"items": [n], "next": next}))
        }
        "/status" if n < 3 => json(200, json!([{"page": n}])),
        "/status" => json(404, json!({"error": "done", "page": n})),
        "/forever" => json(200, json!([{"page": n}])),
        "/object" if n <= 3 => json(200, json!({"page": n})),
        "/object" => json(200, json!({})),
        "/same" => json(200, json!({"same": true})),
        "/text" if n < 3 => {
            ([(header::CONTENT_TYPE, "text/plain")], format!("page {n}")).into_response()
        }
        "/text" => ([(header::CONTENT_TYPE, "text/plain")], "").into_response(),
        "/fail" if n < 2 => json(200, json!([{"page": n}])),
        "/fail" => json(500, json!({"message": "boom"})),
        "/header" => {
            let n: u64 = header_page.parse().unwrap_or(1);
            json(
                200,
                if n <= 2 {
                    json!([{"page": n}])
                } else {
                    json!([])
                },
            )
        }
        "/body" => {
            let sent: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let n = sent["page"].as_u64().unwrap_or(1);
            json(
                200,
                if n <= 2 {
                    json!([{"page": n, "sent": sent}])
                } else {
                    json!([])
                },
            )
        }
        _ => json(404, json!({"message": "no such page"})),
    }
}

fn paginate(url: String, pagination: Value) -> Value {
    json!({"url": url, "options": {"pagination": {"pagination": pagination}}})
}

fn page_parameter(kind: &str, name: &str, value: &str) -> Value {
    json!({"parameters": [{"type": kind, "name": name, "value": value}]})
}

#[tokio::test]
async fn a_parameter_updated_in_each_request_pages_until_the_response_is_empty() {
    let app = TestApp::spawn().await;
    let pages = Pages::start().await;
    let execution = run(
        &app,
        "pages-qs",
        4.2,
        paginate(
            pages.url("/items"),
            json!({"parameters": page_parameter("qs", "page", "={{ $pageCount + 1 }}")}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    // Every page's items, one page after the other; the empty fourth page adds none.
    let expected: Vec<Value> = (1..=3)
        .flat_map(|p| [json!({"page": p, "i": 1}), json!({"page": p, "i": 2})])
        .collect();
    assert_eq!(http_output(&execution), expected);
    assert_eq!(
        pages.queries("/items"),
        vec!["page=1", "page=2", "page=3", "page=4"]
    );

    // In a header, from the previous answer.
    let header = run(
        &app,
        "pages-header",
        4.2,
        paginate(
            pages.url("/header"),
            json!({"parameters": page_parameter("headers", "x-page", "={{ $response.body.length ? $response.body[0].page + 1 : 1 }}")}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(header["status"], "success", "{header}");
    assert_eq!(
        http_output(&header),
        vec![json!({"page": 1}), json!({"page": 2})],
        "{:?}",
        pages.requests("/header")
    );
    let sent: Vec<String> = pages.requests("/header").into_iter().map(|r| r.2).collect();
    // The first request has no previous answer: the expression fails, the header is not set.
    assert_eq!(sent, vec!["", "2", "3"]);

    // In the JSON body, next to the node's own fields; `$request` is the item's request.
    let body = run(
        &app,
        "pages-body",
        4.2,
        json!({"url": pages.url("/body"), "method": "POST", "sendBody": true,
               "bodyParameters": {"parameters": [{"name": "kind", "value": "all"}]},
               "options": {"pagination": {"pagination": {
                   "parameters": page_parameter("body", "page", "={{ $pageCount + 1 }}"),
                   "paginationCompleteWhen": "other",
                   "completeExpression": "={{ $response.body.length === 0 || $request.body.kind !== 'all' }}"}}}}),
        json!({}),
    )
    .await;
    assert_eq!(
        http_output(&body),
        vec![
            json!({"page": 1, "sent": {"kind": "all", "page": 1}}),
            json!({"page": 2, "sent": {"kind": "all", "page": 2}})
        ]
    );
    assert_eq!(pages.requests("/body").len(), 3);
}

#[tokio::test]
async fn the_next_url_is_taken_from_the_response_until_a_condition_or_a_status_ends_it() {
    let app = TestApp::spawn().await;
    let pages = Pages::start().await;
    let execution = run(
        &app,
        "pages-next",
        4.2,
        paginate(
            pages.url("/next"),
            json!({"paginationMode": "responseContainsNextURL", "nextURL": "={{ $response.body.next }}",
                   "paginationCompleteWhen": "other", "completeExpression": "={{ !$response.body.next }}"}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    let output = http_output(&execution);
    assert_eq!(output.len(), 3);
    assert_eq!(output[2], json!({"items": [3], "next": null}));
    assert_eq!(pages.queries("/next"), vec!["", "page=2", "page=3"]);

    // A status code ends the pagination; the last answer's body is a page too.
    let status = run(
        &app,
        "pages-status",
        4.2,
        paginate(
            pages.url("/status"),
            json!({"parameters": page_parameter("qs", "page", "={{ $pageCount + 1 }}"),
                   "paginationCompleteWhen": "receiveSpecificStatusCodes", "statusCodesWhenComplete": "410, 404"}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(status["status"], "success", "{status}");
    assert_eq!(
        http_output(&status),
        vec![
            json!({"page": 1}),
            json!({"page": 2}),
            json!({"error": "done", "page": 3})
        ]
    );

    // Text pages: an empty text is an empty response.
    let text = run(
        &app,
        "pages-text",
        4.2,
        paginate(
            pages.url("/text"),
            json!({"parameters": page_parameter("qs", "page", "={{ $pageCount + 1 }}")}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        http_output(&text),
        vec![
            json!({"data": "page 1"}),
            json!({"data": "page 2"}),
            json!({"data": ""})
        ]
    );
}

#[tokio::test]
async fn the_page_limit_stops_a_pagination_that_never_ends() {
    let app = TestApp::spawn().await;
    let pages = Pages::start().await;
    let execution = run(
        &app,
        "pages-limit",
        4.2,
        paginate(
            pages.url("/forever"),
            json!({"parameters": page_parameter("qs", "page", "={{ $pageCount + 1 }}"),
                   "limitPagesFetched": true, "maxRequests": 4, "requestInterval": 1}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(
        http_output(&execution),
        (1..=4).map(|p| json!({"page": p})).collect::<Vec<_>>()
    );
    assert_eq!(pages.requests("/forever").len(), 4);

    // The same answer over and over, with no limit: stopped with n8n's error.
    let same = run(
        &app,
        "pages-same",
        4.2,
        paginate(
            pages.url("/same"),
            json!({"parameters": page_parameter("qs", "page", "={{ $pageCount + 1 }}")}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(same["status"], "error");
    let error = http_error(&same);
    assert_eq!(
        error["message"],
        "The returned response was identical 5x, so requests got stopped"
    );
    assert_eq!(
        error["description"],
        "Check if \"Pagination Completed When\" has been configured correctly."
    );
    assert_eq!(error["name"], "NodeApiError");
    assert_eq!(pages.requests("/same").len(), 5);

    // An empty object is not an empty response: only the limit ends these pages.
    let objects = run(
        &app,
        "pages-objects",
        4.2,
        paginate(
            pages.url("/object"),
            json!({"parameters": page_parameter("qs", "page", "={{ $pageCount + 1 }}"),
                   "limitPagesFetched": true, "maxRequests": 6}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        http_output(&objects),
        vec![
            json!({"page": 1}),
            json!({"page": 2}),
            json!({"page": 3}),
            json!({}),
            json!({}),
            json!({})
        ]
    );
}

#[tokio::test]
async fn a_failed_page_fails_the_item_and_bad_settings_are_refused() {
    let app = TestApp::spawn().await;
    let pages = Pages::start().await;
    let failed = run(
        &app,
        "pages-fail",
        4.2,
        paginate(
            pages.url("/fail"),
            json!({"parameters": page_parameter("qs", "page", "={{ $pageCount + 1 }}")}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(failed["status"], "error");
    let error = http_error(&failed);
    assert_eq!(
        error["message"],
        "The service was not able to process your request"
    );
    assert_eq!(error["httpCode"], "500");
    assert_eq!(error["description"], "boom");

    let empty = run(
        &app,
        "pages-empty-parameter",
        4.2,
        paginate(
            pages.url("/items"),
            json!({"parameters": page_parameter("qs", "page", "")}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&empty)["message"],
        "Some value must be provided for parameter [1] in pagination settings, omitting it will result in an infinite loop"
    );
    let no_expression = run(
        &app,
        "pages-no-expression",
        4.2,
        paginate(
            pages.url("/items"),
            json!({"parameters": page_parameter("qs", "page", "2"),
                   "paginationCompleteWhen": "other", "completeExpression": ""}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&no_expression)["message"],
        "Invalid or empty Complete Expression"
    );
    let bad_url = run(
        &app,
        "pages-bad-url",
        4.2,
        paginate(
            pages.url("/next"),
            json!({"paginationMode": "responseContainsNextURL",
                   "nextURL": "={{ $response.body.items ? 'nope' : undefined }}"}),
        ),
        json!({}),
    )
    .await;
    let error = http_error(&bad_url);
    assert_eq!(error["message"], "'nope' is not a valid URL.");
    assert_eq!(
        error["description"],
        "Make sure the \"Next URL\" parameter evaluates to a valid URL."
    );
    assert!(pages.requests("/items").is_empty());
    assert_eq!(pages.requests("/next").len(), 1);
}
