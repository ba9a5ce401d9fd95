//! Monitoring end to end: known traffic from real clients in two tenants,
//! then every HTTP endpoint read with a real HTTP client must report
//! exactly that traffic; and the same data over NATS for the system account.

use crate::common;

use common::{TenantDir, next_msg, user};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use switchyard::{Server, ServerConfig};

const ACME: &str = r#"
name = "acme"
[[users]]
user = "alice"
password = "alice-pw"
[[users]]
user = "arthur"
password = "arthur-pw"
[limits]
max_connections = 10
[[imports]]
stream = { account = "globex", subject = "orders.>" }
prefix = "globex"
"#;

const GLOBEX: &str = r#"
name = "globex"
[[users]]
user = "gina"
password = "gina-pw"
[[users]]
user = "gus"
password = "gus-pw"
[[exports]]
stream = "orders.>"
accounts = ["acme"]
"#;

const OPS: &str = r#"
name = "ops"
[[users]]
user = "admin"
password = "admin-pw"
"#;

/// acme: N messages of M bytes, each delivered to two subscriptions of one
/// client; globex: G messages of H bytes to one subscription.
const N: u64 = 10;
const M: usize = 100;
const G: u64 = 3;
const H: usize = 50;

struct Http {
    status: u16,
    content_type: String,
    body: String,
}

/// GET with a real HTTP client, off the async runtime (ureq blocks).
async fn get(addr: SocketAddr, path: &str) -> Http {
    get_accepting(addr, path, None).await
}

/// GET with an `Accept` header.
async fn get_accepting(addr: SocketAddr, path: &str, accept: Option<&'static str>) -> Http {
    let url = format!("http://{addr}{path}");
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut request = agent.get(&url);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        let mut resp = request.call().expect("HTTP request");
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Http {
            status: resp.status().as_u16(),
            content_type,
            body: resp.body_mut().read_to_string().expect("HTTP body"),
        }
    })
    .await
    .expect("HTTP task")
}

async fn json(addr: SocketAddr, path: &str) -> Value {
    let r = get(addr, path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert_eq!(r.content_type, "application/json", "{path}");
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.body))
}

