//! A webhook's body, read under n8n's two limits: `N8N_PAYLOAD_SIZE_MAX` for every body, and
//! for a `multipart/form-data` upload `N8N_FORMDATA_FILE_SIZE_MAX` more for its files (n8n
//! parses those bodies apart from the others, so a form may carry files far larger than the
//! payload limit; only the total of its files is bounded, which [`check_files`] does once
//! the parts are known).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;

use super::{multipart, webhook_error};
use crate::app::AppState;

/// The body of a webhook call, read whole.
pub(super) struct WebhookBody(pub Bytes);

impl FromRequest<AppState> for WebhookBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<WebhookBody, Response> {
        let payload_max = state.config.payload_size_max_bytes();
        let is_form = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(multipart::boundary)
            .is_some();
        let limit = if is_form {
            payload_max.saturating_add(state.config.engine.formdata_file_size_max_bytes())
        } else {
            payload_max
        };
        read(request.into_body(), limit).await.map(WebhookBody)
    }
}

async fn read(body: Body, limit: usize) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large = e.into_inner().is::<http_body_util::LengthLimitError>();
        if too_large {
            webhook_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request entity too large",
                Some("N8N_PAYLOAD_SIZE_MAX bounds a request's body; the files of a multipart/form-data upload may add N8N_FORMDATA_FILE_SIZE_MAX"),
            )
        } else {
            webhook_error(StatusCode::BAD_REQUEST, "The request body could not be read", None)
        }
    })
}

/// Refuses a form whose files together pass `N8N_FORMDATA_FILE_SIZE_MAX`.
pub(super) fn check_files(total: usize, max_bytes: usize) -> Result<(), Box<Response>> {
    if total <= max_bytes {
        return Ok(());
    }
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    Err(Box::new(webhook_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "The files of the form are {:.2} MiB together, more than the {} MiB allowed (N8N_FORMDATA_FILE_SIZE_MAX)",
            mib(total),
            max_bytes / (1024 * 1024)
        ),
        None,
    )))
}
