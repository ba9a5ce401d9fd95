//! Server-wide keys: where to listen, limits, timers, TLS, monitoring and
//! the process settings (logging, pid and ports files).

use super::NatsTranslation;
use super::read::{Issues, go_duration};
use crate::config::TlsConfig;
use crate::config::natsconf::{Entry, Kind, Value};
use std::path::PathBuf;
use std::time::Duration;

/// Applies `entry` (key lower-cased as `key`) if it is a server-wide
/// setting; false if it is some other key.
pub(super) fn apply(
    key: &str,
    entry: &Entry,
    out: &mut NatsTranslation,
    issues: &mut Issues,
) -> bool {
    let v = &entry.value;
    let path = entry.key.as_str();
    let c = &mut out.config;
    match key {
        "listen" => {
            if let Some((host, port)) = host_port(v, path, issues) {
                if let Some(host) = host {
                    c.host = host;
                }
                c.port = port;
            }
        }
        "host" | "net" | "addr" => {
            if let Some(h) = issues.string(v, path) {
                c.host = h;
            }
        }
        "port" => {
            if let Some(p) = port(v, path, issues) {
                c.port = p;
            }
        }
        "http" | "monitor" => {
            if let Some((host, port)) = host_port(v, path, issues) {
                c.http_host = host;
                c.http_port = Some(port);
            }
        }
        "http_port" | "monitor_port" => c.http_port = port(v, path, issues),
        "http_host" => c.http_host = issues.string(v, path),
        "server_name" => c.server_name = issues.string(v, path),
        "max_payload" => set(&mut c.max_payload, issues.count(v, path)),
        "max_pending" => set(&mut c.max_pending, issues.count(v, path)),
        "max_control_line" => set(&mut c.max_control_line, issues.count(v, path)),
        "max_connections" | "max_conn" => set(&mut c.max_connections, issues.count(v, path)),
        "ping_max" => set(&mut c.ping_max, issues.count(v, path)),
        "ping_interval" => set(&mut c.ping_interval, issues.duration(v, path)),
        "write_deadline" => set(&mut c.write_deadline, issues.duration(v, path)),
        "lame_duck_duration" => set(&mut c.lame_duck_duration, issues.duration(v, path)),
        "lame_duck_grace_period" => set(&mut c.lame_duck_grace_period, issues.duration(v, path)),
        "tls" => {
            if let Some(tls) = tls(v, path, issues) {
                c.tls = Some(tls);
            }
        }
        "pid_file" => out.process.pid_file = file(v, path, issues),
        "ports_file_dir" => out.process.ports_file_dir = file(v, path, issues),
        "log_file" | "logfile" => out.process.log_file = file(v, path, issues),
        "debug" => set(&mut out.process.debug, issues.boolean(v, path)),
        "trace" => set(&mut out.process.trace, issues.boolean(v, path)),
        _ => return false,
    }
    true
}

pub(super) fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// A file named by the configuration. nats-server opens such paths as
/// written, so relative ones are taken from the working directory, not
/// from the file's own (only `include` is relative to the including
/// file); files written for nats-server, such as async-nats' test
/// configurations (`./tests/configs/certs/...`), rely on it.
pub(super) fn file(v: &Value, path: &str, issues: &mut Issues) -> Option<PathBuf> {
    issues.string(v, path).map(PathBuf::from)
}

/// A port; nats-server's `-1` (pick a free one) is Switchyard's 0.
pub(super) fn port(v: &Value, path: &str, issues: &mut Issues) -> Option<u16> {
    match issues.integer(v, path)? {
        -1 => Some(0),
        n => u16::try_from(n).ok().or_else(|| {
            issues.error(&v.pos, path, format!("port {n} is out of range"));
            None
        }),
    }
}

