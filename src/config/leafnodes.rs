//! The `[leafnodes]` section: a port that accepts leaf node connections
//! (this server is a hub), and `[[leafnodes.remotes]]`, the hubs this
//! server joins as a leaf. Key names follow nats-server's `leafnodes { }`.

use super::duration;
use super::tls::TlsConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Leaf node connections, both ways.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LeafNodesConfig {
    /// Interface for the leaf node port; the client `host` when unset.
    pub host: Option<String>,
    /// Port that accepts leaf nodes (nats-server's default is 7422); no
    /// port, no hub. 0 picks a free one.
    pub port: Option<u16>,
    /// TLS on the leaf node port: every leaf must use it.
    pub tls: Option<TlsConfig>,
    /// Hubs to join as a leaf node, one connection each.
    pub remotes: Vec<LeafRemote>,
    /// Most interest entries (`LS+`) one leaf connection may hold.
    pub max_subscriptions: usize,
}

/// Default for `leafnodes.max_subscriptions`.
pub const DEFAULT_MAX_LEAF_SUBSCRIPTIONS: usize = 100_000;

/// One hub this server dials: its URLs, tried in turn, the local tenant
/// the connection carries, and the credentials to log in with there.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LeafRemote {
    /// `nats-leaf://`, `nats://` or `tls://` URLs, with optional
    /// `user:password@` or `token@`.
    #[serde(alias = "url", deserialize_with = "one_or_many")]
    pub urls: Vec<String>,
    /// The local tenant whose traffic crosses this connection; the global
    /// account when unset.
    #[serde(default, alias = "account")]
    pub tenant: Option<String>,
    /// A `.creds` file (user JWT and seed) for an operator-mode hub.
    #[serde(default)]
    pub credentials: Option<PathBuf>,
    /// A user nkey seed (`SU...`): signs the hub's nonce.
    #[serde(default)]
    pub nkey: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    /// Client-side TLS to the hub; `tls://` URLs or a hub that requires
    /// TLS use it too.
    #[serde(default)]
    pub tls: Option<RemoteTls>,
    /// Subjects not accepted from the hub (no interest is sent for them).
    #[serde(default)]
    pub deny_imports: Vec<String>,
    /// Subjects not sent to the hub.
    #[serde(default)]
    pub deny_exports: Vec<String>,
    /// First pause before redialling; doubles up to 30 s, with jitter.
    #[serde(default = "default_reconnect", with = "duration::serde_str")]
    pub reconnect_delay: Duration,
}

/// TLS for a connection this server dials.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteTls {
    /// CA certificates (PEM) the hub's certificate must chain to; the
    /// system's roots are not used.
    pub ca_file: Option<PathBuf>,
    /// A client certificate and key, for hubs that verify leaves.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Handshake before reading INFO (the hub has `handshake_first`).
    pub handshake_first: bool,
    /// Name to verify in the hub's certificate; the URL's host when unset.
    pub server_name: Option<String>,
}

impl LeafRemote {
    /// A remote to `url` with nothing else set: the global account, no
    /// credentials, no TLS.
    pub fn new(url: &str) -> LeafRemote {
        LeafRemote {
            urls: vec![url.to_string()],
            tenant: None,
            credentials: None,
            nkey: None,
            user: None,
            password: None,
            token: None,
            tls: None,
            deny_imports: Vec::new(),
            deny_exports: Vec::new(),
            reconnect_delay: default_reconnect(),
        }
    }
}

fn default_reconnect() -> Duration {
    Duration::from_secs(1)
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

impl LeafNodesConfig {
    /// Makes relative paths relative to the configuration file's directory.
    pub fn resolve_paths(&mut self, base: &Path) {
        if let Some(tls) = &mut self.tls {
            tls.resolve_paths(base);
        }
        for remote in &mut self.remotes {
            let tls = remote.tls.iter_mut().flat_map(|t| {
                [&mut t.ca_file, &mut t.cert_file, &mut t.key_file]
                    .into_iter()
                    .flatten()
            });
            for path in remote.credentials.iter_mut().chain(tls) {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        }
    }

    /// Every problem with the section.
    pub fn validate(&self, errs: &mut Vec<String>) {
        for (i, r) in self.remotes.iter().enumerate() {
            let at = format!("leafnodes.remotes[{i}]");
            if r.urls.is_empty() {
                errs.push(format!("{at}.urls: at least one URL"));
            }
            for u in &r.urls {
                if let Err(e) = parse_remote_url(u) {
                    errs.push(format!("{at}.urls: {u:?}: {e}"));
                }
            }
            let ways = [r.credentials.is_some(), r.nkey.is_some(), r.token.is_some()]
                .iter()
                .filter(|&&b| b)
                .count()
                + usize::from(r.user.is_some());
            if ways > 1 {
                errs.push(format!(
                    "{at}: use one of credentials, nkey, user/password or token"
                ));
            }
            if r.user.is_some() != r.password.is_some() {
                errs.push(format!("{at}: user and password go together"));
            }
            if let Some(seed) = &r.nkey
                && nkeys::KeyPair::from_seed(seed).is_err()
            {
                errs.push(format!("{at}.nkey: not a valid nkey seed"));
            }
            if r.reconnect_delay.is_zero() || r.reconnect_delay > duration::MAX_DURATION {
                errs.push(format!("{at}.reconnect_delay: between 1 ms and 365 days"));
            }
        }
        if self.max_subscriptions == 0 {
            errs.push("leafnodes.max_subscriptions: must be greater than 0".to_string());
        }
    }
}

impl Default for LeafNodesConfig {
    fn default() -> Self {
        LeafNodesConfig {
            host: None,
            port: None,
            tls: None,
            remotes: Vec::new(),
            max_subscriptions: DEFAULT_MAX_LEAF_SUBSCRIPTIONS,
        }
    }
}

/// A remote URL's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    pub host: String,
    pub port: u16,
    /// `tls://` (or `wss://`-like schemes, refused): the hub is dialled with TLS.
    pub tls: bool,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Parses a remote URL; the port defaults to 7422 as in nats-server.
pub fn parse_remote_url(text: &str) -> Result<RemoteUrl, String> {
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    let tls = match url.scheme() {
        "nats-leaf" | "nats" => false,
        "tls" => true,
        other => {
            return Err(format!(
                "unsupported scheme {other:?} (use nats-leaf, nats or tls)"
            ));
        }
    };
    let host = url.host_str().ok_or("no host")?.to_string();
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = (!url.username().is_empty()).then(|| decode(url.username()));
    Ok(RemoteUrl {
        host,
        port: url.port().unwrap_or(7422),
        tls,
        user,
        password: url.password().map(decode),
    })
}
