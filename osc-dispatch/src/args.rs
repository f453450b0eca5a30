//! Typed arguments: [`FromValue`] for one argument, [`FromArgs`] for a handler's whole
//! argument list (a single value or a tuple of up to 8).
//!
//! # Coercion policy
//! Conversions never lose an integer's value and never guess:
//!
//! | Rust type | accepts |
//! |---|---|
//! | `i32` | `i`; `h` when it fits in 32 bits (otherwise [`DispatchError::ArgRange`]) |
//! | `i64` | `i`, `h` |
//! | `f32` | `f`; `d` (rounded to nearest); `i`, `h` (as by `as`, exact up to 2^24) |
//! | `f64` | `d`, `f`; `i`, `h` (exact up to 2^53) |
//! | `bool` | `T`, `F` only (no integer truthiness) |
//! | `String` | `s`, `S` (UTF-8 text; raw non-UTF-8 strings are refused) |
//! | `char` | `c` |
//! | `Vec<u8>` | `b` |
//! | `TimeTag`, `Rgba`, `Midi` | `t`, `r`, `m` |
//! | `Vec<Value>` | an array `[...]` |
//! | `Value` | anything |
//! | `Option<T>` | what `T` accepts, `N` (nil) as `None`, and a missing trailing argument as `None` |
//!
//! A float is never turned into an integer, and a string never into a number. A tuple
//! needs as many arguments as it has elements (trailing `Option`s may be missing);
//! more arguments than elements is [`DispatchError::ArgCount`]. Borrowed `&str`
//! parameters are not offered: a handler type cannot borrow from each message without
//! higher-ranked types that defeat closure inference; take `String`, or take the
//! `&Message` and use [`Value::as_str`].

use osc_codec::{Midi, Rgba, TimeTag, Value};

use crate::{DispatchError, Result};

/// Conversion of one OSC argument into a Rust value, following the
/// [coercion policy](self#coercion-policy).
///
/// ```
/// use osc_codec::Value;
/// use osc_dispatch::{DispatchError, FromValue};
///
/// assert_eq!(f32::from_value(&Value::Int(440), 0)?, 440.0);
/// assert!(matches!(
///     i32::from_value(&Value::Float(1.5), 0),
///     Err(DispatchError::ArgType { index: 0, expected: "i32", found: "float32" })
/// ));
/// # Ok::<(), DispatchError>(())
/// ```
pub trait FromValue: Sized {
    /// The OSC type tag this type stands for in a method's signature (what OSCQuery
    /// publishes as `TYPE`): `i32` is `"i"`, `f32` is `"f"`, `bool` is `"T"`, ...; `None`
    /// when no single tag describes it (`Value`, arrays of any `Value`).
    ///
    /// ```
    /// use osc_dispatch::FromValue;
    /// assert_eq!(<f32 as FromValue>::OSC_TYPE, Some("f"));
    /// assert_eq!(<Option<i64> as FromValue>::OSC_TYPE, Some("h"));
    /// assert_eq!(<osc_codec::Value as FromValue>::OSC_TYPE, None);
    /// ```
    const OSC_TYPE: Option<&'static str> = None;

    /// Converts the argument at position `index`.
    ///
    /// # Errors
    /// [`DispatchError::ArgType`] or [`DispatchError::ArgRange`].
    fn from_value(value: &Value, index: usize) -> Result<Self>;

    /// Converts the argument at position `index`, which may be absent (`None`) when the
    /// message has fewer arguments than the handler takes. Only `Option` accepts that.
    ///
    /// # Errors
    /// [`DispatchError::ArgCount`] for a missing argument, else as
    /// [`from_value`](Self::from_value).
    fn from_slot(
        slot: Option<&Value>,
        index: usize,
        expected: usize,
        found: usize,
    ) -> Result<Self> {
        let _ = index;
        match slot {
            Some(v) => Self::from_value(v, index),
            None => Err(DispatchError::ArgCount { expected, found }),
        }
    }
}

fn mismatch<T>(index: usize, expected: &'static str, v: &Value) -> Result<T> {
    Err(DispatchError::ArgType {
        index,
        expected,
        found: v.kind(),
    })
}

impl FromValue for i32 {
    const OSC_TYPE: Option<&'static str> = Some("i");

    fn from_value(v: &Value, index: usize) -> Result<Self> {
        match *v {
            Value::Int(i) => Ok(i),
            Value::Long(l) => i32::try_from(l).map_err(|_| DispatchError::ArgRange {
                index,
                value: l,
                expected: "i32",
            }),
            _ => mismatch(index, "i32", v),
        }
    }
}

impl FromValue for i64 {
    const OSC_TYPE: Option<&'static str> = Some("h");

    fn from_value(v: &Value, index: usize) -> Result<Self> {
        v.as_i64().map_or_else(|| mismatch(index, "i64", v), Ok)
    }
}

