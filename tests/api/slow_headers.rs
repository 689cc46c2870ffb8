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

/// Past `max_connections`, a new connection waits (in the kernel's backlog) until an open one
/// ends: idle clients cannot make the server take connections without bound.
#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    let app = TestApp::spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(30),
        max_connections: 2,
    };
    let server = tokio::spawn(serve_connections(
        listener,
        app.router.clone(),
        limits,
        std::future::pending(),
    ));
    let request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

    // Two idle connections take both slots (each proven accepted by a served request on a
    // keep-alive connection, then left open).
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .expect("request");
        let mut buffer = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("answered in time")
            .expect("read");
        assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
        idle.push(stream);
    }

    let mut third = tokio::net::TcpStream::connect(address)
        .await
        .expect("the kernel accepts into its backlog");
    third.write_all(request).await.expect("request");
    let mut buffer = [0u8; 512];
    let waited = tokio::time::timeout(Duration::from_millis(800), third.read(&mut buffer)).await;
    assert!(
        waited.is_err(),
        "the third connection was served past the cap"
    );

    drop(idle.pop());
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), third.read_to_end(&mut answer))
        .await
        .expect("served once a slot is free")
        .expect("read");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    server.abort();
}
