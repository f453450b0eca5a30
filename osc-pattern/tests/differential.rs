//! Differential property tests: the compiled matcher against a tiny,
//! obviously correct (and exponential) reference matcher, and the index
//! against a linear scan of the registered methods.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use osc_pattern::{AddressSpace, Filter, MethodId, Pattern, is_literal_address};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Reference matcher: the rules of docs/patterns.md, written as directly as
// possible. Only called on patterns that `Pattern::new` accepted.

enum Level<'a> {
    Part(&'a str),
    AnyLevels,
}

fn reference(pattern: &str, address: &str) -> bool {
    let (Some(p), Some(a)) = (pattern.strip_prefix('/'), address.strip_prefix('/')) else {
        return false;
    };
    let raw: Vec<&str> = p.split('/').collect();
    let mut levels = Vec::new();
    for (i, part) in raw.iter().enumerate() {
        if !part.is_empty() {
            levels.push(Level::Part(part));
        } else if i + 1 < raw.len() {
            levels.push(Level::AnyLevels);
        } // else: the empty text after a trailing `//`
    }
    let parts: Vec<&str> = a.split('/').collect();
    match_levels(&levels, &parts)
}

fn match_levels(levels: &[Level<'_>], parts: &[&str]) -> bool {
    match levels.split_first() {
        None => parts.is_empty(),
        Some((Level::AnyLevels, rest)) => {
            match_levels(rest, parts) || (!parts.is_empty() && match_levels(levels, &parts[1..]))
        }
        Some((Level::Part(p), rest)) => {
            !parts.is_empty()
                && match_part(
                    &p.chars().collect::<Vec<_>>(),
                    &parts[0].chars().collect::<Vec<_>>(),
                )
                && match_levels(rest, &parts[1..])
        }
    }
}

fn match_part(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') => (0..=s.len()).any(|k| match_part(&p[1..], &s[k..])),
        Some('?') => !s.is_empty() && match_part(&p[1..], &s[1..]),
        Some('[') => {
            let close = p.iter().position(|&c| c == ']').unwrap();
            let body = &p[1..close];
            let (negated, body) = match body.first() {
                Some('!') => (true, &body[1..]),
                _ => (false, body),
            };
            match s.first() {
                Some(&c) => {
                    class_contains(body, c) != negated && match_part(&p[close + 1..], &s[1..])
                }
                None => false,
            }
        }
        Some('{') => {
            let close = p.iter().position(|&c| c == '}').unwrap();
            p[1..close]
                .split(|&c| c == ',')
                .any(|alt| s.starts_with(alt) && match_part(&p[close + 1..], &s[alt.len()..]))
        }
        Some(&c) => s.first() == Some(&c) && match_part(&p[1..], &s[1..]),
    }
}

fn class_contains(body: &[char], c: char) -> bool {
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            if body[i] <= c && c <= body[i + 2] {
                return true;
            }
            i += 3;
        } else {
            if body[i] == c {
                return true;
            }
            i += 1;
        }
    }
    false
}

// ---------------------------------------------------------------------------
// Generators.

/// Any text over the pattern alphabet, after a `/`.
fn noise() -> impl Strategy<Value = String> {
    "[ab/*?\\[\\]!{},-]{0,12}".prop_map(|s| format!("/{s}"))
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop_oneof![Just("a"), Just("b"), Just("ab"), Just("-"), Just("!")]
            .prop_map(str::to_string),
        2 => Just("?".to_string()),
        3 => Just("*".to_string()),
        2 => (
            any::<bool>(),
            prop::collection::vec(
                prop_oneof![Just("a"), Just("b"), Just("-"), Just("a-b"), Just("!"), Just("b-a")],
                1..4
            )
        )
            .prop_map(|(neg, items)| format!("[{}{}]", if neg { "!" } else { "" }, items.concat())),
        2 => prop::collection::vec(prop_oneof![Just("a"), Just("b"), Just("ab"), Just("")], 1..4)
            .prop_map(|alts| format!("{{{}}}", alts.join(","))),
    ]
}

/// A level: a part made of tokens, or empty (which makes `//`).
fn level() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::collection::vec(token(), 1..4).prop_map(|t| t.concat()),
        1 => Just(String::new()),
    ]
}

/// Mostly well-formed patterns.
fn pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(level(), 1..5).prop_map(|levels| format!("/{}", levels.join("/")))
}

/// Addresses over a small alphabet (parts may be empty: the matcher takes
/// any text).
fn address() -> impl Strategy<Value = String> {
    prop::collection::vec("[ab!-]{0,4}", 1..5).prop_map(|parts| format!("/{}", parts.join("/")))
}

/// Valid literal addresses over a small set of names, so that they share
/// branches of the index.
fn literal_address() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("ab"),
            Just("ba"),
            Just("-"),
            Just("!a")
        ],
        1..5,
    )
    .prop_map(|parts| format!("/{}", parts.join("/")))
}

