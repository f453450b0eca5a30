//! Handlers and per-method options.

use std::fmt;
use std::sync::Arc;

use osc_codec::{Message, MessageRef, PacketRef};
use parking_lot::Mutex;

use crate::{Context, FromArgRefs, FromArgs, Result};

type Callback = dyn Fn(&Message, &Context) -> Result<()> + Send + Sync;
type RefCallback = dyn for<'a> Fn(&MessageRef<'a>, &Context) -> Result<()> + Send + Sync;
type TakingCallback = dyn Fn(Message, &Context) -> Result<()> + Send + Sync;

/// How a borrowed handler's view of an owned message is made: the message was decoded
/// (or built) already, so its encoding is read back without refusing anything the
/// first decode let through (raw strings, addresses, argument counts).
const REREAD: osc_codec::Options = osc_codec::Options {
    strings: osc_codec::StringPolicy::Raw,
    check_address: false,
    allow_missing_typetags: true,
    max_args: usize::MAX,
    max_depth: osc_codec::DEPTH_CAP,
    ..osc_codec::Options::DEFAULT
};

/// What a handler is called with: the owned message, or the zero-copy view.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Msg<'m, 'a> {
    Owned(&'m Message),
    View(&'m MessageRef<'a>),
}

impl Msg<'_, '_> {
    pub(crate) fn address(&self) -> &str {
        match self {
            Msg::Owned(m) => &m.address,
            Msg::View(v) => v.address(),
        }
    }

    /// The type tags, for log lines (allocates for an owned message).
    pub(crate) fn type_tags(&self) -> String {
        match self {
            Msg::Owned(m) => m.type_tags(),
            Msg::View(v) => v.type_tags().to_owned(),
        }
    }
}

/// The kinds of handler: over the owned message, over the view, or taking the
/// message by value.
#[derive(Clone)]
enum Form {
    Owned(Arc<Callback>),
    Borrowed(Arc<RefCallback>),
    Taking(Arc<TakingCallback>),
}

/// A method's handler: a closure called with the message (and, depending on the
/// constructor, its context, typed arguments or extra data). Cheap to clone.
///
/// The constructors cover osc4py3's argument schemes: data unpacked
/// ([`typed`](Self::typed)), message, address and type tags ([`new`](Self::new): read
/// them from the [`Message`]), reader channel, source identity and read time
/// ([`with_context`](Self::with_context)), extra parameters
/// ([`with_extra`](Self::with_extra), or simply capture them in the closure). The
/// borrowed forms ([`borrowed`](Self::borrowed), [`typed_ref`](Self::typed_ref)) take
/// the zero-copy view instead of an owned [`Message`], so that a driver can dispatch
/// a received message without allocating; [`taking`](Self::taking) takes the message
/// by value, so that a handler that keeps it or moves it on copies nothing.
///
/// ```
/// use osc_codec::Message;
/// use osc_dispatch::Handler;
///
/// let plain = Handler::new(|msg| log::info!("{} {}", msg.address, msg.type_tags()));
/// let typed = Handler::typed(|(freq, amp): (f32, f32)| log::info!("{freq} {amp}"));
/// let with_ctx = Handler::with_context(|msg, ctx| log::info!("{} from {:?}", msg.address, ctx.peer));
/// let from_closure: Handler = (|_: &Message| {}).into();
/// let view = Handler::borrowed(|m, _ctx| log::info!("{} {}", m.address(), m.args().len()));
/// let typed_view = Handler::typed_ref(|freq: f32, amp: f32| log::info!("{freq} {amp}"));
/// # let _ = (plain, typed, with_ctx, from_closure, view, typed_view);
/// ```
#[derive(Clone)]
pub struct Handler {
    f: Form,
    /// The OSC type tags the handler takes, when known (typed handlers) or declared.
    types: Option<Arc<str>>,
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler(..)")
    }
}

impl<F: Fn(&Message) + Send + Sync + 'static> From<F> for Handler {
    fn from(f: F) -> Self {
        Handler::new(f)
    }
}

