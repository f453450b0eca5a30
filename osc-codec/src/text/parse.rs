//! Parsing the text notation (see [`text`](crate::text)).

use alloc::string::String;
use alloc::vec::Vec;
use core::str::FromStr;

use crate::{Bundle, DEPTH_CAP, Error, Message, Midi, Packet, Result, Rgba, Tag, TimeTag, Value};

struct Parser<'s> {
    s: &'s str,
    pos: usize,
}

impl<'s> Parser<'s> {
    fn err(&self, reason: &'static str) -> Error {
        let column = self
            .s
            .get(..self.pos)
            .map_or(self.pos, |p| p.chars().count())
            + 1;
        Error::Notation { column, reason }
    }

    fn rest(&self) -> &'s str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_whitespace())
                .len();
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, reason: &'static str) -> Result<()> {
        self.skip_ws();
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(reason))
        }
    }

    /// A whitespace-delimited word that also stops at any of `stops`.
    fn word(&mut self, stops: &[char]) -> &'s str {
        self.skip_ws();
        let rest = self.rest();
        let end = rest
            .find(|c: char| c.is_ascii_whitespace() || stops.contains(&c))
            .unwrap_or(rest.len());
        self.pos += end;
        rest.get(..end).unwrap_or("")
    }

    fn packet(&mut self, depth: usize) -> Result<Packet> {
        self.skip_ws();
        if self.rest().starts_with("#bundle") {
            if depth >= DEPTH_CAP {
                return Err(self.err("bundles nested too deeply"));
            }
            return Ok(Packet::Bundle(self.bundle(depth)?));
        }
        if self.peek() != Some('/') {
            return Err(self.err("expected an address starting with '/' or '#bundle('"));
        }
        Ok(Packet::Message(self.message(depth)?))
    }

    fn bundle(&mut self, depth: usize) -> Result<Bundle> {
        self.pos += "#bundle".len();
        if !self.eat('(') {
            return Err(self.err("expected '(' after #bundle"));
        }
        let start = self.pos;
        let tt = self.rest().get(..17).and_then(parse_timetag);
        let Some(timetag) = tt else {
            return Err(self.err("expected a timetag SSSSSSSS.FFFFFFFF"));
        };
        self.pos = start + 17;
        if !self.eat(')') {
            return Err(self.err("expected ')' after the timetag"));
        }
        self.expect('{', "expected '{' to open the bundle")?;
        let mut b = Bundle::new(timetag);
        self.skip_ws();
        if self.eat('}') {
            return Ok(b);
        }
        loop {
            b.content.push(self.packet(depth + 1)?);
            self.skip_ws();
            if self.eat(';') {
                continue;
            }
            if self.eat('}') {
                return Ok(b);
            }
            return Err(self.err("expected ';' or '}' in bundle"));
        }
    }

    fn message(&mut self, depth: usize) -> Result<Message> {
        let address = self.word(&[]);
        let tags_start = self.pos;
        let tags = self.word(&[';', '}']);
        let Some(tags) = tags.strip_prefix(',') else {
            self.pos = tags_start;
            self.skip_ws();
            return Err(self.err("expected a type-tag string starting with ','"));
        };
        let tags_col = self.pos - tags.len();
        let mut stack: Vec<Vec<Value>> = Vec::new();
        let mut args = Vec::new();
        for (i, c) in tags.char_indices() {
            let tag = u8::try_from(c).ok().and_then(Tag::from_byte);
            let Some(tag) = tag else {
                self.pos = tags_col + i;
                return Err(self.err("unknown type tag"));
            };
            match tag {
                Tag::ArrayOpen => {
                    self.expect('[', "expected '[' for an array")?;
                    if depth + stack.len() + 1 > DEPTH_CAP {
                        return Err(self.err("arrays nested too deeply"));
                    }
                    stack.push(core::mem::take(&mut args));
                }
                Tag::ArrayClose => {
                    self.expect(']', "expected ']' to close an array")?;
                    let Some(outer) = stack.pop() else {
                        return Err(self.err("']' without '[' in type tags"));
                    };
                    let inner = core::mem::replace(&mut args, outer);
                    args.push(Value::Array(inner));
                }
                tag => args.push(self.value(tag)?),
            }
        }
        if !stack.is_empty() {
            return Err(self.err("'[' without ']' in type tags"));
        }
        Ok(Message {
            address: address.into(),
            args,
        })
    }

    fn value(&mut self, tag: Tag) -> Result<Value> {
        self.skip_ws();
        let start = self.pos;
        let quoted = self.peek() == Some('"');
        let hex = self.peek() == Some('<');
        let v = match tag {
            Tag::String | Tag::Symbol | Tag::Char if quoted => {
                let s = self.json_string()?;
                match tag {
                    Tag::String => Value::String(s),
                    Tag::Symbol => Value::Symbol(s),
                    _ => {
                        let mut chars = s.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => Value::Char(c),
                            _ => {
                                self.pos = start;
                                return Err(self.err("a char must be exactly one character"));
                            }
                        }
                    }
                }
            }
            Tag::String | Tag::Symbol | Tag::Blob if hex => {
                let bytes = self.hex_bytes()?;
                // `<hex>` strings that are valid text are plain strings: the decoder
                // (default policy) gives them back that way.
                match (tag, String::from_utf8(bytes)) {
                    (Tag::String, Ok(s)) => Value::String(s),
                    (Tag::Symbol, Ok(s)) => Value::Symbol(s),
                    (Tag::String, Err(e)) => Value::RawString(e.into_bytes()),
                    (Tag::Symbol, Err(e)) => Value::RawSymbol(e.into_bytes()),
                    (_, Ok(s)) => Value::Blob(s.into_bytes()),
                    (_, Err(e)) => Value::Blob(e.into_bytes()),
                }
            }
            Tag::String | Tag::Symbol | Tag::Char => return Err(self.err("expected a JSON string")),
            Tag::Blob => return Err(self.err("expected <hex> for a blob")),
            _ => {
                let w = self.word(&[';', '}', ']']);
                let parsed = match tag {
                    Tag::Int => w.parse().ok().map(Value::Int),
                    Tag::Long => w.parse().ok().map(Value::Long),
                    Tag::Float => parse_f32(w).map(Value::Float),
                    Tag::Double => parse_f64(w).map(Value::Double),
                    Tag::Rgba => parse_hex32(w).map(|v| Value::Rgba(Rgba::from_u32(v))),
                    Tag::Midi => parse_hex32(w).map(|v| Value::Midi(Midi::from_u32(v))),
                    Tag::TimeTag => parse_timetag(w).map(Value::TimeTag),
                    Tag::True => (w == "true").then_some(Value::Bool(true)),
                    Tag::False => (w == "false").then_some(Value::Bool(false)),
                    Tag::Nil => (w == "nil").then_some(Value::Nil),
                    Tag::Inf => (w == "infinitum").then_some(Value::Inf),
                    _ => None,
                };
                match parsed {
                    Some(v) => v,
                    None => {
                        self.pos = start;
                        return Err(self.err(match tag {
                            Tag::Int => "expected an int32",
                            Tag::Long => "expected an int64",
                            Tag::Float | Tag::Double => "expected a number",
                            Tag::Rgba | Tag::Midi => "expected 8 hex digits",
                            Tag::TimeTag => "expected a timetag SSSSSSSS.FFFFFFFF",
                            Tag::True => "expected true",
                            Tag::False => "expected false",
                            Tag::Nil => "expected nil",
                            Tag::Inf => "expected infinitum",
                            _ => "unexpected token",
                        }));
                    }
                }
            }
        };
        Ok(v)
    }

    fn hex_bytes(&mut self) -> Result<Vec<u8>> {
        self.pos += 1; // '<'
        let rest = self.rest();
        let Some(end) = rest.find('>') else {
            return Err(self.err("unterminated <hex>"));
        };
        let hex = rest.get(..end).unwrap_or("");
        if hex.len() % 2 != 0 {
            return Err(self.err("odd number of hex digits"));
        }
        let mut out = Vec::with_capacity(hex.len() / 2);
        for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
            let byte = core::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok());
            match byte {
                Some(b) => out.push(b),
                None => {
                    self.pos += 2 * i;
                    return Err(self.err("invalid hex digit"));
                }
            }
        }
        self.pos += end + 1;
        Ok(out)
    }

    fn json_string(&mut self) -> Result<String> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.err("unterminated escape"));
                    };
                    self.pos += e.len_utf8();
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'u' => out.push(self.unicode_escape()?),
                        _ => return Err(self.err("unknown escape")),
                    }
                }
                c if (c as u32) < 0x20 => return Err(self.err("control character in string")),
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let v = self
            .rest()
            .get(..4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        match v {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => Err(self.err("expected 4 hex digits after \\u")),
        }
    }

    fn unicode_escape(&mut self) -> Result<char> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if !self.rest().starts_with("\\u") {
                return Err(self.err("lone surrogate in \\u escape"));
            }
            self.pos += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.err("invalid low surrogate"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code).ok_or_else(|| self.err("invalid \\u escape"))
    }
}

