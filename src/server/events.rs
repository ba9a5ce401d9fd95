//! System events: `$SYS.ACCOUNT.<tenant>.CONNECT` and `.DISCONNECT`,
//! published into the system account with nats-server's JSON field names so
//! existing NATS tooling can read them.

use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

pub const CONNECT_TYPE: &str = "io.nats.server.advisory.v1.client_connect";
pub const DISCONNECT_TYPE: &str = "io.nats.server.advisory.v1.client_disconnect";

#[derive(Debug, Serialize)]
pub struct ServerRef {
    pub name: String,
    pub host: String,
    pub id: String,
    pub ver: String,
    pub seq: u64,
    pub time: String,
}

#[derive(Debug, Serialize)]
pub struct ClientRef {
    pub start: String,
    pub host: String,
    pub id: u64,
    pub acc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
    pub server: String,
    pub kind: &'static str,
    pub client_type: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DataStats {
    pub msgs: u64,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct ClientEvent {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub timestamp: String,
    pub server: ServerRef,
    pub client: ClientRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<DataStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<DataStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A unique event id: 22 base62 characters, like a NATS nuid.
pub fn event_id() -> String {
    const BASE62: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..22)
        .map(|_| BASE62[fastrand::usize(..BASE62.len())] as char)
        .collect()
}

/// RFC 3339 UTC time with nanoseconds, as Go's time marshals it.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_rfc3339() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.000000005Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(event_id().len(), 22);
    }
}
