//! Outbound HTTP requests the server makes on a user's behalf (workflow HTTP requests,
//! credential tests, OAuth2 token requests), all under one policy against server-side request
//! forgery: only http(s); cloud metadata addresses refused unless the operator allows them;
//! private networks refused when the operator says so (and always for credential tests,
//! unless allowed); optionally an allow-list of hosts. Names are checked after DNS resolution
//! and the connection goes to the checked address; every redirect is checked again.

pub mod address;
pub mod client;
pub mod config;
pub mod policy;

use std::sync::Arc;
use std::time::Duration;

pub use address::{is_internal, is_metadata};
pub use client::{refusal, ClientOptions};
pub use config::OutboundConfig;
pub use policy::OutboundPolicy;

#[derive(Clone, Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("The URL is not valid")]
    InvalidUrl,
    #[error("Only http and https URLs can be requested")]
    Scheme,
    #[error("The host \"{0}\" could not be resolved")]
    Resolve(String),
    #[error("Requests to private, loopback or link-local addresses are not allowed")]
    Forbidden,
    #[error("Requests to cloud metadata addresses are not allowed ({0})")]
    Metadata(String),
    #[error(
        "The host \"{0}\" is not in the hosts this instance may call (N8N_OUTBOUND_ALLOWED_HOSTS)"
    )]
    HostNotAllowed(String),
    #[error("Maximum number of redirects exceeded")]
    TooManyRedirects,
    #[error("The proxy \"{0}\" is not a valid URL")]
    InvalidProxy(String),
    #[error("The request failed: {0}")]
    Request(String),
}

/// The policy with the clients built under it, one per set of options (a client keeps its
/// connections, so requests with the same options share them).
pub struct Outbound {
    policy: Arc<OutboundPolicy>,
    clients: std::sync::Mutex<std::collections::HashMap<ClientOptions, reqwest::Client>>,
}

/// Distinct client options kept at most; past this the cache starts over.
const CLIENT_CACHE: usize = 64;

impl Outbound {
    pub fn new(policy: OutboundPolicy) -> Outbound {
        Outbound {
            policy: Arc::new(policy),
            clients: Default::default(),
        }
    }

    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// A client with `options`, built on first use.
    pub fn client(&self, options: &ClientOptions) -> Result<reqwest::Client, OutboundError> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = clients.get(options) {
            return Ok(found.clone());
        }
        let built = client::build(&self.policy, options)?;
        if clients.len() >= CLIENT_CACHE {
            clients.clear();
        }
        clients.insert(options.clone(), built.clone());
        Ok(built)
    }
}

/// A `GET` of `url` with `headers`, under `policy`, without following redirects and with a
/// 10 second limit. Answers the status code.
pub async fn get(
    url: &str,
    headers: &[(String, String)],
    policy: &OutboundPolicy,
) -> Result<u16, OutboundError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| OutboundError::InvalidUrl)?;
    policy.check_url(&parsed)?;
    let policy = Arc::new(policy.clone());
    let client = client::build(&policy, &ClientOptions::default())?;
    let mut request = client.get(parsed).timeout(Duration::from_secs(10));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.map_err(|e| match refusal(&e) {
        Some(refused) => refused.clone(),
        None => OutboundError::Request(without_url(&e)),
    })?;
    Ok(response.status().as_u16())
}

/// A request error's text without its URL (which may carry a secret, e.g. a bot token).
pub fn without_url(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the connection failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_to_internal_or_odd_urls_are_refused_before_any_connection() {
        let strict = OutboundPolicy::default().blocking_private();
        assert!(matches!(
            get("http://127.0.0.1:9/", &[], &strict).await,
            Err(OutboundError::Forbidden)
        ));
        assert!(matches!(
            get("http://169.254.169.254/latest/meta-data", &[], &strict).await,
            Err(OutboundError::Metadata(_))
        ));
        assert!(matches!(
            get("http://[::1]:9/", &[], &strict).await,
            Err(OutboundError::Forbidden)
        ));
        assert!(matches!(
            get("file:///etc/passwd", &[], &strict).await,
            Err(OutboundError::Scheme)
        ));
        assert!(matches!(
            get("not a url", &[], &strict).await,
            Err(OutboundError::InvalidUrl)
        ));
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_forbidden_address_is_refused_by_the_resolver() {
        let strict = Arc::new(OutboundPolicy::default().blocking_private());
        let client = client::build(&strict, &ClientOptions::default()).expect("client");
        let error = client
            .get("http://localhost:9/")
            .send()
            .await
            .expect_err("refused");
        assert!(
            matches!(refusal(&error), Some(OutboundError::Forbidden)),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn behind_a_proxy_the_target_is_resolved_and_checked_before_sending() {
        let strict = OutboundPolicy::default().blocking_private();
        let url = reqwest::Url::parse("http://localhost:9/").expect("url");
        assert!(matches!(
            client::check_target(&strict, &url, true).await,
            Err(OutboundError::Forbidden)
        ));
        // Without a proxy the name is left to the client's resolver, which checks it.
        assert!(client::check_target(&strict, &url, false).await.is_ok());
    }

    #[test]
    fn clients_are_built_once_per_set_of_options() {
        let outbound = Outbound::new(OutboundPolicy::default());
        let options = ClientOptions::default();
        outbound.client(&options).expect("client");
        outbound.client(&options).expect("client");
        let following = ClientOptions {
            follow_redirects: true,
            ..ClientOptions::default()
        };
        outbound.client(&following).expect("client");
        let cached = outbound.clients.lock().map(|c| c.len()).unwrap_or(0);
        assert_eq!(cached, 2);
        assert!(matches!(
            outbound.client(&ClientOptions {
                proxy: Some("not a proxy url".into()),
                ..ClientOptions::default()
            }),
            Err(OutboundError::InvalidProxy(_))
        ));
    }
}
