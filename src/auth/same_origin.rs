//! The CSRF rule of every cookie-authenticated request: a browser sends the session cookie
//! with requests that other sites start, so a state-changing request carrying the cookie must
//! show that it came from this site's own pages. API-key requests are exempt: another site
//! cannot make a browser add the key header.

use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, Method};

use crate::error::ApiError;

/// The header by which browsers say which site started a request.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// The body types a cross-site HTML form (or a CORS "simple" request) can send without the
/// browser asking the server first; a cookie-authenticated write never needs them.
const FORM_CONTENT_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// Refuses a state-changing request that a browser sent from another site: an `Origin` other
/// than the `Host`, a `Sec-Fetch-Site` other than `same-origin`/`none`, or a form body type.
pub fn check(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let refused = || ApiError::ForbiddenWith("Cross-origin request refused".into());
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        let site = site.to_str().unwrap_or_default().trim();
        if !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none") {
            return Err(refused());
        }
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, rest)| rest.trim_end_matches('/'));
        let host = headers.get(HOST).and_then(|v| v.to_str().ok());
        if origin_host.is_none() || !origin_host.eq_ignore_ascii_case_opt(host) {
            return Err(refused());
        }
    }
    if let Some(content_type) = headers.get(CONTENT_TYPE) {
        let essence = content_type
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if FORM_CONTENT_TYPES.contains(&essence.as_str()) {
            return Err(refused());
        }
    }
    Ok(())
}

/// Case-insensitive equality of two optional host names.
trait EqIgnoreCaseOpt {
    fn eq_ignore_ascii_case_opt(&self, other: Option<&str>) -> bool;
}

impl EqIgnoreCaseOpt for Option<&str> {
    fn eq_ignore_ascii_case_opt(&self, other: Option<&str>) -> bool {
        match (self, other) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        }
    }
}
