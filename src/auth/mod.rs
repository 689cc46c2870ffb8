//! Authentication and authorisation of the public API.
//!
//! One middleware, [`guard`], runs on every `/api/v1` route. It resolves the caller from the
//! `X-N8N-API-KEY` header (or, where the route allows it, the `n8n-auth` session cookie) to a
//! [`Principal`], then checks the scope the route table declares for the route. A key's
//! effective scopes are its own scopes within what its owner's current role allows, read from
//! the database on every request: revoking a key, deleting or disabling its owner, or demoting
//! the owner takes effect on the next request, on every instance sharing the database.
//!
//! Failed key attempts are counted per client IP; past the limit the IP gets 429 until the
//! minute is over (a valid key used from another address is unaffected).

pub mod limiter;
pub mod same_origin;
pub mod scopes;
pub mod session;

use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use dashmap::DashMap;

use crate::app::AppState;
use crate::crypto::constant_time_eq;
use crate::db::{api_keys, sessions};
use crate::domain::api_key::RawApiKey;
use crate::domain::time::{now_iso, now_unix};
use crate::error::ApiError;
use crate::extract::client_ip;
use crate::metrics::AuthFailure;
pub use scopes::{Role, Scope, ScopeSet};

/// The header that carries the API key.
pub const API_KEY_HEADER: &str = "x-n8n-api-key";

/// Domain labels of the keyed hashes, so a value of one kind never matches another's hash.
pub const API_KEY_HASH_DOMAIN: &str = "api-key";
pub const SESSION_HASH_DOMAIN: &str = "session";

/// The two kinds of route n8n has; they word their 401 answers differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteKind {
    /// Controller routes: 401 `Unauthorized` in every case.
    Controller,
    /// Legacy handler routes: 401 `'X-N8N-API-KEY' header required` without a key and
    /// `unauthorized` with a bad one.
    Handler,
}

/// What a route requires of its caller, as declared in the route table.
#[derive(Clone, Copy, Debug)]
pub struct RouteAuth {
    /// The scope the key must hold; `None` means any valid key.
    pub scope: Option<Scope>,
    pub kind: RouteKind,
    /// Data tables and community packages accept only the API-key header, no cookie.
    pub api_key_only: bool,
}

/// How the caller proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    ApiKey { key_id: String },
    Session,
}

/// The authenticated caller of a public API request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    /// The scopes this request may use: the key's scopes within the owner's current role.
    pub scopes: ScopeSet,
    pub credential: Credential,
}

impl Principal {
    /// 403 unless the caller holds `scope` (what the route table checks on `/api/v1`).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // The guard inserts the principal on every authenticated route; a handler that asks for
        // one on a route without the guard is a wiring mistake, answered as unauthenticated.
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(ApiError::Unauthorized("Unauthorized"))
    }
}

/// Why authentication failed, before it becomes route-specific wording.
enum Failure {
    Missing,
    Invalid { cookie_sent: bool },
}

impl Failure {
    fn into_error(self, kind: RouteKind) -> ApiError {
        ApiError::Unauthorized(match (kind, self) {
            (RouteKind::Controller, _) => "Unauthorized",
            (RouteKind::Handler, Failure::Missing) => "'X-N8N-API-KEY' header required",
            (RouteKind::Handler, Failure::Invalid { cookie_sent: true }) => "Unauthorized",
            (RouteKind::Handler, Failure::Invalid { cookie_sent: false }) => "unauthorized",
        })
    }
}

/// The check of every public API route, run by its endpoint's middleware: authenticate, then
/// check the route's scope; the request comes back carrying its [`Principal`].
pub async fn admit(
    state: &AppState,
    route: RouteAuth,
    request: Request,
) -> Result<Request, ApiError> {
    // Only the parts (which are `Sync`) are borrowed across the awaits below, not the body.
    let (mut parts, body) = request.into_parts();
    let principal = authenticate(state, route, &parts).await?;
    if principal.credential == Credential::Session {
        same_origin::check(&parts.method, &parts.headers)?;
    }
    if let Some(scope) = route.scope {
        if !principal.scopes.contains(scope) {
            return Err(ApiError::Forbidden);
        }
    }
    parts.extensions.insert(principal);
    Ok(Request::from_parts(parts, body))
}

async fn authenticate(
    state: &AppState,
    route: RouteAuth,
    parts: &Parts,
) -> Result<Principal, ApiError> {
    let headers = &parts.headers;
    let key = headers
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    let cookie = if route.api_key_only {
        None
    } else {
        session::cookie_token(headers)
    };
    let ip = client_ip(parts, state.config.proxy_hops);

    // Keys are refused outright when the public API is disabled; a session may still work.
    if let Some(key) = key.filter(|_| !state.config.public_api_disabled) {
        throttle(state, ip)?;
        return match verify_api_key(state, key).await? {
            Ok(principal) => Ok(principal),
            Err(reason) => {
                state.metrics.auth_failure(reason);
                state.auth_failures.record(ip);
                Err(Failure::Invalid {
                    cookie_sent: cookie.is_some(),
                }
                .into_error(route.kind))
            }
        };
    }
    if let Some(token) = cookie {
        throttle(state, ip)?;
        return match verify_session(state, token).await? {
            Some(principal) => Ok(principal),
            None => {
                state.metrics.auth_failure(AuthFailure::Invalid);
                state.auth_failures.record(ip);
                Err(Failure::Invalid { cookie_sent: true }.into_error(route.kind))
            }
        };
    }
    let failure = if key.is_some() {
        state.metrics.auth_failure(AuthFailure::Invalid);
        Failure::Invalid { cookie_sent: false }
    } else {
        state.metrics.auth_failure(AuthFailure::Missing);
        Failure::Missing
    };
    Err(failure.into_error(route.kind))
}

