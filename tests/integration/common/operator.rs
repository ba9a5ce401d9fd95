//! An operator directory built with the JWT codec: an operator, a system
//! account `SYS` and an account `APP`, laid out as `switchyard auth` does.

use base64::Engine;
use nkeys::KeyPair;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use switchyard::auth::jwt::{AccountClaims, OperatorClaims, UserClaims, encode, format_creds};
use switchyard::{Server, ServerConfig};

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

pub async fn creds_client(server: &Server, path: &Path) -> async_nats::Client {
    async_nats::ConnectOptions::with_credentials_file(path)
        .await
        .expect("creds file")
        .connect(server.client_url())
        .await
        .expect("creds user connects")
}

/// Logs in over raw TCP with a user JWT, signing the INFO nonce; returns
/// the connection and what the server answered CONNECT + PING with.
pub async fn raw_login(server: &Server, user: &KeyPair, jwt: &str) -> (super::Raw, String) {
    let mut raw = super::Raw::connect(server).await;
    let info: serde_json::Value =
        serde_json::from_str(raw.info.trim_start_matches("INFO ").trim()).expect("INFO json");
    let nonce = info["nonce"].as_str().expect("nonce in INFO").to_string();
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(user.sign(nonce.as_bytes()).expect("sign"));
    let connect = format!(
        "CONNECT {{\"jwt\":\"{jwt}\",\"sig\":\"{sig}\",\"verbose\":false,\"protocol\":1}}\r\nPING\r\n"
    );
    let (answer, _) = raw.exchange(connect.as_bytes()).await;
    (raw, answer)
}
