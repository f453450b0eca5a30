//! The crate's error type.

/// Everything that can go wrong when parsing a pattern, validating an
/// address or registering a method.
///
/// Every variant that concerns a string carries the byte `offset` into that
/// string where the problem was found.
///
/// osc4py3 raises a plain `ValueError` for all of these (or, for regular
/// expressions, lets `re.error` through).
///
/// ```
/// use osc_pattern::{Pattern, PatternError};
///
/// let err = Pattern::new("/synth/[a-c/freq").unwrap_err();
/// assert_eq!(err, PatternError::UnclosedClass { offset: 7 });
/// assert_eq!(err.offset(), Some(7));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The string is empty or does not start with `/` (always offset 0).
    #[error("an OSC address or pattern must start with '/' (offset {offset})")]
    MissingLeadingSlash {
        /// Byte offset of the offending character (always 0).
        offset: usize,
    },
    /// A part between two `/` is empty where that is not allowed: a trailing
    /// `/` (`/a/`), the lone `/`, or three or more slashes in a row (`///`).
    #[error("empty part at offset {offset} (trailing '/' or '///')")]
    EmptyPart {
        /// Byte offset where the empty part starts.
        offset: usize,
    },
    /// A `[` without a matching `]` in the same part.
    #[error("'[' at offset {offset} is not closed by ']' in the same part")]
    UnclosedClass {
        /// Byte offset of the `[`.
        offset: usize,
    },
    /// A character class with nothing in it: `[]` or `[!]`.
    #[error("empty character class at offset {offset}")]
    EmptyClass {
        /// Byte offset of the `[`.
        offset: usize,
    },
    /// A range in a class whose end comes before its start, such as `[z-a]`.
    #[error("reversed range '{start}-{end}' at offset {offset}")]
    ReversedRange {
        /// Byte offset of the range's first character.
        offset: usize,
        /// First character of the range.
        start: char,
        /// Last character of the range.
        end: char,
    },
    /// A `{` without a matching `}` in the same part.
    #[error("'{{' at offset {offset} is not closed by '}}' in the same part")]
    UnclosedAlternatives {
        /// Byte offset of the `{`.
        offset: usize,
    },
    /// A `{` inside `{...}`: alternatives do not nest.
    #[error("nested '{{' at offset {offset}: alternatives do not nest")]
    NestedAlternatives {
        /// Byte offset of the inner `{`.
        offset: usize,
    },
    /// A wildcard (`*`, `?`, `[`, `]`) inside `{...}`: alternatives are
    /// literal strings.
    #[error("'{found}' at offset {offset} inside '{{...}}': alternatives are literal strings")]
    WildcardInAlternatives {
        /// Byte offset of the wildcard.
        offset: usize,
        /// The wildcard character found.
        found: char,
    },
    /// A `]` or `}` that closes nothing.
    #[error("unmatched '{found}' at offset {offset}")]
    UnmatchedClose {
        /// Byte offset of the character.
        offset: usize,
        /// The character, `]` or `}`.
        found: char,
    },
    /// One part of the pattern needs more matcher states than the limit
    /// ([`MAX_PART_STATES`](crate::MAX_PART_STATES)); only parts that contain
    /// wildcards are limited.
    #[error(
        "the part at offset {offset} needs {states} matcher states, more than the limit {limit}"
    )]
    TooComplex {
        /// Byte offset where the part starts.
        offset: usize,
        /// States the part would need.
        states: usize,
        /// The limit.
        limit: usize,
    },
    /// A literal address contains a character that OSC 1.0 reserves for
    /// patterns or forbids in addresses: one of `` #*,?[]{}``.
    #[error("character {found:?} at offset {offset} is not allowed in a literal OSC address")]
    InvalidAddressChar {
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        found: char,
    },
    /// An address registered in an [`AddressSpace`](crate::AddressSpace) has
    /// more parts than [`MAX_ADDRESS_PARTS`](crate::MAX_ADDRESS_PARTS).
    #[error("the address has {parts} parts, more than the limit {limit}")]
    TooManyParts {
        /// Parts in the address.
        parts: usize,
        /// The limit.
        limit: usize,
    },
    /// A regular expression filter failed to compile (feature `regex`).
    #[error("invalid regular expression: {message}")]
    InvalidRegex {
        /// The regex engine's explanation.
        message: String,
    },
}

impl PatternError {
    /// The byte offset the error points at, when it points at one.
    ///
    /// ```
    /// use osc_pattern::Pattern;
    ///
    /// assert_eq!(Pattern::new("/a/{b,c").unwrap_err().offset(), Some(3));
    /// ```
    #[must_use]
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::MissingLeadingSlash { offset }
            | Self::EmptyPart { offset }
            | Self::UnclosedClass { offset }
            | Self::EmptyClass { offset }
            | Self::ReversedRange { offset, .. }
            | Self::UnclosedAlternatives { offset }
            | Self::NestedAlternatives { offset }
            | Self::WildcardInAlternatives { offset, .. }
            | Self::UnmatchedClose { offset, .. }
            | Self::TooComplex { offset, .. }
            | Self::InvalidAddressChar { offset, .. } => Some(*offset),
            Self::TooManyParts { .. } | Self::InvalidRegex { .. } => None,
        }
    }
}
