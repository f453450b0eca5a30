//! Typed reads from a decoded view: [`MessageRef::args_as`] reads a whole argument
//! list as a tuple or an array of Rust types, [`Args::next_as`] one argument.
//!
//! The types are read exactly as they are on the wire (`i32` is an `i` argument,
//! `&str` an `s` or `S`, `Option<T>` a `T` or an `N`): the tags are compared with the
//! types once, then the data is taken in order with no per-argument dispatch, which is
//! what makes this the cheapest way to read a message whose types are known. Nothing
//! is converted; a handler that wants `440` to be read as `440.0` uses the coercing
//! extraction of `osc-dispatch` (`FromArgRefs`), which falls back on this.
//!
//! The message was validated whole when it was decoded, so a read fails only when the
//! types differ (and, for `&str`, when a string policy other than UTF-8 kept a string
//! as raw bytes).
//!
//! ```
//! use osc_codec::{decode, Message, Packet, PacketRef};
//!
//! let bytes = Packet::from(Message::new("/synth/1").arg(440).arg(0.5f32).arg("sine")).to_bytes()?;
//! let PacketRef::Message(m) = decode(&bytes)? else { unreachable!() };
//! let (note, gain, wave): (i32, f32, &str) = m.args_as().expect("i, f, s");
//! assert_eq!((note, gain, wave), (440, 0.5, "sine"));
//! // The wrong types, or the wrong count, read nothing.
//! assert_eq!(m.args_as::<(f32, f32, &str)>(), None);
//! assert_eq!(m.args_as::<(i32, f32)>(), None);
//! # Ok::<(), osc_codec::Error>(())
//! ```

use crate::read::wire_char;
use crate::trusted;
use crate::{Args, MessageRef, Midi, Rgba, StringPolicy, TimeTag};

mod sealed {
    /// Only this crate's types are read by [`super::WireArg`] and [`super::WireArgs`].
    pub trait Sealed {}
}
use sealed::Sealed;

/// A Rust type that one OSC argument is read as, exactly as it is on the wire (see
/// [`WireArgs`]):
///
/// | type | tags |
/// |---|---|
/// | `i32`, `i64` | `i`, `h` |
/// | `f32`, `f64` | `f`, `d` |
/// | `&str` | `s`, `S` (text under the message's string policy) |
/// | `&[u8]` | `b` |
/// | `bool` | `T`, `F` |
/// | `char`, [`TimeTag`], [`Rgba`], [`Midi`] | `c`, `t`, `r`, `m` |
/// | `Option<T>` | `N` (as `None`), or the tags of `T` |
///
/// ```
/// use osc_codec::{decode, Message, Packet, PacketRef};
///
/// let bytes = Packet::from(Message::new("/a").arg(true).arg(2.5f64)).to_bytes()?;
/// let PacketRef::Message(m) = decode(&bytes)? else { unreachable!() };
/// assert_eq!(m.args_as::<(bool, f64)>(), Some((true, 2.5)));
/// # Ok::<(), osc_codec::Error>(())
/// ```
pub trait WireArg<'a>: Sized + Sealed {
    /// Whether an argument tagged `tag` is read as this type.
    #[doc(hidden)]
    fn accepts(tag: u8) -> bool;

    /// Takes the argument tagged `tag` (which [`accepts`](Self::accepts) allowed) off
    /// the front of validated data.
    #[doc(hidden)]
    fn take(tag: u8, data: &mut &'a [u8], strings: StringPolicy) -> Option<Self>;

    /// A value that stands in while an array is filled (never returned).
    #[doc(hidden)]
    fn filler() -> Self;

    /// The size of the data of every argument read as this type, when it is fixed and
    /// not zero (so an array of it is bounds-checked once). Only types that accept a
    /// single tag set it.
    #[doc(hidden)]
    const FIXED_SIZE: Option<usize> = None;
}

