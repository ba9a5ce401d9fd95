//! The `[cluster]` section: the route port that joins this server to a
//! cluster of servers (Switchyard or nats-server) over NATS's route
//! protocol, the seed routes it dials, and what a peer must present. Key
//! names follow nats-server's `cluster { }`.

use super::tls::TlsConfig;
use serde::Deserialize;
use std::path::Path;

/// Cluster routes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// The cluster's name; every server of the cluster has the same one,
    /// and a peer naming another is refused.
    pub name: Option<String>,
    /// Interface for the route port; the client `host` when unset.
    pub host: Option<String>,
    /// The route port (nats-server's usual one is 6222); 0 picks a free
    /// one.
    pub port: u16,
    /// Seed routes to dial (`nats-route://`, `nats://` or `tls://` URLs,
    /// optionally with `user:password@`). Peers learn the rest of the
    /// cluster from each other.
    pub routes: Vec<String>,
    /// The user and password a peer must present on this port, and that
    /// this server presents when a route URL carries none.
    pub user: Option<String>,
    pub password: Option<String>,
    /// TLS on the route port, and for the routes this server dials (the
    /// same certificate; `ca_file` is what the peer's must chain to).
    pub tls: Option<TlsConfig>,
    /// Do not tell clients the other servers' client URLs
    /// (`connect_urls` in INFO).
    pub no_advertise: bool,
    /// How often a route learnt from a peer (not one of `routes`) is
    /// retried before it is given up; seed routes are retried forever.
    pub connect_retries: u32,
    /// `host:port` peers should dial to reach this server, when the route
    /// port is not reachable at the address it listens on.
    pub advertise: Option<String>,
    /// Most interest entries (`RS+`) one route may hold, over all accounts.
    pub max_subscriptions: usize,
}

/// Default for `cluster.max_subscriptions`.
pub const DEFAULT_MAX_ROUTE_SUBSCRIPTIONS: usize = 1_000_000;

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            name: None,
            host: None,
            port: 6222,
            routes: Vec::new(),
            user: None,
            password: None,
            tls: None,
            no_advertise: false,
            connect_retries: 0,
            advertise: None,
            max_subscriptions: DEFAULT_MAX_ROUTE_SUBSCRIPTIONS,
        }
    }
}

/// A route URL's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteUrl {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Parses a route URL; the port defaults to 6222 as in nats-server.
pub fn parse_route_url(text: &str) -> Result<RouteUrl, String> {
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    let tls = match url.scheme() {
        "nats-route" | "nats" | "route" => false,
        "tls" => true,
        other => {
            return Err(format!(
                "unsupported scheme {other:?} (use nats-route, nats or tls)"
            ));
        }
    };
    let host = url
        .host_str()
        .ok_or("no host")?
        .trim_matches(['[', ']'])
        .to_string();
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = (!url.username().is_empty()).then(|| decode(url.username()));
    Ok(RouteUrl {
        host,
        port: url.port().unwrap_or(6222),
        tls,
        user,
        password: url.password().map(decode),
    })
}

impl ClusterConfig {
    /// Makes relative paths relative to the configuration file's directory.
    pub fn resolve_paths(&mut self, base: &Path) {
        if let Some(tls) = &mut self.tls {
            tls.resolve_paths(base);
        }
    }

    /// Every problem with the section.
    pub fn validate(&self, errs: &mut Vec<String>) {
        match &self.name {
            None => errs.push(
                "cluster.name: required (every server of a cluster has the same name)".to_string(),
            ),
            Some(n) if n.is_empty() || n.contains([' ', '\t', '\r', '\n']) => {
                errs.push("cluster.name: a non-empty name without spaces".to_string());
            }
            Some(_) => {}
        }
        for u in &self.routes {
            if let Err(e) = parse_route_url(u) {
                errs.push(format!("cluster.routes: {u:?}: {e}"));
            }
        }
        if self.user.is_some() != self.password.is_some() {
            errs.push("cluster: user and password go together".to_string());
        }
        if let Some(a) = &self.advertise
            && a.rsplit_once(':')
                .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
        {
            errs.push(format!("cluster.advertise: {a:?}: expected host:port"));
        }
        if self.max_subscriptions == 0 {
            errs.push("cluster.max_subscriptions: must be greater than 0".to_string());
        }
        if let Some(tls) = &self.tls
            && tls.ca_file.is_none()
        {
            errs.push(
                "cluster.tls.ca_file: required (the CA that peers' certificates chain to)"
                    .to_string(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_urls() {
        let u = parse_route_url("nats-route://ruser:p%40ss@10.0.0.2:7244").unwrap();
        assert_eq!(
            (
                u.host.as_str(),
                u.port,
                u.tls,
                u.user.as_deref(),
                u.password.as_deref()
            ),
            ("10.0.0.2", 7244, false, Some("ruser"), Some("p@ss"))
        );
        assert_eq!(parse_route_url("tls://h").unwrap().port, 6222);
        assert!(parse_route_url("tls://h").unwrap().tls);
        assert!(parse_route_url("http://h:1").is_err());
        assert!(parse_route_url("nats://").is_err());
    }

    #[test]
    fn validation_names_every_problem() {
        let cfg = ClusterConfig {
            routes: vec!["ftp://x".into()],
            user: Some("u".into()),
            advertise: Some("nohost".into()),
            max_subscriptions: 0,
            ..ClusterConfig::default()
        };
        let mut errs = Vec::new();
        cfg.validate(&mut errs);
        let all = errs.join("\n");
        for key in [
            "cluster.name",
            "cluster.routes",
            "user and password",
            "cluster.advertise",
            "cluster.max_subscriptions",
        ] {
            assert!(all.contains(key), "{key} missing from {all}");
        }
    }
}
