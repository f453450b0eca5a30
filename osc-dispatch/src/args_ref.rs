//! Typed arguments read straight from a zero-copy view: [`FromArgRef`] for one
//! argument, [`FromArgRefs`] for a handler's whole argument list. No [`Value`] is built:
//! a number is read from the packet bytes and converted in place, so a handler over
//! numbers allocates nothing.
//!
//! The conversions follow the same [coercion policy](crate::args#coercion-policy) as
//! [`FromValue`], and fail with the same errors ([`DispatchError::ArgType`],
//! [`DispatchError::ArgRange`], [`DispatchError::ArgCount`]), which the dispatcher
//! counts as argument errors. Arrays are not offered here (take the
//! [`MessageRef`](osc_codec::MessageRef) with [`Handler::borrowed`](crate::Handler::borrowed)
//! and walk [`MessageRef::args`](osc_codec::MessageRef::args)).
//!
//! [`Value`]: osc_codec::Value

use osc_codec::{ArgRef, Args, Midi, Rgba, TimeTag};

use crate::{DispatchError, FromValue, Result};

/// The kind of an argument in error messages, as [`Value::kind`](osc_codec::Value::kind)
/// names it.
fn kind(arg: &ArgRef<'_>) -> &'static str {
    match arg {
        ArgRef::Int(_) => "int32",
        ArgRef::Float(_) => "float32",
        ArgRef::Str(_) | ArgRef::RawStr(_) => "string",
        ArgRef::Blob(_) => "blob",
        ArgRef::Long(_) => "int64",
        ArgRef::TimeTag(_) => "timetag",
        ArgRef::Double(_) => "float64",
        ArgRef::Symbol(_) | ArgRef::RawSymbol(_) => "symbol",
        ArgRef::Char(_) => "char",
        ArgRef::Rgba(_) => "rgba",
        ArgRef::Midi(_) => "midi",
        ArgRef::Bool(_) => "bool",
        ArgRef::Nil => "nil",
        ArgRef::Inf => "infinitum",
        _ => "array",
    }
}

fn mismatch<T>(index: usize, expected: &'static str, arg: &ArgRef<'_>) -> Result<T> {
    Err(DispatchError::ArgType {
        index,
        expected,
        found: kind(arg),
    })
}

/// Conversion of one argument of a zero-copy view into a Rust value, following the
/// [coercion policy](crate::args#coercion-policy) of [`FromValue`] (whose
/// [`OSC_TYPE`](FromValue::OSC_TYPE) it shares).
///
/// ```
/// use osc_codec::ArgRef;
/// use osc_dispatch::{DispatchError, FromArgRef};
///
/// assert_eq!(f32::from_arg_ref(&ArgRef::Int(440), 0)?, 440.0);
/// assert!(matches!(
///     i32::from_arg_ref(&ArgRef::Float(1.5), 0),
///     Err(DispatchError::ArgType { index: 0, expected: "i32", found: "float32" })
/// ));
/// # Ok::<(), DispatchError>(())
/// ```
pub trait FromArgRef: FromValue {
    /// Converts the argument at position `index`.
    ///
    /// # Errors
    /// [`DispatchError::ArgType`] or [`DispatchError::ArgRange`].
    fn from_arg_ref(arg: &ArgRef<'_>, index: usize) -> Result<Self>;

    /// Converts the argument at position `index`, which may be absent (`None`). Only
    /// `Option` accepts that.
    ///
    /// # Errors
    /// [`DispatchError::ArgCount`] for a missing argument, else as
    /// [`from_arg_ref`](Self::from_arg_ref).
    fn from_ref_slot(
        slot: Option<ArgRef<'_>>,
        index: usize,
        expected: usize,
        found: usize,
    ) -> Result<Self> {
        match slot {
            Some(a) => Self::from_arg_ref(&a, index),
            None => Err(DispatchError::ArgCount { expected, found }),
        }
    }

    /// Takes the argument at position `index` off the front of `args`, as
    /// [`from_ref_slot`](Self::from_ref_slot) converts it. Types with an exact wire
    /// form (`i32` for an `i`, `&str` behind `String` for an `s`) read it first with
    /// [`Args::next_as`], which skips building an [`ArgRef`].
    ///
    /// # Errors
    /// As [`from_ref_slot`](Self::from_ref_slot).
    #[inline(always)]
    fn from_args(args: &mut Args<'_>, index: usize, expected: usize, found: usize) -> Result<Self> {
        Self::from_ref_slot(args.next(), index, expected, found)
    }
}

/// `from_args` that reads the exact wire type `$wire` first and converts it with
/// `$into`, else falls back on the coercing path.
macro_rules! exact_first {
    ($wire:ty, $into:expr) => {
        #[inline(always)]
        fn from_args(
            args: &mut Args<'_>,
            index: usize,
            expected: usize,
            found: usize,
        ) -> Result<Self> {
            match args.next_as::<$wire>() {
                Some(v) => Ok($into(v)),
                None => Self::from_ref_slot(args.next(), index, expected, found),
            }
        }
    };
}

impl FromArgRef for i32 {
    exact_first!(i32, core::convert::identity);

    fn from_arg_ref(a: &ArgRef<'_>, index: usize) -> Result<Self> {
        match *a {
            ArgRef::Int(i) => Ok(i),
            ArgRef::Long(l) => i32::try_from(l).map_err(|_| DispatchError::ArgRange {
                index,
                value: l,
                expected: "i32",
            }),
            _ => mismatch(index, "i32", a),
        }
    }
}

impl FromArgRef for i64 {
    exact_first!(i64, core::convert::identity);

    fn from_arg_ref(a: &ArgRef<'_>, index: usize) -> Result<Self> {
        a.as_i64().map_or_else(|| mismatch(index, "i64", a), Ok)
    }
}

impl FromArgRef for f32 {
    exact_first!(f32, core::convert::identity);

    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    fn from_arg_ref(a: &ArgRef<'_>, index: usize) -> Result<Self> {
        match *a {
            ArgRef::Float(f) => Ok(f),
            ArgRef::Double(d) => Ok(d as f32),
            ArgRef::Int(i) => Ok(i as f32),
            ArgRef::Long(l) => Ok(l as f32),
            _ => mismatch(index, "f32", a),
        }
    }
}

impl FromArgRef for f64 {
    exact_first!(f64, core::convert::identity);

    #[allow(clippy::cast_precision_loss)]
    fn from_arg_ref(a: &ArgRef<'_>, index: usize) -> Result<Self> {
        match *a {
            ArgRef::Double(d) => Ok(d),
            ArgRef::Float(f) => Ok(f64::from(f)),
            ArgRef::Int(i) => Ok(f64::from(i)),
            ArgRef::Long(l) => Ok(l as f64),
            _ => mismatch(index, "f64", a),
        }
    }
}

macro_rules! simple_ref {
    ($($t:ty, $name:literal, $wire:ty => $into:expr, $pat:pat => $out:expr;)*) => {$(
        impl FromArgRef for $t {
            exact_first!($wire, $into);

            fn from_arg_ref(a: &ArgRef<'_>, index: usize) -> Result<Self> {
                match *a {
                    $pat => Ok($out),
                    _ => mismatch(index, $name, a),
                }
            }
        }
    )*};
}

simple_ref! {
    bool, "bool", bool => core::convert::identity, ArgRef::Bool(b) => b;
    String, "String", &str => str::to_owned, ArgRef::Str(s) | ArgRef::Symbol(s) => s.to_owned();
    char, "char", char => core::convert::identity, ArgRef::Char(c) => c;
    Vec<u8>, "Vec<u8> (blob)", &[u8] => <[u8]>::to_vec, ArgRef::Blob(b) => b.to_vec();
    TimeTag, "TimeTag", TimeTag => core::convert::identity, ArgRef::TimeTag(t) => t;
    Rgba, "Rgba", Rgba => core::convert::identity, ArgRef::Rgba(c) => c;
    Midi, "Midi", Midi => core::convert::identity, ArgRef::Midi(m) => m;
}

impl<T: FromArgRef> FromArgRef for Option<T> {
    fn from_arg_ref(a: &ArgRef<'_>, index: usize) -> Result<Self> {
        match a {
            ArgRef::Nil => Ok(None),
            a => T::from_arg_ref(a, index).map(Some),
        }
    }

    fn from_ref_slot(slot: Option<ArgRef<'_>>, index: usize, _: usize, _: usize) -> Result<Self> {
        slot.map_or(Ok(None), |a| Self::from_arg_ref(&a, index))
    }
}

/// Conversion of a view's whole argument list (its lazy [`Args`] iterator) into a
/// handler's parameter: one [`FromArgRef`] type or a tuple of up to 6, with the rules
/// of [`FromArgs`](crate::FromArgs) (trailing `Option`s may be missing; more arguments
/// than elements is [`DispatchError::ArgCount`]).
///
/// ```
/// use osc_codec::{decode, Message, Packet, PacketRef};
/// use osc_dispatch::{DispatchError, FromArgRefs};
///
/// let bytes = Packet::from(Message::new("/a").arg(440.0f32).arg(1)).to_bytes()?;
/// let PacketRef::Message(m) = decode(&bytes)? else { unreachable!() };
/// let (freq, amp): (f32, f64) = FromArgRefs::from_arg_refs(m.args())?;
/// assert_eq!((freq, amp), (440.0, 1.0));
/// let (f, gain, more): (f32, i32, Option<f32>) = FromArgRefs::from_arg_refs(m.args())?;
/// assert_eq!((f, gain, more), (440.0, 1, None));
/// assert!(matches!(f32::from_arg_refs(m.args()), Err(DispatchError::ArgCount { expected: 1, found: 2 })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait FromArgRefs: Sized {
    /// Converts the arguments.
    ///
    /// # Errors
    /// [`DispatchError::ArgCount`], [`DispatchError::ArgType`] or
    /// [`DispatchError::ArgRange`].
    fn from_arg_refs(args: Args<'_>) -> Result<Self>;

    /// The OSC type tag string, as [`FromArgs::osc_types`](crate::FromArgs::osc_types).
    ///
    /// ```
    /// use osc_dispatch::FromArgRefs;
    /// assert_eq!(<(f32, i32)>::osc_types().as_deref(), Some("fi"));
    /// ```
    fn osc_types() -> Option<String> {
        None
    }
}

impl<T: FromArgRef> FromArgRefs for T {
    fn from_arg_refs(mut args: Args<'_>) -> Result<Self> {
        let found = args.len();
        if found > 1 {
            return Err(DispatchError::ArgCount { expected: 1, found });
        }
        T::from_args(&mut args, 0, 1, found)
    }

    fn osc_types() -> Option<String> {
        T::OSC_TYPE.map(String::from)
    }
}

#[diagnostic::do_not_recommend]
impl FromArgRefs for () {
    fn from_arg_refs(args: Args<'_>) -> Result<Self> {
        match args.len() {
            0 => Ok(()),
            found => Err(DispatchError::ArgCount { expected: 0, found }),
        }
    }

    fn osc_types() -> Option<String> {
        Some(String::new())
    }
}

macro_rules! tuple_ref {
    ($n:literal; $($t:ident $i:literal),+) => {
        #[diagnostic::do_not_recommend]
        impl<$($t: FromArgRef),+> FromArgRefs for ($($t,)+) {
            fn from_arg_refs(mut args: Args<'_>) -> Result<Self> {
                let found = args.len();
                if found > $n {
                    return Err(DispatchError::ArgCount { expected: $n, found });
                }
                Ok(($($t::from_args(&mut args, $i, $n, found)?,)+))
            }

            fn osc_types() -> Option<String> {
                let mut tags = String::new();
                $(tags.push_str($t::OSC_TYPE?);)+
                Some(tags)
            }
        }
    };
}

tuple_ref!(1; A 0);
tuple_ref!(2; A 0, B 1);
tuple_ref!(3; A 0, B 1, C 2);
tuple_ref!(4; A 0, B 1, C 2, D 3);
tuple_ref!(5; A 0, B 1, C 2, D 3, E 4);
tuple_ref!(6; A 0, B 1, C 2, D 3, E 4, F 5);

#[cfg(test)]
mod tests {
    use super::*;
    use osc_codec::{Message, Packet, PacketRef, decode};

    fn with_view<R>(m: Message, f: impl FnOnce(Args<'_>) -> R) -> R {
        let bytes = Packet::from(m).to_bytes().unwrap();
        let PacketRef::Message(v) = decode(&bytes).unwrap() else {
            unreachable!()
        };
        f(v.args())
    }

    #[test]
    fn same_policy_as_owned() {
        assert_eq!(i32::from_arg_ref(&ArgRef::Long(7), 0).unwrap(), 7);
        assert!(matches!(
            i32::from_arg_ref(&ArgRef::Long(1 << 40), 2),
            Err(DispatchError::ArgRange { index: 2, .. })
        ));
        assert!(i32::from_arg_ref(&ArgRef::Float(1.0), 0).is_err());
        assert!(bool::from_arg_ref(&ArgRef::Int(1), 0).is_err());
        assert!(String::from_arg_ref(&ArgRef::RawStr(&[0xff]), 0).is_err());
        assert_eq!(String::from_arg_ref(&ArgRef::Symbol("s"), 0).unwrap(), "s");
        assert_eq!(f64::from_arg_ref(&ArgRef::Float(0.5), 0).unwrap(), 0.5);
        assert_eq!(Option::<i32>::from_arg_ref(&ArgRef::Nil, 0).unwrap(), None);
        assert!(matches!(
            f32::from_arg_ref(&ArgRef::ArrayOpen, 1),
            Err(DispatchError::ArgType {
                index: 1,
                found: "array",
                ..
            })
        ));
    }

    #[test]
    fn counts_and_options() {
        let m = Message::new("/a").arg(1).arg(2.0f32).arg("x");
        let t: (i32, f32, String) = with_view(m.clone(), FromArgRefs::from_arg_refs).unwrap();
        assert_eq!(t, (1, 2.0, "x".to_owned()));
        let e = with_view(m.clone(), <(i32, f32)>::from_arg_refs).unwrap_err();
        assert!(matches!(
            e,
            DispatchError::ArgCount {
                expected: 2,
                found: 3
            }
        ));
        let e = with_view(m.clone(), <(i32, f32, f32)>::from_arg_refs).unwrap_err();
        assert!(matches!(
            e,
            DispatchError::ArgType {
                index: 2,
                expected: "f32",
                found: "string"
            }
        ));
        let t: (i32, f32, String, Option<i32>) = with_view(m, FromArgRefs::from_arg_refs).unwrap();
        assert_eq!(t.3, None);
        assert!(with_view(Message::new("/b"), <()>::from_arg_refs).is_ok());
        assert!(with_view(Message::new("/b"), f32::from_arg_refs).is_err());
    }

    /// Reading the exact wire type first gives what the coercing path gives, for
    /// every pair of argument and target type.
    #[test]
    fn exact_first_agrees_with_the_coercing_path() {
        use osc_codec::Value;
        let values = [
            Value::Int(-7),
            Value::Float(1.5),
            Value::Long(1 << 40),
            Value::Long(12),
            Value::Double(-2.25),
            Value::String("s".into()),
            Value::Symbol("y".into()),
            Value::Blob(vec![1, 2]),
            Value::Bool(true),
            Value::Char('c'),
            Value::TimeTag(TimeTag::new(1, 2)),
            Value::Nil,
        ];
        fn both<T: FromArgRef + PartialEq + core::fmt::Debug>(m: &Message) {
            with_view(m.clone(), |args| {
                let mut fast = args.clone();
                let mut slow = args;
                let a = T::from_args(&mut fast, 0, 1, 1);
                let b = T::from_ref_slot(slow.next(), 0, 1, 1);
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{m:?}");
                assert_eq!(fast.len(), slow.len());
            });
        }
        for v in values {
            let m = Message::new("/x").arg(v);
            both::<i32>(&m);
            both::<i64>(&m);
            both::<f32>(&m);
            both::<f64>(&m);
            both::<bool>(&m);
            both::<String>(&m);
            both::<char>(&m);
            both::<Vec<u8>>(&m);
            both::<TimeTag>(&m);
            both::<Option<f32>>(&m);
        }
    }
}
