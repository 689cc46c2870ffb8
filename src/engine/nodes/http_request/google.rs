//! The `googleApi` credential (a Google service account): a JWT signed with the account's RSA
//! key (RS256) is exchanged at Google's token endpoint for an access token, sent as
//! `Authorization: Bearer`, as n8n's credential does for the HTTP Request node. The token is
//! kept per credential until shortly before it expires, so a run of many items (and later
//! runs) ask once.
//!
//! Where this differs from n8n: n8n puts the private key itself in the JWT header (`kid`),
//! which sends it to the token endpoint; here the header holds only `alg` and `typ`. A
//! credential not set up for the HTTP Request node (`httpNode` off, so no scopes) fails the
//! node instead of sending the request without authentication. The delegated user is taken
//! only when "Impersonate a User" is on, as the credential's form shows it.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::engine::node::NodeError;
use crate::engine::nodes::types::js_string;
use crate::engine::services::{CachedToken, Services};
use crate::service::outbound::refusal;

/// What Google grants a signed assertion for (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The assertion's lifetime, Google's maximum.
const ASSERTION_LIFETIME: i64 = 3600;
/// A token is renewed this long before it expires, so it does not expire in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// A service account ready to ask for a token. No `Debug`: it holds the private key.
#[derive(Clone)]
pub struct ServiceAccount {
    email: String,
    private_key: String,
    scopes: String,
    subject: String,
}

/// What renews a service account's token when a service refuses it.
#[derive(Clone)]
pub struct Renewal {
    pub account: ServiceAccount,
    pub services: std::sync::Arc<dyn Services>,
}

impl ServiceAccount {
    pub fn from_credential(data: &Map<String, Value>) -> Result<ServiceAccount, NodeError> {
        let field = super::auth::credential_fields("googleApi", data);
        if field("httpNode") != "true" {
            return Err(NodeError::operation(
                "The Google service account credential is not set up for the HTTP Request node",
            )
            .with_description(
                "Turn on \"Set up for use in HTTP Request node\" in the credential and give the scopes to ask for.",
            ));
        }
        // A key pasted from the JSON file may keep its `\n` escapes.
        let private_key = field("privateKey").replace("\\n", "\n").trim().to_owned();
        let scopes = field("scopes")
            .replace("\\n", "\n")
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let email = field("email").trim().to_owned();
        let delegated = field("delegatedEmail").trim().to_owned();
        let subject = if field("inpersonate") == "true" && !delegated.is_empty() {
            delegated
        } else {
            email.clone()
        };
        Ok(ServiceAccount {
            email,
            private_key,
            scopes,
            subject,
        })
    }

    /// The token cache's key: everything that changes the token, the private key included
    /// (hashed: keys are not kept in the clear beyond the credential).
    fn cache_key(&self, token_url: &str) -> String {
        hex::encode(Sha256::digest(
            format!(
                "googleApi\n{token_url}\n{}\n{}\n{}\n{}",
                self.email, self.subject, self.scopes, self.private_key
            )
            .as_bytes(),
        ))
    }

    /// A token in place of `used`, which the service refused (401): a token revoked or
    /// expired early would otherwise be sent until the cache let it go, up to an hour. When
    /// another request already renewed it, that token; else a new one.
    pub async fn renewed(&self, services: &dyn Services, used: &str) -> Result<String, NodeError> {
        let shared = services.http();
        let key = self.cache_key(&shared.google_token_url);
        {
            let mut tokens = shared.tokens.lock().unwrap_or_else(|e| e.into_inner());
            let current = tokens.get(&key).map(|t| t.access_token.clone());
            match current {
                Some(current) if current != used => return Ok(current),
                Some(_) => {
                    tokens.remove(&key);
                }
                None => {}
            }
        }
        self.access_token(services).await
    }