fn parse_hex32(w: &str) -> Option<u32> {
    (w.len() == 8 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u32::from_str_radix(w, 16).ok())
        .flatten()
}

fn parse_timetag(w: &str) -> Option<TimeTag> {
    let (s, f) = w.split_once('.')?;
    Some(TimeTag::new(parse_hex32(s)?, parse_hex32(f)?))
}

fn parse_f32(w: &str) -> Option<f32> {
    if let Some(bits) = w.strip_prefix("nan:") {
        return parse_hex32(bits).map(f32::from_bits).filter(|v| v.is_nan());
    }
    match w {
        "nan" => Some(f32::NAN),
        "inf" => Some(f32::INFINITY),
        "-inf" => Some(f32::NEG_INFINITY),
        _ if w
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) =>
        {
            w.parse().ok()
        }
        _ => None,
    }
}

fn parse_f64(w: &str) -> Option<f64> {
    if let Some(bits) = w.strip_prefix("nan:") {
        let ok = bits.len() == 16 && bits.bytes().all(|b| b.is_ascii_hexdigit());
        return ok
            .then(|| u64::from_str_radix(bits, 16).ok())
            .flatten()
            .map(f64::from_bits)
            .filter(|v| v.is_nan());
    }
    match w {
        "nan" => Some(f64::NAN),
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ if w
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) =>
        {
            w.parse().ok()
        }
        _ => None,
    }
}

