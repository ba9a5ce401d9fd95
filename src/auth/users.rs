//! The user directory: every user of every tenant, indexed for login.
//!
//! It owns the mapping from CONNECT credentials to an [`Identity`] (which
//! tenant, which user, which permissions). It does not own what happens
//! next: binding the connection to the tenant's subscription index and
//! enforcing the permissions belong to the server and the tenant model.

mod build;
#[cfg(test)]
mod tests;
mod tokens;

use crate::config::tenant::{Permissions, TenantFile};
use crate::protocol::ConnectOptions;
use nkeys::KeyPair;
use rustc_hash::FxHashMap;
use std::sync::Arc;
use tokens::TokenIndex;

use super::error::{AuthConfigError, AuthError};
use super::nkey::verify_with_key;
use super::password::verify_secret;
use super::tls_peer::TlsPeer;

/// Who a connection is, once logged in.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The tenant (account) the connection is bound to.
    pub tenant: Arc<str>,
    /// For display and logs: the user name, the nkey public key, or
    /// `token` for an unnamed token user.
    pub user: Arc<str>,
    /// The user's own permissions, else its tenant's default permissions;
    /// `None` means unrestricted.
    pub permissions: Option<Permissions>,
    /// When the credentials stop being valid (a user JWT's `exp`), unix seconds.
    pub expires: Option<i64>,
    /// The user's own subscription limit (a user JWT's `subs`); the
    /// smaller of it and the account's applies.
    pub max_subscriptions: Option<usize>,
    /// The user's own payload limit (a user JWT's `payload`).
    pub max_payload: Option<usize>,
    /// For a password user: the stored secret a login is checked against.
    pub checked_secret: Option<CheckedSecret>,
}

/// The stored secret (plain or bcrypt) of a password user. A connection
/// whose password was checked against it need not be checked again while
/// it is unchanged: the same password matches the same hash, and a bcrypt
/// check costs tens of milliseconds, which a reload would otherwise pay
/// for every live connection. `Debug` never shows it.
#[derive(Clone, PartialEq)]
pub struct CheckedSecret(Arc<str>);

impl std::fmt::Debug for CheckedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckedSecret(..)")
    }
}

impl CheckedSecret {
    pub(crate) fn new(secret: &str) -> CheckedSecret {
        CheckedSecret(secret.into())
    }
}

/// All users of all tenants, indexed by user name, token and nkey.
///
/// Built once per configuration load and then only read, so lookups take
/// no lock; a reload builds a new directory.
#[derive(Debug)]
pub struct UserDirectory {
    /// One per configured user; the indexes below point into it.
    identities: Vec<Identity>,
    /// User name to password (plain or bcrypt).
    passwords: FxHashMap<Box<str>, PasswordUser>,
    tokens: TokenIndex,
    /// Public key to the key decoded once at load, so a login pays only
    /// for the signature check.
    nkeys: FxHashMap<Box<str>, NkeyUser>,
    /// User name to identity for users who log in by TLS certificate.
    certificates: FxHashMap<Box<str>, usize>,
    no_auth_user: Option<usize>,
}

#[derive(Debug)]
struct PasswordUser {
    secret: Box<str>,
    identity: usize,
}

#[derive(Debug)]
struct NkeyUser {
    key: Box<KeyPair>,
    identity: usize,
}

impl UserDirectory {
    /// Indexes the users of `tenants`. `no_auth_user` names the password or
    /// token user that connections without credentials log in as.
    ///
    /// User names, plain tokens and nkeys must be unique across all tenants
    /// because a CONNECT does not say which tenant it is for. Every problem
    /// found is reported, not just the first.
    pub fn new(
        tenants: &[TenantFile],
        no_auth_user: Option<&str>,
    ) -> Result<UserDirectory, AuthConfigError> {
        build::build(tenants, no_auth_user, false)
    }

    /// Like [`UserDirectory::new`], for a server with TLS `verify_and_map`:
    /// an entry with only a user name is a user who logs in by client
    /// certificate.
    pub fn with_certificate_users(
        tenants: &[TenantFile],
        no_auth_user: Option<&str>,
    ) -> Result<UserDirectory, AuthConfigError> {
        build::build(tenants, no_auth_user, true)
    }

