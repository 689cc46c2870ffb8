//! Who may call a production webhook or a Wait node's resume webhook: the node's IP
//! allowlist, its "ignore bots" option and its authentication (`none`, `basicAuth`,
//! `headerAuth`, `bearerAuth`, `jwtAuth`), checked in n8n's order before anything runs. A
//! refused call starts (or resumes) no execution.
//!
//! As in n8n, authentication refusals are plain text with `WWW-Authenticate: Basic
//! realm="Webhook"`: 401 `Authorization is required!` without credentials, 403 `Authorization
//! data is wrong!` with wrong ones, 500 `No authentication data defined on node!` when the
//! node's credential is missing or incomplete. The allowlist refusal is a plain 403 `IP is not
//! allowed to access the webhook!`.
//!
//! JWT auth answers 401 `No token provided` without a token and 403 with the reason the token
//! was refused (`jwt expired`, `invalid signature`, ...), as n8n does.
//!
//! Secrets are compared in constant time. An authentication this server cannot check is
//! refused at publish (see [`refusal`]), so no call is ever answered without the check its
//! node asks for.

use std::net::IpAddr;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::app::RawErrorBody;
use crate::domain::jwt;
use crate::engine::services::open_credential;
use crate::engine::workflow::Node;
use crate::engine::Engine;

/// The node's `authentication` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    None,
    Basic,
    Header,
    Bearer,
    Jwt,
}

/// The parameter naming a node's authentication: the Webhook node's `authentication`, the
/// Wait node's `incomingAuthentication` (its resume webhook).
fn auth_parameter(node: &Node) -> &'static str {
    if node.kind == WAIT_NODE {
        "incomingAuthentication"
    } else {
        "authentication"
    }
}

const WAIT_NODE: &str = "n8n-nodes-base.wait";
const WEBHOOK_NODE: &str = super::paths::WEBHOOK_NODE;

fn method(node: &Node) -> Result<Method, String> {
    match node
        .parameters
        .get(auth_parameter(node))
        .and_then(Value::as_str)
        .unwrap_or("none")
    {
        "none" => Ok(Method::None),
        "basicAuth" => Ok(Method::Basic),
        "headerAuth" => Ok(Method::Header),
        "bearerAuth" => Ok(Method::Bearer),
        "jwtAuth" => Ok(Method::Jwt),
        other => Err(format!(
            "webhook authentication \"{other}\" is not supported on this server"
        )),
    }
}

/// Why a Webhook node, or a Wait node resumed by its webhook, cannot be published here: an
/// authentication this server cannot check.
pub fn refusal(node: &Node) -> Option<String> {
    if node.kind == WAIT_NODE
        && node.parameters.get("resume").and_then(Value::as_str) != Some("webhook")
    {
        return None;
    }
    method(node).err()
}

/// The credential type this node's authentication needs when the node names none of that
/// type: n8n refuses to publish such a workflow ("Missing required credential").
pub fn missing_credential(node: &Node) -> Option<&'static str> {
    if node.disabled || refusal(node).is_some() {
        return None;
    }
    if node.kind != WEBHOOK_NODE
        && !(node.kind == WAIT_NODE
            && node.parameters.get("resume").and_then(Value::as_str) == Some("webhook"))
    {
        return None;
    }
    let kind = credential_kind(method(node).ok()?)?;
    let named = node
        .credentials
        .get(kind)
        .and_then(|reference| reference.get("id"))
        .and_then(Value::as_str)
        .is_some_and(|id| !id.is_empty());
    (!named).then_some(kind)
}

/// The credential type that holds what a method compares with.
fn credential_kind(method: Method) -> Option<&'static str> {
    match method {
        Method::None => None,
        Method::Basic => Some("httpBasicAuth"),
        Method::Header => Some("httpHeaderAuth"),
        Method::Bearer => Some("httpBearerAuth"),
        Method::Jwt => Some("jwtAuth"),
    }
}

