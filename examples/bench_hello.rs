//! The physical limit of the HTTP stack on this machine: an axum "hello" route with the same
//! runtime, the same allocator and the same release profile as the server, used by the
//! benchmark harness as the baseline every figure is divided by.

use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(5699);
    let app = Router::new().route("/hello", get(|| async { "hello" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
