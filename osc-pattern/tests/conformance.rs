//! Runs every case of `testdata/patterns/patterns.txt` (workspace root) (format documented at the
//! top of that file) against the matcher and against the index.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use osc_pattern::{AddressSpace, Filter, FilterKind, Pattern, PatternError};

const VECTORS: &str = include_str!("../../testdata/patterns/patterns.txt");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Match,
    NoMatch,
    Error(Option<usize>),
}

#[derive(Debug)]
struct Case<'a> {
    line: usize,
    direction: &'a str,
    pattern: &'a str,
    address: &'a str,
    expected: Expected,
}

fn cases() -> Vec<Case<'static>> {
    let mut cases = Vec::new();
    for (n, line) in VECTORS.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [direction, pattern, address, expected] = fields.as_slice() else {
            panic!("line {}: expected 4 TAB-separated fields: {line:?}", n + 1);
        };
        let expected = match *expected {
            "match" => Expected::Match,
            "nomatch" => Expected::NoMatch,
            "error" => Expected::Error(None),
            other => {
                let offset = other
                    .strip_prefix("error@")
                    .and_then(|o| o.parse().ok())
                    .unwrap_or_else(|| panic!("line {}: bad expectation {other:?}", n + 1));
                Expected::Error(Some(offset))
            }
        };
        let pattern = if *pattern == "(empty)" { "" } else { pattern };
        cases.push(Case {
            line: n + 1,
            direction,
            pattern,
            address,
            expected,
        });
    }
    cases
}

fn check_error(case: &Case<'_>, err: &PatternError, offset: Option<usize>) {
    if offset.is_some() {
        assert_eq!(
            err.offset(),
            offset,
            "line {}: {:?} gave {err:?} ({err})",
            case.line,
            case.pattern
        );
    }
    // Every error explains itself.
    assert!(!err.to_string().is_empty());
}

/// Spec direction: `Pattern::matches`, the same pair through a filter (the
/// two directions agree on literal addresses), and the index.
fn run_spec(case: &Case<'_>) {
    let compiled = Pattern::new(case.pattern);
    let mut space = AddressSpace::new();
    let decoy = space.insert("/zz/decoy/9", ()).unwrap();
    match (case.expected, compiled) {
        (Expected::Error(offset), Err(err)) => {
            check_error(case, &err, offset);
            let dispatched = space.dispatch(case.pattern);
            let err = dispatched.expect_err(&format!("line {}: index accepted it", case.line));
            check_error(case, &err, offset);
        }
        (Expected::Error(_), Ok(_)) => {
            panic!("line {}: {:?} was accepted", case.line, case.pattern)
        }
        (_, Err(err)) => panic!("line {}: {:?} rejected: {err}", case.line, case.pattern),
        (expected, Ok(pattern)) => {
            let want = expected == Expected::Match;
            assert_eq!(
                pattern.matches(case.address),
                want,
                "line {}: matcher, {case:?}",
                case.line
            );
            let filter = Filter::osc(case.pattern).unwrap();
            assert_eq!(
                filter.matches(case.address),
                want,
                "line {}: filter engine",
                case.line
            );
            let id = space.insert(case.address, ()).unwrap();
            let got = space.dispatch(case.pattern).unwrap();
            let mut want_ids = Vec::new();
            if pattern.matches("/zz/decoy/9") {
                want_ids.push(decoy);
            }
            if want {
                want_ids.push(id);
            }
            let got_ids: Vec<_> = got.iter().map(|(id, _)| *id).collect();
            assert_eq!(got_ids, want_ids, "line {}: index, {case:?}", case.line);
        }
    }
}

/// Filter directions: `Filter::matches` and the index.
fn run_filter(case: &Case<'_>, kind: FilterKind) {
    match (case.expected, Filter::new(case.pattern, kind)) {
        (Expected::Error(offset), Err(err)) => check_error(case, &err, offset),
        (Expected::Error(_), Ok(_)) => {
            panic!("line {}: {:?} was accepted", case.line, case.pattern)
        }
        (_, Err(err)) => panic!("line {}: {:?} rejected: {err}", case.line, case.pattern),
        (expected, Ok(filter)) => {
            let want = expected == Expected::Match;
            assert_eq!(
                filter.matches(case.address),
                want,
                "line {}: filter, {case:?}",
                case.line
            );
            let mut space = AddressSpace::new();
            let id = space.insert_filter(filter, ());
            let got = space.dispatch(case.address).unwrap();
            let got_ids: Vec<_> = got.iter().map(|(id, _)| *id).collect();
            let want_ids = if want { vec![id] } else { vec![] };
            assert_eq!(got_ids, want_ids, "line {}: index, {case:?}", case.line);
        }
    }
}

#[test]
fn conformance_table() {
    let cases = cases();
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    let mut ran = 0;
    for case in &cases {
        match case.direction {
            "spec" => run_spec(case),
            "filter" => run_filter(case, FilterKind::Osc),
            "prefix" => run_filter(case, FilterKind::Osc4py3Prefix),
            #[cfg(feature = "regex")]
            "regex" => run_filter(case, FilterKind::Regex),
            #[cfg(not(feature = "regex"))]
            "regex" => continue,
            other => panic!("line {}: unknown direction {other:?}", case.line),
        }
        ran += 1;
    }
    let regex_cases = cases.iter().filter(|c| c.direction == "regex").count();
    let expected_ran = if cfg!(feature = "regex") {
        cases.len()
    } else {
        cases.len() - regex_cases
    };
    assert_eq!(ran, expected_ran);
}

#[test]
fn table_covers_every_direction_and_outcome() {
    let cases = cases();
    for direction in ["spec", "filter", "prefix", "regex"] {
        for outcome in [Expected::Match, Expected::NoMatch] {
            assert!(
                cases
                    .iter()
                    .any(|c| c.direction == direction && c.expected == outcome),
                "no {direction} {outcome:?} case"
            );
        }
        assert!(
            cases
                .iter()
                .any(|c| c.direction == direction && matches!(c.expected, Expected::Error(_))),
            "no {direction} error case"
        );
    }
}