    /// The access token for the account: the cached one while it lasts, else a new one.
    pub async fn access_token(&self, services: &dyn Services) -> Result<String, NodeError> {
        let shared = services.http();
        let token_url = shared.google_token_url.clone();
        let key = self.cache_key(&token_url);
        let cached = shared
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .filter(|t| t.expires.is_none_or(|e| e > Instant::now()))
            .cloned();
        if let Some(cached) = cached {
            return Ok(cached.access_token);
        }
        let assertion = self.assertion(&token_url, chrono::Utc::now().timestamp())?;
        let fetched = request_token(services, &token_url, &assertion).await?;
        let token = fetched.access_token.clone();
        shared
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, fetched);
        Ok(token)
    }

    /// The signed JWT asking `audience` for a token, issued at `now` (Unix seconds).
    fn assertion(&self, audience: &str, now: i64) -> Result<String, NodeError> {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&self.private_key)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(&self.private_key))
            .map_err(|_| {
                NodeError::operation("The private key of the Google credential is not valid")
                    .with_description(
                        "Paste the private_key of the service account's JSON key file, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----.",
                    )
            })?;
        let header = json!({"alg": "RS256", "typ": "JWT"});
        let claims = json!({
            "iss": self.email,
            "sub": self.subject,
            "scope": self.scopes,
            "aud": audience,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key);
        let signature = signer
            .try_sign(signing_input.as_bytes())
            .map_err(|_| NodeError::operation("Could not sign the Google token request"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }
}

/// Exchanges the assertion at the token URL (under the outbound policy, as every request).
async fn request_token(
    services: &dyn Services,
    token_url: &str,
    assertion: &str,
) -> Result<CachedToken, NodeError> {
    let failed = |detail: String| {
        NodeError::operation("Could not get a Google access token").with_description(detail)
    };
    let (url, client) = super::oauth2::token_client(services, token_url, "token URL", &failed)?;
    let response = client
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(Duration::from_secs(30))
        .form(&[("grant_type", JWT_BEARER), ("assertion", assertion)])
        .send()
        .await
        .map_err(|e| {
            failed(match refusal(&e) {
                Some(refused) => refused.to_string(),
                None => crate::service::outbound::without_url(&e),
            })
        })?;
    let status = response.status();
    let body: Map<String, Value> = response.json().await.unwrap_or_default();
    if !status.is_success() {
        // Google names the reason (`invalid_grant`, `Invalid JWT Signature.`); it holds no
        // secret.
        let reason = body
            .get("error_description")
            .or_else(|| body.get("error"))
            .map(js_string)
            .unwrap_or_else(|| super::errors::status_message(status.as_u16()).to_owned());
        return Err(NodeError::api(reason, Some("EAUTH".into())));
    }
    let access_token = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| failed("The token URL answered without an access_token".into()))?
        .to_owned();
    let lifetime =
        super::oauth2::expires_in(&body).unwrap_or(Duration::from_secs(ASSERTION_LIFETIME as u64));
    Ok(CachedToken {
        access_token,
        token_type: "Bearer".into(),
        expires: Some(Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    use rsa::signature::Verifier;

    fn account(key_pem: &str, extra: Value) -> Result<ServiceAccount, NodeError> {
        let mut data = json!({"email": "robot@project.iam.gserviceaccount.com",
                              "privateKey": key_pem, "httpNode": true,
                              "scopes": "https://www.googleapis.com/auth/drive,\n https://www.googleapis.com/auth/gmail.send"});
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
            data.extend(extra.clone());
        }
        ServiceAccount::from_credential(data.as_object().expect("object"))
    }

    #[test]
    fn the_assertion_is_an_rs256_jwt_with_googles_claims() {
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("key");
        let pem = key.to_pkcs8_pem(LineEnding::LF).expect("pem");
        // As pasted from a JSON key file: escaped newlines.
        let escaped = pem.replace('\n', "\\n");
        let account = account(
            &escaped,
            json!({"inpersonate": true, "delegatedEmail": "ada@example.com"}),
        )
        .expect("account");
        let jwt = account
            .assertion("https://oauth2.googleapis.com/token", 1_700_000_000)
            .expect("jwt");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| -> Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64")).expect("json")
        };
        assert_eq!(decode(parts[0]), json!({"alg": "RS256", "typ": "JWT"}));
        assert_eq!(
            decode(parts[1]),
            json!({"iss": "robot@project.iam.gserviceaccount.com", "sub": "ada@example.com",
                   "scope": "https://www.googleapis.com/auth/drive https://www.googleapis.com/auth/gmail.send",
                   "aud": "https://oauth2.googleapis.com/token",
                   "iat": 1_700_000_000, "exp": 1_700_003_600})
        );
        let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.to_public_key());
        let signature = rsa::pkcs1v15::Signature::try_from(
            URL_SAFE_NO_PAD.decode(parts[2]).expect("base64").as_slice(),
        )
        .expect("signature");
        verifier
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("a valid signature");
    }

    #[test]
    fn the_delegated_user_counts_only_when_impersonating() {
        let account = account("k", json!({"delegatedEmail": "ada@example.com"})).expect("ok");
        assert_eq!(account.subject, "robot@project.iam.gserviceaccount.com");
    }

    #[test]
    fn a_credential_not_set_up_for_the_node_or_a_bad_key_is_refused() {
        let error = account("k", json!({"httpNode": false}))
            .err()
            .expect("refused");
        assert_eq!(
            error.message,
            "The Google service account credential is not set up for the HTTP Request node"
        );
        let error = account("not a key", json!({}))
            .expect("account")
            .assertion("https://oauth2.googleapis.com/token", 0)
            .expect_err("bad key");
        assert_eq!(
            error.message,
            "The private key of the Google credential is not valid"
        );
        assert!(
            !format!("{} {:?}", error.message, error.details.description).contains("not a key")
        );
    }
}