/// Patterns that start with literal parts (compared as one head) at the edges: a
/// head followed by `//`, by nothing, by a wildcard part; addresses that stop inside
/// the head, right after it, or run past it.
#[test]
fn literal_heads_agree_with_reference() {
    let patterns = [
        "/a/*",
        "/a/b/*",
        "/a/b/c*",
        "/a//",
        "/a//b",
        "/a/b//*",
        "/a/?",
        "/ab/a/{a,b}",
        "/a/b/[ab]/c",
        "/a/*/c",
    ];
    let addresses = [
        "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/b/cd", "/a/b/c/d", "/ab/a/b", "/a/x/c",
        "/a/b/a/c", "/a/bc", "/ab", "/", "",
    ];
    for p in patterns {
        let compiled = Pattern::new(p).unwrap();
        for a in addresses {
            assert_eq!(
                compiled.matches(a),
                reference(p, a),
                "pattern {p:?} address {a:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn matcher_agrees_with_reference(p in pattern(), a in address()) {
        if let Ok(compiled) = Pattern::new(&p) {
            prop_assert_eq!(compiled.matches(&a), reference(&p, &a), "pattern {:?} address {:?}", p, a);
        }
    }

    #[test]
    fn matcher_agrees_with_reference_on_noise(p in prop_oneof![noise(), pattern()], a in prop_oneof![noise(), address()]) {
        if let Ok(compiled) = Pattern::new(&p) {
            prop_assert_eq!(compiled.matches(&a), reference(&p, &a), "pattern {:?} address {:?}", p, a);
        }
    }

    #[test]
    fn prefix_filter_agrees_with_reference(p in pattern(), a in literal_address()) {
        // osc4py3 semantics: the pattern matches some prefix of the address.
        if let Ok(filter) = Filter::osc4py3_prefix(&p) {
            let want = a.char_indices().map(|(i, _)| i).chain([a.len()])
                .any(|end| reference(&p, &a[..end]));
            prop_assert_eq!(filter.matches(&a), want, "pattern {:?} address {:?}", p, a);
        }
    }

    #[test]
    fn for_each_match_agrees_with_dispatch_into(
        addresses in prop::collection::vec(literal_address(), 0..8),
        filters in prop::collection::vec(prop_oneof![pattern(), noise()], 1..4),
        incoming in prop::collection::vec(
            prop_oneof![
                "[ab/ #*?{},]{0,8}".prop_map(|s| format!("/{s}")),
                literal_address(),
            ],
            1..8,
        ),
    ) {
        // `for_each_match` learns whether an address is literal from the filters that
        // match it; `dispatch_into` asks first. Incoming text with reserved bytes
        // (space, `#`), pattern characters and empty parts.
        let mut space = AddressSpace::new();
        for a in &addresses {
            space.insert(a, a.clone()).unwrap();
        }
        for f in &filters {
            if let Ok(filter) = Filter::osc(f) {
                space.insert_filter(filter, f.clone());
            }
        }
        let mut out = Vec::new();
        for inc in &incoming {
            let want = space.dispatch_into(inc, &mut out).map(|()| {
                out.iter().map(|(id, _)| *id).collect::<Vec<MethodId>>()
            });
            let mut visited = Vec::new();
            let got = space.for_each_match(inc, |id, _| visited.push(id)).map(|()| visited);
            prop_assert_eq!(got.is_ok(), want.is_ok(), "incoming {:?}", inc);
            if let (Ok(got), Ok(want)) = (got, want) {
                prop_assert_eq!(got, want, "incoming {:?}", inc);
            }
        }
    }

    #[test]
    fn index_agrees_with_linear_scan(
        addresses in prop::collection::vec(literal_address(), 0..24),
        filters in prop::collection::vec(pattern(), 0..4),
        removals in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        incoming in prop::collection::vec(prop_oneof![pattern(), literal_address()], 1..8),
    ) {
        let mut space = AddressSpace::new();
        // (id, registered text, is a filter)
        let mut registered: Vec<(MethodId, String, bool)> = Vec::new();
        for a in &addresses {
            let id = space.insert(a, a.clone()).unwrap();
            registered.push((id, a.clone(), false));
        }
        for f in &filters {
            if let Ok(filter) = Filter::osc(f) {
                let id = space.insert_filter(filter, f.clone());
                registered.push((id, f.clone(), true));
            }
        }
        for r in &removals {
            if registered.is_empty() {
                break;
            }
            let (id, text, _) = registered.remove(r.index(registered.len()));
            prop_assert_eq!(space.remove(id), Some(text));
        }
        prop_assert_eq!(space.len(), registered.len());
        // Re-register a few: ids keep growing and order stays by registration.
        for a in addresses.iter().take(2) {
            let id = space.insert(a, a.clone()).unwrap();
            registered.push((id, a.clone(), false));
        }
        let mut out = Vec::new();
        for inc in &incoming {
            let compiled = Pattern::new(inc);
            let literal = is_literal_address(inc);
            let want: Vec<MethodId> = registered
                .iter()
                .filter(|(_, text, is_filter)| match (literal, *is_filter) {
                    (true, false) => text == inc,
                    (true, true) => Pattern::new(text).unwrap().matches(inc),
                    (false, false) => compiled.as_ref().is_ok_and(|p| p.matches(text)),
                    (false, true) => false,
                })
                .map(|(id, _, _)| *id)
                .collect();
            match space.dispatch_into(inc, &mut out) {
                Ok(()) => {
                    let got: Vec<MethodId> = out.iter().map(|(id, _)| *id).collect();
                    prop_assert_eq!(&got, &want, "incoming {:?}", inc);
                }
                Err(_) => prop_assert!(compiled.is_err() && !literal),
            }
            let mut visited = Vec::new();
            match space.for_each_match(inc, |id, _| visited.push(id)) {
                Ok(()) => prop_assert_eq!(visited, want, "incoming {:?}", inc),
                Err(_) => prop_assert!(compiled.is_err() && !literal),
            }
        }
    }
}
