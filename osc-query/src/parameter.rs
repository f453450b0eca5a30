//! Parameters: methods that hold a value, which incoming messages update, the
//! application reads and sets, and OSCQuery serves (`VALUE`, `RANGE`, `UNIT`,
//! `CLIPMODE`) and streams to listeners.

use std::fmt;
use std::sync::Arc;

use osc_codec::{Message, Rgba, TimeTag, Value};
use osc_dispatch::{DispatchError, FromArgs, Handler};
use parking_lot::RwLock;

use crate::attr::{Access, ClipMode, Range, Slot};
use crate::events::Hub;
use crate::json::values_to_json;
use crate::node::Node;

/// A Rust type a parameter can hold: one OSC argument (`f32`, `i32`, `bool`,
/// `String`, ...) or a tuple of two to four of them. Its OSC type tags come from
/// [`FromArgs::osc_types`].
///
/// ```
/// use osc_query::ParamValue;
/// assert_eq!((1.0f32, 2i32).to_args(), vec![1.0f32.into(), 2.into()]);
/// ```
pub trait ParamValue: FromArgs + Clone + Send + Sync + 'static {
    /// The OSC arguments that carry the value.
    fn to_args(&self) -> Vec<Value>;
}

/// A type that is one OSC argument of a parameter.
pub trait ParamScalar: osc_dispatch::FromValue + Clone + Send + Sync + 'static {
    /// The OSC argument.
    ///
    /// ```
    /// use osc_query::ParamScalar;
    /// assert_eq!(true.to_value(), osc_codec::Value::Bool(true));
    /// ```
    fn to_value(&self) -> Value;
}

macro_rules! scalars {
    ($($t:ty),*) => {$(
        impl ParamScalar for $t {
            fn to_value(&self) -> Value {
                Value::from(self.clone())
            }
        }
        impl ParamValue for $t {
            fn to_args(&self) -> Vec<Value> {
                vec![self.to_value()]
            }
        }
    )*};
}
scalars!(f32, f64, i32, i64, bool, String, char, Rgba, TimeTag);

macro_rules! tuples {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: ParamScalar),+> ParamValue for ($($t,)+) {
            fn to_args(&self) -> Vec<Value> {
                vec![$(self.$i.to_value()),+]
            }
        }
    )*};
}
tuples!((A 0, B 1) (A 0, B 1, C 2) (A 0, B 1, C 2, D 3));

/// What describes a parameter besides its value, as given at creation.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParamMeta {
    pub(crate) description: Option<String>,
    pub(crate) access: Access,
    pub(crate) range: Option<Vec<Slot<Range>>>,
    pub(crate) unit: Option<Vec<Slot<String>>>,
    pub(crate) clipmode: Option<Vec<Slot<ClipMode>>>,
}

/// A parameter to create: its path, initial value and description. Give it to
/// [`Namespace::add_parameter`](crate::Namespace::add_parameter) or
/// [`OscQuery::add_parameter`](crate::OscQuery::add_parameter).
///
/// ```
/// use osc_query::{ClipMode, ParamSpec, Range};
/// let spec = ParamSpec::new("/synth/1/freq", 440.0f32)
///     .description("oscillator frequency")
///     .range(Range::new(20.0, 20_000.0))
///     .unit("frequency.hz")
///     .clip(ClipMode::Both);
/// assert_eq!(spec.path(), "/synth/1/freq");
/// ```
#[derive(Debug, Clone)]
pub struct ParamSpec<T> {
    pub(crate) path: String,
    pub(crate) initial: T,
    pub(crate) meta: ParamMeta,
}

impl<T: ParamValue> ParamSpec<T> {
    /// A read-write parameter at `path` holding `initial`.
    ///
    /// ```
    /// let spec = osc_query::ParamSpec::new("/gain", 0.5f32);
    /// assert_eq!(spec.path(), "/gain");
    /// ```
    #[must_use]
    pub fn new(path: impl Into<String>, initial: T) -> Self {
        ParamSpec {
            path: path.into(),
            initial,
            meta: ParamMeta {
                access: Access::ReadWrite,
                ..ParamMeta::default()
            },
        }
    }

