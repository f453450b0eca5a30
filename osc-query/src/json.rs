//! OSC values as the proposal writes them in JSON (`VALUE`, `RANGE`), and back, guided
//! by the type tag string.
//!
//! | tag | JSON |
//! |---|---|
//! | `i` `h` `f` `d` | number |
//! | `t` | number: the 64-bit NTP timetag (seconds in the high 32 bits) |
//! | `s` `S` `c` | string |
//! | `r` | `"#RRGGBBAA"` |
//! | `T` `F` | boolean |
//! | `N` `I` `b` `m` | `null` |
//! | `[` ... `]` | array |

use osc_codec::{Rgba, TimeTag, Value};
use serde_json::Value as Json;

use crate::{QueryError, Result};

/// The JSON form of one OSC value.
///
/// ```
/// use osc_codec::{Rgba, Value};
/// use osc_query::value_to_json;
/// assert_eq!(value_to_json(&Value::Float(0.5)), serde_json::json!(0.5));
/// assert_eq!(value_to_json(&Value::Rgba(Rgba::new(250, 100, 50, 255))), serde_json::json!("#FA6432FF"));
/// assert_eq!(value_to_json(&Value::Bool(true)), serde_json::json!(true));
/// assert_eq!(value_to_json(&Value::Blob(vec![1])), serde_json::Value::Null);
/// ```
#[must_use]
pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Int(i) => Json::from(*i),
        Value::Long(l) => Json::from(*l),
        Value::Float(f) => float(f64::from(*f)),
        Value::Double(d) => float(*d),
        Value::TimeTag(t) => Json::from(t.to_bits()),
        Value::String(s) | Value::Symbol(s) => Json::from(s.as_str()),
        Value::RawString(b) | Value::RawSymbol(b) => Json::from(String::from_utf8_lossy(b)),
        Value::Char(c) => Json::from(c.to_string()),
        Value::Rgba(c) => Json::from(format!("#{:02X}{:02X}{:02X}{:02X}", c.r, c.g, c.b, c.a)),
        Value::Bool(b) => Json::from(*b),
        Value::Array(a) => Json::Array(a.iter().map(value_to_json).collect()),
        // N, I, b, m, and any kind added to the codec later: no JSON form.
        _ => Json::Null,
    }
}

/// A float as JSON (`null` for NaN and infinities, which JSON cannot carry).
fn float(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

/// The JSON `VALUE` array of a list of arguments.
///
/// ```
/// use osc_codec::Value;
/// let v = osc_query::values_to_json(&[Value::Int(4), Value::Int(51)]);
/// assert_eq!(v, vec![serde_json::json!(4), serde_json::json!(51)]);
/// ```
#[must_use]
pub fn values_to_json(values: &[Value]) -> Vec<Json> {
    values.iter().map(value_to_json).collect()
}

/// One type tag of a type tag string, or a bracketed array of them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TypeItem {
    Tag(char),
    Array(Vec<TypeItem>),
}

/// Parses a type tag string (a leading `,` is allowed) into items, checking the
/// brackets. The depth is bounded by the string's length.
fn parse_types(types: &str) -> Result<Vec<TypeItem>> {
    let bad = |reason: &str| QueryError::Value {
        types: types.into(),
        reason: reason.into(),
    };
    let mut stack: Vec<Vec<TypeItem>> = vec![Vec::new()];
    for c in types.trim_start_matches(',').chars() {
        match c {
            '[' => stack.push(Vec::new()),
            ']' => {
                let done = stack.pop().ok_or_else(|| bad("unbalanced ]"))?;
                stack
                    .last_mut()
                    .ok_or_else(|| bad("unbalanced ]"))?
                    .push(TypeItem::Array(done));
            }
            'i' | 'h' | 'f' | 'd' | 't' | 's' | 'S' | 'c' | 'r' | 'T' | 'F' | 'N' | 'I' | 'b'
            | 'm' => stack
                .last_mut()
                .ok_or_else(|| bad("unbalanced ]"))?
                .push(TypeItem::Tag(c)),
            other => return Err(bad(&format!("unknown type tag {other:?}"))),
        }
    }
    if stack.len() != 1 {
        return Err(bad("unbalanced ["));
    }
    Ok(stack.pop().unwrap_or_default())
}

