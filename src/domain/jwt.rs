//! JSON Web Tokens with a `jwtAuth` credential: checking the token of a webhook call, with
//! the checks n8n's JWT library makes, in its order, refusing with its messages (the webhook
//! answers them as its 403 text, so a caller sees the same reason from either server); and
//! signing the token a Respond to Webhook node answers with.
//!
//! Signatures: HMAC (HS256/384/512) with the credential's passphrase, RSA PKCS#1 v1.5
//! (RS256/384/512), RSA-PSS (PS256/384/512) and ECDSA on P-256 and P-384 (ES256, ES384)
//! with its PEM public key (its private key to sign). ES512 (P-521) and the unsigned `none`
//! are not accepted here: a credential asking for them leaves the webhook unconfigured (see
//! [`Key::from_credential`]) and signs nothing; it never lets a token through unchecked. Only the registered time claims are checked (`nbf`, `exp`, in
//! whole seconds, no leeway), as n8n checks them: audience and issuer are not configured in
//! n8n's credential either.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;
use sha2::{Sha256, Sha384, Sha512};

/// What a token's signature is checked with, from the node's `jwtAuth` credential.
pub enum Key {
    /// The passphrase (`keyType` `passphrase`), as its UTF-8 bytes.
    Secret(Vec<u8>),
    /// The public key (`keyType` `pemKey`), when its PEM text holds an RSA key.
    Public(RsaPublicKey),
    /// A P-256 public key (ES256).
    P256(p256::ecdsa::VerifyingKey),
    /// A P-384 public key (ES384).
    P384(p384::ecdsa::VerifyingKey),
    /// A PEM text that holds no RSA public key: every token is refused, as n8n's library
    /// refuses a key it cannot use.
    Unusable,
}

/// The algorithms a credential may name and this server checks.
const SUPPORTED: [&str; 11] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384",
];

impl Key {
    /// The key and algorithm of a `jwtAuth` credential's data; `Err` says why the credential
    /// cannot authenticate anything here (the webhook then answers as unconfigured).
    pub fn from_credential(
        data: &serde_json::Map<String, Value>,
    ) -> Result<(Key, &'static str), String> {
        let text = |name: &str| data.get(name).and_then(Value::as_str).unwrap_or_default();
        let algorithm = algorithm(data)?;
        let key = match text("keyType") {
            "pemKey" => {
                let pem = text("publicKey");
                if pem.trim().is_empty() {
                    return Err("the credential has no public key".to_owned());
                }
                public_key(pem)
            }
            _ => {
                let secret = text("secret");
                if secret.is_empty() {
                    return Err("the credential has no secret".to_owned());
                }
                Key::Secret(secret.as_bytes().to_vec())
            }
        };
        Ok((key, algorithm))
    }
}

/// The credential's algorithm (n8n's default: HS256), if this server supports it.
fn algorithm(data: &serde_json::Map<String, Value>) -> Result<&'static str, String> {
    let named = match data.get("algorithm").and_then(Value::as_str) {
        None | Some("") => "HS256",
        Some(other) => other,
    };
    SUPPORTED.iter().find(|a| **a == named).copied().ok_or_else(|| {
        format!(
            "the JWT algorithm \"{named}\" is not supported on this server (use an HS, RS, PS, ES256 or ES384 algorithm)"
        )
    })
}

/// The DER bytes inside PEM text, also when the line breaks were lost on the way into the
/// credential (pasted as one line with spaces).
fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body_start = pem.find("-----BEGIN ")?;
    let after_begin = &pem[body_start + 11..];
    let label_end = after_begin.find("-----")?;
    let body = &after_begin[label_end + 5..];
    let body = &body[..body.find("-----END ")?];
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(compact).ok()
}

/// The public key in PEM text: RSA (SubjectPublicKeyInfo or PKCS#1) or an elliptic-curve
/// key on P-256 or P-384; [`Key::Unusable`] for anything else.
fn public_key(pem: &str) -> Key {
    use p256::pkcs8::DecodePublicKey as _;
    let Some(der) = pem_der(pem) else {
        return Key::Unusable;
    };
    if let Ok(key) =
        RsaPublicKey::from_public_key_der(&der).or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
    {
        return Key::Public(key);
    }
    if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(&der) {
        return Key::P256(key);
    }
    if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_der(&der) {
        return Key::P384(key);
    }
    Key::Unusable
}

