//! Recognises the monitoring requests nats-server answers on the system
//! account: `$SYS.REQ.SERVER.PING.<KIND>` (every server),
//! `$SYS.REQ.SERVER.<server id>.<KIND>` (this one) and the bare
//! `$SYS.REQ.SERVER.PING` (statsz, what `nats server list` sends); and the
//! one any logged-in user may send, `$SYS.REQ.USER.INFO`. The answers are
//! built by `crate::monitor`.

/// Every server request starts with this; a publish that does not costs one
/// prefix compare.
pub const PREFIX: &[u8] = b"$SYS.REQ.";

const SERVER: &str = "$SYS.REQ.SERVER.";

/// `nats account info`'s request: answered for any logged-in user, in
/// any account, about that user and its account.
pub const USER_INFO: &[u8] = b"$SYS.REQ.USER.INFO";

/// What a monitoring request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemRequest {
    Varz,
    Connz,
    Subsz,
    Healthz,
    Accountz,
    Statsz,
    Leafz,
    Routez,
}

/// The request a subject names, if it is addressed to all servers or to
/// `server_id`.
pub fn server_request(subject: &[u8], server_id: &str) -> Option<SystemRequest> {
    let s = std::str::from_utf8(subject).ok()?;
    let rest = s.strip_prefix(SERVER)?;
    if rest == "PING" {
        return Some(SystemRequest::Statsz);
    }
    let (target, kind) = rest.split_once('.')?;
    if target != "PING" && target != server_id {
        return None;
    }
    match kind {
        "VARZ" => Some(SystemRequest::Varz),
        "CONNZ" => Some(SystemRequest::Connz),
        "SUBSZ" => Some(SystemRequest::Subsz),
        "HEALTHZ" => Some(SystemRequest::Healthz),
        "ACCOUNTZ" => Some(SystemRequest::Accountz),
        "STATSZ" => Some(SystemRequest::Statsz),
        "LEAFZ" => Some(SystemRequest::Leafz),
        "ROUTEZ" => Some(SystemRequest::Routez),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ping_and_addressed_requests() {
        assert_eq!(
            server_request(b"$SYS.REQ.SERVER.PING.VARZ", "NABC"),
            Some(SystemRequest::Varz)
        );
        assert_eq!(
            server_request(b"$SYS.REQ.SERVER.NABC.CONNZ", "NABC"),
            Some(SystemRequest::Connz)
        );
        assert_eq!(
            server_request(b"$SYS.REQ.SERVER.PING.LEAFZ", "NABC"),
            Some(SystemRequest::Leafz)
        );
        assert_eq!(server_request(b"$SYS.REQ.SERVER.NXYZ.CONNZ", "NABC"), None);
        assert_eq!(server_request(b"$SYS.REQ.SERVER.PING.NOPE", "NABC"), None);
        assert_eq!(
            server_request(b"$SYS.REQ.SERVER.PING", "NABC"),
            Some(SystemRequest::Statsz)
        );
        assert_eq!(
            server_request(b"$SYS.REQ.SERVER.PING.STATSZ", "NABC"),
            Some(SystemRequest::Statsz)
        );
        assert_eq!(
            server_request(b"$SYS.REQ.SERVER.NABC.STATSZ", "NABC"),
            Some(SystemRequest::Statsz)
        );
        assert_eq!(server_request(b"$SYS.REQ.SERVER.NABC", "NABC"), None);
        assert_eq!(server_request(b"$SYS.REQ.SERVER.PINGX", "NABC"), None);
        assert_eq!(server_request(b"foo", "NABC"), None);
    }
}
