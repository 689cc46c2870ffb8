//! The `aws` credential: a request signed with AWS Signature Version 4, the signature checked
//! here by recomputing it from what the service received.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::server::{Seen, TestServer};
use super::*;
use crate::helpers::TestApp;

const SECRET: &str = "aws-secret-never-stored-9f8e7d";

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("key");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The signature AWS would compute for `seen` (a request with a plain path and a query whose
/// values need no encoding), with the headers `signed` names.
fn expected_signature(seen: &Seen, signed: &str, scope: &str, amz_date: &str) -> String {
    let mut query: Vec<&str> = seen.query.split('&').filter(|p| !p.is_empty()).collect();
    query.sort();
    let headers: String = signed
        .split(';')
        .map(|name| {
            format!(
                "{name}:{}\n",
                seen.header(name).expect("signed header sent")
            )
        })
        .collect();
    let canonical = format!(
        "{}\n{}\n{}\n{headers}\n{signed}\n{}",
        seen.method,
        seen.path,
        query.join("&"),
        hex::encode(Sha256::digest(&seen.body))
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = format!("AWS4{SECRET}").into_bytes();
    for part in scope.split('/') {
        key = hmac(&key, part);
    }
    hex::encode(hmac(&key, &to_sign))
}

#[tokio::test]
async fn an_aws_credential_signs_the_request_and_its_secret_stays_out_of_the_execution() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    // The test service stands for an SQS endpoint of the credential (a VPC endpoint, say).
    let id = credential(
        &app,
        "aws",
        json!({"region": "eu-west-1", "accessKeyId": "AKIDTEST", "secretAccessKey": SECRET,
               "temporaryCredentials": true, "sessionToken": "session-token-1",
               "customEndpoints": true, "sqsEndpoint": server.base}),
    )
    .await;
    let execution = run(
        &app,
        "aws-signed",
        4.2,
        json!({
            "method": "POST", "url": server.url("/queue?Version=2012-11-05"),
            "authentication": "predefinedCredentialType", "nodeCredentialType": "aws",
            "sendQuery": true,
            "queryParameters": {"parameters": [{"name": "Action", "value": "SendMessage"}]},
            "sendHeaders": true,
            "headerParameters": {"parameters": [{"name": "X-Trace", "value": "t-1"}]},
            "sendBody": true, "specifyBody": "json", "jsonBody": "{\"MessageBody\": \"hi\"}",
            "options": {}
        }),
        uses("aws", &id),
    )
    .await;

    assert_eq!(execution["status"], "success", "{execution}");
    let seen = server.seen_at("/queue").pop().expect("a request");
    let amz_date = seen.header("x-amz-date").expect("x-amz-date").to_owned();
    assert_eq!(amz_date.len(), 16, "{amz_date}");
    assert!(amz_date.ends_with('Z') && amz_date.as_bytes()[8] == b'T');
    assert_eq!(seen.header("x-amz-security-token"), Some("session-token-1"));
    // Only S3 carries the payload hash as a header.
    assert_eq!(seen.header("x-amz-content-sha256"), None);

    let authorization = seen.header("authorization").expect("authorization");
    let scope = format!("{}/eu-west-1/sqs/aws4_request", &amz_date[..8]);
    let rest = authorization
        .strip_prefix(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/{scope}, SignedHeaders="
        ))
        .unwrap_or_else(|| panic!("{authorization}"));
    let (signed, signature) = rest.split_once(", Signature=").expect("signature");
    assert_eq!(
        signed,
        "accept;content-type;host;x-amz-date;x-amz-security-token;x-trace"
    );
    assert_eq!(signature.len(), 64);
    assert_eq!(
        signature,
        expected_signature(&seen, signed, &scope, &amz_date)
    );
    assert_eq!(seen.body_json(), json!({"MessageBody": "hi"}));

    assert!(!execution.to_string().contains(SECRET));
}

#[tokio::test]
async fn an_aws_request_to_an_ip_address_without_a_custom_endpoint_is_refused() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let id = credential(
        &app,
        "aws",
        json!({"accessKeyId": "AKIDTEST", "secretAccessKey": SECRET}),
    )
    .await;
    let execution = run(
        &app,
        "aws-unscoped",
        4.2,
        json!({"url": server.url("/anything"), "authentication": "predefinedCredentialType",
               "nodeCredentialType": "aws", "options": {}}),
        uses("aws", &id),
    )
    .await;
    assert_eq!(execution["status"], "error");
    let error = http_error(&execution);
    assert_eq!(
        error["message"],
        "The AWS service to sign for cannot be read from an IP address"
    );
    assert!(server.seen_at("/anything").is_empty());
    assert!(!execution.to_string().contains(SECRET));
}
