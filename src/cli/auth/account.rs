//! `auth init` and `auth add-account`: the operator and its accounts.

use anyhow::{Context, bail};
use nkeys::{KeyPair, KeyPairType};
use std::path::PathBuf;

use super::activation;
use crate::auth::jwt::{
    AccountClaims, AccountLimits, Export, ExportType, Import, OperatorClaims, encode,
};
use crate::auth::store::{OperatorStore, check_name};
use crate::subject::{is_subset_match, is_valid_subject};

/// Name of the system account `init` creates.
pub const SYSTEM_ACCOUNT: &str = "SYS";

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Operator directory to create (see `switchyard auth --help` for its
    /// layout).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// Operator name, written as the operator JWT's `name`.
    #[arg(long, value_name = "NAME")]
    operator: String,

    /// Replace an existing operator: a new operator key signs a new
    /// operator JWT and every existing account JWT again, so the accounts,
    /// their keys and their users keep working under the new key.
    #[arg(long)]
    force: bool,
}

pub fn init(args: InitArgs) -> anyhow::Result<()> {
    let store = OperatorStore::new(&args.dir);
    if store.has_operator() && !args.force {
        bail!(
            "`{}` already exists (use --force to replace the operator)",
            store.operator_jwt_path().display()
        );
    }
    let operator = KeyPair::new_operator();
    let mut claims = OperatorClaims::new(operator.public_key());
    claims.data.name = args.operator.clone();
    // The operator is written before the accounts it signs, so that an
    // interrupted run never leaves accounts signed by a key that is lost.
    let seed = operator.seed().context("new operator key has no seed")?;
    store.save_operator(&encode(&claims, &operator)?, Some(&seed))?;

    if !store.has_account(SYSTEM_ACCOUNT) {
        let sys = KeyPair::new_account();
        let mut sys_claims = AccountClaims::new(sys.public_key());
        sys_claims.data.name = SYSTEM_ACCOUNT.to_string();
        let seed = sys.seed().context("new account key has no seed")?;
        store.save_account(
            SYSTEM_ACCOUNT,
            &encode(&sys_claims, &operator)?,
            Some(&seed),
        )?;
    }
    // With --force, accounts signed by the replaced operator are signed
    // again; on a fresh directory this is only SYS.
    for (name, _) in store.list_accounts()? {
        let (_, account) = store.load_account(&name)?;
        store.save_account(&name, &encode(&account, &operator)?, None)?;
    }

    let (_, sys) = store.load_account(SYSTEM_ACCOUNT)?;
    claims.nats.system_account = sys.data.sub.clone();
    store.save_operator(&encode(&claims, &operator)?, None)?;

    println!(
        "operator `{}` ({}) in {}",
        args.operator,
        operator.public_key(),
        store.dir.display()
    );
    println!("system account `{SYSTEM_ACCOUNT}` ({})", sys.data.sub);
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct AddAccountArgs {
    /// Operator directory made by `switchyard auth init`.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// Account name: its directory under DIR/accounts and the JWT's `name`
    /// (letters, digits, `_`, `-`, `.`).
    #[arg(value_name = "NAME")]
    name: String,

    /// Maximum concurrent connections of the account's users
    /// [default: unlimited]. Every other limit is unlimited.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(-1..))]
    max_conns: Option<i64>,

    /// Export a stream: other accounts may import messages published on
    /// SUBJ (wildcards allowed). Repeatable.
    #[arg(long, value_name = "SUBJ")]
    export_stream: Vec<String>,

    /// Export a service: other accounts may send requests to SUBJ.
    /// Repeatable.
    #[arg(long, value_name = "SUBJ")]
    export_service: Vec<String>,

    /// Export a stream that only accounts holding an activation token may
    /// import (`token_req`; see `switchyard auth add-activation`).
    /// Repeatable.
    #[arg(long, value_name = "SUBJ")]
    export_stream_private: Vec<String>,

    /// Export a service that only accounts holding an activation token may
    /// import. Repeatable.
    #[arg(long, value_name = "SUBJ")]
    export_service_private: Vec<String>,

    /// Import a stream that ACCOUNT (an account name in DIR, or an account
    /// public key A...) exports; messages arrive on the same subject here.
    /// When ACCOUNT is in DIR and its export requires a token, an
    /// activation signed by ACCOUNT is issued and embedded. Repeatable.
    #[arg(long, value_name = "ACCOUNT:SUBJ")]
    import_stream: Vec<String>,

    /// Import a service that ACCOUNT exports; requests published on SUBJ
    /// here reach its SUBJ. Repeatable.
    #[arg(long, value_name = "ACCOUNT:SUBJ")]
    import_service: Vec<String>,
}

pub fn add_account(args: AddAccountArgs) -> anyhow::Result<()> {
    let store = OperatorStore::new(&args.dir);
    check_name("account", &args.name)?;
    if store.has_account(&args.name) {
        bail!(
            "account `{}` already exists in {}",
            args.name,
            store.accounts_dir().display()
        );
    }
    let operator = store.operator_key()?;
    let key = KeyPair::new_account();
    let mut claims = AccountClaims::new(key.public_key());
    claims.data.name = args.name.clone();
    claims.nats.limits = AccountLimits {
        conn: args.max_conns.unwrap_or(-1),
        ..AccountLimits::unlimited()
    };

    let exports = [
        (ExportType::Stream, false, &args.export_stream),
        (ExportType::Service, false, &args.export_service),
        (ExportType::Stream, true, &args.export_stream_private),
        (ExportType::Service, true, &args.export_service_private),
    ];
    for (kind, token_req, subjects) in exports {
        for subject in subjects {
            check_subject(flag_name("export", kind), subject)?;
            claims.nats.exports.push(Export {
                name: subject.clone(),
                subject: subject.clone(),
                kind: Some(kind),
                token_req,
                ..Default::default()
            });
        }
    }
    let imports = [
        (ExportType::Stream, &args.import_stream),
        (ExportType::Service, &args.import_service),
    ];
    for (kind, specs) in imports {
        for spec in specs {
            let import = resolve_import(&store, &args.name, &key.public_key(), kind, spec)?;
            claims.nats.imports.push(import);
        }
    }

    let seed = key.seed().context("new account key has no seed")?;
    store.save_account(&args.name, &encode(&claims, &operator)?, Some(&seed))?;
    println!(
        "account `{}` ({}): {}",
        args.name,
        key.public_key(),
        store.account_jwt_path(&args.name).display()
    );
    Ok(())
}

/// Turns `ACCOUNT:SUBJ` into an import. A stream is delivered on the
/// exporter's subject (empty `local_subject`); a service is reached on the
/// same subject here (`local_subject` = SUBJ). When ACCOUNT is a name in
/// the directory, a missing matching export is worth a warning: nats-server
/// ignores such an import rather than refusing the account; an export that
/// requires a token gets one, signed by ACCOUNT for `importer_key`.
fn resolve_import(
    store: &OperatorStore,
    importer: &str,
    importer_key: &str,
    kind: ExportType,
    spec: &str,
) -> anyhow::Result<Import> {
    let flag = flag_name("import", kind);
    let Some((account, subject)) = spec.split_once(':') else {
        bail!("{flag} `{spec}`: expected ACCOUNT:SUBJ");
    };
    check_subject(flag, subject)?;
    if account == importer {
        bail!("{flag} `{spec}`: account `{importer}` cannot import from itself");
    }
    let mut token = String::new();
    let account_key = match KeyPair::from_public_key(account) {
        Ok(key) if key.key_pair_type() == KeyPairType::Account => account.to_string(),
        _ => {
            let (_, exporter) = store
                .load_account(account)
                .with_context(|| format!("{flag} `{spec}`"))?;
            let export = exporter.nats.exports.iter().find(|e| {
                e.kind == Some(kind) && is_subset_match(subject.as_bytes(), e.subject.as_bytes())
            });
            match export {
                None => eprintln!(
                    "warning: account `{account}` does not export {} `{subject}`; the import has no effect until it does",
                    kind_name(kind)
                ),
                Some(e) if e.token_req => {
                    token = activation::issue(store, account, importer_key, subject, None)
                        .with_context(|| format!("{flag} `{spec}`"))?
                        .0;
                    eprintln!(
                        "embedded an activation from `{account}` for {} `{subject}`",
                        kind_name(kind)
                    );
                }
                Some(_) => {}
            }
            exporter.data.sub
        }
    };
    Ok(Import {
        name: subject.to_string(),
        subject: subject.to_string(),
        account: account_key,
        local_subject: match kind {
            ExportType::Stream => String::new(),
            ExportType::Service => subject.to_string(),
        },
        kind: Some(kind),
        token,
        ..Default::default()
    })
}

fn check_subject(flag: &str, subject: &str) -> anyhow::Result<()> {
    if !is_valid_subject(subject.as_bytes()) {
        bail!("{flag} `{subject}`: not a valid subject");
    }
    Ok(())
}

fn flag_name(direction: &str, kind: ExportType) -> &'static str {
    match (direction, kind) {
        ("export", ExportType::Stream) => "--export-stream",
        ("export", ExportType::Service) => "--export-service",
        (_, ExportType::Stream) => "--import-stream",
        (_, ExportType::Service) => "--import-service",
    }
}

fn kind_name(kind: ExportType) -> &'static str {
    match kind {
        ExportType::Stream => "stream",
        ExportType::Service => "service",
    }
}
