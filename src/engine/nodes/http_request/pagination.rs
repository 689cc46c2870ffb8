//! Pagination (`options.pagination`), as n8n pages: the item's request is sent again and again,
//! each time with parameters (query, headers, body) or a URL computed by expressions that see
//! the previous answer as `$response` (`{body, headers, statusCode}`), the number of pages
//! fetched so far as `$pageCount` and the item's request as `$request`. It stops when the
//! chosen condition says so, at `maxRequests`, or with an error when the same answer comes
//! back over and over. Every page's answer becomes items, pages one after the other.
//!
//! A page is evaluated for the item's index with these variables added; the first request is
//! already made with them (`$pageCount` 0, `$response` empty), so `{{ $pageCount + 1 }}`
//! asks for page 1 first, and an expression that fails on the empty `$response` (a missing
//! property) leaves the parameter as the node set it.

use std::time::Duration;

use crate::engine::nodes::conditions::truthy;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::auth::AuthParts;
use super::errors::{status_error, Failure};
use super::parameters::{Body, FormPart, Params, ResponseFormat};
use super::response::{self, Answer};
use crate::engine::data::{Item, JsonObject};
use crate::engine::node::{NodeError, NodeRun};
use crate::engine::nodes::types::js_string;
use crate::engine::services::Services;

/// Where a pagination parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Query,
    Headers,
    Body,
}

/// When pagination is complete.
#[derive(Clone, Debug, PartialEq)]
enum Complete {
    /// The body is empty: `""`, `null`, `false`, `0` or an empty array (an empty object is
    /// not, as in n8n).
    ResponseIsEmpty,
    /// The status is one of these.
    StatusCodes(Vec<i64>),
    /// `completeExpression`, without its `={{ }}`.
    Expression(String),
}

/// The pagination the node asks for.
#[derive(Clone, Debug)]
pub struct Paging {
    /// Parameters set on each request (names and unevaluated values).
    parameters: Vec<(Target, String, Value)>,
    /// The next URL (unevaluated), in "response contains next URL" mode.
    next_url: Option<Value>,
    complete: Complete,
    /// Unevaluated; only when `limitPagesFetched` is on.
    max_requests: Option<Value>,
    interval: Option<Value>,
}

impl Paging {
    /// The node's pagination (read from the parameters as set, as n8n reads them for item
    /// 0); `None` when pagination is off.
    pub fn read(run: &NodeRun<'_>) -> Result<Option<Paging>, NodeError> {
        let Some(Value::Object(raw)) = run.raw_param("options.pagination.pagination") else {
            return Ok(None);
        };
        let text = |name: &str, default: &str| -> String {
            raw.get(name)
                .map(js_string)
                .unwrap_or_else(|| default.to_owned())
        };
        let mode = text("paginationMode", "updateAParameterInEachRequest");
        let mut paging = Paging {
            parameters: Vec::new(),
            next_url: None,
            complete: Complete::ResponseIsEmpty,
            max_requests: None,
            interval: raw.get("requestInterval").cloned(),
        };
        match mode.as_str() {
            "off" => return Ok(None),
            "updateAParameterInEachRequest" => paging.parameters = parameters(raw)?,
            "responseContainsNextURL" => {
                paging.next_url = Some(raw.get("nextURL").cloned().unwrap_or(Value::Null));
            }
            other => {
                return Err(NodeError::operation(format!(
                    "The pagination mode \"{other}\" is not known"
                )))
            }
        }
        paging.complete = match text("paginationCompleteWhen", "responseIsEmpty").as_str() {
            "responseIsEmpty" => Complete::ResponseIsEmpty,
            "receiveSpecificStatusCodes" => Complete::StatusCodes(
                text("statusCodesWhenComplete", "")
                    .split(',')
                    .filter_map(|code| leading_integer(code.trim()))
                    .collect(),
            ),
            _ => {
                let expression = text("completeExpression", "");
                let Some(inner) = expression
                    .strip_prefix('=')
                    .map(|_| expression.trim())
                    .and_then(|e| e.get(3..e.len().saturating_sub(2)))
                    .filter(|_| !expression.is_empty())
                else {
                    return Err(NodeError::operation("Invalid or empty Complete Expression"));
                };
                Complete::Expression(inner.to_owned())
            }
        };
        if raw.get("limitPagesFetched").and_then(Value::as_bool) == Some(true) {
            paging.max_requests = Some(raw.get("maxRequests").cloned().unwrap_or(json!(100)));
        }
        Ok(Some(paging))
    }
}

