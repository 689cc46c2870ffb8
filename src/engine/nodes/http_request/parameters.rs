//! The HTTP Request node's parameters (versions 3 to 4.2), read for one item with n8n's names
//! and defaults: method, URL, query, headers, body of each content type, and the options.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::engine::data::Item;
use crate::engine::node::{NodeError, NodeRun};
use crate::engine::nodes::types::js_string;

/// What to send, for one item.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub method: reqwest::Method,
    pub url: String,
    /// Query parameters in order; a value may be an array or an object (serialised as n8n's
    /// `qs` does).
    pub query: Vec<(String, Value)>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    pub options: Options,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    None,
    Json(Value),
    /// `application/x-www-form-urlencoded` fields.
    Form(Vec<(String, Value)>),
    Multipart(Vec<FormPart>),
    Raw {
        content_type: String,
        text: String,
    },
    Binary {
        data: Vec<u8>,
        mime_type: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum FormPart {
    Text {
        name: String,
        value: String,
    },
    File {
        name: String,
        data: Vec<u8>,
        file_name: String,
        mime_type: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseFormat {
    Autodetect,
    Json,
    Text,
    File,
}

/// How arrays are written in a query string (`queryParameterArrays`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrayFormat {
    /// `a[]=1&a[]=2`
    Brackets,
    /// `a[0]=1&a[1]=2`
    Indices,
    /// `a=1&a=2`
    Repeat,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub timeout_ms: u64,
    pub follow_redirects: bool,
    pub max_redirects: usize,
    pub allow_unauthorized_certs: bool,
    pub proxy: Option<String>,
    pub response_format: ResponseFormat,
    pub full_response: bool,
    pub never_error: bool,
    pub output_property: String,
    pub array_format: ArrayFormat,
    pub lowercase_headers: bool,
    /// Items per batch (at least 1) and the pause between batches; `None` without batching.
    pub batch: Option<(usize, u64)>,
}

/// n8n's default when no timeout is set: five minutes.
const DEFAULT_TIMEOUT_MS: u64 = 300_000;

impl Params {
    pub fn read(run: &NodeRun<'_>, i: usize, item: &Item) -> Result<Params, NodeError> {
        let url = match run.param_value("url", i)?.unwrap_or(Value::Null) {
            Value::String(s) => s.trim().to_owned(),
            Value::Null => {
                return Err(NodeError::operation(
                    "URL parameter must be a string, got null",
                ))
            }
            other => {
                return Err(NodeError::operation(format!(
                    "URL parameter must be a string, got {}",
                    js_type(&other)
                )))
            }
        };
        if url.is_empty() {
            return Err(NodeError::operation("URL parameter cannot be empty"));
        }
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(NodeError::operation(format!(
                "Invalid URL: {url}. URL must start with \"http\" or \"https\"."
            )));
        }
        let method_name = run.param_str("method", i, "GET")?.to_ascii_uppercase();
        let method = reqwest::Method::from_bytes(method_name.as_bytes()).map_err(|_| {
            NodeError::operation(format!("The method \"{method_name}\" is not valid"))
        })?;
        let options = Options::read(run, i)?;
        let query = if run.param_bool("sendQuery", i, false)? {
            match run.param_str("specifyQuery", i, "keypair")?.as_str() {
                "json" => json_object(run, "jsonQuery", "JSON Query Parameters", i)?
                    .into_iter()
                    .collect(),
                _ => pairs(run, "queryParameters.parameters", i)?,
            }
        } else {
            Vec::new()
        };
        let headers = if run.param_bool("sendHeaders", i, false)? {
            let listed: Vec<(String, Value)> =
                match run.param_str("specifyHeaders", i, "keypair")?.as_str() {
                    "json" => json_object(run, "jsonHeaders", "JSON Headers", i)?
                        .into_iter()
                        .collect(),
                    _ => pairs(run, "headerParameters.parameters", i)?,
                };
            listed
                .into_iter()
                .filter(|(name, _)| !name.is_empty())
                .map(|(name, value)| {
                    let name = if options.lowercase_headers {
                        name.to_ascii_lowercase()
                    } else {
                        name
                    };
                    let value = match value {
                        Value::Array(list) => {
                            list.iter().map(js_string).collect::<Vec<_>>().join(", ")
                        }
                        other => js_string(&other),
                    };
                    (name, value)
                })
                .collect()
        } else {
            Vec::new()
        };
        let body = if run.param_bool("sendBody", i, false)? {
            read_body(run, i, item)?
        } else {
            Body::None
        };
        Ok(Params {
            method,
            url,
            query,
            headers,
            body,
            options,
        })
    }
}

impl Options {
    fn read(run: &NodeRun<'_>, i: usize) -> Result<Options, NodeError> {
        let version = run.version();
        let timeout = run.param_f64("options.timeout", i, 0.0)?;
        // From version 4 redirects are followed unless the option says otherwise.
        let redirect_set = run.raw_param("options.redirect").is_some();
        let follow_redirects = if redirect_set {
            run.param_bool(
                "options.redirect.redirect.followRedirects",
                i,
                version >= 4.0,
            )?
        } else {
            version >= 4.0
        };
        let max_redirects = run
            .param_f64("options.redirect.redirect.maxRedirects", i, 21.0)?
            .max(0.0) as usize;
        let response_format = match run
            .param_str("options.response.response.responseFormat", i, "autodetect")?
            .as_str()
        {
            "json" => ResponseFormat::Json,
            "text" => ResponseFormat::Text,
            "file" => ResponseFormat::File,
            _ => ResponseFormat::Autodetect,
        };
        // Without the option n8n writes arrays with indices; the option's own default is
        // brackets.
        let array_format = match run
            .param_str("options.queryParameterArrays", i, "indices")?
            .as_str()
        {
            "repeat" => ArrayFormat::Repeat,
            "brackets" => ArrayFormat::Brackets,
            _ => ArrayFormat::Indices,
        };
        let batch = if run.raw_param("options.batching.batch").is_some() {
            let size = run.param_f64("options.batching.batch.batchSize", i, 50.0)?;
            let interval = run.param_f64("options.batching.batch.batchInterval", i, 1000.0)?;
            // n8n treats a size of 0 (or -1, "disabled") as 1, and pauses only when the
            // interval is positive.
            let size = if size > 0.0 { size as usize } else { 1 };
            (interval > 0.0).then_some((size, interval as u64))
        } else {
            None
        };
        let proxy = run.param_str("options.proxy", i, "")?;
        let output_property =
            run.param_str("options.response.response.outputPropertyName", i, "data")?;
        Ok(Options {
            timeout_ms: if timeout >= 1.0 {
                timeout as u64
            } else {
                DEFAULT_TIMEOUT_MS
            },
            follow_redirects,
            max_redirects,
            allow_unauthorized_certs: run.param_bool("options.allowUnauthorizedCerts", i, false)?,
            proxy: (!proxy.trim().is_empty()).then(|| proxy.trim().to_owned()),
            response_format,
            full_response: run.param_bool("options.response.response.fullResponse", i, false)?,
            never_error: run.param_bool("options.response.response.neverError", i, false)?,
            output_property: if output_property.is_empty() {
                "data".to_owned()
            } else {
                output_property
            },
            array_format,
            lowercase_headers: run.param_bool("options.lowercaseHeaders", i, true)?,
            batch,
        })
    }
}

fn read_body(run: &NodeRun<'_>, i: usize, item: &Item) -> Result<Body, NodeError> {
    let version = run.version();
    let content_type = run.param_str("contentType", i, "json")?;
    let specify = run.param_str("specifyBody", i, "keypair")?;
    Ok(match content_type.as_str() {
        "json" => match specify.as_str() {
            "json" => match run.param_value("jsonBody", i)?.unwrap_or(Value::Null) {
                Value::String(text) => Body::Json(parse_json(&text, "JSON Body")?),
                Value::Null => Body::Json(parse_json("", "JSON Body")?),
                other => Body::Json(other),
            },
            _ => {
                let mut object = Map::new();
                for (name, value) in pairs(run, "bodyParameters.parameters", i)? {
                    // From version 4 a dotted name makes nested objects (lodash `set`).
                    if version >= 4.0 {
                        set_path(&mut object, &name, value);
                    } else {
                        object.insert(name, value);
                    }
                }
                Body::Json(Value::Object(object))
            }
        },
        "form-urlencoded" => match specify.as_str() {
            "string" => {
                let text = run.param_str("body", i, "")?;
                Body::Form(
                    form_urlencoded::parse(text.as_bytes())
                        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                        .collect(),
                )
            }
            _ => Body::Form(pairs(run, "bodyParameters.parameters", i)?),
        },
        "multipart-form-data" => Body::Multipart(form_parts(run, i, item)?),
        "raw" => Body::Raw {
            content_type: run.param_str("rawContentType", i, "")?,
            text: run.param_str("body", i, "")?,
        },
        "binaryData" => {
            let field = run.param_str("inputDataFieldName", i, "")?;
            let file = binary_field(item, &field, i)?;
            Body::Binary {
                data: file.data,
                mime_type: file
                    .mime_type
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
            }
        }
        other => {
            return Err(NodeError::operation(format!(
                "The body content type \"{other}\" is not known"
            )))
        }
    })
}

/// A `fixedCollection` of `{name, value}` pairs (evaluated), without blank names. A name given
/// twice keeps its last value before version 4.3 and collects its values into a list from 4.3.
fn pairs(run: &NodeRun<'_>, path: &str, i: usize) -> Result<Vec<(String, Value)>, NodeError> {
    let list = run.param_value(path, i)?.unwrap_or(Value::Null);
    let collect = run.version() >= 4.3;
    let mut out: Vec<(String, Value)> = Vec::new();
    for entry in list.as_array().into_iter().flatten() {
        let Some(name) = entry.get("name").map(js_string).filter(|n| !n.is_empty()) else {
            continue;
        };
        let value = entry
            .get("value")
            .cloned()
            .unwrap_or(Value::String(String::new()));
        match out.iter_mut().find(|(n, _)| *n == name) {
            None => out.push((name, value)),
            Some((_, Value::Array(list))) if collect => list.push(value),
            Some((_, existing)) if collect => {
                *existing = Value::Array(vec![existing.clone(), value]);
            }
            Some((_, existing)) => *existing = value,
        }
    }
    Ok(out)
}

fn form_parts(run: &NodeRun<'_>, i: usize, item: &Item) -> Result<Vec<FormPart>, NodeError> {
    let list = run
        .param_value("bodyParameters.parameters", i)?
        .unwrap_or(Value::Null);
    let mut parts = Vec::new();
    for entry in list.as_array().into_iter().flatten() {
        let name = entry.get("name").map(js_string).unwrap_or_default();
        let kind = entry
            .get("parameterType")
            .and_then(Value::as_str)
            .unwrap_or("formData");
        if kind == "formBinaryData" {
            let field = entry
                .get("inputDataFieldName")
                .map(js_string)
                .unwrap_or_default();
            if field.is_empty() {
                continue;
            }
            let file = binary_field(item, &field, i)?;
            parts.push(FormPart::File {
                name,
                data: file.data,
                file_name: file.file_name.unwrap_or_else(|| "file".to_owned()),
                mime_type: file.mime_type,
            });
        } else if !name.is_empty() {
            let value = entry.get("value").map(js_string).unwrap_or_default();
            parts.push(FormPart::Text { name, value });
        }
    }
    Ok(parts)
}

/// A file from an item's binary data.
#[derive(Debug)]
struct BinaryFile {
    data: Vec<u8>,
    mime_type: Option<String>,
    file_name: Option<String>,
}

/// The bytes, MIME type and file name of the item's binary field `field`, with n8n's errors.
fn binary_field(item: &Item, field: &str, i: usize) -> Result<BinaryFile, NodeError> {
    let Some(binary) = &item.binary else {
        return Err(NodeError::operation(format!(
            "This operation expects the node's input data to contain a binary file '{field}', but none was found [item {i}]"
        ))
        .with_description("Make sure that the previous node outputs a binary file"));
    };
    let Some(entry) = binary.get(field) else {
        return Err(NodeError::operation(format!(
            "The item has no binary field '{field}' [item {i}]"
        ))
        .with_description("Check that the parameter where you specified the input binary field name is correct, and that it matches a field in the binary input"));
    };
    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
    let Some(encoded) = text("data").filter(|d| !d.is_empty() || text("id").is_none()) else {
        // A reference the node could not read from the binary data store (it reads the
        // bytes before this, so the store did not have them).
        return Err(NodeError::operation(format!(
            "The binary field '{field}' refers to binary data that is not stored [item {i}]"
        )));
    };
    let data = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| {
            NodeError::operation(format!(
                "The binary field '{field}' does not hold base64 data [item {i}]"
            ))
        })?;
    Ok(BinaryFile {
        data,
        mime_type: text("mimeType"),
        file_name: text("fileName"),
    })
}