/// `"host:port"`, `":port"`, `"[::1]:port"` or a bare port.
pub(super) fn host_port(
    v: &Value,
    path: &str,
    issues: &mut Issues,
) -> Option<(Option<String>, u16)> {
    let text = match &v.kind {
        Kind::Integer(_) => return port(v, path, issues).map(|p| (None, p)),
        _ => issues.string(v, path)?,
    };
    let Some((host, port_text)) = text.rsplit_once(':') else {
        return Some((Some(text), 4222));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = match port_text.parse::<i64>() {
        Ok(-1) => 0,
        Ok(n) => match u16::try_from(n) {
            Ok(p) => p,
            Err(_) => {
                issues.error(&v.pos, path, format!("port {n} is out of range"));
                return None;
            }
        },
        Err(_) => {
            issues.error(&v.pos, path, format!("`{text}` is not HOST:PORT"));
            return None;
        }
    };
    Some(((!host.is_empty()).then(|| host.to_string()), port))
}

/// `handshake_first`'s value as nats-server reads it: a boolean (also as
/// the strings `true`/`on`/`false`/`off`), `auto` (or `auto_fallback`) for
/// TLS first with the default fallback delay, or a Go duration for TLS first
/// with that delay (a zero delay: no fallback). `None` if it is none of
/// these.
fn handshake_first(v: &Value) -> Option<(bool, Option<Duration>)> {
    match &v.kind {
        Kind::Bool(b) => Some((*b, None)),
        Kind::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "on" => Some((true, None)),
            "false" | "off" => Some((false, None)),
            "auto" | "auto_fallback" => {
                Some((true, Some(TlsConfig::DEFAULT_HANDSHAKE_FIRST_FALLBACK)))
            }
            _ => go_duration(s).map(|d| (true, (!d.is_zero()).then_some(d))),
        },
        _ => None,
    }
}

/// `tls { cert_file, key_file, ca_file, verify, verify_and_map, timeout,
/// handshake_first }`. Keys that would change who may connect
/// (`pinned_certs`, `insecure`, ...) are errors rather than silently
/// ignored, since ignoring them would weaken what the file asks for.
pub(super) fn tls(v: &Value, path: &str, issues: &mut Issues) -> Option<TlsConfig> {
    let map = issues.map(v, path)?;
    let mut cert = None;
    let mut key = None;
    let mut tls = TlsConfig::new(PathBuf::new(), PathBuf::new());
    for entry in map.effective() {
        let p = format!("{path}.{}", entry.key);
        let v = &entry.value;
        match entry.key.to_ascii_lowercase().as_str() {
            "cert_file" => cert = file(v, &p, issues),
            "key_file" => key = file(v, &p, issues),
            "ca_file" => tls.ca_file = file(v, &p, issues),
            "verify" => set(&mut tls.verify, issues.boolean(v, &p)),
            "verify_and_map" => set(&mut tls.verify_and_map, issues.boolean(v, &p)),
            "timeout" => set(&mut tls.timeout, issues.duration(v, &p)),
            "handshake_first" | "first" | "immediate" | "tls_first" => match handshake_first(v) {
                Some((first, fallback)) => {
                    tls.handshake_first = first;
                    tls.handshake_first_fallback = fallback;
                }
                None => issues.error(
                    &v.pos,
                    &p,
                    "expected true, false, \"auto\" or a fallback delay such as \"300ms\"",
                ),
            },
            "cipher_suites" | "curve_preferences" | "min_version" => {
                issues.ignore(&entry.key_pos, &p, "Switchyard uses rustls' safe defaults")
            }
            "insecure"
            | "pinned_certs"
            | "verify_cert_and_check_known_urls"
            | "cert_store"
            | "cert_match"
            | "cert_match_by"
            | "ocsp_peer"
            | "certs"
            | "connection_rate_limit" => {
                issues.error(&entry.key_pos, &p, "not supported by Switchyard")
            }
            _ => issues.unknown(entry, &p),
        }
    }
    match (cert, key) {
        (Some(cert), Some(key)) => {
            tls.cert_file = cert;
            tls.key_file = key;
            Some(tls)
        }
        _ => {
            issues.error(&v.pos, path, "needs cert_file and key_file");
            None
        }
    }
}
