//! Pattern syntax: from text to parts and tokens (no matching here).

use crate::PatternError;

/// One element of a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A run of literal characters (never empty).
    Lit(String),
    /// `?`: one character.
    One,
    /// `*`: zero or more characters (consecutive stars are merged).
    Star,
    /// `[...]`: one character in (or, negated, not in) a set.
    Class(Class),
    /// `{a,b}`: one of several literal strings (possibly empty).
    Alt(Vec<String>),
}

/// A character class: inclusive ranges, a single character being `(c, c)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Class {
    pub(crate) negated: bool,
    pub(crate) ranges: Box<[(char, char)]>,
}

impl Class {
    pub(crate) fn matches(&self, c: char) -> bool {
        let inside = self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        inside != self.negated
    }
}

/// One level of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawItem {
    /// A part (between `/`), with the byte offset where it starts.
    Part { offset: usize, tokens: Vec<Token> },
    /// `//`: any number of levels, including zero.
    AnyLevels,
}

/// Splits a pattern into levels and parses each part.
///
/// Structure rules: the pattern starts with `/`; an empty part between two
/// slashes is `//` (any levels); `//` at the very end means "and everything
/// below"; a trailing single `/`, the lone `/` and `///` are errors.
pub(crate) fn parse(pattern: &str) -> Result<Vec<RawItem>, PatternError> {
    let Some(mut rest) = pattern.strip_prefix('/') else {
        return Err(PatternError::MissingLeadingSlash { offset: 0 });
    };
    let mut items = Vec::new();
    let mut offset = 1;
    loop {
        let (part, next) = crate::address::split_part(rest);
        let after_any = matches!(items.last(), Some(RawItem::AnyLevels));
        if part.is_empty() {
            match next {
                // `//` at the end: the AnyLevels just pushed covers it.
                None if after_any => break,
                // `///` or a trailing `/` (or the lone `/`).
                _ if after_any => return Err(PatternError::EmptyPart { offset }),
                None => return Err(PatternError::EmptyPart { offset }),
                Some(_) => items.push(RawItem::AnyLevels),
            }
        } else {
            items.push(RawItem::Part {
                offset,
                tokens: parse_part(part, offset)?,
            });
        }
        match next {
            Some(after) => {
                offset += part.len() + 1;
                rest = after;
            }
            None => break,
        }
    }
    Ok(items)
}

/// Parses the text of one part; `base` is its byte offset in the pattern.
pub(crate) fn parse_part(part: &str, base: usize) -> Result<Vec<Token>, PatternError> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut chars = part.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let offset = base + i;
        match c {
            '?' => tokens.push(Token::One),
            '*' => {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            '[' => {
                let close = part
                    .get(i + 1..)
                    .and_then(|s| s.find(']'))
                    .ok_or(PatternError::UnclosedClass { offset })?;
                let body = part.get(i + 1..i + 1 + close).unwrap_or_default();
                tokens.push(Token::Class(parse_class(body, offset)?));
                // Skip the body and the `]`.
                for (j, _) in chars.by_ref() {
                    if j == i + 1 + close {
                        break;
                    }
                }
            }
            '{' => {
                let (alternatives, end) = parse_alternatives(part, i, base)?;
                tokens.push(Token::Alt(alternatives));
                for (j, _) in chars.by_ref() {
                    if j == end {
                        break;
                    }
                }
            }
            ']' | '}' => return Err(PatternError::UnmatchedClose { offset, found: c }),
            _ => match tokens.last_mut() {
                Some(Token::Lit(run)) => run.push(c),
                _ => tokens.push(Token::Lit(c.to_string())),
            },
        }
    }
    Ok(tokens)
}

/// Parses the inside of `[...]`; `open` is the offset of the `[`.
fn parse_class(body: &str, open: usize) -> Result<Class, PatternError> {
    let (negated, items, skip) = match body.strip_prefix('!') {
        Some(rest) => (true, rest, 1),
        None => (false, body, 0),
    };
    if items.is_empty() {
        return Err(PatternError::EmptyClass { offset: open });
    }
    let mut ranges = Vec::new();
    let mut chars = items.char_indices().peekable();
    while let Some((i, start)) = chars.next() {
        // `x-y` is a range unless the `-` is the last character.
        let mut lookahead = chars.clone();
        if let (Some((_, '-')), Some((_, end))) = (lookahead.next(), lookahead.next()) {
            if end < start {
                return Err(PatternError::ReversedRange {
                    offset: open + 1 + skip + i,
                    start,
                    end,
                });
            }
            ranges.push((start, end));
            chars = lookahead;
        } else {
            ranges.push((start, start));
        }
    }
    Ok(Class {
        negated,
        ranges: ranges.into_boxed_slice(),
    })
}

