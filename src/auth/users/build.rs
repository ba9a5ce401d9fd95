//! Building a [`UserDirectory`] from tenant files, with every problem in
//! them collected rather than the first returned.

use super::{CheckedSecret, Identity, NkeyUser, PasswordUser, TokenIndex, UserDirectory};
use crate::auth::error::{AuthConfigError, AuthConfigIssue};
use crate::auth::password::{is_bcrypt, is_valid_bcrypt};
use crate::config::tenant::{TenantFile, UserEntry};
use nkeys::{KeyPair, KeyPairType};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// How a user logs in, once its entry is known to be well formed.
enum Credential<'a> {
    Password {
        user: &'a str,
        secret: &'a str,
    },
    Token(&'a str),
    // Boxed: a decoded key pair is ~480 bytes.
    Nkey {
        public: &'a str,
        key: Box<KeyPair>,
    },
    /// A user name alone: logs in by TLS client certificate
    /// (`verify_and_map`).
    Certificate(&'a str),
}

pub(super) fn build(
    tenants: &[TenantFile],
    no_auth_user: Option<&str>,
    certificate_users: bool,
) -> Result<UserDirectory, AuthConfigError> {
    let mut builder = Builder {
        certificate_users,
        ..Builder::default()
    };
    for tenant in tenants {
        let name: Arc<str> = tenant.name.as_str().into();
        for (position, entry) in tenant.users.iter().enumerate() {
            builder.add(tenant, &name, position, entry);
        }
    }
    builder.finish(no_auth_user)
}

struct Builder<'a> {
    dir: UserDirectory,
    issues: Vec<AuthConfigIssue>,
    /// User name to (tenant, identity index if it may be the no_auth_user).
    names: FxHashMap<&'a str, (&'a str, Option<usize>)>,
    /// Plain token to (tenant, user label), to report duplicates.
    tokens: FxHashMap<&'a str, (&'a str, String)>,
    /// Public key to tenant, to report duplicates.
    nkeys: FxHashMap<&'a str, &'a str>,
    /// The (tenant, user label) of the one bcrypt-hashed token allowed.
    bcrypt_token: Option<(&'a str, String)>,
    /// Whether a user name alone is a valid entry (certificate login).
    certificate_users: bool,
}

impl Default for Builder<'_> {
    fn default() -> Self {
        Builder {
            dir: UserDirectory {
                identities: Vec::new(),
                passwords: FxHashMap::default(),
                tokens: TokenIndex::new(),
                nkeys: FxHashMap::default(),
                certificates: FxHashMap::default(),
                no_auth_user: None,
            },
            issues: Vec::new(),
            names: FxHashMap::default(),
            tokens: FxHashMap::default(),
            nkeys: FxHashMap::default(),
            bcrypt_token: None,
            certificate_users: false,
        }
    }
}

impl<'a> Builder<'a> {
    fn add(
        &mut self,
        tenant: &'a TenantFile,
        name: &Arc<str>,
        position: usize,
        entry: &'a UserEntry,
    ) {
        let label = match &entry.user {
            Some(user) => format!("`{user}`"),
            None => format!("#{}", position + 1),
        };
        let Some(credential) = self.credential(&tenant.name, &label, entry) else {
            return;
        };
        let display: Arc<str> = match (&credential, entry.user.as_deref()) {
            (Credential::Nkey { public, .. }, _) => (*public).into(),
            (_, Some(user)) => user.into(),
            (_, None) => "token".into(),
        };
        let identity = self.dir.identities.len();
        self.dir.identities.push(Identity {
            tenant: Arc::clone(name),
            user: display,
            permissions: entry
                .permissions
                .clone()
                .or_else(|| tenant.default_permissions.clone()),
            expires: None,
            max_subscriptions: None,
            max_payload: None,
            checked_secret: match &credential {
                Credential::Password { secret, .. } => Some(CheckedSecret::new(secret)),
                _ => None,
            },
        });

        let mut may_be_no_auth = true;
        match credential {
            Credential::Password { user, secret } => {
                let user_entry = PasswordUser {
                    secret: secret.into(),
                    identity,
                };
                self.dir.passwords.insert(user.into(), user_entry);
            }
            Credential::Token(token) => {
                if is_bcrypt(token) {
                    if let Some((first_tenant, first_user)) = &self.bcrypt_token {
                        self.issues.push(AuthConfigIssue::SecondBcryptToken {
                            tenant: tenant.name.clone(),
                            user: label.clone(),
                            first_tenant: (*first_tenant).into(),
                            first_user: first_user.clone(),
                        });
                    } else {
                        self.bcrypt_token = Some((&tenant.name, label.clone()));
                    }
                } else {
                    if let Some((first_tenant, first_user)) = self.tokens.get(token) {
                        self.issues.push(AuthConfigIssue::DuplicateToken {
                            tenant: tenant.name.clone(),
                            user: label.clone(),
                            first_tenant: (*first_tenant).into(),
                            first_user: first_user.clone(),
                        });
                    } else {
                        self.tokens.insert(token, (&tenant.name, label.clone()));
                    }
                }
                self.dir.tokens.insert(token, identity);
            }
            Credential::Nkey { public, key } => {
                may_be_no_auth = false;
                if let Some(first_tenant) = self.nkeys.get(public) {
                    self.issues.push(AuthConfigIssue::DuplicateNkey {
                        tenant: tenant.name.clone(),
                        nkey: public.into(),
                        first_tenant: (*first_tenant).into(),
                    });
                } else {
                    self.nkeys.insert(public, &tenant.name);
                }
                self.dir
                    .nkeys
                    .insert(public.into(), NkeyUser { key, identity });
            }
            Credential::Certificate(user) => {
                may_be_no_auth = false;
                self.dir.certificates.insert(user.into(), identity);
            }
        }

        if let Some(user) = entry.user.as_deref().filter(|u| !u.is_empty()) {
            let no_auth = may_be_no_auth.then_some(identity);
            if let Some((first_tenant, _)) = self.names.get(user) {
                self.issues.push(AuthConfigIssue::DuplicateUser {
                    tenant: tenant.name.clone(),
                    name: user.into(),
                    first_tenant: (*first_tenant).into(),
                });
            } else {
                self.names.insert(user, (&tenant.name, no_auth));
            }
        }
    }