impl FromValue for f32 {
    const OSC_TYPE: Option<&'static str> = Some("f");

    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    fn from_value(v: &Value, index: usize) -> Result<Self> {
        match *v {
            Value::Float(f) => Ok(f),
            Value::Double(d) => Ok(d as f32),
            Value::Int(i) => Ok(i as f32),
            Value::Long(l) => Ok(l as f32),
            _ => mismatch(index, "f32", v),
        }
    }
}

impl FromValue for f64 {
    const OSC_TYPE: Option<&'static str> = Some("d");

    #[allow(clippy::cast_precision_loss)]
    fn from_value(v: &Value, index: usize) -> Result<Self> {
        match *v {
            Value::Double(d) => Ok(d),
            Value::Float(f) => Ok(f64::from(f)),
            Value::Int(i) => Ok(f64::from(i)),
            Value::Long(l) => Ok(l as f64),
            _ => mismatch(index, "f64", v),
        }
    }
}

macro_rules! simple {
    ($($t:ty, $name:literal, $tag:expr, $pat:pat => $out:expr;)*) => {$(
        impl FromValue for $t {
            const OSC_TYPE: Option<&'static str> = $tag;

            fn from_value(v: &Value, index: usize) -> Result<Self> {
                match v {
                    $pat => Ok($out),
                    _ => mismatch(index, $name, v),
                }
            }
        }
    )*};
}

simple! {
    bool, "bool", Some("T"), Value::Bool(b) => *b;
    String, "String", Some("s"), Value::String(s) | Value::Symbol(s) => s.clone();
    char, "char", Some("c"), Value::Char(c) => *c;
    Vec<u8>, "Vec<u8> (blob)", Some("b"), Value::Blob(b) => b.clone();
    TimeTag, "TimeTag", Some("t"), Value::TimeTag(t) => *t;
    Rgba, "Rgba", Some("r"), Value::Rgba(c) => *c;
    Midi, "Midi", Some("m"), Value::Midi(m) => *m;
    Vec<Value>, "Vec<Value> (array)", None, Value::Array(a) => a.clone();
}

