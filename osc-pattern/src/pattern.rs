//! Compiled OSC address patterns and matching over parts.

use std::fmt;
use std::str::FromStr;

use crate::PatternError;
use crate::address::{is_literal_part, split_part};
use crate::is_literal_address;
use crate::nfa::{MAX_PART_STATES, Nfa, state_count};
use crate::parse::{RawItem, Token, parse};

/// The most literal strings a part such as `{1,2,3}` or `a{b,c}{d,e}` is
/// expanded into so that the index can look them up by hash instead of
/// scanning every child; larger parts are matched against each child.
const MAX_EXPANSIONS: usize = 64;

/// An OSC address pattern, parsed and compiled once, matched many times
/// without allocating.
///
/// Syntax (OSC 1.0 plus OSC 1.1's `//`):
///
/// | syntax | matches |
/// |---|---|
/// | `abc` | itself |
/// | `?` | any one character |
/// | `*` | any run of characters, including none (never `/`) |
/// | `[abc]`, `[a-z]` | one character in the set (`-` literal first or last) |
/// | `[!a-z]` | one character not in the set (`!` special only first) |
/// | `{foo,bar}` | one of the literal strings |
/// | `//` | any number of levels, including zero |
///
/// Pattern and address must have the same number of parts except across
/// `//`: `//c` matches `/c` and `/a/b/c`; a trailing `//` (`/a//`) matches
/// `/a` and everything below it. See `docs/patterns.md` for the precise
/// rules.
///
/// ```
/// use osc_pattern::Pattern;
///
/// let p = Pattern::new("/synth/[0-9]*/{freq,amp}")?;
/// assert!(p.matches("/synth/12/freq"));
/// assert!(!p.matches("/synth/12/pan"));
/// assert!(Pattern::new("/{ab,a}bc")?.matches("/abc"));
/// assert!(Pattern::new("//freq")?.matches("/synth/1/freq"));
/// # Ok::<(), osc_pattern::PatternError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Pattern {
    source: Box<str>,
    items: Box<[Item]>,
    literal: bool,
    /// The literal parts at the front, each with the `/` after it (`synth/1/` of
    /// `/synth/1/*`), compared at once; `items` after them match the rest.
    head: Box<str>,
    head_items: usize,
    /// How the rest after `head` is matched.
    tail: Tail,
    /// `/` then `head` is the start of a literal address (no reserved byte, no empty
    /// part): an address that matches with one part after it is literal exactly when
    /// that part is one a literal address may end with.
    head_is_literal: bool,
}

/// How an address matched a pattern.
enum Matched<'a> {
    /// With the literal head, then one part: this one (what is left after the head).
    LastPart(&'a str),
    /// Otherwise.
    Whole,
}

/// What the items after the literal head ask of the rest of an address: the common
/// last parts (`/synth/*`, `/synth/voice*`) are checked without walking the items,
/// which costs about five times as much.
#[derive(Debug, Clone)]
enum Tail {
    /// One part, `*`: the rest is one part (it holds no `/`).
    AnyPart,
    /// One part, `abc*`: the rest is one part that starts with the text.
    PartPrefix(Box<str>),
    /// Anything else: [`match_items`] over the items after the head.
    Items,
}

impl Tail {
    fn of(items: &[Item]) -> Tail {
        match items {
            [Item::Part(Part { matcher, .. })] => match matcher {
                PartMatcher::Any => Tail::AnyPart,
                PartMatcher::Prefix(text) => Tail::PartPrefix(text.clone()),
                _ => Tail::Items,
            },
            _ => Tail::Items,
        }
    }
}

/// One level of a compiled pattern.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    Part(Part),
    AnyLevels,
}

/// A compiled part.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    matcher: PartMatcher,
    /// Every string the part matches, when there are few of them.
    finite: Option<Box<[Box<str>]>>,
}

#[derive(Debug, Clone)]
enum PartMatcher {
    Literal(Box<str>),
    /// Prefix mode only: the part starts with this text.
    Prefix(Box<str>),
    /// A lone `*`.
    Any,
    Nfa(Nfa),
}

impl Part {
    fn compile(tokens: Vec<Token>, offset: usize) -> Result<Self, PatternError> {
        let finite = expansions(&tokens);
        let matcher = match tokens.as_slice() {
            [Token::Lit(text)] => PartMatcher::Literal(text.as_str().into()),
            [Token::Lit(text), Token::Star] => PartMatcher::Prefix(text.as_str().into()),
            [Token::Star] => PartMatcher::Any,
            _ => {
                let states = state_count(&tokens);
                if states > MAX_PART_STATES {
                    return Err(PatternError::TooComplex {
                        offset,
                        states,
                        limit: MAX_PART_STATES,
                    });
                }
                PartMatcher::Nfa(Nfa::new(&tokens))
            }
        };
        Ok(Self { matcher, finite })
    }

