//! Printing packets and views in the text notation (see [`text`](crate::text)).

use core::fmt::{self, Display, Write};

use crate::{ArgRef, Bundle, BundleRef, Message, MessageRef, Packet, PacketRef, TimeTag, Value};

fn write_json_str(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if (c as u32) < 0x20 || c == '\u{7f}' => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn write_hex(f: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    f.write_char('<')?;
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    f.write_char('>')
}

fn write_f32(f: &mut impl Write, v: f32) -> fmt::Result {
    if v.is_nan() {
        if v.to_bits() == f32::NAN.to_bits() {
            f.write_str("nan")
        } else {
            write!(f, "nan:{:08x}", v.to_bits())
        }
    } else {
        write!(f, "{v:?}")
    }
}

fn write_f64(f: &mut impl Write, v: f64) -> fmt::Result {
    if v.is_nan() {
        if v.to_bits() == f64::NAN.to_bits() {
            f.write_str("nan")
        } else {
            write!(f, "nan:{:016x}", v.to_bits())
        }
    } else {
        write!(f, "{v:?}")
    }
}

/// Writes the token of one argument (brackets included).
fn write_token(f: &mut impl Write, a: &ArgRef<'_>) -> fmt::Result {
    match *a {
        ArgRef::Int(v) => write!(f, "{v}"),
        ArgRef::Long(v) => write!(f, "{v}"),
        ArgRef::Float(v) => write_f32(f, v),
        ArgRef::Double(v) => write_f64(f, v),
        ArgRef::Str(s) | ArgRef::Symbol(s) => write_json_str(f, s),
        ArgRef::RawStr(b) | ArgRef::RawSymbol(b) | ArgRef::Blob(b) => write_hex(f, b),
        ArgRef::Char(c) => {
            let mut buf = [0u8; 4];
            write_json_str(f, c.encode_utf8(&mut buf))
        }
        ArgRef::Rgba(v) => write!(f, "{:08x}", v.to_u32()),
        ArgRef::Midi(v) => write!(f, "{:08x}", v.to_u32()),
        ArgRef::TimeTag(t) => write!(f, "{t}"),
        ArgRef::Bool(true) => f.write_str("true"),
        ArgRef::Bool(false) => f.write_str("false"),
        ArgRef::Nil => f.write_str("nil"),
        ArgRef::Inf => f.write_str("infinitum"),
        ArgRef::ArrayOpen => f.write_char('['),
        ArgRef::ArrayClose => f.write_char(']'),
    }
}

fn write_values(f: &mut impl Write, args: &[Value]) -> fmt::Result {
    for a in args {
        f.write_char(' ')?;
        match a.as_arg() {
            Some(arg) => write_token(f, &arg)?,
            None => {
                if let Value::Array(inner) = a {
                    f.write_char('[')?;
                    write_values(f, inner)?;
                    f.write_str(" ]")?;
                }
            }
        }
    }
    Ok(())
}

impl Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.address, self.type_tags())?;
        write_values(f, &self.args)
    }
}

fn write_bundle_open(f: &mut impl Write, t: TimeTag, empty: bool) -> fmt::Result {
    write!(f, "#bundle({t}) {{")?;
    if empty {
        f.write_str(" }")?;
    }
    Ok(())
}

impl Display for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_bundle_open(f, self.timetag, self.content.is_empty())?;
        for (i, p) in self.content.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { " ; " })?;
            write!(f, "{p}")?;
        }
        if !self.content.is_empty() {
            f.write_str(" }")?;
        }
        Ok(())
    }
}

impl Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Packet::Message(m) => m.fmt(f),
            Packet::Bundle(b) => b.fmt(f),
        }
    }
}

impl Display for ArgRef<'_> {
    /// The argument's token in the text notation: `440`, `0.5`, `"sine"`, `<0a0b>` for
    /// a blob, `true`, `nil`, a timetag as `SSSSSSSS.FFFFFFFF`, `[` and `]` for array
    /// brackets.
    ///
    /// ```
    /// use osc_codec::ArgRef;
    /// assert_eq!(ArgRef::Float(0.5).to_string(), "0.5");
    /// assert_eq!(ArgRef::Str("sine").to_string(), "\"sine\"");
    /// assert_eq!(ArgRef::Blob(&[10, 11]).to_string(), "<0a0b>");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_token(f, self)
    }
}

impl Display for MessageRef<'_> {
    /// The text notation of a borrowed message (prints without allocating).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.address(), self.type_tags())?;
        for a in self.args() {
            f.write_char(' ')?;
            write_token(f, &a)?;
        }
        Ok(())
    }
}

impl Display for BundleRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut elements = self.elements().peekable();
        write_bundle_open(f, self.timetag(), elements.peek().is_none())?;
        let mut first = true;
        let mut any = false;
        for p in elements {
            f.write_str(if first { " " } else { " ; " })?;
            first = false;
            any = true;
            write!(f, "{p}")?;
        }
        if any {
            f.write_str(" }")?;
        }
        Ok(())
    }
}

impl Display for PacketRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketRef::Message(m) => m.fmt(f),
            PacketRef::Bundle(b) => b.fmt(f),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn borrowed_display_matches_owned() {
        let p = Packet::from(Bundle::immediate().add(Message::new("/x").arg(vec![1, 2]).arg("y")));
        let bytes = p.to_bytes().unwrap();
        let view = crate::decode(&bytes).unwrap();
        assert_eq!(view.to_string(), p.to_string());
    }
}
