//! The address space: registered methods indexed for dispatch.

use std::collections::HashMap;

mod walk;

use crate::{Filter, MethodFilter, Pattern, PatternError, is_literal_address, validate_address};

/// The maps from names and addresses to nodes. Every incoming literal address is
/// hashed once, so the hasher is foldhash (several times faster than SipHash on short
/// strings); it is seeded per process, and the keys are the application's own
/// addresses, which a sender cannot add to.
type NameMap = HashMap<Box<str>, usize, foldhash::fast::RandomState>;

/// The most parts an address registered in an [`AddressSpace`] may have (it
/// bounds the depth of the index, hence of the recursion of a pattern walk).
///
/// ```
/// use osc_pattern::{AddressSpace, MAX_ADDRESS_PARTS};
///
/// let mut space = AddressSpace::new();
/// assert!(space.insert(&"/a".repeat(MAX_ADDRESS_PARTS), ()).is_ok());
/// assert!(space.insert(&"/a".repeat(MAX_ADDRESS_PARTS + 1), ()).is_err());
/// ```
pub const MAX_ADDRESS_PARTS: usize = 128;

/// Identifies a registered method. Ids order by registration: a method
/// registered later has a greater id. An id is never reused, so a stale id
/// (of a removed method) finds nothing.
///
/// ```
/// use osc_pattern::AddressSpace;
///
/// let mut space = AddressSpace::new();
/// let a = space.insert("/b", ())?;
/// let b = space.insert("/a", ())?;
/// assert!(a < b);
/// # Ok::<(), osc_pattern::PatternError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MethodId {
    sequence: u64,
    slot: usize,
}

impl MethodId {
    /// The registration sequence number (0 for the first method registered
    /// in an address space, then increasing).
    ///
    /// ```
    /// use osc_pattern::AddressSpace;
    ///
    /// let mut space = AddressSpace::new();
    /// assert_eq!(space.insert("/a", ())?.sequence(), 0);
    /// assert_eq!(space.insert("/a", ())?.sequence(), 1);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn sequence(self) -> u64 {
        self.sequence
    }
}

#[derive(Debug, Default, Clone)]
struct Node {
    parent: usize,
    name: Box<str>,
    /// The full address of this node (empty for the root).
    path: Box<str>,
    children: NameMap,
    /// The same children in creation order, for scans: wildcard walks then
    /// visit nodes (and find entries) mostly in registration order, which
    /// keeps the final sort cheap.
    order: Vec<usize>,
    /// Methods registered at exactly this address, in registration order.
    entries: Vec<MethodId>,
}

#[derive(Debug, Clone)]
enum Registration {
    Address(usize),
    Filter(Filter),
}

#[derive(Debug, Clone)]
struct Entry<T> {
    id: MethodId,
    payload: T,
    registration: Registration,
}

/// Registered methods, indexed for dispatch, each with a payload `T` (the
/// handler, for a dispatcher).
///
/// Two kinds of registration (see the crate docs for the rule):
/// - [`insert`](Self::insert) a literal address. An incoming *pattern*
///   selects every literal address it matches (OSC's dispatch); an incoming
///   literal address selects its own methods.
/// - [`insert_filter`](Self::insert_filter) a [`Filter`]. It selects every
///   incoming *literal* address it matches; incoming patterns never select
///   filters.
///
/// Literal addresses live in a tree keyed by part, beside a map from full
/// address to tree node: a literal incoming address costs one hash lookup
/// (of the whole address); a pattern walks only the branches
/// it can match (hash lookups for literal parts and small alternatives like
/// `{1,2,3}`, a scan of the children for other wildcards, a descent for
/// `//`). Filters are a list, all tried against each literal incoming
/// address. Results come in registration order, each method once.
///
/// ```
/// use osc_pattern::{AddressSpace, Filter};
///
/// let mut space = AddressSpace::new();
/// let freq = space.insert("/synth/1/freq", "freq")?;
/// let amp = space.insert("/synth/1/amp", "amp")?;
/// let any = space.insert_filter(Filter::osc("/synth/*/amp")?, "any amp");
///
/// let mut out = Vec::new();
/// space.dispatch_into("/synth/1/{freq,amp}", &mut out)?;
/// assert_eq!(out, vec![(freq, &"freq"), (amp, &"amp")]);
/// space.dispatch_into("/synth/1/amp", &mut out)?;
/// assert_eq!(out, vec![(amp, &"amp"), (any, &"any amp")]);
///
/// assert_eq!(space.remove(amp), Some("amp"));
/// assert_eq!(space.len(), 2);
/// # Ok::<(), osc_pattern::PatternError>(())
/// ```
///
/// It clones (each payload cloned) when `T` does: a reader can keep a snapshot while a
/// writer edits a copy.
#[derive(Debug, Clone)]
pub struct AddressSpace<T> {
    /// Arena of tree nodes; index 0 is the root.
    nodes: Vec<Node>,
    free_nodes: Vec<usize>,
    /// Every node by its full address: a literal incoming address is one
    /// hash lookup rather than one per level.
    by_path: NameMap,
    slots: Vec<Option<Entry<T>>>,
    free_slots: Vec<usize>,
    /// Registered filters, in registration order.
    filters: Vec<MethodId>,
    next_sequence: u64,
    len: usize,
}

