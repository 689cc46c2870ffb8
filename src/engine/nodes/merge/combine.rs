//! The ways Merge puts items together: clash handling between fields of several inputs
//! (prefer the last or a chosen input, add a suffix, deep or shallow merge, keep non-empty
//! values), matching items by fields, and lineage of merged items.

use serde_json::{Map, Value};

use crate::engine::data::{Item, JsonObject, PairedItem, PairedItems};

/// `options.clashHandling.values`: what wins when inputs have the same field.
#[derive(Clone, Debug, Default)]
pub struct Clash {
    /// `preferLast`, `preferInput1`, `preferInput2`..., `addSuffix`, or unset.
    pub resolve: Option<String>,
    pub shallow: bool,
    /// "Minimize empty fields": an empty value never replaces a filled one.
    pub override_empty: bool,
}

impl Clash {
    pub fn read(value: Option<&Value>) -> Clash {
        let value = value.unwrap_or(&Value::Null);
        Clash {
            resolve: value
                .get("resolveClash")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            shallow: value.get("mergeMode").and_then(Value::as_str) == Some("shallowMerge"),
            override_empty: value
                .get("overrideEmpty")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }

    pub fn is(&self, resolve: &str) -> bool {
        self.resolve.as_deref() == Some(resolve)
    }

    /// Merges `sources` into a copy of `target`, later sources winning (lodash's `merge`, or
    /// `assign` for a shallow merge).
    pub fn merge(&self, target: &JsonObject, sources: &[&JsonObject]) -> JsonObject {
        let mut out = target.clone();
        for source in sources {
            for (key, value) in source.iter() {
                let empty = matches!(value, Value::Null) || value.as_str() == Some("");
                if self.override_empty && empty && out.contains_key(key) {
                    continue;
                }
                match (self.shallow, out.get_mut(key)) {
                    (false, Some(existing)) => deep_merge(existing, value, self.override_empty),
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        out
    }
}

/// lodash's `merge` of one value into another: objects and lists merge key by key (lists by
/// position), anything else replaces.
fn deep_merge(target: &mut Value, source: &Value, keep_filled: bool) {
    match (target, source) {
        (Value::Object(t), Value::Object(s)) => {
            for (key, value) in s {
                let empty = matches!(value, Value::Null) || value.as_str() == Some("");
                if keep_filled && empty && t.contains_key(key) {
                    continue;
                }
                match t.get_mut(key) {
                    Some(existing) => deep_merge(existing, value, keep_filled),
                    None => {
                        t.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(s)) => {
            for (index, value) in s.iter().enumerate() {
                match t.get_mut(index) {
                    Some(existing) => deep_merge(existing, value, keep_filled),
                    None => t.push(value.clone()),
                }
            }
        }
        (target, source) => *target = source.clone(),
    }
}

/// The binary data of several items, later ones winning per key.
pub fn merge_binary(items: &[&Item]) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    for item in items {
        if let Some(binary) = &item.binary {
            out.extend(binary.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// An item made of several, linked to all of them.
pub fn merged_item(json: JsonObject, parts: &[&Item]) -> Item {
    let links: Vec<PairedItem> = parts.iter().flat_map(|i| i.lineage()).collect();
    Item {
        json,
        binary: merge_binary(parts),
        paired_item: Some(PairedItems::Many(links)),
        error: None,
    }
}

/// Every item with `_<suffix>` added to each top-level field name.
pub fn add_suffix(items: &[Item], suffix: &str) -> Vec<Item> {
    items
        .iter()
        .map(|item| Item {
            json: item
                .json
                .iter()
                .map(|(k, v)| (format!("{k}_{suffix}"), v.clone()))
                .collect(),
            ..item.clone()
        })
        .collect()
}

/// A field of an item, by dotted path unless dot notation is off.
pub fn field<'a>(json: &'a JsonObject, path: &str, dots: bool) -> Option<&'a Value> {
    if !dots {
        return json.get(path);
    }
    // lodash's `get` takes a key that is the whole path first.
    if let Some(value) = json.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut current = json.get(parts.next()?)?;
    for part in parts {
        current = match current {
            Value::Object(map) => map.get(part)?,
            Value::Array(list) => list.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Whether two field values match: deep equality, or with `fuzzy` n8n's tolerant comparison
/// (`3` matches `"3"`, empty values match each other).
pub fn same_value(a: Option<&Value>, b: Option<&Value>, fuzzy: bool) -> bool {
    let equal = |x: &Value, y: &Value| match (x, y) {
        (Value::Number(m), Value::Number(n)) => m.as_f64() == n.as_f64(),
        _ => x == y,
    };
    if !fuzzy {
        return match (a, b) {
            (Some(x), Some(y)) => equal(x, y),
            (None, None) => true,
            _ => false,
        };
    }
    let falsy = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(list)) => list.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
    };
    match (a, b) {
        (Some(x), Some(y))
            if std::mem::discriminant(x) == std::mem::discriminant(y) && !x.is_null() =>
        {
            equal(x, y)
        }
        _ if falsy(a) && falsy(b) => true,
        (Some(Value::Number(n)), Some(Value::String(s)))
        | (Some(Value::String(s)), Some(Value::Number(n))) => {
            crate::engine::nodes::types::number_text(n) == *s
        }
        (Some(Value::String(s)), Some(other)) | (Some(other), Some(Value::String(s)))
            if other.is_object() || other.is_array() =>
        {
            serde_json::from_str::<Value>(s).is_ok_and(|parsed| parsed == *other)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> JsonObject {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_deep_merge_merges_objects_and_lists_by_position_and_a_shallow_one_replaces() {
        let target = object(json!({"a": {"x": 1, "y": 2}, "l": [1, 2, 3], "keep": "k"}));
        let source = object(json!({"a": {"y": 9}, "l": [7], "keep": null}));
        let deep = Clash::default().merge(&target, &[&source]);
        assert_eq!(
            Value::Object(deep),
            json!({"a": {"x": 1, "y": 9}, "l": [7, 2, 3], "keep": null})
        );
        let shallow = Clash {
            shallow: true,
            ..Clash::default()
        };
        assert_eq!(
            Value::Object(shallow.merge(&target, &[&source])),
            json!({"a": {"y": 9}, "l": [7], "keep": null})
        );
        let keep_filled = Clash {
            override_empty: true,
            ..Clash::default()
        };
        assert_eq!(
            keep_filled.merge(&target, &[&source]).get("keep"),
            Some(&json!("k"))
        );
    }

    #[test]
    fn fuzzy_matching_tolerates_type_differences_and_strict_matching_does_not() {
        let (three, text) = (json!(3), json!("3"));
        assert!(!same_value(Some(&three), Some(&text), false));
        assert!(same_value(Some(&three), Some(&text), true));
        assert!(same_value(Some(&json!("")), None, true));
        assert!(same_value(
            Some(&json!({"a": 1})),
            Some(&json!("{\"a\":1}")),
            true
        ));
        assert!(!same_value(Some(&json!(4)), Some(&text), true));
        assert!(same_value(Some(&json!(3.0)), Some(&three), false));
    }

    #[test]
    fn fields_are_read_by_path_unless_dot_notation_is_off() {
        let json = object(json!({"a": {"b": [10, 20]}, "a.b": "literal"}));
        assert_eq!(field(&json, "a.b", true), Some(&json!("literal")));
        let nested = object(json!({"a": {"b": [10, 20]}}));
        assert_eq!(field(&nested, "a.b.1", true), Some(&json!(20)));
        assert_eq!(field(&nested, "a.b", false), None);
    }
}