/// Signs `payload` as n8n's library does for the credential `data`: an object payload gets
/// the header `{"alg", "typ": "JWT"}` and an `iat` claim (now, unless it has one that
/// JavaScript counts as true: n8n 2.8.4 replaced `"iat": 0` with now); any other
/// JSON value is signed as its text, without either. `Err` says why it cannot be signed.
pub fn sign(
    payload: &Value,
    data: &serde_json::Map<String, Value>,
    now: i64,
) -> Result<String, String> {
    let text = |name: &str| data.get(name).and_then(Value::as_str).unwrap_or_default();
    let algorithm = algorithm(data)?;
    let (header, body) = match payload {
        Value::Object(claims) => {
            let mut claims = claims.clone();
            // The library keeps an `iat` that JavaScript counts as true, else sets it to now.
            let truthy = match claims.get("iat") {
                None | Some(Value::Null) | Some(Value::Bool(false)) => false,
                Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
                Some(Value::String(s)) => !s.is_empty(),
                Some(_) => true,
            };
            if !truthy {
                claims.insert("iat".into(), Value::from(now));
            }
            (
                serde_json::json!({"alg": algorithm, "typ": "JWT"}),
                Value::Object(claims).to_string(),
            )
        }
        Value::String(text) => (serde_json::json!({"alg": algorithm}), text.clone()),
        other => (serde_json::json!({"alg": algorithm}), other.to_string()),
    };
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(body)
    );
    let signature = if algorithm.starts_with("HS") {
        let secret = text("secret");
        if text("keyType") == "pemKey" || secret.is_empty() {
            return Err(format!(
                "secretOrPrivateKey must have a value for {algorithm}"
            ));
        }
        hmac_sign(algorithm, secret.as_bytes(), signed.as_bytes())
    } else {
        let der = (text("keyType") == "pemKey")
            .then(|| pem_der(text("privateKey")))
            .flatten();
        if algorithm.starts_with("ES") {
            let der = der.ok_or_else(|| {
                format!("secretOrPrivateKey must be an asymmetric key when using {algorithm}")
            })?;
            ec_sign(algorithm, &der, signed.as_bytes())?
        } else {
            let key = der
                .and_then(|der| {
                    RsaPrivateKey::from_pkcs8_der(&der)
                        .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
                        .ok()
                })
                .ok_or_else(|| {
                    format!("secretOrPrivateKey must be an asymmetric key when using {algorithm}")
                })?;
            rsa_sign(algorithm, key, signed.as_bytes())?
        }
    };
    Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// ECDSA with the private key of DER (PKCS#8 or SEC1), as r and s side by side.
fn ec_sign(algorithm: &str, der: &[u8], signed: &[u8]) -> Result<Vec<u8>, String> {
    use p256::pkcs8::DecodePrivateKey as _;
    let wrong = || {
        format!("the private key cannot sign with {algorithm} (a P-256 key signs ES256, a P-384 key ES384)")
    };
    if algorithm == "ES256" {
        let key = p256::SecretKey::from_pkcs8_der(der)
            .or_else(|_| p256::SecretKey::from_sec1_der(der))
            .map_err(|_| wrong())?;
        let signature: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(key)
            .try_sign(signed)
            .map_err(|_| wrong())?;
        Ok(signature.to_bytes().to_vec())
    } else {
        let key = p384::SecretKey::from_pkcs8_der(der)
            .or_else(|_| p384::SecretKey::from_sec1_der(der))
            .map_err(|_| wrong())?;
        let signature: p384::ecdsa::Signature = p384::ecdsa::SigningKey::from(key)
            .try_sign(signed)
            .map_err(|_| wrong())?;
        Ok(signature.to_bytes().to_vec())
    }
}

fn hmac_sign(algorithm: &str, secret: &[u8], signed: &[u8]) -> Vec<u8> {
    fn mac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], signed: &[u8]) -> Vec<u8> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret)
            .expect("HMAC takes any key length");
        mac.update(signed);
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        "HS384" => mac::<Hmac<Sha384>>(secret, signed),
        "HS512" => mac::<Hmac<Sha512>>(secret, signed),
        _ => mac::<Hmac<Sha256>>(secret, signed),
    }
}