impl<T> Default for AddressSpace<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> AddressSpace<T> {
    /// An empty address space.
    ///
    /// ```
    /// let space = osc_pattern::AddressSpace::<()>::new();
    /// assert!(space.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            nodes: vec![Node::default()],
            free_nodes: Vec::new(),
            by_path: NameMap::default(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            filters: Vec::new(),
            next_sequence: 0,
            len: 0,
        }
    }

    /// Number of registered methods (addresses and filters).
    ///
    /// ```
    /// let mut space = osc_pattern::AddressSpace::new();
    /// space.insert("/a", 1)?;
    /// space.insert("/a", 2)?;
    /// assert_eq!(space.len(), 2);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is registered.
    ///
    /// ```
    /// assert!(osc_pattern::AddressSpace::<u8>::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Registers a method at a literal address. Several methods may share
    /// an address.
    ///
    /// # Errors
    ///
    /// As [`validate_address`] (a pattern is not a literal address: use
    /// [`insert_filter`](Self::insert_filter) to register one), or
    /// [`PatternError::TooManyParts`].
    ///
    /// ```
    /// let mut space = osc_pattern::AddressSpace::new();
    /// assert!(space.insert("/synth/1/freq", ()).is_ok());
    /// assert!(space.insert("/synth/*/freq", ()).is_err());
    /// ```
    pub fn insert(&mut self, address: &str, payload: T) -> Result<MethodId, PatternError> {
        validate_address(address)?;
        let parts = address.split('/').count() - 1;
        if parts > MAX_ADDRESS_PARTS {
            return Err(PatternError::TooManyParts {
                parts,
                limit: MAX_ADDRESS_PARTS,
            });
        }
        let mut node = 0;
        for name in address.split('/').skip(1) {
            node = self.child_or_new(node, name);
        }
        let id = self.new_entry(payload, Registration::Address(node));
        if let Some(n) = self.nodes.get_mut(node) {
            n.entries.push(id);
        }
        Ok(id)
    }

    /// Registers a method with a filter (a pattern or regular expression
    /// that selects literal incoming addresses).
    ///
    /// ```
    /// use osc_pattern::{AddressSpace, Filter};
    ///
    /// let mut space = AddressSpace::new();
    /// let id = space.insert_filter(Filter::osc("/test/*")?, ());
    /// assert_eq!(space.dispatch("/test/me")?, vec![(id, &())]);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn insert_filter(&mut self, filter: Filter, payload: T) -> MethodId {
        let id = self.new_entry(payload, Registration::Filter(filter));
        self.filters.push(id);
        id
    }

    /// Registers a [`MethodFilter`]; same as
    /// [`insert_filter`](Self::insert_filter).
    ///
    /// ```
    /// use osc_pattern::{AddressSpace, Filter, MethodFilter};
    ///
    /// let mut space = AddressSpace::new();
    /// space.insert_method_filter(MethodFilter::new(Filter::osc("//x")?, 1));
    /// assert_eq!(space.len(), 1);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn insert_method_filter(&mut self, method: MethodFilter<T>) -> MethodId {
        self.insert_filter(method.filter, method.payload)
    }

    /// Unregisters a method and returns its payload, or `None` if the id is
    /// not (or no longer) registered here.
    ///
    /// ```
    /// let mut space = osc_pattern::AddressSpace::new();
    /// let id = space.insert("/a/b", "x")?;
    /// assert_eq!(space.remove(id), Some("x"));
    /// assert_eq!(space.remove(id), None);
    /// assert!(space.dispatch("/a/b")?.is_empty());
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn remove(&mut self, id: MethodId) -> Option<T> {
        let slot = self.slots.get_mut(id.slot)?;
        if slot.as_ref().map(|e| e.id) != Some(id) {
            return None;
        }
        let entry = slot.take()?;
        self.free_slots.push(id.slot);
        self.len -= 1;
        match entry.registration {
            Registration::Filter(_) => {
                if let Ok(at) = self.filters.binary_search(&id) {
                    self.filters.remove(at);
                }
            }
            Registration::Address(node) => {
                if let Some(n) = self.nodes.get_mut(node) {
                    n.entries.retain(|&e| e != id);
                }
                self.prune(node);
            }
        }
        Some(entry.payload)
    }

    /// The payload of a registered method.
    ///
    /// ```
    /// let mut space = osc_pattern::AddressSpace::new();
    /// let id = space.insert("/a", 5)?;
    /// assert_eq!(space.get(id), Some(&5));
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn get(&self, id: MethodId) -> Option<&T> {
        self.entry(id).map(|e| &e.payload)
    }

    /// The payload of a registered method, mutably.
    ///
    /// ```
    /// let mut space = osc_pattern::AddressSpace::new();
    /// let id = space.insert("/a", 5)?;
    /// if let Some(p) = space.get_mut(id) {
    ///     *p = 6;
    /// }
    /// assert_eq!(space.get(id), Some(&6));
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn get_mut(&mut self, id: MethodId) -> Option<&mut T> {
        match self.slots.get_mut(id.slot) {
            Some(Some(entry)) if entry.id == id => Some(&mut entry.payload),
            _ => None,
        }
    }

    /// Every registered method (addresses and filters) with its payload, in
    /// registration order.
    ///
    /// ```
    /// use osc_pattern::{AddressSpace, Filter};
    ///
    /// let mut space = AddressSpace::new();
    /// let a = space.insert("/a/b", "b")?;
    /// let f = space.insert_filter(Filter::osc("/a/*")?, "any");
    /// let all: Vec<_> = space.iter().collect();
    /// assert_eq!(all, vec![(a, &"b"), (f, &"any")]);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (MethodId, &T)> {
        let mut all: Vec<(MethodId, &T)> = self
            .slots
            .iter()
            .flatten()
            .map(|e| (e.id, &e.payload))
            .collect();
        all.sort_by_key(|(id, _)| *id);
        all.into_iter()
    }

    /// The address, or the filter's source text, a method was registered
    /// with.
    ///
    /// ```
    /// use osc_pattern::{AddressSpace, Filter};
    ///
    /// let mut space = AddressSpace::new();
    /// let a = space.insert("/a/b", ())?;
    /// let f = space.insert_filter(Filter::osc("/a/*")?, ());
    /// assert_eq!(space.source(a), Some("/a/b"));
    /// assert_eq!(space.source(f), Some("/a/*"));
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    #[must_use]
    pub fn source(&self, id: MethodId) -> Option<&str> {
        match &self.entry(id)?.registration {
            Registration::Address(node) => self.nodes.get(*node).map(|n| &*n.path),
            Registration::Filter(filter) => Some(filter.as_str()),
        }
    }

    /// Finds the methods an incoming address (literal or pattern) selects
    /// and puts them in `out` (cleared first), in registration order, each
    /// once. Reusing `out` makes repeated dispatch of literal addresses
    /// allocation-free; an incoming pattern is compiled first (use
    /// [`dispatch_pattern_into`](Self::dispatch_pattern_into) with a
    /// compiled [`Pattern`] to avoid that).
    ///
    /// - A literal incoming address (see [`is_literal_address`]) selects the
    ///   methods registered at exactly that address and every filter that
    ///   matches it.
    /// - Any other incoming address is parsed as a pattern and selects every
    ///   method registered at a literal address it matches; filters are not
    ///   consulted.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] if `incoming` is neither a literal address nor a
    /// valid pattern.
    ///
    /// ```
    /// let mut space = osc_pattern::AddressSpace::new();
    /// let id = space.insert("/a/b/c", ())?;
    /// let mut out = Vec::new();
    /// for incoming in ["/a/b/c", "/a/*/c", "//c", "/{a,x}/[a-b]/?"] {
    ///     space.dispatch_into(incoming, &mut out)?;
    ///     assert_eq!(out, vec![(id, &())]);
    /// }
    /// assert!(space.dispatch_into("/a/[b", &mut out).is_err());
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn dispatch_into<'a>(
        &'a self,
        incoming: &str,
        out: &mut Vec<(MethodId, &'a T)>,
    ) -> Result<(), PatternError> {
        out.clear();
        if is_literal_address(incoming) {
            self.for_each_literal_match(incoming, self.node_at(incoming), |id, t| {
                out.push((id, t))
            });
        } else {
            self.collect_pattern(&Pattern::new(incoming)?, out);
        }
        Ok(())
    }

    /// Calls `f` with each method an incoming address selects, in the order of
    /// [`dispatch_into`](Self::dispatch_into) (registration order). For a literal
    /// address (the usual case) it allocates nothing: methods registered at the
    /// address and filters that match it are merged in registration order as they
    /// are found.
    ///
    /// # Errors
    ///
    /// As [`dispatch_into`](Self::dispatch_into).
    ///
    /// ```
    /// use osc_pattern::{AddressSpace, Filter};
    ///
    /// let mut space = AddressSpace::new();
    /// space.insert("/synth/1", "synth 1 (first)")?;
    /// space.insert_filter(Filter::osc("/synth/*")?, "any synth");
    /// space.insert("/synth/1", "synth 1 (second)")?;
    /// let mut seen = Vec::new();
    /// space.for_each_match("/synth/1", |_, &name| seen.push(name))?;
    /// assert_eq!(seen, ["synth 1 (first)", "any synth", "synth 1 (second)"]);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    ///
    /// An incoming address that is neither a literal address nor a valid pattern (a
    /// trailing `/`, as in osc4py3's own examples) reaches no method and no OSC
    /// filter, but the osc4py3-style filters (prefix and regular expression) still see
    /// it as a string, as osc4py3 would; it is an error only when none takes it.
    ///
    /// ```
    /// use osc_pattern::{AddressSpace, Filter};
    ///
    /// let mut space = AddressSpace::new();
    /// space.insert("/test/me", "method")?;
    /// space.insert_filter(Filter::osc4py3_prefix("/test")?, "osc4py3 prefix");
    /// let mut seen = Vec::new();
    /// space.for_each_match("/test/me/", |_, &name| seen.push(name))?;
    /// assert_eq!(seen, ["osc4py3 prefix"]);
    /// assert!(space.for_each_match("/other/", |_, _| {}).is_err());
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn for_each_match<'a>(
        &'a self,
        incoming: &str,
        f: impl FnMut(MethodId, &'a T),
    ) -> Result<(), PatternError> {
        // A registered address is a literal one: no need to scan it.
        if let Some(node) = self.node_at(incoming) {
            self.for_each_literal_match(incoming, Some(node), f);
            return Ok(());
        }
        match self.for_each_filter_if_literal(incoming, f) {
            Ok(()) => Ok(()),
            Err(f) => self.for_each_pattern_match(incoming, f),
        }
    }

    /// [`for_each_literal_match`](Self::for_each_literal_match) for an address no
    /// method is registered at (only filters can take it), when it is a literal
    /// address; else gives `f` back, having called nothing. Whether it is literal is
    /// asked of the first filter that matches it, which often knows from its own match
    /// (a pattern such as `/synth/*` scans only the last part again); an address no
    /// filter matches is scanned whole.
    fn for_each_filter_if_literal<'a, F: FnMut(MethodId, &'a T)>(
        &'a self,
        incoming: &str,
        mut f: F,
    ) -> Result<(), F> {
        let mut literal = None;
        for (id, filter, payload) in self.filter_entries() {
            let Some(is_literal) = filter.match_literal(incoming) else {
                continue;
            };
            if !*literal.get_or_insert(is_literal) {
                return Err(f);
            }
            f(id, payload);
        }
        match literal {
            Some(_) => Ok(()),
            None if is_literal_address(incoming) => Ok(()),
            None => Err(f),
        }
    }

    /// [`for_each_match`](Self::for_each_match) for an incoming address that is not a
    /// literal one. Kept out of line: most incoming addresses are literal, and this
    /// path's frame (a compiled pattern, a `Vec`) would make theirs larger.
    #[inline(never)]
    fn for_each_pattern_match<'a>(
        &'a self,
        incoming: &str,
        mut f: impl FnMut(MethodId, &'a T),
    ) -> Result<(), PatternError> {
        match Pattern::new(incoming) {
            Ok(pattern) => {
                let mut out = Vec::new();
                self.collect_pattern(&pattern, &mut out);
                for (id, t) in out {
                    f(id, t);
                }
                Ok(())
            }
            Err(e) => {
                let mut any = false;
                self.for_each_filter_match(incoming, |id, t| {
                    any = true;
                    f(id, t);
                });
                if any { Ok(()) } else { Err(e) }
            }
        }
    }

    /// The osc4py3-style filters (not OSC patterns, which follow the specification)
    /// that take `address` as a string, in registration order.
    fn for_each_filter_match<'a>(&'a self, address: &str, mut f: impl FnMut(MethodId, &'a T)) {
        for (id, filter, payload) in self.filter_entries() {
            if filter.kind() != crate::FilterKind::Osc && filter.matches_literal(address) {
                f(id, payload);
            }
        }
    }

    /// The registered filters, in registration order, with their payloads.
    #[inline]
    fn filter_entries(&self) -> impl Iterator<Item = (MethodId, &Filter, &T)> {
        self.filters.iter().filter_map(|&id| match self.entry(id)? {
            Entry {
                payload,
                registration: Registration::Filter(filter),
                ..
            } => Some((id, filter, payload)),
            _ => None,
        })
    }

    /// [`dispatch_into`](Self::dispatch_into) returning a new `Vec`.
    ///
    /// # Errors
    ///
    /// As [`dispatch_into`](Self::dispatch_into).
    ///
    /// ```
    /// let mut space = osc_pattern::AddressSpace::new();
    /// let a = space.insert("/x/1", 'a')?;
    /// let b = space.insert("/x/2", 'b')?;
    /// assert_eq!(space.dispatch("/x/?")?, vec![(a, &'a'), (b, &'b')]);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn dispatch(&self, incoming: &str) -> Result<Vec<(MethodId, &T)>, PatternError> {
        let mut out = Vec::new();
        self.dispatch_into(incoming, &mut out)?;
        Ok(out)
    }

    /// [`dispatch_into`](Self::dispatch_into) for an already compiled
    /// pattern (no allocation beyond `out`'s growth). A pattern whose text
    /// is a literal address is dispatched as that address (filters
    /// included).
    ///
    /// ```
    /// use osc_pattern::{AddressSpace, Pattern};
    ///
    /// let mut space = AddressSpace::new();
    /// let id = space.insert("/synth/3/freq", ())?;
    /// let pattern = Pattern::new("/synth/*/freq")?;
    /// let mut out = Vec::new();
    /// space.dispatch_pattern_into(&pattern, &mut out);
    /// assert_eq!(out, vec![(id, &())]);
    /// # Ok::<(), osc_pattern::PatternError>(())
    /// ```
    pub fn dispatch_pattern_into<'a>(
        &'a self,
        pattern: &Pattern,
        out: &mut Vec<(MethodId, &'a T)>,
    ) {
        out.clear();
        if is_literal_address(pattern.as_str()) {
            self.for_each_literal_match(
                pattern.as_str(),
                self.node_at(pattern.as_str()),
                |id, t| out.push((id, t)),
            );
        } else {
            self.collect_pattern(pattern, out);
        }
    }

    fn entry(&self, id: MethodId) -> Option<&Entry<T>> {
        self.slots
            .get(id.slot)?
            .as_ref()
            .filter(|entry| entry.id == id)
    }

    fn new_entry(&mut self, payload: T, registration: Registration) -> MethodId {
        let slot = self.free_slots.pop().unwrap_or(self.slots.len());
        let id = MethodId {
            sequence: self.next_sequence,
            slot,
        };
        self.next_sequence = self.next_sequence.wrapping_add(1);
        let entry = Some(Entry {
            id,
            payload,
            registration,
        });
        match self.slots.get_mut(slot) {
            Some(free) => *free = entry,
            None => self.slots.push(entry),
        }
        self.len += 1;
        id
    }

    fn child_or_new(&mut self, parent: usize, name: &str) -> usize {
        let Some(node) = self.nodes.get(parent) else {
            return parent;
        };
        if let Some(&child) = node.children.get(name) {
            return child;
        }
        let path: Box<str> = format!("{}/{name}", node.path).into();
        let new = Node {
            parent,
            name: name.into(),
            path: path.clone(),
            ..Node::default()
        };
        let index = match self.free_nodes.pop() {
            Some(index) => {
                if let Some(slot) = self.nodes.get_mut(index) {
                    *slot = new;
                }
                index
            }
            None => {
                self.nodes.push(new);
                self.nodes.len() - 1
            }
        };
        if let Some(node) = self.nodes.get_mut(parent) {
            node.children.insert(name.into(), index);
            node.order.push(index);
        }
        self.by_path.insert(path, index);
        index
    }

    /// Frees `node` and its ancestors while they hold nothing.
    fn prune(&mut self, mut node: usize) {
        while node != 0 {
            let Some(n) = self.nodes.get_mut(node) else {
                return;
            };
            if !n.entries.is_empty() || !n.children.is_empty() {
                return;
            }
            let parent = n.parent;
            let name = std::mem::take(&mut n.name);
            self.by_path.remove(&n.path);
            *n = Node::default();
            self.free_nodes.push(node);
            if let Some(p) = self.nodes.get_mut(parent) {
                p.children.remove(&name);
                p.order.retain(|&c| c != node);
            }
            node = parent;
        }
    }

    fn push_entries<'a>(&'a self, node: &Node, out: &mut Vec<(MethodId, &'a T)>) {
        out.extend(
            node.entries
                .iter()
                .filter_map(|&id| self.entry(id).map(|e| (id, &e.payload))),
        );
    }

    /// The tree node of a literal address, if it has one. An empty map is not asked:
    /// it would still hash.
    fn node_at(&self, address: &str) -> Option<usize> {
        if self.by_path.is_empty() {
            return None;
        }
        self.by_path.get(address).copied()
    }

    /// The methods a literal `address` selects: those registered at its `node` (its
    /// entry in `by_path`, looked up by the caller; kept in registration order by the
    /// node) merged with the matching filters (kept in registration order too), so no
    /// sort is needed.
    fn for_each_literal_match<'a>(
        &'a self,
        address: &str,
        node: Option<usize>,
        mut f: impl FnMut(MethodId, &'a T),
    ) {
        let at_address = node
            .and_then(|n| self.nodes.get(n))
            .map_or(&[][..], |node| &node.entries[..]);
        let matching = self
            .filter_entries()
            .filter(|(_, filter, _)| filter.matches_literal(address));
        if at_address.is_empty() {
            // Only filters can match (an address no method is registered at): nothing
            // to merge.
            return matching.for_each(|(id, _, payload)| f(id, payload));
        }
        let mut exact = at_address
            .iter()
            .filter_map(|&id| self.entry(id).map(|e| (id, &e.payload)))
            .peekable();
        for (id, _, payload) in matching {
            while let Some((e, t)) = exact.next_if(|&(e, _)| e < id) {
                f(e, t);
            }
            f(id, payload);
        }
        for (e, t) in exact {
            f(e, t);
        }
    }
}