    /// Checks the entry's fields; `None` (with the problems recorded) when
    /// the user cannot be indexed.
    fn credential(
        &mut self,
        tenant: &str,
        label: &str,
        entry: &'a UserEntry,
    ) -> Option<Credential<'a>> {
        let before = self.issues.len();
        let at = || (tenant.to_string(), label.to_string());
        let user = entry.user.as_deref();
        let fields = [
            ("user", user),
            ("password", entry.password.as_deref()),
            ("token", entry.token.as_deref()),
            ("nkey", entry.nkey.as_deref()),
        ];
        for (field, value) in fields {
            let (tenant, user) = at();
            match value {
                Some("") => self.issues.push(AuthConfigIssue::EmptyField {
                    tenant,
                    user,
                    field,
                }),
                Some(secret)
                    if matches!(field, "password" | "token")
                        && is_bcrypt(secret)
                        && !is_valid_bcrypt(secret) =>
                {
                    self.issues.push(AuthConfigIssue::MalformedBcrypt {
                        tenant,
                        user,
                        field,
                    })
                }
                _ => {}
            }
        }

        let (tenant, user_label) = at();
        let credential = match (
            entry.password.as_deref(),
            entry.token.as_deref(),
            entry.nkey.as_deref(),
        ) {
            (Some(secret), None, None) => match user {
                Some(user) => Some(Credential::Password { user, secret }),
                None => {
                    let issue = AuthConfigIssue::PasswordWithoutUser {
                        tenant,
                        user: user_label,
                    };
                    self.issues.push(issue);
                    None
                }
            },
            (None, Some(token), None) => Some(Credential::Token(token)),
            (None, None, Some("")) => None, // reported as empty above
            (None, None, Some(public)) => match user_key(public) {
                Some(key) => Some(Credential::Nkey {
                    public,
                    key: Box::new(key),
                }),
                None => {
                    self.issues.push(AuthConfigIssue::InvalidNkey {
                        tenant,
                        user: user_label,
                        nkey: public.into(),
                    });
                    None
                }
            },
            (None, None, None) if self.certificate_users && user.is_some_and(|u| !u.is_empty()) => {
                user.map(Credential::Certificate)
            }
            (None, None, None) => {
                let issue = AuthConfigIssue::NoCredential {
                    tenant,
                    user: user_label,
                };
                self.issues.push(issue);
                None
            }
            _ => {
                let issue = AuthConfigIssue::SeveralCredentials {
                    tenant,
                    user: user_label,
                };
                self.issues.push(issue);
                None
            }
        };
        credential.filter(|_| self.issues.len() == before)
    }

    fn finish(mut self, no_auth_user: Option<&str>) -> Result<UserDirectory, AuthConfigError> {
        if let Some(name) = no_auth_user {
            match self.names.get(name) {
                Some((_, Some(identity))) => self.dir.no_auth_user = Some(*identity),
                _ => self
                    .issues
                    .push(AuthConfigIssue::UnknownNoAuthUser { name: name.into() }),
            }
        }
        if self.issues.is_empty() {
            Ok(self.dir)
        } else {
            Err(AuthConfigError {
                issues: self.issues,
            })
        }
    }
}

/// The decoded key when `public` is a valid user public key (`U...`), the
/// only kind nats-server accepts for nkey users.
fn user_key(public: &str) -> Option<KeyPair> {
    KeyPair::from_public_key(public)
        .ok()
        .filter(|key| key.key_pair_type() == KeyPairType::User)
}
