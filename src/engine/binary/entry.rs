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

/// The entry of a file of `size` bytes whose `data` is its base64 text (inline) or the
/// store's mode, with the store's `id`; keys in n8n's order.
pub fn entry(meta: &FileMeta, size: usize, data: Value, id: Option<String>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("mimeType".into(), Value::String(meta.mime_type.clone()));
    if let Some(kind) = file_type(&meta.mime_type) {
        out.insert("fileType".into(), Value::String(kind.into()));
    }
    if let Some(extension) = file_extension(&meta.mime_type) {
        out.insert("fileExtension".into(), Value::String(extension.into()));
    }
    out.insert("data".into(), data);
    if let Some(name) = &meta.file_name {
        out.insert("fileName".into(), Value::String(name.clone()));
    }
    if let Some(id) = id {
        out.insert("id".into(), Value::String(id));
    }
    out.insert("fileSize".into(), Value::String(human_size(size)));
    out.insert("bytes".into(), Value::from(size));
    out
}

/// The usual extension of a MIME type, as n8n names it (from the MIME type, not from the
/// file's name: `report.bin` sent as `application/x-report` has none).
pub fn file_extension(mime_type: &str) -> Option<&'static str> {
    const KNOWN: &[(&str, &str)] = &[
        ("application/gzip", "gz"),
        ("application/javascript", "js"),
        ("application/json", "json"),
        ("application/msword", "doc"),
        ("application/octet-stream", "bin"),
        ("application/pdf", "pdf"),
        ("application/rtf", "rtf"),
        ("application/vnd.ms-excel", "xls"),
        ("application/vnd.ms-powerpoint", "ppt"),
        (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "pptx",
        ),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        ("application/x-7z-compressed", "7z"),
        ("application/x-tar", "tar"),
        ("application/xml", "xml"),
        ("application/zip", "zip"),
        ("audio/mpeg", "mp3"),
        ("audio/ogg", "oga"),
        ("audio/wav", "wav"),
        ("audio/webm", "weba"),
        ("image/bmp", "bmp"),
        ("image/gif", "gif"),
        ("image/jpeg", "jpeg"),
        ("image/png", "png"),
        ("image/svg+xml", "svg"),
        ("image/tiff", "tif"),
        ("image/webp", "webp"),
        ("text/calendar", "ics"),
        ("text/css", "css"),
        ("text/csv", "csv"),
        ("text/html", "html"),
        ("text/markdown", "md"),
        ("text/plain", "txt"),
        ("text/xml", "xml"),
        ("video/mp4", "mp4"),
        ("video/mpeg", "mpeg"),
        ("video/quicktime", "mov"),
        ("video/webm", "webm"),
    ];
    let mime = mime_type.to_ascii_lowercase();
    KNOWN.iter().find(|(m, _)| *m == mime).map(|(_, e)| *e)
}

/// n8n's coarse kind of a file, from its MIME type (none for most `application/*`).
pub fn file_type(mime_type: &str) -> Option<&'static str> {
    let m = mime_type;
    if m.starts_with("application/json") {
        Some("json")
    } else if m.starts_with("text/html") {
        Some("html")
    } else if m.starts_with("image/") {
        Some("image")
    } else if m.starts_with("audio/") {
        Some("audio")
    } else if m.starts_with("video/") {
        Some("video")
    } else if m.starts_with("text/") || m.starts_with("application/javascript") {
        Some("text")
    } else if m.starts_with("application/pdf") {
        Some("pdf")
    } else {
        None
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
    fn an_entry_names_its_kind_and_extension_from_the_mime_type() {
        let meta = FileMeta::new(Some("image/png; q=1"), Some("a.bin".into()));
        let e = entry(&meta, 12, Value::String("filesystem-v2".into()), None);
        assert_eq!(e["mimeType"], "image/png");
        assert_eq!(e["fileType"], "image");
        assert_eq!(e["fileExtension"], "png");
        assert_eq!(e["fileSize"], "12 B");
        let keys: Vec<&String> = e.keys().collect();
        assert_eq!(
            keys,
            [
                "mimeType",
                "fileType",
                "fileExtension",
                "data",
                "fileName",
                "fileSize",
                "bytes"
            ]
        );
        let unknown = entry(
            &FileMeta::new(Some("application/x-report"), None),
            1,
            Value::Null,
            None,
        );
        assert!(unknown.get("fileType").is_none() && unknown.get("fileExtension").is_none());
    }
}
