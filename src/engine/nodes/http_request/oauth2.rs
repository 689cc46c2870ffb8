//! The generic OAuth2 credential (`oAuth2Api`): a client-credentials token is fetched from the
//! token URL and kept in memory for its lifetime (and fetched again when a service answers
//! 401); other grants use the token stored in the credential (`oauthTokenData`), which the
//! editor's connect flow puts there.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::engine::node::{NodeError, NodeRun};
use crate::engine::nodes::types::js_string;
use crate::engine::services::{CachedToken, Services};
use crate::service::outbound::{refusal, ClientOptions};

/// A token without `expires_in` is kept this long.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// A token is renewed this long before it expires, so it does not expire in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct OAuth2 {
    /// Identifies the client (token URL, id, secret, scope) in the token cache.
    cache_key: String,
    client_credentials: bool,
    access_token_url: String,
    client_id: String,
    client_secret: String,
    scope: String,
    /// Client id and secret go in the token request's body, not in a Basic header.
    send_in_body: bool,
    stored_token: Option<String>,
    services: Option<Arc<dyn Services>>,
}

impl std::fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2")
            .field("access_token_url", &self.access_token_url)
            .finish_non_exhaustive()
    }
}

impl OAuth2 {
    pub fn from_credential(
        run: &NodeRun<'_>,
        data: &Map<String, Value>,
    ) -> Result<OAuth2, NodeError> {
        let field = |name: &str| data.get(name).map(js_string).unwrap_or_default();
        let grant = data
            .get("grantType")
            .and_then(Value::as_str)
            .unwrap_or("authorizationCode");
        let access_token_url = field("accessTokenUrl");
        let client_id = field("clientId");
        let client_secret = field("clientSecret");
        let scope = field("scope");
        let digest = Sha256::digest(
            format!("{access_token_url}\n{client_id}\n{client_secret}\n{scope}").as_bytes(),
        );
        Ok(OAuth2 {
            cache_key: digest.iter().map(|b| format!("{b:02x}")).collect(),
            client_credentials: grant == "clientCredentials",
            access_token_url,
            client_id,
            client_secret,
            scope,
            send_in_body: data.get("authentication").and_then(Value::as_str) == Some("body"),
            stored_token: stored_token(data),
            services: run.env.services.clone(),
        })
    }

    /// Whether a new token can be fetched when the service refuses the current one.
    pub fn renewable(&self) -> bool {
        self.client_credentials
    }

    /// The access token to send; `renew` fetches a new one (client credentials only).
    pub async fn access_token(&self, renew: bool) -> Result<String, NodeError> {
        if !self.client_credentials {
            return self
                .stored_token
                .clone()
                .ok_or_else(|| NodeError::operation("OAuth credentials not connected"));
        }
        let services = self
            .services
            .as_ref()
            .ok_or_else(|| NodeError::operation("OAuth2 tokens are not available in this run"))?;
        let tokens = &services.http().tokens;
        if !renew {
            let cached = tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&self.cache_key)
                .filter(|t| t.expires.is_none_or(|e| e > Instant::now()))
                .cloned();
            if let Some(cached) = cached {
                return Ok(cached.access_token);
            }
            if let Some(stored) = &self.stored_token {
                return Ok(stored.clone());
            }
        }
        let fetched = self.fetch(services.as_ref()).await?;
        let token = fetched.access_token.clone();
        tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.cache_key.clone(), fetched);
        Ok(token)
    }

    /// Asks the token URL for a client-credentials token.
    async fn fetch(&self, services: &dyn Services) -> Result<CachedToken, NodeError> {
        let failed = |detail: String| {
            NodeError::operation("Could not get an OAuth2 access token").with_description(detail)
        };
        let url = reqwest::Url::parse(&self.access_token_url).map_err(|_| {
            failed(format!(
                "The access token URL \"{}\" is not valid",
                self.access_token_url
            ))
        })?;
        let outbound = &services.http().outbound;
        outbound
            .policy()
            .check_url(&url)
            .map_err(|e| failed(e.to_string()))?;
        let client = outbound
            .client(&ClientOptions::default())
            .map_err(|e| failed(e.to_string()))?;
        let mut form = vec![("grant_type", "client_credentials")];
        if !self.scope.trim().is_empty() {
            form.push(("scope", self.scope.trim()));
        }
        let mut request = client
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(Duration::from_secs(30));
        if self.send_in_body {
            form.push(("client_id", &self.client_id));
            form.push(("client_secret", &self.client_secret));
        } else {
            request = request.basic_auth(&self.client_id, Some(&self.client_secret));
        }
        let response = request.form(&form).send().await.map_err(|e| {
            failed(match refusal(&e) {
                Some(refused) => refused.to_string(),
                None => crate::service::outbound::without_url(&e),
            })
        })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let detail = body
                .get("error_description")
                .or_else(|| body.get("error"))
                .map(js_string)
                .unwrap_or_else(|| format!("The token URL answered {}", status.as_u16()));
            let mut error = failed(detail);
            error.name = "NodeApiError";
            error.details.http_code = Some(status.as_u16().to_string());
            return Err(error);
        }
        let access_token = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| failed("The token URL answered without an access_token".into()))?
            .to_owned();
        let lifetime = body
            .get("expires_in")
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
            .filter(|s| *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_LIFETIME);
        Ok(CachedToken {
            access_token,
            token_type: body
                .get("token_type")
                .and_then(Value::as_str)
                .unwrap_or("Bearer")
                .to_owned(),
            expires: Some(Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN)),
        })
    }
}

/// `oauthTokenData.access_token`; the token data may be stored as an object or as JSON text.
fn stored_token(data: &Map<String, Value>) -> Option<String> {
    let token_data = match data.get("oauthTokenData")? {
        Value::String(text) => serde_json::from_str::<Value>(text).ok()?,
        other => other.clone(),
    };
    token_data
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}
