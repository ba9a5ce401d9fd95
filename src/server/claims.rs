//! `$SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE`: a system-account client sends an
//! account JWT signed by the trusted operator; the server stores it, reloads,
//! and answers in nats-server's format. Live connections of the account
//! re-check their logins, so revoked users are disconnected.

use super::Shared;
use serde_json::json;

const PREFIX: &str = "$SYS.REQ.ACCOUNT.";
const SUFFIX: &str = ".CLAIMS.UPDATE";

/// The account id of a claims-update subject.
/// Called for every publish, so ordinary subjects cost one prefix compare.
pub(super) fn update_target(subject: &[u8]) -> Option<&str> {
    if !subject.starts_with(PREFIX.as_bytes()) {
        return None;
    }
    let s = std::str::from_utf8(subject).ok()?;
    let id = s.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    (!id.is_empty() && !id.contains('.')).then_some(id)
}

/// Applies an update; returns the JSON answer for the requester.
pub(super) fn apply_update(server: &Shared, id: &str, payload: &[u8]) -> Vec<u8> {
    let answer = match try_update(server, id, payload) {
        Ok(()) => json!({"data": {"account": id, "code": 200, "message": "jwt updated"}}),
        Err((code, description)) => {
            tracing::warn!(account = id, %description, "account claims update refused");
            json!({"error": {"account": id, "code": code, "description": description}})
        }
    };
    answer.to_string().into_bytes()
}

fn try_update(server: &Shared, id: &str, payload: &[u8]) -> Result<(), (u16, String)> {
    let tenancy = server.tenancy();
    let Some(trust) = &tenancy.operator else {
        return Err((400, "server is not in operator mode".into()));
    };
    let token = std::str::from_utf8(payload)
        .map_err(|_| (400, "JWT is not UTF-8".to_string()))?
        .trim();
    let claims = trust
        .verify_account(token, "account JWT")
        .map_err(|e| (400, e.to_string()))?;
    if claims.data.sub != id {
        return Err((
            400,
            format!("JWT subject `{}` does not match `{id}`", claims.data.sub),
        ));
    }
    trust
        .store_update(&claims, token)
        .map_err(|e| (500, e.to_string()))?;
    server.reload_now().map_err(|e| (500, e.to_string()))?;
    tracing::info!(account = id, "account claims updated");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::update_target;

    #[test]
    fn parses_the_subject() {
        assert_eq!(
            update_target(b"$SYS.REQ.ACCOUNT.ABC.CLAIMS.UPDATE"),
            Some("ABC")
        );
        assert_eq!(update_target(b"$SYS.REQ.ACCOUNT..CLAIMS.UPDATE"), None);
        assert_eq!(update_target(b"$SYS.REQ.ACCOUNT.A.B.CLAIMS.UPDATE"), None);
        assert_eq!(update_target(b"foo"), None);
    }
}
