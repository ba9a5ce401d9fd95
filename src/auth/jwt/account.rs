//! Account JWTs: a tenant as an operator vouches for it, with its limits,
//! exports, imports, signing keys and revocations.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

use super::claims::{Claims, ClaimsData, GenericFields};
use super::exports::{Export, Import};
use super::fields::{is_false, is_zero, nullable};
use super::permissions::{Permissions, UserPermissionLimits};

/// Revocation key that applies to every user of the account.
pub const REVOKE_ALL: &str = "*";

/// The `nats` object of an account JWT, in nats-io/jwt's field order.
/// JetStream limits, tracing and cluster-traffic settings are not modelled
/// and are ignored when read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub imports: Vec<Import>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub exports: Vec<Export>,
    #[serde(default, deserialize_with = "nullable")]
    pub limits: AccountLimits,
    #[serde(
        default,
        deserialize_with = "signing_keys",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub signing_keys: Vec<SigningKey>,
    /// User key (or [`REVOKE_ALL`]) -> unix seconds: JWTs issued at or
    /// before that moment are revoked.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub revocations: BTreeMap<String, i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub default_permissions: Permissions,
    /// Subject -> weighted destinations. A `BTreeMap` because Go writes map
    /// keys sorted.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub mappings: BTreeMap<String, Vec<WeightedMapping>>,
    #[serde(default, deserialize_with = "nullable")]
    pub authorization: ExternalAuthorization,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub info_url: String,
    #[serde(flatten)]
    pub generic: GenericFields,
}

/// Limits the operator sets on an account; -1 = unlimited, and any other
/// value literally (0, also what an absent field decodes to, allows none),
/// as nats-server reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLimits {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub subs: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub data: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub payload: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub imports: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub exports: i64,
    /// Exports may use wildcards.
    #[serde(rename = "wildcards", default, skip_serializing_if = "is_false")]
    pub wildcard_exports: bool,
    /// User JWTs of this account may not be bearer tokens.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disallow_bearer: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub conn: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub leaf: i64,
}

impl AccountLimits {
    /// Everything unlimited, wildcard exports allowed: what nats-io/jwt's
    /// `NewAccountClaims` starts from.
    pub fn unlimited() -> Self {
        AccountLimits {
            subs: -1,
            data: -1,
            payload: -1,
            imports: -1,
            exports: -1,
            wildcard_exports: true,
            disallow_bearer: false,
            conn: -1,
            leaf: -1,
        }
    }
}

/// An account signing key: a bare public key, or a scoped key whose users
/// get the scope's template instead of the permissions in their JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningKey {
    Key(String),
    Scoped(Box<UserScope>),
}

impl SigningKey {
    pub fn key(&self) -> &str {
        match self {
            SigningKey::Key(k) => k,
            SigningKey::Scoped(s) => &s.key,
        }
    }
}

/// The only scope kind nats-io/jwt defines.
pub const USER_SCOPE: &str = "user_scope";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserScope {
    /// Always [`USER_SCOPE`].
    pub kind: String,
    pub key: String,
    #[serde(default)]
    pub role: String,
    #[serde(default, deserialize_with = "nullable")]
    pub template: UserPermissionLimits,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl UserScope {
    pub fn new(key: impl Into<String>, role: impl Into<String>) -> Self {
        UserScope {
            kind: USER_SCOPE.to_string(),
            key: key.into(),
            role: role.into(),
            template: UserPermissionLimits::unlimited(),
            description: String::new(),
        }
    }
}

impl Serialize for SigningKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SigningKey::Key(k) => s.serialize_str(k),
            SigningKey::Scoped(scope) => scope.serialize(s),
        }
    }
}

