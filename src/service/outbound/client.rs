//! HTTP clients that cannot leave the outbound policy: a DNS resolver that refuses names
//! resolving to forbidden addresses (so the connection goes only to checked addresses, with no
//! second lookup an attacker could rebind), and a redirect policy that checks every hop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;

use super::policy::OutboundPolicy;
use super::OutboundError;

/// How a client treats redirects, certificates and proxies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientOptions {
    pub follow_redirects: bool,
    /// Redirects followed at most, when following.
    pub max_redirects: usize,
    /// Accept invalid or self-signed certificates.
    pub accept_invalid_certs: bool,
    /// `http://host:port` of a proxy to send every request through.
    pub proxy: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            follow_redirects: false,
            max_redirects: 21,
            accept_invalid_certs: false,
            proxy: None,
        }
    }
}

/// Resolves names with the system resolver and refuses those with a forbidden address.
struct PolicyResolver {
    policy: Arc<OutboundPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let addresses = resolve_checked(&policy, name.as_str()).await?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// The addresses of `host`, each checked against `policy`. Any forbidden address refuses the
/// whole name: a name answering a public and a metadata address must not get a second try.
pub async fn resolve_checked(
    policy: &OutboundPolicy,
    host: &str,
) -> Result<Vec<SocketAddr>, OutboundError> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|_| OutboundError::Resolve(host.to_owned()))?
        .collect();
    if addresses.is_empty() {
        return Err(OutboundError::Resolve(host.to_owned()));
    }
    for address in &addresses {
        policy.check_ip(address.ip())?;
    }
    Ok(addresses)
}

fn redirect_policy(policy: Arc<OutboundPolicy>, options: &ClientOptions) -> redirect::Policy {
    if !options.follow_redirects {
        return redirect::Policy::none();
    }
    let max = options.max_redirects;
    redirect::Policy::custom(move |attempt| {
        // `previous` holds the first URL too: its length is the number of hops so far.
        if attempt.previous().len() > max {
            return attempt.error(OutboundError::TooManyRedirects);
        }
        match policy.check_url(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        }
    })
}

/// A client under `policy`. The system proxy settings are not used: a proxy would resolve
/// names out of the policy's sight, so only a proxy named in the request is taken.
pub fn build(
    policy: &Arc<OutboundPolicy>,
    options: &ClientOptions,
) -> Result<reqwest::Client, OutboundError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("flowgate/", env!("CARGO_PKG_VERSION")))
        .no_proxy()
        .dns_resolver(Arc::new(PolicyResolver {
            policy: Arc::clone(policy),
        }))
        .redirect(redirect_policy(Arc::clone(policy), options))
        .danger_accept_invalid_certs(options.accept_invalid_certs)
        .connect_timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(30));
    if let Some(proxy) = &options.proxy {
        let proxy = reqwest::Proxy::all(proxy.as_str())
            .map_err(|_| OutboundError::InvalidProxy(proxy.clone()))?;
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|e| OutboundError::Request(e.to_string()))
}

/// Checks a request's URL before it is sent. IP literals are never resolved, so they are
/// checked here; behind a proxy the target is resolved by the proxy, so it is resolved and
/// checked here first.
pub async fn check_target(
    policy: &OutboundPolicy,
    url: &reqwest::Url,
    via_proxy: bool,
) -> Result<(), OutboundError> {
    policy.check_url(url)?;
    if via_proxy {
        let host = url.host_str().ok_or(OutboundError::InvalidUrl)?;
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if literal.parse::<std::net::IpAddr>().is_err() {
            resolve_checked(policy, host).await?;
        }
    }
    Ok(())
}

/// The policy's refusal behind a failed request, if that is why it failed.
pub fn refusal(error: &reqwest::Error) -> Option<&OutboundError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<OutboundError>() {
            return Some(refused);
        }
        source = current.source();
    }
    None
}
