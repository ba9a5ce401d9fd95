//! The cost of logging a connection in: `UserDirectory::authenticate` among
//! 1,000 users (10 tenants of 100, password, token and nkey users in turn),
//! for each kind of credential, and the nonce sent to nkey users.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use nkeys::KeyPair;
use std::hint::black_box;
use std::time::Duration;
use switchyard::auth::{UserDirectory, new_nonce};
use switchyard::config::tenant::{TenantFile, UserEntry};
use switchyard::protocol::ConnectOptions;

const TENANTS: usize = 10;
const USERS_PER_TENANT: usize = 100;
/// Cost of the bcrypt user: low for production (nats-server's tool uses
/// 11), enough to show the order of magnitude without a minutes-long run.
const BCRYPT_COST: u32 = 10;

/// The directory and one CONNECT per kind of user, each for a user in the
/// middle of the population.
struct Setup {
    dir: UserDirectory,
    nonce: String,
    password: ConnectOptions,
    bcrypt_password: ConnectOptions,
    token: ConnectOptions,
    nkey: ConnectOptions,
}

fn setup() -> Setup {
    let nonce = new_nonce();
    let mut tenants = Vec::new();
    let mut nkey_connect = None;
    for t in 0..TENANTS {
        let mut users = Vec::new();
        for u in 0..USERS_PER_TENANT {
            let n = t * USERS_PER_TENANT + u;
            let mut entry = UserEntry::default();
            match n % 3 {
                0 => {
                    entry.user = Some(format!("user{n}"));
                    entry.password = Some(format!("password-{n}"));
                }
                1 => entry.token = Some(format!("token-{n}-s3cr3t")),
                _ => {
                    let key = KeyPair::new_user();
                    entry.nkey = Some(key.public_key());
                    if n == 500 {
                        nkey_connect = Some(signed_connect(&key, &nonce));
                    }
                }
            }
            users.push(entry);
        }
        tenants.push(TenantFile {
            name: format!("tenant{t}"),
            users,
            default_permissions: None,
            limits: Default::default(),
            exports: Vec::new(),
            imports: Vec::new(),
            mappings: Vec::new(),
            plugins: Vec::new(),
            source: Default::default(),
        });
    }
    let hashed = bcrypt::hash("bcrypt-password", BCRYPT_COST).expect("valid cost");
    tenants[0].users.push(UserEntry {
        user: Some("hashed".into()),
        password: Some(hashed),
        ..UserEntry::default()
    });
    let dir = UserDirectory::new(&tenants, None).expect("bench users are valid");
    Setup {
        dir,
        nonce,
        password: login("user501", "password-501"),
        bcrypt_password: login("hashed", "bcrypt-password"),
        token: ConnectOptions {
            auth_token: Some("token-499-s3cr3t".into()),
            ..ConnectOptions::default()
        },
        nkey: nkey_connect.expect("user 500 is an nkey user"),
    }
}

fn login(user: &str, pass: &str) -> ConnectOptions {
    ConnectOptions {
        user: Some(user.into()),
        pass: Some(pass.into()),
        ..ConnectOptions::default()
    }
}

fn signed_connect(key: &KeyPair, nonce: &str) -> ConnectOptions {
    let sig = key
        .sign(nonce.as_bytes())
        .expect("a new key pair has a seed");
    ConnectOptions {
        nkey: Some(key.public_key()),
        sig: Some(URL_SAFE_NO_PAD.encode(sig)),
        ..ConnectOptions::default()
    }
}

fn authenticate(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("authenticate_1000_users");
    let cases = [
        ("plain_password", &s.password),
        ("token", &s.token),
        ("nkey_signature", &s.nkey),
    ];
    for (name, opts) in cases {
        assert!(s.dir.authenticate(opts, Some(&s.nonce)).is_ok(), "{name}");
        group.bench_function(name, |b| {
            b.iter(|| s.dir.authenticate(black_box(opts), Some(&s.nonce)))
        });
    }
    let wrong = login("user501", "password-502");
    group.bench_function("plain_password_wrong", |b| {
        b.iter(|| s.dir.authenticate(black_box(&wrong), Some(&s.nonce)))
    });
    group.finish();

    // bcrypt takes tens of milliseconds per check by design: few samples.
    let mut slow = c.benchmark_group("authenticate_bcrypt");
    slow.sample_size(10)
        .measurement_time(Duration::from_secs(5));
    assert!(s.dir.authenticate(&s.bcrypt_password, None).is_ok());
    slow.bench_function(format!("password_cost_{BCRYPT_COST}"), |b| {
        b.iter(|| s.dir.authenticate(black_box(&s.bcrypt_password), None))
    });
    slow.finish();
}

fn nonce(c: &mut Criterion) {
    c.bench_function("new_nonce", |b| b.iter(new_nonce));
}

criterion_group!(benches, authenticate, nonce);
criterion_main!(benches);