/// Reads a JSON `VALUE` array back into OSC values of the given type tags.
///
/// # Errors
/// [`QueryError::Value`] when the type tags are malformed, the counts differ, or an
/// element has the wrong JSON kind (blobs and MIDI have no JSON form and are refused).
///
/// ```
/// use osc_codec::Value;
/// use osc_query::values_from_json;
/// let json = serde_json::json!([100, [1.0, 1.0], "#FF0000FF", true]);
/// let v = values_from_json("i[ff]rT", json.as_array().unwrap())?;
/// assert_eq!(v[0], Value::Int(100));
/// assert_eq!(v[1], Value::Array(vec![Value::Float(1.0), Value::Float(1.0)]));
/// assert_eq!(v[3], Value::Bool(true));
/// assert!(values_from_json("f", &[serde_json::json!("x")]).is_err());
/// # Ok::<(), osc_query::QueryError>(())
/// ```
pub fn values_from_json(types: &str, json: &[Json]) -> Result<Vec<Value>> {
    let items = parse_types(types)?;
    read_items(types, &items, json)
}

fn read_items(types: &str, items: &[TypeItem], json: &[Json]) -> Result<Vec<Value>> {
    let bad = |reason: String| QueryError::Value {
        types: types.into(),
        reason,
    };
    if items.len() != json.len() {
        return Err(bad(format!(
            "{} values for {} type tags",
            json.len(),
            items.len()
        )));
    }
    items
        .iter()
        .zip(json)
        .map(|(item, j)| match item {
            TypeItem::Array(inner) => match j {
                Json::Array(a) => read_items(types, inner, a).map(Value::Array),
                other => Err(bad(format!("{other} is not an array"))),
            },
            TypeItem::Tag(tag) => {
                read_one(*tag, j).ok_or_else(|| bad(format!("{j} is not a valid '{tag}'")))
            }
        })
        .collect()
}

#[allow(clippy::cast_possible_truncation)]
fn read_one(tag: char, j: &Json) -> Option<Value> {
    Some(match tag {
        'i' => Value::Int(i32::try_from(j.as_i64()?).ok()?),
        'h' => Value::Long(j.as_i64()?),
        'f' => Value::Float(j.as_f64()? as f32),
        'd' => Value::Double(j.as_f64()?),
        't' => Value::TimeTag(TimeTag::from_bits(j.as_u64()?)),
        's' => Value::String(j.as_str()?.to_owned()),
        'S' => Value::Symbol(j.as_str()?.to_owned()),
        'c' => {
            let mut chars = j.as_str()?.chars();
            let c = chars.next()?;
            if chars.next().is_some() {
                return None;
            }
            Value::Char(c)
        }
        'r' => Value::Rgba(parse_rgba(j.as_str()?)?),
        'T' | 'F' => Value::Bool(j.as_bool()?),
        'N' if j.is_null() => Value::Nil,
        'I' if j.is_null() => Value::Inf,
        _ => return None,
    })
}

fn parse_rgba(s: &str) -> Option<Rgba> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 8 || !hex.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some(Rgba::new(byte(0)?, byte(2)?, byte(4)?, byte(6)?))
}

/// The number of top-level arguments a type tag string describes (an array counts
/// as one), or an error for a malformed string.
pub(crate) fn arity(types: &str) -> Result<usize> {
    parse_types(types).map(|items| items.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_every_tag_with_a_json_form() {
        let values = vec![
            Value::Int(-3),
            Value::Long(1 << 40),
            Value::Float(0.5),
            Value::Double(2.25),
            Value::TimeTag(TimeTag::new(3_900_000_000, 7)),
            Value::String("half-full".into()),
            Value::Symbol("sym".into()),
            Value::Char('x'),
            Value::Rgba(Rgba::new(0, 0, 255, 0)),
            Value::Bool(false),
            Value::Nil,
            Value::Inf,
            Value::Array(vec![Value::Float(1.0), Value::Array(vec![Value::Int(2)])]),
        ];
        let j = values_to_json(&values);
        assert_eq!(j[8], json!("#0000FF00"));
        let back = values_from_json("ihfdtsScrFNI[f[i]]", &j).unwrap();
        assert_eq!(back, values);
    }

    #[test]
    fn refuses_what_does_not_fit() {
        assert!(values_from_json("i", &[json!(1.5)]).is_err());
        assert!(values_from_json("i", &[json!(1_i64 << 40)]).is_err());
        assert!(values_from_json("ii", &[json!(1)]).is_err());
        assert!(values_from_json("[i", &[json!([1])]).is_err());
        assert!(values_from_json("i]", &[json!(1)]).is_err());
        assert!(values_from_json("q", &[json!(1)]).is_err());
        assert!(values_from_json("b", &[Json::Null]).is_err());
        assert!(values_from_json("r", &[json!("#12345")]).is_err());
        assert!(values_from_json("c", &[json!("ab")]).is_err());
        assert!(values_from_json("[i]", &[json!(1)]).is_err());
    }

    #[test]
    fn nan_is_null_and_arity_counts_arrays_once() {
        assert_eq!(value_to_json(&Value::Float(f32::NAN)), Json::Null);
        assert_eq!(arity(",i[ff]i").unwrap(), 3);
        assert_eq!(arity("").unwrap(), 0);
    }
}
