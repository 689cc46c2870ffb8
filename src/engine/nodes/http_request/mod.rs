//! HTTP Request (versions 3 to 4.4): one request per input item, under the instance's outbound
//! policy, authenticated with a stored credential, its answer turned into items.
//!
//! As in n8n, every item's request is prepared in turn (pausing between batches when batching
//! is set) and sent at once, so requests overlap; the answers are then read back in item order.
//! With pagination each item's pages are fetched one after the other (`pagination`).

mod auth;
mod aws;
mod digest;
mod errors;
mod file;
mod google;
mod oauth2;
mod pagination;
mod parameters;
mod request;
mod response;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::Registry;
use crate::engine::data::Item;
use crate::engine::node::{error_item, NodeError, NodeRun, NodeType, Outcome};
use crate::engine::services::Services;
use crate::service::outbound::{client::check_target, ClientOptions};
use errors::Failure;
use parameters::{Options, Params};
use response::{Answer, Retry};

pub const HTTP_REQUEST: &str = "n8n-nodes-base.httpRequest";

/// Requests of one node run in flight at once at most.
const IN_FLIGHT: usize = 32;

struct HttpRequest;

/// An item's request: failed before it was sent, or on its way.
enum Pending {
    Failed(NodeError),
    Sent {
        answer: JoinHandle<Result<Answer, Failure>>,
        options: Options,
    },
}

#[async_trait]
impl NodeType for HttpRequest {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let paging = pagination::Paging::read(run)?;
        let services = run.env.services.clone().ok_or_else(|| {
            NodeError::operation("Outbound requests are not available in this run")
        })?;
        let items = run.input.items(0);
        let auth = match auth::resolve(run).await {
            Ok(auth) => Ok(auth),
            Err(error) if run.continue_on_fail() => Err(error),
            Err(error) => return Err(error.at_item(0)),
        };
        if let Some(paging) = paging {
            return paged(run, services.as_ref(), &auth, &paging).await;
        }
        let limit = Arc::new(Semaphore::new(IN_FLIGHT));
        let mut pending = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let prepared = match &auth {
                Ok(auth) => prepare(run, services.as_ref(), auth, i, item).await,
                Err(error) => Err(error.clone()),
            };
            match prepared {
                Ok((client, request, options, retry)) => {
                    let limit = Arc::clone(&limit);
                    let timeout_ms = options.timeout_ms;
                    let answer = tokio::spawn(async move {
                        let _permit = limit.acquire_owned().await;
                        response::exchange(client, request, retry, timeout_ms).await
                    });
                    pending.push(Pending::Sent { answer, options });
                }
                Err(error) if run.continue_on_fail() => pending.push(Pending::Failed(error)),
                Err(error) => {
                    abort(&pending);
                    return Err(error.at_item(i));
                }
            }
        }

        let mut out = Vec::new();
        for (i, (item, entry)) in items.iter().zip(pending.iter_mut()).enumerate() {
            let outcome: Result<Vec<Item>, Failure> = match entry {
                Pending::Failed(error) => Err(error.clone().into()),
                Pending::Sent { answer, options } => {
                    let answered = tokio::select! {
                        joined = answer => joined.unwrap_or_else(|_| Err(NodeError::operation("The request was interrupted").into())),
                        _ = run.env.cancel.cancelled() => Err(NodeError::operation("The execution was canceled").into()),
                    };
                    answered.and_then(|answer| {
                        if !(200..300).contains(&answer.status) && !options.never_error {
                            return Err(errors::status_error(&answer));
                        }
                        Ok(response::into_items(answer, options, item, i)?)
                    })
                }
            };
            match outcome {
                Ok(items) => out.extend(items),
                Err(failure) if run.continue_on_fail() => {
                    let mut failed = error_item(&failure.error, i);
                    failed.json.insert("error".into(), failure.item_error());
                    out.push(failed);
                }
                Err(failure) => {
                    abort(&pending);
                    return Err(failure.error.at_item(i));
                }
            }
        }
        Ok(Outcome::single(out))
    }
}

/// Stops requests still in flight when the node fails.
fn abort(pending: &[Pending]) {
    for entry in pending {
        if let Pending::Sent { answer, .. } = entry {
            answer.abort();
        }
    }
}

type Prepared = (reqwest::Client, reqwest::Request, Options, Retry);

