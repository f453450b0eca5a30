//! The namespace: the registered methods (from a [`MethodSource`], usually the
//! runtime's dispatcher) and the parameters, as one tree of [`Node`]s; change
//! notifications for the streaming side.
//!
//! Which methods become nodes: every method registered at a plain (literal) address.
//! A method registered with a pattern (`/synth/*/freq`, a filter) is not a node: it
//! names no single address a client could list or send to; it still receives the
//! messages it matches, and [`Namespace::filters`] lists them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use osc_dispatch::{Dispatcher, MethodHandle, MethodInfo};
use parking_lot::{Mutex, RwLock};
use tokio::sync::broadcast;

use crate::attr::Access;
use crate::events::{Event, Hub, ListenHook};
use crate::node::Node;
use crate::parameter::{ParamNode, ParamSpec, ParamValue, Parameter};
use crate::{QueryError, Result};

/// Where the namespace learns the registered methods: the runtime's dispatcher, or
/// anything else that can list methods.
///
/// ```
/// use osc_dispatch::{Dispatcher, DispatcherConfig, Handler};
/// use osc_query::MethodSource;
/// use std::sync::Arc;
/// let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
/// d.register("/a", Handler::typed(|x: i32| drop(x)))?;
/// assert_eq!(d.methods().len(), 1);
/// assert_eq!(MethodSource::methods(&d)[0].osc_types.as_deref(), Some("i"));
/// # Ok::<(), osc_dispatch::DispatchError>(())
/// ```
pub trait MethodSource: Send + Sync {
    /// Changes whenever the list of methods changes.
    fn generation(&self) -> u64;
    /// The methods, in registration order.
    fn methods(&self) -> Vec<MethodInfo>;
}

impl MethodSource for Arc<Dispatcher> {
    fn generation(&self) -> u64 {
        Dispatcher::generation(self)
    }

    fn methods(&self) -> Vec<MethodInfo> {
        Dispatcher::methods(self)
    }
}

/// What the application declares about a method the dispatcher cannot know: its
/// description, its type tags (for handlers that are not typed) and its access.
///
/// ```
/// use osc_query::{Access, MethodDescription};
/// let d = MethodDescription::new().description("starts a note").types("if").access(Access::Write);
/// assert_eq!(d.types.as_deref(), Some("if"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodDescription {
    /// `DESCRIPTION`.
    pub description: Option<String>,
    /// `TYPE`, overriding what the handler says.
    pub types: Option<String>,
    /// `ACCESS` (default: write only, 2, for a method that is not a parameter).
    pub access: Option<Access>,
}

impl MethodDescription {
    /// Nothing declared.
    ///
    /// ```
    /// assert_eq!(osc_query::MethodDescription::new(), Default::default());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `DESCRIPTION`.
    ///
    /// ```
    /// let d = osc_query::MethodDescription::new().description("x");
    /// assert_eq!(d.description.as_deref(), Some("x"));
    /// ```
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Sets `TYPE` (a leading `,` is dropped).
    ///
    /// ```
    /// let d = osc_query::MethodDescription::new().types(",ff");
    /// assert_eq!(d.types.as_deref(), Some("ff"));
    /// ```
    #[must_use]
    pub fn types(mut self, tags: &str) -> Self {
        self.types = Some(tags.trim_start_matches(',').to_owned());
        self
    }

    /// Sets `ACCESS`.
    ///
    /// ```
    /// let d = osc_query::MethodDescription::new().access(osc_query::Access::None);
    /// assert_eq!(d.access, Some(osc_query::Access::None));
    /// ```
    #[must_use]
    pub fn access(mut self, access: Access) -> Self {
        self.access = Some(access);
        self
    }
}

/// What the last [`Namespace::refresh`] saw.
#[derive(Debug, Default)]
struct Synced {
    initialized: bool,
    source_generation: Option<u64>,
    param_generation: u64,
    /// Literal method paths -> their handlers' type tags (first known one).
    methods: BTreeMap<String, Option<String>>,
    filters: Vec<String>,
    paths: BTreeSet<String>,
}

