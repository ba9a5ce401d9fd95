//! In-process costs of the hot path: parsing PUB frames, matching subjects
//! (cold trie walk and cached), and encoding MSG frames.

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use switchyard::protocol::{Limits, Op, encode_msg, parse};
use switchyard::subject::{MatchCache, SubscriptionIndex};

fn pub_frames(count: usize, size: usize) -> Vec<u8> {
    let payload = vec![b'x'; size];
    let mut out = Vec::new();
    for _ in 0..count {
        out.extend_from_slice(format!("PUB bench.subject.{} {}\r\n", count % 7, size).as_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn parser(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_pub");
    for size in [16usize, 1024] {
        let frames = pub_frames(1000, size);
        group.throughput(Throughput::Elements(1000));
        group.bench_with_input(BenchmarkId::from_parameter(size), &frames, |b, frames| {
            let limits = Limits::default();
            b.iter(|| {
                let mut at = 0;
                let mut n = 0;
                while let Ok(Some((op, used))) = parse(&frames[at..], &limits) {
                    if let Op::Pub { payload, .. } = op {
                        n += payload.len();
                    }
                    at += used;
                }
                black_box(n)
            })
        });
    }
    group.finish();
}

fn index() -> SubscriptionIndex<u32> {
    let idx = SubscriptionIndex::new();
    for i in 0..1000u32 {
        idx.insert(
            format!("tenant.{}.orders.{}", i % 10, i).as_bytes(),
            None,
            i,
        );
    }
    idx.insert(b"tenant.*.orders.>", None, 5000);
    idx.insert(b"tenant.>", Some(&Bytes::from_static(b"audit")), 6000);
    idx
}

fn matching(c: &mut Criterion) {
    let idx = index();
    let mut group = c.benchmark_group("match");
    group.bench_function("trie_walk", |b| {
        b.iter(|| black_box(idx.match_subject(black_box(b"tenant.3.orders.503"))))
    });
    let mut cache = MatchCache::default();
    group.bench_function("cached", |b| {
        b.iter(|| {
            black_box(
                cache
                    .lookup(&idx, black_box(b"tenant.3.orders.503"))
                    .plain
                    .len(),
            )
        })
    });
    group.finish();
}

fn encoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_msg");
    for size in [16usize, 1024] {
        let payload = vec![b'x'; size];
        let mut buf = BytesMut::with_capacity(1 << 20);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(size), &payload, |b, payload| {
            b.iter(|| {
                if buf.len() > (1 << 19) {
                    buf.clear();
                }
                encode_msg(&mut buf, b"bench.subject", b"42", None, payload);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parser, matching, encoding);
criterion_main!(benches);