/// Polls `path` until `cond` holds on its JSON (as `common::eventually`
/// does for server state); panics with `what` after 5 s.
async fn json_eventually(
    addr: SocketAddr,
    path: &str,
    what: &str,
    cond: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..500 {
        let v = json(addr, path).await;
        if cond(&v) {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn status(addr: SocketAddr, path: &str) -> (u16, String) {
    let r = get(addr, path).await;
    (r.status, r.body)
}

async fn named(server: &Server, name: &str, user: &str, pass: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(user.into(), pass.into())
        .name(name)
        .connect(server.client_url())
        .await
        .unwrap_or_else(|e| panic!("{user} connects: {e}"))
}

/// Clients and subscriptions kept alive for a test's duration (a dropped
/// subscriber unsubscribes).
struct Traffic {
    _dir: TenantDir,
    server: Server,
    clients: Vec<async_nats::Client>,
    _subs: Vec<async_nats::Subscriber>,
}

/// A broker with the two test tenants and monitoring on a free port; the
/// tenant directory lives as long as the returned guard.
async fn monitored() -> (TenantDir, Server, SocketAddr) {
    let dir = TenantDir::new(&[("acme", ACME), ("globex", GLOBEX)]);
    let server = common::start_with(ServerConfig {
        http_port: Some(0),
        ..dir.config()
    })
    .await;
    let addr = server.http_addr().expect("monitoring listener");
    (dir, server, addr)
}

/// Two tenants with known traffic.
async fn traffic() -> Traffic {
    let (dir, server, _) = monitored().await;
    let asub = named(&server, "asub", "arthur", "arthur-pw").await;
    let apub = named(&server, "apub", "alice", "alice-pw").await;
    let gsub = named(&server, "gsub", "gus", "gus-pw").await;
    let gpub = named(&server, "gpub", "gina", "gina-pw").await;
    let mut wide = asub.subscribe("jobs.>").await.unwrap();
    let mut exact = asub.subscribe("jobs.pack").await.unwrap();
    let mut orders = gsub.subscribe("orders.x").await.unwrap();
    asub.flush().await.unwrap();
    gsub.flush().await.unwrap();
    common::eventually("subscriptions registered", || server.subscriptions() == 3).await;
    for _ in 0..N {
        apub.publish("jobs.pack", vec![b'a'; M].into())
            .await
            .unwrap();
    }
    for _ in 0..G {
        gpub.publish("orders.x", vec![b'g'; H].into())
            .await
            .unwrap();
    }
    apub.flush().await.unwrap();
    gpub.flush().await.unwrap();
    for _ in 0..N {
        next_msg(&mut wide).await;
        next_msg(&mut exact).await;
    }
    for _ in 0..G {
        next_msg(&mut orders).await;
    }
    common::eventually("publishes counted", || server.stats().in_msgs == N + G).await;
    Traffic {
        _dir: dir,
        server,
        clients: vec![asub, apub, gsub, gpub],
        _subs: vec![wide, exact, orders],
    }
}

fn conn<'a>(connz: &'a Value, name: &str) -> &'a Value {
    connz["connections"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("connection {name} in {connz}"))
}

fn names(connz: &Value) -> Vec<String> {
    connz["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn varz_connz_subsz_accountz_count_exactly_what_was_sent() {
    let t = traffic().await;
    let server = &t.server;
    let addr = server.http_addr().expect("monitoring listener");
    let (total_in, total_out) = (N + G, 2 * N + G);
    let (bytes_in, bytes_out) = (N * M as u64 + G * H as u64, 2 * N * M as u64 + G * H as u64);

    let varz = json(addr, "/varz").await;
    assert_eq!(varz["connections"], 4);
    assert_eq!(varz["total_connections"], 4);
    assert_eq!(varz["in_msgs"], total_in);
    assert_eq!(varz["out_msgs"], total_out);
    assert_eq!(varz["in_bytes"], bytes_in);
    assert_eq!(varz["out_bytes"], bytes_out);
    assert_eq!(varz["subscriptions"], 3);
    assert_eq!(varz["slow_consumers"], 0);
    assert_eq!(varz["routes"], 0);
    assert_eq!(varz["port"], server.local_addr().port());
    assert_eq!(varz["http_port"], addr.port());
    assert_eq!(varz["max_payload"], 1024 * 1024);
    assert_eq!(varz["ping_interval"], 120_000_000_000u64);
    assert!(
        varz["server_id"]
            .as_str()
            .is_some_and(|id| id.starts_with('N'))
    );
    for key in [
        "start",
        "now",
        "uptime",
        "config_load_time",
        "version",
        "mem",
        "cores",
    ] {
        assert!(!varz[key].is_null(), "varz.{key}");
    }

    let connz = json(addr, "/connz").await;
    assert_eq!(connz["num_connections"], 4);
    assert_eq!(connz["total"], 4);
    assert_eq!(connz["limit"], 1024);
    let cids: Vec<u64> = connz["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cid"].as_u64().unwrap())
        .collect();
    assert!(cids.windows(2).all(|w| w[0] < w[1]), "cid order: {cids:?}");
    let apub = conn(&connz, "apub");
    assert_eq!(apub["kind"], "Client");
    assert_eq!(apub["type"], "nats");
    assert_eq!(apub["ip"], "127.0.0.1");
    assert_eq!(apub["account"], "acme");
    assert_eq!(apub["authorized_user"], "alice");
    assert_eq!(apub["lang"], "rust");
    assert_eq!(apub["in_msgs"], N);
    assert_eq!(apub["in_bytes"], N * M as u64);
    assert_eq!(apub["out_msgs"], 0);
    assert_eq!(apub["subscriptions"], 0);
    let asub = conn(&connz, "asub");
    assert_eq!(asub["out_msgs"], 2 * N);
    assert_eq!(asub["out_bytes"], 2 * N * M as u64);
    assert_eq!(asub["subscriptions"], 2);
    assert!(asub.get("subscriptions_list").is_none(), "only with subs=1");
    for key in [
        "start",
        "last_activity",
        "uptime",
        "idle",
        "pending_bytes",
        "port",
    ] {
        assert!(!asub[key].is_null(), "connz.{key}");
    }

    // Every connection has an RTT from its CONNECT on (the INFO-to-CONNECT
    // estimate, as nats-server makes it); a PONG to a server PING, which
    // /connz also sends a connection without one, replaces it.
    assert!(asub["rtt"].is_string(), "rtt from CONNECT: {asub}");
    let cid = apub["cid"].as_u64().expect("cid");
    let measured = json_eventually(addr, &format!("/connz?cid={cid}"), "apub rtt", |v| {
        v["connections"][0]["rtt"].is_string()
    })
    .await;
    assert_eq!(measured["total"], 1);
    assert_eq!(measured["connections"][0]["name"], "apub");

    let by_from = json(addr, "/connz?sort=msgs_from").await;
    assert_eq!(names(&by_from)[..2], ["apub", "gpub"]);
    let by_to = json(addr, "/connz?sort=msgs_to").await;
    assert_eq!(names(&by_to)[..2], ["asub", "gsub"]);
    let by_bytes = json(addr, "/connz?sort=bytes_to&limit=1").await;
    assert_eq!(names(&by_bytes), ["asub"]);
    assert_eq!(by_bytes["total"], 4);
    assert_eq!(by_bytes["limit"], 1);
    let by_subs = json(addr, "/connz?sort=subs&limit=1").await;
    assert_eq!(names(&by_subs), ["asub"]);
    let page = json(addr, "/connz?offset=1&limit=2").await;
    assert_eq!(
        names(&page),
        ["apub", "gsub"],
        "cid order, second and third"
    );
    assert_eq!(page["offset"], 1);
    let tail = json(addr, "/connz?offset=3&limit=2").await;
    assert_eq!(names(&tail), ["gpub"]);
    let past = json(addr, "/connz?offset=9").await;
    assert_eq!(past["num_connections"], 0);
    assert_eq!(past["total"], 4);
    let globex = json(addr, "/connz?acc=globex").await;
    assert_eq!(names(&globex), ["gsub", "gpub"]);
    assert_eq!(globex["total"], 2);
    let with_subs = json(addr, "/connz?acc=acme&subs=1&sort=subs").await;
    let mut listed: Vec<&str> = with_subs["connections"][0]["subscriptions_list"]
        .as_array()
        .expect("subscriptions_list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, ["jobs.>", "jobs.pack"]);
    for sort in [
        "cid",
        "start",
        "pending",
        "bytes_from",
        "last",
        "idle",
        "uptime",
    ] {
        let sorted = json(addr, &format!("/connz?sort={sort}")).await;
        assert_eq!(sorted["num_connections"], 4, "sort={sort}");
    }

    let subsz = json(addr, "/subsz").await;
    assert_eq!(subsz["num_subscriptions"], 3);
    assert_eq!(subsz["num_inserts"], 3);
    assert_eq!(subsz["num_removes"], 0);
    assert_eq!(subsz["max_fanout"], 2);
    assert!(subsz["num_matches"].as_u64().unwrap() >= total_in);
    assert!(subsz.get("subscriptions_list").is_none());
    let all = json(addr, "/subsz?subs=1").await;
    assert_eq!(all["total"], 3);
    assert_eq!(all["subscriptions_list"].as_array().unwrap().len(), 3);
    let acme_subs = json(addr, "/subsz?subs=1&acc=acme").await;
    assert_eq!(acme_subs["total"], 2);
    let tested = json(addr, "/subsz?subs=1&test=orders.x").await;
    assert_eq!(tested["total"], 1);
    assert_eq!(tested["subscriptions_list"][0]["subject"], "orders.x");
    assert_eq!(tested["subscriptions_list"][0]["account"], "globex");
    let paged = json(addr, "/subsz?subs=1&offset=1&limit=1").await;
    assert_eq!(paged["subscriptions_list"].as_array().unwrap().len(), 1);

    let accountz = json(addr, "/accountz").await;
    assert_eq!(accountz["accounts"], serde_json::json!(["acme", "globex"]));
    let acme = json(addr, "/accountz?acc=acme").await;
    let detail = &acme["account_detail"];
    assert_eq!(detail["account_name"], "acme");
    assert_eq!(detail["is_system"], false);
    assert_eq!(detail["client_connections"], 2);
    assert_eq!(detail["total_connections"], 2);
    assert_eq!(detail["subscriptions"], 2);
    assert_eq!(detail["in_msgs"], N);
    assert_eq!(detail["in_bytes"], N * M as u64);
    assert_eq!(detail["out_msgs"], 2 * N);
    assert_eq!(detail["out_bytes"], 2 * N * M as u64);
    assert_eq!(detail["limits"]["conn"], 10);
    assert_eq!(detail["limits"]["subs"], -1);
    assert_eq!(detail["imports"][0]["type"], "stream");
    assert_eq!(detail["imports"][0]["account"], "globex");
    assert_eq!(detail["imports"][0]["local_subject"], "globex.orders.>");
    assert_eq!(detail["plugins"], serde_json::json!([]));
    let globex = json(addr, "/accountz?acc=globex").await;
    assert_eq!(
        globex["account_detail"]["exports"][0]["subject"],
        "orders.>"
    );
    assert_eq!(globex["account_detail"]["in_msgs"], G);
    assert_eq!(globex["account_detail"]["out_bytes"], G * H as u64);
}

#[tokio::test]
async fn closed_connections_stay_in_tenant_totals() {
    let mut t = traffic().await;
    let server = &t.server;
    let addr = server.http_addr().expect("monitoring listener");
    // apub (alice) leaves; its published messages must still count.
    drop(t.clients.remove(1));
    common::eventually("apub closed", || server.connections() == 3).await;
    let acme = json(addr, "/accountz?acc=acme").await;
    assert_eq!(acme["account_detail"]["client_connections"], 1);
    assert_eq!(acme["account_detail"]["total_connections"], 2);
    assert_eq!(acme["account_detail"]["in_msgs"], N);
    assert_eq!(acme["account_detail"]["out_msgs"], 2 * N);
    let metrics = parse_metrics(&get(addr, "/metrics").await.body);
    assert_eq!(
        metrics["switchyard_in_msgs_total{tenant=\"acme\"}"],
        N as f64
    );
    assert_eq!(metrics["switchyard_connections{tenant=\"acme\"}"], 1.0);
}

/// A strict reader of the Prometheus text format (0.0.4): every sample
/// belongs to a family declared by `# HELP` and `# TYPE` before it, each
/// declared once; names and labels are well formed; values are numbers.
/// Returns `name{labels}` (labels as written) to value.
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut helped = std::collections::HashSet::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = BTreeMap::new();
    assert!(text.ends_with('\n'), "exposition ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has text");
            assert!(valid_name(name) && !help.is_empty(), "{line}");
            assert!(helped.insert(name.to_string()), "HELP twice: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert!(valid_name(name), "{line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(helped.contains(name), "HELP before TYPE: {line}");
            assert!(
                types.insert(name.into(), kind.into()).is_none(),
                "TYPE twice: {line}"
            );
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line: {line:?}"
        );
        let (series, value) = line.rsplit_once(' ').expect("sample has a value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        let name = series.split('{').next().unwrap_or_default();
        assert!(valid_name(name), "{line}");
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            let inner = labels
                .strip_prefix('{')
                .and_then(|l| l.strip_suffix('}'))
                .unwrap_or_else(|| panic!("labels in {line}"));
            for pair in inner.split("\",").filter(|p| !p.is_empty()) {
                let (k, v) = pair
                    .split_once("=\"")
                    .unwrap_or_else(|| panic!("label in {line}"));
                assert!(valid_name(k), "{line}");
                assert!(!v.trim_end_matches('"').contains('\n'), "{line}");
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "sample before its TYPE: {line}");
        assert!(
            samples.insert(series.to_string(), value).is_none(),
            "duplicate: {line}"
        );
    }
    samples
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_per_tenant_counters() {
    let t = traffic().await;
    let server = &t.server;
    let addr = server.http_addr().expect("monitoring listener");
    let r = get(addr, "/metrics").await;
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        r.content_type
    );
    let m = parse_metrics(&r.body);
    let t = |name: &str, tenant: &str| m[&format!("{name}{{tenant=\"{tenant}\"}}")];
    assert_eq!(t("switchyard_in_msgs_total", "acme"), N as f64);
    assert_eq!(
        t("switchyard_in_bytes_total", "acme"),
        (N * M as u64) as f64
    );
    assert_eq!(t("switchyard_out_msgs_total", "acme"), (2 * N) as f64);
    assert_eq!(
        t("switchyard_out_bytes_total", "acme"),
        (2 * N * M as u64) as f64
    );
    assert_eq!(t("switchyard_in_msgs_total", "globex"), G as f64);
    assert_eq!(
        t("switchyard_out_bytes_total", "globex"),
        (G * H as u64) as f64
    );
    assert_eq!(t("switchyard_connections", "acme"), 2.0);
    assert_eq!(t("switchyard_logins_total", "globex"), 2.0);
    assert_eq!(t("switchyard_subscriptions", "acme"), 2.0);
    assert_eq!(t("switchyard_slow_consumers_total", "acme"), 0.0);
    assert_eq!(m["switchyard_client_connections"], 4.0);
    assert_eq!(m["switchyard_client_connections_accepted_total"], 4.0);
    assert_eq!(
        m["switchyard_auth_failures_total{reason=\"credentials\"}"],
        0.0
    );
    for family in [
        "# TYPE switchyard_plugin_calls_total counter",
        "# TYPE switchyard_plugin_call_duration_seconds histogram",
    ] {
        assert!(r.body.contains(family), "plugin family declared: {family}");
    }

    // A failed login is counted by reason.
    let refused = async_nats::ConnectOptions::with_user_and_password("alice".into(), "nope".into())
        .connect(server.client_url())
        .await;
    assert!(refused.is_err());
    common::eventually("failed login closed", || server.connections() == 4).await;
    let m = parse_metrics(&get(addr, "/metrics").await.body);
    assert_eq!(
        m["switchyard_auth_failures_total{reason=\"credentials\"}"],
        1.0
    );
}

/// `/connz?state=closed` lists connections after they close, with when
/// and why (nats-server's reason text) and their final counters;
/// `state=any` lists both kinds, the default only live ones.
#[tokio::test]
async fn connz_lists_closed_connections_with_their_reason() {
    let (_dir, server, addr) = monitored().await;
    let stays = common::user(&server, "gina", "gina-pw").await;
    let mut leaves = common::Raw::connect(&server).await;
    let info: Value =
        serde_json::from_str(leaves.info.trim_start_matches("INFO ").trim()).expect("INFO json");
    let cid = info["client_id"].as_u64().expect("client_id");
    let (answer, _) = leaves
        .exchange(
            b"CONNECT {\"user\":\"alice\",\"pass\":\"alice-pw\",\"name\":\"leaver\",\"verbose\":false}\r\n\
              SUB jobs.> 1\r\nPUB jobs.one 1\r\nx\r\nPING\r\n",
        )
        .await;
    assert!(answer.ends_with("PONG\r\n"), "{answer}");
    tokio::io::AsyncWriteExt::shutdown(&mut leaves.stream)
        .await
        .expect("close");
    drop(leaves);

    let closed = json_eventually(addr, "/connz?state=closed", "alice's close recorded", |v| {
        v["connections"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["cid"] == cid))
    })
    .await;
    let entry = closed["connections"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["cid"] == cid))
        .expect("alice's entry");
    assert_eq!(entry["reason"], "Client Closed", "{entry}");
    assert_eq!(entry["name"], "leaver");
    assert_eq!(entry["account"], "acme");
    assert_eq!(entry["in_msgs"], 1);
    assert!(
        entry["stop"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{entry}"
    );

    let open = json(addr, "/connz").await;
    let open_cids: Vec<&Value> = open["connections"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| &c["cid"])
        .collect();
    assert!(!open_cids.contains(&&Value::from(cid)), "{open}");
    assert!(open["connections"][0].get("reason").is_none(), "{open}");
    let any = json(addr, &format!("/connz?state=any&acc=acme&cid={cid}")).await;
    assert_eq!(any["total"], 1, "{any}");
    let bad = get(addr, "/connz?state=gone").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    drop(stays);
}

/// Lame-duck mode stops accepting clients, so `/healthz` turns to 503
/// with nats-server's readiness error (its client listener is closed
/// then).
#[tokio::test]
async fn healthz_fails_in_lame_duck_mode() {
    let server = common::start_with(ServerConfig {
        http_port: Some(0),
        ..ServerConfig::default()
    })
    .await;
    let addr = server.http_addr().expect("monitoring listener");
    let before = get(addr, "/healthz").await;
    assert_eq!(before.status, 200);
    server.lame_duck().await;
    let after = get(addr, "/healthz").await;
    assert_eq!(after.status, 503);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&after.body).expect("json"),
        serde_json::json!({
            "status": "error",
            "error": "failed to be ready for connections after 1ms: server"
        })
    );
}

