//! The fast path: about four in five `{{ }}` blocks of real workflows are plain property paths
//! into an item: the current one (`$json.a.b`, `$json["x y"][0]`), the item of an earlier
//! node paired with it (`$('Node').item.json.f`) or the item at the same index of a node
//! connected upstream (`$node["Node"].json.f`). Those are answered here without JavaScript
//! whenever the answer is certain; anything else (a missing key, which JavaScript might answer
//! from a prototype or an extension, `.length`, a broken pairing whose error JavaScript words,
//! numbers JavaScript would print or round differently) goes to the JavaScript side, which
//! gives the same answer more slowly. A property test (`tests/properties.rs`) holds both
//! sides to the same results.

use serde_json::Value;

use super::{lineage, scope, Context};
use crate::engine::data::JsonObject;

/// One step of a path.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Whose `json` a path starts from.
#[derive(Debug, PartialEq)]
enum Root<'a> {
    /// `$json`: the current item.
    Current,
    /// `$('Name').item.json`: the item of `Name` paired with the current one.
    Paired(&'a str),
    /// `$node["Name"].json`: the item of `Name` at the current index.
    SameIndex(&'a str),
}

/// The value of `code` when it is a plain path that resolves to an existing value that
/// JavaScript would hand back unchanged.
pub(crate) fn lookup<'v>(code: &str, ctx: &'v Context<'_>) -> Option<&'v Value> {
    let (root, steps) = parse(code.trim())?;
    // The root object alone is cheap for JavaScript too: keep one rule for it.
    if steps.is_empty() {
        return None;
    }
    let json = root_item(&root, ctx)?;
    let found = follow(json, &steps)?;
    same_in_javascript(found, 0).then_some(found)
}

/// The `json` of the item a root names, when reaching it cannot fail.
fn root_item<'v>(root: &Root<'_>, ctx: &'v Context<'_>) -> Option<&'v JsonObject> {
    match *root {
        Root::Current => ctx.input.get(ctx.item_index).map(|item| &item.json),
        Root::Paired(name) => {
            ctx.workflow.node(name)?;
            ctx.run_data.get(name)?;
            if !ctx.workflow.ancestors(&ctx.node.name).contains(&name) {
                return None;
            }
            let item = lineage::paired_item(ctx, name, ctx.item_index, "item").ok()??;
            Some(&item.json)
        }
        Root::SameIndex(name) => {
            ctx.workflow.node(name)?;
            let branch = scope::connection_output(ctx, name)?;
            let main = &ctx.run_data.get(name)?.last()?.data.as_ref()?.main;
            main.first()?.as_ref()?;
            let items = main.get(branch)?.as_ref()?;
            items.get(ctx.item_index).map(|item| &item.json)
        }
    }
}

fn follow<'v>(json: &'v JsonObject, steps: &[Step<'_>]) -> Option<&'v Value> {
    let mut steps = steps.iter();
    let mut current: &Value = match steps.next()? {
        Step::Key(key) => json.get(*key)?,
        Step::Index(i) => json.get(&i.to_string())?,
    };
    for step in steps {
        current = match (step, current) {
            (Step::Key(key), Value::Object(map)) => map.get(*key)?,
            (Step::Index(i), Value::Array(list)) => list.get(*i)?,
            (Step::Index(i), Value::Object(map)) => map.get(&i.to_string())?,
            _ => return None,
        };
    }
    Some(current)
}

/// Whether JavaScript gives `value` back as it is: integers beyond 2^53 lose digits there,
/// `-0` and `2.0` come back as `0` and `2`, and objects list integer-like keys first, in
/// numeric order.
/// Deep or large values are left to JavaScript rather than walked here.
fn same_in_javascript(value: &Value, depth: usize) -> bool {
    const MAX_DEPTH: usize = 32;
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.unsigned_abs() <= 1 << 53
            } else if let Some(u) = n.as_u64() {
                u <= 1 << 53
            } else {
                // JavaScript has no `2.0`: a whole float comes back as the integer `2`.
                n.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() != 0.0)
            }
        }
        Value::Array(list) => {
            depth < MAX_DEPTH && list.iter().all(|v| same_in_javascript(v, depth + 1))
        }
        Value::Object(map) => {
            depth < MAX_DEPTH
                && map.iter().all(|(key, v)| {
                    !is_array_index(key) && key != "__proto__" && same_in_javascript(v, depth + 1)
                })
        }
        Value::Null | Value::Bool(_) | Value::String(_) => true,
    }
}

/// A key JavaScript orders before the others (a canonical array index).
fn is_array_index(key: &str) -> bool {
    !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_digit())
        && (key == "0" || !key.starts_with('0'))
}

