//! Exports, imports and import cycles.

use super::{issues, only_issue, tenant};
use crate::config::tenants::subject_subset;

/// globex exports `orders.>` as a stream to acme only and `inv.*` as a
/// public service.
fn globex() -> String {
    tenant(
        "globex",
        "[[exports]]\nstream = \"orders.>\"\naccounts = [\"acme\"]\n\
         [[exports]]\nservice = \"inv.*\"\n",
    )
}

fn acme_importing(imports: &str) -> String {
    tenant("acme", imports)
}

#[test]
fn subject_subset_follows_wildcards() {
    for (sub, of) in [
        ("a.b", "a.b"),
        ("a.b", "a.*"),
        ("a.*", "a.*"),
        ("a.b.c", "a.>"),
        ("a.*.c", "a.>"),
        ("a.>", "a.>"),
        ("a.b.>", "a.>"),
        ("a.*", ">"),
        ("a.*.*", "*.*.*"),
    ] {
        assert!(subject_subset(sub, of), "{sub} within {of}");
    }
    for (sub, of) in [
        ("a", "a.b"),
        ("a.b", "a"),
        ("a.*", "a.b"),
        ("a.>", "a.*"),
        ("a", "a.>"),
        ("a.>", "a.b.>"),
        ("a.b", "a.c"),
    ] {
        assert!(!subject_subset(sub, of), "{sub} not within {of}");
    }
}

#[test]
fn an_export_is_either_stream_or_service() {
    let both = tenant("a", "[[exports]]\nstream = \"x\"\nservice = \"y\"\n");
    assert_eq!(
        only_issue(&[("a", &both)]),
        "tenants/a.toml: exports[0]: set either `stream` or `service`, not both"
    );
    let none = tenant("a", "[[exports]]\naccounts = []\n");
    assert_eq!(
        only_issue(&[("a", &none)]),
        "tenants/a.toml: exports[0]: needs `stream` or `service`"
    );
}

#[test]
fn export_subjects_and_accounts_must_be_valid() {
    let bad = tenant(
        "a",
        "[[exports]]\nservice = \"x..y\"\naccounts = [\"nobody\"]\n",
    );
    assert_eq!(
        issues(&[("a", &bad)]),
        [
            "tenants/a.toml: exports[0].service: `x..y` is not a valid subject: it has an empty token",
            "tenants/a.toml: exports[0].accounts[0]: no tenant named `nobody`",
        ]
    );
}

#[test]
fn stream_exports_have_no_response_settings() {
    let bad = tenant(
        "a",
        "[[exports]]\nstream = \"x\"\nresponse_type = \"stream\"\n",
    );
    assert_eq!(
        only_issue(&[("a", &bad)]),
        "tenants/a.toml: exports[0].response_type: only service exports have responses"
    );
}

#[test]
fn an_import_is_either_stream_or_service() {
    let bad = acme_importing("[[imports]]\nprefix = \"p\"\n");
    assert_eq!(
        only_issue(&[("acme", &bad), ("globex", &globex())]),
        "tenants/acme.toml: imports[0]: needs `stream` or `service`"
    );
}

#[test]
fn the_source_account_must_exist_and_be_another_tenant() {
    let bad = acme_importing("[[imports]]\nstream = { account = \"initech\", subject = \"x\" }\n");
    assert_eq!(
        only_issue(&[("acme", &bad)]),
        "tenants/acme.toml: imports[0].stream.account: no tenant named `initech`"
    );
    let own = acme_importing(
        "[[exports]]\nstream = \"x\"\n[[imports]]\nstream = { account = \"acme\", subject = \"x\" }\n",
    );
    assert_eq!(
        only_issue(&[("acme", &own)]),
        "tenants/acme.toml: imports[0].stream.account: a tenant cannot import from itself"
    );
}

#[test]
fn the_source_subject_must_be_valid() {
    let bad =
        acme_importing("[[imports]]\nstream = { account = \"globex\", subject = \"orders. x\" }\n");
    let issue = only_issue(&[("acme", &bad), ("globex", &globex())]);
    assert_eq!(
        issue,
        "tenants/acme.toml: imports[0].stream.subject: `orders. x` is not a valid subject: it contains whitespace"
    );
}

#[test]
fn imports_must_be_covered_by_an_export_of_their_kind() {
    let sub = "[[imports]]\nstream = { account = \"globex\", subject = \"orders.eu.*\" }\n";
    assert_eq!(
        issues(&[("acme", &acme_importing(sub)), ("globex", &globex())]),
        Vec::<String>::new()
    );
    let wider =
        acme_importing("[[imports]]\nservice = { account = \"globex\", subject = \"inv.>\" }\n");
    assert_eq!(
        only_issue(&[("acme", &wider), ("globex", &globex())]),
        "tenants/acme.toml: imports[0].service.subject: `globex:inv.>` is not exported by globex: no service export covers it"
    );
    let wrong_kind = acme_importing(
        "[[imports]]\nservice = { account = \"globex\", subject = \"orders.new\" }\n",
    );
    assert!(
        only_issue(&[("acme", &wrong_kind), ("globex", &globex())])
            .ends_with("(it is exported as a stream, not a service)")
    );
}