/// An OSC address space as OSCQuery serves it.
///
/// ```
/// use osc_dispatch::{Dispatcher, DispatcherConfig, Handler};
/// use osc_query::{MethodDescription, Namespace, ParamSpec};
/// use std::sync::Arc;
///
/// let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
/// d.register("/synth/1/gate", Handler::typed(|on: bool| drop(on)))?;
/// let ns = Namespace::with_source("synth", Arc::clone(&d));
/// ns.describe("/synth/1/gate", MethodDescription::new().description("note on/off"));
/// let freq = ns.add_parameter(ParamSpec::new("/synth/1/freq", 440.0f32))?;
/// d.register(&freq.path(), freq.handler())?;
///
/// let tree = ns.tree();
/// let gate = tree.find("/synth/1/gate").unwrap();
/// assert_eq!(gate.types.as_deref(), Some("T"));
/// assert_eq!(gate.description.as_deref(), Some("note on/off"));
/// assert_eq!(tree.find("/synth/1/freq").unwrap().value, Some(vec![serde_json::json!(440.0)]));
/// assert!(tree.find("/synth").unwrap().contents.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Namespace {
    name: String,
    source: Option<Box<dyn MethodSource>>,
    params: RwLock<BTreeMap<String, Arc<dyn ParamNode>>>,
    param_generation: AtomicU64,
    declared: RwLock<HashMap<String, MethodDescription>>,
    /// Methods that are not the application's (the taps that stream what plain
    /// methods receive): never listed.
    hidden: RwLock<BTreeSet<MethodHandle>>,
    /// Renames announced since the last refresh: (old, new).
    renames: Mutex<Vec<(String, String)>>,
    synced: Mutex<Synced>,
    hub: Arc<Hub>,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.name)
            .field("paths", &self.synced.lock().paths.len())
            .finish()
    }
}

