//! In-process costs of the tenant rules on the publish path: permission
//! checks (unrestricted, uncached, cached) and subject mapping (no
//! mappings, three mappings).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use switchyard::config::tenant::{Permissions, SubjectRules};
use switchyard::subject::{MappingTable, SubjectMapping};
use switchyard::tenant::permissions::{CompiledPermissions, PublishCheckCache};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A realistic user: a dozen allow entries (literal and wildcard) and a
/// few denies.
fn permissions() -> CompiledPermissions {
    let p = Permissions {
        publish: Some(SubjectRules {
            allow: strings(&[
                "status",
                "heartbeat",
                "metrics.cpu",
                "metrics.mem",
                "billing.invoices.*",
                "billing.payments.*",
                "inventory.>",
                "audit.*.events",
                "_INBOX.>",
                "orders.*.*.new",
                "orders.*.*.update",
                "orders.>",
            ]),
            deny: strings(&["orders.internal.>", "inventory.admin.>", "*.secret"]),
        }),
        ..Permissions::default()
    };
    CompiledPermissions::compile(&p).unwrap_or_else(|e| panic!("{e}"))
}

fn publish_checks(c: &mut Criterion) {
    let perms = permissions();
    let open = CompiledPermissions::allow_all();
    let subject: &[u8] = b"orders.eu.customer-42.new";
    let mut group = c.benchmark_group("can_publish");
    group.bench_function("allow_all", |b| {
        b.iter(|| black_box(open.can_publish(black_box(subject))))
    });
    group.bench_function("uncached", |b| {
        b.iter(|| black_box(perms.can_publish(black_box(subject))))
    });
    let mut cache = PublishCheckCache::new();
    group.bench_function("cached", |b| {
        b.iter(|| black_box(perms.can_publish_cached(&mut cache, black_box(subject))))
    });
    group.finish();
}

fn mapping(source: &str, dest: &str) -> SubjectMapping {
    SubjectMapping::new(source, &[(dest.to_string(), 100)]).unwrap_or_else(|e| panic!("{e}"))
}

fn mappings(c: &mut Criterion) {
    let empty = MappingTable::default();
    // The benchmarked subject matches the last of the three, so `map`
    // tries all of them and renders a wildcard swap and a partition.
    let three = MappingTable::new(vec![
        mapping("legacy.orders", "orders.legacy"),
        mapping("billing.*", "finance.{{wildcard(1)}}"),
        mapping(
            "orders.*.*",
            "orders.{{partition(8,1,2)}}.{{wildcard(2)}}.{{wildcard(1)}}",
        ),
    ]);
    let subject: &[u8] = b"orders.eu.customer-42";
    let mut group = c.benchmark_group("mapping_table");
    group.bench_function("0_mappings", |b| {
        b.iter(|| black_box(empty.map(black_box(subject))))
    });
    group.bench_function("3_mappings_hit_last", |b| {
        b.iter(|| black_box(three.map(black_box(subject))))
    });
    group.bench_function("3_mappings_miss", |b| {
        b.iter(|| black_box(three.map(black_box(b"inventory.eu.item"))))
    });
    group.finish();
}

criterion_group!(benches, publish_checks, mappings);
criterion_main!(benches);
