//! `$SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE` and `.CLAIMS.LOOKUP`, from clients
//! of the system account.
//!
//! An update carries an account JWT signed by the trusted operator and no
//! older than the one in force (a replayed JWT would undo a later
//! revocation); the server checks the whole tenancy as it would be with
//! it, stores it, reloads, and answers in nats-server's format. Live
//! connections of the account re-check their logins, so revoked users are
//! disconnected. A lookup is answered as nats-server's directory resolver
//! answers it: the account JWT itself as the payload, or an empty payload
//! when the account is unknown.

use super::shared::Shared;
use super::tls::TlsError;
use crate::auth::operator::OperatorTrust;
use crate::tenant::tenancy::Tenancy;
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
        Err(Refusal { code, description }) => {
            tracing::warn!(account = id, %description, "account claims update refused");
            json!({"error": {"account": id, "code": code, "description": description}})
        }
    };
    answer.to_string().into_bytes()
}

/// Why an update was not applied: 400 for a JWT that is refused, 500 for
/// the server failing to store or load it.
struct Refusal {
    code: u16,
    description: String,
}

impl Refusal {
    fn bad(description: impl Into<String>) -> Refusal {
        Refusal {
            code: 400,
            description: description.into(),
        }
    }

    fn failed(description: impl Into<String>) -> Refusal {
        Refusal {
            code: 500,
            description: description.into(),
        }
    }
}

impl From<TlsError> for Refusal {
    fn from(e: TlsError) -> Refusal {
        Refusal::failed(e.to_string())
    }
}

/// Checks the JWT, then the whole tenancy as it would be with it, and only
/// then writes it and installs that tenancy; all under the reload lock, so
/// a concurrent update or SIGHUP cannot slip between check and write.
fn try_update(server: &Shared, id: &str, payload: &[u8]) -> Result<(), Refusal> {
    if server.tenancy().operator.is_none() {
        return Err(Refusal::bad("server is not in operator mode"));
    }
    let token = std::str::from_utf8(payload)
        .map_err(|_| Refusal::bad("JWT is not UTF-8"))?
        .trim();
    server.reload_with(|previous, sources| {
        let Some(in_force) = &previous.operator else {
            return Err(Refusal::bad("server is not in operator mode"));
        };
        let claims = in_force
            .verify_account(token, "account JWT")
            .map_err(|e| Refusal::bad(e.to_string()))?;
        if claims.data.sub != id {
            return Err(Refusal::bad(format!(
                "JWT subject `{}` does not match `{id}`",
                claims.data.sub
            )));
        }
        // The directory as it is now, which a SIGHUP would load.
        let on_disk =
            OperatorTrust::load(&in_force.dir).map_err(|e| Refusal::failed(e.to_string()))?;
        let newest = [in_force, &on_disk]
            .iter()
            .filter_map(|t| t.accounts.get(id))
            .map(|a| a.claims.data.iat)
            .max();
        if let Some(newest) = newest.filter(|&n| claims.data.iat < n) {
            return Err(Refusal::bad(replay_error(claims.data.iat, newest)));
        }
        let candidate = on_disk.with_update(claims.clone(), token);
        let next = Tenancy::load_with(sources, previous, &server.plugins, Some(candidate))
            .map_err(|e| Refusal::bad(e.to_string()))?;
        next.operator
            .as_ref()
            .ok_or_else(|| Refusal::failed("the reloaded tenancy has no operator"))?
            .store_update(&claims, token)
            .map_err(|e| Refusal::failed(e.to_string()))?;
        Ok(next)
    })?;
    tracing::info!(account = id, "account claims updated");
    Ok(())
}

/// The refusal of a JWT older than the one in force: replaying an old JWT
/// would undo a later revocation or limit. nats-server's directory store
/// skips such a JWT without saying so (and answers "jwt updated"); we say
/// why, in its error wording.
fn replay_error(iat: i64, newest: i64) -> String {
    format!(
        "jwt update resulted in error - JWT issued at {iat} is older than the one in force (issued at {newest})"
    )
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
