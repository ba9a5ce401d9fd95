//! The JSON documents of CONNECT (client to server) and INFO (server to client).

use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// The client's CONNECT options. Omitted `verbose`, `pedantic` and `echo`
/// default to true, as nats-server treats them; unknown fields are ignored
/// because clients send extras.
/// One field per CONNECT key that clients send: the protocol decides them.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ConnectOptions {
    #[serde(default = "yes")]
    pub verbose: bool,
    #[serde(default = "yes")]
    pub pedantic: bool,
    #[serde(default)]
    pub tls_required: bool,
    #[serde(default)]
    pub auth_token: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub pass: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub protocol: i64,
    #[serde(default = "yes")]
    pub echo: bool,
    #[serde(default)]
    pub sig: Option<String>,
    #[serde(default)]
    pub jwt: Option<String>,
    #[serde(default)]
    pub nkey: Option<String>,
    #[serde(default)]
    pub no_responders: bool,
    #[serde(default)]
    pub headers: bool,
}

impl ConnectOptions {
    /// Parses the CONNECT argument; `None` for anything that is not a JSON object
    /// of the expected shape.
    pub fn from_json(raw: &[u8]) -> Option<Self> {
        serde_json::from_slice(raw).ok()
    }
}

/// The nats-server release whose behaviour Switchyard is checked against,
/// reported as INFO `version`: clients compare that field to a NATS
/// release to turn features on, so it must be one (docs/compatibility.md).
pub const NATS_SERVER_VERSION: &str = "2.15.1";

/// The INFO document. Optional fields are omitted when unset, as nats-server does.
/// One field per INFO key: the protocol decides them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServerInfo {
    pub server_id: String,
    pub server_name: String,
    pub version: String,
    pub proto: i32,
    pub go: String,
    pub host: String,
    pub port: u16,
    pub headers: bool,
    pub max_payload: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub client_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub auth_required: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls_required: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls_verify: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub connect_info: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_account: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub acc_is_sys: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub ldm: bool,
    /// Switchyard's own release (`version` is the nats-server release it
    /// matches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switchyard_version: Option<String>,
    /// On the leaf node port only: where leaf nodes may connect. Its
    /// presence tells a soliciting nats-server it reached a leaf port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leafnode_urls: Option<Vec<String>>,
    /// In a cluster: the client URLs (`host:port`) of every server, so
    /// clients can fail over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
}

/// The INFO a leaf node reads from the server it dialled: only what the
/// leaf side uses, each field optional (servers differ in what they send).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct PeerInfo {
    pub server_id: String,
    pub server_name: String,
    pub version: String,
    pub headers: bool,
    pub max_payload: usize,
    pub client_id: u64,
    pub nonce: Option<String>,
    pub tls_required: bool,
    pub leafnode_urls: Option<Vec<String>>,
    pub switchyard_version: Option<String>,
    pub remote_account: Option<String>,
}

/// A leaf node's CONNECT (nats-server's field names). Credentials are
/// the client CONNECT's; there is no `lang` (a CONNECT with one on the
/// leaf port is a client on the wrong port).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct LeafConnect {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nkey: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub is_hub: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub headers: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switchyard_version: Option<String>,
}

impl LeafConnect {
    /// The credentials, as the client login reads them.
    pub fn credentials(&self) -> ConnectOptions {
        ConnectOptions {
            verbose: false,
            pedantic: false,
            echo: false,
            headers: self.headers,
            auth_token: self.auth_token.clone(),
            user: self.user.clone(),
            pass: self.pass.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            sig: self.sig.clone(),
            jwt: self.jwt.clone(),
            nkey: self.nkey.clone(),
            ..ConnectOptions::default()
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_flags_default_to_true() {
        let o = ConnectOptions::from_json(b"{}").unwrap();
        assert!(o.verbose && o.pedantic && o.echo);
        assert!(!o.headers && !o.no_responders);
        let o = ConnectOptions::from_json(br#"{"verbose":false,"echo":false,"extra":1}"#).unwrap();
        assert!(!o.verbose && o.pedantic && !o.echo);
        assert!(ConnectOptions::from_json(b"{bad").is_none());
    }
}
