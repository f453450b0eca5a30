//! Attribute vocabulary of the OSCQuery proposal: names, `ACCESS`, `CLIPMODE`, `RANGE`
//! entries, and the per-value slots that `RANGE`, `UNIT`, `CLIPMODE` and
//! `EXTENDED_TYPE` are made of.

use serde::{Deserialize, Deserializer, Serialize};

/// Every attribute name of the proposal that a query (`GET /path?NAME`) may ask for.
/// A name outside this list is a bad request (HTTP 400).
///
/// ```
/// assert!(osc_query::ATTRIBUTES.contains(&"VALUE"));
/// ```
pub const ATTRIBUTES: &[&str] = &[
    "FULL_PATH",
    "CONTENTS",
    "TYPE",
    "HOST_INFO",
    "ACCESS",
    "VALUE",
    "RANGE",
    "DESCRIPTION",
    "TAGS",
    "EXTENDED_TYPE",
    "UNIT",
    "CRITICAL",
    "CLIPMODE",
    "OVERLOADS",
    "HTML",
];

/// The attributes and streaming commands this crate implements, as `HOST_INFO`'s
/// `EXTENSIONS` lists them (true); the other optional ones are listed as false.
///
/// ```
/// assert!(osc_query::IMPLEMENTED.contains(&"LISTEN"));
/// assert!(osc_query::IMPLEMENTED.contains(&"PATH_RENAMED"));
/// ```
pub const IMPLEMENTED: &[&str] = &[
    "ACCESS",
    "VALUE",
    "RANGE",
    "DESCRIPTION",
    "UNIT",
    "CLIPMODE",
    "LISTEN",
    "PATH_ADDED",
    "PATH_REMOVED",
    "PATH_CHANGED",
    "PATH_RENAMED",
];

/// Optional features of the proposal this crate does not implement (listed as false).
///
/// ```
/// assert!(osc_query::NOT_IMPLEMENTED.contains(&"HTML"));
/// ```
pub const NOT_IMPLEMENTED: &[&str] = &["TAGS", "EXTENDED_TYPE", "CRITICAL", "OVERLOADS", "HTML"];

/// `ACCESS`: whether a node's value may be read, written, both, or neither (a
/// container, or a method without a value). On the wire it is the integer 0 to 3.
///
/// ```
/// use osc_query::Access;
/// assert_eq!(serde_json::to_string(&Access::ReadWrite).unwrap(), "3");
/// assert!(Access::ReadWrite.readable() && !Access::Write.readable());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// 0: no value.
    #[default]
    None,
    /// 1: the value may only be retrieved.
    Read,
    /// 2: the value may only be set (a plain OSC method).
    Write,
    /// 3: both.
    ReadWrite,
}

impl Access {
    /// The integer the proposal uses.
    ///
    /// ```
    /// assert_eq!(osc_query::Access::Write.bits(), 2);
    /// ```
    #[must_use]
    pub fn bits(self) -> u8 {
        match self {
            Access::None => 0,
            Access::Read => 1,
            Access::Write => 2,
            Access::ReadWrite => 3,
        }
    }

    /// The access of an integer (only its two low bits count).
    ///
    /// ```
    /// assert_eq!(osc_query::Access::from_bits(3), osc_query::Access::ReadWrite);
    /// ```
    #[must_use]
    pub fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => Access::None,
            1 => Access::Read,
            2 => Access::Write,
            _ => Access::ReadWrite,
        }
    }

    /// Whether the value may be retrieved (`VALUE` is served).
    ///
    /// ```
    /// assert!(osc_query::Access::Read.readable());
    /// ```
    #[must_use]
    pub fn readable(self) -> bool {
        self.bits() & 1 != 0
    }

    /// Whether messages may set the value.
    ///
    /// ```
    /// assert!(osc_query::Access::Write.writable());
    /// ```
    #[must_use]
    pub fn writable(self) -> bool {
        self.bits() & 2 != 0
    }
}

impl Serialize for Access {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.bits())
    }
}

impl<'de> Deserialize<'de> for Access {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u8::deserialize(d)?;
        if n > 3 {
            return Err(serde::de::Error::custom(format!(
                "ACCESS {n} is not 0 to 3"
            )));
        }
        Ok(Access::from_bits(n))
    }
}