/// What a method can be registered with: a [`Handler`], a closure over the message
/// (`|m: &Message| ..`), or a closure over the message and its context
/// (`|m: &Message, ctx: &Context| ..`). The `Form` parameter only tells the two closure
/// forms apart; it is inferred.
///
/// | you have | write |
/// |---|---|
/// | the message | `\|m: &Message\| ..` |
/// | the message and where it came from | `\|m: &Message, ctx: &Context\| ..` |
/// | typed arguments | `Handler::typed(\|v: f32\| ..)`, `Handler::typed(\|(f, a): (f32, f32)\| ..)`, `Handler::typed(\|f: f32, a: f32\| ..)` |
/// | typed arguments and the context | `Handler::typed_with_context(\|(f,): (f32,), m, ctx\| ..)` |
/// | extra data bound at registration | `Handler::with_extra(data, \|m, ctx, data\| ..)` |
/// | the zero-copy view (nothing allocated) | `Handler::borrowed(\|m, ctx\| ..)` (`m: &MessageRef`) |
/// | the message by value, to keep it or move its parts on | `Handler::taking(\|m, ctx\| ..)` (`m: Message`) |
/// | typed arguments read from the view | `Handler::typed_ref(\|f: f32, a: f32\| ..)`, `Handler::typed_ref(\|(f, a): (f32, f32)\| ..)` |
///
/// ```
/// use osc_codec::Message;
/// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Handler};
///
/// let d = Dispatcher::new(DispatcherConfig::default());
/// d.register("/a", |m: &Message| println!("{m}"))?;
/// d.register("/b", |m: &Message, ctx: &Context| println!("{m} from {:?}", ctx.peer))?;
/// d.register("/c", Handler::typed(|freq: f32, amp: f32| println!("{freq} {amp}")))?;
/// # Ok::<(), osc_dispatch::DispatchError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "this closure cannot be a method handler",
    label = "a handler takes `&Message`, or `&Message` and `&Context`",
    note = "write `|m: &Message| ..` or `|m: &Message, ctx: &Context| ..` (annotate the types)",
    note = "for typed arguments wrap it: `Handler::typed(|v: f32| ..)`, `Handler::typed(|(f, a): (f32, f32)| ..)` or `Handler::typed(|f: f32, a: f32| ..)`",
    note = "a handler must be `Send + Sync + 'static`: share state with `Arc<Mutex<_>>` (not `Rc<RefCell<_>>`), and reach the runtime through `Osc::handle()`"
)]
pub trait IntoHandler<Form> {
    /// The handler.
    fn into_handler(self) -> Handler;
}

impl IntoHandler<Handler> for Handler {
    fn into_handler(self) -> Handler {
        self
    }
}

/// What every handler must be: `Send + Sync` (the method registry is shared with the
/// I/O threads in every mode). A trait of its own so that a handler capturing an
/// `Rc` or a `RefCell` is told what to use instead, rather than only that `Rc` is
/// not `Send`.
///
/// ```
/// fn check<T: osc_dispatch::ThreadSafe>(_: &T) {}
/// let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<f32>::new()));
/// check(&move |v: f32| seen.lock().unwrap().push(v));
/// ```
#[diagnostic::on_unimplemented(
    message = "a method handler must be `Send + Sync`, and this one is not",
    label = "this handler captures something that cannot be shared with the I/O threads (`Rc`, `RefCell`, `Cell`, ...)",
    note = "the method registry is shared with the I/O threads in every mode, even where handlers run in your thread (eventloop, comthreads)",
    note = "share state with `Arc<Mutex<_>>`, `Arc<RwLock<_>>` or atomics (`Arc<AtomicU64>`) instead of `Rc<RefCell<_>>` or `Cell`; reach the runtime through `Osc::handle()`",
    note = "the user guide explains it: docs/guide.md, \"Every handler is `Send + Sync + 'static`\" (section 3) and the threading table (section 8)"
)]
pub trait ThreadSafe: Send + Sync {}

#[diagnostic::do_not_recommend]
impl<T: Send + Sync + ?Sized> ThreadSafe for T {}

impl<F: Fn(&Message) + ThreadSafe + 'static> IntoHandler<fn(&Message)> for F {
    fn into_handler(self) -> Handler {
        Handler::new(self)
    }
}

