//! `switchyard plugin check --message` / `--token`: one message (or one
//! login) through a component, loaded and called as the broker would, and
//! what became of it. For trying a plugin without a broker or clients.
//!
//! Only the plugins' public calls are used (`TransformPlugin::run`,
//! `RoutingPlugin::run`, `AuthPlugin::authenticate`), each from one
//! small function, so a change to how the broker calls a world changes one
//! function here.

use super::auth::{AuthRefusal, AuthRequest};
use super::engine::PluginRuntime;
use super::error::{CallError, LoadError};
use super::load::{load_auth, load_routing, load_transform};
use super::routing::{PublisherInfo, Route, RouteBatch, RoutingPlugin};
use super::transform::{OutMessage, Outcome, TransformBatch, TransformPlugin, outcome};
use super::validate::{OutputError, validate_headers};
use crate::config::tenant::{PluginEntry, PluginKind};
use std::fmt;

/// What to run the plugin on.
pub enum TrialInput {
    /// A published message (transform and routing worlds); `headers` is
    /// a NATS header block (`header_block`).
    Message {
        subject: String,
        headers: Option<Vec<u8>>,
        payload: Vec<u8>,
    },
    /// A CONNECT with this token (auth world).
    Login { token: String },
}

/// What the plugin made of the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The plugin did not register the message's subject: the broker
    /// would deliver it without calling the plugin.
    NotRegistered,
    /// The input does not fit the plugin's world.
    WrongWorld(&'static str),
    Pass,
    Drop,
    Reject(String),
    /// Delivered as these (subject, payload) messages instead.
    Replaced(Vec<(String, Vec<u8>)>),
    Route(Route),
    Accept {
        tenant: String,
    },
    Deny(String),
    /// The call failed: the plugin's failure policy would apply.
    Failed(CallError),
}

impl Verdict {
    /// Whether the call itself worked (whatever it decided).
    pub fn ran(&self) -> bool {
        !matches!(self, Verdict::Failed(_) | Verdict::WrongWorld(_))
    }
}

/// Loads the component of `entry` for its world and runs it on `input`.
/// `max_payload` bounds what a transform may produce, as in the broker.
pub fn trial(
    runtime: &PluginRuntime,
    entry: &PluginEntry,
    input: &TrialInput,
    max_payload: usize,
) -> Result<Verdict, LoadError> {
    Ok(match (entry.kind, input) {
        (
            PluginKind::Transform,
            TrialInput::Message {
                subject,
                headers,
                payload,
            },
        ) => {
            let plugin = load_transform(runtime, "check", entry)?;
            transform_one(&plugin, subject, headers.as_deref(), payload, max_payload)
        }
        (
            PluginKind::Routing,
            TrialInput::Message {
                subject,
                headers,
                payload,
            },
        ) => {
            let plugin = load_routing(runtime, "check", entry)?;
            if plugin.registered.matches(subject.as_bytes()) {
                match route_one(&plugin, subject, headers.as_deref(), payload) {
                    Ok(route) => Verdict::Route(route),
                    Err(e) => Verdict::Failed(e),
                }
            } else {
                Verdict::NotRegistered
            }
        }
        (PluginKind::Auth, TrialInput::Login { token }) => {
            let plugin = load_auth(runtime, entry)?;
            let request = AuthRequest {
                user: None,
                password: None,
                token: Some(token),
                jwt: None,
                nkey: None,
                nkey_verified: false,
                client_name: Some("switchyard plugin check"),
                client_lang: None,
                client_version: None,
                remote_addr: "127.0.0.1:0",
                tls_peer: None,
            };
            match plugin.authenticate(&request) {
                Ok(grant) => Verdict::Accept {
                    tenant: grant.tenant,
                },
                // `check` lists no tenants: any tenant the plugin names is
                // an acceptance here.
                Err(AuthRefusal::TenantNotAllowed(tenant)) => Verdict::Accept { tenant },
                Err(AuthRefusal::Denied(reason)) => Verdict::Deny(reason),
                Err(AuthRefusal::Failed(e)) => Verdict::Failed(e),
            }
        }
        (PluginKind::Auth, TrialInput::Message { .. }) => {
            Verdict::WrongWorld("an auth plugin takes --token, not --message")
        }
        (_, TrialInput::Login { .. }) => {
            Verdict::WrongWorld("a transform or routing plugin takes --message, not --token")
        }
    })
}

