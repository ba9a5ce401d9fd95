//! Auth plugins: asked, once per CONNECT, about clients the broker's own
//! users do not recognise. The grant becomes an ordinary `Identity`, so
//! permissions and expiry are enforced natively from then on.

use super::bindings::auth::Auth;
use super::bindings::auth::exports::switchyard::plugin::authenticator::{
    ConnectRequest, Grant, Permissions as GrantPermissions, TlsPeer as WitTlsPeer,
};
use super::error::CallError;
use super::pool::PluginPool;
use super::validate::{Output, OutputError, validate_output};
use crate::config::tenant::{FailurePolicy, Permissions, PluginEntry, SubjectRules};

pub struct AuthPlugin {
    pub name: String,
    /// The tenants this plugin may bind users to.
    pub tenants: Vec<String>,
    pub policy: FailurePolicy,
    pub pool: PluginPool<Auth>,
    pub source: AuthSource,
}

/// Everything an auth plugin's answers depend on besides the request: its
/// code and its configuration. A reload that leaves both unchanged need
/// not ask the plugin again about the clients it let in.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSource {
    /// SHA-256 of the component file.
    pub digest: [u8; 32],
    pub entry: PluginEntry,
}

/// A verified client certificate's identity (subject DN and SANs).
pub use crate::auth::TlsPeer as PeerIdentity;

/// What the broker knows of a connecting client.
pub struct AuthRequest<'a> {
    pub user: Option<&'a str>,
    pub password: Option<&'a str>,
    pub token: Option<&'a str>,
    pub jwt: Option<&'a str>,
    pub nkey: Option<&'a str>,
    pub nkey_verified: bool,
    pub client_name: Option<&'a str>,
    pub client_lang: Option<&'a str>,
    pub client_version: Option<&'a str>,
    pub remote_addr: &'a str,
    pub tls_peer: Option<&'a PeerIdentity>,
}

/// An accepted login.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthGrant {
    pub tenant: String,
    pub user: String,
    pub permissions: Permissions,
    /// Unix seconds.
    pub expires: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRefusal {
    Denied(String),
    TenantNotAllowed(String),
    Failed(CallError),
}

impl AuthPlugin {
    pub fn authenticate(&self, request: &AuthRequest<'_>) -> Result<AuthGrant, AuthRefusal> {
        let sans: Vec<&str> = request
            .tls_peer
            .map(|p| p.sans.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let wit_request = ConnectRequest {
            user: request.user,
            password: request.password,
            token: request.token,
            jwt: request.jwt,
            nkey: request.nkey,
            nkey_verified: request.nkey_verified,
            client_name: request.client_name,
            client_lang: request.client_lang,
            client_version: request.client_version,
            remote_addr: request.remote_addr,
            tls_peer: request.tls_peer.map(|p| WitTlsPeer {
                subject: &p.subject,
                sans: &sans,
            }),
        };
        let answer = self
            .pool
            .call(1, |bindings, store| {
                bindings
                    .switchyard_plugin_authenticator()
                    .call_authenticate(store, wit_request)
            })
            .map_err(AuthRefusal::Failed)?;
        let grant = answer.map_err(AuthRefusal::Denied)?;
        if let Err(why) = check_grant(&grant) {
            return Err(AuthRefusal::Failed(
                self.pool.bad_output(&format!("grant: {why}")),
            ));
        }
        if !self.tenants.contains(&grant.tenant) {
            return Err(AuthRefusal::TenantNotAllowed(grant.tenant));
        }
        Ok(to_grant(grant))
    }
}

/// A grant becomes a session's identity and permissions, shown in logs,
/// events and monitoring: its names and subjects are checked like any
/// other plugin output (`validate`) before the broker uses them.
fn check_grant(grant: &Grant) -> Result<(), OutputError> {
    validate_output(Output::Name(grant.tenant.as_bytes()))?;
    validate_output(Output::Name(grant.user.as_bytes()))?;
    for rules in [&grant.publish, &grant.subscribe] {
        for filter in rules.allow.iter().chain(&rules.deny) {
            validate_output(Output::Filter(filter.as_bytes()))?;
        }
    }
    Ok(())
}

fn to_grant(grant: Grant) -> AuthGrant {
    let rules = |p: GrantPermissions| {
        (!p.allow.is_empty() || !p.deny.is_empty()).then_some(SubjectRules {
            allow: p.allow,
            deny: p.deny,
        })
    };
    AuthGrant {
        tenant: grant.tenant,
        user: grant.user,
        permissions: Permissions {
            publish: rules(grant.publish),
            subscribe: rules(grant.subscribe),
            allow_responses: None,
        },
        expires: grant.expires_at_ms.map(|ms| (ms / 1000) as i64),
    }
}