impl<F: Fn(&Message, &Context) + ThreadSafe + 'static> IntoHandler<fn(&Message, &Context)> for F {
    fn into_handler(self) -> Handler {
        Handler::with_context(self)
    }
}

/// A function of typed arguments that [`Handler::typed`] takes: one argument of any
/// [`FromArgs`] type (a bare `f32`, a tuple, `Vec<Value>`, ...), or up to six arguments
/// of [`FromValue`](crate::FromValue) types, one per OSC argument.
#[diagnostic::on_unimplemented(
    message = "`Handler::typed` needs the argument types",
    label = "annotate the arguments",
    note = "write `|v: f32| ..`, `|(freq, amp): (f32, f32)| ..` or `|freq: f32, amp: f32| ..`; each type must be one that OSC arguments convert to (`FromValue`)"
)]
pub trait TypedFn<Args>: Send + Sync + 'static {
    /// Converts the arguments and calls the function.
    ///
    /// # Errors
    /// When the arguments do not fit (see [`FromArgs`]).
    fn call_typed(&self, args: &[osc_codec::Value]) -> Result<()>;

    /// The OSC type tags of the arguments, when every one has a tag (see
    /// [`FromArgs::osc_types`]).
    fn osc_types() -> Option<String>
    where
        Self: Sized;
}

impl<A: FromArgs, F: Fn(A) + ThreadSafe + 'static> TypedFn<(A,)> for F {
    fn call_typed(&self, args: &[osc_codec::Value]) -> Result<()> {
        self(A::from_args(args)?);
        Ok(())
    }

    fn osc_types() -> Option<String> {
        A::osc_types()
    }
}

macro_rules! typed_fn {
    ($($t:ident),+) => {
        impl<$($t: crate::FromValue,)+ F: Fn($($t),+) + ThreadSafe + 'static> TypedFn<($($t,)+ ())> for F {
            #[allow(non_snake_case)]
            fn call_typed(&self, args: &[osc_codec::Value]) -> Result<()> {
                let ($($t,)+) = <($($t,)+)>::from_args(args)?;
                self($($t),+);
                Ok(())
            }

            fn osc_types() -> Option<String> {
                <($($t,)+)>::osc_types()
            }
        }
    };
}
typed_fn!(A, B);
typed_fn!(A, B, C);
typed_fn!(A, B, C, D);
typed_fn!(A, B, C, D, E);
typed_fn!(A, B, C, D, E, G);

/// A function of typed arguments that [`Handler::typed_ref`] takes: one argument of any
/// [`FromArgRefs`] type (a bare `f32`, a tuple), or up to six arguments of
/// [`FromArgRef`](crate::FromArgRef) types, one per OSC argument.
///
/// ```
/// fn check<A, F: osc_dispatch::TypedRefFn<A>>(_: &F) {}
/// check(&|freq: f32, amp: f32| drop((freq, amp)));
/// check(&|(voice, on): (i32, bool)| drop((voice, on)));
/// ```
#[diagnostic::on_unimplemented(
    message = "`Handler::typed_ref` needs the argument types",
    label = "annotate the arguments",
    note = "write `|v: f32| ..`, `|(freq, amp): (f32, f32)| ..` or `|freq: f32, amp: f32| ..`; each type must be one that view arguments convert to (`FromArgRef`)"
)]
pub trait TypedRefFn<Args>: Send + Sync + 'static {
    /// Converts the arguments from the view's iterator and calls the function.
    ///
    /// # Errors
    /// When the arguments do not fit (see [`FromArgRefs`]).
    fn call_typed_ref(&self, args: osc_codec::Args<'_>) -> Result<()>;

    /// The OSC type tags of the arguments, when every one has a tag.
    fn osc_types() -> Option<String>
    where
        Self: Sized;
}

impl<A: FromArgRefs, F: Fn(A) + ThreadSafe + 'static> TypedRefFn<(A,)> for F {
    fn call_typed_ref(&self, args: osc_codec::Args<'_>) -> Result<()> {
        self(A::from_arg_refs(args)?);
        Ok(())
    }

    fn osc_types() -> Option<String> {
        A::osc_types()
    }
}

