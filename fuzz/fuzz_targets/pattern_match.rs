//! Differential target for osc-pattern: the input is `pattern NUL address`.
//! Compiling never panics; when it succeeds, `Pattern::matches`, an OSC
//! filter, and the `AddressSpace` index (both dispatch entry points) must
//! agree on whether the pattern selects the address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osc_pattern::{AddressSpace, Filter, Pattern, is_literal_address};

fuzz_target!(|data: &[u8]| {
    let mut halves = data.splitn(2, |&b| b == 0);
    let (Some(pattern), Some(address)) = (halves.next(), halves.next()) else {
        return;
    };
    let (Ok(pattern), Ok(address)) = (std::str::from_utf8(pattern), std::str::from_utf8(address))
    else {
        return;
    };
    // The prefix filter must not panic either.
    let _ = Filter::osc4py3_prefix(pattern).map(|f| f.matches(address));
    let Ok(compiled) = Pattern::new(pattern) else {
        return;
    };
    let matched = compiled.matches(address);
    if !is_literal_address(address) {
        return;
    }
    let filter = Filter::osc(pattern).expect("same syntax as Pattern::new");
    assert_eq!(filter.matches(address), matched, "filter vs matcher");

    let mut space = AddressSpace::new();
    // A literal address registers unless it is deeper than MAX_ADDRESS_PARTS.
    let Ok(id) = space.insert(address, ()) else {
        assert!(address.split('/').count() - 1 > osc_pattern::MAX_ADDRESS_PARTS);
        return;
    };
    let mut out = Vec::new();
    space.dispatch_pattern_into(&compiled, &mut out);
    let found = out.iter().any(|(i, _)| *i == id);
    assert_eq!(found, matched, "index vs matcher");
    assert!(out.len() <= 1);
    space
        .dispatch_into(pattern, &mut out)
        .expect("a compiled pattern dispatches");
    assert_eq!(out.iter().any(|(i, _)| *i == id), matched, "dispatch_into vs matcher");
});
