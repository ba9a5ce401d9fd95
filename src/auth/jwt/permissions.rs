//! Permissions and per-user limits, shared by user JWTs, an account's
//! `default_permissions` and the template of a scoped signing key.
//!
//! Go serializes a struct field even when it is empty (`omitempty` does not
//! apply to structs), so `pub` and `sub` are always written, as `{}` when
//! empty; slices, numbers and strings are left out when empty or zero.

use serde::{Deserialize, Deserializer, Serialize};

use super::fields::{is_false, is_zero, nullable};

/// Allowed and denied subjects. Subscribe entries may carry a queue group
/// after a space (`"orders.* workers"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allow: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub deny: Vec<String>,
}

/// Lets a user publish to reply subjects of requests it received: at most
/// `max` responses within `ttl`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsePermission {
    #[serde(default)]
    pub max: i64,
    /// Nanoseconds (a Go `time.Duration`).
    #[serde(default)]
    pub ttl: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    #[serde(rename = "pub", default, deserialize_with = "nullable")]
    pub publish: Permission,
    #[serde(rename = "sub", default, deserialize_with = "nullable")]
    pub subscribe: Permission,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp: Option<ResponsePermission>,
}

/// A daily window, `"HH:MM:SS"` strings, in which a user may connect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub start: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub end: String,
}

/// Permissions and limits of one user, in nats-io/jwt's
/// `UserPermissionLimits` order. For `subs`, `data` and `payload`, -1 means
/// unlimited and any other value is taken literally: 0 (also what an
/// absent field decodes to) allows none, as in nats-server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPermissionLimits {
    #[serde(flatten)]
    pub permissions: Permissions,
    /// CIDRs the user may connect from.
    #[serde(
        default,
        deserialize_with = "cidr_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub src: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub times: Vec<TimeRange>,
    /// IANA zone for `times`; the server's local time when empty.
    #[serde(
        rename = "times_location",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub times_location: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub subs: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub data: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub payload: i64,
    /// May connect without signing the nonce (the JWT alone authenticates).
    #[serde(default, skip_serializing_if = "is_false")]
    pub bearer_token: bool,
    /// `STANDARD`, `WEBSOCKET`, `LEAFNODE`, `MQTT`, ...; empty = any.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_connection_types: Vec<String>,
}

impl UserPermissionLimits {
    /// What nats-io/jwt's constructors start from: no permissions, and
    /// unlimited subscriptions, data and payload.
    pub fn unlimited() -> Self {
        UserPermissionLimits {
            subs: -1,
            data: -1,
            payload: -1,
            ..Default::default()
        }
    }
}

/// `src` is a JSON array in current JWTs and a comma-separated string in
/// early v2 ones; nats-io/jwt reads both.
fn cidr_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => Vec::new(),
        Some(Raw::List(list)) => list,
        Some(Raw::Text(text)) => {
            let mut list: Vec<String> = Vec::new();
            for cidr in text.to_lowercase().split(',').map(str::trim) {
                if !cidr.is_empty() && !list.iter().any(|c| c == cidr) {
                    list.push(cidr.to_string());
                }
            }
            list
        }
    })
}
