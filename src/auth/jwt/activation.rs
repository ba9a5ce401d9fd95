//! Activation JWTs: an exporting account's permission for one importing
//! account (`sub`) to import a subject that needs a token.

use serde::{Deserialize, Serialize};

use super::claims::{Claims, ClaimsData, GenericFields};
use super::exports::ExportType;

/// The `nats` object of an activation JWT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    /// The exported subject being granted.
    #[serde(rename = "subject", default, skip_serializing_if = "String::is_empty")]
    pub import_subject: String,
    #[serde(rename = "kind", default, skip_serializing_if = "Option::is_none")]
    pub import_type: Option<ExportType>,
    /// Set when a signing key of the exporter issued the JWT.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub issuer_account: String,
    #[serde(flatten)]
    pub generic: GenericFields,
}

impl Claims<Activation> {
    /// An activation for the importing account `subject` (an `A...` key).
    pub fn new(subject: impl Into<String>, import_subject: &str, kind: ExportType) -> Self {
        Claims {
            data: ClaimsData {
                sub: subject.into(),
                ..Default::default()
            },
            nats: Activation {
                import_subject: import_subject.to_string(),
                import_type: Some(kind),
                ..Default::default()
            },
        }
    }
}
