//! Reading n8n's export files: a file holding an array or one object, or a folder of such
//! files (as `--separate` writes them).

use std::path::Path;

use serde_json::{Map, Value};

use super::super::{Error, Result, FORMAT};
use crate::domain::time::{iso, parse_iso};

/// Largest input file read (n8n's `--all` export of a big instance, pinned data included).
const FILE_MAX: u64 = 256 * 1024 * 1024;

/// One object of an input file, with where it came from (for messages).
pub(super) struct Item {
    pub at: String,
    pub object: Map<String, Value>,
}

/// The objects of an n8n export: a file of an array or one object, or a folder of such files.
pub(super) fn read_items(path: &Path) -> Result<Vec<Item>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::file(path, e))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|e| Error::file(path, e))? {
            let entry = entry.map_err(|e| Error::file(path, e))?;
            let file = entry.path();
            if file.extension().is_some_and(|e| e == "json") && file.is_file() {
                files.push(file);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut items = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let size = std::fs::metadata(&file)
            .map_err(|e| Error::file(&file, e))?
            .len();
        if size > FILE_MAX {
            return Err(Error::Input(format!(
                "{name} is larger than {} MiB",
                FILE_MAX / 1024 / 1024
            )));
        }
        let bytes = std::fs::read(&file).map_err(|e| Error::file(&file, e))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Input(if e.is_eof() {
                format!(
                    "{name}: the file ends too early (line {}): it was cut short",
                    e.line()
                )
            } else {
                format!("{name} is not valid JSON: {e}")
            })
        })?;
        match value {
            Value::Array(values) => {
                for (i, value) in values.into_iter().enumerate() {
                    let Value::Object(object) = value else {
                        return Err(Error::Input(format!("{name}[{i}] must be an object")));
                    };
                    items.push(Item {
                        at: format!("{name}[{i}]"),
                        object,
                    });
                }
            }
            Value::Object(object) if object.get("format").and_then(Value::as_str) == Some(FORMAT) => {
                return Err(Error::Input(format!(
                    "{name} is a flowgate export, not n8n's: restore it with `flowgate import --input {name}`"
                )))
            }
            Value::Object(object) => items.push(Item { at: name, object }),
            _ => {
                return Err(Error::Input(format!(
                    "{name} must hold an array of objects or one object"
                )))
            }
        }
    }
    Ok(items)
}

/// An id as n8n writes it: a string, or a number in exports of old versions.
pub(super) fn id_of(object: &Map<String, Value>, key: &str) -> Option<String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The record's `createdAt` and `updatedAt` in n8n's export, as stored here; a missing
/// `updatedAt` is the creation time. `None` without a readable `createdAt` (the import time
/// stays).
pub(super) fn times_of(object: &Map<String, Value>) -> Option<(String, String)> {
    let read = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .and_then(parse_iso)
            .map(iso)
    };
    let created = read("createdAt")?;
    let updated = read("updatedAt").unwrap_or_else(|| created.clone());
    Some((created, updated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn times_are_read_as_stored_and_updated_defaults_to_created() {
        let both = object(json!({
            "createdAt": "2025-03-01T08:00:00.000Z",
            "updatedAt": "2025-03-02T09:30:00+02:00"
        }));
        assert_eq!(
            times_of(&both),
            Some((
                "2025-03-01T08:00:00.000Z".to_owned(),
                "2025-03-02T07:30:00.000Z".to_owned()
            ))
        );
        let created = object(json!({ "createdAt": "2025-03-01T08:00:00Z" }));
        assert_eq!(
            times_of(&created),
            Some((
                "2025-03-01T08:00:00.000Z".to_owned(),
                "2025-03-01T08:00:00.000Z".to_owned()
            ))
        );
        assert_eq!(times_of(&object(json!({ "createdAt": "yesterday" }))), None);
        assert_eq!(times_of(&object(json!({}))), None);
    }

    #[test]
    fn ids_are_strings_or_numbers() {
        let o = object(json!({ "a": "x1", "b": 7, "c": "", "d": true }));
        assert_eq!(id_of(&o, "a").as_deref(), Some("x1"));
        assert_eq!(id_of(&o, "b").as_deref(), Some("7"));
        assert_eq!(id_of(&o, "c"), None);
        assert_eq!(id_of(&o, "d"), None);
    }
}