macro_rules! word_arg {
    ($($t:ty, $tag:literal, $kind:ident, |$v:ident| $out:expr, $filler:expr;)*) => {$(
        impl Sealed for $t {}
        impl WireArg<'_> for $t {
            const FIXED_SIZE: Option<usize> = Some(word_arg!(@size $kind));

            #[inline(always)]
            fn accepts(tag: u8) -> bool {
                tag == $tag
            }

            #[inline(always)]
            fn take(_: u8, data: &mut &[u8], _: StringPolicy) -> Option<Self> {
                let $v = trusted::$kind(data)?;
                $out
            }

            #[inline(always)]
            fn filler() -> Self {
                $filler
            }
        }
    )*};
    (@size word) => { 4 };
    (@size dword) => { 8 };
}

word_arg! {
    i32, b'i', word, |v| Some(v as i32), 0;
    f32, b'f', word, |v| Some(f32::from_bits(v)), 0.0;
    i64, b'h', dword, |v| Some(v as i64), 0;
    f64, b'd', dword, |v| Some(f64::from_bits(v)), 0.0;
    TimeTag, b't', dword, |v| Some(TimeTag::from_bits(v)), TimeTag::from_bits(0);
    char, b'c', word, |v| wire_char(v), '\0';
    Rgba, b'r', word, |v| Some(Rgba::from_u32(v)), Rgba::from_u32(0);
    Midi, b'm', word, |v| Some(Midi::from_u32(v)), Midi::from_u32(0);
}

impl Sealed for bool {}
impl WireArg<'_> for bool {
    #[inline(always)]
    fn accepts(tag: u8) -> bool {
        tag == b'T' || tag == b'F'
    }

    #[inline(always)]
    fn take(tag: u8, _: &mut &[u8], _: StringPolicy) -> Option<Self> {
        Some(tag == b'T')
    }

    fn filler() -> Self {
        false
    }
}

impl Sealed for &str {}
impl<'a> WireArg<'a> for &'a str {
    #[inline(always)]
    fn accepts(tag: u8) -> bool {
        tag == b's' || tag == b'S'
    }

    #[inline(always)]
    fn take(_: u8, data: &mut &'a [u8], strings: StringPolicy) -> Option<Self> {
        match trusted::string(data, strings)? {
            crate::read::WireStr::Text(s) => Some(s),
            crate::read::WireStr::Raw(_) => None,
        }
    }

    fn filler() -> Self {
        ""
    }
}

impl Sealed for &[u8] {}
impl<'a> WireArg<'a> for &'a [u8] {
    #[inline(always)]
    fn accepts(tag: u8) -> bool {
        tag == b'b'
    }

    #[inline(always)]
    fn take(_: u8, data: &mut &'a [u8], _: StringPolicy) -> Option<Self> {
        trusted::blob(data)
    }

    fn filler() -> Self {
        &[]
    }
}

impl<T: Sealed> Sealed for Option<T> {}
impl<'a, T: WireArg<'a>> WireArg<'a> for Option<T> {
    #[inline(always)]
    fn accepts(tag: u8) -> bool {
        tag == b'N' || T::accepts(tag)
    }

    #[inline(always)]
    fn take(tag: u8, data: &mut &'a [u8], strings: StringPolicy) -> Option<Self> {
        if tag == b'N' {
            Some(None)
        } else {
            T::take(tag, data, strings).map(Some)
        }
    }

    fn filler() -> Self {
        None
    }
}