macro_rules! typed_ref_fn {
    ($($t:ident),+) => {
        impl<$($t: crate::FromArgRef,)+ F: Fn($($t),+) + ThreadSafe + 'static> TypedRefFn<($($t,)+ ())> for F {
            #[allow(non_snake_case)]
            fn call_typed_ref(&self, args: osc_codec::Args<'_>) -> Result<()> {
                let ($($t,)+) = <($($t,)+)>::from_arg_refs(args)?;
                self($($t),+);
                Ok(())
            }

            fn osc_types() -> Option<String> {
                <($($t,)+) as FromArgRefs>::osc_types()
            }
        }
    };
}
typed_ref_fn!(A, B);
typed_ref_fn!(A, B, C);
typed_ref_fn!(A, B, C, D);
typed_ref_fn!(A, B, C, D, E);
typed_ref_fn!(A, B, C, D, E, G);

/// The type tags of a [`TypedRefFn`] whose type cannot be named.
fn osc_types_of_ref<Args, F: TypedRefFn<Args>>(_: &F) -> Option<String> {
    F::osc_types()
}

/// The type tags of a [`TypedFn`] whose type cannot be named (an `impl` argument).
fn osc_types_of<Args, F: TypedFn<Args>>(_: &F) -> Option<String> {
    F::osc_types()
}

impl Handler {
    /// A handler over the message (address, type tags and arguments).
    #[must_use]
    pub fn new(f: impl Fn(&Message) + Send + Sync + 'static) -> Self {
        Handler::fallible(move |m, _| {
            f(m);
            Ok(())
        })
    }

    /// A handler over the message and its [`Context`] (channel, peer, arrival time,
    /// bundle timetag).
    #[must_use]
    pub fn with_context(f: impl Fn(&Message, &Context) + Send + Sync + 'static) -> Self {
        Handler::fallible(move |m, c| {
            f(m, c);
            Ok(())
        })
    }

    /// A handler over typed arguments (see [`FromArgs`] and its coercion policy). When
    /// the arguments do not fit, the handler is not called: the dispatcher logs a
    /// warning with the address, type tags and reason, and counts it in
    /// [`Stats::arg_errors`](crate::Stats::arg_errors).
    ///
    /// ```
    /// use osc_codec::{Message, Packet, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Handler};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let got = Arc::new(Mutex::new(Vec::new()));
    /// let sink = got.clone();
    /// d.register("/synth/freq", Handler::typed(move |(f, a): (f32, f32)| sink.lock().unwrap().push((f, a))))?;
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// let send = |m: Message| d.dispatch_packet(Packet::from(m), Context::new(now), now);
    /// send(Message::new("/synth/freq").arg(440).arg(0.5f32))?; // i -> f is allowed
    /// send(Message::new("/synth/freq").arg("loud"))?;          // does not fit: logged, counted
    /// assert_eq!(*got.lock().unwrap(), [(440.0, 0.5)]);
    /// assert_eq!(d.stats().arg_errors, 1);
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    ///
    /// A bare type takes a message of one argument, a tuple one of several, and a
    /// function of several arguments takes one OSC argument each:
    ///
    /// ```
    /// use osc_dispatch::Handler;
    /// let one = Handler::typed(|freq: f32| println!("{freq}"));
    /// let tuple = Handler::typed(|(freq, amp): (f32, f32)| println!("{freq} {amp}"));
    /// let several = Handler::typed(|voice: i32, freq: f32, name: String| println!("{voice} {freq} {name}"));
    /// # let _ = (one, tuple, several);
    /// ```
    #[must_use]
    pub fn typed<Args>(f: impl TypedFn<Args>) -> Self {
        let types = osc_types_of(&f);
        let h = Handler::fallible(move |m, _| f.call_typed(&m.args));
        match types {
            Some(t) => h.with_osc_types(&t),
            None => h,
        }
    }