    /// Logs a connection in by its verified client certificate: the first
    /// name it carries (see [`TlsPeer::map_names`]) that is a certificate
    /// user.
    pub fn authenticate_certificate(&self, peer: Option<&TlsPeer>) -> Result<Identity, AuthError> {
        let Some(peer) = peer else {
            return Err(AuthError::NoCertificate);
        };
        peer.map_names()
            .find_map(|name| self.certificates.get(name))
            .map(|&identity| self.identities[identity].clone())
            .ok_or_else(|| AuthError::CertificateNotMapped {
                subject: peer.subject.clone(),
            })
    }

    /// Logs a connection in, checking credentials in nats-server's order:
    /// nkey, then user and password, then token, then `no_auth_user` for a
    /// connection that sent no credentials at all.
    ///
    /// `nonce` is the one sent in this connection's INFO; nkey users need it.
    /// As in nats-server, a kind of credential is only considered when some
    /// user of that kind exists, and empty strings count as absent.
    pub fn authenticate(
        &self,
        opts: &ConnectOptions,
        nonce: Option<&str>,
    ) -> Result<Identity, AuthError> {
        self.login(opts, nonce, None)
    }

    /// As [`UserDirectory::authenticate`], for a connection that is logged
    /// in as `previous` (after a reload): a password already checked
    /// against the same stored secret is not checked again.
    pub fn reauthenticate(
        &self,
        opts: &ConnectOptions,
        nonce: Option<&str>,
        previous: &Identity,
    ) -> Result<Identity, AuthError> {
        self.login(opts, nonce, previous.checked_secret.as_ref())
    }

    fn login(
        &self,
        opts: &ConnectOptions,
        nonce: Option<&str>,
        checked: Option<&CheckedSecret>,
    ) -> Result<Identity, AuthError> {
        let nkey = present(&opts.nkey);
        let user = present(&opts.user);
        let pass = present(&opts.pass);
        let token = present(&opts.auth_token);

        if let Some(nkey) = nkey.filter(|_| !self.nkeys.is_empty()) {
            return self.by_nkey(nkey, present(&opts.sig), nonce);
        }
        if let Some(user) = user.filter(|_| !self.passwords.is_empty()) {
            return self.by_password(user, pass, checked);
        }
        if let Some(token) = token.filter(|_| !self.tokens.is_empty()) {
            return self.by_token(token);
        }
        // Credentials of a kind no user has.
        if let Some(nkey) = nkey {
            return Err(AuthError::UnknownNkey { nkey: nkey.into() });
        }
        if let Some(user) = user {
            return Err(AuthError::UnknownUser { user: user.into() });
        }
        if token.is_some() {
            return Err(AuthError::UnknownToken);
        }
        match self.no_auth_user {
            Some(identity) if pass.is_none() => Ok(self.identities[identity].clone()),
            _ => Err(AuthError::MissingCredentials),
        }
    }

    /// Whether INFO must carry a nonce: some user logs in with an nkey.
    pub fn nonce_required(&self) -> bool {
        !self.nkeys.is_empty()
    }

    /// Whether no user is configured (the server then needs no auth).
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    fn by_nkey(
        &self,
        nkey: &str,
        sig: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<Identity, AuthError> {
        let Some(entry) = self.nkeys.get(nkey) else {
            return Err(AuthError::UnknownNkey { nkey: nkey.into() });
        };
        let Some(nonce) = nonce else {
            return Err(AuthError::NonceNotIssued { nkey: nkey.into() });
        };
        let Some(sig) = sig else {
            return Err(AuthError::SignatureMissing { nkey: nkey.into() });
        };
        if !verify_with_key(&entry.key, nonce, sig) {
            return Err(AuthError::BadSignature { nkey: nkey.into() });
        }
        Ok(self.identities[entry.identity].clone())
    }

    fn by_password(
        &self,
        user: &str,
        pass: Option<&str>,
        checked: Option<&CheckedSecret>,
    ) -> Result<Identity, AuthError> {
        let Some(entry) = self.passwords.get(user) else {
            return Err(AuthError::UnknownUser { user: user.into() });
        };
        let unchanged = checked.is_some_and(|c| *c.0 == *entry.secret);
        if !unchanged && !pass.is_some_and(|pass| verify_secret(pass, &entry.secret)) {
            return Err(AuthError::BadPassword { user: user.into() });
        }
        Ok(self.identities[entry.identity].clone())
    }

    fn by_token(&self, token: &str) -> Result<Identity, AuthError> {
        match self.tokens.find(token) {
            Some(identity) => Ok(self.identities[identity].clone()),
            None => Err(AuthError::UnknownToken),
        }
    }
}

/// A CONNECT field that was sent and is not empty (nats-server compares
/// with the empty string, so `""` means "not given").
fn present(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|s| !s.is_empty())
}
