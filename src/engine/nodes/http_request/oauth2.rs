//! The generic OAuth2 credential (`oAuth2Api`): a client-credentials token is fetched from the
//! token URL when the credential holds none, kept in memory for its lifetime and written back
//! into the credential, sealed (and fetched again when a service answers 401); other grants
//! use the token stored in the credential (`oauthTokenData`), which the editor's connect flow
//! puts there. When a service answers 401 to a stored token, it is
//! refreshed with its refresh token at the token URL (as n8n does: it does not guess expiry,
//! the 401 says so), the new token data is written back into the credential, sealed, and the
//! request is sent again. Tokens never go into items, errors or logs.

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
    /// The stored token data, shared by the requests of one node run so that one refresh
    /// serves them all.
    token_data: Arc<tokio::sync::Mutex<Map<String, Value>>>,
    /// The token data is stored as JSON text (as this server's API takes it) rather than as
    /// an object (as n8n's editor stores it); it is written back the same way.
    token_as_text: bool,
    /// The credential the token data is written back to: project, type and id.
    credential: (Option<String>, String, String),
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
            token_data: Arc::new(tokio::sync::Mutex::new(
                token_data(data).unwrap_or_default(),
            )),
            token_as_text: matches!(data.get("oauthTokenData"), Some(Value::String(_))),
            credential: (
                run.workflow.project_id.clone(),
                KIND.to_owned(),
                run.node
                    .credentials
                    .get(KIND)
                    .and_then(|c| c.get("id"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            ),
            services: run.env.services.clone(),
        })
    }

    /// The stored access token as it is now (after a refresh by another request of the run);
    /// `None` for client credentials, whose tokens live in the shared cache.
    pub async fn current(&self) -> Option<String> {
        if self.client_credentials {
            return None;
        }
        self.token_data
            .lock()
            .await
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }

    /// A new access token after the service refused `used`: fetched again (client
    /// credentials) or refreshed and stored (other grants). When another request of the run
    /// refreshed it meanwhile, that token is taken.
    pub async fn renewed(&self, used: &str) -> Result<String, NodeError> {
        if self.client_credentials {
            return self.access_token(true).await;
        }
        let mut data = self.token_data.lock().await;
        if let Some(current) = data.get("access_token").and_then(Value::as_str) {
            if current != used && !current.is_empty() {
                return Ok(current.to_owned());
            }
        }
        let services = self
            .services
            .as_ref()
            .ok_or_else(|| NodeError::operation("OAuth2 tokens are not available in this run"))?;
        let refresh_token = data
            .get("refresh_token")
            .map(js_string)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                NodeError::api("refreshToken is required", Some("ERR_ASSERTION".into()))
            })?;
        let answer = self
            .token_request(services.as_ref(), "refresh_token", Some(&refresh_token))
            .await?;
        let token = answer
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                NodeError::operation("Could not refresh the OAuth2 access token")
                    .with_description("The token URL answered without an access_token")
            })?
            .to_owned();
        // n8n keeps what the answer leaves out (the refresh token, often) from the old data.
        data.extend(answer);
        self.write_back(services.as_ref(), data.clone()).await?;
        Ok(token)
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
        let (fetched, body) = self.fetch(services.as_ref()).await?;
        let token = fetched.access_token.clone();
        tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.cache_key.clone(), fetched);
        // As n8n does, the fetched token is stored in the credential (sealed), so that later
        // runs, on any instance and after a restart, use it until a service refuses it. The
        // token is good either way: a failed write (logged) does not fail the request.
        let _ = self.write_back(services.as_ref(), body).await;
        Ok(token)
    }

    /// Stores `token_data` as the credential's `oauthTokenData`, in the form it had (JSON
    /// text as this server's API takes it, or an object as n8n's editor stores it; an object
    /// when there was none, as n8n writes a client-credentials token).
    async fn write_back(
        &self,
        services: &dyn Services,
        token_data: Map<String, Value>,
    ) -> Result<(), NodeError> {
        let (project, kind, id) = &self.credential;
        let stored = if self.token_as_text {
            Value::String(Value::Object(token_data).to_string())
        } else {
            Value::Object(token_data)
        };
        services
            .store_oauth_token_data(project.as_deref(), kind, id, stored)
            .await
    }

    /// Asks the token URL for a client-credentials token; answers it and the token URL's
    /// fields (what is stored back).
    async fn fetch(
        &self,
        services: &dyn Services,
    ) -> Result<(CachedToken, Map<String, Value>), NodeError> {
        let body = self
            .token_request(services, "client_credentials", None)
            .await?;
        let access_token = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                NodeError::operation("Could not get an OAuth2 access token")
                    .with_description("The token URL answered without an access_token")
            })?
            .to_owned();
        let lifetime = expires_in(&body).unwrap_or(DEFAULT_LIFETIME);
        let cached = CachedToken {
            access_token,
            token_type: body
                .get("token_type")
                .and_then(Value::as_str)
                .unwrap_or("Bearer")
                .to_owned(),
            expires: Some(Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN)),
        };
        Ok((cached, body))
    }

    /// A token request (`grant_type` client credentials or refresh token) to the token URL,
    /// its client authenticated in a Basic header or in the body as the credential says (a
    /// client without a secret sends its id in the body); answers the token URL's JSON (or
    /// form-encoded) fields.
    async fn token_request(
        &self,
        services: &dyn Services,
        grant: &str,
        refresh_token: Option<&str>,
    ) -> Result<Map<String, Value>, NodeError> {
        let action = if refresh_token.is_some() {
            "Could not refresh the OAuth2 access token"
        } else {
            "Could not get an OAuth2 access token"
        };
        let failed = |detail: String| NodeError::operation(action).with_description(detail);
        let (url, client) = token_client(
            services,
            &self.access_token_url,
            "access token URL",
            &failed,
        )?;
        let mut form = vec![("grant_type", grant)];
        match refresh_token {
            Some(token) => form.insert(0, ("refresh_token", token)),
            None if !self.scope.trim().is_empty() => form.push(("scope", self.scope.trim())),
            None => {}
        }
        let mut request = client
            .post(url)
            .header(
                reqwest::header::ACCEPT,
                "application/json, application/x-www-form-urlencoded",
            )
            .timeout(Duration::from_secs(30));
        if self.client_secret.is_empty() && refresh_token.is_some() {
            form.push(("client_id", &self.client_id));
        } else if self.send_in_body {
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
        let text = response.text().await.unwrap_or_default();
        let body: Map<String, Value> = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => map,
            _ => form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        };
        // As n8n: a refusal naming an OAuth2 error is an authentication error (`EAUTH`);
        // any other status outside 2xx is reported by its status.
        if !status.is_success() {
            let code = status.as_u16();
            let named = body
                .get("error_description")
                .or_else(|| body.get("error"))
                .filter(|_| code >= 400 && body.contains_key("error"))
                .map(js_string);
            let error = match named {
                Some(message) => NodeError::api(message, Some("EAUTH".into())),
                None => NodeError::api(super::errors::status_message(code), Some(code.to_string()))
                    .with_description(format!("HTTP status {code}")),
            };
            return Err(error);
        }
        Ok(body)
    }
}

