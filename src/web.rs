//! The web page: owner set-up, sign-in, invitation sign-up, the settings pages for API keys
//! and users, and the pages of workflows (drawn as graphs), executions and insights. One HTML
//! document, a few scripts and a style sheet, all compiled into the binary so the page works
//! with no internet access. The scripts talk to `/rest` only.
//!
//! Every page path answers the same document (the script routes on the client), so a deep
//! link survives a reload. All URLs in the document carry `N8N_PATH`: the session cookie is
//! scoped to that path, so the page must call `/rest` under it even when it was served at
//! the root.

use axum::body::Bytes;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::AppState;
use crate::config::Config;

const PAGE: &str = include_str!("../assets/web/index.html");
/// The scripts, by file name: `app.js` runs last and routes to the pages the others register.
const SCRIPTS: [(&str, &str); 8] = [
    ("app.js", include_str!("../assets/web/app.js")),
    ("keys.js", include_str!("../assets/web/keys.js")),
    ("users.js", include_str!("../assets/web/users.js")),
    ("pages.js", include_str!("../assets/web/pages.js")),
    ("graph.js", include_str!("../assets/web/graph.js")),
    ("workflows.js", include_str!("../assets/web/workflows.js")),
    ("executions.js", include_str!("../assets/web/executions.js")),
    ("overview.js", include_str!("../assets/web/overview.js")),
];
const STYLE: &str = include_str!("../assets/web/app.css");
const ICON: &str = include_str!("../assets/web/favicon.svg");

/// The paths the client-side router knows; each answers the page.
pub const PAGES: [&str; 12] = [
    "/",
    "/signin",
    "/setup",
    "/signup",
    "/settings",
    "/settings/api",
    "/settings/users",
    "/overview",
    "/workflows",
    "/workflow/{id}",
    "/executions",
    "/execution/{id}",
];

/// Scripts, styles and requests only to this server; no inline script or style, no
/// framing, no `<base>` rewriting, and forms go nowhere without the script (which would
/// otherwise put a password into a query string).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The page's router, to be merged at the root and nested under `N8N_PATH`.
pub fn router(config: &Config) -> Router<AppState> {
    let page = Bytes::from(render(config.base_path().as_deref().unwrap_or("")));
    let mut router = Router::new();
    for path in PAGES {
        let page = page.clone();
        router = router.route(path, get(move || std::future::ready(html(page.clone()))));
    }
    for (name, script) in SCRIPTS {
        router = router.route(
            &format!("/static/{name}"),
            get(move || async move { asset(script, "text/javascript; charset=utf-8") }),
        );
    }
    router
        .route(
            "/static/app.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/favicon.svg",
            get(|| async { asset(ICON, "image/svg+xml") }),
        )
}

/// The document with `N8N_PATH` written into its URLs and into the meta tag the script
/// reads (an inline script would need a CSP exception).
fn render(base: &str) -> String {
    PAGE.replace("%BASE%", &escape_attribute(base))
}

fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html(page: Bytes) -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
            (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            // The sign-up link carries its token in the query string.
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        page,
    )
        .into_response()
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CONTENT_SECURITY_POLICY, CSP),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_path_is_written_into_every_url_of_the_page() {
        let page = render("/automation");

        assert!(!page.contains("%BASE%"));
        assert!(page.contains(r#"href="/automation/static/app.css""#));
        assert!(page.contains(r#"src="/automation/static/app.js""#));
        assert!(page.contains(r#"content="/automation""#));
    }

    #[test]
    fn a_base_path_cannot_break_out_of_its_attribute() {
        let page = render(r#"/a"><script>x</script>"#);

        assert!(!page.contains("<script>x"));
        assert!(page.contains("&quot;&gt;&lt;script&gt;"));
    }
}