#[cfg(test)]
#[cfg_attr(test, allow(clippy::unwrap_used))]
mod tests {
    use super::*;

    #[test]
    fn node_reuse_after_prune() {
        let mut space = AddressSpace::new();
        let a = space.insert("/a/b/c", 1).unwrap();
        assert_eq!(space.nodes.len(), 4);
        space.remove(a);
        assert_eq!(space.free_nodes.len(), 3);
        assert!(space.nodes.first().unwrap().children.is_empty());
        let b = space.insert("/x/y", 2).unwrap();
        assert_eq!(space.nodes.len(), 4);
        assert_eq!(space.dispatch("/x/y").unwrap(), vec![(b, &2)]);
        assert_eq!(space.dispatch("//y").unwrap(), vec![(b, &2)]);
        assert!(space.dispatch("/a/b/c").unwrap().is_empty());
        assert_eq!(space.source(b), Some("/x/y"));
    }

    #[test]
    fn stale_ids_find_nothing() {
        let mut space = AddressSpace::new();
        let a = space.insert("/a", 1).unwrap();
        space.remove(a);
        let b = space.insert("/a", 2).unwrap();
        assert_eq!(a.slot, b.slot);
        assert_eq!(space.get(a), None);
        assert_eq!(space.remove(a), None);
        assert_eq!(space.get(b), Some(&2));
    }

    #[test]
    fn too_many_parts() {
        let mut space = AddressSpace::new();
        let deep = "/a".repeat(MAX_ADDRESS_PARTS + 1);
        assert!(matches!(
            space.insert(&deep, ()),
            Err(PatternError::TooManyParts { .. })
        ));
        assert!(space.insert(&"/a".repeat(MAX_ADDRESS_PARTS), ()).is_ok());
    }
}
