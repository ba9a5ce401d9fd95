//! An operator directory built with the JWT codec: an operator, a system
//! account `SYS` and an account `APP`, laid out as `switchyard auth` does.

use nkeys::KeyPair;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use switchyard::ServerConfig;
use switchyard::auth::jwt::{AccountClaims, OperatorClaims, UserClaims, encode, format_creds};

pub struct Operator {
    pub dir: tempfile::TempDir,
    pub operator: KeyPair,
    pub app: KeyPair,
    pub sys: KeyPair,
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

impl Operator {
    pub fn new() -> Operator {
        let o = Operator {
            dir: tempfile::tempdir().expect("temp dir"),
            operator: KeyPair::new_operator(),
            app: KeyPair::new_account(),
            sys: KeyPair::new_account(),
        };
        let mut op = OperatorClaims::new(o.operator.public_key());
        op.data.name = "test-operator".into();
        op.nats.system_account = o.sys.public_key();
        write(
            &o.dir.path().join("operator.jwt"),
            &encode(&op, &o.operator).expect("operator jwt"),
        );
        o.write_account("SYS", &o.sys, |_| {});
        o.write_account("APP", &o.app, |_| {});
        o
    }

    pub fn account_jwt(&self, account: &KeyPair, edit: impl FnOnce(&mut AccountClaims)) -> String {
        let mut claims = AccountClaims::new(account.public_key());
        edit(&mut claims);
        encode(&claims, &self.operator).expect("account jwt")
    }

    pub fn write_account(
        &self,
        name: &str,
        account: &KeyPair,
        edit: impl FnOnce(&mut AccountClaims),
    ) {
        let jwt = self.account_jwt(account, edit);
        write(
            &self
                .dir
                .path()
                .join("accounts")
                .join(name)
                .join("account.jwt"),
            &jwt,
        );
    }

    /// A user of `account`; returns the user key and its JWT.
    pub fn user(&self, account: &KeyPair, edit: impl FnOnce(&mut UserClaims)) -> (KeyPair, String) {
        let user = KeyPair::new_user();
        let mut claims = UserClaims::new(user.public_key());
        edit(&mut claims);
        let jwt = encode(&claims, account).expect("user jwt");
        (user, jwt)
    }

    pub fn creds(&self, name: &str, user: &KeyPair, jwt: &str) -> std::path::PathBuf {
        let path = self.dir.path().join(format!("{name}.creds"));
        write(
            &path,
            &format_creds(jwt, &user.seed().expect("seed")).expect("creds"),
        );
        path
    }

    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            operator_dir: Some(self.dir.path().to_path_buf()),
            ..ServerConfig::default()
        }
    }
}