/// RSA signatures can fail (a key too small for PSS with a long digest): an error, not a
/// panic.
fn rsa_sign(algorithm: &str, key: RsaPrivateKey, signed: &[u8]) -> Result<Vec<u8>, String> {
    use rsa::{pkcs1v15, pss};
    let mut rng = rand::thread_rng();
    let signature = match algorithm {
        "RS384" => pkcs1v15::SigningKey::<Sha384>::new(key)
            .try_sign(signed)
            .map(|s| s.to_vec()),
        "RS512" => pkcs1v15::SigningKey::<Sha512>::new(key)
            .try_sign(signed)
            .map(|s| s.to_vec()),
        "PS256" => pss::SigningKey::<Sha256>::new(key)
            .try_sign_with_rng(&mut rng, signed)
            .map(|s| s.to_vec()),
        "PS384" => pss::SigningKey::<Sha384>::new(key)
            .try_sign_with_rng(&mut rng, signed)
            .map(|s| s.to_vec()),
        "PS512" => pss::SigningKey::<Sha512>::new(key)
            .try_sign_with_rng(&mut rng, signed)
            .map(|s| s.to_vec()),
        _ => pkcs1v15::SigningKey::<Sha256>::new(key)
            .try_sign(signed)
            .map(|s| s.to_vec()),
    };
    signature.map_err(|_| format!("the key cannot sign with {algorithm} (too small?)"))
}

/// Checks `token` with `key` for `algorithm` at `now` (seconds since the epoch); answers the
/// token's payload, or the reason it is refused in the words of n8n's JWT library.
pub fn verify(token: &str, key: &Key, algorithm: &str, now: i64) -> Result<Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err("jwt malformed".to_owned());
    };
    let invalid = || "invalid token".to_owned();
    let segment = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !segment(header) || !segment(payload) || !(signature.is_empty() || segment(signature)) {
        return Err(invalid());
    }
    let header: Value = decode_json(header).ok_or_else(invalid)?;
    let payload_text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?)
        .map_err(|_| invalid())?;
    // n8n's library parses the payload as JSON when the header says `typ: JWT`; otherwise it
    // keeps the text unless it is a JSON object.
    let declared_jwt = header.get("typ").and_then(Value::as_str) == Some("JWT");
    let payload = match serde_json::from_str::<Value>(&payload_text) {
        Ok(value @ Value::Object(_)) => value,
        Ok(value) if declared_jwt => value,
        Err(_) if declared_jwt => return Err(invalid()),
        _ => Value::String(payload_text),
    };
    if signature.trim().is_empty() {
        return Err("jwt signature is required".to_owned());
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if alg != algorithm {
        return Err("invalid algorithm".to_owned());
    }
    match key {
        Key::Secret(_) if !alg.starts_with("HS") => {
            return Err(format!(
                "secretOrPublicKey must be an asymmetric key when using {alg}"
            ))
        }
        Key::Public(_) | Key::P256(_) | Key::P384(_) | Key::Unusable if alg.starts_with("HS") => {
            return Err(format!(
                "secretOrPublicKey must be a symmetric key when using {alg}"
            ))
        }
        Key::Unusable => {
            return Err(format!(
                "secretOrPublicKey must be an asymmetric key when using {alg}"
            ))
        }
        // The library's own words for a key of the wrong kind or curve.
        Key::Public(_) if alg.starts_with("ES") => {
            return Err("\"alg\" parameter for \"rsa\" key type must be one of: RS256, PS256, RS384, PS384, RS512, PS512.".to_owned())
        }
        Key::P256(_) | Key::P384(_) if !alg.starts_with("ES") => {
            return Err("\"alg\" parameter for \"ec\" key type must be one of: ES256, ES384, ES512.".to_owned())
        }
        Key::P256(_) if alg != "ES256" => {
            return Err(format!("\"alg\" parameter \"{alg}\" requires curve \"secp384r1\"."))
        }
        Key::P384(_) if alg != "ES384" => {
            return Err(format!("\"alg\" parameter \"{alg}\" requires curve \"prime256v1\"."))
        }
        _ => {}
    }
    let signed = &token[..token.len() - signature.len() - 1];
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "invalid signature".to_owned())?;
    if !signature_holds(key, alg, signed.as_bytes(), &signature) {
        return Err("invalid signature".to_owned());
    }
    if let Some(nbf) = payload.get("nbf") {
        let nbf = nbf.as_f64().ok_or("invalid nbf value")?;
        if nbf > now as f64 {
            return Err("jwt not active".to_owned());
        }
    }
    if let Some(exp) = payload.get("exp") {
        let exp = exp.as_f64().ok_or("invalid exp value")?;
        if now as f64 >= exp {
            return Err("jwt expired".to_owned());
        }
    }
    Ok(payload)
}