impl FromValue for Value {
    fn from_value(v: &Value, _index: usize) -> Result<Self> {
        Ok(v.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const OSC_TYPE: Option<&'static str> = T::OSC_TYPE;

    fn from_value(v: &Value, index: usize) -> Result<Self> {
        match v {
            Value::Nil => Ok(None),
            v => T::from_value(v, index).map(Some),
        }
    }

    fn from_slot(slot: Option<&Value>, index: usize, _: usize, _: usize) -> Result<Self> {
        slot.map_or(Ok(None), |v| Self::from_value(v, index))
    }
}

/// Conversion of a message's whole argument list into a handler's parameter: one
/// [`FromValue`] type (for a message with one argument) or a tuple of up to 8.
///
/// ```
/// use osc_codec::Value;
/// use osc_dispatch::{DispatchError, FromArgs};
///
/// let args = [Value::Float(440.0), Value::Int(1), Value::String("sine".into())];
/// let (freq, amp, shape): (f32, f64, String) = FromArgs::from_args(&args)?;
/// assert_eq!((freq, amp, shape.as_str()), (440.0, 1.0, "sine"));
///
/// // A trailing Option may be missing.
/// let (f, gain): (f32, Option<f32>) = FromArgs::from_args(&args[..1])?;
/// assert_eq!((f, gain), (440.0, None));
///
/// let err = <(f32, f32)>::from_args(&args).unwrap_err();
/// assert!(matches!(err, DispatchError::ArgCount { expected: 2, found: 3 }));
/// # Ok::<(), DispatchError>(())
/// ```
pub trait FromArgs: Sized {
    /// Converts the arguments.
    ///
    /// # Errors
    /// [`DispatchError::ArgCount`], [`DispatchError::ArgType`] or
    /// [`DispatchError::ArgRange`].
    fn from_args(args: &[Value]) -> Result<Self>;

    /// The OSC type tag string of the arguments (without the leading `,`), when every
    /// element has one ([`FromValue::OSC_TYPE`]): `(f32, i32)` is `"fi"`, `()` is `""`.
    ///
    /// ```
    /// use osc_dispatch::FromArgs;
    /// assert_eq!(<(f32, i32, String)>::osc_types().as_deref(), Some("fis"));
    /// assert_eq!(<(f32, osc_codec::Value)>::osc_types(), None);
    /// ```
    fn osc_types() -> Option<String> {
        None
    }
}

impl<T: FromValue> FromArgs for T {
    fn from_args(args: &[Value]) -> Result<Self> {
        if args.len() > 1 {
            return Err(DispatchError::ArgCount {
                expected: 1,
                found: args.len(),
            });
        }
        T::from_slot(args.first(), 0, 1, args.len())
    }

    fn osc_types() -> Option<String> {
        T::OSC_TYPE.map(String::from)
    }
}

#[diagnostic::do_not_recommend]
impl FromArgs for () {
    fn from_args(args: &[Value]) -> Result<Self> {
        if args.is_empty() {
            Ok(())
        } else {
            Err(DispatchError::ArgCount {
                expected: 0,
                found: args.len(),
            })
        }
    }

    fn osc_types() -> Option<String> {
        Some(String::new())
    }
}

macro_rules! tuple {
    ($n:literal; $($t:ident $i:literal),+) => {
        #[diagnostic::do_not_recommend]
        impl<$($t: FromValue),+> FromArgs for ($($t,)+) {
            fn from_args(args: &[Value]) -> Result<Self> {
                let found = args.len();
                if found > $n {
                    return Err(DispatchError::ArgCount { expected: $n, found });
                }
                let mut it = args.iter();
                Ok(($($t::from_slot(it.next(), $i, $n, found)?,)+))
            }

            fn osc_types() -> Option<String> {
                let mut tags = String::new();
                $(tags.push_str($t::OSC_TYPE?);)+
                Some(tags)
            }
        }
    };
}

tuple!(1; A 0);
tuple!(2; A 0, B 1);
tuple!(3; A 0, B 1, C 2);
tuple!(4; A 0, B 1, C 2, D 3);
tuple!(5; A 0, B 1, C 2, D 3, E 4);
tuple!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_never_lose_value() {
        assert_eq!(i32::from_value(&Value::Long(7), 0).unwrap(), 7);
        assert!(matches!(
            i32::from_value(&Value::Long(1 << 40), 2),
            Err(DispatchError::ArgRange {
                index: 2,
                expected: "i32",
                ..
            })
        ));
        assert_eq!(i64::from_value(&Value::Int(-3), 0).unwrap(), -3);
        assert!(i64::from_value(&Value::Double(1.0), 0).is_err());
    }

    #[test]
    fn int_to_float_allowed_float_to_int_not() {
        assert_eq!(
            f64::from_value(&Value::Long(1 << 40), 0).unwrap(),
            (1u64 << 40) as f64
        );
        assert_eq!(f32::from_value(&Value::Double(0.5), 0).unwrap(), 0.5);
        assert!(i32::from_value(&Value::Float(1.0), 0).is_err());
        assert!(f32::from_value(&Value::String("1.0".into()), 0).is_err());
    }

    #[test]
    fn strict_kinds() {
        assert!(bool::from_value(&Value::Int(1), 0).is_err());
        assert!(bool::from_value(&Value::Bool(true), 0).unwrap());
        assert_eq!(
            String::from_value(&Value::Symbol("s".into()), 0).unwrap(),
            "s"
        );
        assert!(String::from_value(&Value::RawString(vec![0xff]), 0).is_err());
        assert_eq!(char::from_value(&Value::Char('x'), 0).unwrap(), 'x');
        assert_eq!(
            Vec::<u8>::from_value(&Value::Blob(vec![1]), 0).unwrap(),
            vec![1]
        );
        let t = TimeTag::new(5, 6);
        assert_eq!(TimeTag::from_value(&Value::TimeTag(t), 0).unwrap(), t);
        let arr = Value::Array(vec![Value::Int(1)]);
        assert_eq!(
            Vec::<Value>::from_value(&arr, 0).unwrap(),
            vec![Value::Int(1)]
        );
        assert_eq!(Value::from_value(&arr, 0).unwrap(), arr);
    }

    #[test]
    fn options_take_nil_and_missing() {
        let (a, b): (i32, Option<i32>) = FromArgs::from_args(&[Value::Int(1), Value::Nil]).unwrap();
        assert_eq!((a, b), (1, None));
        let (a, b): (i32, Option<i32>) = FromArgs::from_args(&[Value::Int(1)]).unwrap();
        assert_eq!((a, b), (1, None));
        assert!(matches!(
            <(i32, i32)>::from_args(&[Value::Int(1)]),
            Err(DispatchError::ArgCount {
                expected: 2,
                found: 1
            })
        ));
    }

    #[test]
    fn singles_units_and_eight_tuples() {
        assert_eq!(f32::from_args(&[Value::Float(2.0)]).unwrap(), 2.0);
        assert!(f32::from_args(&[]).is_err());
        assert!(<()>::from_args(&[]).is_ok());
        assert!(<()>::from_args(&[Value::Nil]).is_err());
        let args: Vec<Value> = (0..8).map(Value::Int).collect();
        let t: (i32, i32, i32, i32, i32, i32, i32, i64) = FromArgs::from_args(&args).unwrap();
        assert_eq!(t.7, 7);
        let err = <(i32, i32, String)>::from_args(&args[..3]).unwrap_err();
        assert!(matches!(
            err,
            DispatchError::ArgType {
                index: 2,
                expected: "String",
                found: "int32"
            }
        ));
    }
}