/// JavaScript's `parseInt` of a status code: the leading digits, if any.
fn leading_integer(text: &str) -> Option<i64> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().ok().map(|n| sign * n)
}

/// The "update a parameter in each request" entries, refused as n8n refuses them.
fn parameters(raw: &Map<String, Value>) -> Result<Vec<(Target, String, Value)>, NodeError> {
    let list = raw
        .get("parameters")
        .and_then(|p| p.get("parameters"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let field = |entry: &Value, name: &str| entry.get(name).map(js_string).unwrap_or_default();
    if list.len() == 1 && field(&list[0], "name").is_empty() && field(&list[0], "value").is_empty()
    {
        return Err(NodeError::operation("At least one entry with 'Name' and 'Value' filled must be included in 'Parameters' to use 'Update a Parameter in Each Request' mode "));
    }
    let mut out = Vec::with_capacity(list.len());
    for (index, entry) in list.iter().enumerate() {
        let name = field(entry, "name");
        if name.is_empty() {
            return Err(NodeError::operation(format!(
                "Parameter name must be set for parameter [{}] in pagination settings",
                index + 1
            )));
        }
        // n8n files an entry of another type where no request part reads it.
        let target = match entry.get("type").and_then(Value::as_str).unwrap_or("qs") {
            "qs" => Target::Query,
            "headers" => Target::Headers,
            "body" => Target::Body,
            _ => continue,
        };
        let value = entry.get("value").cloned().unwrap_or(Value::Null);
        if value.as_str() == Some("") {
            return Err(NodeError::operation(format!(
                "Some value must be provided for parameter [{}] in pagination settings, omitting it will result in an infinite loop",
                index + 1
            )));
        }
        out.push((target, name, value));
    }
    Ok(out)
}

/// Answers that came back the same (by `etag` or a hash of the body) this many times in a
/// row after the first stop the pagination, as n8n does.
const IDENTICAL_LIMIT: u32 = 3;

/// Fetches every page of item `i`'s request and turns each page's answer into items.
pub async fn fetch_pages(
    run: &NodeRun<'_>,
    services: &dyn Services,
    auth: &AuthParts,
    paging: &Paging,
    i: usize,
    item: &Item,
    base: Params,
) -> Result<Vec<Item>, Failure> {
    let mut keys = JsonObject::new();
    keys.insert("$request".into(), request_view(&base));
    keys.insert("$response".into(), json!({}));
    keys.insert("$version".into(), json!(run.version()));
    keys.insert("$pageCount".into(), json!(0));
    let mut answers = Vec::new();
    let mut identical = (0u32, 0u64, String::new());
    loop {
        let params = page_params(run, paging, i, &base, &keys)?;
        let (client, request, retry) = super::ready(services, &params, auth).await?;
        let answer = response::exchange(client, request, retry, params.options.timeout_ms).await?;
        let body = response_body(&answer, base.options.response_format);
        check_identical(&answer, &body, &mut identical)?;
        let status = answer.status;
        keys.insert(
            "$response".into(),
            json!({"body": body, "headers": answer.headers, "statusCode": status}),
        );
        answers.push(answer);
        let pages = answers.len();
        keys.insert("$pageCount".into(), json!(pages));
        if let Some(max) = &paging.max_requests {
            let max = number(&run.eval_with(max, i, &keys)?);
            if max != 0.0 && !max.is_nan() && pages as f64 >= max {
                break;
            }
        }
        if !more(run, paging, i, &keys, status)? {
            break;
        }
        if let Some(interval) = &paging.interval {
            let ms = number(&run.eval_with(interval, i, &keys)?);
            if ms > 0.0 {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms as u64)) => {}
                    _ = run.env.cancel.cancelled() => return Err(NodeError::operation("The execution was canceled").into()),
                }
            }
        }
        // Pages are asked for whatever their status, so that a status can end them; one that
        // fails while more are wanted fails the item.
        if let Some(failed) = answers.last().filter(|_| !(200..300).contains(&status)) {
            return Err(status_error(failed));
        }
        if run.env.cancel.is_cancelled() {
            return Err(NodeError::operation("The execution was canceled").into());
        }
    }
    let mut out = Vec::new();
    for answer in answers {
        out.extend(page_items(answer, &base, item, i)?);
    }
    Ok(out)
}

