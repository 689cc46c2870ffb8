//! A webhook request as the Webhook node hands it on: `{headers, params, query, body}`, read
//! the way n8n reads it (header names in lower case, the query with `qs`'s brackets and
//! repeated keys as lists, the body by its content type).

use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// Header names in lower case, in the order received; repeated headers joined with `, `.
pub fn headers(headers: &HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match out.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                out.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    out
}

/// A query string as `qs` reads it: `a=1&a=2` is a list, `a[b]=1` an object, `a[]=1` a list.
pub fn query(raw: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(raw) = raw else {
        return out;
    };
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        let value = Value::String(value.into_owned());
        let (base, path) = split_brackets(&key);
        insert_path(&mut out, base, &path, value);
    }
    out
}

/// A form body as Express's simple parser reads it: repeated keys are lists; brackets stay
/// part of the key.
pub fn form(raw: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in form_urlencoded::parse(raw) {
        push(
            &mut out,
            key.into_owned(),
            Value::String(value.into_owned()),
        );
    }
    out
}

fn push(map: &mut Map<String, Value>, key: String, value: Value) {
    match map.get_mut(&key) {
        Some(Value::Array(list)) => list.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            map.insert(key, value);
        }
    }
}

/// `a[b][]` into `("a", ["b", ""])`; a key without brackets has an empty path.
fn split_brackets(key: &str) -> (&str, Vec<&str>) {
    let Some(open) = key.find('[') else {
        return (key, Vec::new());
    };
    if open == 0 || !key.ends_with(']') {
        return (key, Vec::new());
    }
    let mut path = Vec::new();
    let mut rest = &key[open..];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return (key, Vec::new());
        };
        path.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    if !rest.is_empty() || path.len() > 5 {
        // `qs` keeps what it cannot read (or nests too deep) as a plain key.
        return (key, Vec::new());
    }
    (&key[..open], path)
}

fn insert_path(map: &mut Map<String, Value>, base: &str, path: &[&str], value: Value) {
    if path.is_empty() {
        push(map, base.to_owned(), value);
        return;
    }
    let slot = map.entry(base.to_owned()).or_insert_with(|| {
        if path[0].is_empty() {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        }
    });
    insert_into(slot, path, value);
}

fn insert_into(slot: &mut Value, path: &[&str], value: Value) {
    let (head, rest) = (path[0], &path[1..]);
    match slot {
        Value::Array(list) if head.is_empty() => {
            if rest.is_empty() {
                list.push(value);
            } else {
                let mut child = Value::Object(Map::new());
                insert_into(&mut child, rest, value);
                list.push(child);
            }
        }
        Value::Object(map) => {
            if rest.is_empty() {
                push(map, head.to_owned(), value);
            } else {
                let child = map.entry(head.to_owned()).or_insert_with(|| {
                    if rest[0].is_empty() {
                        Value::Array(Vec::new())
                    } else {
                        Value::Object(Map::new())
                    }
                });
                insert_into(child, rest, value);
            }
        }
        other => {
            // A plain value already there: keep both, as a list.
            let first = other.take();
            *other = Value::Array(vec![first, value]);
        }
    }
}

/// What the body of a request becomes.
pub enum Body {
    /// Parsed into the item's `body`.
    Json(Value),
    /// Not a body n8n parses (binary, or none): `body` is `{}` and the bytes are kept.
    Raw,
}

/// Why a body could not be read (n8n answers 422).
pub struct BodyError(pub String);

/// Reads a body by its content type, as n8n's body parsers do.
pub fn body(content_type: Option<&str>, bytes: &[u8]) -> Result<Body, BodyError> {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.is_empty() {
        return Ok(Body::Json(Value::Object(Map::new())));
    }
    if mime == "application/json" || mime.ends_with("+json") {
        return serde_json::from_slice(bytes)
            .map(Body::Json)
            .map_err(|e| BodyError(e.to_string()));
    }
    if mime == "application/x-www-form-urlencoded" {
        return Ok(Body::Json(Value::Object(form(bytes))));
    }
    if mime.starts_with("text/") && mime != "text/xml" {
        return Ok(Body::Json(Value::String(
            String::from_utf8_lossy(bytes).into_owned(),
        )));
    }
    if mime == "application/xml" || mime == "text/xml" || mime.ends_with("+xml") {
        return Ok(Body::Json(super::xml::parse(bytes).map_err(BodyError)?));
    }
    Ok(Body::Raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queries_are_read_as_qs_reads_them() {
        let q = query(Some("x=1&x=2&y[z]=3&list[]=a&list[]=b&plain=%20ok"));
        assert_eq!(
            Value::Object(q),
            json!({"x": ["1", "2"], "y": {"z": "3"}, "list": ["a", "b"], "plain": " ok"})
        );
    }

    #[test]
    fn form_bodies_keep_brackets_in_keys() {
        assert_eq!(
            Value::Object(form(b"a=1&a=2&b[c]=3")),
            json!({"a": ["1", "2"], "b[c]": "3"})
        );
    }

    #[test]
    fn bodies_follow_their_content_type() {
        let json = |b: Body| match b {
            Body::Json(v) => v,
            Body::Raw => Value::Null,
        };
        assert_eq!(
            json(body(Some("text/plain"), b"hi").ok().expect("text")),
            json!("hi")
        );
        assert_eq!(
            json(
                body(Some("application/json; charset=utf-8"), b"{\"a\":1}")
                    .ok()
                    .expect("json")
            ),
            json!({"a": 1})
        );
        assert!(body(Some("application/json"), b"{bad").is_err());
        assert!(matches!(
            body(Some("application/octet-stream"), b"\x00"),
            Ok(Body::Raw)
        ));
        assert_eq!(json(body(None, b"").ok().expect("empty")), json!({}));
    }
}
