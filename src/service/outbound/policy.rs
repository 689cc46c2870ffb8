//! The rules every outbound request obeys, in one place: which hosts may be named and which
//! addresses may be connected to. The rules are pure (no I/O) so they are checked the same way
//! on the first URL, after DNS resolution, and on every redirect.

use std::net::IpAddr;

use super::address::{is_internal, is_metadata};
use super::config::OutboundConfig;
use super::OutboundError;

/// Host names that serve cloud metadata (and with it the host's cloud credentials).
const METADATA_HOSTS: &[&str] = &["metadata.google.internal", "metadata.goog", "metadata"];

/// What outbound requests may reach.
#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy {
    /// Refuse loopback, private, link-local and other internal addresses.
    pub block_private: bool,
    /// Let requests reach cloud metadata addresses.
    pub allow_metadata: bool,
    /// When not empty, the only hosts that may be named.
    pub allowed_hosts: Vec<HostPattern>,
}

/// One entry of the allowed hosts: a host (`api.example.com`, `10.0.0.5`) or every subdomain
/// of a domain (`*.example.com`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPattern {
    Exact(String),
    Subdomains(String),
}

impl HostPattern {
    pub fn parse(text: &str) -> Option<HostPattern> {
        let text = normalise_host(text.trim());
        if text.is_empty() {
            return None;
        }
        Some(match text.strip_prefix("*.") {
            Some(domain) if !domain.is_empty() => HostPattern::Subdomains(domain.to_owned()),
            _ => HostPattern::Exact(text),
        })
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(name) => host == name,
            HostPattern::Subdomains(domain) => host
                .strip_suffix(domain.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
        }
    }
}

impl OutboundPolicy {
    pub fn from_config(config: &OutboundConfig) -> OutboundPolicy {
        OutboundPolicy {
            block_private: config.block_private_networks,
            allow_metadata: config.allow_cloud_metadata,
            allowed_hosts: config
                .allowed_hosts
                .split(',')
                .filter_map(HostPattern::parse)
                .collect(),
        }
    }

    /// This policy, with private networks refused as well.
    pub fn blocking_private(&self) -> OutboundPolicy {
        OutboundPolicy {
            block_private: true,
            ..self.clone()
        }
    }

    /// Checks a URL before any connection: scheme, allowed hosts, metadata names, and the
    /// address itself when the host is an IP literal (those are never resolved).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), OutboundError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundError::Scheme);
        }
        let host = url.host_str().ok_or(OutboundError::InvalidUrl)?;
        self.check_host(host)
    }

    /// Checks a host name (or IP literal) as written in a URL.
    pub fn check_host(&self, host: &str) -> Result<(), OutboundError> {
        let host = normalise_host(host);
        if !self.allowed_hosts.is_empty() && !self.allowed_hosts.iter().any(|p| p.matches(&host)) {
            return Err(OutboundError::HostNotAllowed(host));
        }
        if !self.allow_metadata && METADATA_HOSTS.contains(&host.as_str()) {
            return Err(OutboundError::Metadata(host));
        }
        match host.parse::<IpAddr>() {
            Ok(ip) => self.check_ip(ip),
            Err(_) => Ok(()),
        }
    }

    /// Checks an address a host resolved to (or an IP literal).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), OutboundError> {
        if !self.allow_metadata && is_metadata(ip) {
            return Err(OutboundError::Metadata(ip.to_string()));
        }
        if self.block_private && is_internal(ip) {
            return Err(OutboundError::Forbidden);
        }
        Ok(())
    }
}

/// A host as URLs carry it, compared case-insensitively, without IPv6 brackets or a trailing
/// dot (`Example.COM.` is `example.com`).
fn normalise_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).expect("url")
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for text in [
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
            assert!(is_internal(ip(text)), "{text}");
        }
        for text in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_internal(ip(text)), "{text}");
        }
    }

    #[test]
    fn the_default_policy_allows_private_networks_but_not_cloud_metadata() {
        let policy = OutboundPolicy::default();
        for allowed in ["127.0.0.1", "10.0.0.8", "192.168.1.20", "::1", "8.8.8.8"] {
            assert!(policy.check_ip(ip(allowed)).is_ok(), "{allowed}");
        }
        for refused in [
            "169.254.169.254",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "100.100.100.200",
        ] {
            assert!(
                matches!(
                    policy.check_ip(ip(refused)),
                    Err(OutboundError::Metadata(_))
                ),
                "{refused}"
            );
        }
        assert!(matches!(
            policy.check_url(&url("http://metadata.google.internal/computeMetadata/v1/")),
            Err(OutboundError::Metadata(_))
        ));
        assert!(matches!(
            policy.check_url(&url("http://169.254.169.254/latest/meta-data")),
            Err(OutboundError::Metadata(_))
        ));
        assert!(matches!(
            policy.check_url(&url("http://[fd00:ec2::254]/latest")),
            Err(OutboundError::Metadata(_))
        ));
        assert!(policy.check_url(&url("http://127.0.0.1:8080/x")).is_ok());
    }

    #[test]
    fn metadata_may_be_allowed_by_the_operator() {
        let policy = OutboundPolicy {
            allow_metadata: true,
            ..OutboundPolicy::default()
        };
        assert!(policy.check_ip(ip("169.254.169.254")).is_ok());
        assert!(policy
            .check_url(&url("http://metadata.google.internal/"))
            .is_ok());
    }

    #[test]
    fn blocking_private_networks_refuses_every_internal_address() {
        let policy = OutboundPolicy::default().blocking_private();
        for refused in ["127.0.0.1", "10.0.0.8", "::1", "172.20.0.1"] {
            assert!(
                matches!(policy.check_ip(ip(refused)), Err(OutboundError::Forbidden)),
                "{refused}"
            );
        }
        assert!(policy.check_ip(ip("93.184.215.14")).is_ok());
        assert!(matches!(
            policy.check_url(&url("http://[::1]:9/")),
            Err(OutboundError::Forbidden)
        ));
    }

    #[test]
    fn the_allow_list_names_hosts_and_subdomains() {
        let config = OutboundConfig {
            block_private_networks: false,
            allow_cloud_metadata: false,
            allowed_hosts: " api.example.com, *.trusted.org ,127.0.0.1,".to_owned(),
        };
        let policy = OutboundPolicy::from_config(&config);
        assert_eq!(policy.allowed_hosts.len(), 3);
        for allowed in [
            "https://api.example.com/v1",
            "https://API.Example.com./v1",
            "https://a.trusted.org/",
            "https://deep.a.trusted.org/",
            "http://127.0.0.1:3000/",
        ] {
            assert!(policy.check_url(&url(allowed)).is_ok(), "{allowed}");
        }
        for refused in [
            "https://example.com/",
            "https://trusted.org/",
            "https://eviltrusted.org/",
            "https://api.example.com.evil.net/",
            "http://127.0.0.2/",
        ] {
            assert!(
                matches!(
                    policy.check_url(&url(refused)),
                    Err(OutboundError::HostNotAllowed(_))
                ),
                "{refused}"
            );
        }
    }

    #[test]
    fn only_http_and_https_are_requested() {
        let policy = OutboundPolicy::default();
        assert!(matches!(
            policy.check_url(&url("file:///etc/passwd")),
            Err(OutboundError::Scheme)
        ));
        assert!(matches!(
            policy.check_url(&url("ftp://example.com/")),
            Err(OutboundError::Scheme)
        ));
    }
}