    /// Its OSC address.
    ///
    /// ```
    /// assert_eq!(osc_query::ParamSpec::new("/a", 1).path(), "/a");
    /// ```
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `DESCRIPTION`.
    ///
    /// ```
    /// let s = osc_query::ParamSpec::new("/a", 1).description("one");
    /// # let _ = s;
    /// ```
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.meta.description = Some(text.into());
        self
    }

    /// The same `RANGE` for every argument.
    ///
    /// ```
    /// let s = osc_query::ParamSpec::new("/a", 1).range(osc_query::Range::new(0, 10));
    /// # let _ = s;
    /// ```
    #[must_use]
    pub fn range(self, range: Range) -> Self {
        let n = arity::<T>();
        self.ranges(vec![Slot::from(range); n.max(1)])
    }

    /// `RANGE`, one entry per argument (`Slot::One(None)` where there is none).
    ///
    /// ```
    /// use osc_query::{ParamSpec, Range, Slot};
    /// let s = ParamSpec::new("/bar", (4, 51)).ranges(vec![Range::new(0, 50).into(), Range::new(51, 100).into()]);
    /// # let _ = s;
    /// ```
    #[must_use]
    pub fn ranges(mut self, ranges: Vec<Slot<Range>>) -> Self {
        self.meta.range = Some(ranges);
        self
    }

    /// The same `UNIT` for every argument (names from the proposal's `units.md`,
    /// such as `frequency.hz`, `gain.db`, `time.s`).
    ///
    /// ```
    /// let s = osc_query::ParamSpec::new("/a", 1.0f32).unit("gain.db");
    /// # let _ = s;
    /// ```
    #[must_use]
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        let unit = unit.into();
        self.meta.unit = Some(vec![Slot::from(unit); arity::<T>().max(1)]);
        self
    }

    /// The same `CLIPMODE` for every argument. The parameter applies it: a value out
    /// of its `MIN`/`MAX`, from a message or from [`Parameter::set`], is clipped.
    ///
    /// ```
    /// let s = osc_query::ParamSpec::new("/a", 1).clip(osc_query::ClipMode::Both);
    /// # let _ = s;
    /// ```
    #[must_use]
    pub fn clip(mut self, mode: ClipMode) -> Self {
        self.meta.clipmode = Some(vec![Slot::from(mode); arity::<T>().max(1)]);
        self
    }

    /// Read-only for clients (`ACCESS` 1): messages to the path do not change it; only
    /// the application sets it, and listeners are told.
    ///
    /// ```
    /// let s = osc_query::ParamSpec::new("/meter", 0.0f32).read_only();
    /// # let _ = s;
    /// ```
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.meta.access = Access::Read;
        self
    }
}

fn arity<T: FromArgs>() -> usize {
    T::osc_types()
        .and_then(|t| crate::json::arity(&t).ok())
        .unwrap_or(1)
}

/// The part of a parameter the namespace sees, whatever its Rust type.
pub(crate) trait ParamNode: Send + Sync {
    /// The node (without `CONTENTS`).
    fn node(&self) -> Node;
    /// Moves the parameter to another address (a renamed node).
    fn move_to(&self, path: &str);
}

struct Inner<T> {
    path: RwLock<Arc<str>>,
    types: String,
    value: RwLock<T>,
    meta: ParamMeta,
    hub: Arc<Hub>,
}

