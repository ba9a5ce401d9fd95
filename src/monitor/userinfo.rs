//! The answer to `$SYS.REQ.USER.INFO` (what `nats account info` sends),
//! for any logged-in user, about that user and its account:
//! `{"server": {...}, "data": {"user", "account", "account_name",
//! "permissions", "expires"}}` as nats-server 2.15 shapes it
//! (`permissions` and `expires` only when there are some).

use super::observer::Observer;
use super::server_ref::ServerRef;
use crate::client::ResponsePermission;
use crate::config::tenant::{Permissions, SubjectRules};
use serde::Serialize;
use std::time::Duration;

/// Who asked: filled in by the connection that received the request.
#[derive(Debug, Clone, Copy)]
pub struct UserInfo<'a> {
    /// The user name, nkey or `token`; empty without a login.
    pub user: &'a str,
    pub account: &'a str,
    /// The user's permissions as configured; `None`: unrestricted.
    pub permissions: Option<&'a Permissions>,
    /// `allow_responses` as it applies.
    pub responses: Option<ResponsePermission>,
    /// Time left until the credentials expire.
    pub expires: Option<Duration>,
}

#[derive(Debug, Serialize)]
struct SubjectList<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    allow: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    deny: &'a [String],
}

#[derive(Debug, Serialize)]
struct Responses {
    max: u32,
    /// Nanoseconds.
    ttl: u128,
}

/// nats-server's `Permissions`: `publish` and `subscribe` are `null` when
/// not restricted.
#[derive(Debug, Serialize)]
struct PermissionsDoc<'a> {
    publish: Option<SubjectList<'a>>,
    subscribe: Option<SubjectList<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    responses: Option<Responses>,
}

#[derive(Debug, Serialize)]
struct Data<'a> {
    user: &'a str,
    account: &'a str,
    account_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<PermissionsDoc<'a>>,
    /// Nanoseconds, as Go marshals a `time.Duration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<u128>,
}

#[derive(Debug, Serialize)]
struct Envelope<'a> {
    server: ServerRef,
    data: Data<'a>,
}

fn list(rules: Option<&SubjectRules>) -> Option<SubjectList<'_>> {
    rules
        .filter(|r| !r.allow.is_empty() || !r.deny.is_empty())
        .map(|r| SubjectList {
            allow: &r.allow,
            deny: &r.deny,
        })
}

/// The JSON answer for `who`.
pub fn answer_user_info(observer: &dyn Observer, who: &UserInfo<'_>) -> Vec<u8> {
    let permissions = who.permissions.map(|p| PermissionsDoc {
        publish: list(p.publish.as_ref()),
        subscribe: list(p.subscribe.as_ref()),
        responses: who.responses.map(|r| Responses {
            max: r.max,
            ttl: r.ttl.as_nanos(),
        }),
    });
    let envelope = Envelope {
        server: ServerRef::of(observer),
        data: Data {
            user: who.user,
            account: who.account,
            account_name: who.account,
            permissions,
            expires: who.expires.map(|d| d.as_nanos()),
        },
    };
    // Compact, as nats-server sends it over NATS.
    serde_json::to_vec(&envelope).unwrap_or_default()
}
