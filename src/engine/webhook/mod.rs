//! The webhook routes: production webhooks of published workflows (`/webhook/...`), the
//! resume URLs of waiting executions (`/webhook-waiting/{id}`), and test webhooks
//! (`/webhook-test/...`, which need the editor's "listen" button and so answer n8n's 404).
//!
//! Every instance answers every webhook: the path is looked up in the database (one indexed
//! read that also names the published version), and the parsed version is cached by its id.
//!
//! Long because it holds the whole way of one call, from the route to the answer, for both
//! kinds of webhook (production and resume), which share the lookup, the access checks and the
//! answer; the parts that stand alone are in the modules below (access, CORS, bodies, paths,
//! answers). The next split, when it grows: the resume route into `waiting.rs`.

pub(crate) mod access;
mod body;
mod cors;
mod multipart;
pub mod paths;
mod request;
pub(crate) mod respond;
mod xml;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Extensions, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use body::WebhookBody;
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;

use super::data::{Connections, Item};
use super::execute::{Mode, Start};
use super::workflow::{Node, Workflow};
use super::Engine;
use crate::app::AppState;
use crate::db::webhooks::{self, WebhookRow};
use crate::error::ApiError;
use crate::extract::client_ip_of;

/// The routes, under the configured endpoint names.
pub fn router(state: &AppState) -> Router<AppState> {
    let config = &state.config.engine;
    Router::new()
        .route(
            &format!("/{}/{{*path}}", config.endpoint_webhook),
            any(production),
        )
        .route(
            &format!("/{}", config.endpoint_webhook),
            any(production_root),
        )
        .route(
            &format!("/{}/{{*path}}", config.endpoint_webhook_test),
            any(test_webhook),
        )
        .route(
            &format!("/{}/{{id}}", config.endpoint_webhook_wait),
            any(waiting),
        )
        .route(
            &format!("/{}/{{id}}/{{*rest}}", config.endpoint_webhook_wait),
            any(waiting_with_suffix),
        )
}

/// n8n's JSON error of the webhook routes: `{code, message, hint?}`.
fn webhook_error(status: StatusCode, message: impl Into<String>, hint: Option<&str>) -> Response {
    let mut body = json!({"code": status.as_u16(), "message": message.into()});
    if let Some(hint) = hint {
        body["hint"] = json!(hint);
    }
    (status, Json(body)).into_response()
}

const PRODUCTION_HINT: &str = "The workflow must be active for a production URL to run successfully. You can activate the workflow using the toggle in the top-right of the editor. Note that unlike test URL calls, production URL calls aren't shown on the canvas (only in the executions list)";
const TEST_HINT: &str = "Click the 'Execute workflow' button on the canvas, then try again. (In test mode, the webhook only works for one call after you click this button)";

struct Call {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    /// For the client's address (the peer, or what trusted proxies saw).
    extensions: Extensions,
    body: Bytes,
}

async fn production_root(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    extensions: Extensions,
    WebhookBody(body): WebhookBody,
) -> Response {
    serve(
        &state,
        String::new(),
        Call {
            method,
            uri,
            headers,
            extensions,
            body,
        },
    )
    .await
}

async fn production(
    State(state): State<AppState>,
    Path(path): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    extensions: Extensions,
    WebhookBody(body): WebhookBody,
) -> Response {
    serve(
        &state,
        path,
        Call {
            method,
            uri,
            headers,
            extensions,
            body,
        },
    )
    .await
}

async fn test_webhook(Path(path): Path<String>) -> Response {
    let path = paths::normalize(&path).to_owned();
    webhook_error(
        StatusCode::NOT_FOUND,
        format!("The requested webhook \"{path}\" is not registered."),
        Some(TEST_HINT),
    )
}

/// A webhook that matched: its row, and the values of its `:params`.
struct Found {
    row: WebhookRow,
    params: Map<String, Value>,
    version_id: String,
}