    /// A handler over typed arguments, the message and its context.
    #[must_use]
    pub fn typed_with_context<A: FromArgs>(
        f: impl Fn(A, &Message, &Context) + Send + Sync + 'static,
    ) -> Self {
        let h = Handler::fallible(move |m, c| {
            f(A::from_args(&m.args)?, m, c);
            Ok(())
        });
        match A::osc_types() {
            Some(t) => h.with_osc_types(&t),
            None => h,
        }
    }

    /// A handler with extra data bound at registration (osc4py3's `extra`), passed by
    /// reference to each call.
    ///
    /// ```
    /// use osc_dispatch::Handler;
    /// let h = Handler::with_extra(3usize, |msg, _ctx, voice: &usize| log::info!("{} -> voice {voice}", msg.address));
    /// # let _ = h;
    /// ```
    #[must_use]
    pub fn with_extra<E: Send + Sync + 'static>(
        extra: E,
        f: impl Fn(&Message, &Context, &E) + Send + Sync + 'static,
    ) -> Self {
        Handler::fallible(move |m, c| {
            f(m, c, &extra);
            Ok(())
        })
    }

    /// A handler over the zero-copy view of the message
    /// ([`MessageRef`]: address, type tags, the lazy argument iterator
    /// [`MessageRef::args`]) and its [`Context`]. Where the receive path allows it (a
    /// message on its own whose selected methods all take the view, run inline), the
    /// view borrows the received bytes and nothing is allocated between the socket and
    /// the handler; a handler that must keep the message calls
    /// [`MessageRef::to_owned`]. The messages of a bundle run at once get their views too
    /// ([`DispatchBatch::dispatch_bundle_ref`](crate::DispatchBatch::dispatch_bundle_ref)).
    /// In a bundle held for later or a packet given owned (`dispatch_packet`, a local
    /// send) the handler gets a view of the message's encoding instead; in a pool job,
    /// or in a bundle while a method runs on the worker pool, a view of a copy of the
    /// received bytes: same arguments.
    ///
    /// ```
    /// use osc_codec::{ArgRef, Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Handler};
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let sum = Arc::new(AtomicU64::new(0));
    /// let s = sum.clone();
    /// d.register("/count/*", Handler::borrowed(move |m, _ctx| {
    ///     for a in m.args() {
    ///         if let ArgRef::Int(i) = a { s.fetch_add(i as u64, Ordering::Relaxed); }
    ///     }
    /// }))?;
    /// let bytes = Message::new("/count/a").arg(2).arg(3).to_bytes()?;
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// d.dispatch_bytes(&bytes, Context::new(now), now)?;
    /// assert_eq!(sum.load(Ordering::Relaxed), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn borrowed(f: impl Fn(&MessageRef<'_>, &Context) + Send + Sync + 'static) -> Self {
        Handler::borrowed_fallible(move |m, c| {
            f(m, c);
            Ok(())
        })
    }

    /// [`borrowed`](Self::borrowed) for a handler that may refuse a message with a
    /// [`DispatchError`](crate::DispatchError) (logged and, for argument errors, counted),
    /// for handlers that extract arguments themselves with
    /// [`FromArgRefs`](crate::FromArgRefs).
    ///
    /// ```
    /// use osc_dispatch::{FromArgRefs, Handler};
    /// let h = Handler::borrowed_fallible(|m, _ctx| {
    ///     let (freq, amp) = <(f32, f32)>::from_arg_refs(m.args())?;
    ///     log::info!("{} {freq} {amp}", m.address());
    ///     Ok(())
    /// });
    /// assert!(h.takes_view());
    /// ```
    #[must_use]
    pub fn borrowed_fallible(
        f: impl Fn(&MessageRef<'_>, &Context) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        Handler {
            f: Form::Borrowed(Arc::new(f)),
            types: None,
        }
    }

    /// [`typed`](Self::typed) read from the zero-copy view: the arguments are converted
    /// straight from the packet bytes ([`FromArgRef`](crate::FromArgRef), the same
    /// coercion policy and errors), no `Value` is built, and a handler over numbers
    /// allocates nothing. Arguments that do not fit are counted in
    /// [`Stats::arg_errors`](crate::Stats::arg_errors), as for `typed`.
    ///
    /// ```
    /// use osc_codec::{Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Handler};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let got = Arc::new(Mutex::new(Vec::new()));
    /// let sink = got.clone();
    /// d.register("/synth/freq", Handler::typed_ref(move |f: f32, a: f32| sink.lock().unwrap().push((f, a))))?;
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// let send = |m: Message| d.dispatch_bytes(&m.to_bytes().unwrap(), Context::new(now), now);
    /// send(Message::new("/synth/freq").arg(440).arg(0.5f32))?; // i -> f is allowed
    /// send(Message::new("/synth/freq").arg("loud"))?;          // does not fit: logged, counted
    /// assert_eq!(*got.lock().unwrap(), [(440.0, 0.5)]);
    /// assert_eq!(d.stats().arg_errors, 1);
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    #[must_use]
    pub fn typed_ref<Args>(f: impl TypedRefFn<Args>) -> Self {
        let types = osc_types_of_ref(&f);
        let h = Handler::borrowed_fallible(move |m, _| f.call_typed_ref(m.args()));
        match types {
            Some(t) => h.with_osc_types(&t),
            None => h,
        }
    }

    /// A handler that takes the message by value, for one that keeps it or moves its
    /// parts on (a relay, a recorder, a reply that carries the arguments back): when it
    /// is the only method a message selects, it gets the message the dispatcher
    /// decoded, with nothing copied; otherwise (other methods selected too, a bundle's
    /// messages, a zero-copy view) it gets a copy.
    ///
    /// ```
    /// use osc_codec::{Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Handler};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let kept = Arc::new(Mutex::new(Vec::new()));
    /// let k = Arc::clone(&kept);
    /// d.register("/note", Handler::taking(move |m: Message, _ctx| k.lock().unwrap().push(m)))?;
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// d.dispatch_packet(Message::new("/note").arg(60).into(), Context::new(now), now)?;
    /// assert_eq!(kept.lock().unwrap()[0], Message::new("/note").arg(60));
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    #[must_use]
    pub fn taking(f: impl Fn(Message, &Context) + Send + Sync + 'static) -> Self {
        Handler {
            f: Form::Taking(Arc::new(move |m, c| {
                f(m, c);
                Ok(())
            })),
            types: None,
        }
    }

    /// Whether the handler takes the message by value ([`taking`](Self::taking)).
    ///
    /// ```
    /// use osc_dispatch::Handler;
    /// assert!(Handler::taking(|m, _| drop(m)).takes_message());
    /// assert!(!Handler::new(|_m| {}).takes_message());
    /// ```
    #[must_use]
    pub fn takes_message(&self) -> bool {
        matches!(self.f, Form::Taking(_))
    }

    /// A handler that may refuse a message with a [`DispatchError`](crate::DispatchError)
    /// (logged and, for argument errors, counted), for handlers that do their own
    /// argument extraction with [`FromArgs`].
    #[must_use]
    pub fn fallible(f: impl Fn(&Message, &Context) -> Result<()> + Send + Sync + 'static) -> Self {
        Handler {
            f: Form::Owned(Arc::new(f)),
            types: None,
        }
    }

    /// The OSC type tag string (without the leading `,`) of the arguments the handler
    /// takes: known for [`typed`](Self::typed) handlers whose argument types all have a
    /// tag, declared with [`with_osc_types`](Self::with_osc_types) for the others,
    /// `None` otherwise. Discovery (OSCQuery's `TYPE`) publishes it.
    ///
    /// ```
    /// use osc_dispatch::Handler;
    /// assert_eq!(Handler::typed(|f: f32, a: i32| drop((f, a))).osc_types(), Some("fi"));
    /// assert_eq!(Handler::typed(|(f, on): (f64, bool)| drop((f, on))).osc_types(), Some("dT"));
    /// assert_eq!(Handler::new(|_m| {}).osc_types(), None);
    /// ```
    #[must_use]
    pub fn osc_types(&self) -> Option<&str> {
        self.types.as_deref()
    }

    /// Declares the OSC type tags (without the leading `,`) a handler expects, for
    /// handlers that read the [`Message`] themselves. It only describes the handler;
    /// messages of other types still reach it.
    ///
    /// ```
    /// use osc_dispatch::Handler;
    /// let h = Handler::new(|m| log::info!("{m}")).with_osc_types("ff");
    /// assert_eq!(h.osc_types(), Some("ff"));
    /// ```
    #[must_use]
    pub fn with_osc_types(mut self, tags: &str) -> Self {
        self.types = Some(tags.trim_start_matches(',').into());
        self
    }

    /// Whether the handler takes the zero-copy view ([`borrowed`](Self::borrowed),
    /// [`borrowed_fallible`](Self::borrowed_fallible), [`typed_ref`](Self::typed_ref)):
    /// a message whose methods all take it is dispatched without building an owned
    /// [`Message`].
    ///
    /// ```
    /// use osc_dispatch::Handler;
    /// assert!(Handler::typed_ref(|f: f32| drop(f)).takes_view());
    /// assert!(!Handler::typed(|f: f32| drop(f)).takes_view());
    /// ```
    #[must_use]
    pub fn takes_view(&self) -> bool {
        matches!(self.f, Form::Borrowed(_))
    }

    /// Calls the handler. An owned handler given a view gets an owned copy; a borrowed
    /// handler given an owned message gets a view of its encoding (the paths that hold
    /// messages: bundles, pool jobs, local sends).
    #[inline]
    pub(crate) fn call(&self, msg: Msg<'_, '_>, ctx: &Context) -> Result<()> {
        match (&self.f, msg) {
            (Form::Owned(f), Msg::Owned(m)) => f(m, ctx),
            (Form::Owned(f), Msg::View(v)) => f(&v.to_owned(), ctx),
            (Form::Taking(f), Msg::Owned(m)) => f(m.clone(), ctx),
            (Form::Taking(f), Msg::View(v)) => f(v.to_owned(), ctx),
            (Form::Borrowed(f), Msg::View(v)) => f(v, ctx),
            (Form::Borrowed(f), Msg::Owned(m)) => {
                let mut bytes = Vec::new();
                m.encode_to_vec(&mut bytes, &REREAD)?;
                match osc_codec::decode_with(&bytes, &REREAD)? {
                    PacketRef::Message(v) => f(&v, ctx),
                    PacketRef::Bundle(_) => Ok(()),
                }
            }
        }
    }

    /// Calls the handler with a message it may keep: a handler that takes it by value
    /// gets it, any other one a reference to it.
    pub(crate) fn call_taking(&self, msg: Message, ctx: &Context) -> Result<()> {
        match &self.f {
            Form::Taking(f) => f(msg, ctx),
            _ => self.call(Msg::Owned(&msg), ctx),
        }
    }
}

