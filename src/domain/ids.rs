//! Identifiers in n8n's forms: 16-character alphanumeric nanoids for most resources, UUIDs
//! for users.

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

#[cfg(test)]
mod tests {
    use super::*;

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
