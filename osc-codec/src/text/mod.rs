//! OSC text notation: one packet per line, printable and parseable.
//!
//! - A message: `ADDRESS ,TAGS TOKEN...` with one token per tag, in order
//!   (`/ping ,` when there are no arguments).
//! - `i h`: decimal. `f d`: a decimal that reads back to the same value (`nan`, `inf`,
//!   `-inf`, `-0.0`; a NaN with an unusual bit pattern prints as `nan:XXXXXXXX`).
//! - `s S c`: a JSON string literal (`c` holds one character). Strings that are not
//!   valid text (`Value::RawString`) print as `<hex>`; a `<hex>` string that is valid
//!   UTF-8 parses as a plain string.
//! - `b`: `<hex>` (`<>` when empty). `r m`: 8 hex digits (`rrggbbaa`; port, status,
//!   data1, data2). `t`: `SSSSSSSS.FFFFFFFF` (hex seconds and fraction).
//! - `T F N I`: `true false nil infinitum`. Arrays: `[ ... ]`, brackets as tokens.
//! - A bundle: `#bundle(SSSSSSSS.FFFFFFFF) { PACKET ; PACKET }` (`{ }` when empty).
//! - Tokens are separated by ASCII whitespace; an address runs to the next one (so it
//!   may hold any other character, Unicode spaces included).
//!
//! ```
//! use osc_codec::{Message, Packet};
//! let line = r#"/t/arr ,i[s[fT]]i 1 [ "x" [ 2.5 true ] ] 3"#;
//! let p: Packet = line.parse()?;
//! assert_eq!(p.to_string(), line);
//! # Ok::<(), osc_codec::Error>(())
//! ```

//!
//! Printing (`Display` for packets and views) is in `print.rs`, parsing (`FromStr`,
//! [`parse_packet`]) in `parse.rs`.

mod parse;
mod print;

pub use parse::parse_packet;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::{Bundle, Message, Packet, TimeTag};
    use alloc::string::ToString;

    #[test]
    fn every_tag_prints_and_parses() {
        let line = r#"/all ,ifsbhtdScrmTFNI[i] 1 2.5 "s\"q\\\n" <00ff> -9 00000001.80000000 -0.0 "sym" "A" 11223344 00903c64 true false nil infinitum [ 7 ]"#;
        let p: Packet = line.parse().unwrap();
        assert_eq!(p.to_string(), line);
    }

    #[test]
    fn special_floats() {
        let m = Message::new("/f")
            .arg(f32::NAN)
            .arg(f32::INFINITY)
            .arg(f32::NEG_INFINITY)
            .arg(-0.0f32)
            .arg(f64::from_bits(0x7ff8_0000_0000_0001));
        let s = m.to_string();
        assert_eq!(s, "/f ,ffffd nan inf -inf -0.0 nan:7ff8000000000001");
        assert_eq!(s.parse::<Message>().unwrap(), m);
    }

    #[test]
    fn bundles_print_and_parse() {
        let b = Packet::from(
            Bundle::new(TimeTag::new(1, 2))
                .add(Message::new("/a"))
                .add(Bundle::immediate()),
        );
        let s = b.to_string();
        assert_eq!(
            s,
            "#bundle(00000001.00000002) { /a , ; #bundle(00000000.00000001) { } }"
        );
        assert_eq!(s.parse::<Packet>().unwrap(), b);
    }
}