#[tokio::test]
async fn healthz_unknown_paths_and_bad_queries() {
    let (_dir, _server, addr) = monitored().await;
    assert_eq!(
        json(addr, "/healthz").await,
        serde_json::json!({"status": "ok"})
    );
    assert_eq!(
        json(addr, "/varz/").await["connections"],
        0,
        "trailing slash"
    );
    assert_eq!(status(addr, "/nope").await.0, 404);
    assert_eq!(status(addr, "/varz/extra").await.0, 404);
    let cases = [
        ("/connz?sort=bogus", "sort"),
        ("/connz?limit=-1", "limit"),
        ("/connz?offset=x", "offset"),
        ("/connz?subs=maybe", "subs"),
        ("/connz?acc=nope", "unknown tenant `nope`"),
        ("/accountz?acc=nope", "unknown tenant `nope`"),
        ("/subsz?subs=1&test=orders.*", "test"),
        ("/subsz?acc=%zz", "malformed query"),
    ];
    for (path, mentions) in cases {
        let (code, body) = status(addr, path).await;
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body.contains(mentions), "{path}: {body}");
    }
    // What the small HTTP server refuses, byte for byte.
    let raw = |request: String| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.write_all(request.as_bytes()).await.expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).await.expect("read");
        out
    };
    let post = raw("POST /varz HTTP/1.1\r\nHost: x\r\n\r\n".into()).await;
    assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
    assert!(post.contains("Allow: GET, HEAD\r\n"), "{post}");
    let head = raw("HEAD /healthz HTTP/1.1\r\n\r\n".into()).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "no body after HEAD: {head}");
    let huge = raw(format!("GET /varz?x={} HTTP/1.1\r\n\r\n", "y".repeat(9000))).await;
    assert!(huge.starts_with("HTTP/1.1 431 "), "{huge}");
    let garbage = raw("hello\r\n\r\n".into()).await;
    assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");

    // The counter of /varz requests shows in /varz.
    let varz = json(addr, "/varz").await;
    assert_eq!(varz["http_req_stats"]["/varz"], 2);
    assert_eq!(varz["http_req_stats"]["/healthz"], 2, "GET and HEAD");
}