/// The per-address limit of failed attempts, counted in the metrics when it bites.
fn throttle(state: &AppState, ip: std::net::IpAddr) -> Result<(), ApiError> {
    state.auth_failures.check(ip).inspect_err(|_| {
        state.metrics.auth_failure(AuthFailure::Throttled);
    })
}

/// Resolves a raw key to its principal, or says why it is not a live key; the time it takes
/// goes to the metrics.
async fn verify_api_key(
    state: &AppState,
    raw: &str,
) -> Result<Result<Principal, AuthFailure>, ApiError> {
    let started = Instant::now();
    let verdict = check_api_key(state, raw).await;
    state.metrics.key_verified(started.elapsed());
    verdict
}

/// The checks of [`verify_api_key`], cheapest first.
async fn check_api_key(
    state: &AppState,
    raw: &str,
) -> Result<Result<Principal, AuthFailure>, ApiError> {
    // Garbage and typos fail the checksum here, without touching the database.
    let Some(raw) = RawApiKey::parse(raw) else {
        return Ok(Err(AuthFailure::Invalid));
    };
    let hash = state.lookup.hash(API_KEY_HASH_DOMAIN, raw.expose());
    let row = api_keys::find_for_auth(&mut state.db.reader().await?, &hash).await?;
    let Some(row) = row else {
        return Ok(Err(AuthFailure::Invalid));
    };
    // The index found the row by hash; compare again in constant time so that no code path
    // depends on how much of a hash matched.
    if !constant_time_eq(&row.key_hash, &hash) || row.disabled {
        return Ok(Err(AuthFailure::Invalid));
    }
    if row.expires_at.is_some_and(|exp| exp <= now_unix()) {
        return Ok(Err(AuthFailure::Expired));
    }
    let Some(role) = Role::parse(&row.role) else {
        return Ok(Err(AuthFailure::Invalid));
    };
    state
        .last_used
        .note_use(state, &row.id, row.last_used_at.as_deref());
    Ok(Ok(Principal {
        user_id: row.user_id,
        role,
        scopes: state
            .scope_lists
            .of(&row.id, &row.scopes)
            .intersect(role.allowed_scopes()),
        credential: Credential::ApiKey { key_id: row.id },
    }))
}

/// Resolves a session cookie to its principal: every scope the user's role allows, as n8n
/// gives a signed-in user on the public API.
async fn verify_session(state: &AppState, token: &str) -> Result<Option<Principal>, ApiError> {
    let hash = state.lookup.hash(SESSION_HASH_DOMAIN, token);
    let row = sessions::find_for_auth(&mut state.db.reader().await?, &hash).await?;
    let Some(row) = row.filter(|r| r.expires_at > now_unix() && !r.disabled && r.has_password)
    else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&row.role) else {
        return Ok(None);
    };
    Ok(Some(Principal {
        user_id: row.user_id,
        role,
        scopes: role.allowed_scopes(),
        credential: Credential::Session,
    }))
}

/// Keeps `lastUsedAt` of keys current to the minute without writing on every request: at most
/// one write per key and minute per instance, done in the background.
#[derive(Default)]
pub struct LastUsedTracker {
    written: DashMap<String, Instant>,
}

const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

impl LastUsedTracker {
    fn note_use(&self, state: &AppState, key_id: &str, stored: Option<&str>) {
        if let Some(at) = self.written.get(key_id) {
            if at.elapsed() < LAST_USED_RESOLUTION {
                return;
            }
        }
        // Another instance (or an earlier run) may have written it recently.
        let cutoff = crate::domain::time::iso(chrono::Utc::now() - chrono::Duration::seconds(60));
        if stored.is_some_and(|s| s > cutoff.as_str()) {
            self.written.insert(key_id.to_owned(), Instant::now());
            return;
        }
        self.written.insert(key_id.to_owned(), Instant::now());
        if self.written.len() > 100_000 {
            self.written
                .retain(|_, at| at.elapsed() < LAST_USED_RESOLUTION);
        }
        let db = state.db.clone();
        let key_id = key_id.to_owned();
        tokio::spawn(async move {
            let result = async {
                let mut tx = db.begin().await?;
                api_keys::touch_last_used(tx.conn(), &key_id, &now_iso()).await?;
                tx.commit().await
            }
            .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not record an API key's last use");
            }
        });
    }
}