/// A value-holding method: read it with [`get`](Self::get), set it with
/// [`set`](Self::set) (listeners are told), and let incoming messages set it through
/// [`handler`](Self::handler) (which [`OscQuery`](crate::OscQuery) registers for you).
/// Cheap to clone; every clone is the same parameter.
///
/// ```
/// use osc_query::{ClipMode, Namespace, ParamSpec, Range};
/// let ns = Namespace::new("demo");
/// let gain = ns.add_parameter(ParamSpec::new("/gain", 0.5f32).range(Range::new(0.0, 1.0)).clip(ClipMode::Both))?;
/// gain.set(2.0);
/// assert_eq!(gain.get(), 1.0); // clipped to MAX
/// assert_eq!(ns.node("/gain").unwrap().value, Some(vec![serde_json::json!(1.0)]));
/// # Ok::<(), osc_query::QueryError>(())
/// ```
pub struct Parameter<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Parameter<T> {
    fn clone(&self) -> Self {
        Parameter {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: ParamValue + fmt::Debug> fmt::Debug for Parameter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parameter")
            .field("path", &*self.inner.path.read())
            .field("types", &self.inner.types)
            .field("value", &*self.inner.value.read())
            .finish()
    }
}

impl<T: ParamValue> Parameter<T> {
    pub(crate) fn create(spec: ParamSpec<T>, hub: Arc<Hub>) -> Self {
        let types = T::osc_types().unwrap_or_default();
        let inner = Inner {
            path: RwLock::new(spec.path.into()),
            types,
            value: RwLock::new(spec.initial.clone()),
            meta: spec.meta,
            hub,
        };
        let initial = inner.clip(spec.initial.to_args());
        if let Ok(v) = T::from_args(&initial) {
            *inner.value.write() = v;
        }
        Parameter {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn as_node(&self) -> Arc<dyn ParamNode> {
        Arc::clone(&self.inner) as Arc<dyn ParamNode>
    }

    /// Its OSC address (which [`Namespace::rename`](crate::Namespace::rename) may
    /// change).
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// let p = ns.add_parameter(osc_query::ParamSpec::new("/a", 1))?;
    /// assert_eq!(&*p.path(), "/a");
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn path(&self) -> Arc<str> {
        Arc::clone(&self.inner.path.read())
    }

    /// Its OSC type tags (`TYPE`).
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// let p = ns.add_parameter(osc_query::ParamSpec::new("/xy", (0.5f32, 0.5f32)))?;
    /// assert_eq!(p.osc_types(), "ff");
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn osc_types(&self) -> &str {
        &self.inner.types
    }

    /// The current value.
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// let p = ns.add_parameter(osc_query::ParamSpec::new("/on", true))?;
    /// assert!(p.get());
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn get(&self) -> T {
        self.inner.value.read().clone()
    }

    /// Sets the value (clipped as `CLIPMODE` says) and sends it to the WebSocket
    /// clients that listen to the path.
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// let p = ns.add_parameter(osc_query::ParamSpec::new("/name", String::from("a")))?;
    /// p.set("b".to_owned());
    /// assert_eq!(p.get(), "b");
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    pub fn set(&self, value: T) {
        let args = self.inner.clip(value.to_args());
        // Clipping keeps the kinds, so the conversion back cannot fail; keep the
        // unclipped value if it ever did.
        let stored = T::from_args(&args).unwrap_or(value);
        *self.inner.value.write() = stored;
        self.inner.hub.value(&self.path(), args);
    }

    /// The handler that lets incoming messages set the parameter: arguments that do
    /// not convert to `T` are refused (logged and counted by the dispatcher as an
    /// argument error). A read-only parameter's handler refuses every message.
    ///
    /// ```
    /// use osc_codec::{Message, Packet, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig};
    /// let ns = osc_query::Namespace::new("demo");
    /// let p = ns.add_parameter(osc_query::ParamSpec::new("/freq", 440.0f32))?;
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// d.register("/freq", p.handler())?;
    /// let now = TimeTag::now();
    /// d.dispatch_packet(Packet::from(Message::new("/freq").arg(220.0f32)), Context::new(now), now)?;
    /// assert_eq!(p.get(), 220.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn handler(&self) -> Handler {
        let inner = Arc::clone(&self.inner);
        let h = Handler::fallible(move |m: &Message, _| {
            if !inner.meta.access.writable() {
                log::debug!(
                    "osc-query: {} is read-only; message ignored",
                    inner.path.read()
                );
                return Ok(());
            }
            let value = T::from_args(&m.args)?;
            let args = inner.clip(value.to_args());
            let stored = T::from_args(&args).map_err(|_| DispatchError::ArgCount {
                expected: args.len(),
                found: m.args.len(),
            })?;
            *inner.value.write() = stored;
            let path = Arc::clone(&inner.path.read());
            inner.hub.value(&path, args);
            Ok(())
        });
        if self.inner.types.is_empty() {
            h
        } else {
            h.with_osc_types(&self.inner.types)
        }
    }
}

impl<T> Inner<T> {
    /// Applies `CLIPMODE` with the numeric `MIN`/`MAX` of `RANGE`, argument by argument.
    fn clip(&self, mut args: Vec<Value>) -> Vec<Value> {
        let (Some(modes), Some(ranges)) = (&self.meta.clipmode, &self.meta.range) else {
            return args;
        };
        for (i, arg) in args.iter_mut().enumerate() {
            let mode = modes
                .get(i)
                .or_else(|| (modes.len() == 1).then(|| modes.first()).flatten())
                .and_then(Slot::get)
                .copied()
                .unwrap_or_default();
            let range = ranges
                .get(i)
                .or_else(|| (ranges.len() == 1).then(|| ranges.first()).flatten())
                .and_then(Slot::get);
            if let Some(range) = range {
                clip_value(arg, mode, range.bounds());
            }
        }
        args
    }
}

#[allow(clippy::cast_possible_truncation)]
fn clip_value(v: &mut Value, mode: ClipMode, (min, max): (Option<f64>, Option<f64>)) {
    let low = matches!(mode, ClipMode::Low | ClipMode::Both);
    let high = matches!(mode, ClipMode::High | ClipMode::Both);
    let clamp = |x: f64| -> f64 {
        let mut x = x;
        if let (true, Some(m)) = (low, min) {
            x = x.max(m);
        }
        if let (true, Some(m)) = (high, max) {
            x = x.min(m);
        }
        x
    };
    match v {
        Value::Float(f) => *f = clamp(f64::from(*f)) as f32,
        Value::Double(d) => *d = clamp(*d),
        Value::Int(i) => *i = clamp(f64::from(*i)).round() as i32,
        Value::Long(l) => {
            #[allow(clippy::cast_precision_loss)]
            let x = *l as f64;
            let c = clamp(x);
            if c != x {
                *l = c.round() as i64;
            }
        }
        _ => {}
    }
}

impl<T: ParamValue> ParamNode for Inner<T> {
    fn node(&self) -> Node {
        let value = self.value.read().to_args();
        let mut node = Node::new(self.path.read().to_string());
        node.description.clone_from(&self.meta.description);
        node.access = Some(self.meta.access);
        node.types = Some(self.types.clone());
        node.value = Some(values_to_json(&value));
        node.range.clone_from(&self.meta.range);
        node.unit.clone_from(&self.meta.unit);
        node.clipmode.clone_from(&self.meta.clipmode);
        node
    }