async fn serve(state: &AppState, path: String, call: Call) -> Response {
    let engine = &state.engine;
    let path = paths::normalize(&path).to_owned();
    if call.method == Method::OPTIONS {
        return preflight(engine, &path, &call.headers).await;
    }
    let method = call.method.as_str().to_uppercase();
    let lookup = match find(engine, &method, &path).await {
        Ok(lookup) => lookup,
        Err(e) => return e.into_response(),
    };
    let Some(found) = lookup.found else {
        return match lookup.methods.first() {
            Some(other) => webhook_error(
                StatusCode::NOT_FOUND,
                format!("This webhook is not registered for {method} requests. Did you mean to make a {other} request?"),
                None,
            ),
            None => not_registered(&method, &path),
        };
    };
    let (workflow, node) = match load_node(engine, &found).await {
        Ok(Some(loaded)) => loaded,
        Ok(None) => return not_registered(&method, &path),
        Err(response) => return response,
    };
    let cors = cors::Cors::for_request(&call.headers, &lookup.methods, Some(&node));
    let mut response = answer(state, workflow, node, &found, &call, &method).await;
    if let Some(cors) = cors {
        cors.apply(&mut response);
    }
    response
}

fn not_registered(method: &str, path: &str) -> Response {
    webhook_error(
        StatusCode::NOT_FOUND,
        format!("The requested webhook \"{method} {path}\" is not registered."),
        Some(PRODUCTION_HINT),
    )
}

/// The published version a webhook belongs to and its node; `None` when either is gone.
async fn load_node(
    engine: &Engine,
    found: &Found,
) -> Result<Option<(Arc<Workflow>, Node)>, Response> {
    let workflow = match engine
        .load_version(&found.row.workflow_id, &found.version_id)
        .await
    {
        Ok(Some(w)) => w,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.into_response()),
    };
    let Some(node) = workflow.node(&found.row.node).cloned() else {
        return Err(webhook_error(
            StatusCode::NOT_FOUND,
            "The webhook node is missing",
            None,
        ));
    };
    Ok(Some((workflow, node)))
}