/// Parses one packet in text notation; the whole string must be consumed.
///
/// ```
/// use osc_codec::{text::parse_packet, Error};
/// let err = parse_packet("/a ,i x").unwrap_err();
/// assert_eq!(err, Error::Notation { column: 7, reason: "expected an int32" });
/// ```
pub fn parse_packet(s: &str) -> Result<Packet> {
    let mut p = Parser { s, pos: 0 };
    let packet = p.packet(0)?;
    p.skip_ws();
    if !p.rest().is_empty() {
        return Err(p.err("unexpected text after the packet"));
    }
    Ok(packet)
}

impl FromStr for Packet {
    type Err = Error;
    fn from_str(s: &str) -> Result<Packet> {
        parse_packet(s)
    }
}

impl FromStr for Message {
    type Err = Error;
    fn from_str(s: &str) -> Result<Message> {
        match parse_packet(s)? {
            Packet::Message(m) => Ok(m),
            Packet::Bundle(_) => Err(Error::Notation {
                column: 1,
                reason: "expected a message, found a bundle",
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn errors_point_at_the_column() {
        let e = |s: &str| parse_packet(s).unwrap_err();
        assert_eq!(
            e("x"),
            Error::Notation {
                column: 1,
                reason: "expected an address starting with '/' or '#bundle('"
            }
        );
        assert_eq!(
            e("/a i"),
            Error::Notation {
                column: 4,
                reason: "expected a type-tag string starting with ','"
            }
        );
        assert_eq!(
            e("/a ,x"),
            Error::Notation {
                column: 5,
                reason: "unknown type tag"
            }
        );
        assert_eq!(
            e("/a ,s \"abc"),
            Error::Notation {
                column: 11,
                reason: "unterminated string"
            }
        );
        assert_eq!(
            e("/a ,i 1 2"),
            Error::Notation {
                column: 9,
                reason: "unexpected text after the packet"
            }
        );
        assert_eq!(
            e("/a ,c \"ab\""),
            Error::Notation {
                column: 7,
                reason: "a char must be exactly one character"
            }
        );
    }

    #[test]
    fn hex_strings_that_are_text_parse_as_text() {
        // Found by the roundtrip fuzz target.
        let p: Packet = "/\n,s <41>".parse().unwrap();
        let bytes = p.to_bytes().unwrap();
        assert_eq!(Packet::decode(&bytes).unwrap(), p);
        let m: Message = "/ ,s <41>".parse().unwrap();
        assert_eq!(m.args, [Value::String("A".to_string())]);
        let m: Message = "/ ,S <ff>".parse().unwrap();
        assert_eq!(m.args, [Value::RawSymbol(vec![0xff])]);
        assert_eq!(m.to_string(), "/ ,S <ff>");
    }

    #[test]
    fn unicode_escapes() {
        let m: Message = r#"/u ,s "\u00e9\ud83c\udfb5""#.parse().unwrap();
        assert_eq!(m.args, [Value::String("é🎵".to_string())]);
    }
}
