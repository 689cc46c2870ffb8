use std::net::IpAddr;

use crate::service::outbound::{OutboundError, OutboundPolicy};

/// What a policy answers for an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Allowed,
    Forbidden,
    Metadata,
}
use Verdict::{Allowed, Forbidden, Metadata};

/// One address per row (first, last or inside a range of the IANA IPv4 and IPv6
/// special-purpose registries, plus multicast and a few global addresses), with the verdict
/// of the default policy and of the policy that blocks private networks.
const SPECIAL_PURPOSE: &[(&str, &str, Verdict, Verdict)] = &[
    // IPv4
    ("0.0.0.0/8 this network", "0.0.0.0", Allowed, Forbidden),
    (
        "0.0.0.0/8 this network",
        "0.255.255.255",
        Allowed,
        Forbidden,
    ),
    ("10.0.0.0/8 private", "10.20.30.40", Allowed, Forbidden),
    ("100.64.0.0/10 CGNAT", "100.64.0.1", Allowed, Forbidden),
    ("100.64.0.0/10 CGNAT", "100.127.255.254", Allowed, Forbidden),
    ("100.64.0.0/10 CGNAT", "100.100.100.200", Metadata, Metadata),
    ("just past CGNAT", "100.128.0.1", Allowed, Allowed),
    ("127.0.0.0/8 loopback", "127.0.0.1", Allowed, Forbidden),
    ("127.0.0.0/8 loopback", "127.255.0.9", Allowed, Forbidden),
    (
        "169.254.0.0/16 link-local",
        "169.254.1.1",
        Allowed,
        Forbidden,
    ),
    (
        "169.254.0.0/16 link-local",
        "169.254.169.254",
        Metadata,
        Metadata,
    ),
    (
        "169.254.0.0/16 link-local",
        "169.254.170.2",
        Metadata,
        Metadata,
    ),
    (
        "172.16.0.0/12 private",
        "172.31.255.255",
        Allowed,
        Forbidden,
    ),
    ("just past 172.16.0.0/12", "172.32.0.1", Allowed, Allowed),
    (
        "192.0.0.0/24 IETF assignments",
        "192.0.0.1",
        Allowed,
        Forbidden,
    ),
    ("192.0.0.0/29 DS-Lite", "192.0.0.7", Allowed, Forbidden),
    ("192.0.0.8/32 dummy", "192.0.0.8", Allowed, Forbidden),
    ("192.0.0.9/32 PCP anycast", "192.0.0.9", Allowed, Forbidden),
    (
        "192.0.0.10/32 TURN anycast",
        "192.0.0.10",
        Allowed,
        Forbidden,
    ),
    (
        "192.0.0.170/32 NAT64 discovery",
        "192.0.0.170",
        Allowed,
        Forbidden,
    ),
    (
        "192.0.0.171/32 NAT64 discovery",
        "192.0.0.171",
        Allowed,
        Forbidden,
    ),
    ("192.0.2.0/24 TEST-NET-1", "192.0.2.10", Allowed, Forbidden),
    ("192.31.196.0/24 AS112", "192.31.196.1", Allowed, Allowed),
    ("192.52.193.0/24 AMT", "192.52.193.1", Allowed, Allowed),
    (
        "192.88.99.0/24 6to4 relay anycast",
        "192.88.99.1",
        Allowed,
        Forbidden,
    ),
    ("192.168.0.0/16 private", "192.168.1.1", Allowed, Forbidden),
    (
        "192.175.48.0/24 AS112 delegation",
        "192.175.48.1",
        Allowed,
        Allowed,
    ),
    (
        "198.18.0.0/15 benchmarking",
        "198.18.0.1",
        Allowed,
        Forbidden,
    ),
    (
        "198.18.0.0/15 benchmarking",
        "198.19.255.255",
        Allowed,
        Forbidden,
    ),
    ("just past 198.18.0.0/15", "198.20.0.1", Allowed, Allowed),
    (
        "198.51.100.0/24 TEST-NET-2",
        "198.51.100.7",
        Allowed,
        Forbidden,
    ),
    (
        "203.0.113.0/24 TEST-NET-3",
        "203.0.113.99",
        Allowed,
        Forbidden,
    ),
    ("224.0.0.0/4 multicast", "224.0.0.1", Allowed, Forbidden),
    (
        "224.0.0.0/4 multicast",
        "239.255.255.250",
        Allowed,
        Forbidden,
    ),
    ("240.0.0.0/4 reserved", "240.0.0.1", Allowed, Forbidden),
    (
        "255.255.255.255/32 broadcast",
        "255.255.255.255",
        Allowed,
        Forbidden,
    ),
    ("global", "8.8.8.8", Allowed, Allowed),
    ("global", "93.184.215.14", Allowed, Allowed),
    // IPv6
    ("::1/128 loopback", "::1", Allowed, Forbidden),
    ("::/128 unspecified", "::", Allowed, Forbidden),
    (
        "::ffff:0:0/96 mapped, private",
        "::ffff:10.0.0.1",
        Allowed,
        Forbidden,
    ),
    (
        "::ffff:0:0/96 mapped, loopback",
        "::ffff:127.0.0.1",
        Allowed,
        Forbidden,
    ),
    (
        "::ffff:0:0/96 mapped, metadata",
        "::ffff:169.254.169.254",
        Metadata,
        Metadata,
    ),
    (
        "::ffff:0:0/96 mapped, global",
        "::ffff:8.8.8.8",
        Allowed,
        Allowed,
    ),
    (
        "::/96 compatible, loopback",
        "::127.0.0.1",
        Allowed,
        Forbidden,
    ),
    (
        "::/96 compatible, metadata",
        "::169.254.169.254",
        Metadata,
        Metadata,
    ),
    ("::/96 compatible, global", "::8.8.8.8", Allowed, Allowed),
    (
        "64:ff9b::/96 NAT64, metadata",
        "64:ff9b::a9fe:a9fe",
        Metadata,
        Metadata,
    ),
    (
        "64:ff9b::/96 NAT64, private",
        "64:ff9b::10.1.2.3",
        Allowed,
        Forbidden,
    ),
    (
        "64:ff9b::/96 NAT64, prefix",
        "64:ff9b::",
        Allowed,
        Forbidden,
    ),
    (
        "64:ff9b::/96 NAT64, global",
        "64:ff9b::8.8.8.8",
        Allowed,
        Allowed,
    ),
    (
        "64:ff9b:1::/48 local NAT64",
        "64:ff9b:1::8.8.8.8",
        Allowed,
        Forbidden,
    ),
    ("100::/64 discard", "100::1", Allowed, Forbidden),
    ("100:0:0:1::/64 dummy", "100:0:0:1::1", Allowed, Forbidden),
    (
        "2001::/23 IETF assignments",
        "2001:100::1",
        Allowed,
        Forbidden,
    ),
    (
        "2001::/32 Teredo, private client",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",
        Allowed,
        Forbidden,
    ),
    (
        "2001::/32 Teredo, global",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
        Allowed,
        Allowed,
    ),
    (
        "2001::/32 Teredo, metadata client",
        "2001:0:4136:e378::5601:5601",
        Metadata,
        Metadata,
    ),
    ("2001:1::1/128 PCP anycast", "2001:1::1", Allowed, Allowed),
    ("2001:1::2/128 TURN anycast", "2001:1::2", Allowed, Allowed),
    ("2001:1::3/128 DNS-SD", "2001:1::3", Allowed, Allowed),
    ("2001:1::/32 rest", "2001:1::4", Allowed, Forbidden),
    ("2001:2::/48 benchmarking", "2001:2::1", Allowed, Forbidden),
    ("2001:3::/32 AMT", "2001:3::1", Allowed, Allowed),
    ("2001:4:112::/48 AS112", "2001:4:112::1", Allowed, Allowed),
    ("2001:10::/28 ORCHID", "2001:10::1", Allowed, Forbidden),
    ("2001:20::/28 ORCHIDv2", "2001:20::1", Allowed, Allowed),
    (
        "2001:30::/28 drone remote ID",
        "2001:30::1",
        Allowed,
        Allowed,
    ),
    (
        "2001:db8::/32 documentation",
        "2001:db8::1",
        Allowed,
        Forbidden,
    ),
    (
        "2002::/16 6to4, private",
        "2002:c0a8:0101::1",
        Allowed,
        Forbidden,
    ),
    (
        "2002::/16 6to4, metadata",
        "2002:a9fe:a9fe::1",
        Metadata,
        Metadata,
    ),
    (
        "2002::/16 6to4, global",
        "2002:0808:0808::1",
        Allowed,
        Allowed,
    ),
    (
        "2620:4f:8000::/48 AS112",
        "2620:4f:8000::1",
        Allowed,
        Allowed,
    ),
    ("3fff::/20 documentation", "3fff:fff::1", Allowed, Forbidden),
    ("5f00::/16 SRv6 SIDs", "5f00::1", Allowed, Forbidden),
    ("fc00::/7 unique local", "fd12:3456::1", Allowed, Forbidden),
    (
        "fc00::/7 unique local, AWS metadata",
        "fd00:ec2::254",
        Metadata,
        Metadata,
    ),
    ("fe80::/10 link-local", "fe80::1", Allowed, Forbidden),
    ("fec0::/10 site-local", "fec0::1", Allowed, Forbidden),
    ("ff00::/8 multicast", "ff02::1", Allowed, Forbidden),
    ("global", "2606:4700:4700::1111", Allowed, Allowed),
    ("global", "2a00:1450:4001::200e", Allowed, Allowed),
];

