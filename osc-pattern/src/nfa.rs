//! Matching one part that contains wildcards: a position automaton
//! simulated over a fixed-size bitset, so a match costs
//! O(characters × states / 64) with no backtracking and no allocation.

use crate::parse::{Class, Token};

/// Words in a state set.
const WORDS: usize = 4;

/// The most character-consuming states one part may compile to (one bit of
/// the set is kept for "accept"). Parts without wildcards are not limited.
///
/// ```
/// use osc_pattern::{MAX_PART_STATES, Pattern};
///
/// let too_long = format!("/*{}", "a".repeat(MAX_PART_STATES));
/// assert!(Pattern::new(&too_long).is_err());
/// assert!(Pattern::new(&format!("/{}", "a".repeat(MAX_PART_STATES + 1))).is_ok());
/// ```
pub const MAX_PART_STATES: usize = WORDS * 64 - 1;

type Bits = [u64; WORDS];

fn set(bits: &mut Bits, index: usize) {
    if let Some(word) = bits.get_mut(index / 64) {
        *word |= 1 << (index % 64);
    }
}

fn test(bits: &Bits, index: usize) -> bool {
    bits.get(index / 64)
        .is_some_and(|word| word & (1 << (index % 64)) != 0)
}

fn union(into: &mut Bits, from: &Bits) {
    for (a, b) in into.iter_mut().zip(from) {
        *a |= *b;
    }
}

/// What a state accepts.
#[derive(Debug, Clone)]
enum Pred {
    Char(char),
    Any,
    Class(Class),
}

/// Where a state goes after accepting a character.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// The next state (inside a literal run or an alternative).
    Following,
    /// The entry set of element `usize`.
    Entry(usize),
    /// `*`: stay, and also the entry set of element `usize`.
    Loop(usize),
}

#[derive(Debug, Clone)]
struct State {
    pred: Pred,
    next: Next,
}

/// A compiled part with wildcards.
#[derive(Debug, Clone)]
pub(crate) struct Nfa {
    states: Box<[State]>,
    /// `entries[j]`: the states active before element `j`, with the
    /// nullable elements skipped; `entries[len]` is `{accept}`.
    entries: Box<[Bits]>,
    /// Index of the accept bit (= number of states).
    accept: usize,
}

/// States `tokens` need (to check the limit before building).
pub(crate) fn state_count(tokens: &[Token]) -> usize {
    tokens
        .iter()
        .map(|t| match t {
            Token::Lit(s) => s.chars().count(),
            Token::Alt(alts) => alts.iter().map(|a| a.chars().count()).sum(),
            Token::One | Token::Star | Token::Class(_) => 1,
        })
        .sum()
}

impl Nfa {
    /// Builds the automaton; the caller has checked
    /// `state_count(tokens) <= MAX_PART_STATES`.
    pub(crate) fn new(tokens: &[Token]) -> Self {
        let mut states = Vec::with_capacity(state_count(tokens));
        // First states of each element, and whether it can match nothing.
        let mut firsts: Vec<(Vec<usize>, bool)> = Vec::with_capacity(tokens.len());
        for (j, token) in tokens.iter().enumerate() {
            let after = j + 1;
            let mut first = Vec::new();
            let mut nullable = false;
            match token {
                Token::Lit(run) => {
                    first.push(states.len());
                    push_run(&mut states, run, after);
                }
                Token::Alt(alternatives) => {
                    for alternative in alternatives {
                        if alternative.is_empty() {
                            nullable = true;
                        } else {
                            first.push(states.len());
                            push_run(&mut states, alternative, after);
                        }
                    }
                }
                Token::One => {
                    first.push(states.len());
                    states.push(State {
                        pred: Pred::Any,
                        next: Next::Entry(after),
                    });
                }
                Token::Class(class) => {
                    first.push(states.len());
                    states.push(State {
                        pred: Pred::Class(class.clone()),
                        next: Next::Entry(after),
                    });
                }
                Token::Star => {
                    first.push(states.len());
                    nullable = true;
                    states.push(State {
                        pred: Pred::Any,
                        next: Next::Loop(after),
                    });
                }
            }
            firsts.push((first, nullable));
        }
        let accept = states.len();
        let mut entries = vec![[0; WORDS]; tokens.len() + 1];
        let mut following = [0; WORDS];
        set(&mut following, accept);
        if let Some(last) = entries.last_mut() {
            *last = following;
        }
        for (entry, (first, nullable)) in entries.iter_mut().zip(&firsts).rev() {
            let mut bits = if *nullable { following } else { [0; WORDS] };
            for &s in first {
                set(&mut bits, s);
            }
            *entry = bits;
            following = bits;
        }
        Self {
            states: states.into_boxed_slice(),
            entries: entries.into_boxed_slice(),
            accept,
        }
    }

