//! The `aws` credential: AWS Signature Version 4 over the request as it will be sent (final
//! URL and query, headers, body), as n8n's AWS credential signs the HTTP Request node's
//! requests.
//!
//! Service and region come from the URL's host as n8n reads it: `<service>.<region>.amazonaws.com`
//! (or `.amazonaws.com.cn`), the credential's region when the host names none
//! (`iam.amazonaws.com`). Two cases go further than n8n, which reads them wrongly:
//! virtual-hosted S3 (`<bucket>.s3.<region>.amazonaws.com` signs for `s3`, not for the bucket),
//! and hosts outside AWS (a VPC endpoint, LocalStack, MinIO, a test service). For those, a
//! custom endpoint of the credential with the same host names the service; otherwise a host
//! name's first label does (as n8n), and an IP address, which names no service, is refused.
//! Outside AWS the region is always the credential's (n8n would take the host's second label,
//! `0` for `127.0.0.1`).
//!
//! The secret access key only derives the signing key; it never goes into the request.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::engine::node::NodeError;

/// RFC 3986 unreserved characters stay, everything else is `%XX`, as SigV4 encodes.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Headers that proxies and clients may change on the way, so they are never signed (the list
/// the AWS SDKs keep).
const UNSIGNED: &[&str] = &[
    "authorization",
    "cache-control",
    "connection",
    "content-length",
    "expect",
    "from",
    "keep-alive",
    "max-forwards",
    "pragma",
    "referer",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

/// The credential's custom endpoint fields and the service each one serves.
const ENDPOINTS: &[(&str, &str)] = &[
    ("s3Endpoint", "s3"),
    ("sqsEndpoint", "sqs"),
    ("snsEndpoint", "sns"),
    ("sesEndpoint", "ses"),
    ("lambdaEndpoint", "lambda"),
    ("rekognitionEndpoint", "rekognition"),
    ("ssmEndpoint", "ssm"),
];

/// A stored `aws` credential ready to sign. No `Debug`: it holds the secret.
#[derive(Clone)]
pub struct AwsSigner {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    region: String,
    /// Hosts (`host[:port]`) of the credential's custom endpoints, with their service.
    endpoints: Vec<(String, &'static str)>,
    /// The run's fixed clock in tests; the wall clock otherwise.
    fixed_now: Option<DateTime<Utc>>,
}

impl AwsSigner {
    pub fn from_credential(data: &Map<String, Value>, fixed_now: Option<DateTime<Utc>>) -> Self {
        let text = super::auth::credential_fields("aws", data);
        let field = |name: &str| text(name).trim().to_owned();
        let session_token = Some(field("sessionToken"))
            .filter(|token| field("temporaryCredentials") == "true" && !token.is_empty());
        let endpoints = if field("customEndpoints") == "true" {
            ENDPOINTS
                .iter()
                .filter_map(|(name, service)| {
                    let url = field(name).replace("{region}", &field("region"));
                    let url = reqwest::Url::parse(&url).ok()?;
                    Some((host_header(&url)?, *service))
                })
                .collect()
        } else {
            Vec::new()
        };
        let region = Some(field("region"))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "us-east-1".to_owned());
        AwsSigner {
            access_key_id: field("accessKeyId"),
            secret_access_key: field("secretAccessKey"),
            session_token,
            region,
            endpoints,
            fixed_now,
        }
    }

    /// Adds `host`, `x-amz-date`, `x-amz-security-token`, `x-amz-content-sha256` (S3) and
    /// `authorization` to the request, signing every other header it carries.
    pub fn sign(&self, request: &mut reqwest::Request) -> Result<(), NodeError> {
        let url = request.url().clone();
        let host = host_header(&url)
            .ok_or_else(|| NodeError::operation("An AWS request needs a URL with a host"))?;
        let (service, region) = self.scope_of(&url, &host)?;
        let body = match request.body() {
            None => Some(&[][..]),
            Some(body) => body.as_bytes(),
        };
        let payload_hash = match body {
            Some(bytes) => hex::encode(Sha256::digest(bytes)),
            // A streamed body (multipart) is not in memory to hash; S3 takes it unsigned.
            None if service == "s3" => "UNSIGNED-PAYLOAD".to_owned(),
            None => {
                return Err(NodeError::operation(
                    "A multipart body cannot be signed for AWS; send the file as binary data",
                ))
            }
        };
        let has_body = matches!(body, Some(b) if !b.is_empty());
        let now = self.fixed_now.unwrap_or_else(Utc::now);
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();

        let headers = request.headers_mut();
        let mut set = |name: &'static str, value: &str| -> Result<(), NodeError> {
            let value = HeaderValue::from_str(value).map_err(|_| {
                NodeError::operation(format!("The value of the header \"{name}\" is not valid"))
            })?;
            headers.insert(HeaderName::from_static(name), value);
            Ok(())
        };
        set("x-amz-date", &amz_date)?;
        if let Some(token) = &self.session_token {
            set("x-amz-security-token", token)?;
        }
        if service == "s3" {
            set("x-amz-content-sha256", &payload_hash)?;
        }
        // As n8n's signer does, a body without a type is sent (and signed) as a form.
        if has_body && !headers.contains_key(CONTENT_TYPE) {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
            );
        }
        // The signed host is the one sent: set it rather than leave it to the client.
        let host_value = HeaderValue::from_str(&host)
            .map_err(|_| NodeError::operation("An AWS request needs a URL with a host"))?;
        headers.insert(HOST, host_value);

        let signed_headers: Vec<(String, String)> = headers
            .keys()
            .map(|name| name.as_str())
            .filter(|name| !UNSIGNED.contains(name))
            .map(|name| {
                let values: Vec<String> = headers
                    .get_all(name)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                (name.to_owned(), values.join(","))
            })
            .collect();
        let canonical = CanonicalRequest {
            method: request.method().as_str(),
            path: canonical_path(url.path(), service == "s3"),
            query: canonical_query(url.query().unwrap_or_default()),
            headers: signed_headers,
            payload_hash,
        };
        let (signed, signature) =
            canonical.signature(&self.secret_access_key, &amz_date, &region, &service);
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}/{region}/{service}/aws4_request, SignedHeaders={signed}, Signature={signature}",
            self.access_key_id,
            &amz_date[..8],
        );
        let value = HeaderValue::from_str(&authorization).map_err(|_| {
            NodeError::operation("The AWS access key ID holds characters a header cannot carry")
        })?;
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    /// The service and region the request to `url` is signed for.
    fn scope_of(&self, url: &reqwest::Url, host: &str) -> Result<(String, String), NodeError> {
        if let Some((_, service)) = self.endpoints.iter().find(|(h, _)| h == host) {
            return Ok(((*service).to_owned(), self.region.clone()));
        }
        let hostname = url.host_str().unwrap_or_default().to_ascii_lowercase();
        // An IPv6 literal is bracketed; an IPv4 one parses as an address.
        if hostname.starts_with('[') || hostname.parse::<std::net::IpAddr>().is_ok() {
            return Err(NodeError::operation(
                "The AWS service to sign for cannot be read from an IP address",
            )
            .with_description(
                "Use the service's amazonaws.com host, or set the address as a custom endpoint of the AWS credential.",
            ));
        }
        let aws_prefix = hostname
            .strip_suffix(".amazonaws.com")
            .or_else(|| hostname.strip_suffix(".amazonaws.com.cn"));
        let Some(prefix) = aws_prefix else {
            let first = hostname.split('.').next().unwrap_or_default();
            return Ok((signing_service(first), self.region.clone()));
        };
        let labels: Vec<&str> = prefix.split('.').collect();
        // `<bucket>.s3.<region>`: the bucket is no service.
        let at = labels.iter().position(|l| *l == "s3").unwrap_or_default();
        let service = signing_service(labels[at]);
        let region = labels
            .get(at + 1)
            .filter(|r| !r.is_empty())
            .map(|r| (*r).to_owned())
            .unwrap_or_else(|| self.region.clone());
        Ok((service, region))
    }
}