#[tokio::test]
async fn monitoring_is_off_by_default_and_global_account_without_tenants() {
    let off = common::start().await;
    assert!(off.http_addr().is_none());
    let server = common::start_with(ServerConfig {
        http_port: Some(0),
        ..ServerConfig::default()
    })
    .await;
    let addr = server.http_addr().expect("monitoring listener");
    let client = common::client(&server).await;
    client.publish("a", "xyz".into()).await.unwrap();
    client.flush().await.unwrap();
    common::eventually("publish counted", || server.stats().in_msgs == 1).await;
    assert_eq!(
        json(addr, "/accountz").await["accounts"],
        serde_json::json!(["$G"])
    );
    let connz = json(addr, "/connz?acc=%24G").await;
    assert_eq!(connz["total"], 1);
    assert_eq!(connz["connections"][0]["in_bytes"], 3);
    let m = parse_metrics(&get(addr, "/metrics").await.body);
    assert_eq!(m["switchyard_in_msgs_total{tenant=\"$G\"}"], 1.0);
}

async fn sys_request(client: &async_nats::Client, subject: &str, payload: &str) -> Value {
    let msg = client
        .request(subject.to_string(), payload.to_string().into())
        .await
        .unwrap_or_else(|e| panic!("{subject}: {e}"));
    serde_json::from_slice(&msg.payload).expect("JSON answer")
}

