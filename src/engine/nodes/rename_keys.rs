//! Rename Keys: renames fields (dotted paths allowed), then renames every key matching a
//! regular expression, down to a depth.
//!
//! The expressions are JavaScript's; this server runs them with Rust's `regex`, which covers
//! the usual syntax but not look-around or back-references (such a pattern fails the item with
//! the reason). Replacements follow JavaScript's `$1`, `$<name>`, `$&` and `$$`.

use std::sync::Arc;

use async_trait::async_trait;
use regex::{Captures, Regex, RegexBuilder};
use serde::Deserialize;
use serde_json::Value;

use super::{fields, transform, Registry};
use crate::engine::data::{Item, JsonObject};
use crate::engine::node::{from_param, NodeError, NodeRun, NodeType, Outcome};

struct RenameKeys;

/// One entry of "Keys".
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Rename {
    pub current_key: String,
    pub new_key: String,
}

/// One regular-expression replacement.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Replacement {
    pub search_regex: String,
    pub replace_regex: String,
    pub options: ReplacementOptions,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplacementOptions {
    pub case_insensitive: bool,
    /// How deep to rename: 0 is the top level only; negative is unlimited.
    pub depth: i64,
}

impl Default for ReplacementOptions {
    fn default() -> Self {
        ReplacementOptions {
            case_insensitive: false,
            depth: -1,
        }
    }
}

#[async_trait]
impl NodeType for RenameKeys {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let items = run.per_item(|i, item| {
            let renames: Vec<Rename> = list_param(run, "keys.key", i)?;
            let replacements: Vec<Replacement> =
                list_param(run, "additionalOptions.regexReplacement.replacements", i)?;
            Ok(vec![rename_item(item, i, &renames, &replacements)?])
        })?;
        Ok(Outcome::single(items))
    }
}

fn list_param<T: serde::de::DeserializeOwned>(
    run: &NodeRun<'_>,
    path: &str,
    i: usize,
) -> Result<Vec<T>, NodeError> {
    match run.param_value(path, i)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => from_param(path, value),
    }
}

/// The item with its keys renamed, paired with input item `index`.
pub fn rename_item(
    item: &Item,
    index: usize,
    renames: &[Rename],
    replacements: &[Replacement],
) -> Result<Item, NodeError> {
    let mut json = item.json.clone();
    for rename in renames {
        let (from, to) = (rename.current_key.as_str(), rename.new_key.as_str());
        if from.is_empty() || to.is_empty() || from == to {
            continue;
        }
        // Values are read from the input item, so one rename never feeds the next.
        let Some(value) = transform::get(&item.json, from, true).cloned() else {
            continue;
        };
        fields::set(&mut json, to, value, true);
        if json.shift_remove(from).is_none() {
            fields::unset(&mut json, from, true);
        }
    }
    for replacement in replacements {
        let regex = RegexBuilder::new(&replacement.search_regex)
            .case_insensitive(replacement.options.case_insensitive)
            .build()
            .map_err(|e| {
                NodeError::operation(format!(
                    "Invalid regular expression: /{}/: {}",
                    replacement.search_regex,
                    e.to_string().lines().last().unwrap_or_default().trim()
                ))
            })?;
        rename_matching(
            &mut json,
            &regex,
            &replacement.replace_regex,
            replacement.options.depth,
        );
    }
    let mut out = Item::paired(json, index);
    out.binary = item.binary.clone();
    Ok(out)
}

/// Renames the keys of `object` matching `regex` (children first), as n8n walks them: a key
/// renamed moves to the end; a key renamed onto an existing one replaces its value.
fn rename_matching(object: &mut JsonObject, regex: &Regex, replace: &str, depth: i64) {
    let keys: Vec<String> = object.keys().cloned().collect();
    for key in keys {
        let Some(value) = object.get_mut(&key) else {
            continue;
        };
        if depth != 0 {
            descend(value, regex, replace, depth - 1);
        }
        let Some(found) = regex.captures(&key) else {
            continue;
        };
        let new_key = js_replace_first(&key, &found, replace);
        if new_key != key {
            if let Some(value) = object.shift_remove(&key) {
                object.insert(new_key, value);
            }
        }
    }
}

fn descend(value: &mut Value, regex: &Regex, replace: &str, depth: i64) {
    match value {
        Value::Object(map) => rename_matching(map, regex, replace, depth),
        Value::Array(list) if depth != 0 => {
            for entry in list {
                descend(entry, regex, replace, depth - 1);
            }
        }
        _ => {}
    }
}

