//! `$SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE` and `.CLAIMS.LOOKUP`, from clients
//! of the system account.
//!
//! An update carries an account JWT signed by the trusted operator; the
//! server stores it, reloads, and answers in nats-server's format. Live
//! connections of the account re-check their logins, so revoked users are
//! disconnected. A lookup is answered as nats-server's directory resolver
//! answers it: the account JWT itself as the payload, or an empty payload
//! when the account is unknown.

use super::Shared;
use serde_json::json;

const PREFIX: &str = "$SYS.REQ.ACCOUNT.";
const UPDATE: &str = ".CLAIMS.UPDATE";
const LOOKUP: &str = ".CLAIMS.LOOKUP";

/// A request on one of the claims subjects, with its account id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClaimsRequest<'a> {
    Update(&'a str),
    Lookup(&'a str),
}

/// The claims request a subject names, if any.
/// Called for every publish, so ordinary subjects cost one prefix compare.
pub(super) fn request(subject: &[u8]) -> Option<ClaimsRequest<'_>> {
    if !subject.starts_with(PREFIX.as_bytes()) {
        return None;
    }
    let s = std::str::from_utf8(subject).ok()?;
    let rest = s.strip_prefix(PREFIX)?;
    let valid = |id: &str| !id.is_empty() && !id.contains('.');
    if let Some(id) = rest.strip_suffix(UPDATE).filter(|id| valid(id)) {
        return Some(ClaimsRequest::Update(id));
    }
    rest.strip_suffix(LOOKUP)
        .filter(|id| valid(id))
        .map(ClaimsRequest::Lookup)
}

/// Handles a request; returns the payload of the answer, or `None` when
/// the server does not answer such requests (a lookup outside operator
/// mode is an ordinary publish, as on a nats-server without a resolver).
pub(super) fn answer(
    server: &Shared,
    request: ClaimsRequest<'_>,
    payload: &[u8],
) -> Option<Vec<u8>> {
    match request {
        ClaimsRequest::Update(id) => Some(apply_update(server, id, payload)),
        ClaimsRequest::Lookup(id) => {
            let tenancy = server.tenancy();
            let trust = tenancy.operator.as_ref()?;
            Some(
                trust
                    .accounts
                    .get(id)
                    .map_or_else(Vec::new, |a| a.jwt.clone().into_bytes()),
            )
        }
    }
}

/// Applies an update; returns the JSON answer for the requester.
fn apply_update(server: &Shared, id: &str, payload: &[u8]) -> Vec<u8> {
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
    use super::{ClaimsRequest, request};

    #[test]
    fn parses_the_subjects() {
        assert_eq!(
            request(b"$SYS.REQ.ACCOUNT.ABC.CLAIMS.UPDATE"),
            Some(ClaimsRequest::Update("ABC"))
        );
        assert_eq!(
            request(b"$SYS.REQ.ACCOUNT.ABC.CLAIMS.LOOKUP"),
            Some(ClaimsRequest::Lookup("ABC"))
        );
        assert_eq!(request(b"$SYS.REQ.ACCOUNT..CLAIMS.UPDATE"), None);
        assert_eq!(request(b"$SYS.REQ.ACCOUNT.A.B.CLAIMS.LOOKUP"), None);
        assert_eq!(request(b"$SYS.REQ.ACCOUNT.A.CLAIMS.DELETE"), None);
        assert_eq!(request(b"foo"), None);
    }
}
