//! Inputs built to make naive matchers take exponential time. These only
//! assert results: they pass by finishing (a backtracking matcher would not
//! finish in any reasonable time).

#![allow(clippy::unwrap_used)]

use osc_pattern::{AddressSpace, Filter, MAX_ADDRESS_PARTS, Pattern};

#[test]
fn many_stars_against_a_long_part() {
    let p = Pattern::new("/*a*a*a*a*a*a*a*a*a*a*b").unwrap();
    let a = "a".repeat(2000);
    assert!(!p.matches(&format!("/{a}")));
    assert!(p.matches(&format!("/{a}b")));
    assert!(!p.matches(&format!("/{a}/b")));
}

#[test]
fn alternatives_against_a_long_part() {
    let p = Pattern::new(&format!("/{}b", "{a,aa,aaa}".repeat(20))).unwrap();
    assert!(!p.matches(&format!("/{}", "a".repeat(2000))));
    assert!(p.matches(&format!("/{}b", "a".repeat(30))));
    let p = Pattern::new(&format!("/{}b", "*{a,aa}".repeat(20))).unwrap();
    assert!(!p.matches(&format!("/{}", "a".repeat(2000))));
}

#[test]
fn many_any_levels_against_many_parts() {
    let p = Pattern::new(&format!("{}/b", "//a".repeat(12))).unwrap();
    let deep = "/a".repeat(3000);
    assert!(!p.matches(&deep));
    assert!(p.matches(&format!("{deep}/b")));
    let p = Pattern::new(&format!("{}//b", "//*a*a*".repeat(8))).unwrap();
    assert!(!p.matches(&"/aaaa".repeat(500)));
}

#[test]
fn many_any_levels_in_the_index() {
    let mut space = AddressSpace::new();
    // A deep chain and a wide fan, all of `a`s.
    let deep = "/a".repeat(MAX_ADDRESS_PARTS);
    space.insert(&deep, ()).unwrap();
    for i in 0..MAX_ADDRESS_PARTS {
        space.insert(&"/a".repeat(i + 1), ()).unwrap();
    }
    let misses = format!("{}/b", "//a".repeat(12));
    assert!(space.dispatch(&misses).unwrap().is_empty());
    let hits = format!("{}//a", "//a".repeat(12));
    // Every address with at least 13 parts.
    assert_eq!(
        space.dispatch(&hits).unwrap().len(),
        1 + MAX_ADDRESS_PARTS - 12
    );
}

#[test]
fn filters_use_the_same_engine() {
    let f = Filter::osc("/*a*a*a*a*a*a*a*a*a*a*b").unwrap();
    assert!(!f.matches(&format!("/{}", "a".repeat(2000))));
    let f = Filter::osc4py3_prefix("/*a*a*a*a*a*a*a*a*a*a*b").unwrap();
    assert!(!f.matches(&format!("/{}", "a".repeat(2000))));
}
