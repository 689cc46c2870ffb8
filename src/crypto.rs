//! Secrets at rest and keyed hashes.
//!
//! - [`KeyRing`]: AES-256-GCM keys derived from `N8N_ENCRYPTION_KEY` (and older keys kept for
//!   rotation). A sealed value records its format version and key id, and is bound to its
//!   context (e.g. the credential id) as associated data, so a ciphertext copied to another
//!   row does not open.
//! - [`LookupHasher`]: HMAC-SHA256 under an instance secret, for API keys and session tokens.
//!   The database holds only these hashes; the secret itself is stored sealed by the key ring,
//!   so a copy of the database alone cannot even test a guessed key.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Config;

type HmacSha256 = Hmac<Sha256>;

const FORMAT_VERSION: &str = "v1";

struct RingKey {
    id: String,
    cipher: Aes256Gcm,
}

/// The encryption keys of the instance: the primary seals, every key opens.
pub struct KeyRing {
    primary: RingKey,
    previous: Vec<RingKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("primary", &self.primary.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("sealed with key {0}, which is not configured")]
    UnknownKey(String),
    #[error("not a sealed value, or damaged, or bound to another record")]
    Corrupt,
}

fn derive_key(secret: &str) -> RingKey {
    // HMAC-SHA256 as a PRF turns a configured secret of any length into a 256-bit key; the
    // label keeps this key apart from any other use of the same secret.
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()).expect("hmac takes any key length");
    mac.update(b"flowgate/aes-256-gcm/v1");
    let key = mac.finalize().into_bytes();
    let id = hex(&Sha256::digest([b"flowgate/key-id/".as_slice(), key.as_slice()].concat())[..4]);
    RingKey {
        id,
        cipher: Aes256Gcm::new(&key),
    }
}

fn hex(bytes: &[u8]) -> String {
    // Runs on every authenticated request (the key's hash): a table, not `format!` per byte.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

impl KeyRing {
    /// A ring whose primary key is `primary`; `previous` keys still open older values.
    pub fn new(primary: &str, previous: &[String]) -> KeyRing {
        KeyRing {
            primary: derive_key(primary),
            previous: previous.iter().map(|k| derive_key(k)).collect(),
        }
    }

    /// Whether the ring holds the key with this id.
    pub fn has_key(&self, id: &str) -> bool {
        self.primary.id == id || self.previous.iter().any(|k| k.id == id)
    }

    /// The id of the key that seals new values.
    pub fn primary_id(&self) -> &str {
        &self.primary.id
    }

    /// Seals `plaintext`, bound to `context`: `v1$<key id>$<base64(nonce | ciphertext)>`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .primary
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!("{FORMAT_VERSION}${}${}", self.primary.id, B64.encode(blob))
    }

    /// Opens a value sealed by any key of the ring, for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, OpenError> {
        let mut parts = sealed.splitn(3, '$');
        let (Some(FORMAT_VERSION), Some(key_id), Some(body)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(OpenError::Corrupt);
        };
        let key = std::iter::once(&self.primary)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or_else(|| OpenError::UnknownKey(key_id.to_owned()))?;
        let blob = B64.decode(body).map_err(|_| OpenError::Corrupt)?;
        if blob.len() < 12 + 16 {
            return Err(OpenError::Corrupt);
        }
        let (nonce, ciphertext) = blob.split_at(12);
        key.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Corrupt)
    }

    /// The key id a sealed value names, if it is in our format.
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        let mut parts = sealed.splitn(3, '$');
        (parts.next() == Some(FORMAT_VERSION))
            .then(|| parts.next())
            .flatten()
    }
}

/// Reads the encryption key: `N8N_ENCRYPTION_KEY`, else the `encryptionKey` of
/// `<data folder>/config` (n8n's file), else a new random key written to that file (mode 600).
/// A configured key that differs from the file's is refused, as n8n does.
pub fn load_encryption_key(config: &Config) -> anyhow::Result<String> {
    let folder = config.data_folder();
    let file = folder.join("config");
    let stored = read_key_file(&file)?;
    match (&config.encryption_key, stored) {
        (Some(configured), _) if configured.is_empty() => bail!("N8N_ENCRYPTION_KEY is set but empty"),
        // During a rotation the file may still hold the previous key.
        (Some(configured), Some(stored)) if *configured != stored && !config.encryption_keys_previous.contains(&stored) => bail!(
            "N8N_ENCRYPTION_KEY does not match the key in {} (the instance was set up with another key)",
            file.display()
        ),
        (Some(configured), _) => Ok(configured.clone()),
        (None, Some(stored)) => Ok(stored),
        (None, None) => {
            let mut bytes = [0u8; 24];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let key = B64.encode(bytes);
            write_key_file(&folder, &file, &key)?;
            tracing::info!(file = %file.display(), "generated a new encryption key");
            Ok(key)
        }
    }
}

