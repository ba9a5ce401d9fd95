//! Server configuration: serde structs for the TOML file, defaults in one
//! place, and validation that reports every problem at once.
//!
//! May use: `subject` (to validate the subjects in tenant files).

pub mod cluster;
mod duration;
pub mod leafnodes;
pub mod natsconf;
pub mod natsmap;
pub mod plugin_output;
pub mod tenant;
pub mod tenants;
mod tls;

pub use cluster::{ClusterConfig, RouteUrl, parse_route_url};
pub use duration::{MAX_DURATION, parse_duration};
pub use leafnodes::{LeafNodesConfig, LeafRemote, RemoteTls, RemoteUrl, parse_remote_url};
pub use plugin_output::{OutputLevel, PluginOutputConfig};
pub use tls::TlsConfig;

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// The longest control line a configuration may allow: far above
/// nats-server's 4096 default, and far from overflowing the parser's
/// arithmetic on it.
const MAX_CONTROL_LINE: usize = 1024 * 1024;

/// Problems loading or validating a configuration file.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

/// Everything the broker needs to run. Field names match nats-server's
/// configuration keys where the concept is the same.
/// One field per configuration key: the file format decides their number.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Interface to listen on.
    pub host: String,
    /// Client port; 0 picks a free port.
    pub port: u16,
    /// Name reported in INFO; defaults to the server's nkey id.
    pub server_name: Option<String>,
    /// Largest payload a client may publish, in bytes.
    pub max_payload: usize,
    /// Outbound bytes buffered for one connection before it is cut off as a slow consumer.
    pub max_pending: usize,
    /// Longest control line (the arguments of one operation), in bytes.
    pub max_control_line: usize,
    /// Client connections accepted at once.
    pub max_connections: usize,
    /// Longest subject a client may subscribe to, in bytes. Each token of a
    /// subscription is a level of the subscription trie, so long subjects
    /// are refused with `-ERR 'Invalid Subject'` before they cost memory.
    pub max_subject_length: usize,
    /// Most tokens in a subject a client may subscribe to (see
    /// `max_subject_length`).
    pub max_subject_tokens: usize,
    /// How often the server pings an idle client.
    #[serde(with = "duration::serde_str")]
    pub ping_interval: Duration,
    /// Unanswered pings before the connection is closed as stale.
    pub ping_max: u32,
    /// Logins whose credentials are being checked (or wait for a checking
    /// thread) at once, server-wide. A CONNECT over it is refused with
    /// `maximum connections exceeded` and closed; the client retries. The
    /// default, 1024, is far more than the checking threads (half the
    /// cores) finish within one `auth_timeout` when passwords are bcrypt,
    /// and enough for a reconnect storm of JWT users (each check takes
    /// well under a millisecond). nats-server has no such cap.
    pub max_pending_logins: usize,
    /// As `max_pending_logins`, from one client IP address; default 32, so
    /// one address cannot fill the whole queue.
    pub max_pending_logins_per_ip: usize,
    /// Time a client has to send CONNECT when authentication is required.
    #[serde(with = "duration::serde_str")]
    pub auth_timeout: Duration,
    /// Time one write to a client may take before it counts as a slow consumer.
    #[serde(with = "duration::serde_str")]
    pub write_deadline: Duration,
    /// Optional single-user authorization for the whole server (only
    /// without tenants).
    pub authorization: Option<Authorization>,
    /// Directory of tenant files (`*.toml`), one tenant (account) each.
    /// Relative paths are taken from the config file's directory.
    pub tenants: Option<PathBuf>,
    /// Operator directory (as `switchyard auth init` creates): trust its
    /// operator and serve its accounts; users log in with user JWTs
    /// (`.creds`). Relative paths are taken from the config file's directory.
    pub operator_dir: Option<PathBuf>,
    /// User (by name) that clients connecting without credentials are bound to.
    pub no_auth_user: Option<String>,
    /// Tenant that receives system events (`$SYS.ACCOUNT.<tenant>.CONNECT`
    /// and `.DISCONNECT`); its users can subscribe to them.
    pub system_account: Option<String>,
    /// WebAssembly auth plugins (`kind = "auth"`), asked in order about
    /// clients the tenant users do not recognise. Relative paths are taken
    /// from the config file's directory.
    pub auth_plugins: Vec<crate::config::tenant::PluginEntry>,
    /// Where compiled plugins are cached (default
    /// `$XDG_CACHE_HOME/switchyard/plugins` or `~/.cache/switchyard/plugins`).
    pub plugin_cache_dir: Option<PathBuf>,
    /// `[plugin_output]`: the log level and rate limit of what plugins
    /// write to stdout and stderr.
    pub plugin_output: PluginOutputConfig,
    /// Port of the HTTP monitoring endpoints (`/varz`, `/metrics`, ...);
    /// off when unset, 0 picks a free port. 8222 is the usual choice.
    pub http_port: Option<u16>,
    /// Interface for the monitoring endpoints; defaults to `host`.
    pub http_host: Option<String>,
    /// TLS for client connections; when set, every client must use TLS.
    pub tls: Option<TlsConfig>,
    /// Leaf node connections: a hub port and the remotes to join.
    pub leafnodes: Option<LeafNodesConfig>,
    /// Cluster routes: a route port and the seed routes to dial.
    pub cluster: Option<ClusterConfig>,
    /// Lame-duck mode (SIGUSR2): time over which clients are closed,
    /// counting the grace period.
    #[serde(with = "duration::serde_str")]
    pub lame_duck_duration: Duration,
    /// Lame-duck mode: wait after telling clients before closing the first.
    #[serde(with = "duration::serde_str")]
    pub lame_duck_grace_period: Duration,
    /// Tenants defined in memory rather than in `tenants` files: the
    /// accounts of a nats-server configuration file (`config::natsmap`).
    /// Each comes with the name its problems are reported under. Never
    /// read from a TOML file.
    #[serde(skip)]
    pub inline_tenants: Vec<(PathBuf, tenant::TenantFile)>,
    /// Operator mode from JWTs held in memory rather than `operator_dir`:
    /// a nats-server file's `operator` with `resolver: MEMORY`. Never read
    /// from a TOML file.
    #[serde(skip)]
    pub inline_operator: Option<InlineOperator>,
}