/// The SigV4 name of an endpoint's service where the host's name differs.
fn signing_service(label: &str) -> String {
    match label {
        "email" => "ses",
        "bedrock-runtime"
        | "bedrock-agent"
        | "bedrock-agent-runtime"
        | "bedrock-data-automation"
        | "bedrock-data-automation-runtime" => "bedrock",
        other => other,
    }
    .to_owned()
}

/// `host[:port]` as the `Host` header carries it (the port only when not the scheme's).
fn host_header(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// The path with each segment encoded as SigV4 wants: once for S3, twice for every other
/// service (AWS's rule).
fn canonical_path(path: &str, s3: bool) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/')
        .map(|segment| {
            let raw = percent_decode_str(segment).collect::<Vec<u8>>();
            let raw = String::from_utf8_lossy(&raw);
            let once = utf8_percent_encode(&raw, UNRESERVED).to_string();
            if s3 {
                once
            } else {
                utf8_percent_encode(&once, UNRESERVED).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The query's pairs decoded (`+` as a space, as n8n's signer reads it), encoded again with
/// SigV4's rules and sorted by name, then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            (
                utf8_percent_encode(&k, UNRESERVED).to_string(),
                utf8_percent_encode(&v, UNRESERVED).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The parts of a request SigV4 signs, already in canonical form but for the headers.
struct CanonicalRequest<'a> {
    method: &'a str,
    path: String,
    query: String,
    /// Lowercase names with their values (repeated headers joined by `,`).
    headers: Vec<(String, String)>,
    payload_hash: String,
}

impl CanonicalRequest<'_> {
    fn text(&self) -> (String, String) {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
                (name.to_ascii_lowercase(), value)
            })
            .collect();
        headers.sort();
        let signed = headers
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let text = format!(
            "{}\n{}\n{}\n{canonical_headers}\n{signed}\n{}",
            self.method, self.path, self.query, self.payload_hash
        );
        (text, signed)
    }

    /// The signed-headers list and the signature, for a request made at `amz_date`
    /// (`YYYYMMDDTHHMMSSZ`).
    fn signature(
        &self,
        secret: &str,
        amz_date: &str,
        region: &str,
        service: &str,
    ) -> (String, String) {
        let (text, signed) = self.text();
        let date = &amz_date[..8];
        let scope = format!("{date}/{region}/{service}/aws4_request");
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(text.as_bytes()))
        );
        let key = signing_key(secret, date, region, service);
        (signed, hex::encode(hmac(&key, to_sign.as_bytes())))
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    /// SHA-256 of nothing: the payload hash of a request without a body.
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn signer(data: Value) -> AwsSigner {
        let fixed = DateTime::parse_from_rfc3339("2015-08-30T12:36:00Z")
            .expect("date")
            .with_timezone(&Utc);
        AwsSigner::from_credential(data.as_object().expect("object"), Some(fixed))
    }

    fn header(request: &reqwest::Request, name: &str) -> String {
        request.headers()[name].to_str().expect("text").to_owned()
    }

    /// AWS's documented example: `GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08`
    /// with its content type, signed in us-east-1 for iam on 2015-08-30 12:36:00.
    #[test]
    fn the_documented_iam_example_gives_the_documented_signature() {
        let canonical = CanonicalRequest {
            method: "GET",
            path: canonical_path("/", false),
            query: canonical_query("Version=2010-05-08&Action=ListUsers"),
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded; charset=utf-8".into(),
                ),
                ("Host".into(), "iam.amazonaws.com".into()),
                ("X-Amz-Date".into(), "20150830T123600Z".into()),
            ],
            payload_hash: EMPTY_SHA256.into(),
        };
        let (text, signed) = canonical.text();
        assert_eq!(
            text,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n\
             content-type:application/x-www-form-urlencoded; charset=utf-8\n\
             host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             content-type;host;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(Sha256::digest(text.as_bytes())),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(signed, "content-type;host;x-amz-date");
        assert_eq!(
            hex::encode(signing_key(SECRET, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let (_, signature) = canonical.signature(SECRET, "20150830T123600Z", "us-east-1", "iam");
        assert_eq!(
            signature,
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn a_whole_request_to_iam_is_signed_as_the_documented_example() {
        let client = reqwest::Client::new();
        let mut request = client
            .get("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08")
            .header(
                CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .build()
            .expect("request");
        signer(json!({"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": SECRET}))
            .sign(&mut request)
            .expect("signed");
        assert_eq!(header(&request, "x-amz-date"), "20150830T123600Z");
        assert_eq!(header(&request, "host"), "iam.amazonaws.com");
        assert_eq!(
            header(&request, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
        assert!(!format!("{:?}", request.headers()).contains(SECRET));
    }

    #[test]
    fn service_and_region_come_from_the_host() {
        let s = signer(json!({"region": "eu-central-1"}));
        let scope = |url: &str| {
            let url = reqwest::Url::parse(url).expect("url");
            let host = host_header(&url).expect("host");
            s.scope_of(&url, &host).expect("scope")
        };
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            scope("https://sqs.eu-west-1.amazonaws.com/1/q"),
            pair("sqs", "eu-west-1")
        );
        assert_eq!(
            scope("https://s3.amazonaws.com/bucket"),
            pair("s3", "eu-central-1")
        );
        assert_eq!(
            scope("https://my-bucket.s3.us-west-2.amazonaws.com/key"),
            pair("s3", "us-west-2")
        );
        assert_eq!(
            scope("https://email.us-east-1.amazonaws.com/"),
            pair("ses", "us-east-1")
        );
        assert_eq!(
            scope("https://bedrock-runtime.us-east-1.amazonaws.com/model/x/invoke"),
            pair("bedrock", "us-east-1")
        );
        assert_eq!(
            scope("https://lambda.cn-north-1.amazonaws.com.cn/"),
            pair("lambda", "cn-north-1")
        );
        assert_eq!(
            scope("http://localhost:4566/queue"),
            pair("localhost", "eu-central-1")
        );
        let ip = reqwest::Url::parse("http://127.0.0.1:9000/").expect("url");
        let error = s.scope_of(&ip, "127.0.0.1:9000").expect_err("refused");
        assert!(error.message.contains("IP address"), "{}", error.message);
    }

    #[test]
    fn a_custom_endpoint_names_the_service_of_its_host() {
        let s = signer(json!({"region": "eu-west-1", "customEndpoints": true,
                              "s3Endpoint": "http://127.0.0.1:9000", "sqsEndpoint": "https://vpce-1.sqs.{region}.vpce.example"}));
        let url = reqwest::Url::parse("http://127.0.0.1:9000/bucket/key").expect("url");
        assert_eq!(
            s.scope_of(&url, "127.0.0.1:9000").expect("scope"),
            ("s3".to_owned(), "eu-west-1".to_owned())
        );
        let url = reqwest::Url::parse("https://vpce-1.sqs.eu-west-1.vpce.example/").expect("url");
        assert_eq!(
            s.scope_of(&url, "vpce-1.sqs.eu-west-1.vpce.example")
                .expect("scope")
                .0,
            "sqs"
        );
        // Endpoints only count when the credential turns them on.
        let off = signer(json!({"s3Endpoint": "http://127.0.0.1:9000"}));
        assert!(off.endpoints.is_empty());
    }

    #[test]
    fn s3_signs_its_payload_hash_and_temporary_credentials_their_token() {
        let client = reqwest::Client::new();
        let mut request = client
            .put("https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c.txt?x-id=PutObject")
            .body("hello")
            .header(CONTENT_TYPE, "text/plain")
            .build()
            .expect("request");
        signer(json!({"accessKeyId": "AK", "secretAccessKey": "sk",
                      "temporaryCredentials": true, "sessionToken": " tok "}))
        .sign(&mut request)
        .expect("signed");
        assert_eq!(
            header(&request, "x-amz-content-sha256"),
            hex::encode(Sha256::digest(b"hello"))
        );
        assert_eq!(header(&request, "x-amz-security-token"), "tok");
        let authorization = header(&request, "authorization");
        assert!(authorization.starts_with(
            "AWS4-HMAC-SHA256 Credential=AK/20150830/eu-west-1/s3/aws4_request, \
             SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="
        ), "{authorization}");

        // Without the switch the token stays out.
        let mut plain = client
            .get("https://sqs.eu-west-1.amazonaws.com/")
            .build()
            .expect("request");
        signer(json!({"accessKeyId": "AK", "secretAccessKey": "sk", "sessionToken": "tok"}))
            .sign(&mut plain)
            .expect("signed");
        assert!(plain.headers().get("x-amz-security-token").is_none());
        assert!(plain.headers().get("x-amz-content-sha256").is_none());
    }

    #[test]
    fn paths_are_encoded_twice_except_for_s3_and_queries_are_sorted() {
        assert_eq!(canonical_path("/a%20b/c", true), "/a%20b/c");
        assert_eq!(canonical_path("/a%20b/c", false), "/a%2520b/c");
        assert_eq!(canonical_path("", false), "/");
        assert_eq!(canonical_query("b=2&a=x+y&a=%2B"), "a=%2B&a=x%20y&b=2");
        assert_eq!(canonical_query(""), "");
    }
}
