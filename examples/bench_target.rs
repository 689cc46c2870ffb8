//! The JSON service the HTTP Request benchmark calls (for flowgate and the reference n8n
//! alike): one small JSON answer on any path, keep-alive, on a single thread, so that on a
//! small machine it takes as little CPU as it can from the two servers being measured.

use axum::http::header::CONTENT_TYPE;
use axum::Router;

const BODY: &str = r#"{"ok":true,"items":[1,2,3]}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(5698);
    let app = Router::new().fallback(|| async { ([(CONTENT_TYPE, "application/json")], BODY) });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