#[tokio::test]
async fn system_account_gets_monitoring_over_nats_and_others_do_not() {
    let dir = TenantDir::new(&[("acme", ACME), ("globex", GLOBEX), ("ops", OPS)]);
    let server = common::start_with(ServerConfig {
        system_account: Some("ops".into()),
        ..dir.config()
    })
    .await;
    let admin = user(&server, "admin", "admin-pw").await;
    let alice = named(&server, "apub", "alice", "alice-pw").await;
    let _sub = alice.subscribe("jobs.>").await.unwrap();
    for _ in 0..N {
        alice.publish("jobs.x", vec![0; M].into()).await.unwrap();
    }
    alice.flush().await.unwrap();
    common::eventually("publishes counted", || server.stats().in_msgs == N).await;

    let varz = sys_request(&admin, "$SYS.REQ.SERVER.PING.VARZ", "").await;
    let id = varz["server"]["id"]
        .as_str()
        .expect("server id")
        .to_string();
    assert!(varz["server"]["seq"].as_u64().is_some());
    assert_eq!(varz["data"]["server_id"], id.as_str());
    assert_eq!(varz["data"]["connections"], 2);
    assert_eq!(varz["data"]["in_msgs"], N);
    assert_eq!(varz["data"]["system_account"], "ops");

    let connz = sys_request(
        &admin,
        "$SYS.REQ.SERVER.PING.CONNZ",
        r#"{"acc":"acme","subscriptions":true}"#,
    )
    .await;
    assert_eq!(connz["data"]["total"], 1);
    assert_eq!(connz["data"]["connections"][0]["name"], "apub");
    assert_eq!(connz["data"]["connections"][0]["in_msgs"], N);
    assert_eq!(
        connz["data"]["connections"][0]["subscriptions_list"],
        serde_json::json!(["jobs.>"])
    );

    let addressed = sys_request(&admin, &format!("$SYS.REQ.SERVER.{id}.SUBSZ"), "").await;
    assert_eq!(
        addressed["data"]["num_subscriptions"], 2,
        "alice's and admin's inbox"
    );
    let health = sys_request(&admin, &format!("$SYS.REQ.SERVER.{id}.HEALTHZ"), "").await;
    assert_eq!(health["data"]["status"], "ok");
    let bad = sys_request(&admin, "$SYS.REQ.SERVER.PING.CONNZ", r#"{"sort":"bogus"}"#).await;
    assert_eq!(bad["error"]["code"], 400);
    assert!(bad.get("data").is_none());
    let garbled = sys_request(&admin, "$SYS.REQ.SERVER.PING.CONNZ", "{not json").await;
    assert_eq!(garbled["error"]["code"], 400);

    // Another tenant's clients cannot reach the server's answers: in their
    // namespace nobody listens on $SYS.REQ.
    let err = alice
        .request("$SYS.REQ.SERVER.PING.VARZ", "".into())
        .await
        .expect_err("no answer for acme");
    assert_eq!(err.kind(), async_nats::RequestErrorKind::NoResponders);
    let err = alice
        .request(format!("$SYS.REQ.SERVER.{id}.CONNZ"), "".into())
        .await
        .expect_err("no answer for acme");
    assert_eq!(err.kind(), async_nats::RequestErrorKind::NoResponders);
}

#[tokio::test]
async fn auth_timeouts_and_tenant_limits_are_counted_by_reason() {
    let acme = ACME.replace("max_connections = 10", "max_connections = 1");
    let dir = TenantDir::new(&[("acme", &acme), ("globex", GLOBEX)]);
    let server = common::start_with(ServerConfig {
        auth_timeout: std::time::Duration::from_millis(100),
        ..dir.config()
    })
    .await;
    let failures = |reason: &str| {
        server
            .observer()
            .auth_failures()
            .into_iter()
            .find(|(r, _)| *r == reason)
            .map_or(0, |(_, n)| n)
    };
    // Connects and never sends CONNECT.
    let _silent = common::Raw::connect(&server).await;
    common::eventually("auth timeout counted", || failures("timeout") == 1).await;
    let _alice = user(&server, "alice", "alice-pw").await;
    let second =
        async_nats::ConnectOptions::with_user_and_password("arthur".into(), "arthur-pw".into())
            .connect(server.client_url())
            .await;
    assert!(second.is_err(), "acme allows one connection");
    common::eventually("tenant limit counted", || failures("account_limit") == 1).await;
    assert_eq!(failures("credentials"), 0);
}

/// The real binary: `serve --http-port 0` states where the endpoints listen.
#[tokio::test]
async fn serve_flag_turns_the_endpoints_on() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "--log-level",
            "info",
            "serve",
            "--addr",
            "127.0.0.1",
            "--port",
            "0",
            "--http-port",
            "0",
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let found = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("monitoring endpoints listening"))
    });
    let line = tokio::time::timeout(std::time::Duration::from_secs(20), found)
        .await
        .expect("log line in time")
        .expect("reader task");
    let addr: Option<SocketAddr> = line.as_deref().and_then(|l| {
        l.split("addr=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
    });
    let health = match addr {
        Some(addr) => Some(get(addr, "/healthz").await),
        None => None,
    };
    let _ = child.kill();
    let _ = child.wait();
    let health = health.unwrap_or_else(|| panic!("monitoring address in {line:?}"));
    assert_eq!(health.status, 200);
    assert!(health.body.contains("\"ok\""), "{}", health.body);
}