/// A whole argument list read as Rust types by [`MessageRef::args_as`]: `()`, a tuple
/// of up to 8 [`WireArg`] types, or an array `[T; N]` of one.
///
/// The types are read exactly as they are on the wire: the tags are compared with the
/// types once, then the data is taken in order with no per-argument dispatch. Nothing
/// is converted; a handler that wants `440` read as `440.0` uses the coercing
/// extraction of `osc-dispatch` (`FromArgRefs`), which tries this first.
///
/// ```
/// use osc_codec::{decode, Message, Packet, PacketRef};
///
/// let mut msg = Message::new("/sensor/accel");
/// for v in [0.1f32, -0.2, 9.8] {
///     msg.push(v);
/// }
/// let bytes = Packet::from(msg).to_bytes()?;
/// let PacketRef::Message(m) = decode(&bytes)? else { unreachable!() };
/// assert_eq!(m.args_as::<[f32; 3]>(), Some([0.1, -0.2, 9.8]));
/// assert_eq!(m.args_as::<[f32; 4]>(), None);
/// # Ok::<(), osc_codec::Error>(())
/// ```
pub trait WireArgs<'a>: Sized + Sealed {
    /// Reads the arguments tagged `tags` from validated `data`.
    #[doc(hidden)]
    fn read(tags: &[u8], data: &'a [u8], strings: StringPolicy) -> Option<Self>;
}

impl Sealed for () {}
impl WireArgs<'_> for () {
    #[inline(always)]
    fn read(tags: &[u8], _: &[u8], _: StringPolicy) -> Option<Self> {
        tags.is_empty().then_some(())
    }
}

macro_rules! tuple_args {
    ($($t:ident $x:ident),+) => {
        impl<$($t: Sealed),+> Sealed for ($($t,)+) {}
        impl<'a, $($t: WireArg<'a>),+> WireArgs<'a> for ($($t,)+) {
            #[inline(always)]
            fn read(tags: &[u8], mut data: &'a [u8], strings: StringPolicy) -> Option<Self> {
                let &[$($x),+] = tags else { return None };
                if !($($t::accepts($x))&&+) {
                    return None;
                }
                let d = &mut data;
                Some(($($t::take($x, d, strings)?,)+))
            }
        }
    };
}

tuple_args!(A a);
tuple_args!(A a, B b);
tuple_args!(A a, B b, C c);
tuple_args!(A a, B b, C c, D d);
tuple_args!(A a, B b, C c, D d, E e);
tuple_args!(A a, B b, C c, D d, E e, F f);
tuple_args!(A a, B b, C c, D d, E e, F f, G g);
tuple_args!(A a, B b, C c, D d, E e, F f, G g, H h);

impl<T: Sealed, const N: usize> Sealed for [T; N] {}
impl<'a, T: WireArg<'a>, const N: usize> WireArgs<'a> for [T; N] {
    #[inline(always)]
    fn read(tags: &[u8], mut data: &'a [u8], strings: StringPolicy) -> Option<Self> {
        let tags: &[u8; N] = tags.try_into().ok()?;
        // Every tag is tested (no early exit), so the tests run as one vector compare.
        if !tags.iter().fold(true, |all, &t| all & T::accepts(t)) {
            return None;
        }
        let mut whole = true;
        let mut keep = |taken: Option<T>| {
            whole &= taken.is_some();
            taken.unwrap_or_else(T::filler)
        };
        let out = if let Some(size) = T::FIXED_SIZE {
            // A fixed-size type accepts one tag, so every tag is the first one.
            let first = tags.first().copied().unwrap_or_default();
            let mut each = data.get(..N.checked_mul(size)?)?.chunks_exact(size);
            core::array::from_fn(|_| {
                keep(
                    each.next()
                        .and_then(|mut d| T::take(first, &mut d, strings)),
                )
            })
        } else {
            let mut tag = tags.iter().copied();
            core::array::from_fn(|_| keep(tag.next().and_then(|t| T::take(t, &mut data, strings))))
        };
        whole.then_some(out)
    }
}

