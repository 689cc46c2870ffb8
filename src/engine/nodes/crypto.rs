//! Crypto (v1, v2): hashes and HMACs of a text or a binary file (MD5, SHA-1, SHA-2, SHA-3; hex
//! or base64), and random values (UUID, hex, base64 or ASCII text). The result goes into a
//! field named exactly as written (a dot does not nest).
//!
//! Signing with a private key is not offered here, nor v2's HMAC, whose secret lives in a
//! credential this engine cannot read: both fail with a clear message.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::Value;
use sha2::Digest;

use super::Registry;
use crate::engine::data::Item;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};

struct Crypto;

#[async_trait]
impl NodeType for Crypto {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let action = run.param_str("action", 0, "hash")?;
        let v1 = run.version() < 2.0;
        // Hashing a file needs its bytes, read from the binary data store.
        let mut with_bytes = Vec::new();
        if run
            .raw_param("binaryData")
            .is_some_and(|v| v != &Value::Bool(false))
        {
            for item in run.items {
                with_bytes.push(crate::engine::binary::inline_item(run, item).await?);
            }
        }
        let items = run.per_item(|i, item| {
            let property = run.param_str("dataPropertyName", i, "data")?;
            let mut binary_used = false;
            let value = match action.as_str() {
                "generate" => {
                    let kind = run.param_str("encodingType", i, "uuid")?;
                    let length = run.param_f64("stringLength", i, 32.0)?;
                    Value::String(generate(&kind, length.max(0.0) as usize))
                }
                "hash" | "hmac" => {
                    let kind = run.param_str("type", i, if v1 { "MD5" } else { "SHA256" })?;
                    let encoding = run.param_str("encoding", i, "hex")?;
                    let data = if run.param_bool("binaryData", i, false)? {
                        binary_used = true;
                        let name = run.param_str("binaryPropertyName", i, "data")?;
                        binary_bytes(with_bytes.get(i).unwrap_or(item), &name, i)?
                    } else {
                        run.param_str("value", i, "")?.into_bytes()
                    };
                    let digest = if action == "hash" {
                        hash(&kind, &data)?
                    } else if v1 {
                        hmac(&kind, run.param_str("secret", i, "")?.as_bytes(), &data)?
                    } else {
                        return Err(NodeError::operation(
                            "HMAC with Crypto credentials is not supported by this server",
                        ));
                    };
                    Value::String(encode(&digest, &encoding))
                }
                "sign" => {
                    return Err(NodeError::operation(
                        "Signing is not supported by this server",
                    ))
                }
                other => {
                    return Err(NodeError::operation(format!(
                        "The action \"{other}\" is not known"
                    )))
                }
            };
            let mut out = Item::paired(item.json.clone(), i);
            if !binary_used {
                out.binary = item.binary.clone();
            }
            out.json.insert(property, value);
            Ok(vec![out])
        })?;
        Ok(Outcome::single(items))
    }
}

/// The digest of `data` with algorithm `kind` (n8n's names; case does not matter, as in
/// Node's `createHash`).
pub fn hash(kind: &str, data: &[u8]) -> Result<Vec<u8>, NodeError> {
    Ok(match kind.to_ascii_uppercase().as_str() {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA1" => sha1::Sha1::digest(data).to_vec(),
        "SHA256" => sha2::Sha256::digest(data).to_vec(),
        "SHA384" => sha2::Sha384::digest(data).to_vec(),
        "SHA512" => sha2::Sha512::digest(data).to_vec(),
        "SHA3-256" => sha3::Sha3_256::digest(data).to_vec(),
        "SHA3-384" => sha3::Sha3_384::digest(data).to_vec(),
        "SHA3-512" => sha3::Sha3_512::digest(data).to_vec(),
        _ => return Err(unsupported(kind)),
    })
}