/// `CLIPMODE`: what a method does with a value outside its `RANGE`. Parameters of
/// this crate apply it to the values they receive and are set to.
///
/// ```
/// use osc_query::ClipMode;
/// assert_eq!(serde_json::to_string(&ClipMode::Both).unwrap(), "\"both\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipMode {
    /// No clipping (the default).
    #[default]
    None,
    /// Values below `MIN` become `MIN`.
    Low,
    /// Values above `MAX` become `MAX`.
    High,
    /// Both.
    Both,
}

/// One entry of `RANGE`: a minimum, a maximum, and/or the list of the only values
/// accepted (`VALS`). Numbers and strings are JSON values as the proposal writes them.
///
/// ```
/// use osc_query::Range;
/// let r = Range::new(0.0, 100.0);
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"MIN":0.0,"MAX":100.0}"#);
/// let menu = Range::vals(["empty", "half-full", "full"]);
/// assert_eq!(serde_json::to_string(&menu).unwrap(), r#"{"VALS":["empty","half-full","full"]}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Range {
    /// `MIN`: the smallest value expected.
    #[serde(rename = "MIN", default, skip_serializing_if = "Option::is_none")]
    pub min: Option<serde_json::Value>,
    /// `MAX`: the largest value expected.
    #[serde(rename = "MAX", default, skip_serializing_if = "Option::is_none")]
    pub max: Option<serde_json::Value>,
    /// `VALS`: the only values accepted.
    #[serde(rename = "VALS", default, skip_serializing_if = "Option::is_none")]
    pub vals: Option<Vec<serde_json::Value>>,
}

impl Range {
    /// A `MIN`/`MAX` range.
    ///
    /// ```
    /// let r = osc_query::Range::new(20, 20_000);
    /// assert_eq!(r.min, Some(serde_json::json!(20)));
    /// ```
    #[must_use]
    pub fn new(min: impl Into<serde_json::Value>, max: impl Into<serde_json::Value>) -> Self {
        Range {
            min: Some(min.into()),
            max: Some(max.into()),
            vals: None,
        }
    }

    /// A `VALS` range: the only values accepted.
    ///
    /// ```
    /// let r = osc_query::Range::vals([1, 2, 4]);
    /// assert_eq!(r.vals.unwrap().len(), 3);
    /// ```
    #[must_use]
    pub fn vals<V: Into<serde_json::Value>>(vals: impl IntoIterator<Item = V>) -> Self {
        Range {
            min: None,
            max: None,
            vals: Some(vals.into_iter().map(Into::into).collect()),
        }
    }

    /// `MIN` and `MAX` as numbers, when they are.
    ///
    /// ```
    /// assert_eq!(osc_query::Range::new(0, 1.5).bounds(), (Some(0.0), Some(1.5)));
    /// ```
    #[must_use]
    pub fn bounds(&self) -> (Option<f64>, Option<f64>) {
        (
            self.min.as_ref().and_then(serde_json::Value::as_f64),
            self.max.as_ref().and_then(serde_json::Value::as_f64),
        )
    }
}

/// One element of a per-value attribute (`RANGE`, `UNIT`, `CLIPMODE`,
/// `EXTENDED_TYPE`): a value, `null` where that argument has none, or a nested array
/// for an OSC array (`[...]` in `TYPE`).
///
/// ```
/// use osc_query::Slot;
/// let unit: Vec<Slot<String>> = serde_json::from_str(r#"["distance.m", null, ["a", "b"]]"#).unwrap();
/// assert_eq!(unit[0], Slot::One(Some("distance.m".into())));
/// assert_eq!(unit[1], Slot::One(None));
/// assert!(matches!(unit[2], Slot::Nested(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Slot<T> {
    /// A nested array, for an OSC array argument.
    Nested(Vec<Slot<T>>),
    /// One argument's entry (`None` is JSON `null`).
    One(Option<T>),
}

impl<T> Slot<T> {
    /// The entry, when this slot is a plain one.
    ///
    /// ```
    /// assert_eq!(osc_query::Slot::One(Some(3)).get(), Some(&3));
    /// ```
    #[must_use]
    pub fn get(&self) -> Option<&T> {
        match self {
            Slot::One(v) => v.as_ref(),
            Slot::Nested(_) => None,
        }
    }
}

impl<T> From<T> for Slot<T> {
    fn from(v: T) -> Self {
        Slot::One(Some(v))
    }
}

/// Reads a per-value attribute that may be a single value standing for every
/// argument (the proposal allows that shorthand) as a one-element list.
pub(crate) fn one_or_many<'de, D, T>(d: D) -> Result<Option<Vec<Slot<T>>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(match Slot::<T>::deserialize(d)? {
        Slot::Nested(v) => v,
        one => vec![one],
    }))
}
