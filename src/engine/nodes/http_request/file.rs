//! A file answer as an item's binary entry, in n8n's shape (`mimeType`, `fileType`,
//! `fileExtension`, `fileName`, `fileSize`, `bytes`), with the data kept inline as base64: this
//! server keeps binary data in the items, where n8n 2.x keeps a reference to its binary store.

use base64::Engine as _;
use reqwest::header::CONTENT_DISPOSITION;
use serde_json::{json, Map, Value};

use super::response::Answer;

/// A file answer as an item's binary entry, in n8n's shape with the data kept inline as
/// base64 (this server keeps binary data in the items).
pub fn binary_entry(answer: &Answer) -> Value {
    let mime_type = answer
        .content_type
        .split(';')
        .next()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or("text/plain")
        .to_owned();
    let file_name = disposition_file_name(&answer.headers).or_else(|| {
        answer
            .url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    });
    let extension = file_name
        .as_deref()
        .and_then(|n| n.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()))
        .or_else(|| mime_type.split('/').nth(1).map(|s| s.to_owned()));
    let mut entry = json!({
        "mimeType": mime_type,
        "fileType": file_type(&mime_type),
        "data": base64::engine::general_purpose::STANDARD.encode(&answer.body),
        "fileSize": human_size(answer.body.len()),
        "bytes": answer.body.len(),
    });
    if let Some(extension) = extension {
        entry["fileExtension"] = json!(extension);
    }
    if let Some(name) = file_name {
        entry["fileName"] = json!(name);
    }
    entry
}

fn disposition_file_name(headers: &Map<String, Value>) -> Option<String> {
    let value = headers.get(CONTENT_DISPOSITION.as_str())?.as_str()?;
    value.split(';').map(str::trim).find_map(|part| {
        let name = part.strip_prefix("filename=")?;
        Some(name.trim_matches('"').to_owned()).filter(|n| !n.is_empty())
    })
}

fn file_type(mime_type: &str) -> &'static str {
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
fn human_size(bytes: usize) -> String {
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
}