    /// Whether the whole of `part` is matched.
    pub(crate) fn matches(&self, part: &str) -> bool {
        let Some(mut current) = self.entries.first().copied() else {
            return false;
        };
        for c in part.chars() {
            let mut next = [0; WORDS];
            let mut alive = false;
            for (w, &word) in current.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let index = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let Some(state) = self.states.get(index) else {
                        continue; // the accept bit
                    };
                    let accepted = match &state.pred {
                        Pred::Char(expected) => *expected == c,
                        Pred::Any => true,
                        Pred::Class(class) => class.matches(c),
                    };
                    if !accepted {
                        continue;
                    }
                    alive = true;
                    match state.next {
                        Next::Following => set(&mut next, index + 1),
                        Next::Entry(j) => {
                            if let Some(entry) = self.entries.get(j) {
                                union(&mut next, entry);
                            }
                        }
                        Next::Loop(j) => {
                            set(&mut next, index);
                            if let Some(entry) = self.entries.get(j) {
                                union(&mut next, entry);
                            }
                        }
                    }
                }
            }
            if !alive {
                return false;
            }
            current = next;
        }
        test(&current, self.accept)
    }
}

/// Pushes one state per character of `run`; the last one leads to the entry
/// set of element `after`.
fn push_run(states: &mut Vec<State>, run: &str, after: usize) {
    let mut chars = run.chars().peekable();
    while let Some(c) = chars.next() {
        let next = if chars.peek().is_some() {
            Next::Following
        } else {
            Next::Entry(after)
        };
        states.push(State {
            pred: Pred::Char(c),
            next,
        });
    }
}

#[cfg(test)]
#[cfg_attr(test, allow(clippy::unwrap_used))]
mod tests {
    use super::*;
    use crate::parse::parse_part;

    fn nfa(part: &str) -> Nfa {
        Nfa::new(&parse_part(part, 0).unwrap())
    }

    #[test]
    fn basics() {
        let n = nfa("a*b");
        assert!(n.matches("ab") && n.matches("axxb") && !n.matches("a") && !n.matches("ba"));
        let n = nfa("*");
        assert!(n.matches("") && n.matches("anything"));
        let n = nfa("?[a-c]");
        assert!(n.matches("xa") && n.matches("éc") && !n.matches("xd") && !n.matches("xab"));
        let n = nfa("{ab,a}bc");
        assert!(n.matches("abc") && n.matches("abbc") && !n.matches("ac"));
        let n = nfa("x{,y}z");
        assert!(n.matches("xz") && n.matches("xyz") && !n.matches("xyyz"));
        let n = nfa("[!a-c]*");
        assert!(n.matches("d") && n.matches("dab") && !n.matches("a") && !n.matches(""));
    }

    #[test]
    fn no_blowup() {
        let n = nfa("*a*a*a*a*a*a*a*a*a*a*b");
        let long = "a".repeat(5000);
        assert!(!n.matches(&long));
        assert!(n.matches(&format!("{long}b")));
    }
}
