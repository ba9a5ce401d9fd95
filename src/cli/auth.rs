//! `switchyard auth`: issue and inspect NATS operator-mode credentials
//! (operator, accounts, users, `.creds` files) in an operator directory,
//! the way `nsc` does, so that Switchyard (`serve --operator-dir`) and
//! nats-server trust the same JWTs.
//!
//! The directory layout and every file operation belong to
//! [`crate::auth::store`]; the tokens to [`crate::auth::jwt`]. This module
//! holds the flags and turns them into claims:
//!
//! ```text
//! D/operator.jwt                          operator JWT (self-signed)
//! D/operator.nk                           operator seed (SO...), mode 0600
//! D/accounts/<NAME>/account.jwt           account JWT signed by the operator
//! D/accounts/<NAME>/account.nk            account seed (SA...), mode 0600
//! D/accounts/<NAME>/users/<USER>.jwt      user JWT signed by the account
//! D/accounts/<NAME>/users/<USER>.nk       user seed (SU...), mode 0600
//! ```

mod account;
mod activation;
mod clock;
mod describe;
mod user;

use clap::Subcommand;

/// The operator directory's layout, for `switchyard auth --help`.
pub const LAYOUT: &str = "\
Operator directory (--dir D):
  D/operator.jwt                       operator JWT (self-signed)
  D/operator.nk                        operator seed (SO...), mode 0600
  D/accounts/<NAME>/account.jwt        account JWT signed by the operator
  D/accounts/<NAME>/account.nk         account seed (SA...), mode 0600
  D/accounts/<NAME>/users/<USER>.jwt   user JWT signed by the account
  D/accounts/<NAME>/users/<USER>.nk    user seed (SU...), mode 0600";

#[derive(Debug, clap::Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub command: AuthCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Create an operator directory: an operator key and self-signed JWT,
    /// and the system account `SYS`.
    Init(account::InitArgs),
    /// Create an account signed by the operator, with its exports, imports
    /// and connection limit.
    AddAccount(account::AddAccountArgs),
    /// Issue an activation token: permission, signed by an exporting
    /// account, for one account to import an export that requires a token.
    AddActivation(activation::AddActivationArgs),
    /// Create a user signed by its account and write its `.creds` file.
    AddUser(user::AddUserArgs),
    /// Revoke a user's JWTs in its account JWT and re-sign the account;
    /// prints the path of the new account JWT.
    RevokeUser(user::RevokeUserArgs),
    /// Print the header and claims of a JWT (a .jwt file, a .creds file or
    /// the token itself) and whether its signature verifies (exit 0) or
    /// not (exit 1).
    Describe(describe::DescribeArgs),
}

pub fn run(args: AuthArgs) -> anyhow::Result<()> {
    match args.command {
        AuthCommand::Init(args) => account::init(args),
        AuthCommand::AddAccount(args) => account::add_account(args),
        AuthCommand::AddActivation(args) => activation::add_activation(args),
        AuthCommand::AddUser(args) => user::add_user(args),
        AuthCommand::RevokeUser(args) => user::revoke_user(args),
        AuthCommand::Describe(args) => describe::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::clock::human_duration;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(90 * 60), "1h 30m");
        assert_eq!(human_duration(30 * 86_400 + 7), "30d 7s");
        assert_eq!(human_duration(-3_600), "1h");
    }
}
