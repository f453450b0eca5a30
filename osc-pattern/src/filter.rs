//! Registered filters: methods registered with a pattern (or a regular
//! expression) that select literal incoming addresses, as osc4py3's
//! `MethodFilter` does.

use crate::{Pattern, PatternError, is_literal_address};

/// How a [`Filter`]'s text is read.
///
/// ```
/// use osc_pattern::{Filter, FilterKind};
///
/// let f = Filter::new("/test", FilterKind::Osc4py3Prefix)?;
/// assert_eq!(f.kind(), FilterKind::Osc4py3Prefix);
/// assert!(f.matches("/testing"));
/// # Ok::<(), osc_pattern::PatternError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FilterKind {
    /// An OSC address pattern that must match the whole incoming address
    /// (osc4py3's `"osc"` kind, without its prefix quirk).
    Osc,
    /// osc4py3 compatibility: an OSC pattern that matches any address
    /// *starting with* a string it matches, so `/test` also selects
    /// `/testing` and `/test/x/y` (what osc4py3 1.0.8 does because it uses
    /// Python's `re.match`). Off unless chosen.
    Osc4py3Prefix,
    /// A regular expression (syntax of the `regex` crate) that must match
    /// the whole incoming address; write `/test.*` for a prefix. Needs the
    /// `regex` feature.
    #[cfg(feature = "regex")]
    Regex,
}

#[derive(Debug, Clone)]
enum Engine {
    Pattern(Pattern),
    #[cfg(feature = "regex")]
    Regex(regex::Regex),
}

/// A compiled filter: a pattern or regular expression matched against
/// literal incoming addresses.
///
/// A filter never matches an incoming address that is itself a pattern (one
/// that [`is_literal_address`] rejects): pattern meets pattern is undefined
/// in OSC, so osc-pattern defines it as "no match" in this direction.
///
/// ```
/// use osc_pattern::Filter;
///
/// let f = Filter::osc("/synth/*/freq")?;
/// assert!(f.matches("/synth/1/freq"));
/// assert!(!f.matches("/synth/1/amp"));
/// assert!(!f.matches("/synth/*/freq")); // incoming patterns never match filters
/// # Ok::<(), osc_pattern::PatternError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Filter {
    source: Box<str>,
    kind: FilterKind,
    engine: Engine,
}

impl Filter {
    /// Compiles `source` as a filter of the given kind.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] if the pattern is malformed, or
    /// [`PatternError::InvalidRegex`] if the regular expression is.
    ///
    /// ```
    /// use osc_pattern::{Filter, FilterKind};
    ///
    /// assert!(Filter::new("/a/[b", FilterKind::Osc).is_err());
    /// ```
    pub fn new(source: &str, kind: FilterKind) -> Result<Self, PatternError> {
        let engine = match kind {
            FilterKind::Osc => Engine::Pattern(Pattern::new(source)?),
            FilterKind::Osc4py3Prefix => Engine::Pattern(Pattern::new_prefix(source)?),
            #[cfg(feature = "regex")]
            FilterKind::Regex => {
                Engine::Regex(regex::Regex::new(&format!("^(?:{source})$")).map_err(|e| {
                    PatternError::InvalidRegex {
                        message: e.to_string(),
                    }
                })?)
            }
        };
        Ok(Self {
            source: source.into(),
            kind,
            engine,
        })
    }

    /// Shorthand for `Filter::new(source, FilterKind::Osc)`.
    ///
    /// # Errors
    ///
    /// As [`Pattern::new`].
    ///
    /// ```
    /// use osc_pattern::Filter;
    ///
    /// assert!(Filter::osc("//freq")?.matches("/synth/1/freq"));
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn osc(source: &str) -> Result<Self, PatternError> {
        Self::new(source, FilterKind::Osc)
    }

