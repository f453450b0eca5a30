//! Open Sound Control address patterns, registered filters and a dispatch
//! index: who matches, in both directions, correctly and fast.
//!
//! ```
//! use osc_pattern::{AddressSpace, Filter, Pattern};
//!
//! // A pattern is compiled once and matched without allocating.
//! let p = Pattern::new("/synth/{1,2}/[a-f]*")?;
//! assert!(p.matches("/synth/2/freq"));
//! assert!(!p.matches("/synth/3/freq"));
//!
//! let mut space = AddressSpace::new();
//! // Spec dispatch (OSC 1.0): methods at literal addresses, incoming patterns.
//! let freq = space.insert("/synth/1/freq", "set freq")?;
//! let amp = space.insert("/synth/1/amp", "set amp")?;
//! assert_eq!(space.dispatch("/synth/*/freq")?, vec![(freq, &"set freq")]);
//! assert_eq!(space.dispatch("//amp")?, vec![(amp, &"set amp")]);
//!
//! // Registered filters (opt-in): a method registered with a pattern selects
//! // the literal incoming addresses it matches.
//! let log = space.insert_filter(Filter::osc("/synth/*/*")?, "log");
//! assert_eq!(
//!     space.dispatch("/synth/1/amp")?,
//!     vec![(amp, &"set amp"), (log, &"log")]
//! );
//! assert_eq!(space.dispatch("/synth/9/pan")?, vec![(log, &"log")]);
//!
//! // osc4py3's prefix semantics, only when asked for.
//! let compat = Filter::osc4py3_prefix("/test")?;
//! assert!(compat.matches("/testing") && compat.matches("/test/x/y"));
//! # Ok::<(), osc_pattern::PatternError>(())
//! ```
//!
//! # The rule when patterns meet patterns
//!
//! OSC leaves undefined what happens when a wildcard pattern arrives at a
//! method that was itself registered with a pattern. osc-pattern defines it:
//!
//! - an incoming address that is a literal address ([`is_literal_address`])
//!   selects the methods registered at exactly that address **and** every
//!   registered [`Filter`] that matches it;
//! - an incoming address with pattern syntax selects every method registered
//!   at a literal address that it matches, and **no** filter.
//!
//! So every selection compares one pattern with one literal address, which
//! is always well defined.
//!
//! # Input safety
//!
//! - Matching never backtracks exponentially: a part with wildcards is
//!   matched by a bitset automaton (O(characters × states)); `//` is matched
//!   with the two-pointer algorithm over parts (O(parts × levels)). A part
//!   may compile to at most [`MAX_PART_STATES`] states, otherwise
//!   [`PatternError::TooComplex`].
//! - Matching and literal dispatch allocate nothing (dispatch writes into a
//!   caller's `Vec`).
//! - Registered addresses have at most [`MAX_ADDRESS_PARTS`] parts, which
//!   bounds the recursion of a pattern walk in the index.
//! - Malformed input is an error with a byte offset, never a panic.
//!
//! # Features
//!
//! - `regex`: `FilterKind::Regex`, filters written as regular expressions
//!   (the `regex` crate, linear time).
//!
//! The precise matching rules, and how they differ from osc4py3, liblo,
//! python-osc and rosc, are in `docs/patterns.md`.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod address;
mod error;
mod filter;
mod nfa;
mod parse;
mod pattern;
mod simd;
mod space;

pub use address::{RESERVED_ADDRESS_CHARS, is_literal_address, validate_address};
pub use error::PatternError;
pub use filter::{Filter, FilterKind, MethodFilter};
pub use nfa::MAX_PART_STATES;
pub use pattern::Pattern;
pub use space::{AddressSpace, MAX_ADDRESS_PARTS, MethodId};
