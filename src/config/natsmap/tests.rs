use super::*;
use crate::config::natsconf::{Limits, parse_with};
use crate::config::tenant::{AllowResponses, ResponseType};
use std::time::Duration;

fn translate_text(text: &str) -> Result<NatsTranslation, NatsMapError> {
    let path = Path::new("/etc/nats/server.conf");
    let map = parse_with(text, path, &Limits::default(), &|_| None)?;
    translate(&map, path)
}

fn ok(text: &str) -> NatsTranslation {
    translate_text(text).unwrap_or_else(|e| panic!("{text}\n{e}"))
}

fn errors(text: &str) -> String {
    translate_text(text).expect_err(text).to_string()
}

#[test]
fn server_settings_land_in_server_config() {
    let t = ok(concat!(
        "listen: 127.0.0.1:-1\n",
        "http: 8222\n",
        "server_name: edge-1\n",
        "max_payload: 2MB\n",
        "max_pending: 64MB\n",
        "max_control_line: 8kb\n",
        "max_connections: 100\n",
        "ping_interval: \"30s\"\n",
        "ping_max: 3\n",
        "write_deadline: 5\n",
        "lame_duck_duration: \"1m30s\"\n",
        "lame_duck_grace_period: \"5s\"\n",
        "authorization { token: s3cr3t, timeout: 0.5 }\n",
        "pid_file: \"nats.pid\"\n",
        "debug: true\n",
    ));
    let c = &t.config;
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 0));
    assert_eq!(c.http_port, Some(8222));
    assert_eq!(c.server_name.as_deref(), Some("edge-1"));
    assert_eq!(c.max_payload, 2 * 1024 * 1024);
    assert_eq!(c.max_control_line, 8192);
    assert_eq!(c.max_connections, 100);
    assert_eq!(c.ping_interval, Duration::from_secs(30));
    assert_eq!(c.ping_max, 3);
    assert_eq!(c.write_deadline, Duration::from_secs(5));
    assert_eq!(c.lame_duck_duration, Duration::from_secs(90));
    assert_eq!(c.auth_timeout, Duration::from_millis(500));
    let auth = c.authorization.as_ref().unwrap();
    assert_eq!(auth.token.as_deref(), Some("s3cr3t"));
    assert!(c.inline_tenants.is_empty());
    assert_eq!(
        t.process.pid_file,
        // As nats-server: relative to the working directory, not the file.
        Some(PathBuf::from("nats.pid"))
    );
    assert!(t.process.debug);
}

#[test]
fn accounts_become_tenants() {
    let t = ok(r#"
        accounts {
          $SYS { users = [ {user: sys, password: sys} ] }
          A {
            users = [
              {user: a, password: a, permissions: {
                 publish: {allow: ["orders.>"], deny: "orders.secret"}
                 subscribe: "_INBOX.>"
                 allow_responses: {max: 2, expires: "1m"}
              }}
            ]
            exports = [
              {stream: "orders.>", accounts: [B]}
              {service: "help", response: stream, threshold: "5s"}
            ]
            mappings = { "in.*": "orders.{{wildcard(1)}}",
                         "split": [{destination: "s.a", weight: "40%"}, {destination: "s.b", weight: 60}] }
          }
          B {
            users = [ {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4} ]
            imports = [
              {stream: {account: A, subject: "orders.>"}, prefix: from_a}
              {service: {account: A, subject: help}, to: "a.help"}
            ]
          }
        }
        authorization { users = [ {user: g, password: g} ] }
        no_auth_user: g
    "#);
    let c = &t.config;
    let names: Vec<&str> = c
        .inline_tenants
        .iter()
        .map(|(_, t)| t.name.as_str())
        .collect();
    assert_eq!(names, ["G", "SYS", "A", "B"]);
    assert_eq!(c.system_account.as_deref(), Some("SYS"));
    assert_eq!(c.no_auth_user.as_deref(), Some("g"));
    let a = &c.inline_tenants[2].1;
    let perms = a.users[0].permissions.as_ref().unwrap();
    let publish = perms.publish.as_ref().unwrap();
    assert_eq!(publish.allow, ["orders.>"]);
    assert_eq!(publish.deny, ["orders.secret"]);
    assert_eq!(perms.subscribe.as_ref().unwrap().allow, ["_INBOX.>"]);
    let Some(AllowResponses::Limits(limits)) = &perms.allow_responses else {
        panic!("allow_responses")
    };
    assert_eq!((limits.max, limits.ttl), (2, Duration::from_secs(60)));
    assert_eq!(a.exports[0].accounts, ["B"]);
    assert_eq!(a.exports[1].response_type, Some(ResponseType::Stream));
    assert_eq!(
        a.exports[1].response_threshold,
        Some(Duration::from_secs(5))
    );
    assert_eq!(a.mappings[0].to.as_deref(), Some("orders.{{wildcard(1)}}"));
    let weights: Vec<u8> = a.mappings[1]
        .destinations
        .iter()
        .map(|d| d.weight)
        .collect();
    assert_eq!(weights, [40, 60]);
    let b = &c.inline_tenants[3].1;
    assert!(b.users[0].nkey.is_some());
    assert_eq!(b.imports[0].stream.as_ref().unwrap().account, "A");
    assert_eq!(b.imports[0].prefix.as_deref(), Some("from_a"));
    assert_eq!(b.imports[1].to.as_deref(), Some("a.help"));
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("`$SYS` is the tenant `SYS`")),
        "{:?}",
        t.notes
    );
}