/// Parses `{a,b,...}` starting at byte `open` of `part`; returns the
/// alternatives and the byte index of the closing `}`.
fn parse_alternatives(
    part: &str,
    open: usize,
    base: usize,
) -> Result<(Vec<String>, usize), PatternError> {
    let mut alternatives = vec![String::new()];
    let body = part.get(open + 1..).unwrap_or_default();
    for (j, c) in body.char_indices() {
        let at = open + 1 + j;
        match c {
            '}' => return Ok((alternatives, at)),
            ',' => alternatives.push(String::new()),
            '{' => return Err(PatternError::NestedAlternatives { offset: base + at }),
            '*' | '?' | '[' | ']' => {
                return Err(PatternError::WildcardInAlternatives {
                    offset: base + at,
                    found: c,
                });
            }
            _ => {
                if let Some(last) = alternatives.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    Err(PatternError::UnclosedAlternatives {
        offset: base + open,
    })
}

#[cfg(test)]
#[cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)
)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Token {
        Token::Lit(s.to_string())
    }

    #[test]
    fn structure() {
        assert_eq!(parse("//").unwrap(), vec![RawItem::AnyLevels]);
        let items = parse("//c").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], RawItem::AnyLevels);
        let items = parse("/a//").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1], RawItem::AnyLevels);
        assert_eq!(parse("/a/b//c").unwrap().len(), 4);
        assert_eq!(
            parse("a"),
            Err(PatternError::MissingLeadingSlash { offset: 0 })
        );
        assert_eq!(parse("/"), Err(PatternError::EmptyPart { offset: 1 }));
        assert_eq!(parse("/a/"), Err(PatternError::EmptyPart { offset: 3 }));
        assert_eq!(parse("///a"), Err(PatternError::EmptyPart { offset: 2 }));
        assert_eq!(parse("/a///"), Err(PatternError::EmptyPart { offset: 4 }));
    }

    #[test]
    fn tokens() {
        assert_eq!(
            parse_part("ab?*c", 0).unwrap(),
            vec![lit("ab"), Token::One, Token::Star, lit("c")]
        );
        assert_eq!(parse_part("a**b", 0).unwrap().len(), 3);
        assert_eq!(
            parse_part("{ab,,c}x", 0).unwrap(),
            vec![
                Token::Alt(vec!["ab".into(), String::new(), "c".into()]),
                lit("x")
            ]
        );
    }

    #[test]
    fn classes() {
        let Token::Class(c) = &parse_part("[!a-c-]", 0).unwrap()[0] else {
            panic!("not a class")
        };
        assert!(c.negated);
        assert_eq!(&*c.ranges, &[('a', 'c'), ('-', '-')]);
        let Token::Class(c) = &parse_part("[-a!]", 0).unwrap()[0] else {
            panic!("not a class")
        };
        assert!(!c.negated);
        assert_eq!(&*c.ranges, &[('-', '-'), ('a', 'a'), ('!', '!')]);
        assert!(c.matches('!') && c.matches('-') && !c.matches('b'));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_part("a[bc", 5),
            Err(PatternError::UnclosedClass { offset: 6 })
        );
        assert_eq!(
            parse_part("[]", 0),
            Err(PatternError::EmptyClass { offset: 0 })
        );
        assert_eq!(
            parse_part("[!]", 0),
            Err(PatternError::EmptyClass { offset: 0 })
        );
        assert_eq!(
            parse_part("x[z-a]", 1),
            Err(PatternError::ReversedRange {
                offset: 3,
                start: 'z',
                end: 'a'
            })
        );
        assert_eq!(
            parse_part("{a,b", 1),
            Err(PatternError::UnclosedAlternatives { offset: 1 })
        );
        assert_eq!(
            parse_part("{a,{b}}", 1),
            Err(PatternError::NestedAlternatives { offset: 4 })
        );
        assert_eq!(
            parse_part("{a,b*}", 0),
            Err(PatternError::WildcardInAlternatives {
                offset: 4,
                found: '*'
            })
        );
        assert_eq!(
            parse_part("ab]", 0),
            Err(PatternError::UnmatchedClose {
                offset: 2,
                found: ']'
            })
        );
    }
}
