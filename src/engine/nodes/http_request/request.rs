//! Turns the node's parameters and its credential's additions into one HTTP request: the query
//! string written as n8n's `qs` writes it (nested objects, three array formats), headers with
//! n8n's default `accept`, and the body in its content type.

use reqwest::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

use super::auth::AuthParts;
use super::parameters::{ArrayFormat, Body, FormPart, Params, ResponseFormat};
use crate::engine::node::NodeError;
use crate::engine::nodes::types::js_string;

/// The `accept` header n8n sends when none is set, by expected response format.
fn default_accept(format: ResponseFormat) -> &'static str {
    match format {
        ResponseFormat::Json => "application/json,text/*;q=0.99",
        ResponseFormat::Text => {
            "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, */*;q=0.1"
        }
        _ => "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, image/*;q=0.8, */*;q=0.7",
    }
}

/// The request for `params` with `auth` applied, ready to send with `client`.
pub fn build(
    client: &reqwest::Client,
    params: &Params,
    auth: &AuthParts,
) -> Result<reqwest::Request, NodeError> {
    let mut url = reqwest::Url::parse(&params.url).map_err(|_| {
        NodeError::operation(format!("Invalid URL: {}", params.url))
            .with_description("Make sure the \"URL\" parameter evaluates to a valid URL.")
    })?;
    let query = merged(&params.query, &auth.query);
    if !query.is_empty() {
        let added = encode(&flatten(&query, params.options.array_format));
        let full = match url.query().filter(|q| !q.is_empty()) {
            Some(existing) => format!("{existing}&{added}"),
            None => added,
        };
        url.set_query(Some(&full));
    }

    let mut builder = client
        .request(params.method.clone(), url)
        .timeout(std::time::Duration::from_millis(params.options.timeout_ms));
    builder = match &params.body {
        Body::None => match &auth.body {
            Some(extra) => builder.json(&Value::Object(extra.clone())),
            None => builder,
        },
        Body::Json(value) => {
            let value = match (&auth.body, value) {
                (Some(extra), Value::Object(map)) => {
                    let mut merged = map.clone();
                    merged.extend(extra.clone());
                    Value::Object(merged)
                }
                _ => value.clone(),
            };
            builder.json(&value)
        }
        Body::Form(fields) => {
            let fields = match &auth.body {
                Some(extra) => merged(fields, &extra.clone().into_iter().collect::<Vec<_>>()),
                None => fields.clone(),
            };
            let encoded = encode(&flatten(&fields, ArrayFormat::Indices));
            builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(encoded)
        }
        Body::Multipart(parts) => builder.multipart(multipart(parts)?),
        Body::Raw { content_type, text } => {
            let builder = builder.body(text.clone());
            if content_type.is_empty() {
                builder
            } else {
                builder.header(CONTENT_TYPE, content_type.as_str())
            }
        }
        Body::Binary { data, mime_type } => builder
            .header(CONTENT_TYPE, mime_type.as_str())
            .body(data.clone()),
    };
    let mut request = builder
        .build()
        .map_err(|_| NodeError::operation(format!("Invalid URL: {}", params.url)))?;

    let headers = request.headers_mut();
    for (name, value) in params.headers.iter().chain(auth.headers.iter()) {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            NodeError::operation(format!("The header name \"{name}\" is not valid"))
        })?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            NodeError::operation(format!("The value of the header \"{name}\" is not valid"))
        })?;
        headers.insert(name, value);
    }
    if let Some((user, password)) = &auth.basic {
        let encoded = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{user}:{password}"),
        );
        if let Ok(value) = HeaderValue::from_str(&format!("Basic {encoded}")) {
            headers.insert(AUTHORIZATION, value);
        }
    }
    if !headers.contains_key(ACCEPT) {
        headers.insert(
            ACCEPT,
            HeaderValue::from_static(default_accept(params.options.response_format)),
        );
    }
    Ok(request)
}

/// `base` with `extra` laid over it: a name in both takes `extra`'s value, in `base`'s place.
fn merged(base: &[(String, Value)], extra: &[(String, Value)]) -> Vec<(String, Value)> {
    let mut out = base.to_vec();
    for (name, value) in extra {
        match out.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => out.push((name.clone(), value.clone())),
        }
    }
    out
}

/// Query or form fields as flat pairs, nested values written as `qs` writes them:
/// `a[b]=1` for objects, `a[]=1` / `a[0]=1` / `a=1` for arrays; `null` as an empty value.
pub fn flatten(fields: &[(String, Value)], format: ArrayFormat) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in fields {
        flatten_value(name, value, format, &mut out);
    }
    out
}

fn flatten_value(key: &str, value: &Value, format: ArrayFormat, out: &mut Vec<(String, String)>) {
    match value {
        Value::Array(list) => {
            for (index, element) in list.iter().enumerate() {
                let element_key = match format {
                    ArrayFormat::Brackets => format!("{key}[]"),
                    ArrayFormat::Indices => format!("{key}[{index}]"),
                    ArrayFormat::Repeat => key.to_owned(),
                };
                flatten_value(&element_key, element, format, out);
            }
        }
        Value::Object(map) => {
            for (name, nested) in map {
                flatten_value(&format!("{key}[{name}]"), nested, format, out);
            }
        }
        Value::Null => out.push((key.to_owned(), String::new())),
        other => out.push((key.to_owned(), js_string(other))),
    }
}