#[test]
fn missing_features_are_reported_once_and_ignored() {
    let t = ok(concat!(
        "port: 4222\n",
        "jetstream { store_dir: /tmp/js }\n",
        "gateway { name: g1, listen: 0.0.0.0:7222 }\n",
        "websocket { port: 8080 }\n",
        "accounts { A { jetstream: enabled, users: [{user: a, password: a}] } }\n",
    ));
    assert_eq!(t.ignored.len(), 4, "{:?}", t.ignored);
    assert!(t.ignored[0].starts_with("/etc/nats/server.conf:2:1: jetstream: JetStream"));
    assert!(t.ignored[3].contains("accounts.A.jetstream"));
}

#[test]
fn unknown_keys_and_bad_values_are_all_reported_with_positions() {
    let e = errors(concat!(
        "prot: 4222\n",
        "max_payload: -5\n",
        "ping_interval: \"soon\"\n",
        "accounts { A { users: [ {user: a, pasword: x} ] } }\n",
        "tls { cert_file: a.pem }\n",
    ));
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 5, "{e}");
    assert_eq!(lines[0], "/etc/nats/server.conf:1:1: prot: unknown field");
    assert!(lines[1].starts_with("/etc/nats/server.conf:2:14: max_payload: -5 is out of range"));
    assert!(lines[2].starts_with("/etc/nats/server.conf:3:16: ping_interval: invalid duration"));
    assert!(
        lines[3].contains(":4:35: accounts.A.users[0].pasword: unknown field"),
        "{e}"
    );
    assert!(
        lines[4].contains(":5:5: tls: needs cert_file and key_file"),
        "{e}"
    );
}

#[test]
fn variables_used_as_such_are_not_unknown_keys() {
    let t = ok("PASS: hunter2\nauthorization { user: u, password: $PASS }");
    let auth = t.config.authorization.unwrap();
    assert_eq!(auth.password.as_deref(), Some("hunter2"));
}

#[test]
fn rules_shared_with_toml_files_are_checked_the_same_way() {
    // validate() of ServerConfig runs on the translation.
    let e = errors("max_payload: 10MB\nmax_pending: 1MB\n");
    assert!(
        e.contains("max_pending: must be at least max_payload"),
        "{e}"
    );
}

#[test]
fn top_level_mappings_without_users_go_through_an_anonymous_user() {
    let t = ok("mappings { \"a\": \"b\" }");
    let (_, global) = &t.config.inline_tenants[0];
    assert_eq!(global.name, "G");
    assert_eq!(global.mappings[0].to.as_deref(), Some("b"));
    assert_eq!(t.config.no_auth_user.as_deref(), Some("anonymous"));
}

#[test]
fn operator_mode_needs_the_memory_resolver() {
    let jwt = "eyJ0eXAiOiJKV1QifQ.e30.sig";
    let t = ok(&format!(
        "operator: {jwt}\nresolver: MEMORY\nresolver_preload {{ ABC: eyJa.b.c }}\nsystem_account: ABC"
    ));
    let inline = t.config.inline_operator.as_ref().unwrap();
    assert_eq!(inline.operator_jwt, jwt);
    assert_eq!(inline.account_jwts, ["eyJa.b.c"]);
    assert_eq!(t.config.system_account.as_deref(), Some("ABC"));
    let e = errors(&format!("operator: {jwt}\nresolver: URL(http://x)"));
    assert!(e.contains("only MEMORY is supported"), "{e}");
    let e = errors(&format!("operator: {jwt}"));
    assert!(e.contains("needs `resolver: MEMORY`"), "{e}");
    let e = errors("operator: missing.jwt\nresolver: MEMORY");
    assert!(
        e.contains("cannot read the operator JWT missing.jwt"),
        "{e}"
    );
    let e = errors(&format!(
        "operator: {jwt}\nresolver: MEMORY\naccounts {{ A {{}} }}"
    ));
    assert!(e.contains("accounts and users come from JWTs"), "{e}");
}

#[test]
fn client_test_suite_shapes() {
    // The shapes async-nats' own test configurations use: a space before
    // the colon, a host name in `listen`, working-directory-relative TLS
    // files, `handshake_first`, an nkey-only user list.
    let t = ok(concat!(
        "listen: localhost:4545\n",
        "tls {\n  cert_file:  \"./certs/server-cert.pem\"\n  key_file: \"./certs/server-key.pem\"\n",
        "  ca_file: \"./certs/rootCA.pem\"\n  verify :    true\n  timeout:    2\n  handshake_first: true\n}\n",
        "authorization {\n  user:     derek\n  password: porkchop\n  timeout:  1\n}\n",
    ));
    let tls = t.config.tls.as_ref().unwrap();
    assert_eq!(tls.cert_file, PathBuf::from("./certs/server-cert.pem"));
    assert!(tls.verify && tls.handshake_first);
    assert_eq!(tls.timeout, Duration::from_secs(2));
    assert_eq!((t.config.host.as_str(), t.config.port), ("localhost", 4545));
    let t = ok(
        "authorization: {\n  users: [\n    { nkey: UAFHG6FUD2UU4SDFVAFUL5LDFO2XM4WYM76UNXTPJYJK7EEMYRBHT2VE }\n  ]\n}\n",
    );
    assert!(t.config.inline_tenants[0].1.users[0].nkey.is_some());
}