#[tokio::test]
async fn plugin_calls_traps_and_latency_are_reported() {
    use common::plugins::{wasm, with_cache};
    let acme = format!(
        r#"
name = "acme"
[[users]]
user = "alice"
password = "alice-pw"
[[plugins]]
name = "noop"
kind = "transform"
path = "{noop}"
subjects = ["t.>"]
[[plugins]]
name = "trap"
kind = "transform"
path = "{trap}"
subjects = ["bad.>"]
failure_policy = "fail-open"
"#,
        noop = wasm("noop_transform"),
        trap = wasm("hostile_trap"),
    );
    let dir = TenantDir::new(&[("acme", &acme), ("globex", GLOBEX)]);
    let config = ServerConfig {
        http_port: Some(0),
        ..with_cache(dir.config())
    };
    let server = common::start_with(config).await;
    let addr = server.http_addr().expect("monitoring listener");
    let client = user(&server, "alice", "alice-pw").await;
    let mut sub = client.subscribe(">").await.expect("sub");
    client.flush().await.expect("flush");
    // One message per read, so one call each.
    for subject in ["t.1", "t.2", "t.3", "bad.x"] {
        let payload = if subject == "bad.x" { "trap" } else { "ok" };
        client.publish(subject, payload.into()).await.expect("pub");
        client.flush().await.expect("flush");
        assert_eq!(next_msg(&mut sub).await.subject.as_str(), subject);
    }

    let m = parse_metrics(&get(addr, "/metrics").await.body);
    let p =
        |family: &str, plugin: &str| m[&format!("{family}{{tenant=\"acme\",plugin=\"{plugin}\"}}")];
    // Every call counts, `register` at load time included.
    assert_eq!(p("switchyard_plugin_calls_total", "noop"), 4.0);
    assert_eq!(p("switchyard_plugin_traps_total", "noop"), 0.0);
    assert_eq!(p("switchyard_plugin_calls_total", "trap"), 2.0);
    assert_eq!(p("switchyard_plugin_traps_total", "trap"), 1.0);
    assert_eq!(p("switchyard_plugin_timeouts_total", "trap"), 0.0);
    assert_eq!(p("switchyard_plugin_errors_total", "trap"), 0.0);
    let hist = "switchyard_plugin_call_duration_seconds";
    assert_eq!(p(&format!("{hist}_count"), "noop"), 4.0);
    assert!(p(&format!("{hist}_sum"), "noop") > 0.0);
    let mut buckets: Vec<(f64, f64)> = m
        .iter()
        .filter_map(|(series, value)| {
            let rest = series.strip_prefix(&format!(
                "{hist}_bucket{{tenant=\"acme\",plugin=\"noop\",le=\""
            ))?;
            let le = rest.strip_suffix("\"}")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, *value))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(buckets.len(), 11, "ten bounds and +Inf");
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative");
    assert_eq!(buckets.last().map(|b| b.1), Some(4.0));

    let detail = json(addr, "/accountz?acc=acme").await;
    let plugins = detail["account_detail"]["plugins"]
        .as_array()
        .expect("plugins listed");
    let noop = plugins.iter().find(|p| p["name"] == "noop").expect("noop");
    assert_eq!(noop["kind"], "transform");
    assert_eq!(noop["subjects"], serde_json::json!(["t.>"]));
    assert_eq!(noop["calls"], 4);
    let trap = plugins.iter().find(|p| p["name"] == "trap").expect("trap");
    assert_eq!(trap["calls"], 2);
    let globex = json(addr, "/accountz?acc=globex").await;
    assert_eq!(globex["account_detail"]["plugins"], serde_json::json!([]));
}