/// A preflight: 204 on any path, with the CORS headers of the webhook the browser asks about
/// (`Access-Control-Request-Method`, else the path's first method).
async fn preflight(engine: &Engine, path: &str, headers: &HeaderMap) -> Response {
    if !headers.contains_key(axum::http::header::ORIGIN) {
        return cors::preflight(headers, None);
    }
    let requested = headers
        .get(axum::http::header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .map(str::to_uppercase);
    let mut lookup = match find(engine, requested.as_deref().unwrap_or("GET"), path).await {
        Ok(lookup) => lookup,
        Err(e) => return e.into_response(),
    };
    if lookup.found.is_none() && requested.is_none() {
        if let Some(first) = lookup.methods.first().cloned() {
            match find(engine, &first, path).await {
                Ok(again) => lookup = again,
                Err(e) => return e.into_response(),
            }
        }
    }
    let node = match &lookup.found {
        Some(found) => match load_node(engine, found).await {
            Ok(loaded) => loaded.map(|(_, node)| node),
            Err(response) => return response,
        },
        None => None,
    };
    cors::preflight(
        headers,
        cors::Cors::for_request(headers, &lookup.methods, node.as_ref()),
    )
}

/// Checks the call against the node, runs the workflow and answers as the node says.
async fn answer(
    state: &AppState,
    workflow: Arc<Workflow>,
    node: Node,
    found: &Found,
    call: &Call,
    method: &str,
) -> Response {
    let engine = &state.engine;
    let response_mode = node
        .parameters
        .get("responseMode")
        .and_then(Value::as_str)
        .unwrap_or("onReceived")
        .to_owned();
    let client = client_ip_of(&call.headers, &call.extensions, state.config.proxy_hops);
    let project = workflow.project_id.as_deref();
    let jwt_payload = match access::check(engine, project, &node, &call.headers, client).await {
        Ok(payload) => payload,
        Err(refusal) => return refusal,
    };
    if let Some(error) = respond::check_response_mode(&workflow, &node, &response_mode) {
        return respond::run_failure(&error);
    }
    let mut item = match webhook_item(engine, &workflow, &node, found, call) {
        Ok(item) => item,
        Err(response) => return *response,
    };
    if let Some(payload) = jwt_payload {
        item.json.insert("jwtPayload".into(), payload);
    }
    let input = node_input(&node, method, item);
    run_and_answer(engine, workflow, node, input, &response_mode).await
}

/// What a path and method found: the webhook, if one is registered for that method, and
/// every method the path is registered for (in order).
struct Lookup {
    found: Option<Found>,
    methods: Vec<String>,
}

async fn find(engine: &Engine, method: &str, path: &str) -> Result<Lookup, ApiError> {
    let db = &engine.inner().db;
    let rows = webhooks::find_path(&mut db.reader().await?, path).await?;
    if !rows.is_empty() {
        let methods = rows.iter().map(|r| r.row.method.clone()).collect();
        let found = rows.iter().find(|r| r.row.method == method).map(|r| Found {
            row: r.row.clone(),
            params: Map::new(),
            version_id: r.version_id.clone(),
        });
        return Ok(Lookup { found, methods });
    }
    let missing = Lookup {
        found: None,
        methods: Vec::new(),
    };
    // A parameterised path: `<webhookId>/<segments...>`.
    let Some((webhook_id, rest)) = path.split_once('/') else {
        return Ok(missing);
    };
    let length = rest.split('/').count() as i64;
    let mut conn = db.acquire().await?;
    let candidates = webhooks::find_dynamic(conn.conn(), webhook_id, length).await?;
    let rows: Vec<WebhookRow> = candidates.iter().map(|c| c.row.clone()).collect();
    let mut methods: Vec<String> = rows
        .iter()
        .filter(|r| paths::best_dynamic(std::slice::from_ref(*r), rest).is_some())
        .map(|r| r.method.clone())
        .collect();
    methods.dedup();
    let same_method: Vec<WebhookRow> = rows
        .iter()
        .filter(|r| r.method == method)
        .cloned()
        .collect();
    let found = paths::best_dynamic(&same_method, rest).map(|(row, params)| {
        let version_id = candidates
            .iter()
            .find(|c| c.row == *row)
            .map(|c| c.version_id.clone())
            .unwrap_or_default();
        Found {
            row: row.clone(),
            params,
            version_id,
        }
    });
    Ok(Lookup { found, methods })
}

/// The item the Webhook node puts out for this request.
fn webhook_item(
    engine: &Engine,
    workflow: &Workflow,
    node: &Node,
    found: &Found,
    call: &Call,
) -> Result<Item, Box<Response>> {
    let content_type = call
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let options = node.parameters.get("options").cloned().unwrap_or_default();
    let raw_body = options
        .get("rawBody")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let refuse = |e: String| {
        Box::new(webhook_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Failed to parse request body",
            Some(&e),
        ))
    };
    let mut json = Map::new();
    json.insert(
        "headers".into(),
        Value::Object(request::headers(&call.headers)),
    );
    json.insert("params".into(), Value::Object(found.params.clone()));
    json.insert(
        "query".into(),
        Value::Object(request::query(call.uri.query())),
    );
    let mut binary = Map::new();
    if let Some(boundary) = content_type.and_then(multipart::boundary) {
        let parts = multipart::parse(&call.body, &boundary).map_err(refuse)?;
        let property = options.get("binaryPropertyName").and_then(Value::as_str);
        let (body, files) = multipart::into_item_parts(parts, property);
        let total = files
            .values()
            .filter_map(|file| file.get("bytes").and_then(Value::as_u64))
            .sum::<u64>() as usize;
        body::check_files(total, engine.inner().config.formdata_file_size_max_bytes())?;
        json.insert("body".into(), Value::Object(body));
        binary = files;
    } else {
        match request::body(content_type, &call.body).map_err(|e| refuse(e.0))? {
            request::Body::Json(body) => {
                json.insert("body".into(), body);
                if raw_body {
                    // n8n keeps the raw bytes too, as `application/json` when the caller sent
                    // no content type.
                    let kind = content_type.or(Some("application/json"));
                    let raw = multipart::raw_entry(&call.body, kind, false);
                    binary.insert("data".to_owned(), raw);
                }
            }
            // With "Raw Body", n8n hands a body it does not parse on as `data` and no `body`.
            request::Body::Raw if raw_body => {
                let raw = multipart::raw_entry(&call.body, content_type, false);
                binary.insert("data".to_owned(), raw);
            }
            request::Body::Raw => {
                json.insert("body".into(), Value::Object(Map::new()));
                if !call.body.is_empty() && node.type_version > 1.0 {
                    let property = options
                        .get("binaryPropertyName")
                        .and_then(Value::as_str)
                        .filter(|p| !p.is_empty())
                        .unwrap_or("data")
                        .to_owned();
                    let file = multipart::raw_entry(&call.body, content_type, true);
                    binary.insert(property, file);
                }
            }
        }
    }
    // Refused before anything runs: a file the binary data store would not keep.
    for (name, file) in &binary {
        let size = file.get("bytes").and_then(Value::as_u64).unwrap_or(0) as usize;
        if let Err(e) = engine.binary().check_size(name, size) {
            return Err(Box::new(webhook_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                e.to_string(),
                None,
            )));
        }
    }
    let path = paths::node_path(&workflow.id, node).unwrap_or_default();
    json.insert(
        "webhookUrl".into(),
        Value::String(format!(
            "{}/{}/{path}",
            engine.inner().webhook_base_url,
            engine.inner().config.endpoint_webhook
        )),
    );
    json.insert("executionMode".into(), Value::String("production".into()));
    let mut item = Item::new(json);
    if !binary.is_empty() {
        item.binary = Some(binary);
    }
    Ok(item)
}