#[test]
fn handshake_first_takes_a_fallback_delay() {
    // async-nats' tls_first_auto.conf: `handshake_first: 300ms` is TLS first
    // for clients that open with TLS, INFO first for the others.
    let tls_of = |value: &str| {
        let text =
            format!("tls {{ cert_file: c.pem, key_file: k.pem, handshake_first: {value} }}\n");
        let t = ok(&text);
        let tls = t.config.tls.expect("tls");
        (tls.handshake_first, tls.handshake_first_fallback)
    };
    let ms = |n| Some(Duration::from_millis(n));
    assert_eq!(tls_of("300ms"), (true, ms(300)));
    assert_eq!(tls_of("\"1s\""), (true, ms(1000)));
    assert_eq!(tls_of("auto"), (true, ms(50)));
    assert_eq!(tls_of("auto_fallback"), (true, ms(50)));
    assert_eq!(tls_of("\"0s\""), (true, None));
    assert_eq!(tls_of("true"), (true, None));
    assert_eq!(tls_of("\"on\""), (true, None));
    assert_eq!(tls_of("off"), (false, None));
    let e = errors("tls { cert_file: c.pem, key_file: k.pem, handshake_first: soon }\n");
    assert!(
        e.contains("tls.handshake_first") && e.contains("fallback delay"),
        "{e}"
    );
    assert!(errors("tls { cert_file: c.pem, key_file: k.pem, first: 5 }\n").contains("tls.first"));
}

#[test]
fn leafnodes_map_onto_the_leaf_node_port_and_remotes() {
    let t = ok(concat!(
        "accounts { A { users = [ { user: a, password: a } ] } }\n",
        "leafnodes {\n",
        "  listen: 127.0.0.1:-1\n",
        "  remotes = [\n",
        "    { url: \"nats-leaf://u:p@hub:7422\", account: A, deny_imports: [\"x.>\"] }\n",
        "    { urls: [\"tls://h1\", \"tls://h2\"], credentials: \"/c/edge.creds\",\n",
        "      tls { ca_file: \"/c/ca.pem\", handshake_first: true } }\n",
        "  ]\n",
        "}\n",
    ));
    let leaf = t.config.leafnodes.expect("leafnodes");
    assert_eq!(
        (leaf.host.as_deref(), leaf.port),
        (Some("127.0.0.1"), Some(0))
    );
    assert_eq!(leaf.remotes.len(), 2);
    assert_eq!(leaf.remotes[0].tenant.as_deref(), Some("A"));
    assert_eq!(leaf.remotes[0].deny_imports, vec!["x.>".to_string()]);
    assert_eq!(leaf.remotes[1].urls.len(), 2);
    let tls = leaf.remotes[1].tls.as_ref().expect("tls");
    assert!(tls.handshake_first);
    assert!(errors("leafnodes { remotes = [ { account: A } ] }").contains("url"));
    assert!(errors("leafnodes { remotes = [ { url: \"http://x\" } ] }").contains("scheme"));
}

#[test]
fn a_cluster_block_becomes_the_route_port_and_its_seeds() {
    let t = ok(concat!(
        "cluster {\n",
        "  name: c1\n",
        "  listen: 127.0.0.1:-1\n",
        "  routes: [ nats-route://10.0.0.2:6222, \"nats://ruser:rpass@10.0.0.3:6222\" ]\n",
        "  authorization { user: ruser, password: rpass, timeout: 2 }\n",
        "  no_advertise: true\n",
        "  connect_retries: 3\n",
        "  pool_size: 3\n",
        "}\n",
    ));
    let c = t.config.cluster.expect("cluster");
    assert_eq!(c.name.as_deref(), Some("c1"));
    assert_eq!((c.host.as_deref(), c.port), (Some("127.0.0.1"), 0));
    assert_eq!(c.routes.len(), 2);
    assert_eq!(
        (c.user.as_deref(), c.password.as_deref()),
        (Some("ruser"), Some("rpass"))
    );
    assert!(c.no_advertise);
    assert_eq!(c.connect_retries, 3);
    assert_eq!(t.ignored.len(), 2, "{:?}", t.ignored);
    let e = errors("cluster { name: c1, authorization { token: t } }\n");
    assert!(
        e.contains("Cluster authorization does not support tokens"),
        "{e}"
    );
    let e = errors("cluster { listen: 127.0.0.1:6222 }\n");
    assert!(e.contains("cluster.name: required"), "{e}");
}
