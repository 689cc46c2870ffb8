//! The fast path: about four in five `{{ }}` blocks of real workflows are plain property paths
//! into the current item (`$json.a.b`, `$json["x y"][0]`). Those are answered here without
//! JavaScript whenever the answer is certain; anything else (a missing key, which JavaScript
//! might answer from a prototype or an extension, `.length`, numbers JavaScript would print
//! differently) goes to the JavaScript side.

use serde_json::Value;

/// One step of a path.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The value of `code` when it is a plain `$json` path that resolves to an existing value.
pub(crate) fn lookup<'v>(
    code: &str,
    json: &'v serde_json::Map<String, Value>,
) -> Option<&'v Value> {
    let steps = parse(code.trim())?;
    let mut steps = steps.into_iter();
    let mut current: &Value = match steps.next() {
        None => return None, // `$json` alone is an object: cheap for JavaScript too, keep one rule.
        Some(Step::Key(key)) => json.get(key)?,
        Some(Step::Index(_)) => return None,
    };
    for step in steps {
        current = match (step, current) {
            (Step::Key(key), Value::Object(map)) => map.get(key)?,
            (Step::Index(i), Value::Array(list)) => list.get(i)?,
            (Step::Index(i), Value::Object(map)) => map.get(&i.to_string())?,
            _ => return None,
        };
    }
    Some(current)
}

/// `$json` followed by `.name`, `["name"]`, `['name']` or `[0]` steps.
fn parse(code: &str) -> Option<Vec<Step<'_>>> {
    // n8n refuses these names whatever the data holds; the JavaScript side says so.
    if ["constructor", "__proto__", "prototype"]
        .iter()
        .any(|name| code.contains(name))
    {
        return None;
    }
    let mut rest = code.strip_prefix("$json")?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            steps.push(Step::Key(name));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let inner = &r[..close];
            steps.push(bracket(inner)?);
            rest = &r[close + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

fn bracket(inner: &str) -> Option<Step<'_>> {
    for quote in ['"', '\''] {
        if let Some(s) = inner
            .strip_prefix(quote)
            .and_then(|s| s.strip_suffix(quote))
        {
            // Escapes and the quote itself inside the key are JavaScript's business.
            if s.contains(['\\', '"', '\'']) {
                return None;
            }
            return Some(Step::Key(s));
        }
    }
    if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) && inner.len() < 10 {
        return inner.parse().ok().map(Step::Index);
    }
    None
}

/// How JavaScript writes `value` inside text, when that is certain without JavaScript:
/// strings, booleans and numbers JavaScript prints the way Rust does.
pub(crate) fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return (i.unsigned_abs() < (1 << 53)).then(|| i.to_string());
            }
            let f = n.as_f64()?;
            // Between 1e-6 and 1e21 both print the shortest round-trip digits without an
            // exponent; outside, JavaScript switches to `1e+21` / `1e-7` forms.
            (f.is_finite() && f.abs() >= 1e-6 && f.abs() < 1e21).then(|| format!("{f}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item() -> serde_json::Map<String, Value> {
        json!({"a": {"b": [10, {"c": "x"}]}, "x y": true, "n": 0.5})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn plain_paths_resolve_without_javascript() {
        let item = item();
        assert_eq!(lookup("$json.a.b[0]", &item), Some(&json!(10)));
        assert_eq!(lookup(" $json[\"a\"].b[1]['c'] ", &item), Some(&json!("x")));
        assert_eq!(lookup("$json[\"x y\"]", &item), Some(&json!(true)));
    }

    #[test]
    fn anything_uncertain_goes_to_javascript() {
        let item = item();
        for code in [
            "$json",
            "$json.missing",
            "$json.a.b.length",
            "$json.a.b[5]",
            "$json.a.toString",
            "$json.n.toFixed(1)",
            "$json.a?.b",
            "$json[\"a\\\"b\"]",
            "$json.a + 1",
            "$jsonx",
            "$json.constructor",
            "$json[\"__proto__\"]",
        ] {
            assert_eq!(lookup(code, &item), None, "{code}");
        }
    }

    #[test]
    fn text_forms_match_javascript_where_certain() {
        assert_eq!(as_text(&json!(3)).as_deref(), Some("3"));
        assert_eq!(as_text(&json!(0.1)).as_deref(), Some("0.1"));
        assert_eq!(as_text(&json!(1e21)), None);
        assert_eq!(as_text(&json!(1e-7)), None);
        assert_eq!(as_text(&json!(false)).as_deref(), Some("false"));
        assert_eq!(as_text(&json!(null)), None);
    }
}
