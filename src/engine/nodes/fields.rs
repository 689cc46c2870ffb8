//! Field paths into item JSON as n8n's nodes use them (lodash's `get`/`set`/`unset`):
//! `a.b.c`, `list[0].name`, `["key with spaces"]`. With dot notation off, the whole text is
//! one key.

use serde_json::{Map, Value};

/// One step of a path.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Splits a lodash path: `a.b[0]["c d"]`.
fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !current.is_empty() {
                    out.push(Step::Key(std::mem::take(&mut current)));
                }
            }
            '[' => {
                if !current.is_empty() {
                    out.push(Step::Key(std::mem::take(&mut current)));
                }
                let mut inner = String::new();
                let mut quote = None;
                for d in chars.by_ref() {
                    match (quote, d) {
                        (None, '"' | '\'') if inner.is_empty() => quote = Some(d),
                        (Some(q), d) if d == q => quote = None,
                        (None, ']') => break,
                        (_, d) => inner.push(d),
                    }
                }
                match inner.parse::<usize>() {
                    Ok(i) => out.push(Step::Index(i)),
                    Err(_) => out.push(Step::Key(inner)),
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() || out.is_empty() {
        out.push(Step::Key(current));
    }
    out
}

fn path_steps(path: &str, dot_notation: bool) -> Vec<Step> {
    if dot_notation {
        steps(path)
    } else {
        vec![Step::Key(path.to_owned())]
    }
}

/// The value at `path`, if any.
pub fn get<'a>(root: &'a Map<String, Value>, path: &str, dot_notation: bool) -> Option<&'a Value> {
    let steps = path_steps(path, dot_notation);
    let (first, rest) = steps.split_first()?;
    let mut current = match first {
        Step::Key(k) => root.get(k)?,
        Step::Index(i) => root.get(&i.to_string())?,
    };
    for step in rest {
        current = match (step, current) {
            (Step::Key(k), Value::Object(map)) => map.get(k)?,
            (Step::Index(i), Value::Array(list)) => list.get(*i)?,
            (Step::Index(i), Value::Object(map)) => map.get(&i.to_string())?,
            (Step::Key(k), Value::Array(list)) => list.get(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Sets `path` to `value`, creating objects (or lists, before an index) on the way, as
/// lodash's `set` does.
pub fn set(root: &mut Map<String, Value>, path: &str, value: Value, dot_notation: bool) {
    let steps = path_steps(path, dot_notation);
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    let key = match first {
        Step::Key(k) => k.clone(),
        Step::Index(i) => i.to_string(),
    };
    if rest.is_empty() {
        root.insert(key, value);
        return;
    }
    let slot = root.entry(key).or_insert(Value::Null);
    set_in(slot, rest, value);
}

fn set_in(slot: &mut Value, steps: &[Step], value: Value) {
    let (step, rest) = (&steps[0], &steps[1..]);
    if !slot.is_object() && !slot.is_array() {
        *slot = match step {
            Step::Index(_) => Value::Array(Vec::new()),
            Step::Key(_) => Value::Object(Map::new()),
        };
    }
    let child = match (step, slot) {
        (Step::Index(i), Value::Array(list)) => {
            if list.len() <= *i {
                list.resize(*i + 1, Value::Null);
            }
            &mut list[*i]
        }
        (Step::Index(i), Value::Object(map)) => map.entry(i.to_string()).or_insert(Value::Null),
        (Step::Key(k), Value::Object(map)) => map.entry(k.clone()).or_insert(Value::Null),
        (Step::Key(k), Value::Array(list)) => match k.parse::<usize>() {
            Ok(i) => {
                if list.len() <= i {
                    list.resize(i + 1, Value::Null);
                }
                &mut list[i]
            }
            Err(_) => return,
        },
        _ => return,
    };
    if rest.is_empty() {
        *child = value;
    } else {
        set_in(child, rest, value);
    }
}

/// Removes `path`; answers whether something was there. The other keys keep their order (as
/// JavaScript's `delete` leaves them).
pub fn unset(root: &mut Map<String, Value>, path: &str, dot_notation: bool) -> bool {
    let steps = path_steps(path, dot_notation);
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    if parents.is_empty() {
        return match last {
            Step::Key(k) => root.shift_remove(k).is_some(),
            Step::Index(i) => root.shift_remove(&i.to_string()).is_some(),
        };
    }
    let parent_path: Vec<Step> = parents.to_vec();
    let mut current: &mut Value = match &parent_path[0] {
        Step::Key(k) => match root.get_mut(k) {
            Some(v) => v,
            None => return false,
        },
        Step::Index(i) => match root.get_mut(&i.to_string()) {
            Some(v) => v,
            None => return false,
        },
    };
    for step in &parent_path[1..] {
        current = match (step, current) {
            (Step::Key(k), Value::Object(map)) => match map.get_mut(k) {
                Some(v) => v,
                None => return false,
            },
            (Step::Index(i), Value::Array(list)) => match list.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, current) {
        (Step::Key(k), Value::Object(map)) => map.shift_remove(k).is_some(),
        (Step::Index(i), Value::Object(map)) => map.shift_remove(&i.to_string()).is_some(),
        // lodash leaves a hole in a list; JSON has none, so the entry becomes null.
        (Step::Index(i), Value::Array(list)) if *i < list.len() => {
            list[*i] = Value::Null;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn paths_read_keys_indexes_and_quoted_keys() {
        let root = object(json!({"a": {"b": [10, {"c": 3}]}, "x y": 1, "a.b": "flat"}));
        assert_eq!(get(&root, "a.b[1].c", true), Some(&json!(3)));
        assert_eq!(get(&root, "a.b.0", true), Some(&json!(10)));
        assert_eq!(get(&root, "[\"x y\"]", true), Some(&json!(1)));
        assert_eq!(get(&root, "a.b", false), Some(&json!("flat")));
        assert_eq!(get(&root, "a.zz", true), None);
    }

    #[test]
    fn set_creates_what_is_missing_and_unset_removes() {
        let mut root = Map::new();
        set(&mut root, "a.b.c", json!(1), true);
        set(&mut root, "list[2]", json!("z"), true);
        set(&mut root, "plain.key", json!(true), false);
        assert_eq!(
            Value::Object(root.clone()),
            json!({"a": {"b": {"c": 1}}, "list": [null, null, "z"], "plain.key": true})
        );
        assert!(unset(&mut root, "a.b.c", true));
        assert!(!unset(&mut root, "a.q", true));
        assert_eq!(root["a"], json!({"b": {}}));
    }
}