impl<'a> MessageRef<'a> {
    /// The whole argument list as Rust types ([`WireArgs`]: a tuple, an array, `()`),
    /// read exactly as they are on the wire; `None` when the count or a type differs.
    /// Strings and blobs borrow from the packet. The tags are compared with the types
    /// once, so this is cheaper than the lazy [`args`](Self::args) when the types are
    /// known; it converts nothing (see [`WireArgs`]).
    ///
    /// ```
    /// use osc_codec::{decode, Message, Packet, PacketRef};
    ///
    /// let bytes = Packet::from(Message::new("/cue").arg("intro").arg(vec![1u8, 2])).to_bytes()?;
    /// let PacketRef::Message(m) = decode(&bytes)? else { unreachable!() };
    /// let (name, data): (&str, &[u8]) = m.args_as().expect("s, b");
    /// assert_eq!((name, data), ("intro", &[1u8, 2][..]));
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    #[inline]
    pub fn args_as<T: WireArgs<'a>>(&self) -> Option<T> {
        T::read(self.tags(), self.data(), self.policy.strings)
    }
}

impl<'a> Args<'a> {
    /// Takes the next argument as `T` ([`WireArg`]) if its tag is one `T` is read from;
    /// otherwise (or at the end) returns `None` and leaves the iterator where it was.
    ///
    /// ```
    /// use osc_codec::{decode, ArgRef, Message, Packet, PacketRef};
    ///
    /// let bytes = Packet::from(Message::new("/a").arg(1).arg("x")).to_bytes()?;
    /// let PacketRef::Message(m) = decode(&bytes)? else { unreachable!() };
    /// let mut args = m.args();
    /// assert_eq!(args.next_as::<f32>(), None);
    /// assert_eq!(args.next_as::<i32>(), Some(1));
    /// assert_eq!(args.next(), Some(ArgRef::Str("x")));
    /// assert_eq!(args.next_as::<&str>(), None);
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    #[inline(always)]
    pub fn next_as<T: WireArg<'a>>(&mut self) -> Option<T> {
        let (&tag, rest) = self.tags.split_first()?;
        if !T::accepts(tag) {
            return None;
        }
        let mut data = self.data;
        let value = T::take(tag, &mut data, self.policy.strings)?;
        self.tags = rest;
        self.data = data;
        Some(value)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::{Message, Options, Packet, PacketRef, StringPolicy, TimeTag, decode_with};

