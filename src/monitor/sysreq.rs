//! Recognises the monitoring requests nats-server answers on the system
//! account: `$SYS.REQ.SERVER.PING.<KIND>` (every server) and
//! `$SYS.REQ.SERVER.<server id>.<KIND>` (this one). The answers are built
//! by `crate::monitor`.

/// Every server request starts with this; a publish that does not costs one
/// prefix compare.
pub const PREFIX: &[u8] = b"$SYS.REQ.";

const SERVER: &str = "$SYS.REQ.SERVER.";

/// What a monitoring request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemRequest {
    Varz,
    Connz,
    Subsz,
    Healthz,
    Accountz,
    Leafz,
}

/// The request a subject names, if it is addressed to all servers or to
/// `server_id`.
pub fn server_request(subject: &[u8], server_id: &str) -> Option<SystemRequest> {
    let s = std::str::from_utf8(subject).ok()?;
    let (target, kind) = s.strip_prefix(SERVER)?.split_once('.')?;
    if target != "PING" && target != server_id {
        return None;
    }
    match kind {
        "VARZ" => Some(SystemRequest::Varz),
        "CONNZ" => Some(SystemRequest::Connz),
        "SUBSZ" => Some(SystemRequest::Subsz),
        "HEALTHZ" => Some(SystemRequest::Healthz),
        "ACCOUNTZ" => Some(SystemRequest::Accountz),
        "LEAFZ" => Some(SystemRequest::Leafz),
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
        assert_eq!(server_request(b"$SYS.REQ.SERVER.PING", "NABC"), None);
        assert_eq!(server_request(b"foo", "NABC"), None);
    }
}