    /// Whether the part matches `text` (one address part, no `/`).
    pub(crate) fn matches(&self, text: &str) -> bool {
        match &self.matcher {
            PartMatcher::Literal(lit) => **lit == *text,
            PartMatcher::Prefix(lit) => text.starts_with(&**lit),
            PartMatcher::Any => true,
            PartMatcher::Nfa(nfa) => nfa.matches(text),
        }
    }

    /// Every text the part matches, if it is a small finite set.
    pub(crate) fn finite(&self) -> Option<&[Box<str>]> {
        self.finite.as_deref()
    }
}

/// The strings a part of literals and alternatives matches, deduplicated,
/// or `None` if it has wildcards or too many expansions.
fn expansions(tokens: &[Token]) -> Option<Box<[Box<str>]>> {
    let mut all = vec![String::new()];
    for token in tokens {
        match token {
            Token::Lit(text) => all.iter_mut().for_each(|s| s.push_str(text)),
            Token::Alt(alternatives) => {
                if all.len().saturating_mul(alternatives.len()) > MAX_EXPANSIONS {
                    return None;
                }
                all = all
                    .iter()
                    .flat_map(|prefix| alternatives.iter().map(move |a| format!("{prefix}{a}")))
                    .collect();
            }
            Token::One | Token::Star | Token::Class(_) => return None,
        }
    }
    all.sort_unstable();
    all.dedup();
    Some(all.into_iter().map(String::into_boxed_str).collect())
}

impl Pattern {
    /// Parses and compiles `pattern`.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] with the byte offset of the problem: no leading
    /// `/`, an empty part (trailing `/`, `///`), an unclosed `[` or `{`, an
    /// empty class, a reversed range, nested `{`, a wildcard inside `{}`, a
    /// stray `]` or `}`, or a part too complex to match in bounded time.
    ///
    /// ```
    /// use osc_pattern::{Pattern, PatternError};
    ///
    /// assert!(Pattern::new("/a/*/c").is_ok());
    /// assert_eq!(
    ///     Pattern::new("/a/{b,{c}}").unwrap_err(),
    ///     PatternError::NestedAlternatives { offset: 6 }
    /// );
    /// ```
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        Self::compile(pattern, false)
    }

    /// Compiles `pattern` for osc4py3's prefix semantics: it matches any
    /// address that starts with a string the pattern matches.
    pub(crate) fn new_prefix(pattern: &str) -> Result<Self, PatternError> {
        Self::compile(pattern, true)
    }

    fn compile(pattern: &str, prefix: bool) -> Result<Self, PatternError> {
        let mut raw = parse(pattern)?;
        if prefix {
            while matches!(raw.last(), Some(RawItem::AnyLevels)) {
                raw.pop();
            }
            // The last part may end anywhere in an address part (`*`), and
            // any levels may follow (`//`).
            if let Some(RawItem::Part { tokens, .. }) = raw.last_mut() {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            raw.push(RawItem::AnyLevels);
        }
        let items = raw
            .into_iter()
            .map(|item| match item {
                RawItem::Part { offset, tokens } => Part::compile(tokens, offset).map(Item::Part),
                RawItem::AnyLevels => Ok(Item::AnyLevels),
            })
            .collect::<Result<Box<[Item]>, PatternError>>()?;
        let literal = items.iter().all(|item| {
            matches!(
                item,
                Item::Part(Part {
                    matcher: PartMatcher::Literal(_),
                    ..
                })
            )
        });
        let (head, head_items) = literal_head(&items);
        let tail = Tail::of(items.get(head_items..).unwrap_or_default());
        let head_is_literal = is_literal_address(&format!("/{head}x"));
        Ok(Self {
            source: pattern.into(),
            items,
            literal,
            head,
            head_items,
            tail,
            head_is_literal,
        })
    }

    /// Whether the pattern matches `address`.
    ///
    /// The address is taken as text: a `*` in it is an ordinary character.
    /// (The [`AddressSpace`](crate::AddressSpace) never matches a pattern
    /// against an address that contains pattern characters.) A string that
    /// does not start with `/` matches nothing. Takes time proportional to
    /// the address length times the pattern size, and never allocates.
    ///
    /// ```
    /// use osc_pattern::Pattern;
    ///
    /// let p = Pattern::new("/a/*")?;
    /// assert!(p.matches("/a/")); // `*` matches nothing
    /// assert!(p.matches("/a/b"));
    /// assert!(!p.matches("/a/b/c")); // `*` never crosses `/`
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    #[inline]
    pub fn matches(&self, address: &str) -> bool {
        self.matched(address).is_some()
    }

    /// [`matches`](Self::matches), and for an address that matches, whether it is a
    /// literal address ([`is_literal_address`]); `None` when it does not match. A
    /// pattern with a literal head and one part after it (`/synth/*`,
    /// `/synth/voice*`) has checked every byte of the address but the last part's
    /// while matching, so only that part is scanned again; other patterns scan the
    /// whole address.
    #[inline]
    pub(crate) fn match_literal(&self, address: &str) -> Option<bool> {
        Some(match self.matched(address)? {
            Matched::LastPart(part) if self.head_is_literal => is_literal_part(part),
            Matched::LastPart(_) | Matched::Whole => is_literal_address(address),
        })
    }

    /// How `address` matches, if it does.
    #[inline(always)]
    fn matched<'a>(&self, address: &'a str) -> Option<Matched<'a>> {
        if self.literal {
            return (*self.source == *address).then_some(Matched::Whole);
        }
        let rest = address
            .strip_prefix('/')
            .and_then(|rest| strip_text(rest, &self.head))?;
        let one_part = match &self.tail {
            Tail::AnyPart => ends_in_one_part(address, rest.len()),
            Tail::PartPrefix(text) => {
                strip_text(rest, text).is_some_and(|r| ends_in_one_part(address, r.len()))
            }
            Tail::Items => {
                let items = self.items.get(self.head_items..)?;
                return match_items(items, rest).then_some(Matched::Whole);
            }
        };
        one_part.then_some(Matched::LastPart(rest))
    }

    /// Whether the pattern has no wildcards at all: it matches exactly one
    /// address, itself.
    ///
    /// ```
    /// use osc_pattern::Pattern;
    ///
    /// assert!(Pattern::new("/a/b")?.is_literal());
    /// assert!(!Pattern::new("/a/?")?.is_literal());
    /// assert!(!Pattern::new("/a//b")?.is_literal());
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn is_literal(&self) -> bool {
        self.literal
    }

    /// The pattern's source text.
    ///
    /// ```
    /// use osc_pattern::Pattern;
    ///
    /// assert_eq!(Pattern::new("/a/*")?.as_str(), "/a/*");
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled levels, for the index.
    pub(crate) fn items(&self) -> &[Item] {
        &self.items
    }
}

