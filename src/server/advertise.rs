//! The addresses this server tells others to dial: clients in INFO's
//! `connect_urls`, leaves in `leafnode_urls`. A listener bound to one
//! address advertises it. One bound to every interface (`0.0.0.0`, `::`)
//! advertises the addresses another machine could reach, as nats-server
//! does: every global unicast address of the listener's family, so no
//! loopback, link-local or multicast one. A machine with none (no network)
//! advertises the loopback address, so a cluster on one machine still
//! works.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// `host:port` strings for a listener configured with `host` and bound to
/// `bound`. `host` is kept as written when it is a name (`localhost`).
pub(super) fn listener_urls(host: &str, bound: SocketAddr) -> Vec<String> {
    let any = matches!(host, "" | "0.0.0.0" | "::") || bound.ip().is_unspecified();
    if !any {
        return vec![match host.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, bound.port()).to_string(),
            Err(_) => format!("{host}:{}", bound.port()),
        }];
    }
    let mut urls: Vec<String> = interface_ips(bound.ip())
        .into_iter()
        .filter(|ip| global_unicast(*ip))
        .map(|ip| SocketAddr::new(ip, bound.port()).to_string())
        .collect();
    if urls.is_empty() {
        urls.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bound.port()).to_string());
    }
    urls
}

/// This machine's interface addresses that a listener bound to the
/// unspecified address `bound` accepts connections on, loopback included,
/// in interface order without repeats (none if they cannot be listed).
pub fn interface_ips(bound: IpAddr) -> Vec<IpAddr> {
    let found = if_addrs::get_if_addrs()
        .map(|ifaces| ifaces.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot list network interfaces");
            Vec::new()
        });
    of_family(bound, found)
}

/// Of `found`, those of the family a listener on `bound` accepts, without
/// repeats: `0.0.0.0` listens on IPv4 only; `::` on both families
/// (Linux's default dual stack).
fn of_family(bound: IpAddr, found: Vec<IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in found {
        if (bound.is_ipv6() || ip.is_ipv4()) && !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// Go's `IsGlobalUnicast`, which nats-server filters on: anything but
/// loopback, link-local, multicast, broadcast and unspecified.
fn global_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified())
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unicast_link_local()
                || v6.is_multicast()
                || v6.is_unspecified())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter()
            .map(|s| s.parse().expect("test address"))
            .collect()
    }

    #[test]
    fn every_interface_means_every_reachable_address_of_the_family() {
        let found = ips(&[
            "127.0.0.1",
            "10.1.2.3",
            "169.254.0.9",
            "::1",
            "fe80::1",
            "2001:db8::7",
            "192.168.5.6",
            "10.1.2.3",
        ]);
        let reachable = |bound: IpAddr, found: Vec<IpAddr>| -> Vec<IpAddr> {
            of_family(bound, found)
                .into_iter()
                .filter(|ip| global_unicast(*ip))
                .collect()
        };
        let v4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        assert_eq!(
            reachable(v4, found.clone()),
            ips(&["10.1.2.3", "192.168.5.6"])
        );
        let v6: IpAddr = "::".parse().expect("::");
        assert_eq!(
            reachable(v6, found),
            ips(&["10.1.2.3", "2001:db8::7", "192.168.5.6"])
        );
    }

    #[test]
    fn one_address_is_advertised_as_bound_or_named() {
        let bound: SocketAddr = "10.0.0.5:4222".parse().expect("addr");
        assert_eq!(listener_urls("10.0.0.5", bound), ["10.0.0.5:4222"]);
        assert_eq!(listener_urls("nats.example", bound), ["nats.example:4222"]);
        let v6: SocketAddr = "[2001:db8::1]:4222".parse().expect("addr");
        assert_eq!(listener_urls("2001:db8::1", v6), ["[2001:db8::1]:4222"]);
    }

    /// Whatever this machine's interfaces, a wildcard listener advertises
    /// at least one address, and never a loopback one unless it has no
    /// other.
    #[test]
    fn a_wildcard_listener_always_advertises_something_dialable() {
        let bound: SocketAddr = "0.0.0.0:4222".parse().expect("addr");
        let urls = listener_urls("0.0.0.0", bound);
        assert!(!urls.is_empty());
        assert!(
            urls.iter()
                .all(|u| u.ends_with(":4222") && !u.starts_with("0.0.0.0"))
        );
        let loopback = urls.iter().filter(|u| u.starts_with("127.")).count();
        assert!(loopback == 0 || urls == ["127.0.0.1:4222"], "{urls:?}");
    }
}