impl Namespace {
    /// A namespace of parameters only (no method source).
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// assert_eq!(ns.tree().full_path, "/");
    /// ```
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self::build(name.into(), None)
    }

    /// A namespace listing the methods of `source` (a dispatcher, usually) besides
    /// its parameters.
    ///
    /// ```
    /// use osc_dispatch::{Dispatcher, DispatcherConfig};
    /// use std::sync::Arc;
    /// let ns = osc_query::Namespace::with_source("demo", Arc::new(Dispatcher::new(DispatcherConfig::default())));
    /// assert!(ns.paths().is_empty());
    /// ```
    #[must_use]
    pub fn with_source(name: impl Into<String>, source: impl MethodSource + 'static) -> Self {
        Self::build(name.into(), Some(Box::new(source)))
    }

    fn build(name: String, source: Option<Box<dyn MethodSource>>) -> Self {
        Namespace {
            name,
            source,
            params: RwLock::new(BTreeMap::new()),
            param_generation: AtomicU64::new(0),
            declared: RwLock::new(HashMap::new()),
            hidden: RwLock::new(BTreeSet::new()),
            renames: Mutex::new(Vec::new()),
            synced: Mutex::new(Synced::default()),
            hub: Arc::new(Hub::new()),
        }
    }

    /// The name (the root's `DESCRIPTION`, `HOST_INFO`'s `NAME`).
    ///
    /// ```
    /// assert_eq!(osc_query::Namespace::new("demo").name(), "demo");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a parameter node. It does not register a handler: register
    /// [`Parameter::handler`] at its path on the dispatcher that receives its
    /// messages ([`OscQuery::add_parameter`](crate::OscQuery::add_parameter) does both).
    ///
    /// # Errors
    /// [`QueryError::Address`] when the path is not a plain OSC address or already
    /// holds a parameter.
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// ns.add_parameter(osc_query::ParamSpec::new("/a/b", 1))?;
    /// assert!(ns.add_parameter(osc_query::ParamSpec::new("/a/*", 1)).is_err());
    /// assert!(ns.add_parameter(osc_query::ParamSpec::new("/a/b", 2)).is_err());
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    pub fn add_parameter<T: ParamValue>(&self, spec: ParamSpec<T>) -> Result<Parameter<T>> {
        check_path(&spec.path)?;
        let mut params = self.params.write();
        if params.contains_key(&spec.path) {
            return Err(QueryError::Address {
                path: spec.path,
                reason: "already a parameter".into(),
            });
        }
        let p = Parameter::create(spec, Arc::clone(&self.hub));
        params.insert(p.path().to_string(), p.as_node());
        drop(params);
        self.param_generation.fetch_add(1, Ordering::Release);
        self.refresh();
        Ok(p)
    }

    /// Removes the parameter node at `path` (its handler, if registered, stays until
    /// it is unregistered). False if there was none.
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// ns.add_parameter(osc_query::ParamSpec::new("/a", 1))?;
    /// assert!(ns.remove_parameter("/a"));
    /// assert!(ns.node("/a").is_none());
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    pub fn remove_parameter(&self, path: &str) -> bool {
        let removed = self.params.write().remove(path).is_some();
        if removed {
            self.param_generation.fetch_add(1, Ordering::Release);
            self.refresh();
        }
        removed
    }

    /// Declares what the dispatcher cannot know about the method(s) at `path`.
    /// Streaming clients hear `PATH_CHANGED` when this changes a listed node.
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// ns.describe("/a", osc_query::MethodDescription::new().types("s"));
    /// ```
    pub fn describe(&self, path: &str, description: MethodDescription) {
        let old = self
            .declared
            .write()
            .insert(path.to_owned(), description.clone());
        if old.as_ref() != Some(&description) && self.synced.lock().paths.contains(path) {
            self.hub.send(Event::PathChanged(path.into()));
        }
    }

    /// Renames a node: the parameters and declared descriptions at `old` and under
    /// it move to `new`, and streaming clients hear one `PATH_RENAMED` (`{"OLD":
    /// old, "NEW": new}`) instead of a `PATH_REMOVED` and a `PATH_ADDED` per path;
    /// clients that listened at the old paths keep listening at the new ones.
    /// The method source's methods are not moved: move them with
    /// [`rename_moving`](Self::rename_moving) ([`OscQuery::rename`](crate::OscQuery::rename)
    /// does, for a runtime's methods).
    ///
    /// # Errors
    /// [`QueryError::Address`] when a path is not a plain address, is the root, or
    /// `new` already holds a parameter.
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// let freq = ns.add_parameter(osc_query::ParamSpec::new("/synth/1/freq", 440.0f32))?;
    /// ns.rename("/synth/1", "/synth/lead")?;
    /// assert_eq!(&*freq.path(), "/synth/lead/freq");
    /// assert_eq!(ns.paths(), ["/synth/lead/freq"]);
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    pub fn rename(&self, old: &str, new: &str) -> Result<()> {
        self.rename_moving(old, new, || Ok(()))
    }

    /// [`rename`](Self::rename), with the method source's own move (`move_methods`,
    /// which moves the dispatcher's methods) done while no refresh can run, so that
    /// no client sees half a move.
    ///
    /// # Errors
    /// As [`rename`](Self::rename), and what `move_methods` returns (then nothing
    /// else moves).
    ///
    /// ```
    /// use osc_dispatch::{Dispatcher, DispatcherConfig, Handler};
    /// use std::sync::Arc;
    /// let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    /// let gate = d.register("/synth/1/gate", Handler::typed(|on: bool| drop(on)))?;
    /// let ns = osc_query::Namespace::with_source("synth", Arc::clone(&d));
    /// ns.rename_moving("/synth/1", "/synth/lead", || {
    ///     d.readdress(gate, "/synth/lead/gate").map_err(osc4rs::OscError::from)?;
    ///     Ok(())
    /// })?;
    /// assert_eq!(ns.paths(), ["/synth/lead/gate"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rename_moving(
        &self,
        old: &str,
        new: &str,
        move_methods: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        check_path(old)?;
        check_path(new)?;
        if under(new, old) || under(old, new) {
            return Err(QueryError::Address {
                path: new.to_owned(),
                reason: format!("cannot move {old} inside itself or its own container"),
            });
        }
        let mut synced = self.synced.lock();
        let mut params = self.params.write();
        let moving: Vec<String> = params.keys().filter(|p| under(p, old)).cloned().collect();
        if let Some(taken) = moving
            .iter()
            .map(|p| rebase(p, old, new))
            .find(|p| params.contains_key(p))
        {
            return Err(QueryError::Address {
                path: taken,
                reason: "already a parameter".into(),
            });
        }
        move_methods()?;
        for path in moving {
            if let Some(node) = params.remove(&path) {
                let to = rebase(&path, old, new);
                node.move_to(&to);
                params.insert(to, node);
            }
        }
        drop(params);
        let mut declared = self.declared.write();
        let described: Vec<String> = declared.keys().filter(|p| under(p, old)).cloned().collect();
        for path in described {
            if let Some(d) = declared.remove(&path) {
                declared.insert(rebase(&path, old, new), d);
            }
        }
        drop(declared);
        self.renames.lock().push((old.to_owned(), new.to_owned()));
        self.param_generation.fetch_add(1, Ordering::Release);
        self.sync(&mut synced);
        Ok(())
    }

    /// Brings the list of paths up to date with the method source and the parameters,
    /// and tells streaming clients which paths came, went, moved or changed
    /// (`PATH_ADDED`, `PATH_REMOVED`, `PATH_RENAMED`, `PATH_CHANGED`). Cheap when nothing changed (two atomic loads). The server
    /// calls it before each answer and periodically.
    ///
    /// ```
    /// use osc_codec::Message;
    /// use osc_dispatch::{Dispatcher, DispatcherConfig};
    /// use std::sync::Arc;
    /// let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    /// let ns = osc_query::Namespace::with_source("demo", Arc::clone(&d));
    /// let h = d.register("/late", |_m: &Message| {})?;
    /// ns.refresh();
    /// assert_eq!(ns.paths(), ["/late"]);
    /// d.unregister(h);
    /// ns.refresh();
    /// assert!(ns.paths().is_empty());
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn refresh(&self) {
        self.sync(&mut self.synced.lock());
    }

    /// [`refresh`](Self::refresh) with the lock held.
    fn sync(&self, synced: &mut Synced) {
        let source_generation = self.source.as_ref().map(|s| s.generation());
        let param_generation = self.param_generation.load(Ordering::Acquire);
        if synced.initialized
            && synced.source_generation == source_generation
            && synced.param_generation == param_generation
        {
            return;
        }
        let mut methods: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut filters = Vec::new();
        for m in self
            .source
            .as_ref()
            .map(|s| s.methods())
            .unwrap_or_default()
        {
            if m.literal {
                let entry = methods.entry(m.address).or_default();
                if entry.is_none() {
                    *entry = m.osc_types;
                }
            } else {
                filters.push(m.address);
            }
        }
        let mut paths: BTreeSet<String> = methods.keys().cloned().collect();
        paths.extend(self.params.read().keys().cloned());
        self.announce(synced, &paths, &methods);
        *synced = Synced {
            initialized: true,
            source_generation,
            param_generation,
            methods,
            filters,
            paths,
        };
    }

    /// Tells streaming clients how the listing moves from `before` to `paths`:
    /// announced renames first, then what else went and came, then the methods whose
    /// type tags changed.
    fn announce(
        &self,
        before: &Synced,
        paths: &BTreeSet<String>,
        methods: &BTreeMap<String, Option<String>>,
    ) {
        let mut gone: BTreeSet<&String> = before.paths.difference(paths).collect();
        let mut came: BTreeSet<&String> = paths.difference(&before.paths).collect();
        for (old, new) in std::mem::take(&mut *self.renames.lock()) {
            let moved: Vec<&String> = gone
                .iter()
                .filter(|p| under(p, &old) && came.contains(&rebase(p, &old, &new)))
                .copied()
                .collect();
            if moved.is_empty() {
                continue;
            }
            for p in moved {
                gone.remove(p);
                came.remove(&rebase(p, &old, &new));
            }
            self.hub.send(Event::PathRenamed {
                old: old.into(),
                new: new.into(),
            });
        }
        for p in gone {
            self.hub.send(Event::PathRemoved(p.as_str().into()));
        }
        for p in came {
            self.hub.send(Event::PathAdded(p.as_str().into()));
        }
        for (path, types) in methods {
            if before.methods.get(path).is_some_and(|t| t != types) {
                self.hub.send(Event::PathChanged(path.as_str().into()));
            }
        }
    }

    /// The plain addresses listed as nodes (methods and parameters), sorted.
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// ns.add_parameter(osc_query::ParamSpec::new("/b", 1))?;
    /// ns.add_parameter(osc_query::ParamSpec::new("/a", 1))?;
    /// assert_eq!(ns.paths(), ["/a", "/b"]);
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn paths(&self) -> Vec<String> {
        self.refresh();
        self.synced.lock().paths.iter().cloned().collect()
    }

    /// The methods registered with a pattern (filters), which are not nodes.
    ///
    /// ```
    /// use osc_codec::Message;
    /// use osc_dispatch::{Dispatcher, DispatcherConfig};
    /// use std::sync::Arc;
    /// let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    /// d.register("/synth/*/freq", |_m: &Message| {})?;
    /// let ns = osc_query::Namespace::with_source("demo", d);
    /// assert_eq!(ns.filters(), ["/synth/*/freq"]);
    /// assert!(ns.paths().is_empty());
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    #[must_use]
    pub fn filters(&self) -> Vec<String> {
        self.refresh();
        self.synced.lock().filters.clone()
    }

    /// The node of one method or parameter, without its subtree's containers.
    fn leaf(&self, path: &str, types: Option<&String>) -> Node {
        if let Some(p) = self.params.read().get(path) {
            let mut node = p.node();
            if let Some(d) = self.declared.read().get(path) {
                if node.description.is_none() {
                    node.description.clone_from(&d.description);
                }
            }
            return node;
        }
        let declared = self.declared.read().get(path).cloned().unwrap_or_default();
        let mut node = Node::new(path);
        node.description = declared.description;
        node.types = declared.types.or_else(|| types.cloned());
        node.access = Some(declared.access.unwrap_or(Access::Write));
        node
    }

    /// The whole tree, from the root `/` (a container with `ACCESS` 0 whose
    /// `DESCRIPTION` is the namespace's name).
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// ns.add_parameter(osc_query::ParamSpec::new("/a/b", 1))?;
    /// let root = ns.tree();
    /// assert_eq!(root.description.as_deref(), Some("demo"));
    /// assert_eq!(root.find("/a").unwrap().full_path, "/a");
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn tree(&self) -> Node {
        self.refresh();
        let (methods, paths) = {
            let s = self.synced.lock();
            (s.methods.clone(), s.paths.clone())
        };
        let mut root = container("/");
        root.description = Some(self.name.clone());
        for path in &paths {
            let leaf = self.leaf(path, methods.get(path).and_then(Option::as_ref));
            insert(&mut root, path, leaf);
        }
        root
    }

    /// The node at `path` (a method, a parameter or a container) with its subtree, or
    /// `None`. A trailing `/` is ignored.
    ///
    /// ```
    /// let ns = osc_query::Namespace::new("demo");
    /// ns.add_parameter(osc_query::ParamSpec::new("/baz/qux", String::from("half-full")))?;
    /// assert!(ns.node("/baz").unwrap().contents.is_some());
    /// assert!(ns.node("/bazzzzz").is_none());
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn node(&self, path: &str) -> Option<Node> {
        let trimmed = path.trim_end_matches('/');
        let path = if trimmed.is_empty() { "/" } else { trimmed };
        self.tree().find(path).cloned()
    }

    /// A receiver of changes, for one streaming client.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.hub.subscribe()
    }

    /// A streaming client listens to / ignores `path`.
    pub(crate) fn listen(&self, path: &str, on: bool) {
        if on {
            self.hub.listen(path);
        } else {
            self.hub.unlisten(path);
        }
    }

    /// Who is told of a path's first and last listener.
    pub(crate) fn set_listen_hook(&self, hook: Option<ListenHook>) {
        self.hub.set_hook(hook);
    }

    /// Whether `path` holds a parameter (which streams its own values).
    pub(crate) fn is_parameter(&self, path: &str) -> bool {
        self.params.read().contains_key(path)
    }

    /// Whether a method is kept out of the listing (a tap).
    pub(crate) fn is_hidden(&self, handle: MethodHandle) -> bool {
        self.hidden.read().contains(&handle)
    }

    /// Keeps a method out of the listing (or, with `false`, lets it back).
    pub(crate) fn hide(&self, handle: MethodHandle, hidden: bool) {
        if hidden {
            self.hidden.write().insert(handle);
        } else {
            self.hidden.write().remove(&handle);
        }
    }

    /// Streams a message that a plain method at `path` received.
    pub(crate) fn forward(&self, path: &str, args: Vec<osc_codec::Value>) {
        self.hub.value(path, args);
    }
}

