//! Uploads as n8n's Webhook node reads them: a body it does not parse is one file; a
//! `multipart/form-data` body: text fields into `body`
//! (a list when a name repeats), files into binary properties named after their field
//! (`files[]` → `files`; several files of one field → `files0`, `files1`; every file
//! `<binaryPropertyName><n>` when that option is set; a file without a field name `data<n>`).

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::engine::binary::{entry, FileMeta};

/// One part of the body.
#[derive(Debug)]
pub struct Part {
    pub name: String,
    /// Set for files (the part's `filename`).
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim().to_ascii_lowercase();
    if mime != "multipart/form-data" {
        return None;
    }
    params.find_map(|p| {
        let (key, value) = p.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Splits a body into its parts; a body that is not well-formed multipart is refused.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, String> {
    let malformed = || "Malformed multipart/form-data body".to_owned();
    let delimiter = format!("--{boundary}").into_bytes();
    let mut at = find(body, &delimiter, 0).ok_or_else(malformed)?;
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut parts = Vec::new();
    loop {
        at += delimiter.len();
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding, then the line break that ends the delimiter line.
        while body.get(at).is_some_and(|b| *b == b' ' || *b == b'\t') {
            at += 1;
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(malformed());
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at).ok_or_else(malformed)?;
        let head = String::from_utf8_lossy(&body[at..head_end]).into_owned();
        let content_start = head_end + 4;
        let content_end = find(body, &next_delimiter, content_start).ok_or_else(malformed)?;
        parts.push(part(&head, body[content_start..content_end].to_vec()));
        // `at` points at the delimiter after the part's trailing CRLF.
        at = content_end + 2;
    }
}

fn part(head: &str, data: Vec<u8>) -> Part {
    let mut name = String::new();
    let mut file_name = None;
    let mut content_type = None;
    for line in head.split("\r\n") {
        let Some((header, value)) = line.split_once(':') else {
            continue;
        };
        let header = header.trim().to_ascii_lowercase();
        if header == "content-type" {
            content_type = Some(value.trim().to_owned());
        } else if header == "content-disposition" {
            for param in value.split(';').skip(1) {
                let Some((key, v)) = param.trim().split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"').to_owned();
                match key.trim().to_ascii_lowercase().as_str() {
                    "name" => name = v,
                    "filename" => file_name = Some(v),
                    _ => {}
                }
            }
        }
    }
    Part {
        name,
        file_name,
        content_type,
        data,
    }
}

/// The item's `body` (text fields) and binary properties (files, inline) from the parts.
pub fn into_item_parts(
    parts: Vec<Part>,
    property_option: Option<&str>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut body = Map::new();
    // Files by field, in the order their fields first appear.
    let mut files: Vec<(String, Vec<Part>)> = Vec::new();
    for part in parts {
        if part.file_name.is_some() {
            match files.iter_mut().find(|(n, _)| *n == part.name) {
                Some((_, list)) => list.push(part),
                None => files.push((part.name.clone(), vec![part])),
            }
            continue;
        }
        let value = Value::String(String::from_utf8_lossy(&part.data).into_owned());
        match body.get_mut(&part.name) {
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => *existing = Value::Array(vec![existing.take(), value]),
            None => {
                body.insert(part.name, value);
            }
        }
    }
    let mut binary = Map::new();
    let mut count = 0;
    for (field, list) in files {
        let several = list.len() > 1;
        for (index, file) in list.into_iter().enumerate() {
            let base = field.strip_suffix("[]").unwrap_or(&field);
            let mut property = if base.trim().is_empty() {
                format!("data{count}")
            } else if several {
                format!("{base}{index}")
            } else {
                base.to_owned()
            };
            if let Some(option) = property_option.filter(|o| !o.is_empty()) {
                property = format!("{option}{count}");
            }
            let meta = FileMeta::new(file.content_type.as_deref(), file.file_name);
            let data = base64::engine::general_purpose::STANDARD.encode(&file.data);
            let value = entry(&meta, file.data.len(), Value::String(data), None);
            binary.insert(property, Value::Object(value));
            count += 1;
        }
    }
    (body, binary)
}

/// A body n8n does not parse as an inline binary entry (the run moves the bytes into the
/// binary data store once the Webhook node's output is complete). n8n names such a file after
/// the temporary file it was written to, a random UUID; so does this server.
pub fn raw_entry(bytes: &[u8], content_type: Option<&str>, named: bool) -> Value {
    let name = named.then(|| uuid::Uuid::new_v4().to_string());
    let meta = FileMeta::new(content_type, name);
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Value::Object(entry(&meta, bytes.len(), Value::String(data), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BODY: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nreport\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\na\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nb\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"pics[]\"; filename=\"1.png\"\r\nContent-Type: image/png\r\n\r\n\x01\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"pics[]\"; filename=\"2.png\"\r\nContent-Type: image/png\r\n\r\n\x02\r\n\
        --XyZ--\r\n";

    #[test]
    fn fields_and_files_are_named_as_n8n_names_them() {
        let boundary = boundary("multipart/form-data; boundary=XyZ").expect("boundary");
        let parts = parse(BODY.as_bytes(), &boundary).expect("parts");
        let (body, binary) = into_item_parts(parts, None);
        assert_eq!(
            Value::Object(body),
            json!({"title": "report", "tag": ["a", "b"]})
        );
        let names: Vec<&String> = binary.keys().collect();
        assert_eq!(names, ["doc", "pics0", "pics1"]);
        assert_eq!(binary["doc"]["data"], "aGVsbG8=");
        assert_eq!(binary["doc"]["fileName"], "a.txt");
        assert_eq!(binary["pics1"]["mimeType"], "image/png");
    }

    #[test]
    fn the_binary_property_option_numbers_every_file() {
        let parts = parse(BODY.as_bytes(), "XyZ").expect("parts");
        let (_, binary) = into_item_parts(parts, Some("data"));
        let names: Vec<&String> = binary.keys().collect();
        assert_eq!(names, ["data0", "data1", "data2"]);
    }

    #[test]
    fn a_truncated_body_is_refused() {
        assert!(parse(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end",
            "XyZ"
        )
        .is_err());
        assert!(parse(b"nothing", "XyZ").is_err());
    }
}