/// Refuses the call when the node's options or authentication do not admit it. `project_id`
/// is the workflow's project, whose credentials the node may use. A call admitted by JWT auth
/// answers the token's payload (n8n hands it on as the item's `jwtPayload`).
pub async fn check(
    engine: &Engine,
    project_id: Option<&str>,
    node: &Node,
    headers: &HeaderMap,
    client: IpAddr,
) -> Result<Option<Value>, Response> {
    let options = node.parameters.get("options");
    let allowlist = options
        .and_then(|o| o.get("ipWhitelist"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !ip_allowed(allowlist, client) {
        return Err(as_text(
            (
                StatusCode::FORBIDDEN,
                "IP is not allowed to access the webhook!",
            )
                .into_response(),
        ));
    }
    if options
        .and_then(|o| o.get("ignoreBots"))
        .and_then(Value::as_bool)
        == Some(true)
        && is_bot(headers)
    {
        return Err(refused(Refusal::Wrong));
    }
    let method = method(node).map_err(|_| refused(Refusal::NotConfigured))?;
    let Some(kind) = credential_kind(method) else {
        return Ok(None);
    };
    let expected = match credential(engine, project_id, node, kind).await {
        Some(data) => data,
        None => return Err(refused(Refusal::NotConfigured)),
    };
    let field = |name: &str| {
        expected
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if method == Method::Jwt {
        return check_jwt(node, &expected, headers)
            .map(Some)
            .map_err(refused);
    }
    let verdict = match method {
        Method::None | Method::Jwt => Ok(()),
        Method::Basic => match (field("user"), field("password")) {
            (Some(user), Some(password)) => check_basic(headers, node, user, password),
            _ => Err(Refusal::NotConfigured),
        },
        Method::Header => match (field("name"), field("value")) {
            (Some(name), Some(value)) => check_header(headers, name, value),
            _ => Err(Refusal::NotConfigured),
        },
        Method::Bearer => match field("token") {
            Some(token) => check_bearer(headers, token),
            None => Err(Refusal::NotConfigured),
        },
    };
    verdict.map(|()| None).map_err(refused)
}

/// The node's credential of `kind`, if it names one the workflow's project may use. Why it
/// cannot be read is logged, never answered: the caller only learns that the node is not set
/// up, as in n8n.
async fn credential(
    engine: &Engine,
    project_id: Option<&str>,
    node: &Node,
    kind: &str,
) -> Option<serde_json::Map<String, Value>> {
    let id = node
        .credentials
        .get(kind)
        .and_then(|reference| reference.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())?;
    match open_credential(engine, project_id, kind, id).await {
        Ok(data) => Some(data),
        Err(e) => {
            tracing::warn!(node = %node.name, error = %e.message, "a webhook's credential cannot be used");
            None
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Refusal {
    /// 401: no credentials sent.
    Missing,
    /// 403: credentials sent, but not the right ones.
    Wrong,
    /// 500: the node has no usable credential to compare with.
    NotConfigured,
    /// JWT auth: 401 without a token, 403 with the reason the token was refused.
    Token { status: StatusCode, reason: String },
}

fn refused(refusal: Refusal) -> Response {
    let (status, message) = match refusal {
        Refusal::Token { status, reason } => return text_refusal(status, reason),
        Refusal::Missing => (StatusCode::UNAUTHORIZED, "Authorization is required!"),
        Refusal::Wrong => (StatusCode::FORBIDDEN, "Authorization data is wrong!"),
        Refusal::NotConfigured => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "No authentication data defined on node!",
        ),
    };
    text_refusal(status, message.to_owned())
}

/// A refusal in n8n's form: plain text, with the Basic challenge whatever the method.
fn text_refusal(status: StatusCode, message: String) -> Response {
    as_text(
        (
            status,
            [(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Webhook\""),
            )],
            message,
        )
            .into_response(),
    )
}

/// Keeps a refusal's text body as it is: n8n answers these in plain text, not in the JSON
/// that other error answers get.
fn as_text(mut response: Response) -> Response {
    response.extensions_mut().insert(RawErrorBody);
    response
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Basic auth: the `Authorization: Basic` header, or else n8n's `x-auth-token` (an HMAC of
/// the node's ids under the user and password, which n8n's forms send).
fn check_basic(
    headers: &HeaderMap,
    node: &Node,
    user: &str,
    password: &str,
) -> Result<(), Refusal> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some((sent_user, sent_password)) = authorization.and_then(basic_credentials) {
        let user_ok = same(sent_user.as_bytes(), user.as_bytes());
        let password_ok = same(sent_password.as_bytes(), password.as_bytes());
        return if user_ok & password_ok {
            Ok(())
        } else {
            Err(Refusal::Wrong)
        };
    }
    let Some(token) = headers.get("x-auth-token") else {
        return Err(Refusal::Missing);
    };
    let expected = basic_auth_token(node, user, password);
    if same(token.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::Wrong)
    }
}

/// The user and password of an `Authorization: Basic <base64(user:password)>` value; `None`
/// when the value is not of that form (the scheme's name in any case).
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let value = value.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// n8n's `x-auth-token` for a basic-auth webhook: HMAC-SHA256 keyed by `user:password` over
/// `<node id>-<webhook id>`, in hex.
fn basic_auth_token(node: &Node, user: &str, password: &str) -> String {
    let key = format!("{user}:{password}");
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(node.id.as_bytes());
    mac.update(b"-");
    mac.update(node.webhook_id.as_deref().unwrap_or("undefined").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Header auth: the header of the credential's name must carry exactly its value.
fn check_header(headers: &HeaderMap, name: &str, value: &str) -> Result<(), Refusal> {
    let sent = headers
        .get(name.trim().to_ascii_lowercase().as_str())
        .map(HeaderValue::as_bytes);
    match sent {
        Some(sent) if same(sent, value.as_bytes()) => Ok(()),
        _ => Err(Refusal::Wrong),
    }
}

/// Bearer auth: `Authorization: Bearer <token>`, exactly.
fn check_bearer(headers: &HeaderMap, token: &str) -> Result<(), Refusal> {
    let expected = format!("Bearer {token}");
    match headers.get(header::AUTHORIZATION) {
        Some(sent) if same(sent.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(Refusal::Wrong),
    }
}

/// JWT auth: the token is the second word of the `Authorization` header (n8n takes it so,
/// whatever the first word), checked with the credential's key and algorithm (see `jwt.rs`).
fn check_jwt(
    node: &Node,
    credential: &serde_json::Map<String, Value>,
    headers: &HeaderMap,
) -> Result<Value, Refusal> {
    let (key, algorithm) = jwt::Key::from_credential(credential).map_err(|why| {
        tracing::warn!(node = %node.name, reason = %why, "a webhook's JWT credential cannot be used");
        Refusal::NotConfigured
    })?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(' ').nth(1))
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(Refusal::Token {
            status: StatusCode::UNAUTHORIZED,
            reason: "No token provided".to_owned(),
        });
    };
    jwt::verify(token, &key, algorithm, chrono::Utc::now().timestamp()).map_err(|reason| {
        Refusal::Token {
            status: StatusCode::FORBIDDEN,
            reason,
        }
    })
}

/// Whether `client` may call a webhook whose allowlist is `allowlist` (comma-separated
/// addresses and CIDR ranges; empty allows everyone). Entries that are not addresses or
/// ranges are skipped, as n8n skips them; an IPv4 address seen as IPv6 (`::ffff:a.b.c.d`)
/// counts as the IPv4 address.
pub fn ip_allowed(allowlist: &str, client: IpAddr) -> bool {
    if allowlist.trim().is_empty() {
        return true;
    }
    let client = client.to_canonical();
    allowlist
        .split(',')
        .map(str::trim)
        .filter_map(parse_range)
        .any(|(network, prefix)| in_range(client, network, prefix))
}

/// An address (`10.0.0.1`) or a range (`10.0.0.0/8`) as network and prefix length.
fn parse_range(entry: &str) -> Option<(IpAddr, u8)> {
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (entry, None),
    };
    let network: IpAddr = address.trim().parse().ok()?;
    let max = if network.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
        None => max,
    };
    Some((network.to_canonical(), prefix))
}

fn in_range(client: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (client, network) {
        (IpAddr::V4(c), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(c) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(c), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(c) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// A rough version of n8n's bot check (user agents of crawlers and link previews).
fn is_bot(headers: &HeaderMap) -> bool {
    const MARKERS: &[&str] = &[
        "bot",
        "crawler",
        "spider",
        "slurp",
        "facebookexternalhit",
        "embedly",
        "preview",
        "curl/",
        "wget/",
        "python-requests",
        "headless",
    ];
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    !agent.is_empty() && MARKERS.iter().any(|m| agent.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn an_empty_allowlist_admits_everyone() {
        assert!(ip_allowed("", ip("203.0.113.9")));
        assert!(ip_allowed("  ", ip("::1")));
    }

    #[test]
    fn addresses_and_ranges_of_both_families_are_matched() {
        let list = "127.0.0.1, 192.168.1.0/24,2001:db8::/32";
        assert!(ip_allowed(list, ip("127.0.0.1")));
        assert!(ip_allowed(list, ip("192.168.1.200")));
        assert!(!ip_allowed(list, ip("192.168.2.1")));
        assert!(ip_allowed(list, ip("2001:db8:1::5")));
        assert!(!ip_allowed(list, ip("2001:db9::1")));
        assert!(!ip_allowed(list, ip("10.0.0.1")));
        // An IPv4 client on a dual-stack socket.
        assert!(ip_allowed(list, ip("::ffff:192.168.1.7")));
        assert!(ip_allowed("0.0.0.0/0", ip("8.8.8.8")));
        assert!(ip_allowed("::/0", ip("2001:db8::1")));
        assert!(!ip_allowed("::/0", ip("8.8.8.8")));
    }

    #[test]
    fn malformed_entries_admit_nobody_by_themselves() {
        for list in ["nonsense", "10.0.0.0/33", "10.0.0.0/x", "/8", "10.0.0.1/-1"] {
            assert!(!ip_allowed(list, ip("10.0.0.1")), "{list}");
        }
        assert!(ip_allowed("nonsense, 10.0.0.1", ip("10.0.0.1")));
    }

    #[test]
    fn basic_credentials_are_read_from_the_header() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("ann:pa:ss");
        assert_eq!(
            basic_credentials(&format!("Basic {encoded}")),
            Some(("ann".to_owned(), "pa:ss".to_owned()))
        );
        assert_eq!(
            basic_credentials(&format!("basic  {encoded} ")),
            Some(("ann".to_owned(), "pa:ss".to_owned()))
        );
        assert_eq!(basic_credentials(&format!("Bearer {encoded}")), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        let no_colon = base64::engine::general_purpose::STANDARD.encode("ann");
        assert_eq!(basic_credentials(&format!("Basic {no_colon}")), None);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    fn node() -> Node {
        serde_json::from_value(serde_json::json!({
            "id": "node-1", "name": "Webhook", "type": "n8n-nodes-base.webhook",
            "typeVersion": 2, "webhookId": "hook-1", "parameters": {}
        }))
        .expect("node")
    }

    #[test]
    fn basic_auth_admits_the_right_pair_or_token_only() {
        let node = node();
        let good = base64::engine::general_purpose::STANDARD.encode("ann:secret");
        let bad = base64::engine::general_purpose::STANDARD.encode("ann:wrong");
        let check = |h: HeaderMap| check_basic(&h, &node, "ann", "secret");
        assert_eq!(
            check(headers(&[("authorization", &format!("Basic {good}"))])),
            Ok(())
        );
        assert_eq!(
            check(headers(&[("authorization", &format!("Basic {bad}"))])),
            Err(Refusal::Wrong)
        );
        assert_eq!(check(HeaderMap::new()), Err(Refusal::Missing));
        let token = basic_auth_token(&node, "ann", "secret");
        assert_eq!(token.len(), 64);
        assert_eq!(check(headers(&[("x-auth-token", &token)])), Ok(()));
        assert_eq!(
            check(headers(&[("x-auth-token", "00")])),
            Err(Refusal::Wrong)
        );
    }

    #[test]
    fn header_and_bearer_auth_compare_exactly() {
        let h = headers(&[("x-secret", "s3cret"), ("authorization", "Bearer tok")]);
        assert_eq!(check_header(&h, "X-Secret", "s3cret"), Ok(()));
        assert_eq!(check_header(&h, "X-Secret", "s3cre"), Err(Refusal::Wrong));
        assert_eq!(check_header(&h, "X-Other", "s3cret"), Err(Refusal::Wrong));
        assert_eq!(check_bearer(&h, "tok"), Ok(()));
        assert_eq!(check_bearer(&h, "to"), Err(Refusal::Wrong));
        assert_eq!(check_bearer(&HeaderMap::new(), "tok"), Err(Refusal::Wrong));
    }

    #[test]
    fn only_checkable_authentications_can_be_published() {
        let mut node = node();
        assert_eq!(refusal(&node), None);
        for ok in ["none", "basicAuth", "headerAuth", "bearerAuth", "jwtAuth"] {
            node.parameters.insert("authentication".into(), ok.into());
            assert_eq!(refusal(&node), None, "{ok}");
        }
        node.parameters
            .insert("authentication".into(), "magic".into());
        assert!(refusal(&node).is_some_and(|r| r.contains("magic")));
        // A Wait node names it otherwise, and only its resume webhook is checked.
        let mut wait = node.clone();
        wait.kind = WAIT_NODE.to_owned();
        wait.parameters.clear();
        wait.parameters
            .insert("incomingAuthentication".into(), "oauth".into());
        assert_eq!(refusal(&wait), None);
        wait.parameters.insert("resume".into(), "webhook".into());
        assert!(refusal(&wait).is_some_and(|r| r.contains("oauth")));
    }

    #[test]
    fn a_node_whose_authentication_names_no_credential_is_found() {
        let mut node = node();
        assert_eq!(missing_credential(&node), None);
        node.parameters
            .insert("authentication".into(), "headerAuth".into());
        assert_eq!(missing_credential(&node), Some("httpHeaderAuth"));
        node.credentials.insert(
            "httpHeaderAuth".into(),
            serde_json::json!({"id": "c1", "name": "h"}),
        );
        assert_eq!(missing_credential(&node), None);
        node.parameters
            .insert("authentication".into(), "basicAuth".into());
        assert_eq!(missing_credential(&node), Some("httpBasicAuth"));
        node.disabled = true;
        assert_eq!(missing_credential(&node), None);
    }
}