/// After a rotation: the key file (if there is one) records the new primary key.
pub fn record_rotated_key(config: &Config, key: &str) -> anyhow::Result<()> {
    let folder = config.data_folder();
    let file = folder.join("config");
    if read_key_file(&file)?.is_some_and(|stored| stored != key) {
        let temporary = folder.join("config.rotating");
        let _ = std::fs::remove_file(&temporary);
        write_key_file(&folder, &temporary, key)?;
        std::fs::rename(&temporary, &file)
            .with_context(|| format!("cannot replace {}", file.display()))?;
    }
    Ok(())
}

fn read_key_file(file: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(file) {
        Ok(text) => {
            let json: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", file.display()))?;
            Ok(json["encryptionKey"].as_str().map(str::to_owned))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
}

fn write_key_file(folder: &Path, file: &Path, key: &str) -> anyhow::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create the data folder {}", folder.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(file)
        .with_context(|| format!("cannot create {}", file.display()))?;
    let body = serde_json::json!({ "encryptionKey": key });
    f.write_all(serde_json::to_string_pretty(&body)?.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Keyed hashes for values that are looked up by hash: API keys and session tokens.
#[derive(Clone)]
pub struct LookupHasher {
    /// The MAC with the key already absorbed: each hash starts from a copy of it instead of
    /// hashing the key's inner and outer pads again.
    keyed: HmacSha256,
}

impl std::fmt::Debug for LookupHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LookupHasher(******)")
    }
}

impl LookupHasher {
    pub fn new(key: [u8; 32]) -> LookupHasher {
        LookupHasher {
            keyed: <HmacSha256 as Mac>::new_from_slice(&key).expect("hmac takes any key length"),
        }
    }

    /// Hex HMAC-SHA256 of `value`, with a domain label so a session token can never match an
    /// API key's hash.
    pub fn hash(&self, domain: &str, value: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(domain.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// Compares two strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A fresh random token for cookies and invitations, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_own_context() {
        let ring = KeyRing::new("first-key", &[]);
        let sealed = ring.seal(b"secret", "credential:abc");
        assert!(sealed.starts_with("v1$"));
        assert!(!sealed.contains("secret"));
        assert_eq!(
            ring.open(&sealed, "credential:abc").expect("opens"),
            b"secret"
        );
        assert_eq!(
            ring.open(&sealed, "credential:xyz"),
            Err(OpenError::Corrupt)
        );
    }

    #[test]
    fn a_rotated_ring_opens_old_values_and_seals_with_the_new_key() {
        let old = KeyRing::new("old-key", &[]);
        let sealed = old.seal(b"v", "ctx");
        let rotated = KeyRing::new("new-key", &["old-key".to_owned()]);
        assert_eq!(
            rotated.open(&sealed, "ctx").expect("old key still opens"),
            b"v"
        );
        assert_eq!(
            KeyRing::key_id_of(&rotated.seal(b"v", "ctx")),
            Some(rotated.primary_id())
        );
        let stranger = KeyRing::new("other-key", &[]);
        assert!(matches!(
            stranger.open(&sealed, "ctx"),
            Err(OpenError::UnknownKey(_))
        ));
    }

    #[test]
    fn tampered_values_do_not_open() {
        let ring = KeyRing::new("k", &[]);
        let mut sealed = ring.seal(b"value", "ctx").into_bytes();
        let last = sealed.len() - 3;
        sealed[last] = if sealed[last] == b'A' { b'B' } else { b'A' };
        assert!(ring
            .open(&String::from_utf8(sealed).expect("ascii"), "ctx")
            .is_err());
        assert_eq!(ring.open("garbage", "ctx"), Err(OpenError::Corrupt));
    }

    #[test]
    fn lookup_hashes_are_keyed_and_domain_separated() {
        let a = LookupHasher::new([1; 32]);
        let b = LookupHasher::new([2; 32]);
        assert_eq!(a.hash("api-key", "x"), a.hash("api-key", "x"));
        assert_ne!(a.hash("api-key", "x"), b.hash("api-key", "x"));
        assert_ne!(a.hash("api-key", "x"), a.hash("session", "x"));
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
    }
}
