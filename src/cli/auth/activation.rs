//! `auth add-activation`: an exporting account's permission for one
//! importing account to import an export that requires a token.

use anyhow::{Context, bail};
use nkeys::{KeyPair, KeyPairType};
use std::path::PathBuf;

use super::clock::{human_duration, now_unix};
use super::user::parse_lifetime;
use crate::auth::jwt::{ActivationClaims, ExportType, encode};
use crate::auth::store::{JWT_MODE, OperatorStore, write_atomic};
use crate::subject::{is_subset_match, is_valid_subject};

#[derive(Debug, clap::Args)]
pub struct AddActivationArgs {
    /// Operator directory made by `switchyard auth init`.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// The exporting account, a name in DIR: its key signs the activation.
    #[arg(long, value_name = "EXPORTER")]
    account: String,

    /// The subject to grant: an exported subject, or a narrower subject
    /// inside one.
    #[arg(long, value_name = "SUBJ")]
    subject: String,

    /// The importing account: an account name in DIR, or an account public
    /// key (A...) from another operator directory.
    #[arg(long, value_name = "IMPORTER")]
    target_account: String,

    /// Lifetime of the activation (`30d`, `12h`, `90m`, `45s`)
    /// [default: never expires].
    #[arg(long, value_name = "DUR", value_parser = parse_lifetime)]
    expires: Option<i64>,

    /// Write the activation JWT to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn add_activation(args: AddActivationArgs) -> anyhow::Result<()> {
    let store = OperatorStore::new(&args.dir);
    let importer = account_key(&store, &args.target_account)?;
    let (token, kind) = issue(
        &store,
        &args.account,
        &importer,
        &args.subject,
        args.expires,
    )?;
    match &args.out {
        Some(path) => {
            write_atomic(path, &token, JWT_MODE)?;
            eprintln!("wrote {}", path.display());
        }
        None => println!("{token}"),
    }
    let expiry = args.expires.map_or("never expires".to_string(), |s| {
        format!("expires in {}", human_duration(s))
    });
    eprintln!(
        "activation: `{}` may import {} `{}` from `{}` ({expiry})",
        args.target_account,
        kind_name(kind),
        args.subject,
        args.account
    );
    Ok(())
}

/// Signs, with `exporter`'s seed, an activation for account key `importer`
/// to import `subject`; the kind is that of the export covering `subject`.
pub(super) fn issue(
    store: &OperatorStore,
    exporter: &str,
    importer: &str,
    subject: &str,
    expires: Option<i64>,
) -> anyhow::Result<(String, ExportType)> {
    if !is_valid_subject(subject.as_bytes()) {
        bail!("--subject `{subject}`: not a valid subject");
    }
    let (_, claims) = store.load_account(exporter)?;
    let Some(export) = claims
        .nats
        .exports
        .iter()
        .find(|e| is_subset_match(subject.as_bytes(), e.subject.as_bytes()))
    else {
        bail!("account `{exporter}` has no export covering `{subject}`");
    };
    if !export.token_req {
        eprintln!(
            "warning: account `{exporter}` exports `{}` to every account; the activation is not needed",
            export.subject
        );
    }
    let kind = export.kind.unwrap_or(ExportType::Stream);
    let signer = store.account_key(exporter)?;
    let mut activation = ActivationClaims::new(importer, subject, kind);
    activation.data.name = subject.to_string();
    if let Some(lifetime) = expires {
        activation.data.exp = now_unix()
            .checked_add(lifetime)
            .context("--expires: too far in the future")?;
    }
    Ok((encode(&activation, &signer)?, kind))
}

/// An account public key, given as one or as an account name in `store`.
fn account_key(store: &OperatorStore, account: &str) -> anyhow::Result<String> {
    match KeyPair::from_public_key(account) {
        Ok(key) if key.key_pair_type() == KeyPairType::Account => Ok(account.to_string()),
        _ => {
            let (_, claims) = store
                .load_account(account)
                .with_context(|| format!("--target-account `{account}`"))?;
            Ok(claims.data.sub)
        }
    }
}

fn kind_name(kind: ExportType) -> &'static str {
    match kind {
        ExportType::Stream => "stream",
        ExportType::Service => "service",
    }
}