/// `text` without its leading `prefix`, compared inline: a matched address's head is
/// usually a few bytes, for which a call to `memcmp` costs more than the compare.
#[inline(always)]
fn strip_text<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let (bytes, wanted) = (text.as_bytes(), prefix.as_bytes());
    let head = bytes.get(..wanted.len())?;
    if !same_bytes(head, wanted) {
        return None;
    }
    // Equal bytes end where a character of `prefix` ends.
    text.get(wanted.len()..)
}

/// `a == b` for slices of the same length, with two overlapping word loads from each
/// end when they are at most 16 bytes long.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    fn ends<const N: usize>(s: &[u8]) -> ([u8; N], [u8; N]) {
        let first = s.first_chunk::<N>().copied().unwrap_or([0; N]);
        let last = s.last_chunk::<N>().copied().unwrap_or([0; N]);
        (first, last)
    }
    match a.len() {
        0 => true,
        1..4 => {
            a.first() == b.first()
                && a.get(a.len() / 2) == b.get(a.len() / 2)
                && a.last() == b.last()
        }
        4..8 => ends::<4>(a) == ends::<4>(b),
        8..=16 => ends::<8>(a) == ends::<8>(b),
        _ => a == b,
    }
}

/// Whether the last `n` bytes of `address` (the rest after a pattern's literal head,
/// usually a short number or name) are one part: they hold no `/`. Up to 8 of them
/// are tested in one word, the address's last 8 bytes with the others masked off.
#[inline(always)]
fn ends_in_one_part(address: &str, n: usize) -> bool {
    let bytes = address.as_bytes();
    if let (true, Some(last)) = (n <= 8, bytes.last_chunk::<8>()) {
        // Exact per byte: the high bit of each byte of `x` that is zero.
        let x = u64::from_le_bytes(*last) ^ (0x2f * LOW_BYTES);
        let zero = !(((x & (0x7f * LOW_BYTES)) + 0x7f * LOW_BYTES) | x) & (0x80 * LOW_BYTES);
        // The last `n` bytes are the word's high ones.
        let kept = u64::MAX.checked_shl(8 * (8 - n) as u32).unwrap_or(0);
        return zero & kept == 0;
    }
    let start = bytes.len().saturating_sub(n);
    bytes.get(start..).is_some_and(|rest| !rest.contains(&b'/'))
}

