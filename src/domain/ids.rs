//! Identifiers in n8n's forms: 16-character alphanumeric nanoids for most resources, UUIDs
//! for users; and the typed ids a request names, parsed once where the request enters.
//!
//! A path segment becomes a [`Named`] id in the path extractor (`Path<Named<WorkflowId>>`):
//! either a well-formed id or text that cannot name anything. The second is not a rejection of
//! the extractor: each route answers it exactly as it answers an unknown id, at the point where
//! it looks the id up, so errors in the rest of the request (query, body) are still reported
//! first, as n8n's request validator does. Code past that point holds a `WorkflowId`, never an
//! unchecked string.

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A random string of `len` characters from `[0-9A-Za-z]`.
pub fn random_alphanumeric(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A new resource id: 16 alphanumeric characters, as n8n's nanoids.
pub fn new_id() -> String {
    random_alphanumeric(16)
}

/// A new user id (UUID v4, as n8n's user ids).
pub fn new_user_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether `id` looks like a resource id (1 to 36 characters of `[0-9A-Za-z_-]`). Ids that do
/// not are answered 404 without a database read.
pub fn is_plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 36
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An id named by a request: the text given, and the id it is if it is well formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named<T> {
    raw: String,
    id: Option<T>,
}

impl<T: TypedId> Named<T> {
    pub fn parse(raw: String) -> Named<T> {
        Named {
            id: T::parse(&raw),
            raw,
        }
    }

    /// The text as the request gave it (for messages that quote it).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The well-formed id, if it is one.
    pub fn id(&self) -> Option<&T> {
        self.id.as_ref()
    }

    /// The id, or the route's answer for text that names nothing (`missing` gets the text).
    pub fn or_missing<E>(&self, missing: impl FnOnce(&str) -> E) -> Result<&T, E> {
        self.id.as_ref().ok_or_else(|| missing(&self.raw))
    }
}

impl<T> std::fmt::Display for Named<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Any text deserialises: the check decides whether it names an id, so the path extractor's
/// own rejections stay those of a plain string.
impl<'de, T: TypedId> serde::Deserialize<'de> for Named<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Named::parse)
    }
}

/// A typed id: made only from text that passed its check.
pub trait TypedId: Sized {
    /// The id in `raw`, if it is well formed.
    fn parse(raw: &str) -> Option<Self>;
}

/// An execution's id: an integer of at least 1 (the database's sequence).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExecutionId(i64);

impl ExecutionId {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TypedId for ExecutionId {
    fn parse(raw: &str) -> Option<Self> {
        raw.parse::<i64>().ok().filter(|n| *n >= 1).map(ExecutionId)
    }
}

/// Text ids: each type made only from text passing `$check`.
macro_rules! typed_ids {
    ($check:path => $($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TypedId for $name {
            fn parse(raw: &str) -> Option<Self> {
                $check(raw).then(|| $name(raw.to_owned()))
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

typed_ids! { is_plausible_id =>
    /// A workflow's id.
    WorkflowId;
    /// A credential's id.
    CredentialId;
    /// A tag's id.
    TagId;
    /// A project's id.
    ProjectId;
    /// A variable's id.
    VariableId;
}

/// n8n's nanoid: 16 alphanumerics (a data table's storage is named after it).
fn is_nanoid(raw: &str) -> bool {
    raw.len() == 16 && raw.bytes().all(|b| b.is_ascii_alphanumeric())
}

typed_ids! { is_nanoid =>
    /// A data table's id.
    DataTableId;
}

fn is_uuid(raw: &str) -> bool {
    uuid::Uuid::parse_str(raw).is_ok()
}

typed_ids! { is_uuid =>
    /// A user's id: a UUID, as n8n's user ids (kept as the request wrote it).
    UserId;
}

/// A user named by id or, where n8n accepts it, by email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    Id(UserId),
    /// Trimmed and lower-cased, as emails are stored.
    Email(String),
}

impl TypedId for UserRef {
    fn parse(raw: &str) -> Option<Self> {
        if raw.contains('@') {
            Some(UserRef::Email(raw.trim().to_lowercase()))
        } else {
            UserId::parse(raw).map(UserRef::Id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_ids_keep_malformed_text_for_the_answer() {
        let good: Named<WorkflowId> = serde_json::from_value("aB3dE6gH9jK2mN5p".into()).unwrap();
        assert_eq!(good.id().map(|id| id.as_str()), Some("aB3dE6gH9jK2mN5p"));
        let bad: Named<WorkflowId> = serde_json::from_value("../etc".into()).unwrap();
        assert_eq!(bad.id(), None);
        assert_eq!(bad.as_str(), "../etc");
        assert_eq!(bad.or_missing(|raw| raw.len()), Err(6));
        assert!(WorkflowId::parse("x'--").is_none());
        assert_eq!(ExecutionId::parse("12").map(ExecutionId::get), Some(12));
        for bad in ["0", "-1", "1.5", "x", ""] {
            assert!(ExecutionId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn new_ids_are_16_alphanumeric_characters_and_differ() {
        let a = new_id();
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, new_id());
    }

    #[test]
    fn plausible_ids_reject_path_tricks_and_oversized_values() {
        assert!(is_plausible_id("aB3dE6gH9jK2mN5p"));
        assert!(is_plausible_id(&new_user_id()));
        for bad in ["", "../etc/passwd", "a b", "x'--", &"a".repeat(37)] {
            assert!(!is_plausible_id(bad), "{bad}");
        }
    }
}
