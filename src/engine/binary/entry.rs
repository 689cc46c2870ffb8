//! An item's binary entry in n8n's shape: `mimeType`, `fileType`, `fileExtension`,
//! `fileName`, `fileSize` (as n8n prints sizes) and `bytes`.

use serde_json::{Map, Value};

/// What is known of a file besides its bytes.
#[derive(Clone, Debug, Default)]
pub struct FileMeta {
    pub mime_type: String,
    pub file_name: Option<String>,
}

impl FileMeta {
    pub fn new(mime_type: Option<&str>, file_name: Option<String>) -> FileMeta {
        let mime_type = mime_type
            .and_then(|m| m.split(';').next())
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or("application/octet-stream")
            .to_owned();
        FileMeta {
            mime_type,
            file_name: file_name.filter(|n| !n.is_empty()),
        }
    }

    /// The metadata an inline entry already carries.
    pub fn of_entry(entry: &Value) -> FileMeta {
        let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
        FileMeta {
            mime_type: text("mimeType").unwrap_or_else(|| "application/octet-stream".into()),
            file_name: text("fileName"),
        }
    }
}

/// The entry of a file of `size` bytes, without its data or reference.
pub fn entry(meta: &FileMeta, size: usize) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("mimeType".into(), Value::String(meta.mime_type.clone()));
    out.insert(
        "fileType".into(),
        Value::String(file_type(&meta.mime_type).into()),
    );
    if let Some(extension) = file_extension(meta) {
        out.insert("fileExtension".into(), Value::String(extension));
    }
    if let Some(name) = &meta.file_name {
        out.insert("fileName".into(), Value::String(name.clone()));
    }
    out.insert("fileSize".into(), Value::String(human_size(size)));
    out.insert("bytes".into(), Value::from(size));
    out
}

/// The file name's extension, else the MIME subtype's (`image/png` → `png`).
pub fn file_extension(meta: &FileMeta) -> Option<String> {
    meta.file_name
        .as_deref()
        .and_then(|n| n.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()))
        .filter(|e| !e.is_empty())
        .or_else(|| {
            meta.mime_type
                .split('/')
                .nth(1)
                .map(|s| s.split('+').next().unwrap_or(s).to_owned())
        })
}

/// n8n's coarse kind of a file, from its MIME type.
pub fn file_type(mime_type: &str) -> &'static str {
    match mime_type.split('/').next().unwrap_or_default() {
        "image" => "image",
        "audio" => "audio",
        "video" => "video",
        "text" => "text",
        _ if mime_type == "application/json" => "json",
        _ if mime_type == "application/pdf" => "pdf",
        _ => "application",
    }
}

/// A size as n8n shows it (`13 B`, `1.5 kB`).
pub fn human_size(bytes: usize) -> String {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < UNITS.len() {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        let text = format!("{size:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!(
            "{} {}",
            &text[..text.len().min(4)].trim_end_matches('.'),
            UNITS[unit]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_as_n8n_shows_them() {
        assert_eq!(human_size(13), "13 B");
        assert_eq!(human_size(1500), "1.5 kB");
        assert_eq!(human_size(2_000_000), "2 MB");
    }

    #[test]
    fn an_entry_names_its_kind_and_extension() {
        let meta = FileMeta::new(Some("image/png; q=1"), Some("a.PNG".into()));
        let e = entry(&meta, 12);
        assert_eq!(e["mimeType"], "image/png");
        assert_eq!(e["fileType"], "image");
        assert_eq!(e["fileExtension"], "png");
        assert_eq!(e["fileSize"], "12 B");
    }
}