/// `0x01` in every byte of a word.
const LOW_BYTES: u64 = 0x0101_0101_0101_0101;

/// The literal parts at the front of `items` that another part follows, as the text
/// they match (each part and its `/`) and their number. A literal part followed by a
/// part matches exactly that text: the next part needs the `/`, and nothing before the
/// first `//` can backtrack.
fn literal_head(items: &[Item]) -> (Box<str>, usize) {
    let mut head = String::new();
    let mut n = 0;
    for pair in items.windows(2) {
        match pair {
            [
                Item::Part(Part {
                    matcher: PartMatcher::Literal(text),
                    ..
                }),
                Item::Part(_),
            ] => {
                head.push_str(text);
                head.push('/');
                n += 1;
            }
            _ => break,
        }
    }
    (head.into_boxed_str(), n)
}

/// Matches `items` against the parts of `rest` (the address without its
/// leading `/`).
///
/// Each part item matches exactly one address part and `//` matches any
/// number of parts, so the classic two-pointer wildcard algorithm applies:
/// remember the last `//` and, on a mismatch, let it absorb one more part.
/// At most O(parts × items) part matches.
pub(crate) fn match_items(items: &[Item], rest: &str) -> bool {
    let mut item = 0;
    let mut cursor = Some(rest);
    // (item after the last `//`, address position where its match ends)
    let mut backtrack: Option<(usize, Option<&str>)> = None;
    loop {
        match items.get(item) {
            Some(Item::AnyLevels) => {
                item += 1;
                backtrack = Some((item, cursor));
                continue;
            }
            Some(Item::Part(part)) => {
                if let Some(text) = cursor {
                    let (head, tail) = split_part(text);
                    if part.matches(head) {
                        item += 1;
                        cursor = tail;
                        continue;
                    }
                }
            }
            None => {
                if cursor.is_none() {
                    return true;
                }
            }
        }
        match backtrack {
            Some((resume, Some(text))) => {
                let (_, tail) = split_part(text);
                backtrack = Some((resume, tail));
                item = resume;
                cursor = tail;
            }
            _ => return false,
        }
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

#[cfg(test)]
#[cfg_attr(test, allow(clippy::unwrap_used))]
mod tests {
    use super::*;

    fn m(pattern: &str, address: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(address)
    }

    /// Every string of up to `max` bytes over `alphabet`, each after a `/`.
    fn all_addresses(alphabet: &[u8], max: usize) -> Vec<String> {
        let mut out = vec![String::from("/")];
        let mut last = vec![String::from("/")];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|s| {
                    alphabet
                        .iter()
                        .map(move |&b| format!("{s}{}", char::from(b)))
                })
                .collect();
            out.extend(last.iter().cloned());
        }
        out
    }

    #[test]
    fn match_literal_is_matches_then_is_literal_address() {
        // Heads with and without reserved bytes, every kind of tail, and addresses
        // with reserved bytes, `/`, pattern characters and empty parts.
        let patterns = [
            "/a/*", "/a/b*", "/*", "/a b/*", "/a#/*", "/a/*/b", "//b", "/a/{b,c}", "/a/[ab]*",
            "/a/b", "/a b", "/a/?", "/ab/a*",
        ];
        let addresses = all_addresses(b"ab/ #*{", 5);
        for p in patterns {
            let compiled = Pattern::new(p).unwrap();
            for a in &addresses {
                let want = compiled.matches(a).then(|| is_literal_address(a));
                assert_eq!(
                    compiled.match_literal(a),
                    want,
                    "pattern {p:?} address {a:?}"
                );
            }
        }
    }

    #[test]
    fn same_bytes_is_slice_equality_at_every_length_and_position() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for len in 0..=base.len() {
            let a = &base[..len];
            assert!(same_bytes(a, a), "len {len}");
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!same_bytes(a, &b), "len {len}, byte {at}");
            }
        }
    }

    #[test]
    fn ends_in_one_part_finds_a_slash_in_the_last_bytes_only() {
        for len in 1..=24 {
            let base: String = (0..len).map(|i| char::from(b'a' + i as u8)).collect();
            for n in 0..=len {
                assert!(ends_in_one_part(&base, n), "len {len}, n {n}");
                for at in 0..len {
                    let mut s = base.clone().into_bytes();
                    s[at] = b'/';
                    let s = String::from_utf8(s).unwrap();
                    let want = at < len - n;
                    assert_eq!(ends_in_one_part(&s, n), want, "{s:?}, n {n}");
                }
            }
        }
        // Bytes next to '/' (0x2e, 0x30, 0xaf) are not taken for it.
        assert!(ends_in_one_part("/abc/d.0\u{af}", 5));
    }

    #[test]
    fn strip_text_keeps_the_rest_only_after_the_whole_prefix() {
        assert_eq!(strip_text("synth/1/freq", "synth/1/"), Some("freq"));
        assert_eq!(strip_text("synth/1", "synth/1/"), None);
        assert_eq!(strip_text("synth/2/freq", "synth/1/"), None);
        assert_eq!(strip_text("é/x", "é/"), Some("x"));
        assert_eq!(strip_text("abc", ""), Some("abc"));
    }

    #[test]
    fn any_levels() {
        assert!(m("//c", "/c"));
        assert!(m("//c", "/a/b/c"));
        assert!(!m("//c", "/a/b/cd"));
        assert!(m("/a//c", "/a/c"));
        assert!(m("/a//c", "/a/x/y/c"));
        assert!(!m("/a//c", "/b/c"));
        assert!(m("/a//", "/a"));
        assert!(m("/a//", "/a/b/c"));
        assert!(m("//", "/anything/at/all"));
        assert!(m("//b//d", "/a/b/c/d"));
        assert!(!m("//b//d", "/a/c/d"));
        assert!(m("//*", "/x"));
    }

    #[test]
    fn simple_last_parts_match_as_the_items_do() {
        let patterns = [
            "/*",
            "/a/*",
            "/a/b*",
            "/test/here/*",
            "/a/*/c",
            "/*/*",
            "/a/x*y",
            "/a//*",
            "//b*",
            "/a/{b,c}*",
            "/a/b/c*",
        ];
        let addresses = [
            "/",
            "/a",
            "/a/",
            "/a/b",
            "/a/bc",
            "/a/b/c",
            "/a/b/",
            "/a//",
            "/b",
            "/ab",
            "/test/here/1",
            "/test/here/",
            "/test/here/1/2",
            "/test/here",
            "/a/xy",
            "/a/x/y",
            "/a/b/cd",
            "/a/cb",
            "x/a/b",
            "",
        ];
        for pattern in patterns {
            let p = Pattern::new(pattern).unwrap();
            for address in addresses {
                let walked = address
                    .strip_prefix('/')
                    .is_some_and(|rest| match_items(p.items(), rest));
                assert_eq!(p.matches(address), walked, "{pattern} {address}");
            }
        }
        assert!(matches!(Pattern::new("/a/*").unwrap().tail, Tail::AnyPart));
        assert!(matches!(
            Pattern::new("/a/b*").unwrap().tail,
            Tail::PartPrefix(_)
        ));
        assert!(matches!(Pattern::new("/a/*/c").unwrap().tail, Tail::Items));
    }

    #[test]
    fn literal_fast_path() {
        let p = Pattern::new("/a/b").unwrap();
        assert!(p.is_literal());
        assert!(p.matches("/a/b") && !p.matches("/a/bc") && !p.matches("/a"));
    }

    #[test]
    fn prefix_mode() {
        let p = Pattern::new_prefix("/test").unwrap();
        for yes in ["/test", "/testing", "/test/x/y"] {
            assert!(p.matches(yes), "{yes}");
        }
        assert!(!p.matches("/tes") && !p.matches("/x/test"));
        let p = Pattern::new_prefix("/a/*/c").unwrap();
        assert!(p.matches("/a/b/c") && p.matches("/a/b/cd/e") && !p.matches("/a/c"));
        let p = Pattern::new_prefix("//c").unwrap();
        assert!(p.matches("/x/cat") && p.matches("/c"));
    }

    #[test]
    fn expansions_are_deduplicated() {
        let p = Pattern::new("/{a,a,b}x").unwrap();
        let Some(Item::Part(part)) = p.items().first() else {
            unreachable!()
        };
        assert_eq!(part.finite().unwrap().len(), 2);
        let p = Pattern::new("/{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}").unwrap();
        let Some(Item::Part(part)) = p.items().first() else {
            unreachable!()
        };
        assert!(part.finite().is_none());
    }

    #[test]
    fn too_complex() {
        let long = format!("/*{}", "a".repeat(300));
        assert!(matches!(
            Pattern::new(&long),
            Err(PatternError::TooComplex { offset: 1, .. })
        ));
        // A literal part has no limit.
        assert!(Pattern::new(&format!("/{}", "a".repeat(300))).is_ok());
    }
}
