//! A file answer as an item's binary entry, in n8n's shape (`mimeType`, `fileType`,
//! `fileExtension`, `fileName`, `fileSize`, `bytes`). The bytes are inline here; the run
//! moves them into the binary data store as soon as the node's output is complete.

use base64::Engine as _;
use reqwest::header::CONTENT_DISPOSITION;
use serde_json::{Map, Value};

use super::response::Answer;
use crate::engine::binary::{entry, FileMeta};

/// A file answer as an item's binary entry, with its bytes inline as base64.
pub fn binary_entry(answer: &Answer) -> Value {
    let mime_type = answer
        .content_type
        .split(';')
        .next()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or("text/plain");
    let file_name = disposition_file_name(&answer.headers).or_else(|| {
        answer
            .url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    });
    let data = base64::engine::general_purpose::STANDARD.encode(&answer.body);
    let out = entry(
        &FileMeta::new(Some(mime_type), file_name),
        answer.body.len(),
        Value::String(data),
        None,
    );
    Value::Object(out)
}

fn disposition_file_name(headers: &Map<String, Value>) -> Option<String> {
    let value = headers.get(CONTENT_DISPOSITION.as_str())?.as_str()?;
    value.split(';').map(str::trim).find_map(|part| {
        let name = part.strip_prefix("filename=")?;
        Some(name.trim_matches('"').to_owned()).filter(|n| !n.is_empty())
    })
}
