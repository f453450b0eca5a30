//! osc-pattern benches: compiling and matching patterns, and dispatching
//! literal addresses and patterns through an `AddressSpace` of 10, 1,000
//! and 10,000 methods shaped like `/synth/N/param`, next to a plain
//! `HashMap<String, usize>` lookup of the same literal address; and the
//! literal-address check on addresses of 5 to 64 bytes.
//!
//! Run: `cargo bench -p osc4rs-benches --bench pattern`

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use osc_pattern::{AddressSpace, Filter, MethodId, Pattern};

const PARAMS: [&str; 4] = ["freq", "amp", "pan", "gate"];
const SIZES: [usize; 3] = [10, 1_000, 10_000];
const LITERAL: &str = "/synth/1/freq";
const PATTERNS: [&str; 3] = ["/synth/*/freq", "//freq", "/synth/{1,2,3}/[a-f]*"];

/// `n` addresses: `/synth/0/freq`, `/synth/0/amp`, ... four params per synth.
fn addresses(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("/synth/{}/{}", i / PARAMS.len(), PARAMS[i % PARAMS.len()]))
        .collect()
}

fn compile_and_match(c: &mut Criterion) {
    let mut group = c.benchmark_group("pattern");
    group.bench_function("compile /synth/{1,2,3}/[a-f]*", |b| {
        b.iter(|| Pattern::new(black_box("/synth/{1,2,3}/[a-f]*")).unwrap());
    });
    let star = Pattern::new("/synth/*/freq").unwrap();
    group.bench_function("match /synth/*/freq", |b| {
        b.iter(|| black_box(&star).matches(black_box("/synth/42/freq")));
    });
    let class = Pattern::new("/synth/{1,2,3}/[a-f]*").unwrap();
    group.bench_function("match /synth/{1,2,3}/[a-f]*", |b| {
        b.iter(|| black_box(&class).matches(black_box("/synth/2/freq")));
    });
    let deep = Pattern::new("//freq").unwrap();
    group.bench_function("match //freq", |b| {
        b.iter(|| black_box(&deep).matches(black_box("/synth/42/freq")));
    });
    let filter = Filter::osc("/synth/*/freq").unwrap();
    group.bench_function("filter /synth/*/freq", |b| {
        b.iter(|| black_box(&filter).matches(black_box("/synth/42/freq")));
    });
    group.finish();
}

/// The literal-address check every incoming and every sent message makes, on
/// addresses of 5 to 64 bytes.
fn literal_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("is_literal_address");
    for address in [
        "/ping",
        "/synth/1/freq",
        "/test/here/12345",
        "/test/here/0000000000012345",
        "/mixer/channel/12/eq/band/3/gain/mixer/channel/12/eq/band/3/gai",
    ] {
        group.bench_function(format!("{} bytes", address.len()), |b| {
            b.iter(|| osc_pattern::is_literal_address(black_box(address)));
        });
    }
    group.finish();
}

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    for n in SIZES {
        let all = addresses(n);
        let mut space = AddressSpace::new();
        let mut map = HashMap::new();
        for (i, a) in all.iter().enumerate() {
            space.insert(a, i).unwrap();
            map.insert(a.clone(), i);
        }
        let mut out: Vec<(MethodId, &usize)> = Vec::with_capacity(n);

        group.bench_with_input(
            BenchmarkId::new("HashMap<String, usize> get", n),
            &n,
            |b, _| {
                b.iter(|| map.get(black_box(LITERAL)).copied());
            },
        );
        group.bench_with_input(
            BenchmarkId::new(format!("literal {LITERAL}"), n),
            &n,
            |b, _| {
                b.iter(|| {
                    space.dispatch_into(black_box(LITERAL), &mut out).unwrap();
                    out.len()
                });
            },
        );
        for source in PATTERNS {
            let pattern = Pattern::new(source).unwrap();
            space.dispatch_pattern_into(&pattern, &mut out);
            let matches = out.len();
            group.bench_with_input(
                BenchmarkId::new(format!("pattern {source} ({matches} matches)"), n),
                &n,
                |b, _| {
                    b.iter(|| {
                        space.dispatch_pattern_into(black_box(&pattern), &mut out);
                        out.len()
                    });
                },
            );
        }
        group.bench_with_input(
            BenchmarkId::new("compile+dispatch /synth/{1,2,3}/[a-f]*", n),
            &n,
            |b, _| {
                b.iter(|| {
                    space
                        .dispatch_into(black_box("/synth/{1,2,3}/[a-f]*"), &mut out)
                        .unwrap();
                    out.len()
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, compile_and_match, literal_check, dispatch);
criterion_main!(benches);