/// Pairs written as `qs` writes them: RFC 3986 percent-encoding of names and values (a space
/// is `%20`, brackets are `%5B%5D`).
pub fn encode(pairs: &[(String, String)]) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(k, KEEP),
                percent_encoding::utf8_percent_encode(v, KEEP)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn multipart(parts: &[FormPart]) -> Result<reqwest::multipart::Form, NodeError> {
    let mut form = reqwest::multipart::Form::new();
    for part in parts {
        form = match part {
            FormPart::Text { name, value } => form.text(name.clone(), value.clone()),
            FormPart::File {
                name,
                data,
                file_name,
                mime_type,
            } => {
                let mut file =
                    reqwest::multipart::Part::bytes(data.clone()).file_name(file_name.clone());
                if let Some(mime) = mime_type {
                    file = file.mime_str(mime).map_err(|_| {
                        NodeError::operation(format!("The MIME type \"{mime}\" is not valid"))
                    })?;
                }
                form.part(name.clone(), file)
            }
        };
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::super::parameters::Options;
    use super::*;
    use serde_json::json;

    fn options() -> Options {
        Options {
            timeout_ms: 1000,
            follow_redirects: true,
            max_redirects: 21,
            allow_unauthorized_certs: false,
            proxy: None,
            response_format: ResponseFormat::Autodetect,
            full_response: false,
            never_error: false,
            output_property: "data".into(),
            array_format: ArrayFormat::Brackets,
            lowercase_headers: true,
            batch: None,
        }
    }

    fn params(body: Body) -> Params {
        Params {
            method: reqwest::Method::POST,
            url: "http://api.example.com/items?fixed=1".into(),
            query: vec![
                ("q".into(), json!("a b")),
                ("tags".into(), json!(["x", "y"])),
            ],
            headers: vec![("x-trace".into(), "t1".into())],
            body,
            options: options(),
        }
    }

    #[test]
    fn arrays_and_objects_are_flattened_in_each_format() {
        let fields = vec![
            ("a".to_owned(), json!([1, "two"])),
            ("o".to_owned(), json!({"k": true, "n": null})),
        ];
        let pairs = |format| {
            flatten(&fields, format)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert_eq!(
            pairs(ArrayFormat::Brackets),
            "a[]=1&a[]=two&o[k]=true&o[n]="
        );
        assert_eq!(
            pairs(ArrayFormat::Indices),
            "a[0]=1&a[1]=two&o[k]=true&o[n]="
        );
        assert_eq!(pairs(ArrayFormat::Repeat), "a=1&a=two&o[k]=true&o[n]=");
    }

    #[test]
    fn a_json_request_carries_query_headers_auth_and_body() {
        let client = reqwest::Client::new();
        let auth = AuthParts {
            headers: vec![("X-Api-Key".into(), "secret".into())],
            query: vec![("token".into(), json!("t"))],
            ..AuthParts::default()
        };
        let request = build(&client, &params(Body::Json(json!({"a": 1}))), &auth).expect("built");
        assert_eq!(request.method(), reqwest::Method::POST);
        assert_eq!(
            request.url().as_str(),
            "http://api.example.com/items?fixed=1&q=a%20b&tags%5B%5D=x&tags%5B%5D=y&token=t"
        );
        let headers = request.headers();
        assert_eq!(headers["x-trace"], "t1");
        assert_eq!(headers["x-api-key"], "secret");
        assert_eq!(headers["content-type"], "application/json");
        assert!(headers["accept"]
            .to_str()
            .expect("text")
            .starts_with("application/json,text/html"));
        let body = request.body().and_then(|b| b.as_bytes()).expect("bytes");
        assert_eq!(body, br#"{"a":1}"#);
    }

    #[test]
    fn form_bodies_are_urlencoded_and_basic_auth_is_a_header() {
        let client = reqwest::Client::new();
        let auth = AuthParts {
            basic: Some(("ada".into(), "pw".into())),
            ..AuthParts::default()
        };
        let body = Body::Form(vec![
            ("name".into(), json!("Ada L")),
            ("n".into(), json!(3)),
        ]);
        let request = build(&client, &params(body), &auth).expect("built");
        assert_eq!(
            request.headers()["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(request.headers()["authorization"], "Basic YWRhOnB3");
        let body = request.body().and_then(|b| b.as_bytes()).expect("bytes");
        assert_eq!(body, b"name=Ada%20L&n=3");
    }

    #[test]
    fn a_custom_auth_body_is_merged_into_a_json_body() {
        let client = reqwest::Client::new();
        let mut extra = serde_json::Map::new();
        extra.insert("api_key".into(), json!("k"));
        let auth = AuthParts {
            body: Some(extra),
            ..AuthParts::default()
        };
        let request = build(&client, &params(Body::Json(json!({"a": 1}))), &auth).expect("built");
        let body = request.body().and_then(|b| b.as_bytes()).expect("bytes");
        assert_eq!(body, br#"{"a":1,"api_key":"k"}"#);
    }

    #[test]
    fn a_raw_body_takes_its_content_type_and_an_explicit_accept_is_kept() {
        let client = reqwest::Client::new();
        let mut p = params(Body::Raw {
            content_type: "text/csv".into(),
            text: "a,b\n1,2".into(),
        });
        p.headers.push(("accept".into(), "text/csv".into()));
        let request = build(&client, &p, &AuthParts::default()).expect("built");
        assert_eq!(request.headers()["content-type"], "text/csv");
        assert_eq!(request.headers()["accept"], "text/csv");
        let body = request.body().and_then(|b| b.as_bytes()).expect("bytes");
        assert_eq!(body, b"a,b\n1,2");
    }

    #[test]
    fn a_url_that_does_not_parse_is_refused() {
        let client = reqwest::Client::new();
        let mut p = params(Body::None);
        p.url = "http://exa mple.com/".into();
        let error = build(&client, &p, &AuthParts::default()).expect_err("refused");
        assert_eq!(error.message, "Invalid URL: http://exa mple.com/");
    }
}