/// A webhook listening to several methods puts the item on the output of this method.
fn node_input(node: &Node, method: &str, item: Item) -> Connections {
    let methods = paths::methods(node);
    let multiple = node
        .parameters
        .get("multipleMethods")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !multiple || methods.len() < 2 {
        return Connections::single(vec![item]);
    }
    let index = methods.iter().position(|m| m == method).unwrap_or(0);
    let mut main = vec![Some(Vec::new()); methods.len()];
    main[index] = Some(vec![item]);
    Connections { main }
}

async fn run_and_answer(
    engine: &Engine,
    workflow: Arc<Workflow>,
    node: Node,
    input: Connections,
    response_mode: &str,
) -> Response {
    if engine.inner().config.queue_mode() {
        return queue_and_answer(engine, &workflow, &node, input, response_mode).await;
    }
    let (respond_tx, respond_rx) = oneshot::channel();
    let start = Start {
        mode: Mode::Webhook,
        node: node.name.clone(),
        input,
        respond: (response_mode == "responseNode").then_some(respond_tx),
    };
    // The run is its own task: a caller who hangs up does not stop it.
    let runner = engine.clone();
    let run_workflow = Arc::clone(&workflow);
    let handle = tokio::spawn(async move { runner.run(run_workflow, start).await });
    match response_mode {
        "onReceived" => respond::on_received(&node),
        "responseNode" => {
            tokio::select! {
                answer = respond_rx => match answer {
                    Ok(response) => respond::from_node(response),
                    Err(_) => respond::after_run_without_answer(handle.await),
                },
            }
        }
        _ => match handle.await {
            Ok(Ok(ended)) => respond::last_node(&node, &ended, engine.binary()).await,
            Ok(Err(e)) => e.into_response(),
            Err(_) => webhook_error(StatusCode::INTERNAL_SERVER_ERROR, "Error in workflow", None),
        },
    }
}

/// Queue mode: the execution is queued (committed before any answer, so an acknowledged call
/// is never lost) and runs on whichever instance claims it; a caller waiting for the run's
/// answer gets it through the database.
async fn queue_and_answer(
    engine: &Engine,
    workflow: &Workflow,
    node: &Node,
    input: Connections,
    response_mode: &str,
) -> Response {
    let id = match engine
        .enqueue(workflow, Mode::Webhook, node, input, None)
        .await
    {
        Ok(Some(id)) => id,
        Ok(None) => {
            return webhook_error(StatusCode::INTERNAL_SERVER_ERROR, "Error in workflow", None)
        }
        Err(ApiError::Busy {
            message,
            retry_after_secs,
        }) => {
            let mut response = webhook_error(StatusCode::SERVICE_UNAVAILABLE, message, None);
            if let Ok(value) = axum::http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
            return response;
        }
        Err(e) => return e.into_response(),
    };
    if response_mode == "onReceived" {
        return respond::on_received(node);
    }
    engine.await_answer(id).await
}

async fn waiting(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    extensions: Extensions,
    WebhookBody(body): WebhookBody,
) -> Response {
    resume_waiting(
        &state,
        id,
        Call {
            method,
            uri,
            headers,
            extensions,
            body,
        },
    )
    .await
}