/// The Python with prometheus_client: `SWITCHYARD_PYTHON`, else the
/// project's `.venv` (`scripts/test.sh` installs it there).
fn python_with_prometheus_client() -> Option<std::path::PathBuf> {
    let candidate = std::env::var_os("SWITCHYARD_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
        });
    std::process::Command::new(&candidate)
        .args(["-c", "import prometheus_client"])
        .output()
        .is_ok_and(|o| o.status.success())
        .then_some(candidate)
}

/// Prometheus' own default `Accept` header (it prefers OpenMetrics).
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/// `/metrics` in both formats parses with prometheus_client's parsers:
/// the text page with the Prometheus text parser, the OpenMetrics page
/// (served when `Accept` asks for it) with the OpenMetrics parser, each
/// family declared once (before, a gauge `X` beside a counter `X_total`
/// came out as two families `X`, and the OpenMetrics parser refused the
/// page).
#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_as_openmetrics() {
    let Some(python) = python_with_prometheus_client() else {
        assert!(
            std::env::var_os("SWITCHYARD_REQUIRE_PYTHON").is_none(),
            "prometheus_client is required but not importable"
        );
        eprintln!("skipping: prometheus_client not installed (run ./scripts/test.sh)");
        return;
    };
    let t = traffic().await;
    let addr = t.server.http_addr().expect("monitoring listener");
    let dir = tempfile::tempdir().expect("tempdir");
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/parse_metrics.py");
    for (kind, accept, content_type) in [
        ("text", None, "text/plain; version=0.0.4"),
        (
            "openmetrics",
            Some(PROMETHEUS_ACCEPT),
            "application/openmetrics-text; version=1.0.0",
        ),
    ] {
        let r = get_accepting(addr, "/metrics", accept).await;
        assert_eq!(r.status, 200);
        assert!(
            r.content_type.starts_with(content_type),
            "{}",
            r.content_type
        );
        if kind == "openmetrics" {
            assert!(r.body.ends_with("# EOF\n"));
            assert!(r.body.contains("# TYPE switchyard_in_msgs counter\n"));
        }
        let page = dir.path().join(kind);
        std::fs::write(&page, &r.body).expect("write page");
        let (python, script) = (python.clone(), script.clone());
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(python)
                .arg(script)
                .arg(kind)
                .arg(page)
                .output()
        })
        .await
        .expect("join")
        .expect("python runs");
        assert!(
            out.status.success(),
            "{kind}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            r.body
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok "));
    }
}