fn verdict(policy: &OutboundPolicy, ip: IpAddr) -> Verdict {
    match policy.check_ip(ip) {
        Ok(()) => Allowed,
        Err(OutboundError::Forbidden) => Forbidden,
        Err(OutboundError::Metadata(_)) => Metadata,
        Err(other) => panic!("unexpected refusal for {ip}: {other}"),
    }
}

#[test]
fn every_special_purpose_range_is_judged_under_both_settings() {
    let default = OutboundPolicy::default();
    let blocking = default.blocking_private();
    let mut wrong = Vec::new();
    for (range, text, by_default, when_blocking) in SPECIAL_PURPOSE {
        let ip: IpAddr = text.parse().expect("the table holds addresses");
        let got = (verdict(&default, ip), verdict(&blocking, ip));
        if got != (*by_default, *when_blocking) {
            wrong.push(format!(
                "{range} {text}: got {got:?}, want {:?}",
                (by_default, when_blocking)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_operator_may_allow_metadata_but_blocking_still_refuses_it() {
    let policy = OutboundPolicy {
        allow_metadata: true,
        ..OutboundPolicy::default()
    };
    for text in [
        "169.254.169.254",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
    ] {
        let ip: IpAddr = text.parse().expect("address");
        assert_eq!(verdict(&policy, ip), Allowed, "{text}");
        assert_eq!(verdict(&policy.blocking_private(), ip), Forbidden, "{text}");
    }
}

#[test]
fn teredo_carries_the_server_and_the_obfuscated_client() {
    let ip = "2001:0:4136:e378:8000:63bf:3fff:fdd2"
        .parse()
        .expect("address");
    assert_eq!(
        super::embedded_ipv4(ip),
        vec![
            std::net::Ipv4Addr::new(65, 54, 227, 120),
            std::net::Ipv4Addr::new(192, 0, 2, 45)
        ]
    );
}