/// Whether another page is wanted after an answer with `status`.
fn more(
    run: &NodeRun<'_>,
    paging: &Paging,
    i: usize,
    keys: &JsonObject,
    status: u16,
) -> Result<bool, NodeError> {
    Ok(match &paging.complete {
        Complete::ResponseIsEmpty => match keys.get("$response").and_then(|r| r.get("body")) {
            Some(Value::Array(list)) => !list.is_empty(),
            Some(other) => truthy(other),
            None => false,
        },
        Complete::StatusCodes(codes) => !codes.contains(&i64::from(status)),
        // Negated inside the expression, as n8n does: one that fails (undefined) ends.
        Complete::Expression(code) => {
            truthy(&run.eval_with(&Value::String(format!("={{{{ !({code}) }}}}")), i, keys)?)
        }
    })
}

/// A number from an evaluated parameter (`Number(value)`), NaN when it is none.
fn number(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) if s.trim().is_empty() => 0.0,
        Value::String(s) => s.trim().parse().unwrap_or(f64::NAN),
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Null => 0.0,
        _ => f64::NAN,
    }
}

/// The item's request with this page's parameters or URL applied.
fn page_params(
    run: &NodeRun<'_>,
    paging: &Paging,
    i: usize,
    base: &Params,
    keys: &JsonObject,
) -> Result<Params, NodeError> {
    let mut params = base.clone();
    if let Some(next) = &paging.next_url {
        match run.eval_with(next, i, keys)? {
            // An expression worth undefined (the first page) leaves the URL as it is.
            Value::Null => {}
            value => {
                let url = js_string(&value);
                if reqwest::Url::parse(&url).is_err() {
                    return Err(NodeError::operation(format!("'{url}' is not a valid URL."))
                        .with_description(
                            "Make sure the \"Next URL\" parameter evaluates to a valid URL.",
                        ));
                }
                params.url = url;
            }
        }
    }
    for (target, name, raw) in &paging.parameters {
        let value = run.eval_with(raw, i, keys)?;
        if value.is_null() {
            continue;
        }
        match target {
            Target::Query => set_pair(&mut params.query, name, value),
            Target::Headers => {
                let value = js_string(&value);
                match params
                    .headers
                    .iter_mut()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    Some(entry) => entry.1 = value,
                    None => params.headers.push((name.clone(), value)),
                }
            }
            Target::Body => set_body(&mut params.body, name, value),
        }
    }
    Ok(params)
}

fn set_pair(pairs: &mut Vec<(String, Value)>, name: &str, value: Value) {
    match pairs.iter_mut().find(|(n, _)| n == name) {
        Some(entry) => entry.1 = value,
        None => pairs.push((name.to_owned(), value)),
    }
}

/// Sets a body field: in the form or multipart fields when the body is one, otherwise in a
/// JSON object (which replaces a body of another kind, as merging an object over it does).
fn set_body(body: &mut Body, name: &str, value: Value) {
    match body {
        Body::Form(fields) => set_pair(fields, name, value),
        Body::Multipart(parts) => {
            let text = js_string(&value);
            let existing = parts
                .iter_mut()
                .find(|p| matches!(p, FormPart::Text { name: n, .. } if n == name));
            match existing {
                Some(FormPart::Text { value, .. }) => *value = text,
                _ => parts.push(FormPart::Text {
                    name: name.to_owned(),
                    value: text,
                }),
            }
        }
        Body::Json(Value::Object(map)) => {
            map.insert(name.to_owned(), value);
        }
        other => {
            let mut map = Map::new();
            map.insert(name.to_owned(), value);
            *other = Body::Json(Value::Object(map));
        }
    }
}

