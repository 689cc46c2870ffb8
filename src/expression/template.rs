//! Splitting an expression (`=` already removed) into literal text and `{{ code }}` chunks,
//! by n8n's rules: `{{` opens a chunk and the first `}}` after it closes it (braces inside
//! code are not counted); a `{{` preceded by an odd number of backslashes is literal text; an
//! unclosed `{{` makes the rest of the text code; text before the first chunk has `\\`
//! reduced to `\`.
//!
//! What the chunks evaluate to depends on their shape: exactly one code chunk with nothing
//! before it and nothing after it keeps its JavaScript value; anything else joins into text.

use serde::Serialize;

/// One piece of an expression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Chunk {
    Text(String),
    Code(String),
}

/// An expression split into chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    pub chunks: Vec<Chunk>,
}

impl Template {
    pub fn parse(expression: &str) -> Template {
        let mut chunks = Vec::new();
        let mut rest = expression;
        let mut buffer = String::new();
        let mut in_code = false;
        while !rest.is_empty() {
            let marker = if in_code { "}}" } else { "{{" };
            let Some(found) = rest.find(marker) else {
                buffer.push_str(rest);
                chunks.push(if in_code {
                    Chunk::Code(unescape_close(&buffer))
                } else {
                    Chunk::Text(buffer)
                });
                return Template { chunks };
            };
            let before = &rest[..found];
            let backslashes = before.len() - before.trim_end_matches('\\').len();
            if backslashes % 2 == 1 {
                // An escaped marker stays part of the current chunk.
                buffer.push_str(&rest[..found + 2]);
            } else {
                buffer.push_str(before);
                let finished = std::mem::take(&mut buffer);
                chunks.push(if in_code {
                    Chunk::Code(unescape_close(&finished))
                } else {
                    Chunk::Text(finished.replace("\\\\", "\\"))
                });
                in_code = !in_code;
            }
            rest = &rest[found + 2..];
        }
        Template { chunks }
    }

    /// The code of the only chunk when the expression is exactly `{{ code }}`: its value
    /// keeps its type.
    pub fn lone_code(&self) -> Option<&str> {
        match self.chunks.as_slice() {
            [Chunk::Text(before), Chunk::Code(code)] if before.is_empty() => Some(code),
            _ => None,
        }
    }

    pub fn has_code(&self) -> bool {
        self.chunks.iter().any(|c| matches!(c, Chunk::Code(_)))
    }

    /// Every code chunk.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.chunks.iter().filter_map(|c| match c {
            Chunk::Code(code) => Some(code.as_str()),
            Chunk::Text(_) => None,
        })
    }
}

/// n8n lets `\}}` stand for `}}` inside code (its first occurrence only).
fn unescape_close(code: &str) -> String {
    code.replacen("\\}}", "}}", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Chunk {
        Chunk::Text(s.into())
    }

    fn code(s: &str) -> Chunk {
        Chunk::Code(s.into())
    }

    #[test]
    fn a_lone_block_is_text_then_code() {
        let t = Template::parse("{{ $json.a }}");
        assert_eq!(t.chunks, vec![text(""), code(" $json.a ")]);
        assert_eq!(t.lone_code(), Some(" $json.a "));
    }

    #[test]
    fn trailing_text_makes_the_block_part_of_a_text() {
        let t = Template::parse("{{ 1 }} ");
        assert_eq!(t.chunks, vec![text(""), code(" 1 "), text(" ")]);
        assert_eq!(t.lone_code(), None);
        let t = Template::parse("a{{ 1 }}b{{2}}");
        assert_eq!(t.chunks, vec![text("a"), code(" 1 "), text("b"), code("2")]);
    }

    #[test]
    fn the_first_closing_braces_end_the_block() {
        let t = Template::parse("{{ {a:{b:1}} }}");
        assert_eq!(t.chunks, vec![text(""), code(" {a:{b:1"), text(" }}")]);
    }

    #[test]
    fn an_unclosed_block_runs_to_the_end() {
        let t = Template::parse("x {{ 1 + 2");
        assert_eq!(t.chunks, vec![text("x "), code(" 1 + 2")]);
    }

    #[test]
    fn escaped_braces_stay_text() {
        let t = Template::parse("a \\{{ b }}");
        assert_eq!(t.chunks, vec![text("a \\{{ b }}")]);
        assert!(!t.has_code());
    }

    #[test]
    fn plain_text_is_one_text_chunk() {
        assert_eq!(Template::parse("hello").chunks, vec![text("hello")]);
        assert!(Template::parse("").chunks.is_empty());
    }
}