/// One message as a batch of one.
fn transform_one(
    plugin: &TransformPlugin,
    subject: &str,
    headers: Option<&[u8]>,
    payload: &[u8],
    max_payload: usize,
) -> Verdict {
    if !plugin.registered.matches(subject.as_bytes()) {
        return Verdict::NotRegistered;
    }
    let mut batch = TransformBatch::default();
    batch.push(
        &plugin.registered,
        subject.as_bytes(),
        None,
        headers,
        payload,
    );
    let action = match plugin.run(&batch, max_payload) {
        Ok(mut actions) => actions.pop().map(|(_, action)| action),
        Err(e) => return Verdict::Failed(e),
    };
    match outcome(&batch, 0, action) {
        Outcome::Deliver(_) => Verdict::Pass,
        Outcome::Drop => Verdict::Drop,
        Outcome::Reject(reason) => Verdict::Reject(reason),
        Outcome::Replace(produced) => Verdict::Replaced(
            produced
                .into_iter()
                .map(|m| (String::from_utf8_lossy(&m.subject).into_owned(), m.payload))
                .collect(),
        ),
    }
}

/// The routing call for one message (a batch of one), from a publisher
/// named `check`.
fn route_one(
    plugin: &RoutingPlugin,
    subject: &str,
    headers: Option<&[u8]>,
    payload: &[u8],
) -> Result<Route, CallError> {
    let publisher = PublisherInfo {
        user: "check",
        client_id: 0,
        client_name: Some("switchyard plugin check"),
    };
    let mut batch = RouteBatch::default();
    batch.push(
        &plugin.registered,
        OutMessage {
            subject: subject.as_bytes(),
            reply: None,
            headers,
            payload,
        },
    );
    let verdicts = plugin.run(&mut batch, &publisher)?;
    Ok(verdicts
        .into_iter()
        .next()
        .map_or(Route::Allow, |(_, route)| route))
}

/// A NATS header block (`NATS/1.0`, one `Name: value` line each) from
/// name/value pairs, refused when a name or value could break the framing
/// (the same check as a plugin's output); `None` for no headers.
pub fn header_block(headers: &[(String, String)]) -> Result<Option<Vec<u8>>, OutputError> {
    if headers.is_empty() {
        return Ok(None);
    }
    validate_headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))?;
    let mut block = b"NATS/1.0\r\n".to_vec();
    for (name, value) in headers {
        block.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    block.extend_from_slice(b"\r\n");
    Ok(Some(block))
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::NotRegistered => {
                write!(f, "not registered (delivered without calling the plugin)")
            }
            Verdict::WrongWorld(why) => write!(f, "not run: {why}"),
            Verdict::Pass => write!(f, "pass"),
            Verdict::Drop => write!(f, "drop"),
            Verdict::Reject(reason) => write!(f, "reject: {reason}"),
            Verdict::Replaced(messages) => {
                write!(f, "modify: {} message(s)", messages.len())?;
                for (subject, payload) in messages {
                    write!(f, "\n  {subject}: {}", String::from_utf8_lossy(payload))?;
                }
                Ok(())
            }
            Verdict::Route(Route::Allow) => write!(f, "allow"),
            Verdict::Route(Route::Deny(reason)) => write!(f, "deny: {reason}"),
            Verdict::Route(Route::Reroute(to)) => write!(f, "reroute to {to}"),
            Verdict::Route(Route::FanOut(extra)) => {
                write!(f, "fan out to its own subject and {}", extra.join(", "))
            }
            Verdict::Accept { tenant } => write!(f, "accept into tenant {tenant}"),
            Verdict::Deny(reason) => write!(f, "deny: {reason}"),
            Verdict::Failed(e) => write!(f, "failed: {e} (the failure policy applies)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_blocks_are_framed_and_checked() {
        let pairs = vec![("Priority".to_string(), "high".to_string())];
        assert_eq!(
            header_block(&pairs).expect("valid"),
            Some(b"NATS/1.0\r\nPriority: high\r\n\r\n".to_vec())
        );
        assert_eq!(header_block(&[]).expect("valid"), None);
        let broken = vec![("X".to_string(), "a\r\nInjected: 1".to_string())];
        assert!(header_block(&broken).is_err());
    }
}