fn check_path(path: &str) -> Result<()> {
    let bad = |reason: String| QueryError::Address {
        path: path.to_owned(),
        reason,
    };
    osc4rs::pattern::validate_address(path).map_err(|e| bad(e.to_string()))?;
    if !osc4rs::pattern::is_literal_address(path) {
        return Err(bad("a pattern is not a node".into()));
    }
    Ok(())
}

/// Whether `path` is `root` or lies under it.
pub(crate) fn under(path: &str, root: &str) -> bool {
    path.strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `path` (which lies under `old`) moved under `new`.
pub(crate) fn rebase(path: &str, old: &str, new: &str) -> String {
    format!("{new}{}", path.get(old.len()..).unwrap_or_default())
}

fn container(path: &str) -> Node {
    Node {
        access: Some(Access::None),
        contents: Some(BTreeMap::new()),
        ..Node::new(path)
    }
}

/// Puts `leaf` at `path` under `root`, creating containers on the way; a node that
/// is both a method and a container keeps its attributes and gets `CONTENTS`.
fn insert(root: &mut Node, path: &str, leaf: Node) {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let mut node = root;
    let mut full = String::new();
    for (i, part) in parts.iter().enumerate() {
        full.push('/');
        full.push_str(part);
        let last = i + 1 == parts.len();
        let contents = node.contents.get_or_insert_with(BTreeMap::new);
        let child = contents
            .entry((*part).to_owned())
            .or_insert_with(|| container(&full));
        if last {
            let kept = child.contents.take().filter(|c| !c.is_empty());
            *child = leaf;
            child.contents = kept;
            return;
        }
        node = child;
    }
}
