//! Send targets: a channel name, or a (nested) group of names.

/// Where [`Osc::send`](crate::Osc::send) sends: one channel name or a group of targets,
/// nested to any depth (osc4py3 accepts a name, or a list/tuple/set of names).
///
/// Special names: `_local` dispatches to this process's methods without encoding;
/// `_all` sends on every channel that can write.
///
/// ```
/// use osc4rs::Target;
/// let t = Target::from(vec![Target::from("synth"), Target::from(["lights", "_local"])]);
/// assert_eq!(t.names(), ["synth", "lights", "_local"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// One channel (or `_local`, `_all`).
    Name(String),
    /// Several targets.
    Group(Vec<Target>),
}

impl Target {
    /// The names, flattened in order, each once.
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.for_each_name(&mut |n| {
            if seen.insert(n) {
                out.push(n);
            }
        });
        out
    }

    /// Calls `f` with every name, flattened in order, repeats included (a send
    /// removes them by channel, which costs less than comparing names).
    pub(crate) fn for_each_name<'a>(&'a self, f: &mut impl FnMut(&'a str)) {
        match self {
            Target::Name(n) => f(n),
            Target::Group(g) => g.iter().for_each(|t| t.for_each_name(f)),
        }
    }
}

impl From<&str> for Target {
    fn from(s: &str) -> Self {
        Target::Name(s.to_owned())
    }
}

impl From<String> for Target {
    fn from(s: String) -> Self {
        Target::Name(s)
    }
}

impl From<&String> for Target {
    fn from(s: &String) -> Self {
        Target::Name(s.clone())
    }
}

impl<T: Into<Target>> From<Vec<T>> for Target {
    fn from(v: Vec<T>) -> Self {
        Target::Group(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Target>, const N: usize> From<[T; N]> for Target {
    fn from(v: [T; N]) -> Self {
        Target::Group(v.into_iter().map(Into::into).collect())
    }
}

impl From<&[&str]> for Target {
    fn from(v: &[&str]) -> Self {
        Target::Group(v.iter().map(|s| Target::from(*s)).collect())
    }
}

/// What [`Osc::send`](crate::Osc::send) takes as a target: a channel name (`&str`,
/// `String`, `&String`), a [`Target`] or a reference to one, or a group (a `Vec` or an
/// array of names or targets, a slice of names). A single name is looked up where it
/// is, so sending to a name allocates nothing for the target; a `&Target` is lent as it
/// is (keep a large group and send to a reference to it); other groups become a
/// [`Target`] per send.
///
/// ```
/// use osc4rs::{IntoTarget, Target};
/// assert_eq!("synth".as_name(), Some("synth"));
/// assert_eq!(Target::from("synth").as_name(), Some("synth"));
/// assert_eq!(["a", "b"].as_name(), None);
/// assert_eq!(["a", "b"].into_target().names(), ["a", "b"]);
/// ```
pub trait IntoTarget {
    /// The one channel name this target is, if it is one.
    fn as_name(&self) -> Option<&str>;
    /// The target as a [`Target`].
    fn into_target(self) -> Target;
    /// Calls `f` with the target as a [`Target`]: a `&Target` is lent as it is, so
    /// sending to a group kept by the application copies none of its names; other
    /// targets are made into one first.
    ///
    /// ```
    /// use osc4rs::{IntoTarget, Target};
    /// let group = Target::from(["a", "b"]);
    /// assert_eq!((&group).with_target(|t| t.names().len()), 2);
    /// assert!("a".with_target(|t| t.names() == ["a"]));
    /// ```
    fn with_target<R>(self, f: impl FnOnce(&Target) -> R) -> R
    where
        Self: Sized,
    {
        f(&self.into_target())
    }
}

impl IntoTarget for &str {
    fn as_name(&self) -> Option<&str> {
        Some(self)
    }
    fn into_target(self) -> Target {
        Target::from(self)
    }
}

impl IntoTarget for String {
    fn as_name(&self) -> Option<&str> {
        Some(self)
    }
    fn into_target(self) -> Target {
        Target::Name(self)
    }
}

impl IntoTarget for &String {
    fn as_name(&self) -> Option<&str> {
        Some(self)
    }
    fn into_target(self) -> Target {
        Target::from(self)
    }
}

impl IntoTarget for Target {
    fn as_name(&self) -> Option<&str> {
        match self {
            Target::Name(n) => Some(n),
            Target::Group(_) => None,
        }
    }
    fn into_target(self) -> Target {
        self
    }
}

impl IntoTarget for &Target {
    fn as_name(&self) -> Option<&str> {
        (*self).as_name()
    }
    fn into_target(self) -> Target {
        self.clone()
    }
    fn with_target<R>(self, f: impl FnOnce(&Target) -> R) -> R {
        f(self)
    }
}

impl<T: Into<Target>> IntoTarget for Vec<T> {
    fn as_name(&self) -> Option<&str> {
        None
    }
    fn into_target(self) -> Target {
        Target::from(self)
    }
}

impl<T: Into<Target>, const N: usize> IntoTarget for [T; N] {
    fn as_name(&self) -> Option<&str> {
        None
    }
    fn into_target(self) -> Target {
        Target::from(self)
    }
}

impl IntoTarget for &[&str] {
    fn as_name(&self) -> Option<&str> {
        None
    }
    fn into_target(self) -> Target {
        Target::from(self)
    }
}

/// The reserved name that dispatches locally without encoding.
pub const LOCAL: &str = "_local";
/// The reserved name that sends on every writing channel.
pub const ALL: &str = "_all";