/// Where a method's handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Executor {
    /// The dispatcher's [default](crate::DispatcherConfig::default_executor).
    #[default]
    Default,
    /// In the thread that dispatches (or releases the bundle).
    Inline,
    /// On the dispatcher's worker pool (inline when the pool has no threads).
    Pool,
}

/// Per-method execution options (osc4py3's `MethodFilter` lock and workqueue choice).
///
/// ```
/// use osc_dispatch::{Executor, MethodOptions};
/// use parking_lot::Mutex;
/// use std::sync::Arc;
///
/// let audio = Arc::new(Mutex::new(()));
/// let opts = MethodOptions::new().lock(audio.clone()).executor(Executor::Pool);
/// assert_eq!(opts.executor, Executor::Pool);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct MethodOptions {
    /// A lock held while the handler runs (share one between methods that must not run
    /// at the same time).
    pub lock: Option<Arc<Mutex<()>>>,
    /// Where the handler runs.
    pub executor: Executor,
}

impl MethodOptions {
    /// Default options: no lock, the dispatcher's default executor.
    #[must_use]
    pub fn new() -> Self {
        MethodOptions::default()
    }

    /// Holds `lock` while the handler runs (builder style).
    #[must_use]
    pub fn lock(mut self, lock: Arc<Mutex<()>>) -> Self {
        self.lock = Some(lock);
        self
    }

    /// Chooses the executor (builder style).
    #[must_use]
    pub fn executor(mut self, executor: Executor) -> Self {
        self.executor = executor;
        self
    }
}
