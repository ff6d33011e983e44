//! Who is asking, by IP address, for the per-address limit of wrong admin tokens (API.md §8
//! "Protection"): the connection's peer address, or — only when that peer is one of
//! `[api] trusted_proxies` — the address its `X-Forwarded-For` names.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// Parses one `[api] trusted_proxies` entry: an IP address (`10.0.0.7`, `::1`) or a CIDR range
/// (`10.0.0.0/8`, `fd00::/8`).
pub fn parse_trusted_proxy(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{entry:?} isn't an IP address or a CIDR range"))
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// One `X-Forwarded-For` element: an address, maybe with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`).
fn forwarded_ip(element: &str) -> Option<IpAddr> {
    let element = element.trim();
    element
        .parse::<IpAddr>()
        .or_else(|_| element.parse::<SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The address a request comes from: the connection's peer (from the `ConnectInfo` extension
/// the server inserts), unless that peer is a trusted proxy; then the rightmost address of
/// `X-Forwarded-For` that is not itself a trusted proxy (addresses to its left were written by
/// the client and prove nothing). `None` when the server did not say who the peer is.
pub fn client_ip(
    extensions: &Extensions,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()?
        .0
        .ip()
        .to_canonical();
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match forwarded_ip(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip, trusted) {
                    break;
                }
            }
            // Garbage: nothing to its left can be believed.
            None => break,
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_from(peer: &str, forwarded: &[&str]) -> (Extensions, HeaderMap) {
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(peer.parse::<SocketAddr>().expect("peer")));
        let mut headers = HeaderMap::new();
        for f in forwarded {
            headers.append("x-forwarded-for", f.parse().expect("header"));
        }
        (extensions, headers)
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let (e, h) = request_from("198.51.100.7:5000", &["203.0.113.9"]);
        assert_eq!(client_ip(&e, &h, &[]), ip("198.51.100.7"));
        let trusted = [parse_trusted_proxy("10.0.0.0/8").expect("cidr")];
        assert_eq!(client_ip(&e, &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_proxy_names_the_rightmost_untrusted_hop() {
        let trusted = [
            parse_trusted_proxy("10.0.0.0/8").expect("cidr"),
            parse_trusted_proxy("192.0.2.1").expect("ip"),
        ];
        let (e, h) = request_from("10.1.2.3:5000", &["1.1.1.1, 203.0.113.9", "192.0.2.1:8443"]);
        assert_eq!(client_ip(&e, &h, &trusted), ip("203.0.113.9"));
        let (e, h) = request_from("10.1.2.3:5000", &[]);
        assert_eq!(
            client_ip(&e, &h, &trusted),
            ip("10.1.2.3"),
            "no header: the proxy itself"
        );
        let (e, h) = request_from("10.1.2.3:5000", &["1.1.1.1, nonsense"]);
        assert_eq!(
            client_ip(&e, &h, &trusted),
            ip("10.1.2.3"),
            "garbage stops the walk"
        );
        let (e, h) = request_from("[::ffff:10.1.2.3]:5000", &["[2001:db8::5]:1234"]);
        assert_eq!(client_ip(&e, &h, &trusted), ip("2001:db8::5"));
    }

    #[test]
    fn unknown_peer_is_none_and_entries_are_checked() {
        assert_eq!(client_ip(&Extensions::new(), &HeaderMap::new(), &[]), None);
        assert!(parse_trusted_proxy("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxy("proxy.example").is_err());
        assert!(parse_trusted_proxy(" ::1 ").is_ok());
    }
}
