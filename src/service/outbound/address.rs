//! Which IP addresses are on the public internet. When private networks are blocked only
//! global unicast addresses may be reached; everything in the IANA special-purpose registries
//! that is not globally reachable is refused. IPv6 addresses that carry an IPv4 address
//! (mapped, compatible, NAT64, 6to4, Teredo) are judged by the IPv4 address they carry,
//! because that is where the packets end up.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IPv4 range: first address and prefix length.
type V4Range = (Ipv4Addr, u8);
/// An IPv6 range: first address and prefix length.
type V6Range = (Ipv6Addr, u8);

/// IPv4 ranges that are not global unicast: the special-purpose registry's ranges that are
/// not globally reachable, plus multicast and the reserved block (which holds the broadcast
/// address). 192.0.0.0/24 is refused whole although two anycast addresses in it (.9 and .10)
/// are global: no workflow has a reason to call them.
const V4_NOT_GLOBAL: &[V4Range] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network"
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space (CGNAT)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // deprecated 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation (TEST-NET-3)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, and the broadcast address
];

/// Global unicast IPv6 is 2000::/3; these are the ranges inside it that are not globally
/// reachable (2001::/23 is, apart from the exceptions below).
const V6_NOT_GLOBAL_IN_2000: &[V6Range] = &[
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
];

/// Parts of 2001::/23 the registry marks globally reachable.
const V6_GLOBAL_IN_2001_23: &[V6Range] = &[
    (Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 1), 128), // PCP anycast
    (Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 2), 128), // TURN anycast
    (Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 3), 128), // DNS-SD service registration
    (Ipv6Addr::new(0x2001, 3, 0, 0, 0, 0, 0, 0), 32),  // AMT
    (Ipv6Addr::new(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48), // AS112-v6
    (Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28), // ORCHIDv2
    (Ipv6Addr::new(0x2001, 0x30, 0, 0, 0, 0, 0, 0), 28), // drone remote ID
];

const GLOBAL_UNICAST_V6: V6Range = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

fn in_v4(ip: Ipv4Addr, (base, len): V4Range) -> bool {
    let shift = 32 - u32::from(len);
    u32::from(ip).checked_shr(shift).unwrap_or(0) == u32::from(base).checked_shr(shift).unwrap_or(0)
}

fn in_v6(ip: Ipv6Addr, (base, len): V6Range) -> bool {
    let shift = 128 - u32::from(len);
    u128::from(ip).checked_shr(shift).unwrap_or(0)
        == u128::from(base).checked_shr(shift).unwrap_or(0)
}

/// The IPv4 addresses an IPv6 address carries: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d` (deprecated, which includes `::` and `::1`: they carry 0.0.0.x, itself not
/// global), NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::` and Teredo (both the server
/// address and the obfuscated client address).
pub fn embedded_ipv4(v6: Ipv6Addr) -> Vec<Ipv4Addr> {
    let bits = u128::from(v6);
    let low32 = Ipv4Addr::from(bits as u32);
    let mapped_or_compatible = bits >> 32 == 0xffff || bits >> 32 == 0;
    let nat64 = in_v6(v6, (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96));
    if mapped_or_compatible || nat64 {
        return vec![low32];
    }
    if in_v6(v6, (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16)) {
        return vec![Ipv4Addr::from((bits >> 80) as u32)];
    }
    if in_v6(v6, (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32)) {
        let server = Ipv4Addr::from((bits >> 64) as u32);
        let client = Ipv4Addr::from(!(bits as u32));
        return vec![server, client];
    }
    Vec::new()
}

/// Whether `ip` is a cloud metadata service: AWS, GCP, Azure, OpenStack and others share
/// 169.254.169.254; AWS also answers on fd00:ec2::254 and Alibaba on 100.100.100.200. An IPv6
/// address carrying one of these IPv4 addresses reaches it too.
pub fn is_metadata(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_metadata_v4(v4),
        IpAddr::V6(v6) => {
            v6 == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)
                || embedded_ipv4(v6).into_iter().any(is_metadata_v4)
        }
    }
}

fn is_metadata_v4(v4: Ipv4Addr) -> bool {
    v4 == Ipv4Addr::new(169, 254, 169, 254)
        || v4 == Ipv4Addr::new(169, 254, 170, 2) // ECS task credentials
        || v4 == Ipv4Addr::new(100, 100, 100, 200)
}

/// Whether `ip` is anything but a global unicast address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(v4: Ipv4Addr) -> bool {
    V4_NOT_GLOBAL.iter().any(|range| in_v4(v4, *range))
}

fn is_internal_v6(v6: Ipv6Addr) -> bool {
    let carried = embedded_ipv4(v6);
    if !carried.is_empty() {
        return carried.into_iter().any(is_internal_v4);
    }
    if !in_v6(v6, GLOBAL_UNICAST_V6) {
        // Loopback, unspecified, unique local, link-local, site-local, multicast, discard,
        // local-use NAT64, SRv6 SIDs and everything unassigned.
        return true;
    }
    if V6_GLOBAL_IN_2001_23.iter().any(|range| in_v6(v6, *range)) {
        return false;
    }
    V6_NOT_GLOBAL_IN_2000.iter().any(|range| in_v6(v6, *range))
}

#[cfg(test)]
#[path = "address_tests.rs"]
mod tests;
