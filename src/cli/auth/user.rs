//! `auth add-user` and `auth revoke-user`: users of an account.

use anyhow::{Context, bail};
use nkeys::KeyPair;
use std::path::PathBuf;

use super::clock::{human_duration, now_unix};
use crate::auth::jwt::{Permission, UserClaims, encode, format_creds};
use crate::auth::store::{OperatorStore, SEED_MODE, check_name, write_atomic};
use crate::subject::is_valid_subject;

#[derive(Debug, clap::Args)]
pub struct AddUserArgs {
    /// Operator directory made by `switchyard auth init`.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// The account (a name in DIR/accounts) whose key signs the user.
    #[arg(long, value_name = "ACCOUNT")]
    account: String,

    /// User name: the file names under the account's `users/` and the
    /// JWT's `name`.
    #[arg(value_name = "NAME")]
    name: String,

    /// Subject the user may publish to (wildcards allowed). Repeatable;
    /// with none, publishing is allowed everywhere not denied.
    #[arg(long, value_name = "SUBJ")]
    allow_pub: Vec<String>,

    /// Subject the user may subscribe to, optionally followed by a space
    /// and a queue group. Repeatable.
    #[arg(long, value_name = "SUBJ")]
    allow_sub: Vec<String>,

    /// Subject the user may not publish to. Repeatable.
    #[arg(long, value_name = "SUBJ")]
    deny_pub: Vec<String>,

    /// Subject the user may not subscribe to. Repeatable.
    #[arg(long, value_name = "SUBJ")]
    deny_sub: Vec<String>,

    /// Lifetime of the JWT: a whole number of days, hours, minutes or
    /// seconds (`30d`, `12h`, `90m`, `45s`) [default: never expires].
    #[arg(long, value_name = "DUR", value_parser = parse_lifetime)]
    expires: Option<i64>,

    /// Make the JWT a bearer token: it authenticates alone, without the
    /// client signing the server's nonce with the seed.
    #[arg(long)]
    bearer: bool,

    /// Where to write the user's `.creds` file (JWT and seed, mode 0600).
    #[arg(long, value_name = "FILE.creds")]
    out: PathBuf,
}

pub fn add_user(args: AddUserArgs) -> anyhow::Result<()> {
    let store = OperatorStore::new(&args.dir);
    check_name("user", &args.name)?;
    let account_key = store.account_key(&args.account)?;
    if store.has_user(&args.account, &args.name) {
        bail!(
            "user `{}` already exists in account `{}`: {}",
            args.name,
            args.account,
            store.user_jwt_path(&args.account, &args.name).display()
        );
    }
    let (_, account) = store.load_account(&args.account)?;
    if args.bearer && account.nats.limits.disallow_bearer {
        bail!(
            "account `{}` does not allow bearer tokens (its limits set disallow_bearer)",
            args.account
        );
    }

    let key = KeyPair::new_user();
    let mut claims = UserClaims::new(key.public_key());
    claims.data.name = args.name.clone();
    let permissions = &mut claims.nats.limits.permissions;
    permissions.publish = permission("--allow-pub", args.allow_pub, "--deny-pub", args.deny_pub)?;
    permissions.subscribe = permission("--allow-sub", args.allow_sub, "--deny-sub", args.deny_sub)?;
    claims.nats.limits.bearer_token = args.bearer;
    if let Some(lifetime) = args.expires {
        claims.data.exp = now_unix()
            .checked_add(lifetime)
            .context("--expires: too far in the future")?;
    }

    let token = encode(&claims, &account_key)?;
    let seed = key.seed().context("new user key has no seed")?;
    let creds = format_creds(&token, &seed)?;
    store.save_user(&args.account, &args.name, &token, &seed)?;
    write_atomic(&args.out, &creds, SEED_MODE)?;

    let expiry = match args.expires {
        Some(lifetime) => format!("expires in {}", human_duration(lifetime)),
        None => "never expires".to_string(),
    };
    println!(
        "user `{}` ({}) of account `{}`, {expiry}: {}",
        args.name,
        key.public_key(),
        args.account,
        args.out.display()
    );
    Ok(())
}

/// Allow and deny lists, each subject checked. Subscribe entries may carry
/// a queue group after a space, as in nats-io/jwt.
fn permission(
    allow_flag: &str,
    allow: Vec<String>,
    deny_flag: &str,
    deny: Vec<String>,
) -> anyhow::Result<Permission> {
    for (flag, list) in [(allow_flag, &allow), (deny_flag, &deny)] {
        for entry in list {
            let subject = entry.split_once(' ').map_or(entry.as_str(), |(s, _)| s);
            if !is_valid_subject(subject.as_bytes()) {
                bail!("{flag} `{entry}`: not a valid subject");
            }
        }
    }
    Ok(Permission { allow, deny })
}

/// `30d`, `12h`, `90m`, `45s` as seconds.
pub(super) fn parse_lifetime(text: &str) -> Result<i64, String> {
    let usage = || format!("`{text}`: expected a whole number and a unit, as 30d, 12h, 90m or 45s");
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(usage)?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| usage())?;
    let unit = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(usage()),
    };
    match number.checked_mul(unit) {
        Some(0) => Err(format!("`{text}`: a lifetime must be longer than zero")),
        Some(secs) => Ok(secs),
        None => Err(format!("`{text}`: too long")),
    }
}

#[derive(Debug, clap::Args)]
pub struct RevokeUserArgs {
    /// Operator directory made by `switchyard auth init`.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// The account the user belongs to.
    #[arg(long, value_name = "ACCOUNT")]
    account: String,

    /// The user to revoke (a name under the account's `users/`).
    #[arg(value_name = "NAME")]
    name: String,
}

/// Adds the user's public key to the account's `revocations` with the
/// current time, which revokes every JWT of that key issued until now
/// (nats-server compares against `iat`), and re-signs the account.
pub fn revoke_user(args: RevokeUserArgs) -> anyhow::Result<()> {
    let store = OperatorStore::new(&args.dir);
    let (_, user) = store.load_user(&args.account, &args.name)?;
    let operator = store.operator_key()?;
    let (_, mut account) = store.load_account(&args.account)?;
    let now = now_unix();
    account.nats.revocations.insert(user.data.sub.clone(), now);
    store.save_account(&args.account, &encode(&account, &operator)?, None)?;
    eprintln!(
        "revoked user `{}` ({}) of account `{}` at {now}",
        args.name, user.data.sub, args.account
    );
    println!("{}", store.account_jwt_path(&args.account).display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_lifetime;

    #[test]
    fn lifetimes_take_one_whole_number_and_unit() {
        assert_eq!(parse_lifetime("30d"), Ok(30 * 86_400));
        assert_eq!(parse_lifetime("12h"), Ok(12 * 3_600));
        assert_eq!(parse_lifetime("90m"), Ok(90 * 60));
        assert_eq!(parse_lifetime("45s"), Ok(45));
        for bad in ["", "30", "d", "1.5h", "-1h", "1w", "0s", "1h30m"] {
            assert!(parse_lifetime(bad).is_err(), "{bad:?}");
        }
        assert!(parse_lifetime("999999999999999999d").is_err());
    }
}
