//! Logging in with a user JWT (operator mode), in nats-server's order:
//! decode and check times, find the account, check the issuer (the account
//! or one of its signing keys; a scoped key imposes its template), bearer or
//! nonce signature, revocation, and source address.

use super::connect_times;
use super::error::AuthError;
use super::jwt::{self, SigningKey, UserClaims};
use super::nkey::verify_with_key;
use super::operator::{OperatorTrust, VerifiedUser, jwt_limit, to_permissions};
use super::users::Identity;
use crate::protocol::ConnectOptions;
use std::net::IpAddr;
use std::sync::Arc;

/// The only connection type Switchyard serves: plain NATS over TCP.
const STANDARD: &str = "STANDARD";

/// Authenticates CONNECT's `jwt` and `sig` against the trusted accounts.
pub fn authenticate_jwt(
    trust: &OperatorTrust,
    opts: &ConnectOptions,
    nonce: Option<&str>,
    peer: IpAddr,
    now: i64,
) -> Result<Identity, AuthError> {
    let token = opts.jwt.as_deref().unwrap_or_default();
    let verified = verified_user(trust, token, now)?;
    let user = &verified.claims;
    let account_key = user.account().to_string();
    let Some(account) = trust.accounts.get(&account_key) else {
        return Err(AuthError::UnknownAccount {
            account: account_key,
        });
    };
    let subject = user.data.sub.clone();
    // nats-server checks the types in the user's own JWT, before a scoped
    // signing key's template replaces its limits.
    let types = &user.nats.limits.allowed_connection_types;
    if !types.is_empty() && !types.iter().any(|t| t.eq_ignore_ascii_case(STANDARD)) {
        return Err(AuthError::ConnectionTypeNotAllowed {
            user: subject,
            types: types.clone(),
        });
    }
    let issuer = &user.data.iss;
    let mut limits = user.nats.limits.clone();
    if *issuer != account.claims.data.sub {
        match account.claims.signing_key(issuer) {
            Some(SigningKey::Key(_)) => {}
            // A scoped signing key's users get the scope's permissions.
            Some(SigningKey::Scoped(scope)) => limits = scope.template.clone(),
            None => {
                return Err(AuthError::NotIssuedByAccount {
                    issuer: issuer.clone(),
                    account: account_key,
                });
            }
        }
    }
    if user.nats.limits.bearer_token {
        if account.claims.nats.limits.disallow_bearer {
            return Err(AuthError::BearerNotAllowed {
                user: subject,
                account: account_key,
            });
        }
    } else {
        let Some(nonce) = nonce else {
            return Err(AuthError::NonceNotIssued { nkey: subject });
        };
        let Some(sig) = opts.sig.as_deref().filter(|s| !s.is_empty()) else {
            return Err(AuthError::SignatureMissing { nkey: subject });
        };
        if !verify_with_key(&verified.key, nonce, sig) {
            return Err(AuthError::BadSignature { nkey: subject });
        }
    }
    if account.claims.is_revoked(&subject, user.data.iat) {
        return Err(AuthError::Revoked { user: subject });
    }
    if !limits.src.is_empty() && !limits.src.iter().any(|cidr| cidr_contains(cidr, peer)) {
        return Err(AuthError::SourceNotAllowed {
            user: subject,
            ip: peer.to_string(),
        });
    }
    let now_ts = jiff::Timestamp::from_second(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let window_end = connect_times::window_end(&limits.times, &limits.times_location, now_ts)
        .map_err(|e| AuthError::OutsideConnectTimes {
            user: subject.clone(),
            reason: e.to_string(),
        })?;
    // The connection ends when the JWT expires or its time window closes,
    // whichever comes first (nats-server's `setExpiration`).
    let window_end = window_end.map(|t| t.as_second());
    let exp = (user.data.exp > 0).then_some(user.data.exp);
    let expires = match (exp, window_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let permissions = to_permissions(&limits.permissions)
        .or_else(|| to_permissions(&account.claims.nats.default_permissions));
    let name = if user.data.name.is_empty() {
        subject.clone()
    } else {
        user.data.name.clone()
    };
    Ok(Identity {
        tenant: account_key.into(),
        user: name.into(),
        permissions,
        expires,
        max_subscriptions: jwt_limit(limits.subs),
        max_payload: jwt_limit(limits.payload),
        checked_secret: None,
    })
}

/// Bound on remembered user JWTs; the map is emptied when it is reached.
const MAX_VERIFIED: usize = 10_000;

/// The user claims of `token`, verified once per tenancy and then taken
/// from the cache; times are checked on every login.
fn verified_user(
    trust: &OperatorTrust,
    token: &str,
    now: i64,
) -> Result<Arc<VerifiedUser>, AuthError> {
    let cached = trust.verified_users.lock().get(token).cloned();
    if let Some(user) = cached {
        let data = &user.claims.data;
        if data.exp > 0 && now > data.exp {
            return Err(AuthError::BadJwt {
                reason: format!("JWT expired at {}", data.exp),
            });
        }
        if data.nbf > 0 && now < data.nbf {
            return Err(AuthError::BadJwt {
                reason: format!("JWT is not valid before {}", data.nbf),
            });
        }
        return Ok(user);
    }
    let claims: UserClaims = jwt::decode_at(token, now)
        .and_then(|d| d.into_claims())
        .map_err(|e| AuthError::BadJwt {
            reason: e.to_string(),
        })?;
    let key = nkeys::KeyPair::from_public_key(&claims.data.sub).map_err(|e| AuthError::BadJwt {
        reason: format!("subject is not a user key: {e}"),
    })?;
    let user = Arc::new(VerifiedUser { claims, key });
    let mut cache = trust.verified_users.lock();
    if cache.len() >= MAX_VERIFIED {
        cache.clear();
    }
    cache.insert(token.into(), user.clone());
    Ok(user)
}

/// Whether `ip` is inside `cidr` (`10.0.0.0/8`, `::1/128`, or a bare address).
pub fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let (net, bits) = match cidr.trim().split_once('/') {
        Some((net, bits)) => (net, bits.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => prefix_eq(
            u128::from(u32::from(n)),
            u128::from(u32::from(i)),
            bits.unwrap_or(32),
            32,
        ),
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            prefix_eq(u128::from(n), u128::from(i), bits.unwrap_or(128), 128)
        }
        (IpAddr::V4(n), IpAddr::V6(i)) => i.to_ipv4_mapped().is_some_and(|i| {
            prefix_eq(
                u128::from(u32::from(n)),
                u128::from(u32::from(i)),
                bits.unwrap_or(32),
                32,
            )
        }),
        _ => false,
    }
}

fn prefix_eq(a: u128, b: u128, bits: u32, width: u32) -> bool {
    if bits > width {
        return false;
    }
    let shift = width - bits;
    if shift >= 128 {
        return true;
    }
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::cidr_contains;

    #[test]
    fn cidrs() {
        let ip = |s: &str| s.parse().unwrap();
        assert!(cidr_contains("127.0.0.0/8", ip("127.0.0.1")));
        assert!(!cidr_contains("10.0.0.0/8", ip("127.0.0.1")));
        assert!(cidr_contains("192.168.1.7", ip("192.168.1.7")));
        assert!(cidr_contains("0.0.0.0/0", ip("8.8.8.8")));
        assert!(cidr_contains("::1/128", ip("::1")));
        assert!(!cidr_contains("garbage", ip("::1")));
    }
}