/// `signing_keys` is an array of key strings and scope objects; a scope of
/// an unknown kind is an error, as in nats-io/jwt.
fn signing_keys<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SigningKey>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Key(String),
        Scope(serde_json::Map<String, serde_json::Value>),
    }
    let raw: Vec<Raw> = nullable(d)?;
    raw.into_iter()
        .map(|entry| match entry {
            Raw::Key(k) => Ok(SigningKey::Key(k)),
            Raw::Scope(map) => {
                let kind = map.get("kind").and_then(|k| k.as_str()).unwrap_or("");
                if kind != USER_SCOPE {
                    return Err(D::Error::custom(format!(
                        "unknown signing key scope kind `{kind}`"
                    )));
                }
                serde_json::from_value(serde_json::Value::Object(map))
                    .map(|scope| SigningKey::Scoped(Box::new(scope)))
                    .map_err(D::Error::custom)
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightedMapping {
    pub subject: String,
    /// Percent; 0 (absent) means 100.
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    pub weight: u8,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster: String,
}

fn is_zero_u8(n: &u8) -> bool {
    *n == 0
}

/// Auth callout: which users bypass it, and which accounts its responses
/// may place users in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalAuthorization {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub auth_users: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_accounts: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub xkey: String,
}

impl Claims<Account> {
    /// Claims for the account `subject` (an `A...` key), unlimited like
    /// nats-io/jwt's `NewAccountClaims`.
    pub fn new(subject: impl Into<String>) -> Self {
        Claims {
            data: ClaimsData {
                sub: subject.into(),
                ..Default::default()
            },
            nats: Account {
                limits: AccountLimits::unlimited(),
                ..Default::default()
            },
        }
    }

    /// The signing key entry for `key`, if the account lists it.
    pub fn signing_key(&self, key: &str) -> Option<&SigningKey> {
        self.nats.signing_keys.iter().find(|k| k.key() == key)
    }

    /// Whether `key` may issue user and activation JWTs for this account:
    /// its identity key or one of its signing keys.
    pub fn is_signer(&self, key: &str) -> bool {
        key == self.data.sub || self.signing_key(key).is_some()
    }

    /// Whether a user JWT for `subject` issued at `issued_at` is revoked
    /// (see [`is_revoked`]).
    pub fn is_revoked(&self, subject: &str, issued_at: i64) -> bool {
        is_revoked(&self.nats.revocations, subject, issued_at)
    }
}

/// Whether a JWT for `subject` issued at `issued_at` is revoked in
/// `revocations` (an account's users, or an export's activations), by its
/// own entry or by [`REVOKE_ALL`]. Revoked when the revocation time is at or
/// after the issue time: nats-io/jwt v2's `RevocationList.IsRevoked` and
/// nats-server's `isRevoked` both compare with `>=`, so a JWT issued in the
/// same second as the revocation is revoked, and one issued a second later
/// is not.
pub fn is_revoked(revocations: &BTreeMap<String, i64>, subject: &str, issued_at: i64) -> bool {
    [subject, REVOKE_ALL]
        .iter()
        .any(|k| revocations.get(*k).is_some_and(|&t| t >= issued_at))
}

impl Account {
    /// What nats-io/jwt's `Account.Validate` reports about the operator's
    /// limits, in its words: more imports or exports than `limits.imports`
    /// / `limits.exports` allow (-1 = unlimited; 0 allows none), and
    /// wildcard export subjects when `limits.wildcards` is false (checked,
    /// as there, only when exports are limited). nats-server refuses an
    /// account JWT with any of these.
    pub fn limit_violations(&self) -> Vec<&'static str> {
        let mut issues = Vec::new();
        let limits = &self.limits;
        if limits.imports != -1 && self.imports.len() as i64 > limits.imports {
            issues.push("the account contains more imports than allowed by the operator");
        }
        if limits.exports != -1 {
            if self.exports.len() as i64 > limits.exports {
                issues.push("the account contains more exports than allowed by the operator");
            }
            if !limits.wildcard_exports
                && self
                    .exports
                    .iter()
                    .any(|e| e.subject.split('.').any(|t| t == "*" || t == ">"))
            {
                issues.push(
                    "the account contains wildcard exports that are not allowed by the operator",
                );
            }
        }
        issues
    }

    /// nats-io/jwt sorts exports and imports by subject before signing.
    pub(super) fn sort_for_signing(&mut self) {
        self.exports.sort_by(|a, b| a.subject.cmp(&b.subject));
        self.imports.sort_by(|a, b| a.subject.cmp(&b.subject));
    }
}