/// A base64url segment holding JSON.
fn decode_json(segment: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn signature_holds(key: &Key, alg: &str, signed: &[u8], signature: &[u8]) -> bool {
    match (key, alg) {
        (Key::Secret(secret), "HS256") => hmac_holds::<Hmac<Sha256>>(secret, signed, signature),
        (Key::Secret(secret), "HS384") => hmac_holds::<Hmac<Sha384>>(secret, signed, signature),
        (Key::Secret(secret), "HS512") => hmac_holds::<Hmac<Sha512>>(secret, signed, signature),
        (Key::Public(key), "RS256") => pkcs1_holds::<Sha256>(key, signed, signature),
        (Key::Public(key), "RS384") => pkcs1_holds::<Sha384>(key, signed, signature),
        (Key::Public(key), "RS512") => pkcs1_holds::<Sha512>(key, signed, signature),
        (Key::Public(key), "PS256") => pss_holds::<Sha256>(key, signed, signature),
        (Key::Public(key), "PS384") => pss_holds::<Sha384>(key, signed, signature),
        (Key::Public(key), "PS512") => pss_holds::<Sha512>(key, signed, signature),
        // JWT carries ECDSA signatures as r and s side by side, not DER.
        (Key::P256(key), "ES256") => p256::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|signature| key.verify(signed, &signature).is_ok()),
        (Key::P384(key), "ES384") => p384::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|signature| key.verify(signed, &signature).is_ok()),
        _ => false,
    }
}

/// HMAC, compared in constant time by `verify_slice`.
fn hmac_holds<M: Mac + hmac::digest::KeyInit>(
    secret: &[u8],
    signed: &[u8],
    signature: &[u8],
) -> bool {
    let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(secret) else {
        return false;
    };
    mac.update(signed);
    mac.verify_slice(signature).is_ok()
}

fn pkcs1_holds<D>(key: &RsaPublicKey, signed: &[u8], signature: &[u8]) -> bool
where
    D: sha2::Digest + rsa::pkcs8::AssociatedOid,
{
    let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else {
        return false;
    };
    rsa::pkcs1v15::VerifyingKey::<D>::new(key.clone())
        .verify(signed, &signature)
        .is_ok()
}