    fn move_to(&self, path: &str) {
        *self.path.write() = path.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param<T: ParamValue>(spec: ParamSpec<T>) -> Parameter<T> {
        Parameter::create(spec, Arc::new(Hub::new()))
    }

    #[test]
    fn clip_modes_apply_per_argument() {
        let p = param(
            ParamSpec::new("/bar", (4i32, 51i32))
                .ranges(vec![Range::new(0, 50).into(), Range::new(51, 100).into()])
                .clip(ClipMode::Both),
        );
        p.set((-5, 500));
        assert_eq!(p.get(), (0, 100));
        let low = param(
            ParamSpec::new("/low", 1.0f64)
                .range(Range::new(0.0, 1.0))
                .clip(ClipMode::Low),
        );
        low.set(5.0);
        assert_eq!(low.get(), 5.0);
        low.set(-5.0);
        assert_eq!(low.get(), 0.0);
        let none = param(ParamSpec::new("/n", 1.0f32).range(Range::new(0.0, 1.0)));
        none.set(7.0);
        assert_eq!(none.get(), 7.0);
    }

    #[test]
    fn initial_value_is_clipped_too() {
        let p = param(
            ParamSpec::new("/i", 1000i64)
                .range(Range::new(0, 10))
                .clip(ClipMode::High),
        );
        assert_eq!(p.get(), 10);
    }

    #[test]
    fn node_carries_every_attribute() {
        let p = param(
            ParamSpec::new("/synth/1/freq", 440.0f32)
                .description("frequency")
                .range(Range::new(20.0, 20_000.0))
                .unit("frequency.hz")
                .clip(ClipMode::Both),
        );
        let json = serde_json::to_value(p.inner.node()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "FULL_PATH": "/synth/1/freq", "DESCRIPTION": "frequency", "ACCESS": 3,
                "TYPE": "f", "VALUE": [440.0], "RANGE": [{"MIN": 20.0, "MAX": 20000.0}],
                "UNIT": ["frequency.hz"], "CLIPMODE": ["both"]
            })
        );
    }
}
