//! The web page as a black box: which paths answer it, its security headers, its assets,
//! and that it asks nothing of any other host.

use crate::helpers::{Resp, TestApp};

const PAGES: [&str; 12] = [
    "/",
    "/signin",
    "/setup",
    "/signup",
    "/settings",
    "/settings/api",
    "/settings/users",
    "/overview",
    "/workflows",
    "/workflow/aBcD1234efGh5678",
    "/executions",
    "/execution/42",
];

/// Every script of the page.
const SCRIPTS: [&str; 8] = [
    "/static/app.js",
    "/static/keys.js",
    "/static/users.js",
    "/static/pages.js",
    "/static/graph.js",
    "/static/workflows.js",
    "/static/executions.js",
    "/static/overview.js",
];

/// The URLs of the scripts, style sheets and images the document loads.
fn asset_urls(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in html.match_indices(attribute) {
            let rest = &html[start + attribute.len()..];
            let end = rest.find('"').expect("closing quote");
            let url = &rest[..end];
            if url.contains("/static/") {
                urls.push(url.to_owned());
            }
        }
    }
    urls.sort();
    urls.dedup();
    urls
}

#[track_caller]
fn assert_is_the_page(response: &Resp) {
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(response.text().contains("<title>flowgate</title>"));
}

#[tokio::test]
async fn every_page_path_answers_the_page_with_a_strict_csp_and_no_framing() {
    let app = TestApp::spawn_empty().await;

    for path in PAGES {
        let page = app.get(path).send().await;

        assert_is_the_page(&page);
        let csp = page.header("content-security-policy").expect("csp");
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(page.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            page.header("referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    }
}

#[tokio::test]
async fn a_deep_link_with_a_query_string_answers_the_page() {
    let app = TestApp::spawn().await;

    let signup = app.get("/signup?token=abc.def").send().await;
    let settings = app.get("/settings/api?x=1").send().await;

    assert_is_the_page(&signup);
    assert_is_the_page(&settings);
}

#[tokio::test]
async fn the_page_has_no_inline_script_and_loads_its_assets_from_this_server() {
    let app = TestApp::spawn_empty().await;

    let html = app.get("/").send().await.text();
    let urls = asset_urls(&html);

    for script in SCRIPTS {
        assert!(urls.contains(&script.to_owned()), "{script}: {urls:?}");
    }
    assert!(urls.contains(&"/static/app.css".to_owned()), "{urls:?}");
    assert!(urls.contains(&"/static/favicon.svg".to_owned()), "{urls:?}");
    // Every <script> has a src: CSP would block an inline one anyway, so one would be a bug.
    for (start, _) in html.match_indices("<script") {
        let tag_end = html[start..].find('>').expect("tag end");
        assert!(
            html[start..start + tag_end].contains(" src="),
            "inline script"
        );
    }
    assert!(!html.contains(" style="), "inline style attribute");
    assert!(!html.contains(" onclick="), "inline handler");
    for url in urls {
        let asset = app.get(&url).send().await;
        assert_eq!(asset.status, 200, "{url}");
        assert!(!asset.body.is_empty(), "{url}");
        let content_type = asset.header("content-type").expect("content type");
        let expected = match url.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("svg") => "image/svg+xml",
            other => panic!("unexpected asset {other:?}"),
        };
        assert!(content_type.starts_with(expected), "{url}: {content_type}");
    }
}

#[tokio::test]
async fn nothing_on_the_page_points_at_another_host() {
    let app = TestApp::spawn_empty().await;
    let mut texts = vec![("/".to_owned(), app.get("/").send().await.text())];
    for url in SCRIPTS
        .iter()
        .chain(&["/static/app.css", "/static/favicon.svg"])
    {
        texts.push((url.to_string(), app.get(url).send().await.text()));
    }

    for (url, text) in texts {
        // The SVG namespace is an identifier that is never fetched.
        let text = text
            .replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
            .replace("'http://www.w3.org/2000/svg'", "");
        for scheme in ["http://", "https://", "//fonts.", "//cdn"] {
            assert!(!text.contains(scheme), "{url} mentions {scheme}");
        }
        assert!(!text.contains("@import"), "{url} imports a style sheet");
    }
}

#[tokio::test]
async fn the_script_keeps_nothing_in_browser_storage() {
    let app = TestApp::spawn_empty().await;

    let script = app.get("/static/app.js").send().await.text();
    let mut all = String::new();
    for url in SCRIPTS {
        all.push_str(&app.get(url).send().await.text());
    }

    for storage in [
        "localStorage",
        "sessionStorage",
        "indexedDB",
        "document.cookie",
    ] {
        assert!(!all.contains(storage), "a script uses {storage}");
    }
    assert!(!all.contains("innerHTML"), "markup built from strings");
    assert!(script.contains("'Content-Type'] = 'application/json'"));
}

#[tokio::test]
async fn with_n8n_path_the_page_answers_under_both_and_points_at_the_prefix() {
    let app = TestApp::spawn_with(|c| c.path = "/automation/".to_owned()).await;

    let prefixed = app.get("/automation/settings/api").send().await;
    let prefixed_root = app.get("/automation").send().await;
    let bare = app.get("/settings/users").send().await;
    let script = app.get("/automation/static/app.js").send().await;

    assert_is_the_page(&prefixed);
    assert_is_the_page(&prefixed_root);
    assert_is_the_page(&bare);
    assert_eq!(script.status, 200);
    // The session cookie is scoped to N8N_PATH, so the page must call /rest under it even
    // when it was served at the root.
    for page in [&prefixed, &bare] {
        let html = page.text();
        assert!(html.contains(r#"<meta name="flowgate-base-path" content="/automation">"#));
        assert!(html.contains(r#"src="/automation/static/app.js""#));
        assert!(asset_urls(&html)
            .iter()
            .all(|u| u.starts_with("/automation/static/")));
    }
}

#[tokio::test]
async fn unknown_paths_under_api_and_rest_stay_json_404() {
    let app = TestApp::spawn().await;

    let rest = app.get("/rest/no-such-thing").send().await;
    let api = app
        .get("/api/v1/settings/api")
        .key(&app.owner_key)
        .send()
        .await;
    let unknown = app.get("/settings/nothing").send().await;

    rest.assert_error(404, "not found");
    api.assert_error(404, "not found");
    assert_eq!(unknown.status, 404);
    assert!(unknown
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test]
async fn the_page_does_not_replace_the_docs_or_the_openapi_document() {
    let app = TestApp::spawn().await;

    let docs = app.get("/api/v1/docs").send().await;
    let openapi = app.get("/api/v1/openapi.json").send().await;

    assert_eq!(docs.status, 200);
    assert!(!docs.text().contains("flowgate-base-path"));
    assert_eq!(openapi.status, 200);
    assert!(openapi.json()["paths"].is_object());
}