fn pss_holds<D>(key: &RsaPublicKey, signed: &[u8], signature: &[u8]) -> bool
where
    D: sha2::Digest + rsa::signature::digest::FixedOutputReset,
{
    let Ok(signature) = rsa::pss::Signature::try_from(signature) else {
        return false;
    };
    rsa::pss::VerifyingKey::<D>::new(key.clone())
        .verify(signed, &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::EncodePublicKey;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn unsigned(header: &Value, payload: &Value) -> String {
        format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        )
    }

    fn hs256(secret: &str, payload: &Value) -> String {
        let signed = unsigned(&json!({"alg": "HS256", "typ": "JWT"}), payload);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(signed.as_bytes());
        format!("{signed}.{}", b64(&mac.finalize().into_bytes()))
    }

    fn secret(text: &str) -> Key {
        Key::Secret(text.as_bytes().to_vec())
    }

    #[test]
    fn an_hs256_token_signed_with_the_passphrase_gives_its_payload() {
        let payload = json!({"sub": "caller", "exp": NOW + 60, "nbf": NOW});
        let token = hs256("s3cret", &payload);
        assert_eq!(verify(&token, &secret("s3cret"), "HS256", NOW), Ok(payload));
    }

    #[test]
    fn each_broken_token_is_refused_with_the_library_s_words() {
        let good = hs256("s3cret", &json!({"sub": "x"}));
        let cases = [
            ("abc", "jwt malformed"),
            ("a.b.c.d", "jwt malformed"),
            ("!!.e30.sig", "invalid token"),
            (&*format!("{}.e30.abc", b64(b"not json")), "invalid token"),
            (
                &*format!("{}.", &good[..good.rfind('.').expect("dot")]),
                "jwt signature is required",
            ),
            (&*hs256("other", &json!({"sub": "x"})), "invalid signature"),
            (&*hs256("s3cret", &json!({"exp": NOW})), "jwt expired"),
            (
                &*hs256("s3cret", &json!({"exp": "soon"})),
                "invalid exp value",
            ),
            (
                &*hs256("s3cret", &json!({"nbf": NOW + 1})),
                "jwt not active",
            ),
            (
                &*hs256("s3cret", &json!({"nbf": true})),
                "invalid nbf value",
            ),
        ];
        for (token, reason) in cases {
            assert_eq!(
                verify(token, &secret("s3cret"), "HS256", NOW),
                Err(reason.to_owned()),
                "{token}"
            );
        }
    }

    #[test]
    fn a_token_of_another_algorithm_or_key_kind_is_refused() {
        let token = hs256("s3cret", &json!({}));
        assert_eq!(
            verify(&token, &secret("s3cret"), "HS512", NOW),
            Err("invalid algorithm".to_owned())
        );
        // alg "none" with an empty signature never passes, whatever the credential says.
        let none = format!("{}.", unsigned(&json!({"alg": "none"}), &json!({})));
        assert_eq!(
            verify(&none, &secret("s3cret"), "HS256", NOW),
            Err("jwt signature is required".to_owned())
        );
        assert_eq!(
            verify(&token, &Key::Unusable, "HS256", NOW),
            Err("secretOrPublicKey must be a symmetric key when using HS256".to_owned())
        );
    }

    #[test]
    fn rs256_and_ps256_tokens_are_checked_with_the_pem_public_key() {
        let mut rng = rand::thread_rng();
        let private = rsa::RsaPrivateKey::new(&mut rng, 1024).expect("key");
        let pem = private
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .expect("pem");
        // Pasted as one line: the line breaks became spaces.
        let data =
            json!({"keyType": "pemKey", "publicKey": pem.replace('\n', " "), "algorithm": "RS256"});
        let (key, algorithm) = Key::from_credential(data.as_object().expect("map")).expect("key");
        assert_eq!(algorithm, "RS256");
        let signed = unsigned(&json!({"alg": "RS256"}), &json!({"role": "ci"}));
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(private.clone());
        let token = format!("{signed}.{}", b64(&signer.sign(signed.as_bytes()).to_vec()));
        assert_eq!(
            verify(&token, &key, "RS256", NOW),
            Ok(json!({"role": "ci"}))
        );
        let tampered = token.replacen(
            &signed,
            &unsigned(&json!({"alg": "RS256"}), &json!({"role": "admin"})),
            1,
        );
        assert_eq!(
            verify(&tampered, &key, "RS256", NOW),
            Err("invalid signature".to_owned())
        );

        let signed = unsigned(&json!({"alg": "PS256"}), &json!({"role": "ci"}));
        let signer = rsa::pss::SigningKey::<Sha256>::new(private);
        let signature = signer.sign_with_rng(&mut rng, signed.as_bytes()).to_vec();
        let token = format!("{signed}.{}", b64(&signature));
        assert_eq!(
            verify(&token, &key, "PS256", NOW),
            Ok(json!({"role": "ci"}))
        );
        assert_eq!(
            verify(&token, &secret("s3cret"), "PS256", NOW),
            Err("secretOrPublicKey must be an asymmetric key when using PS256".to_owned())
        );
    }

    #[test]
    fn a_signed_token_verifies_with_the_same_credential() {
        let data = json!({"keyType": "passphrase", "secret": "s3cret", "algorithm": "HS384"});
        let data = data.as_object().expect("map");
        let token = sign(&json!({"sub": "x"}), data, NOW).expect("signed");
        let (key, algorithm) = Key::from_credential(data).expect("key");
        assert_eq!(
            verify(&token, &key, algorithm, NOW),
            Ok(json!({"sub": "x", "iat": NOW}))
        );
        let header = token.split('.').next().expect("header");
        assert_eq!(
            URL_SAFE_NO_PAD.decode(header).expect("base64"),
            br#"{"alg":"HS384","typ":"JWT"}"#
        );

        let mut rng = rand::thread_rng();
        let private = rsa::RsaPrivateKey::new(&mut rng, 1024).expect("key");
        let private_pem =
            rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&private, rsa::pkcs8::LineEnding::LF)
                .expect("pem")
                .to_string();
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .expect("pem");
        for algorithm in ["RS256", "PS256"] {
            let data = json!({"keyType": "pemKey", "privateKey": private_pem, "publicKey": public_pem, "algorithm": algorithm});
            let data = data.as_object().expect("map");
            let token = sign(&json!({"iat": 5}), data, NOW).expect("signed");
            let (key, _) = Key::from_credential(data).expect("key");
            assert_eq!(verify(&token, &key, algorithm, NOW), Ok(json!({"iat": 5})));
        }
        // PS512 needs a key of more than 1,040 bits: a refusal, not a panic.
        let small = json!({"keyType": "pemKey", "privateKey": private_pem, "algorithm": "PS512"});
        assert!(sign(&json!({}), small.as_object().expect("map"), NOW).is_err());
        let no_key = json!({"keyType": "pemKey", "privateKey": "", "algorithm": "RS256"});
        assert!(sign(&json!({}), no_key.as_object().expect("map"), NOW).is_err());
        let es = json!({"keyType": "passphrase", "secret": "s", "algorithm": "ES256"});
        assert!(sign(&json!({}), es.as_object().expect("map"), NOW).is_err());

        // ES256 and ES384: signed with the private key, checked with the public one.
        use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
        let p256_key = p256::SecretKey::random(&mut rng);
        let p384_key = p384::SecretKey::random(&mut rng);
        let pems = [
            (
                "ES256",
                p256_key
                    .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                    .expect("pem")
                    .to_string(),
                p256_key
                    .public_key()
                    .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
                    .expect("pem"),
            ),
            (
                "ES384",
                p384_key
                    .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                    .expect("pem")
                    .to_string(),
                p384_key
                    .public_key()
                    .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
                    .expect("pem"),
            ),
        ];
        for (algorithm, private_pem, public_pem) in &pems {
            let data = json!({"keyType": "pemKey", "privateKey": private_pem, "publicKey": public_pem, "algorithm": algorithm});
            let data = data.as_object().expect("map");
            let token = sign(&json!({"sub": "ec"}), data, NOW).expect("signed");
            let (key, _) = Key::from_credential(data).expect("key");
            assert_eq!(
                verify(&token, &key, algorithm, NOW),
                Ok(json!({"sub": "ec", "iat": NOW}))
            );
            let last = if token.ends_with('A') { "B" } else { "A" };
            let forged = format!("{}{last}", &token[..token.len() - 1]);
            assert!(verify(&forged, &key, algorithm, NOW).is_err());
        }
        // A P-256 key does not check an ES384 token.
        let p256_public = Key::from_credential(
            json!({"keyType": "pemKey", "publicKey": pems[0].2, "algorithm": "ES384"})
                .as_object()
                .expect("map"),
        )
        .expect("key")
        .0;
        let es384 = sign(
            &json!({}),
            json!({"keyType": "pemKey", "privateKey": pems[1].1, "algorithm": "ES384"})
                .as_object()
                .expect("map"),
            NOW,
        )
        .expect("signed");
        assert_eq!(
            verify(&es384, &p256_public, "ES384", NOW),
            Err("\"alg\" parameter \"ES384\" requires curve \"secp384r1\".".to_owned())
        );
    }

    #[test]
    fn a_credential_with_an_unsupported_algorithm_or_no_key_configures_nothing() {
        for data in [
            json!({"keyType": "passphrase", "secret": "s", "algorithm": "none"}),
            json!({"keyType": "passphrase", "secret": "s", "algorithm": "ES512"}),
            json!({"keyType": "passphrase", "secret": ""}),
            json!({"keyType": "pemKey", "publicKey": " "}),
        ] {
            assert!(
                Key::from_credential(data.as_object().expect("map")).is_err(),
                "{data}"
            );
        }
        let data = json!({"keyType": "pemKey", "publicKey": "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"});
        let (key, algorithm) = Key::from_credential(data.as_object().expect("map")).expect("key");
        assert_eq!(algorithm, "HS256");
        assert!(matches!(key, Key::Unusable));
    }

    proptest::proptest! {
        /// Any text as a token, and any token with one part changed, answers a payload or a
        /// reason: never a panic. Only the untouched token passes.
        #[test]
        fn any_token_text_is_checked_without_panicking(
            text in "[A-Za-z0-9._ =+/-]{0,120}",
            part in 0usize..3,
            junk in "[A-Za-z0-9_-]{0,12}",
        ) {
            let key = secret("s3cret");
            let _ = verify(&text, &key, "HS256", NOW);
            let good = hs256("s3cret", &json!({"n": 1}));
            let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
            let untouched = junk.is_empty();
            parts[part].push_str(&junk);
            let changed = parts.join(".");
            let verdict = verify(&changed, &key, "HS256", NOW);
            if untouched {
                proptest::prop_assert!(verdict.is_ok());
            } else {
                proptest::prop_assert!(verdict.is_err(), "{changed} passed");
            }
        }
    }
}
