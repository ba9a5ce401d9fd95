//! Where to connect: URL parsing, credentials and the CONNECT line.

use super::error::BenchError;
use super::stream::TlsClient;
use base64::Engine;
use nkeys::KeyPair;
use std::path::Path;
use std::sync::Arc;

const DEFAULT_PORT: u16 = 4222;

/// Where to connect and with which credentials.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `host:port` as given to `TcpStream::connect`.
    pub addr: String,
    /// The URL without credentials, for reports.
    pub display: String,
    host: String,
    /// Set with `--tls-ca`: the connection is upgraded after INFO.
    pub tls: Option<TlsClient>,
    user: Option<String>,
    password: Option<String>,
    token: Option<String>,
    creds: Option<UserCreds>,
}

/// A user JWT and the key that proves the user holds it, from a `.creds`
/// file. The key is shared, not re-derived from the seed per connection,
/// because decoding a seed costs as much as the signature itself.
#[derive(Clone)]
pub(crate) struct UserCreds {
    jwt: String,
    key: Arc<KeyPair>,
}

impl std::fmt::Debug for UserCreds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the seed.
        f.debug_struct("UserCreds")
            .field("user", &self.key.public_key())
            .finish_non_exhaustive()
    }
}

impl UserCreds {
    /// Reads a NATS `.creds` file (user JWT and seed).
    pub(crate) fn load(path: &Path) -> Result<Self, BenchError> {
        let err = |reason: String| BenchError::Creds {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let (jwt, seed) = crate::auth::jwt::parse_creds(&text).map_err(|e| err(e.to_string()))?;
        let key = KeyPair::from_seed(&seed).map_err(|e| err(e.to_string()))?;
        Ok(UserCreds {
            jwt,
            key: Arc::new(key),
        })
    }

    /// The CONNECT `sig`: the server's nonce signed with the user's key, in
    /// base64url without padding, as nats-server expects.
    fn sign(&self, nonce: &str) -> Result<String, String> {
        let sig = self.key.sign(nonce.as_bytes()).map_err(|e| e.to_string())?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig))
    }
}

impl Endpoint {
    /// Accepts `nats://[user:pass@|token@]host[:port]` or `host[:port]`;
    /// credentials given as flags win over those in the URL.
    pub(crate) fn parse(
        url: &str,
        user: Option<String>,
        password: Option<String>,
        token: Option<String>,
    ) -> Result<Self, BenchError> {
        let err = |reason: &str| BenchError::Url {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("nats") => rest,
            Some(_) => {
                return Err(err(
                    "only nats:// is supported (for TLS add --tls-ca; no websocket)",
                ));
            }
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (mut user, mut password, mut token) = (user, password, token);
        match userinfo.map(|u| u.split_once(':')) {
            Some(Some((u, p))) => {
                user.get_or_insert_with(|| u.to_string());
                password.get_or_insert_with(|| p.to_string());
            }
            Some(None) => {
                token.get_or_insert_with(|| userinfo.unwrap_or_default().to_string());
            }
            None => {}
        }
        let (host, port) = split_host_port(hostport).ok_or_else(|| err("expected host:port"))?;
        if host.is_empty() {
            return Err(err("missing host"));
        }
        let addr = format!("{host}:{port}");
        Ok(Endpoint {
            display: format!("nats://{addr}"),
            addr,
            host: host.to_string(),
            tls: None,
            user,
            password,
            token,
            creds: None,
        })
    }

    /// Logs in with a user JWT as well (in addition to any other credentials,
    /// as nats.go would send them).
    pub(crate) fn with_creds(mut self, creds: Option<UserCreds>) -> Self {
        self.creds = creds;
        self
    }

    /// Upgrades every connection to TLS with `tls`.
    pub(crate) fn with_tls(mut self, tls: TlsClient) -> Self {
        self.display = self.display.replacen("nats://", "tls://", 1);
        self.tls = Some(tls);
        self
    }

    /// The host part of the URL, as the server's certificate must name it.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn has_credentials(&self) -> bool {
        self.user.is_some() || self.token.is_some() || self.creds.is_some()
    }