/// `text.replace(regex, replacement)` for the first match `found`, with JavaScript's
/// replacement patterns.
fn js_replace_first(text: &str, found: &Captures<'_>, replacement: &str) -> String {
    let whole = found.get(0).map_or(0..0, |m| m.range());
    let mut out = String::from(&text[..whole.start]);
    let groups = found.len() - 1;
    let chars: Vec<char> = replacement.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' || i + 1 >= chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let next = chars[i + 1];
        match next {
            '$' => {
                out.push('$');
                i += 2;
            }
            '&' => {
                out.push_str(&text[whole.clone()]);
                i += 2;
            }
            '`' => {
                out.push_str(&text[..whole.start]);
                i += 2;
            }
            '\'' => {
                out.push_str(&text[whole.end..]);
                i += 2;
            }
            '<' => match chars[i + 2..].iter().position(|&c| c == '>') {
                Some(end) => {
                    let name: String = chars[i + 2..i + 2 + end].iter().collect();
                    out.push_str(found.name(&name).map_or("", |m| m.as_str()));
                    i += 3 + end;
                }
                None => {
                    out.push('$');
                    i += 1;
                }
            },
            d if d.is_ascii_digit() => {
                let one = d.to_digit(10).unwrap_or(0) as usize;
                let two = chars
                    .get(i + 2)
                    .and_then(|c| c.to_digit(10))
                    .map(|e| one * 10 + e as usize);
                match two {
                    Some(n) if n >= 1 && n <= groups => {
                        out.push_str(found.get(n).map_or("", |m| m.as_str()));
                        i += 3;
                    }
                    _ if one >= 1 && one <= groups => {
                        out.push_str(found.get(one).map_or("", |m| m.as_str()));
                        i += 2;
                    }
                    _ => {
                        out.push('$');
                        i += 1;
                    }
                }
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    out.push_str(&text[whole.end..]);
    out
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.renameKeys", &[1.0], Arc::new(RenameKeys));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> Item {
        Item::new(value.as_object().expect("object").clone())
    }

    fn rename(from: &str, to: &str) -> Rename {
        Rename {
            current_key: from.into(),
            new_key: to.into(),
        }
    }

    fn replacement(search: &str, replace: &str, depth: i64) -> Replacement {
        Replacement {
            search_regex: search.into(),
            replace_regex: replace.into(),
            options: ReplacementOptions {
                case_insensitive: false,
                depth,
            },
        }
    }

    #[test]
    fn keys_are_renamed_from_the_input_item() {
        let input = item(json!({"a": 1, "b": 2, "deep": {"x": 3}}));
        let out = rename_item(
            &input,
            4,
            &[
                rename("a", "b"),
                rename("b", "c"),
                rename("deep.x", "flat.y"),
                rename("nope", "z"),
            ],
            &[],
        )
        .expect("rename");
        assert_eq!(
            Value::Object(out.json.clone()),
            json!({"deep": {}, "c": 2, "flat": {"y": 3}})
        );
        assert_eq!(out.lineage()[0].item, 4);
    }

    #[test]
    fn regex_renames_nested_keys_down_to_a_depth() {
        let input =
            item(json!({"first_name": "A", "list": [{"last_name": "B"}], "meta": {"x_name": 1}}));
        let out = rename_item(&input, 0, &[], &[replacement("(\\w+)_name", "$1Name", -1)])
            .expect("rename");
        assert_eq!(
            Value::Object(out.json),
            json!({"list": [{"lastName": "B"}], "meta": {"xName": 1}, "firstName": "A"})
        );
        let out = rename_item(&input, 0, &[], &[replacement("_name$", "", 0)]).expect("rename");
        assert_eq!(
            Value::Object(out.json),
            json!({"list": [{"last_name": "B"}], "meta": {"x_name": 1}, "first": "A"})
        );
    }

    #[test]
    fn replacement_patterns_follow_javascript() {
        let regex = Regex::new("(b)(?<rest>c)").expect("regex");
        let found = regex.captures("abcd").expect("match");
        assert_eq!(
            js_replace_first("abcd", &found, "[$1|$<rest>|$&|$$|$9]"),
            "a[b|c|bc|$|$9]d"
        );
        let error = rename_item(&item(json!({"a": 1})), 0, &[], &[replacement("(", "", -1)])
            .expect_err("invalid");
        assert!(error.message.starts_with("Invalid regular expression: /(/"));
    }
}