/// What `$request` shows: the item's request as the node built it, without what its
/// credential adds.
fn request_view(params: &Params) -> Value {
    let mut view = Map::new();
    view.insert("method".into(), json!(params.method.as_str()));
    view.insert("uri".into(), json!(params.url));
    view.insert(
        "qs".into(),
        Value::Object(params.query.iter().cloned().collect()),
    );
    view.insert(
        "headers".into(),
        Value::Object(
            params
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    match &params.body {
        Body::Json(value) => {
            view.insert("body".into(), value.clone());
        }
        Body::Form(fields) => {
            view.insert(
                "form".into(),
                Value::Object(fields.iter().cloned().collect()),
            );
        }
        Body::Raw { text, .. } => {
            view.insert("body".into(), json!(text));
        }
        _ => {}
    }
    view.insert("timeout".into(), json!(params.options.timeout_ms));
    Value::Object(view)
}

/// `$response.body`: JSON when the answer is JSON (or JSON is expected), text otherwise.
fn response_body(answer: &Answer, format: ResponseFormat) -> Value {
    let text = String::from_utf8_lossy(&answer.body);
    match format {
        ResponseFormat::Autodetect if answer.content_type.contains("application/json") => {
            serde_json::from_str(&text).unwrap_or_else(|_| json!({}))
        }
        ResponseFormat::Json | ResponseFormat::Text => {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
        }
        _ => Value::String(text.into_owned()),
    }
}

/// Fails when the same answer keeps coming back: compared by `content-length`, then by
/// `etag` or a hash of the body.
fn check_identical(
    answer: &Answer,
    body: &Value,
    state: &mut (u32, u64, String),
) -> Result<(), NodeError> {
    let (count, previous_length, previous_hash) = state;
    let length = answer
        .headers
        .get("content-length")
        .and_then(Value::as_str)
        .and_then(|l| l.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if *previous_length == length {
        let hash = match answer.headers.get("etag").and_then(Value::as_str) {
            Some(etag) => etag.to_owned(),
            None => {
                let text = match body {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Sha256::digest(text.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            }
        };
        if *previous_hash == hash {
            *count += 1;
            if *count >= IDENTICAL_LIMIT {
                return Err(NodeError::operation(
                    "The returned response was identical 5x, so requests got stopped",
                )
                .with_description(
                    "Check if \"Pagination Completed When\" has been configured correctly.",
                ));
            }
        } else {
            *count = 0;
        }
        *previous_hash = hash;
    } else {
        *count = 0;
    }
    *previous_length = length;
    Ok(())
}

/// A page's items. n8n reads a paged answer's body before the node sees it: JSON that does
/// not parse is an empty object rather than an error, and an empty text stays `""`.
fn page_items(
    mut answer: Answer,
    base: &Params,
    item: &Item,
    i: usize,
) -> Result<Vec<Item>, NodeError> {
    let options = &base.options;
    let autodetect = options.response_format == ResponseFormat::Autodetect;
    if autodetect
        && answer.content_type.contains("application/json")
        && serde_json::from_slice::<Value>(&answer.body).is_err()
    {
        answer.body = b"{}".to_vec();
    }
    let empty_text = autodetect && answer.body.is_empty();
    let mut items = response::into_items(answer, options, item, i)?;
    if empty_text {
        for out in &mut items {
            if out.binary.is_none() && !out.json.contains_key(&options.output_property) {
                out.json.insert(
                    options.output_property.clone(),
                    Value::String(String::new()),
                );
            }
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_read_as_parse_int_reads_them() {
        assert_eq!(leading_integer("404"), Some(404));
        assert_eq!(leading_integer("204abc"), Some(204));
        assert_eq!(leading_integer("abc"), None);
    }

    #[test]
    fn empty_bodies_are_falsy_but_an_empty_object_is_not() {
        assert!(!truthy(&json!("")));
        assert!(!truthy(&json!(null)));
        assert!(!truthy(&json!(0)));
        assert!(truthy(&json!({})));
        assert!(truthy(&json!("x")));
    }

    #[test]
    fn a_body_parameter_goes_into_the_body_of_its_kind() {
        let mut form = Body::Form(vec![("a".into(), json!("1"))]);
        set_body(&mut form, "page", json!(2));
        assert_eq!(
            form,
            Body::Form(vec![("a".into(), json!("1")), ("page".into(), json!(2))])
        );
        let mut none = Body::None;
        set_body(&mut none, "page", json!(2));
        assert_eq!(none, Body::Json(json!({"page": 2})));
    }
}
