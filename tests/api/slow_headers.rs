//! The real connection loop: a client that trickles its request headers is disconnected
//! after the header-read timeout.

use std::time::{Duration, Instant};

use flowgate::serve::{serve_connections, ConnectionLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::TestApp;

#[tokio::test]
async fn a_client_trickling_header_lines_is_disconnected_after_the_timeout() {
    let app = TestApp::spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(2),
        max_connections: 16,
    };
    let server = tokio::spawn(serve_connections(
        listener,
        app.router.clone(),
        limits,
        std::future::pending(),
    ));

    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("first line");
    let mut closed_after = None;
    for i in 0..10 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if stream
            .write_all(format!("X-Slow-{i}: x\r\n").as_bytes())
            .await
            .is_err()
        {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut buffer = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(10), stream.read(&mut buffer)).await {
            Ok(Ok(_)) | Ok(Err(_)) => {
                closed_after = Some(started.elapsed());
                break;
            }
            Err(_still_open) => {}
        }
    }
    let closed_after = closed_after.expect("the connection is closed");
    assert!(closed_after < Duration::from_secs(5), "{closed_after:?}");

    // A prompt client is still served.
    let mut prompt = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    prompt
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut answer = String::new();
    prompt.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.abort();
}
