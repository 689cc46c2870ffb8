//! The one error type of the server and how it becomes n8n's JSON error body.
//!
//! Errors answer `{"message": "..."}` (the `/rest` router adds n8n's `code` field there).
//! Server-side failures answer a fixed message; their cause is logged once, here, and never
//! sent to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::db::sql::{is_too_many_values, MAX_BINDS};
use crate::db::Unique;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(thiserror::Error, Debug)]
pub enum ApiError {
    /// 400 with n8n's message.
    #[error("{0}")]
    BadRequest(String),
    /// 401 with the wording of the route's kind (see `auth.rs`).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403 `Forbidden`.
    #[error("Forbidden")]
    Forbidden,
    /// 403 with a specific message.
    #[error("{0}")]
    ForbiddenWith(String),
    /// 404 with n8n's message (it varies by resource: `Not Found`, `Workflow not found`, ...).
    #[error("{0}")]
    NotFound(String),
    /// 405 `<METHOD> method not allowed`.
    #[error("{0} method not allowed")]
    MethodNotAllowed(String),
    /// 409 with n8n's message.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is over `N8N_PAYLOAD_SIZE_MAX`.
    #[error("request entity too large")]
    PayloadTooLarge,
    /// 415 `unsupported media type <type>`.
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    /// 429 with the seconds after which a retry may succeed.
    #[error("Too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503 with the seconds after which a retry may succeed: a bounded resource (the password
    /// hashing slots) stayed busy past the wait.
    #[error("{message}")]
    Busy {
        message: &'static str,
        retry_after_secs: u64,
    },
    /// A status and body of n8n's that carry more than a message (e.g. a publish refused with a
    /// `reason`). The body must hold a `message`.
    #[error("{status}")]
    WithBody { status: StatusCode, body: Value },
    /// The database failed. Outages answer 503, everything else 500.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Anything else that should not happen.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// Whether the database could not be reached (a restart, a failover, a full pool): the
    /// same statement may succeed once it is back.
    pub(crate) fn is_outage(&self) -> bool {
        matches!(self, ApiError::Database(e) if is_outage(e))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::Conflict(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::ForbiddenWith(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::WithBody { status, .. } => *status,
            ApiError::Database(e) if is_too_many_values(e) => StatusCode::BAD_REQUEST,
            ApiError::Database(e) if is_unstorable_text(e) => StatusCode::BAD_REQUEST,
            ApiError::Database(e) if is_outage(e) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Database(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message sent to the client. Server faults get a fixed text so that no SQL, path or
    /// secret can leak through an error.
    pub fn client_message(&self) -> String {
        match self {
            ApiError::Database(e) if is_too_many_values(e) => {
                format!(
                    "The request holds too many values: one statement may bind at most {MAX_BINDS}"
                )
            }
            ApiError::Database(e) if is_unstorable_text(e) => {
                "The request holds text the database cannot store (a NUL character)".to_owned()
            }
            ApiError::Database(e) if is_disk_full(e) => {
                "The database's disk is full, please try again later".to_owned()
            }
            ApiError::Database(e) if is_outage(e) => {
                "Database is unavailable, please try again later".to_owned()
            }
            ApiError::Database(_) | ApiError::Internal(_) => "Internal server error".to_owned(),
            ApiError::WithBody { body, .. } => {
                body["message"].as_str().unwrap_or_default().to_owned()
            }
            other => other.to_string(),
        }
    }

    fn log(&self) {
        match self {
            ApiError::Database(e) if is_outage(e) => {
                tracing::warn!(error = %e, "database unavailable")
            }
            ApiError::Database(e) if is_too_many_values(e) || is_unstorable_text(e) => {}
            ApiError::Database(e) => tracing::error!(error = ?e, "database error"),
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            _ => {}
        }
    }

    fn headers(&self, response: &mut Response) {
        match self {
            ApiError::TooManyRequests { retry_after_secs }
            | ApiError::Busy {
                retry_after_secs, ..
            } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            ApiError::Database(e) if is_outage(e) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
    }
}

/// PostgreSQL's `character_not_in_repertoire` (22021), which is what a NUL character in a
/// text value gives. The request extractors refuse NUL first; this is the last line for any
/// text that reaches a statement another way.
fn is_unstorable_text(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some_and(|pg| pg.code() == "22021")
}

/// SQLite's "database or disk is full" (and PostgreSQL's `disk_full`): an operator must make
/// room; the server keeps answering reads meanwhile and resumes writing by itself.
fn is_disk_full(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return pg.code() == "53100";
    }
    db.code()
        .and_then(|c| c.parse::<u32>().ok())
        .is_some_and(|code| code & 0xff == 13)
}

/// Whether a database error means "the database cannot be reached right now" rather than a
/// fault in a statement.
fn is_outage(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                // Operator intervention (shutdown), connection exceptions, too many clients.
                let code = pg.code();
                return code.starts_with("57P")
                    || code.starts_with("08")
                    || code == "53300"
                    || code == "53100";
            }
            // SQLite reports extended result codes; the low byte is the primary code: busy or
            // locked after the busy timeout, read-only, I/O error, disk full, cannot open.
            db.code()
                .and_then(|c| c.parse::<u32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
        }
        _ => false,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let body = match &self {
            ApiError::WithBody { body, .. } => body.clone(),
            _ => json!({ "message": self.client_message() }),
        };
        let mut response = (self.status(), Json(body)).into_response();
        self.headers(&mut response);
        response
    }
}

/// Maps database errors to API errors where the statement runs.
pub trait ResultExt<T> {
    /// Turns a violation of `constraint` into the error `f` makes; other errors pass through.
    fn on_unique(self, constraint: Unique, f: impl FnOnce() -> ApiError) -> Result<T>;
}

impl<T, E: Into<ApiError>> ResultExt<T> for std::result::Result<T, E> {
    fn on_unique(self, constraint: Unique, f: impl FnOnce() -> ApiError) -> Result<T> {
        self.map_err(|e| match e.into() {
            ApiError::Database(db) if constraint.matches(&db) => f(),
            other => other,
        })
    }
}
