//! TLS for client connections: server-only TLS, client certificates,
//! TLS-first, certificate-to-user mapping, plaintext refusal, handshake
//! timeout and certificate reload, with async-nats over TLS and raw TCP
//! for exact bytes.

use crate::common;

use common::pki::{Ca, PemDir};
use common::{Raw, TenantDir, eventually, next_msg, no_msg};
use rcgen::{DnType, SanType};
use std::path::PathBuf;
use std::time::Duration;
use switchyard::config::TlsConfig;
use switchyard::{Server, ServerConfig};
use tokio::io::AsyncWriteExt;

const TLS_REQUIRED: &[u8] = b"-ERR 'Secure Connection - TLS Required'\r\n";

/// A CA, a server certificate from it, and the files.
struct Pki {
    ca: Ca,
    files: PemDir,
    ca_file: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let ca = Ca::new("switchyard test CA");
        let files = PemDir::new();
        let ca_file = files.write("ca.pem", &ca.pem);
        Pki { ca, files, ca_file }
    }

    fn tls(&self) -> TlsConfig {
        let (cert, key) = self.files.pair("server", &self.ca.server());
        TlsConfig::new(cert, key)
    }

    fn verifying(&self) -> TlsConfig {
        TlsConfig {
            ca_file: Some(self.ca_file.clone()),
            verify: true,
            ..self.tls()
        }
    }

    /// Client options trusting this CA.
    fn client(&self) -> async_nats::ConnectOptions {
        async_nats::ConnectOptions::new()
            .require_tls(true)
            .add_root_certificates(self.ca_file.clone())
    }

    /// Client options presenting a certificate from `ca` with `dn` and `sans`.
    fn client_with_cert(
        &self,
        ca: &Ca,
        name: &str,
        dn: &[(DnType, &str)],
        sans: Vec<SanType>,
    ) -> async_nats::ConnectOptions {
        let (cert, key) = self.files.pair(name, &ca.client(dn, sans));
        self.client().add_client_certificate(cert, key)
    }
}

async fn start_tls(tls: TlsConfig) -> Server {
    common::start_with(ServerConfig {
        tls: Some(tls),
        ..ServerConfig::default()
    })
    .await
}

async fn round_trip(client: &async_nats::Client, subject: &str) {
    let mut sub = client.subscribe(subject.to_string()).await.expect("sub");
    client.flush().await.expect("flush");
    client
        .publish(subject.to_string(), "over tls".into())
        .await
        .expect("pub");
    assert_eq!(&next_msg(&mut sub).await.payload[..], b"over tls");
}

#[tokio::test]
async fn server_tls_carries_messages_and_info_requires_tls() {
    let pki = Pki::new();
    let server = start_tls(pki.tls()).await;
    let raw = Raw::connect(&server).await;
    assert!(raw.info.contains(r#""tls_required":true"#), "{}", raw.info);
    assert!(!raw.info.contains("tls_verify"), "{}", raw.info);

    let client = pki
        .client()
        .connect(server.client_url())
        .await
        .expect("tls connect");
    round_trip(&client, "tls.plain").await;
}

#[tokio::test]
async fn plaintext_client_is_refused_with_tls_required() {
    let pki = Pki::new();
    let server = start_tls(pki.tls()).await;
    let mut raw = Raw::connect(&server).await;
    raw.send(b"CONNECT {\"verbose\":false}\r\nPING\r\n").await;
    let (bytes, closed) = raw.read_for(Duration::from_secs(3)).await;
    assert_eq!(bytes, TLS_REQUIRED, "{}", String::from_utf8_lossy(&bytes));
    assert!(closed);
    eventually("refused client forgotten", || server.connections() == 0).await;

    // async-nats without TLS sees the same refusal and does not connect.
    let plain = async_nats::ConnectOptions::new()
        .connect(server.client_url())
        .await;
    assert!(plain.is_err(), "plaintext client must not connect");
}

#[tokio::test]
async fn silent_client_times_out_and_stalled_handshake_is_closed() {
    let pki = Pki::new();
    let server = start_tls(TlsConfig {
        timeout: Duration::from_millis(300),
        ..pki.tls()
    })
    .await;

    // Never starts TLS: told so in plaintext, then closed.
    let mut silent = Raw::connect(&server).await;
    let (bytes, closed) = silent.read_for(Duration::from_secs(3)).await;
    assert_eq!(bytes, TLS_REQUIRED, "{}", String::from_utf8_lossy(&bytes));
    assert!(closed);

    // Starts a TLS record and stalls: closed without plaintext.
    let mut stalled = Raw::connect(&server).await;
    stalled
        .stream
        .write_all(&[0x16, 0x03, 0x01])
        .await
        .expect("write");
    let (bytes, closed) = stalled.read_for(Duration::from_secs(3)).await;
    assert!(closed, "stalled handshake closed");
    assert!(!bytes.starts_with(b"-ERR"), "no plaintext inside TLS");
    eventually("timed-out clients forgotten", || server.connections() == 0).await;
}

#[tokio::test]
async fn tls_first_handshakes_before_info() {
    let pki = Pki::new();
    let server = start_tls(TlsConfig {
        handshake_first: true,
        timeout: Duration::from_millis(300),
        ..pki.tls()
    })
    .await;
    let client = pki
        .client()
        .tls_first()
        .connect(server.client_url())
        .await
        .expect("tls-first connect");
    round_trip(&client, "tls.first").await;

    // A plaintext client waiting for INFO gets none, only the refusal.
    let mut raw = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .expect("tcp");
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), async {
        use tokio::io::AsyncReadExt;
        raw.read_to_end(&mut got).await
    })
    .await;
    assert!(read.is_ok(), "closed after the timeout");
    assert_eq!(got, TLS_REQUIRED, "{}", String::from_utf8_lossy(&got));
}

