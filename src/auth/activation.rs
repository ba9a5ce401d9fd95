//! Activation tokens: an export marked `token_req` admits only the
//! importers that hold an activation JWT from the exporting account.
//!
//! nats-server checks each import when it loads the importing account and
//! skips an import whose token is missing or invalid; the rest of the
//! account loads. This module makes that decision for one import; the
//! caller (`operator`) decides what to do with the answer.

use super::jwt::{self, AccountClaims, ActivationClaims, Export, ExportType, Import, is_revoked};
use crate::subject::is_subset_match;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ActivationError {
    #[error("the export requires an activation token and the import has none")]
    Missing,
    #[error("activation token URLs are not supported; embed the token")]
    Url,
    #[error("activation token: {0}")]
    Jwt(String),
    #[error("activation token is for account `{found}`, not the importer")]
    WrongAccount { found: String },
    #[error(
        "activation token is signed by `{issuer}`, not by the exporting account or one of its signing keys"
    )]
    WrongIssuer { issuer: String },
    #[error("activation token is for a {found}, the import is a {expected}")]
    WrongKind {
        found: &'static str,
        expected: &'static str,
    },
    #[error("activation token grants `{granted}`, which does not cover `{subject}`")]
    WrongSubject { granted: String, subject: String },
    #[error("activation token expired at {exp}")]
    Expired { exp: i64 },
    #[error("activation token is not valid before {nbf}")]
    NotYetValid { nbf: i64 },
    #[error("activation token is revoked by the export")]
    Revoked,
}

/// The export of `exporter` that `import` refers to: the one on exactly its
/// subject, else the first whose subject covers it (nats-server's lookup).
pub fn export_for<'a>(exporter: &'a AccountClaims, import: &Import) -> Option<&'a Export> {
    let kind = import.kind.unwrap_or(ExportType::Stream);
    let same_kind = || {
        exporter
            .nats
            .exports
            .iter()
            .filter(move |e| e.kind.unwrap_or(ExportType::Stream) == kind)
    };
    same_kind()
        .find(|e| e.subject == import.subject)
        .or_else(|| {
            same_kind().find(|e| is_subset_match(import.subject.as_bytes(), e.subject.as_bytes()))
        })
}

/// Checks the activation token `import` carries for `export` of `exporter`,
/// as the import of account `importer`, at unix time `now`. Returns the
/// token's expiry (0 = never), after which the import must be dropped.
pub fn check(
    import: &Import,
    importer: &str,
    exporter: &AccountClaims,
    export: &Export,
    now: i64,
) -> Result<i64, ActivationError> {
    let token = import.token.trim();
    if token.is_empty() {
        return Err(ActivationError::Missing);
    }
    if token.contains("://") {
        return Err(ActivationError::Url);
    }
    let act: ActivationClaims = jwt::decode_verified(token)
        .and_then(|d| d.into_claims())
        .map_err(|e| ActivationError::Jwt(e.to_string()))?;
    if act.data.sub != importer {
        return Err(ActivationError::WrongAccount {
            found: act.data.sub,
        });
    }
    let issuer = &act.data.iss;
    let by_exporter = *issuer == exporter.data.sub
        || ((act.nats.issuer_account.is_empty() || act.nats.issuer_account == exporter.data.sub)
            && exporter.signing_key(issuer).is_some());
    if !by_exporter {
        return Err(ActivationError::WrongIssuer {
            issuer: issuer.clone(),
        });
    }
    let expected = import.kind.unwrap_or(ExportType::Stream);
    let found = act.nats.import_type.unwrap_or(ExportType::Stream);
    if found != expected {
        return Err(ActivationError::WrongKind {
            found: kind_name(found),
            expected: kind_name(expected),
        });
    }
    if !is_subset_match(
        import.subject.as_bytes(),
        act.nats.import_subject.as_bytes(),
    ) {
        return Err(ActivationError::WrongSubject {
            granted: act.nats.import_subject,
            subject: import.subject.clone(),
        });
    }
    // nats-server drops an activation at its expiry second, not after it.
    if act.data.exp != 0 && act.data.exp <= now {
        return Err(ActivationError::Expired { exp: act.data.exp });
    }
    if act.data.nbf != 0 && act.data.nbf > now {
        return Err(ActivationError::NotYetValid { nbf: act.data.nbf });
    }
    if is_revoked(&export.revocations, &act.data.sub, act.data.iat) {
        return Err(ActivationError::Revoked);
    }
    Ok(act.data.exp)
}

fn kind_name(kind: ExportType) -> &'static str {
    match kind {
        ExportType::Stream => "stream",
        ExportType::Service => "service",
    }
}

#[cfg(test)]
mod tests;