/// A trusted operator and its accounts' JWTs, as a nats-server file's
/// `operator` and `resolver_preload` give them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InlineOperator {
    pub operator_jwt: String,
    pub account_jwts: Vec<String>,
}

/// Default `max_subject_length`: room for any subject NATS tools use.
pub const DEFAULT_MAX_SUBJECT_LENGTH: usize = 1024;

/// Default `max_subject_tokens`. With it, 500 subscriptions of the longest
/// subjects cost at most ~6.5 MiB of trie (see `subject::footprint`); deep
/// hierarchies in practice stay under a dozen tokens.
pub const DEFAULT_MAX_SUBJECT_TOKENS: usize = 32;

/// Server-wide credentials, as nats-server's `authorization { user, password, token }`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    pub user: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "0.0.0.0".into(),
            port: 4222,
            server_name: None,
            max_payload: 1024 * 1024,
            max_pending: 64 * 1024 * 1024,
            max_control_line: 4096,
            max_connections: 65536,
            max_subject_length: DEFAULT_MAX_SUBJECT_LENGTH,
            max_subject_tokens: DEFAULT_MAX_SUBJECT_TOKENS,
            ping_interval: Duration::from_secs(120),
            ping_max: 2,
            max_pending_logins: 1024,
            max_pending_logins_per_ip: 32,
            auth_timeout: Duration::from_secs(2),
            write_deadline: Duration::from_secs(10),
            authorization: None,
            tenants: None,
            operator_dir: None,
            no_auth_user: None,
            system_account: None,
            auth_plugins: Vec::new(),
            plugin_cache_dir: None,
            plugin_output: PluginOutputConfig::default(),
            http_port: None,
            http_host: None,
            tls: None,
            leafnodes: None,
            cluster: None,
            lame_duck_duration: Duration::from_secs(120),
            lame_duck_grace_period: Duration::from_secs(10),
            inline_tenants: Vec::new(),
            inline_operator: None,
        }
    }
}