#[tokio::test]
async fn tls_first_falls_back_to_info_for_clients_that_wait() {
    // nats-server's `handshake_first: 300ms` (async-nats tls_tests
    // `tls_auto`): a client that opens with TLS gets TLS first, one that
    // waits for INFO gets it after the delay and then upgrades as usual.
    let pki = Pki::new();
    let server = start_tls(TlsConfig {
        handshake_first: true,
        handshake_first_fallback: Some(Duration::from_millis(300)),
        ..pki.tls()
    })
    .await;
    let first = pki
        .client()
        .tls_first()
        .connect(server.client_url())
        .await
        .expect("tls-first client connects");
    round_trip(&first, "tls.first").await;
    let waiting = pki
        .client()
        .connect(server.client_url())
        .await
        .expect("client waiting for INFO connects after the fallback delay");
    round_trip(&waiting, "tls.after.info").await;

    // The INFO of the fallback is plaintext, sent once the delay passes.
    let started = std::time::Instant::now();
    let raw = Raw::connect(&server).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(raw.info.contains(r#""tls_required":true"#), "{}", raw.info);
}

#[tokio::test]
async fn client_certificates_are_required_and_checked() {
    let pki = Pki::new();
    let server = start_tls(pki.verifying()).await;
    let raw = Raw::connect(&server).await;
    assert!(raw.info.contains(r#""tls_verify":true"#), "{}", raw.info);

    let good = pki
        .client_with_cert(&pki.ca, "good", &[(DnType::CommonName, "good")], vec![])
        .connect(server.client_url())
        .await
        .expect("client with a valid certificate connects");
    round_trip(&good, "mtls.ok").await;

    let none = pki.client().connect(server.client_url()).await;
    assert!(none.is_err(), "client without a certificate is refused");

    let rogue_ca = Ca::new("rogue CA");
    let rogue = pki
        .client_with_cert(&rogue_ca, "rogue", &[(DnType::CommonName, "good")], vec![])
        .connect(server.client_url())
        .await;
    assert!(rogue.is_err(), "certificate from another CA is refused");
    eventually("only the good client remains", || server.connections() == 1).await;
}

const ACME: &str = r#"
name = "acme"

[[users]]
user = "CN=alice,O=Acme"

[[users]]
user = "bob.acme.example"
[users.permissions.publish]
allow = ["orders.>"]
"#;

const GLOBEX: &str = r#"
name = "globex"

[[users]]
user = "carol@globex.example"
"#;

#[tokio::test]
async fn certificate_maps_to_a_tenant_user() {
    let pki = Pki::new();
    let tenants = TenantDir::new(&[("acme", ACME), ("globex", GLOBEX)]);
    let server = common::start_with(ServerConfig {
        tls: Some(TlsConfig {
            verify_and_map: true,
            ..pki.verifying()
        }),
        ..tenants.config()
    })
    .await;
    let ca = &pki.ca;
    let alice = pki
        .client_with_cert(
            ca,
            "alice",
            &[
                (DnType::OrganizationName, "Acme"),
                (DnType::CommonName, "alice"),
            ],
            vec![],
        )
        .connect(server.client_url())
        .await
        .expect("alice maps by subject DN");
    let bob = pki
        .client_with_cert(
            ca,
            "bob",
            &[(DnType::CommonName, "bob")],
            vec![SanType::DnsName(
                "bob.acme.example".try_into().expect("dns"),
            )],
        )
        .connect(server.client_url())
        .await
        .expect("bob maps by DNS SAN");
    let carol = pki
        .client_with_cert(
            ca,
            "carol",
            &[(DnType::CommonName, "carol")],
            vec![SanType::Rfc822Name(
                "carol@globex.example".try_into().expect("email"),
            )],
        )
        .connect(server.client_url())
        .await
        .expect("carol maps by email SAN");
    eventually("two in acme, one in globex", || {
        server.tenant_connections("acme") == 2 && server.tenant_connections("globex") == 1
    })
    .await;

    let mut orders = alice.subscribe("orders.new").await.expect("sub");
    let mut audit = alice.subscribe("audit.log").await.expect("sub");
    alice.flush().await.expect("flush");

    // Same tenant: bob reaches alice.
    bob.publish("orders.new", "from bob".into())
        .await
        .expect("pub");
    assert_eq!(&next_msg(&mut orders).await.payload[..], b"from bob");
    // Bob's own permissions apply: audit.log is not his to publish.
    bob.publish("audit.log", "denied".into())
        .await
        .expect("pub");
    bob.flush().await.expect("flush");
    no_msg(&mut audit).await;
    // Another tenant: carol does not reach alice.
    carol
        .publish("orders.new", "from carol".into())
        .await
        .expect("pub");
    carol.flush().await.expect("flush");
    no_msg(&mut orders).await;

    // A valid certificate that names no user is refused.
    let stranger = pki
        .client_with_cert(ca, "stranger", &[(DnType::CommonName, "stranger")], vec![])
        .connect(server.client_url())
        .await;
    assert!(stranger.is_err(), "unmapped certificate is refused");
}

#[tokio::test]
async fn reload_serves_new_certificates_to_new_connections() {
    let old = Pki::new();
    let tls = old.tls();
    let server = start_tls(tls.clone()).await;
    let before = old
        .client()
        .connect(server.client_url())
        .await
        .expect("old CA");

    // New CA and server certificate in the same files.
    let new = Pki::new();
    let fresh = new.ca.server();
    std::fs::write(&tls.cert_file, &fresh.cert).expect("write cert");
    std::fs::write(&tls.key_file, &fresh.key).expect("write key");
    server.reload().await.expect("reload");

    let after = new
        .client()
        .connect(server.client_url())
        .await
        .expect("new CA");
    round_trip(&after, "tls.reloaded").await;
    let stale = old.client().connect(server.client_url()).await;
    assert!(stale.is_err(), "the old certificate is no longer served");
    // The connection made before the reload carries on.
    round_trip(&before, "tls.kept").await;

    // A broken file fails the reload and keeps the current certificate.
    std::fs::write(&tls.key_file, "not a key").expect("write");
    assert!(server.reload().await.is_err());
    new.client()
        .connect(server.client_url())
        .await
        .expect("still served");
}

#[tokio::test]
async fn reload_keeps_mapped_users_and_drops_a_removed_one() {
    let pki = Pki::new();
    let tenants = TenantDir::new(&[("acme", ACME)]);
    let server = common::start_with(ServerConfig {
        tls: Some(TlsConfig {
            verify_and_map: true,
            ..pki.verifying()
        }),
        ..tenants.config()
    })
    .await;
    let bob_dns = SanType::DnsName("bob.acme.example".try_into().expect("dns"));
    let bob = pki
        .client_with_cert(
            &pki.ca,
            "bob",
            &[(DnType::CommonName, "bob")],
            vec![bob_dns],
        )
        .connect(server.client_url())
        .await
        .expect("bob maps by DNS SAN");
    let alice_dn = [
        (DnType::OrganizationName, "Acme"),
        (DnType::CommonName, "alice"),
    ];
    let alice = pki
        .client_with_cert(&pki.ca, "alice", &alice_dn, vec![])
        .connect(server.client_url())
        .await
        .expect("alice maps by subject DN");
    bob.flush().await.expect("flush");
    alice.flush().await.expect("flush");
    assert_eq!(server.tenant_connections("acme"), 2);
    let alice_id = alice.server_info().client_id;

    // bob is removed; alice logs in again with the certificate she
    // connected with, and keeps her connection.
    let only_alice = "name = \"acme\"\n[[users]]\nuser = \"CN=alice,O=Acme\"\n";
    tenants.write("acme", only_alice);
    server.reload().await.expect("reload");
    // A connection re-checks its login before reading on, so after this
    // PING round trip alice's has.
    let _ = alice.flush().await;
    eventually("bob's certificate no longer maps", || {
        server.tenant_connections("acme") == 1
    })
    .await;
    round_trip(&alice, "orders.after.reload").await;
    assert_eq!(
        alice.server_info().client_id,
        alice_id,
        "alice kept her connection through the reload (no reconnect)"
    );
}

/// The load generator speaks TLS with `--tls-ca` (upgrading after INFO,
/// as NATS clients do): every message arrives; without it, a TLS server is
/// refused with a hint instead of a protocol error.
#[tokio::test]
async fn bench_runs_over_tls_with_a_ca_file() {
    let pki = Pki::new();
    let server = start_tls(pki.tls()).await;
    let url = format!("nats://{}", server.local_addr());
    let ca = pki.ca_file.to_string_lossy().into_owned();
    for (mode, msgs) in [("pubsub", 2000), ("connect", 100)] {
        let n = msgs.to_string();
        let report = common::bench(&[mode, "--url", &url, "--msgs", &n, "--tls-ca", &ca])
            .await
            .unwrap_or_else(|e| panic!("{mode} over TLS: {e}"));
        assert!(report.url.starts_with("tls://"), "{}", report.url);
        match mode {
            "pubsub" => assert_eq!(report.delivered, msgs),
            _ => assert_eq!(report.requests.as_ref().map(|r| r.count), Some(msgs)),
        }
    }
    let refused = common::bench(&["pubsub", "--url", &url, "--msgs", "10"])
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        refused.contains("requires TLS") && refused.contains("--tls-ca"),
        "{refused}"
    );
}