#[test]
fn imports_must_be_granted_to_the_importer() {
    let initech = tenant(
        "initech",
        "[[imports]]\nstream = { account = \"globex\", subject = \"orders.>\" }\n",
    );
    assert_eq!(
        only_issue(&[
            ("acme", &tenant("acme", "")),
            ("globex", &globex()),
            ("initech", &initech),
        ]),
        "tenants/initech.toml: imports[0].stream.subject: `globex:orders.>` is not exported to initech"
    );
}

#[test]
fn stream_imports_take_prefix_or_to() {
    let src = "[[imports]]\nstream = { account = \"globex\", subject = \"orders.>\" }\n";
    let both = acme_importing(&format!("{src}prefix = \"g\"\nto = \"g.>\"\n"));
    assert_eq!(
        only_issue(&[("acme", &both), ("globex", &globex())]),
        "tenants/acme.toml: imports[0]: a stream import takes `prefix` or `to`, not both"
    );
    let wild = acme_importing(&format!("{src}prefix = \"g.*\"\n"));
    assert_eq!(
        only_issue(&[("acme", &wild), ("globex", &globex())]),
        "tenants/acme.toml: imports[0].prefix: `g.*` must be a literal subject (no `*` or `>`)"
    );
    let bad_to = acme_importing(&format!("{src}to = \"g..x\"\n"));
    assert!(
        only_issue(&[("acme", &bad_to), ("globex", &globex())])
            .contains("imports[0].to: `g..x` is not a valid subject")
    );
}

#[test]
fn service_imports_take_a_valid_local_subject_and_no_prefix() {
    let src = "[[imports]]\nservice = { account = \"globex\", subject = \"inv.get\" }\n";
    let prefix = acme_importing(&format!("{src}prefix = \"g\"\n"));
    assert_eq!(
        only_issue(&[("acme", &prefix), ("globex", &globex())]),
        "tenants/acme.toml: imports[0].prefix: only stream imports take a prefix; use `to`"
    );
    let bad_to = acme_importing(&format!("{src}to = \"stock.>.x\"\n"));
    assert!(
        only_issue(&[("acme", &bad_to), ("globex", &globex())])
            .contains("imports[0].to: `stock.>.x` is not a valid subject")
    );
}

#[test]
fn two_service_imports_cannot_share_a_local_subject() {
    let imports = "[[imports]]\nservice = { account = \"globex\", subject = \"inv.get\" }\nto = \"stock\"\n\
                   [[imports]]\nservice = { account = \"globex\", subject = \"inv.put\" }\n\
                   [[imports]]\nservice = { account = \"globex\", subject = \"inv.list\" }\nto = \"stock\"\n";
    assert_eq!(
        only_issue(&[("acme", &acme_importing(imports)), ("globex", &globex())]),
        "tenants/acme.toml: imports[2].to: local subject `stock` is already used by the service import imports[0]"
    );
}

#[test]
fn import_cycles_are_reported_once_with_their_files() {
    let link = |name: &str, from: &str| {
        tenant(
            name,
            &format!(
                "[[exports]]\nservice = \"{name}.api\"\n[[imports]]\nservice = {{ account = \"{from}\", subject = \"{from}.api\" }}\n"
            ),
        )
    };
    let found = issues(&[
        ("a", &link("a", "b")),
        ("b", &link("b", "c")),
        ("c", &link("c", "a")),
    ]);
    assert_eq!(
        found,
        [
            "tenants/a.toml: imports[0]: import cycle: a -> b -> c -> a (via tenants/a.toml imports[0], tenants/b.toml imports[0], tenants/c.toml imports[0])"
        ]
    );
    // A chain without the closing edge is fine.
    let open = tenant("c", "[[exports]]\nservice = \"c.api\"\n");
    assert_eq!(
        issues(&[("a", &link("a", "b")), ("b", &link("b", "c")), ("c", &open)]),
        Vec::<String>::new()
    );
}

#[test]
fn an_export_transform_names_a_transform_plugin_of_the_tenant() {
    let plugins = "[[plugins]]\nname = \"redact\"\nkind = \"transform\"\npath = \"r.wasm\"\n\
                   [[plugins]]\nkind = \"routing\"\npath = \"router.wasm\"\n";
    let ok = tenant(
        "a",
        &format!("{plugins}[[exports]]\nstream = \"x.>\"\ntransform = \"redact\"\n"),
    );
    assert_eq!(issues(&[("a", &ok)]), Vec::<String>::new());
    let missing = tenant(
        "a",
        &format!("{plugins}[[exports]]\nstream = \"x.>\"\ntransform = \"nope\"\n"),
    );
    assert_eq!(
        only_issue(&[("a", &missing)]),
        "tenants/a.toml: exports[0].transform: no plugin named `nope` in this tenant"
    );
    let router = tenant(
        "a",
        &format!("{plugins}[[exports]]\nservice = \"x\"\ntransform = \"router\"\n"),
    );
    assert_eq!(
        only_issue(&[("a", &router)]),
        "tenants/a.toml: exports[0].transform: plugin `router` is not a transform"
    );
}