/// Reads item `i`'s parameters and builds its request, pausing first when a batch is over.
async fn prepare(
    run: &NodeRun<'_>,
    services: &dyn Services,
    auth: &auth::AuthParts,
    i: usize,
    item: &Item,
) -> Result<Prepared, NodeError> {
    // Files to send are read from the binary data store (the item carries references).
    let sends_file = matches!(
        run.raw_param("contentType")
            .and_then(serde_json::Value::as_str),
        Some("binaryData" | "multipart-form-data")
    ) || run
        .raw_param("sendBinaryData")
        .and_then(serde_json::Value::as_bool)
        == Some(true);
    let inlined;
    let item = if sends_file {
        inlined = crate::engine::binary::inline_item(run, item).await?;
        &inlined
    } else {
        item
    };
    let params = Params::read(run, i, item)?;
    batch_pause(run, &params.options, i).await?;
    let (client, request, retry) = ready(services, &params, auth).await?;
    Ok((client, request, params.options, retry))
}

/// Waits when item `i` starts a new batch.
async fn batch_pause(run: &NodeRun<'_>, options: &Options, i: usize) -> Result<(), NodeError> {
    if let Some(pause) = response::batch_pause(options, i) {
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = run.env.cancel.cancelled() => return Err(NodeError::operation("The execution was canceled")),
        }
    }
    Ok(())
}

/// The client and request for `params`, checked against the outbound policy.
async fn ready(
    services: &dyn Services,
    params: &Params,
    auth: &auth::AuthParts,
) -> Result<(reqwest::Client, reqwest::Request, Retry), NodeError> {
    let outbound = &services.http().outbound;
    let client = outbound
        .client(&ClientOptions {
            follow_redirects: params.options.follow_redirects,
            max_redirects: params.options.max_redirects,
            accept_invalid_certs: params.options.allow_unauthorized_certs,
            proxy: params.options.proxy.clone(),
        })
        .map_err(|e| NodeError::operation(e.to_string()))?;
    let mut request = request::build(&client, params, auth)?;
    // A token refreshed by an earlier request of this run (or page) is used from then on.
    if let Some(oauth2) = &auth.oauth2 {
        if let Some(value) = oauth2
            .current()
            .await
            .and_then(|token| format!("Bearer {token}").parse().ok())
        {
            request
                .headers_mut()
                .insert(reqwest::header::AUTHORIZATION, value);
        }
    }
    // Last: the signature covers the request exactly as it is sent.
    if let Some(aws) = &auth.aws {
        aws.sign(&mut request)?;
    }
    check_target(
        outbound.policy(),
        request.url(),
        params.options.proxy.is_some(),
    )
    .await
    .map_err(|e| NodeError::operation(e.to_string()))?;
    let retry = Retry {
        digest: auth.digest.clone(),
        oauth2: auth.oauth2.clone(),
        google: auth.google.clone(),
    };
    Ok((client, request, retry))
}

/// The node with pagination: each item's pages are fetched in turn and give its items.
async fn paged(
    run: &NodeRun<'_>,
    services: &dyn Services,
    auth: &Result<auth::AuthParts, NodeError>,
    paging: &pagination::Paging,
) -> Result<Outcome, NodeError> {
    let mut out = Vec::new();
    for (i, item) in run.input.items(0).iter().enumerate() {
        let pages = async {
            let auth = auth.as_ref().map_err(|e| Failure::from(e.clone()))?;
            let params = Params::read(run, i, item)?;
            batch_pause(run, &params.options, i).await?;
            // n8n reports whatever stops the pages as an API error.
            pagination::fetch_pages(run, services, auth, paging, i, item, params)
                .await
                .map_err(|mut failure| {
                    failure.error.name = "NodeApiError";
                    failure
                })
        };
        match pages.await {
            Ok(items) => out.extend(items),
            Err(failure) if run.continue_on_fail() => {
                let mut failed = error_item(&failure.error, i);
                failed.json.insert("error".into(), failure.item_error());
                out.push(failed);
            }
            Err(failure) => return Err(failure.error.at_item(i)),
        }
    }
    Ok(Outcome::single(out))
}

pub fn register(registry: &mut Registry) {
    registry.add(
        HTTP_REQUEST,
        &[3.0, 4.0, 4.1, 4.2, 4.3, 4.4],
        Arc::new(HttpRequest),
    );
}