impl ServerConfig {
    /// Whether clients log in as tenants' users (tenant files, in-memory
    /// tenants or an operator's accounts) rather than to one shared account.
    pub fn has_tenants(&self) -> bool {
        self.tenants.is_some()
            || self.operator_dir.is_some()
            || !self.inline_tenants.is_empty()
            || self.inline_operator.is_some()
    }

    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses and validates the text of the TOML file at `path`, which
    /// names the file in errors and is the base of its relative paths.
    /// What [`ServerConfig::load`] does once it has read the file; public
    /// so that the fuzz targets parse exactly what the server parses.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let mut config: ServerConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let plugin_paths = config.auth_plugins.iter_mut().map(|p| &mut p.path);
        for dir in [
            &mut config.tenants,
            &mut config.operator_dir,
            &mut config.plugin_cache_dir,
        ]
        .into_iter()
        .flatten()
        .chain(plugin_paths)
        {
            if let Some(base) = path.parent()
                && dir.is_relative()
            {
                *dir = base.join(&*dir);
            }
        }
        if let (Some(tls), Some(base)) = (config.tls.as_mut(), path.parent()) {
            tls.resolve_paths(base);
        }
        if let (Some(leaf), Some(base)) = (config.leafnodes.as_mut(), path.parent()) {
            leaf.resolve_paths(base);
        }
        if let (Some(cluster), Some(base)) = (config.cluster.as_mut(), path.parent()) {
            cluster.resolve_paths(base);
        }
        config.validate().map_err(|errs| {
            ConfigError::Invalid(errs.into_iter().map(|e| format!("{shown}: {e}")).collect())
        })?;
        Ok(config)
    }

    /// Checks cross-field rules; returns every problem found.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        if self.max_payload == 0 {
            errs.push("max_payload: must be greater than 0".to_string());
        }
        if self.max_payload > 64 * 1024 * 1024 {
            errs.push("max_payload: must be at most 64 MiB".to_string());
        }
        if self.max_pending < self.max_payload {
            errs.push("max_pending: must be at least max_payload".to_string());
        }
        if self.max_control_line < 64 {
            errs.push("max_control_line: must be at least 64".to_string());
        }
        if self.max_subject_length == 0 || self.max_subject_tokens == 0 {
            errs.push(
                "max_subject_length and max_subject_tokens: must be greater than 0".to_string(),
            );
        }
        if self.max_control_line > MAX_CONTROL_LINE {
            errs.push("max_control_line: must be at most 1 MiB".to_string());
        }
        // Files are held to this while parsing; a config built in code is
        // held to it here, before a timer armed with it overflows.
        let durations = [
            ("ping_interval", self.ping_interval),
            ("auth_timeout", self.auth_timeout),
            ("write_deadline", self.write_deadline),
            ("lame_duck_duration", self.lame_duck_duration),
            ("lame_duck_grace_period", self.lame_duck_grace_period),
            (
                "tls.timeout",
                self.tls.as_ref().map_or(Duration::ZERO, |t| t.timeout),
            ),
        ];
        for (key, value) in durations {
            if value > MAX_DURATION {
                errs.push(format!("{key}: must be at most 365 days"));
            }
        }
        if let Some(leaf) = &self.leafnodes {
            leaf.validate(&mut errs);
        }
        if let Some(cluster) = &self.cluster {
            cluster.validate(&mut errs);
        }
        self.plugin_output.validate(&mut errs);
        if self.max_pending_logins == 0 {
            errs.push("max_pending_logins: must be greater than 0".to_string());
        }
        if self.max_pending_logins_per_ip == 0 {
            errs.push("max_pending_logins_per_ip: must be greater than 0".to_string());
        }
        if self.ping_interval.is_zero() {
            errs.push("ping_interval: must be greater than 0".to_string());
        }
        if self.auth_timeout.is_zero() || self.write_deadline.is_zero() {
            errs.push("auth_timeout and write_deadline: must be greater than 0".to_string());
        }
        if let Some(a) = &self.authorization {
            if a.token.is_some() && (a.user.is_some() || a.password.is_some()) {
                errs.push("authorization: use either token or user/password, not both".to_string());
            }
            if a.user.is_some() != a.password.is_some() {
                errs.push("authorization: user and password go together".to_string());
            }
        }
        if self.has_tenants() && self.authorization.is_some() {
            errs.push(
                "authorization: not allowed with tenants (define users in the tenant files)"
                    .to_string(),
            );
        }
        if !self.has_tenants() && (self.no_auth_user.is_some() || self.system_account.is_some()) {
            errs.push("no_auth_user and system_account: need tenants".to_string());
        }
        for (i, plugin) in self.auth_plugins.iter().enumerate() {
            if plugin.kind != crate::config::tenant::PluginKind::Auth {
                errs.push(format!("auth_plugins[{i}]: kind must be \"auth\""));
            }
            if plugin.tenants.is_empty() {
                errs.push(format!(
                    "auth_plugins[{i}]: tenants: name the tenants this plugin may bind users to"
                ));
            }
        }
        if !self.auth_plugins.is_empty() && !self.has_tenants() {
            errs.push("auth_plugins: need tenants".to_string());
        }
        if self.http_port.is_some_and(|p| p != 0 && p == self.port)
            && self.http_host.as_ref().is_none_or(|h| *h == self.host)
        {
            errs.push("http_port: must differ from port".to_string());
        }
        if self.lame_duck_grace_period >= self.lame_duck_duration {
            errs.push(
                "lame_duck_grace_period: must be shorter than lame_duck_duration".to_string(),
            );
        }
        if let Some(tls) = &self.tls {
            tls.validate(&mut errs);
            if tls.verify_and_map && !self.has_tenants() {
                errs.push(
                    "tls.verify_and_map: needs tenants (the users certificates map to)".to_string(),
                );
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml_with_durations_and_rejects_unknown_keys() {
        let c: ServerConfig =
            toml::from_str("port = 0\nping_interval = \"150ms\"\nmax_payload = 1024").unwrap();
        assert_eq!(c.port, 0);
        assert_eq!(c.ping_interval, Duration::from_millis(150));
        assert_eq!(c.max_payload, 1024);
        assert!(toml::from_str::<ServerConfig>("prot = 1").is_err());
        let bad = ServerConfig {
            max_pending: 10,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().len(), 1);
    }

    #[test]
    fn out_of_range_values_are_errors_naming_the_key() {
        let parse_err = |text: &str| {
            toml::from_str::<ServerConfig>(text)
                .unwrap_err()
                .to_string()
        };
        for (text, key) in [
            (
                "ping_interval = \"99999999999999999999999\"",
                "ping_interval",
            ),
            ("auth_timeout = 1e300", "auth_timeout"),
            ("write_deadline = -1", "write_deadline"),
            ("max_payload = -1", "max_payload"),
            ("max_pending = 1e99", "max_pending"),
            ("ping_max = 99999999999", "ping_max"),
        ] {
            let err = parse_err(text);
            assert!(err.contains(key), "{text}: {err}");
        }
        let absurd = ServerConfig {
            ping_interval: Duration::MAX,
            lame_duck_duration: Duration::MAX,
            max_control_line: usize::MAX,
            max_pending: 0,
            max_pending_logins: 0,
            ..Default::default()
        };
        assert_eq!(
            absurd.validate().unwrap_err(),
            vec![
                "max_pending: must be at least max_payload".to_string(),
                "max_control_line: must be at most 1 MiB".to_string(),
                "ping_interval: must be at most 365 days".to_string(),
                "lame_duck_duration: must be at most 365 days".to_string(),
                "max_pending_logins: must be greater than 0".to_string(),
            ]
        );
    }

    #[test]
    fn monitoring_port_is_optional_and_distinct() {
        let c: ServerConfig =
            toml::from_str("http_port = 8222\nhttp_host = \"127.0.0.1\"").unwrap();
        assert_eq!(c.http_port, Some(8222));
        assert_eq!(c.http_host.as_deref(), Some("127.0.0.1"));
        assert_eq!(ServerConfig::default().http_port, None);
        let clash = ServerConfig {
            http_port: Some(4222),
            ..Default::default()
        };
        assert_eq!(
            clash.validate().unwrap_err(),
            vec!["http_port: must differ from port".to_string()]
        );
    }

    #[test]
    fn tls_section_defaults_and_checks() {
        let c: ServerConfig =
            toml::from_str("[tls]\ncert_file = \"s.pem\"\nkey_file = \"s-key.pem\"").unwrap();
        let tls = c.tls.as_ref().unwrap();
        assert_eq!(tls.timeout, Duration::from_secs(2));
        assert!(!tls.verify && !tls.handshake_first);
        assert!(c.validate().is_ok());
        let bad: ServerConfig = toml::from_str(
            "[tls]\ncert_file = \"s.pem\"\nkey_file = \"k.pem\"\nverify_and_map = true\ntimeout = \"0s\"",
        )
        .unwrap();
        let errs = bad.validate().unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(toml::from_str::<ServerConfig>("[tls]\ncert_file = \"s.pem\"").is_err());
    }
}
