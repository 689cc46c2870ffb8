//! Outbound HTTP requests the server makes on a user's behalf (credential tests), behind a
//! guard against server-side request forgery: only http(s); the host's addresses are
//! resolved first and refused when any is loopback, private, link-local (cloud metadata
//! lives there), shared, multicast or unspecified, unless the operator allows private
//! networks; the connection then goes to the checked address (no second lookup an attacker
//! could rebind), redirects are not followed, and the request times out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("The URL is not valid")]
    InvalidUrl,
    #[error("Only http and https URLs can be requested")]
    Scheme,
    #[error("The host could not be resolved")]
    Resolve,
    #[error("Requests to private, loopback or link-local addresses are not allowed")]
    Forbidden,
    #[error("The request failed: {0}")]
    Request(String),
}

/// Whether `ip` is outside the public internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || v6 == Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0) // NAT64 prefix itself
        }
    }
}

fn is_internal_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..=127).contains(&b)) // shared address space 100.64.0.0/10
        || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
        || a >= 240 // reserved
}

/// A `GET` of `url` with `headers`, through the guard. Answers the status code.
pub async fn get(
    url: &str,
    headers: &[(String, String)],
    allow_private: bool,
) -> Result<u16, OutboundError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| OutboundError::InvalidUrl)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(OutboundError::Scheme);
    }
    let host = parsed
        .host_str()
        .ok_or(OutboundError::InvalidUrl)?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed
        .port_or_known_default()
        .ok_or(OutboundError::InvalidUrl)?;
    let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| OutboundError::Resolve)?
            .collect(),
    };
    let Some(first) = addresses.first().copied() else {
        return Err(OutboundError::Resolve);
    };
    if !allow_private && addresses.iter().any(|a| is_internal(a.ip())) {
        return Err(OutboundError::Forbidden);
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .resolve(&host, first)
        .build()
        .map_err(|e| OutboundError::Request(e.to_string()))?;
    let mut request = client.get(parsed);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request
        .send()
        .await
        .map_err(|e| OutboundError::Request(without_url(&e)))?;
    Ok(response.status().as_u16())
}

/// A request error's text without its URL (which may carry a secret, e.g. a bot token).
fn without_url(error: &reqwest::Error) -> String {
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

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(is_internal(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_internal(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[tokio::test]
    async fn requests_to_internal_or_odd_urls_are_refused_before_any_connection() {
        assert!(matches!(
            get("http://127.0.0.1:9/", &[], false).await,
            Err(OutboundError::Forbidden)
        ));
        assert!(matches!(
            get("http://169.254.169.254/latest/meta-data", &[], false).await,
            Err(OutboundError::Forbidden)
        ));
        assert!(matches!(
            get("http://[::1]:9/", &[], false).await,
            Err(OutboundError::Forbidden)
        ));
        assert!(matches!(
            get("file:///etc/passwd", &[], false).await,
            Err(OutboundError::Scheme)
        ));
        assert!(matches!(
            get("not a url", &[], false).await,
            Err(OutboundError::InvalidUrl)
        ));
        assert!(matches!(
            get("http://localhost:9/", &[], false).await,
            Err(OutboundError::Forbidden)
        ));
    }
}
