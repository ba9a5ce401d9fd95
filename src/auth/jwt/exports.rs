//! Exports and imports in account JWTs, the JWT form of the tenant file's
//! `[[exports]]` and `[[imports]]`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::fields::is_zero_u32;
use super::fields::{is_false, nullable};

/// Whether an export or import is a stream (messages flow to the importer)
/// or a service (requests flow to the exporter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportType {
    Stream,
    Service,
}

/// How many responses a service sends per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseType {
    Singleton,
    Stream,
    Chunked,
}

/// Service latency tracking: a percentage, or `"headers"` (trace only the
/// requests that carry tracing headers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LatencySampling {
    Percent(u32),
    Keyword(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLatency {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<LatencySampling>,
    /// Subject the latency reports are published to.
    #[serde(default)]
    pub results: String,
}

/// One export, in nats-io/jwt's field order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ExportType>,
    /// Importers need an activation JWT from the exporter.
    #[serde(default, skip_serializing_if = "is_false")]
    pub token_req: bool,
    /// Revoked activations: importing account key (or `*`) -> unix seconds.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub revocations: BTreeMap<String, i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<ResponseType>,
    /// Nanoseconds (a Go `time.Duration`) a response may take.
    #[serde(default, skip_serializing_if = "super::fields::is_zero")]
    pub response_threshold: i64,
    #[serde(
        rename = "service_latency",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub latency: Option<ServiceLatency>,
    /// 1-based token of `subject` that must equal the importer's account key.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub account_token_position: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub info_url: String,
}

/// One import, in nats-io/jwt's field order. `subject` is seen from the
/// publisher: the exporter's subject for a stream, the importer's for a
/// service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    /// The exporting account's public key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account: String,
    /// Activation JWT (or a URL to fetch one) when the export needs a token.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    /// Deprecated form of `local_subject`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub local_subject: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ExportType>,
    /// Share the requester's connection info with the service.
    #[serde(default, skip_serializing_if = "is_false")]
    pub share: bool,
}