/// The credential type whose token data this module reads and writes.
const KIND: &str = "oAuth2Api";

/// `oauthTokenData`; it may be stored as an object or as JSON text.
fn token_data(data: &Map<String, Value>) -> Option<Map<String, Value>> {
    match data.get("oauthTokenData")? {
        Value::String(text) => serde_json::from_str::<Map<String, Value>>(text).ok(),
        Value::Object(map) => Some(map.clone()),
        _ => None,
    }
}

/// `oauthTokenData.access_token`.
fn stored_token(data: &Map<String, Value>) -> Option<String> {
    token_data(data)?
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// A token answer's `expires_in` (seconds, as a number or as text), when it gives one.
pub(super) fn expires_in(body: &Map<String, Value>) -> Option<Duration> {
    body.get("expires_in")
        .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
}

/// The client for a token endpoint (OAuth2, Google service accounts), once the outbound
/// policy has passed its URL; `label` names the URL in the error when it does not parse.
pub(super) fn token_client(
    services: &dyn Services,
    url: &str,
    label: &str,
    failed: &dyn Fn(String) -> NodeError,
) -> Result<(reqwest::Url, reqwest::Client), NodeError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| failed(format!("The {label} \"{url}\" is not valid")))?;
    let outbound = &services.http().outbound;
    outbound
        .policy()
        .check_url(&parsed)
        .map_err(|e| failed(e.to_string()))?;
    let client = outbound
        .client(&ClientOptions::default())
        .map_err(|e| failed(e.to_string()))?;
    Ok((parsed, client))
}