    fn with_view<R>(m: Message, opts: &Options, f: impl FnOnce(crate::MessageRef<'_>) -> R) -> R {
        let bytes = Packet::from(m).to_bytes().unwrap();
        let PacketRef::Message(v) = decode_with(&bytes, opts).unwrap() else {
            unreachable!()
        };
        f(v)
    }

    fn view<R>(m: Message, f: impl FnOnce(crate::MessageRef<'_>) -> R) -> R {
        with_view(m, &Options::DEFAULT, f)
    }

    #[test]
    fn every_type_reads_as_on_the_wire() {
        let tt = TimeTag::new(5, 6);
        let m = Message::new("/all")
            .arg(-3)
            .arg(1.5f32)
            .arg("héllo")
            .arg(vec![9u8, 8, 7])
            .arg(1i64 << 40)
            .arg(tt)
            .arg(-0.25f64)
            .arg('é');
        let got = view(m, |v| {
            v.args_as::<(i32, f32, &str, &[u8], i64, TimeTag, f64, char)>()
                .map(|(a, b, c, d, e, f, g, h)| (a, b, c.to_owned(), d.to_vec(), e, f, g, h))
        });
        assert_eq!(
            got,
            Some((
                -3,
                1.5,
                "héllo".to_owned(),
                vec![9, 8, 7],
                1 << 40,
                tt,
                -0.25,
                'é'
            ))
        );
        let m = Message::new("/b")
            .arg(true)
            .arg(false)
            .arg(crate::Value::Nil)
            .arg(2)
            .arg(crate::Symbol("sym".into()));
        let got = view(m, |v| {
            v.args_as::<(bool, bool, Option<i32>, Option<i32>, &str)>()
                .map(|(a, b, c, d, e)| (a, b, c, d, e.to_owned()))
        });
        assert_eq!(got, Some((true, false, None, Some(2), "sym".to_owned())));
    }

    #[test]
    fn no_conversion_and_exact_counts() {
        let m = Message::new("/a").arg(1).arg(2.0f32);
        view(m, |v| {
            assert_eq!(v.args_as::<(i32, f32)>(), Some((1, 2.0)));
            assert_eq!(v.args_as::<(f32, f32)>(), None, "no int to float");
            assert_eq!(v.args_as::<(i32, f64)>(), None, "no float to double");
            assert_eq!(v.args_as::<(i32,)>(), None, "too few");
            assert_eq!(v.args_as::<(i32, f32, i32)>(), None, "too many");
            assert_eq!(v.args_as::<()>(), None);
            assert_eq!(v.args_as::<[i32; 2]>(), None);
        });
        view(Message::new("/none"), |v| {
            assert_eq!(v.args_as::<()>(), Some(()));
            assert_eq!(v.args_as::<[f32; 0]>(), Some([]));
        });
    }

    #[test]
    fn arrays_of_one_type() {
        let mut m = Message::new("/names");
        for s in ["a", "bcde", "", "fgh"] {
            m.push(s);
        }
        view(m, |v| {
            assert_eq!(v.args_as::<[&str; 4]>(), Some(["a", "bcde", "", "fgh"]));
        });
        let m = Message::new("/opt").arg(1).arg(crate::Value::Nil).arg(3);
        view(m, |v| {
            assert_eq!(
                v.args_as::<[Option<i32>; 3]>(),
                Some([Some(1), None, Some(3)])
            );
        });
    }

    #[test]
    fn an_array_reads_only_when_every_tag_is_its_type() {
        for at in 0..16 {
            let mut m = Message::new("/eq");
            for k in 0..16 {
                if k == at {
                    m.push(k as i32);
                } else {
                    m.push(k as f32);
                }
            }
            view(m, |v| {
                assert_eq!(v.args_as::<[f32; 16]>(), None, "an i at {at}");
                assert!(v.args_as::<[Option<f32>; 16]>().is_none(), "an i at {at}");
            });
            // The same place holding an `N`, or an `f`, reads.
            let floats = |k: usize| k as f32 * 0.5;
            let mut m = Message::new("/eq");
            for k in 0..16 {
                m.push(if k == at {
                    crate::Value::Nil
                } else {
                    crate::Value::Float(floats(k))
                });
            }
            view(m, |v| {
                let want: [Option<f32>; 16] =
                    core::array::from_fn(|k| (k != at).then(|| floats(k)));
                assert_eq!(v.args_as::<[Option<f32>; 16]>(), Some(want), "an N at {at}");
                assert_eq!(v.args_as::<[f32; 16]>(), None, "an N at {at}");
            });
        }
        let mut m = Message::new("/eq");
        for k in 0..16 {
            m.push(k as f32);
        }
        view(m, |v| {
            assert_eq!(
                v.args_as::<[f32; 16]>(),
                Some(core::array::from_fn(|k| k as f32))
            );
        });
    }

    #[test]
    fn raw_strings_are_not_text() {
        let m = Message::new("/raw").arg(crate::Value::RawString(vec![b'a', 0xff]));
        let opts = Options {
            strings: StringPolicy::Raw,
            ..Options::DEFAULT
        };
        with_view(m, &opts, |v| {
            assert_eq!(v.args_as::<(&str,)>(), None);
            assert_eq!(v.args_as::<[&str; 1]>(), None);
            assert_eq!(v.args().next_as::<&str>(), None);
        });
    }

    #[test]
    fn next_as_leaves_the_iterator_on_a_mismatch() {
        let m = Message::new("/a").arg(1).arg(2.0f32).arg(vec![1u8]);
        view(m, |v| {
            let mut args = v.args();
            assert_eq!(args.next_as::<f32>(), None);
            assert_eq!(args.len(), 3);
            assert_eq!(args.next_as::<i32>(), Some(1));
            assert_eq!(args.next_as::<f32>(), Some(2.0));
            assert_eq!(args.next_as::<&[u8]>(), Some(&[1u8][..]));
            assert_eq!(args.next_as::<i32>(), None);
            assert_eq!(args.next(), None);
        });
    }
}