    /// Shorthand for `Filter::new(source, FilterKind::Osc4py3Prefix)`.
    ///
    /// # Errors
    ///
    /// As [`Pattern::new`].
    ///
    /// ```
    /// use osc_pattern::Filter;
    ///
    /// let f = Filter::osc4py3_prefix("/test")?;
    /// assert!(f.matches("/test/x/y"));
    /// assert!(!f.matches("/tes"));
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn osc4py3_prefix(source: &str) -> Result<Self, PatternError> {
        Self::new(source, FilterKind::Osc4py3Prefix)
    }

    /// Shorthand for `Filter::new(source, FilterKind::Regex)` (feature
    /// `regex`).
    ///
    /// # Errors
    ///
    /// [`PatternError::InvalidRegex`].
    ///
    /// ```
    /// # #[cfg(feature = "regex")] {
    /// use osc_pattern::Filter;
    ///
    /// let f = Filter::regex(r"/synth/\d+/(freq|amp)")?;
    /// assert!(f.matches("/synth/12/amp"));
    /// assert!(!f.matches("/synth/12/amp/x"));
    /// # }
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[cfg(feature = "regex")]
    pub fn regex(source: &str) -> Result<Self, PatternError> {
        Self::new(source, FilterKind::Regex)
    }

    /// Whether the filter selects the incoming `address`. Always `false`
    /// when `address` is not a literal address (see [`is_literal_address`]).
    ///
    /// ```
    /// use osc_pattern::Filter;
    ///
    /// let f = Filter::osc("/a/{b,c}")?;
    /// assert!(f.matches("/a/c"));
    /// assert!(!f.matches("/a/{b,c}"));
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn matches(&self, address: &str) -> bool {
        is_literal_address(address) && self.matches_literal(address)
    }

    /// [`Filter::matches`] for an address already known to be literal.
    pub(crate) fn matches_literal(&self, address: &str) -> bool {
        match &self.engine {
            Engine::Pattern(pattern) => pattern.matches(address),
            #[cfg(feature = "regex")]
            Engine::Regex(regex) => regex.is_match(address),
        }
    }

    /// Whether the filter would select `address` if it were literal
    /// ([`matches_literal`](Self::matches_literal)), and then whether it is: `None`
    /// when it does not match, `Some(literal)` when it does. An OSC pattern often
    /// knows the answer from its own match (see `Pattern::match_literal`).
    #[inline]
    pub(crate) fn match_literal(&self, address: &str) -> Option<bool> {
        match &self.engine {
            Engine::Pattern(pattern) => pattern.match_literal(address),
            #[cfg(feature = "regex")]
            Engine::Regex(regex) => regex.is_match(address).then(|| is_literal_address(address)),
        }
    }

    /// The filter's source text.
    ///
    /// ```
    /// use osc_pattern::Filter;
    ///
    /// assert_eq!(Filter::osc("/a/*")?.as_str(), "/a/*");
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The filter's kind.
    ///
    /// ```
    /// use osc_pattern::{Filter, FilterKind};
    ///
    /// assert_eq!(Filter::osc("/a")?.kind(), FilterKind::Osc);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> FilterKind {
        self.kind
    }
}

/// A filter and the opaque payload a dispatcher associates with it (its
/// handler, typically): osc4py3's `MethodFilter`. This crate only decides
/// who matches; it never calls anything.
///
/// ```
/// use osc_pattern::{AddressSpace, Filter, MethodFilter};
///
/// let mut space = AddressSpace::new();
/// let id = space.insert_method_filter(MethodFilter::new(Filter::osc("/test/*")?, "handler"));
/// assert_eq!(space.dispatch("/test/me")?, vec![(id, &"handler")]);
/// # Ok::<(), osc_pattern::PatternError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MethodFilter<T> {
    /// What the method selects.
    pub filter: Filter,
    /// What the dispatcher gets back for each match.
    pub payload: T,
}

impl<T> MethodFilter<T> {
    /// Bundles a filter and its payload.
    ///
    /// ```
    /// use osc_pattern::{Filter, MethodFilter};
    ///
    /// let mf = MethodFilter::new(Filter::osc("/a/*")?, 7);
    /// assert_eq!(mf.payload, 7);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn new(filter: Filter, payload: T) -> Self {
        Self { filter, payload }
    }
}