    /// The CONNECT line for a connection whose INFO carried `nonce`. With
    /// `--creds` the nonce is signed, so the line differs per connection; a
    /// server that sent no nonce cannot check a JWT login, which is an error
    /// here rather than a confusing 'Authorization Violation' later.
    pub(crate) fn connect_line(&self, nonce: Option<&str>) -> Result<Vec<u8>, String> {
        let mut opts = serde_json::json!({
            "verbose": false,
            "pedantic": false,
            "echo": true,
            "headers": true,
            "protocol": 1,
            "name": "switchyard-bench",
            "lang": "rust",
            "version": env!("CARGO_PKG_VERSION"),
        });
        let creds = [
            ("user", &self.user),
            ("pass", &self.password),
            ("auth_token", &self.token),
        ];
        for (key, value) in creds {
            if let Some(v) = value {
                opts[key] = serde_json::Value::String(v.clone());
            }
        }
        if let Some(creds) = &self.creds {
            let nonce = nonce.ok_or(
                "the server sent no nonce in INFO, so it cannot check a --creds login \
                 (is it running in operator mode?)",
            )?;
            opts["jwt"] = serde_json::Value::String(creds.jwt.clone());
            opts["sig"] = serde_json::Value::String(creds.sign(nonce)?);
        }
        Ok(format!("CONNECT {opts}\r\n").into_bytes())
    }
}

/// Splits `host[:port]`, keeping IPv6 literals bracketed.
fn split_host_port(s: &str) -> Option<(String, u16)> {
    if let Some(inner) = s.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => DEFAULT_PORT,
            None => return None,
        };
        return Some((format!("[{host}]"), port));
    }
    match s.matches(':').count() {
        0 => Some((s.to_string(), DEFAULT_PORT)),
        1 => {
            let (host, port) = s.split_once(':')?;
            Some((host.to_string(), port.parse().ok()?))
        }
        _ => Some((format!("[{s}]"), DEFAULT_PORT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(url: &str) -> Result<String, BenchError> {
        Endpoint::parse(url, None, None, None).map(|e| e.addr)
    }

    #[test]
    fn urls() -> Result<(), BenchError> {
        assert_eq!(addr("nats://127.0.0.1:4222")?, "127.0.0.1:4222");
        assert_eq!(addr("localhost:14222")?, "localhost:14222");
        assert_eq!(addr("localhost")?, "localhost:4222");
        assert_eq!(addr("nats://[::1]:5000/")?, "[::1]:5000");
        assert_eq!(addr("::1")?, "[::1]:4222");
        assert!(addr("tls://x:1").is_err());
        assert!(addr("x:notaport").is_err());
        let ep = Endpoint::parse("nats://bob:s3cret@h:1", None, None, None)?;
        let line =
            String::from_utf8_lossy(&ep.connect_line(None).map_err(BenchError::Args)?).into_owned();
        assert!(
            line.contains("\"user\":\"bob\"") && line.contains("\"pass\":\"s3cret\""),
            "{line}"
        );
        assert_eq!(ep.display, "nats://h:1");
        let ep = Endpoint::parse("nats://tok@h:1", None, None, None)?;
        let line = ep.connect_line(None).map_err(BenchError::Args)?;
        assert!(String::from_utf8_lossy(&line).contains("\"auth_token\":\"tok\""));
        Ok(())
    }

    #[test]
    fn creds_sign_the_nonce() -> Result<(), Box<dyn std::error::Error>> {
        let user = KeyPair::new_user();
        let creds = UserCreds {
            jwt: "header.claims.sig".into(),
            key: Arc::new(KeyPair::from_seed(&user.seed()?)?),
        };
        let ep = Endpoint::parse("h:1", None, None, None)?.with_creds(Some(creds));
        assert!(ep.has_credentials());
        assert!(ep.connect_line(None).is_err());
        let line = String::from_utf8(ep.connect_line(Some("n0nce"))?)?;
        let json: serde_json::Value =
            serde_json::from_str(line.trim_start_matches("CONNECT ").trim_end())?;
        assert_eq!(json["jwt"], "header.claims.sig");
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(json["sig"].as_str().ok_or("no sig")?)?;
        user.verify(b"n0nce", &sig)?;
        Ok(())
    }
}
