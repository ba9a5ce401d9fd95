//! Where to connect: URL parsing and the CONNECT line.

use super::BenchError;

const DEFAULT_PORT: u16 = 4222;

/// Where to connect and with which credentials.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `host:port` as given to `TcpStream::connect`.
    pub addr: String,
    /// The URL without credentials, for reports.
    pub display: String,
    user: Option<String>,
    password: Option<String>,
    token: Option<String>,
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
            Some(_) => return Err(err("only nats:// is supported (no TLS, no websocket)")),
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
            user,
            password,
            token,
        })
    }

    pub(crate) fn has_credentials(&self) -> bool {
        self.user.is_some() || self.token.is_some()
    }

    pub(crate) fn connect_line(&self) -> Vec<u8> {
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
        format!("CONNECT {opts}\r\n").into_bytes()
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
        let line = String::from_utf8_lossy(&ep.connect_line()).into_owned();
        assert!(
            line.contains("\"user\":\"bob\"") && line.contains("\"pass\":\"s3cret\""),
            "{line}"
        );
        assert_eq!(ep.display, "nats://h:1");
        let ep = Endpoint::parse("nats://tok@h:1", None, None, None)?;
        assert!(String::from_utf8_lossy(&ep.connect_line()).contains("\"auth_token\":\"tok\""));
        Ok(())
    }
}