/// A JSON parameter given as text, with n8n's message when it is not JSON.
fn parse_json(text: &str, field: &str) -> Result<Value, NodeError> {
    serde_json::from_str(text).map_err(|e| {
        NodeError::operation(format!(
            "The value in the \"{field}\" field is not valid JSON"
        ))
        .with_description(e.to_string())
    })
}

/// A JSON parameter that must hold an object (query parameters, headers).
fn json_object(
    run: &NodeRun<'_>,
    path: &str,
    field: &str,
    i: usize,
) -> Result<Map<String, Value>, NodeError> {
    let value = match run.param_value(path, i)?.unwrap_or(Value::Null) {
        Value::String(text) => parse_json(&text, field)?,
        other => other,
    };
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(NodeError::operation(format!(
            "The value in the \"{field}\" field is not a JSON object"
        ))),
    }
}

/// Sets `value` at a dotted path (`a.b` makes `{a: {b: value}}`), as lodash's `set`.
fn set_path(object: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut current = object;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), value);
            return;
        }
        let slot = current
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else { return };
        current = next;
    }
}

fn js_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_names_make_nested_objects() {
        let mut object = Map::new();
        set_path(&mut object, "user.name", json!("Ada"));
        set_path(&mut object, "user.age", json!("36"));
        set_path(&mut object, "plain", json!(1));
        assert_eq!(
            Value::Object(object),
            json!({"user": {"name": "Ada", "age": "36"}, "plain": 1})
        );
    }

    #[test]
    fn binary_fields_are_read_from_the_item_or_refused_in_n8n_words() {
        let item: Item = serde_json::from_value(json!({
            "json": {},
            "binary": {"file": {"data": "aGVsbG8=", "mimeType": "text/plain", "fileName": "a.txt"}}
        }))
        .expect("item");
        let file = binary_field(&item, "file", 0).expect("binary");
        assert_eq!(file.data, b"hello");
        assert_eq!(file.mime_type.as_deref(), Some("text/plain"));
        assert_eq!(file.file_name.as_deref(), Some("a.txt"));
        let missing = binary_field(&item, "other", 2).expect_err("missing");
        assert_eq!(
            missing.message,
            "The item has no binary field 'other' [item 2]"
        );
        let none = binary_field(&Item::default(), "file", 0).expect_err("none");
        assert!(none.message.contains("but none was found [item 0]"));
    }
}