async fn waiting_with_suffix(
    State(state): State<AppState>,
    Path((id, _rest)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    extensions: Extensions,
    WebhookBody(body): WebhookBody,
) -> Response {
    resume_waiting(
        &state,
        id,
        Call {
            method,
            uri,
            headers,
            extensions,
            body,
        },
    )
    .await
}

/// `/webhook-waiting/{id}`: resumes an execution whose Wait node waits for its webhook,
/// answering as that node's response mode says.
async fn resume_waiting(state: &AppState, id: String, call: Call) -> Response {
    let engine = &state.engine;
    let missing = || {
        webhook_error(
            StatusCode::NOT_FOUND,
            format!("The execution \"{id}\" does not exist."),
            None,
        )
    };
    let Ok(execution_id) = id.parse::<i64>() else {
        return missing();
    };
    let (status, waiting_node, project_id) = match engine.waiting_node(execution_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return missing(),
        Err(e) => return e.into_response(),
    };
    match status.as_str() {
        "waiting" => {}
        "running" | "new" => {
            return webhook_error(
                StatusCode::CONFLICT,
                format!("The execution \"{id}\" is running already."),
                None,
            )
        }
        _ => {
            return webhook_error(
                StatusCode::CONFLICT,
                format!("The execution \"{id} has finished already."),
                None,
            )
        }
    }
    let method = call.method.as_str().to_uppercase();
    let node = waiting_node.filter(|n| {
        n.kind == "n8n-nodes-base.wait"
            && n.parameters.get("resume").and_then(Value::as_str) == Some("webhook")
            && paths::methods(n).contains(&method)
    });
    let Some(node) = node else {
        return webhook_error(
            StatusCode::NOT_FOUND,
            format!("The workflow for execution \"{id}\" does not contain a waiting webhook with a matching path/method."),
            None,
        );
    };
    let client = client_ip_of(&call.headers, &call.extensions, state.config.proxy_hops);
    // n8n's Wait node checks a JWT but does not hand its payload on.
    if let Err(refusal) =
        access::check(engine, project_id.as_deref(), &node, &call.headers, client).await
    {
        return refusal;
    }
    let content_type = call
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let body = match request::body(content_type, &call.body) {
        Ok(request::Body::Json(v)) => v,
        Ok(request::Body::Raw) => Value::Object(Map::new()),
        Err(e) => {
            return webhook_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Failed to parse request body",
                Some(&e.0),
            )
        }
    };
    let mut json = Map::new();
    json.insert(
        "headers".into(),
        Value::Object(request::headers(&call.headers)),
    );
    json.insert("params".into(), Value::Object(Map::new()));
    json.insert(
        "query".into(),
        Value::Object(request::query(call.uri.query())),
    );
    json.insert("body".into(), body);
    json.insert(
        "webhookUrl".into(),
        Value::String(format!(
            "{}/{}/{}",
            engine.inner().webhook_base_url,
            engine.inner().config.endpoint_webhook,
            node.webhook_id.clone().unwrap_or_default()
        )),
    );
    json.insert("executionMode".into(), Value::String("production".into()));
    let response_mode = node
        .parameters
        .get("responseMode")
        .and_then(Value::as_str)
        .unwrap_or("onReceived")
        .to_owned();
    let runner = engine.clone();
    let handle = tokio::spawn(async move {
        runner
            .resume(execution_id, Some(vec![Item::new(json)]))
            .await
    });
    if response_mode == "onReceived" {
        return respond::on_received(&node);
    }
    match handle.await {
        Ok(Ok(Some(ended))) => respond::last_node(&node, &ended, engine.binary()).await,
        Ok(Ok(None)) => webhook_error(
            StatusCode::CONFLICT,
            format!("The execution \"{id}\" is running already."),
            None,
        ),
        Ok(Err(e)) => e.into_response(),
        Err(_) => webhook_error(StatusCode::INTERNAL_SERVER_ERROR, "Error in workflow", None),
    }
}

impl Engine {
    /// The status of an execution and, when it waits, the node it waits in.
    /// The status of execution `id`, the node it waits in (when it waits), and its workflow's
    /// project (whose credentials that node may use).
    pub async fn waiting_node(
        &self,
        id: i64,
    ) -> Result<Option<(String, Option<Node>, Option<String>)>, ApiError> {
        let mut conn = self.inner().db.acquire().await?;
        let Some(row) = crate::db::executions::find(conn.conn(), id).await? else {
            return Ok(None);
        };
        let node = (row.status == "waiting")
            .then(|| {
                let data: Value = serde_json::from_str(row.data.as_deref()?).ok()?;
                let raw = data
                    .pointer("/executionData/nodeExecutionStack/0/node")?
                    .clone();
                serde_json::from_value::<Node>(raw).ok()
            })
            .flatten();
        let project_id = match node {
            Some(_) => crate::db::workflows::find(conn.conn(), &row.workflow_id)
                .await?
                .map(|w| w.project_id),
            None => None,
        };
        Ok(Some((row.status, node, project_id)))
    }
}
