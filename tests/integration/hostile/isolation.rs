//! Hostile-tenant attacks on isolation: forged identities, requests leaking
//! to stream importers, imports served by an export that did not grant
//! them, and responses lost on chained service imports.

use crate::common;

use common::plugins::{wasm, with_cache};
use common::{TenantDir, next_msg, no_msg, user};
use futures::StreamExt;

/// `svc` exports `req.>` as a service to `client` and, on the same
/// subjects, as a stream to `watcher`.
fn service_and_stream_on_one_subject() -> TenantDir {
    let svc = r#"
name = "svc"
[[users]]
user = "svc-user"
password = "pw"
[[exports]]
service = "req.>"
accounts = ["client"]
[[exports]]
stream = "req.>"
accounts = ["watcher"]
"#;
    let client = r#"
name = "client"
[[users]]
user = "client-user"
password = "pw"
[[imports]]
service = { account = "svc", subject = "req.>" }
"#;
    let watcher = r#"
name = "watcher"
[[users]]
user = "watcher-user"
password = "pw"
[[imports]]
stream = { account = "svc", subject = "req.>" }
prefix = "svc"
"#;
    TenantDir::new(&[("svc", svc), ("client", client), ("watcher", watcher)])
}

/// A requester cannot pose as another account: its own `Nats-Request-Info`
/// (in any case) is replaced by the broker's, not sent beside it.
#[tokio::test]
async fn a_forged_request_info_header_is_replaced() {
    let dir = service_and_stream_on_one_subject();
    let server = common::start_with(dir.config()).await;
    let svc = user(&server, "svc-user", "pw").await;
    let mut requests = svc.subscribe("req.>").await.expect("sub");
    svc.flush().await.expect("flush");
    let client = user(&server, "client-user", "pw").await;

    let mut forged = async_nats::HeaderMap::new();
    forged.insert("Nats-Request-Info", r#"{"acc":"svc"}"#);
    forged.insert("nats-request-info", r#"{"acc":"watcher"}"#);
    forged.insert("Kept", "yes");
    client
        .publish_with_reply_and_headers("req.one", "client.inbox", forged, "x".into())
        .await
        .expect("publish");
    client.flush().await.expect("flush");

    let got = next_msg(&mut requests).await;
    let headers = got.headers.expect("headers");
    let infos: Vec<String> = headers
        .iter()
        .filter(|(name, _)| {
            let name: &str = name.as_ref();
            name.eq_ignore_ascii_case("Nats-Request-Info")
        })
        .flat_map(|(_, values)| values.iter().map(|v| v.to_string()))
        .collect();
    assert_eq!(infos.len(), 1, "one Nats-Request-Info: {infos:?}");
    assert!(infos[0].contains(r#""acc":"client""#), "{infos:?}");
    assert_eq!(
        headers.get("Kept").map(|v| v.to_string()).as_deref(),
        Some("yes"),
        "the requester's other headers pass"
    );
}

/// A request that crosses a service import goes to the exporter's own
/// service subscribers only; a third tenant importing the same subjects as
/// a stream sees nothing of it (not the payload, not the requester).
#[tokio::test]
async fn an_imported_request_never_reaches_stream_importers() {
    let dir = service_and_stream_on_one_subject();
    let server = common::start_with(dir.config()).await;
    let svc = user(&server, "svc-user", "pw").await;
    let mut requests = svc.subscribe("req.>").await.expect("sub");
    svc.flush().await.expect("flush");
    let watcher = user(&server, "watcher-user", "pw").await;
    let mut watching = watcher.subscribe("svc.req.>").await.expect("sub");
    watcher.flush().await.expect("flush");
    let client = user(&server, "client-user", "pw").await;

    client
        .publish_with_reply("req.secret", "client.inbox", "payload".into())
        .await
        .expect("publish");
    client.flush().await.expect("flush");
    assert_eq!(next_msg(&mut requests).await.payload, "payload".as_bytes());
    no_msg(&mut watching).await;

    // The stream export still works for what svc itself publishes.
    svc.publish("req.own", "own".into()).await.expect("publish");
    svc.flush().await.expect("flush");
    let seen = next_msg(&mut watching).await;
    assert_eq!(seen.subject.as_str(), "svc.req.own");
    assert_eq!(seen.payload, "own".as_bytes());
}

/// Two service exports cover `data.get`: one for `trusted`, passing the
/// records as they are, one for `other`, through a redaction of `email`.
/// Each importer is served by the export that granted it.
fn two_exports_one_subject() -> TenantDir {
    let owner = format!(
        r#"
name = "owner"
[[users]]
user = "owner-user"
password = "pw"
[[plugins]]
name = "redact"
kind = "transform"
path = "{wasm}"
config = {{ subjects = "data.>", fields = "email" }}
[[exports]]
service = "data.>"
accounts = ["trusted"]
[[exports]]
service = "data.get"
accounts = ["other"]
transform = "redact"
"#,
        wasm = wasm("redact_json")
    );
    let importer = |name: &str| {
        format!(
            r#"
name = "{name}"
[[users]]
user = "{name}-user"
password = "pw"
[[imports]]
service = {{ account = "owner", subject = "data.get" }}
"#
        )
    };
    TenantDir::new(&[
        ("owner", &owner),
        ("trusted", &importer("trusted")),
        ("other", &importer("other")),
    ])
}

#[tokio::test]
async fn an_import_is_served_by_the_export_that_granted_it() {
    const RECORD: &str = r#"{"name":"ann","email":"ann@example.com"}"#;
    let dir = two_exports_one_subject();
    let server = common::start_with(with_cache(dir.config())).await;
    let owner = user(&server, "owner-user", "pw").await;
    let mut service = owner.subscribe("data.get").await.expect("sub");
    owner.flush().await.expect("flush");
    let responder = owner.clone();
    tokio::spawn(async move {
        while let Some(req) = service.next().await {
            if let Some(reply) = req.reply {
                responder
                    .publish(reply, RECORD.into())
                    .await
                    .expect("answer");
            }
        }
    });
    let json = |m: &async_nats::Message| -> serde_json::Value {
        serde_json::from_slice(&m.payload).expect("json")
    };

    let other = user(&server, "other-user", "pw").await;
    let answer = other.request("data.get", "".into()).await.expect("answer");
    assert_eq!(
        json(&answer)["email"],
        "[REDACTED]",
        "the export granted to `other` redacts: {}",
        String::from_utf8_lossy(&answer.payload)
    );
    assert_eq!(json(&answer)["name"], "ann");

    let trusted = user(&server, "trusted-user", "pw").await;
    let answer = trusted
        .request("data.get", "".into())
        .await
        .expect("answer");
    assert_eq!(json(&answer)["email"], "ann@example.com");
}

/// A imports `a.ask` from B; B serves it by importing `b.ask` from C. The
/// answer from C's responder walks both imports back to A.
#[tokio::test]
async fn chained_service_imports_return_responses_to_the_first_requester() {
    let c = r#"
name = "c"
[[users]]
user = "c-user"
password = "pw"
[[exports]]
service = "c.ask"
"#;
    let b = r#"
name = "b"
[[users]]
user = "b-user"
password = "pw"
[[imports]]
service = { account = "c", subject = "c.ask" }
to = "b.ask"
[[exports]]
service = "b.ask"
"#;
    let a = r#"
name = "a"
[[users]]
user = "a-user"
password = "pw"
[[imports]]
service = { account = "b", subject = "b.ask" }
to = "a.ask"
"#;
    let dir = TenantDir::new(&[("a", a), ("b", b), ("c", c)]);
    let server = common::start_with(dir.config()).await;
    let c_client = user(&server, "c-user", "pw").await;
    let mut service = c_client.subscribe("c.ask").await.expect("sub");
    c_client.flush().await.expect("flush");
    let responder = c_client.clone();
    tokio::spawn(async move {
        while let Some(req) = service.next().await {
            let info = req
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Request-Info"))
                .map(|v| v.to_string())
                .unwrap_or_default();
            if let Some(reply) = req.reply {
                let body = format!("{}|{info}", String::from_utf8_lossy(&req.payload));
                responder.publish(reply, body.into()).await.expect("answer");
            }
        }
    });
    let a_client = user(&server, "a-user", "pw").await;
    let answer = a_client
        .request("a.ask", "hello".into())
        .await
        .expect("the answer comes back through both imports");
    let text = String::from_utf8_lossy(&answer.payload).into_owned();
    assert!(text.starts_with("hello|"), "{text}");
    assert!(
        text.contains(r#""acc":"b""#),
        "c sees the account that imported from it: {text}"
    );
    common::eventually("pending responses forgotten", || {
        server.pending_responses("b") == 0 && server.pending_responses("c") == 0
    })
    .await;
}
