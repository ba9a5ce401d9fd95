//! The `[tls]` section of the server configuration: where the server's
//! certificate lives and how clients are verified. Key names follow
//! nats-server's `tls { }` block.

use super::duration;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// TLS for client connections. When present, every client must use TLS.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The server's certificate chain (PEM), leaf first.
    pub cert_file: PathBuf,
    /// The server's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// CA certificates (PEM) that client certificates must chain to.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Require and verify a client certificate.
    #[serde(default)]
    pub verify: bool,
    /// Verify the client certificate and log the client in as the user its
    /// email, DNS or URI SAN, or its subject DN, names.
    #[serde(default)]
    pub verify_and_map: bool,
    /// Time a client has to complete the TLS handshake.
    #[serde(default = "default_timeout", with = "duration::serde_str")]
    pub timeout: Duration,
    /// Handshake before sending INFO (for clients that open with TLS,
    /// such as async-nats `tls_first()`).
    #[serde(default)]
    pub handshake_first: bool,
    /// With `handshake_first`: how long to wait for a client to start the
    /// handshake before sending INFO first after all, so clients of both
    /// kinds connect (nats-server's `handshake_first: "300ms"`, or `"auto"`
    /// for 50 ms). Unset: only clients that open with TLS can connect.
    #[serde(default, with = "duration::serde_opt")]
    pub handshake_first_fallback: Option<Duration>,
}

fn default_timeout() -> Duration {
    TlsConfig::DEFAULT_TIMEOUT
}

impl TlsConfig {
    /// nats-server's `DEFAULT_TLS_HANDSHAKE_FIRST_FALLBACK_DELAY`, what
    /// `handshake_first: auto` waits.
    pub const DEFAULT_HANDSHAKE_FIRST_FALLBACK: Duration = Duration::from_millis(50);

    /// nats-server's `DEFAULT_TLS_TIMEOUT`.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

    /// Server TLS from a certificate and key, nothing else set.
    pub fn new(cert_file: PathBuf, key_file: PathBuf) -> TlsConfig {
        TlsConfig {
            cert_file,
            key_file,
            ca_file: None,
            verify: false,
            verify_and_map: false,
            timeout: default_timeout(),
            handshake_first: false,
            handshake_first_fallback: None,
        }
    }

    /// Whether client certificates are required and checked.
    pub fn verifies_clients(&self) -> bool {
        self.verify || self.verify_and_map
    }

    /// Takes relative paths from `base` (the configuration file's directory).
    pub(super) fn resolve_paths(&mut self, base: &Path) {
        for path in [&mut self.cert_file, &mut self.key_file]
            .into_iter()
            .chain(self.ca_file.as_mut())
        {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }

    pub(super) fn validate(&self, errs: &mut Vec<String>) {
        if self.verifies_clients() && self.ca_file.is_none() {
            errs.push("tls: verify and verify_and_map need ca_file".to_string());
        }
        if self.timeout.is_zero() {
            errs.push("tls.timeout: must be greater than 0".to_string());
        }
    }
}
