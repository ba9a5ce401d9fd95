//! `$SYS.REQ.SERVER.PING`, `$SYS.REQ.SERVER.PING.STATSZ` and
//! `$SYS.REQ.USER.INFO`, asked of nats-server 2.15.1 and of Switchyard
//! started from the same nats-server configuration file, with async-nats:
//! the replies have the same keys (values differ: ids, times, counters).

use crate::common;

use common::nats_server::{NatsServer, bin_or_skip};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use switchyard::config::natsmap;

const CONFIG: &str = r#"
listen: 127.0.0.1:-1
accounts {
  SYS { users [ { user: admin, password: pw } ] }
  APP {
    users [
      { user: a, password: pw,
        permissions: { publish: { allow: ["foo.>", "$SYS.REQ.USER.INFO"], deny: ["foo.secret"] },
                       subscribe: ["_INBOX.>"],
                       allow_responses: { max: 3, expires: "5s" } } }
      { user: b, password: pw }
    ]
  }
}
system_account: SYS
"#;

/// Every key path of `v` (`server.id`, `data.permissions.publish.allow`),
/// not looking inside `feature_flags` (nats-server's JetStream flags) or
/// arrays.
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let Value::Object(map) = v {
        for (k, child) in map {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if k != "feature_flags" {
                key_paths(child, &path, out);
            }
            out.insert(path);
        }
    }
}

/// The replies to the three requests: (admin's ping, admin's statsz,
/// admin's user info, a's user info, b's user info).
async fn ask(url: &str) -> Vec<Value> {
    let login = |user: &'static str| async move {
        async_nats::ConnectOptions::with_user_and_password(user.into(), "pw".into())
            .connect(url)
            .await
            .unwrap_or_else(|e| panic!("{user} connects to {url}: {e}"))
    };
    let admin = login("admin").await;
    let a = login("a").await;
    let b = login("b").await;
    let mut out = Vec::new();
    let requests = [
        (&admin, "$SYS.REQ.SERVER.PING"),
        (&admin, "$SYS.REQ.SERVER.PING.STATSZ"),
        (&admin, "$SYS.REQ.USER.INFO"),
        (&a, "$SYS.REQ.USER.INFO"),
        (&b, "$SYS.REQ.USER.INFO"),
    ];
    for (client, subject) in requests {
        let reply =
            tokio::time::timeout(Duration::from_secs(5), client.request(subject, "".into()))
                .await
                .unwrap_or_else(|_| panic!("{subject} answered in time by {url}"))
                .unwrap_or_else(|e| panic!("{subject} to {url}: {e}"));
        out.push(serde_json::from_slice(&reply.payload).expect("JSON reply"));
    }
    out
}

#[tokio::test]
async fn server_ping_statsz_and_user_info_have_nats_server_keys() {
    let Some(bin) = bin_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.conf");
    std::fs::write(&path, CONFIG).expect("write config");

    let reference = NatsServer::start(&bin, &path);
    let want = ask(&reference.url).await;

    let translation = natsmap::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let server = switchyard::Server::start(translation.config)
        .await
        .expect("server starts");
    let got = ask(&format!("nats://{}", server.local_addr())).await;

    let names = [
        "PING",
        "PING.STATSZ",
        "admin USER.INFO",
        "a USER.INFO",
        "b USER.INFO",
    ];
    for ((name, want), got) in names.iter().zip(&want).zip(&got) {
        let (mut w, mut g) = (BTreeSet::new(), BTreeSet::new());
        key_paths(want, "", &mut w);
        key_paths(got, "", &mut g);
        assert_eq!(
            g, w,
            "{name}: Switchyard's keys (left) differ from nats-server's (right)\n\
             Switchyard: {got}\nnats-server: {want}"
        );
    }

    // The values that are not per-server.
    let statsz = &got[1]["statsz"];
    assert_eq!(statsz["connections"], 3);
    assert_eq!(statsz["active_servers"], 1);
    assert!(statsz["cpu"].as_f64().is_some_and(|c| c >= 0.0));
    assert_eq!(got[0]["server"]["ver"], "2.15.1");
    for (reply, user, account) in [(&got[2], "admin", "SYS"), (&got[3], "a", "APP")] {
        assert_eq!(reply["data"]["user"], user);
        assert_eq!(reply["data"]["account"], account);
        assert_eq!(reply["data"]["account_name"], account);
    }
    // nats-server lists a user's allow entries in no fixed order (it
    // collects them from a map): compare them as sets.
    assert_eq!(
        sorted_lists(&got[3]["data"]["permissions"]),
        sorted_lists(&want[3]["data"]["permissions"]),
        "a's permissions as nats-server shows them"
    );

    for url in [
        reference.url.clone(),
        format!("nats://{}", server.local_addr()),
    ] {
        filtered_statsz(&url).await;
    }
}

/// A statsz request whose filter leaves the server out gets no reply; one
/// that matches gets one; options that are not JSON get a 400 error.
async fn filtered_statsz(url: &str) {
    use futures::StreamExt;
    let admin = async_nats::ConnectOptions::with_user_and_password("admin".into(), "pw".into())
        .connect(url)
        .await
        .expect("admin connects");
    let mut replies = admin.subscribe("_INBOX.f.>").await.expect("subscribe");
    let statsz = "$SYS.REQ.SERVER.PING.STATSZ";
    for (reply, filter) in [
        ("_INBOX.f.a", r#"{"server_name":"no-such-server"}"#),
        ("_INBOX.f.b", r#"{"tags":["no-such-tag"]}"#),
        ("_INBOX.f.c", r#"{"host":"127.0.0.1","exact":true}"#),
        ("_INBOX.f.d", "not json"),
    ] {
        admin
            .publish_with_reply(statsz, reply, filter.into())
            .await
            .expect("publish");
    }
    admin.flush().await.expect("flush");
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(5), replies.next())
            .await
            .unwrap_or_else(|_| panic!("a statsz reply from {url}"))
            .expect("subscription open")
    };
    // Answered in order: had a or b been answered, they would come first.
    let matched = next().await;
    assert_eq!(matched.subject.as_str(), "_INBOX.f.c", "{url}");
    let bad = next().await;
    assert_eq!(bad.subject.as_str(), "_INBOX.f.d", "{url}");
    let bad: Value = serde_json::from_slice(&bad.payload).expect("JSON");
    assert_eq!(bad["error"]["code"], 400, "{url}: {bad}");
}

/// `v` with every array sorted, so lists compare as sets.
fn sorted_lists(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Array(items) => {
            let mut items: Vec<_> = items.iter().map(sorted_lists).collect();
            items.sort_by_key(|i| i.to_string());
            serde_json::Value::Array(items)
        }
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), sorted_lists(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