/// A root followed by `.name`, `["name"]`, `['name']` or `[0]` steps.
fn parse(code: &str) -> Option<(Root<'_>, Vec<Step<'_>>)> {
    // n8n refuses these names whatever the data holds; the JavaScript side says so.
    if ["constructor", "__proto__", "prototype"]
        .iter()
        .any(|name| code.contains(name))
    {
        return None;
    }
    let (root, mut rest) = parse_root(code)?;
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
    Some((root, steps))
}

/// `$json`, `$('Name').item.json` or `$node["Name"].json` (also `$node.Name.json`), and
/// what follows it.
fn parse_root(code: &str) -> Option<(Root<'_>, &str)> {
    if let Some(rest) = code.strip_prefix("$json") {
        return Some((Root::Current, rest));
    }
    if let Some(rest) = code.strip_prefix("$(") {
        let (name, rest) = quoted(rest)?;
        let rest = rest.strip_prefix(").item.json")?;
        return Some((Root::Paired(name), rest));
    }
    let rest = code.strip_prefix("$node")?;
    let (name, rest) = if let Some(r) = rest.strip_prefix('[') {
        let (name, r) = quoted(r)?;
        (name, r.strip_prefix(']')?)
    } else {
        let r = rest.strip_prefix('.')?;
        let end = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(r.len());
        if end == 0 || r.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        (&r[..end], &r[end..])
    };
    Some((Root::SameIndex(name), rest.strip_prefix(".json")?))
}

/// A name in single or double quotes at the start of `text` without escapes or quotes
/// inside, and the text after the closing quote.
fn quoted(text: &str) -> Option<(&str, &str)> {
    let quote = text.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let body = &text[1..];
    let end = body.find(quote)?;
    let name = &body[..end];
    if name.contains(['\\', '"', '\'', '`']) {
        return None;
    }
    Some((name, &body[end + 1..]))
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

    fn item() -> JsonObject {
        json!({"a": {"b": [10, {"c": "x"}]}, "x y": true, "n": 0.5, "0": "zero"})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    /// The value a `$json` path finds in `item()`, before the JavaScript-sameness check.
    fn find(code: &str) -> Option<Value> {
        let (root, steps) = parse(code.trim())?;
        assert_eq!(root, Root::Current);
        if steps.is_empty() {
            return None;
        }
        follow(&item(), &steps).cloned()
    }

    #[test]
    fn plain_paths_resolve_without_javascript() {
        assert_eq!(find("$json.a.b[0]"), Some(json!(10)));
        assert_eq!(find(" $json[\"a\"].b[1]['c'] "), Some(json!("x")));
        assert_eq!(find("$json[\"x y\"]"), Some(json!(true)));
        assert_eq!(find("$json[0]"), Some(json!("zero")));
    }

    #[test]
    fn anything_uncertain_goes_to_javascript() {
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
            assert_eq!(find(code), None, "{code}");
        }
    }

    #[test]
    fn other_nodes_items_are_named_by_literal_names_only() {
        assert_eq!(
            parse("$('Set A').item.json.x").map(|p| p.0),
            Some(Root::Paired("Set A"))
        );
        assert_eq!(
            parse("$node[\"Set A\"].json.x").map(|p| p.0),
            Some(Root::SameIndex("Set A"))
        );
        assert_eq!(
            parse("$node.Webhook.json.body").map(|p| p.0),
            Some(Root::SameIndex("Webhook"))
        );
        for code in [
            "$(name).item.json.x",
            "$('a' + b).item.json.x",
            "$('Set A').first().json.x",
            "$('Set A').item.binary",
            "$(`Set A`).item.json.x",
            "$('It\\'s').item.json.x",
            "$node[\"Set A\"].parameter.x",
            "$node[0].json.x",
        ] {
            assert_eq!(parse(code), None, "{code}");
        }
    }

    #[test]
    fn values_javascript_would_change_are_left_to_it() {
        assert!(same_in_javascript(&json!({"a": [1, 2.5, "x", null]}), 0));
        assert!(same_in_javascript(&json!(9_007_199_254_740_992_u64), 0));
        assert!(!same_in_javascript(&json!(9_007_199_254_740_993_u64), 0));
        assert!(!same_in_javascript(&json!(-9_007_199_254_740_993_i64), 0));
        assert!(!same_in_javascript(&json!(-0.0), 0));
        assert!(!same_in_javascript(&json!(2.0), 0));
        assert!(!same_in_javascript(&json!({"b": 1, "1": 2}), 0));
        assert!(same_in_javascript(&json!({"b": 1, "01": 2}), 0));
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
