//! XML request bodies read the way n8n's webhook reads them (xml2js with lower-cased tag
//! names, trimmed and normalised text, single children not wrapped in lists): elements become
//! objects, repeated elements lists, attributes go under `$`, text beside children under `_`.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

/// Deeper documents are refused rather than followed (a body is not a stack bomb).
const MAX_DEPTH: usize = 256;

struct Element {
    name: String,
    attributes: Map<String, Value>,
    children: Map<String, Value>,
    text: String,
}

impl Element {
    fn new(name: String, attributes: Map<String, Value>) -> Element {
        Element {
            name,
            attributes,
            children: Map::new(),
            text: String::new(),
        }
    }

    fn into_value(self) -> Value {
        let text = normalize(&self.text);
        if self.children.is_empty() && self.attributes.is_empty() {
            return Value::String(text);
        }
        let mut out = Map::new();
        if !self.attributes.is_empty() {
            out.insert("$".into(), Value::Object(self.attributes));
        }
        if !text.is_empty() {
            out.insert("_".into(), Value::String(text));
        }
        out.extend(self.children);
        Value::Object(out)
    }
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn add_child(parent: &mut Map<String, Value>, name: String, value: Value) {
    match parent.get_mut(&name) {
        Some(Value::Array(list)) => list.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            parent.insert(name, value);
        }
    }
}

pub fn parse(bytes: &[u8]) -> Result<Value, String> {
    let mut reader = Reader::from_reader(bytes);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Map<String, Value> = Map::new();
    let mut buffer = Vec::new();
    let element = |e: &quick_xml::events::BytesStart<'_>| -> Result<Element, String> {
        let name = String::from_utf8_lossy(e.name().as_ref()).to_lowercase();
        let mut attributes = Map::new();
        for attribute in e.attributes() {
            let attribute = attribute.map_err(|e| e.to_string())?;
            let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
            let value = attribute
                .unescape_value()
                .map_err(|e| e.to_string())?
                .into_owned();
            attributes.insert(key, Value::String(value));
        }
        Ok(Element::new(name, attributes))
    };
    loop {
        match reader
            .read_event_into(&mut buffer)
            .map_err(|e| e.to_string())?
        {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("the XML body is nested too deeply".into());
                }
                stack.push(element(&e)?);
            }
            Event::Empty(e) => {
                let done = element(&e)?;
                let name = done.name.clone();
                let value = done.into_value();
                match stack.last_mut() {
                    Some(parent) => add_child(&mut parent.children, name, value),
                    None => add_child(&mut root, name, value),
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or("unbalanced XML")?;
                let name = done.name.clone();
                let value = done.into_value();
                match stack.last_mut() {
                    Some(parent) => add_child(&mut parent.children, name, value),
                    None => add_child(&mut root, name, value),
                }
            }
            Event::Text(t) => {
                if let Some(current) = stack.last_mut() {
                    current
                        .text
                        .push_str(&t.unescape().map_err(|e| e.to_string())?);
                }
            }
            Event::CData(t) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    if !stack.is_empty() || root.is_empty() {
        return Err("the XML body is not complete".into());
    }
    Ok(Value::Object(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_attributes_and_repeats_read_as_xml2js_reads_them() {
        assert_eq!(
            parse(b"<r><a>1</a></r>").expect("xml"),
            json!({"r": {"a": "1"}})
        );
        assert_eq!(
            parse(b"<Order id=\"7\"><Item>x</Item><Item>  y  z </Item><empty/></Order>")
                .expect("xml"),
            json!({"order": {"$": {"id": "7"}, "item": ["x", "y z"], "empty": ""}})
        );
        assert!(parse(b"<a><b></a>").is_err());
    }
}
