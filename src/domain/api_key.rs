//! The API-key format: `n8n_api_` + 40 random base62 characters + a 6-character base62
//! CRC-32 of those 40 (GitHub's token scheme). The prefix makes a leaked key recognisable to
//! secret scanners; the checksum lets the server refuse a mistyped or made-up key without a
//! database read. Keys carry about 238 bits of randomness.

use rand::Rng;

pub const PREFIX: &str = "n8n_api_";
const RANDOM_LEN: usize = 40;
const CHECKSUM_LEN: usize = 6;
/// Length of every key this server issues.
pub const KEY_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A raw key as the client sends it, known to be well-formed.
#[derive(PartialEq, Eq)]
pub struct RawApiKey(String);

impl std::fmt::Debug for RawApiKey {
    // Never print a key, even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawApiKey(******)")
    }
}

impl RawApiKey {
    /// A new random key.
    pub fn generate() -> RawApiKey {
        let mut rng = rand::rngs::OsRng;
        let random: String = (0..RANDOM_LEN)
            .map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char)
            .collect();
        let checksum = checksum(&random);
        RawApiKey(format!("{PREFIX}{random}{checksum}"))
    }

    /// Accepts a key only if it has the prefix, the length, the alphabet and a matching checksum.
    pub fn parse(value: &str) -> Option<RawApiKey> {
        let body = value.strip_prefix(PREFIX)?;
        if body.len() != RANDOM_LEN + CHECKSUM_LEN
            || !body.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return None;
        }
        let (random, sum) = body.split_at(RANDOM_LEN);
        (checksum(random) == sum).then(|| RawApiKey(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last four characters, shown in lists as `******` + hint.
    pub fn hint(&self) -> String {
        self.0[self.0.len() - 4..].to_owned()
    }
}

/// The redacted form n8n shows: six asterisks and the last four characters.
pub fn redact(hint: &str) -> String {
    format!("******{hint}")
}

fn checksum(random: &str) -> String {
    let mut n = crc32fast::hash(random.as_bytes()) as u64;
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_have_the_documented_shape() {
        let key = RawApiKey::generate();
        assert_eq!(key.expose().len(), KEY_LEN);
        assert!(key.expose().starts_with(PREFIX));
        assert_eq!(RawApiKey::parse(key.expose()).as_ref(), Some(&key));
        assert_eq!(redact(&key.hint()).len(), 10);
        assert!(!format!("{key:?}").contains(&key.expose()[8..]));
    }

    #[test]
    fn a_changed_character_fails_the_checksum() {
        let key = RawApiKey::generate().expose().to_owned();
        let mut bytes = key.clone().into_bytes();
        let i = PREFIX.len() + 3;
        bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        assert!(RawApiKey::parse(&tampered).is_none());
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "n8n_api_",
            "hello",
            "eyJhbGciOiJIUzI1NiJ9.e30.x",
            &"n8n_api_!".repeat(6),
        ] {
            assert!(RawApiKey::parse(bad).is_none(), "{bad}");
        }
        let key = RawApiKey::generate().expose().to_owned();
        assert!(RawApiKey::parse(&format!("{key}x")).is_none());
        assert!(RawApiKey::parse(&key[..key.len() - 1]).is_none());
    }
}