/// The HMAC of `data` with `secret` and algorithm `kind`.
pub fn hmac(kind: &str, secret: &[u8], data: &[u8]) -> Result<Vec<u8>, NodeError> {
    fn mac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| <M as hmac::digest::KeyInit>::new(&Default::default()));
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
    Ok(match kind.to_ascii_uppercase().as_str() {
        "MD5" => mac::<Hmac<md5::Md5>>(secret, data),
        "SHA1" => mac::<Hmac<sha1::Sha1>>(secret, data),
        "SHA256" => mac::<Hmac<sha2::Sha256>>(secret, data),
        "SHA384" => mac::<Hmac<sha2::Sha384>>(secret, data),
        "SHA512" => mac::<Hmac<sha2::Sha512>>(secret, data),
        "SHA3-256" => mac::<Hmac<sha3::Sha3_256>>(secret, data),
        "SHA3-384" => mac::<Hmac<sha3::Sha3_384>>(secret, data),
        "SHA3-512" => mac::<Hmac<sha3::Sha3_512>>(secret, data),
        _ => return Err(unsupported(kind)),
    })
}

fn unsupported(kind: &str) -> NodeError {
    NodeError::operation(format!("Digest method not supported: {kind}"))
}

/// Bytes as Node's `digest(encoding)` writes them.
pub fn encode(bytes: &[u8], encoding: &str) -> String {
    if encoding == "base64" {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    } else {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A random value: a UUID, or `length` characters of hex, base64 (letters and digits
/// only) or ASCII text (random bytes with the high bit dropped, as Node decodes them).
pub fn generate(kind: &str, length: usize) -> String {
    if kind == "uuid" {
        return uuid::Uuid::new_v4().to_string();
    }
    let mut bytes = vec![0u8; length];
    rand::thread_rng().fill_bytes(&mut bytes);
    let text: String = match kind {
        "base64" => base64::engine::general_purpose::STANDARD
            .encode(&bytes)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect(),
        "ascii" => bytes.iter().map(|b| char::from(b & 0x7f)).collect(),
        _ => encode(&bytes, "hex"),
    };
    text.chars().take(length).collect()
}

/// The bytes of binary property `name` of the item (stored inline as base64).
fn binary_bytes(item: &Item, name: &str, i: usize) -> Result<Vec<u8>, NodeError> {
    let file = item
        .binary
        .as_ref()
        .and_then(|b| b.get(name))
        .ok_or_else(|| {
            NodeError::operation(format!(
                "This operation expects the node's input data to contain a binary file '{name}', but none was found [item {i}]"
            ))
        })?;
    let data = file.get("data").and_then(Value::as_str).unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| NodeError::operation(format!("The binary file '{name}' is not valid base64")))
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.crypto", &[1.0, 2.0], Arc::new(Crypto));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_known_digests() {
        let hex = |kind: &str| encode(&hash(kind, b"hello").expect("hash"), "hex");
        assert_eq!(hex("MD5"), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(hex("sha1"), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
        assert_eq!(
            hex("SHA256"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            hex("SHA3-256"),
            "3338be694f50c5f338814986cdf0686453a888b84f424d792af4b9202398f392"
        );
        assert_eq!(
            encode(&hash("MD5", b"hello").expect("hash"), "base64"),
            "XUFAKrxLKna5cZ2REBfFkg=="
        );
        assert!(hash("whirlpool", b"x").is_err());
    }

    #[test]
    fn hmac_matches_a_known_value() {
        let mac = hmac(
            "SHA256",
            b"key",
            b"The quick brown fox jumps over the lazy dog",
        )
        .expect("hmac");
        assert_eq!(
            encode(&mac, "hex"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn generated_values_have_the_asked_shape() {
        assert_eq!(generate("uuid", 0).len(), 36);
        let hex = generate("hex", 10);
        assert_eq!(hex.len(), 10);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        let b64 = generate("base64", 20);
        assert!(b64.len() <= 20 && b64.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(generate("ascii", 8).is_ascii());
    }
}
