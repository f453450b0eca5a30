//! The JSON documents of the proposal: a node of the address space ([`Node`], with
//! its subtree in `CONTENTS`) and the server's `HOST_INFO` ([`HostInfo`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::attr::{Access, ClipMode, Range, Slot, one_or_many};
use crate::{QueryError, Result};

/// One node of an OSC address space as OSCQuery describes it: a method, a container
/// (with `CONTENTS`), or both. Absent attributes are left out of the JSON.
///
/// ```
/// use osc_query::{Access, Node, Range};
/// let mut foo = Node::new("/foo");
/// foo.access = Some(Access::Read);
/// foo.types = Some("f".into());
/// foo.value = Some(vec![serde_json::json!(0.5)]);
/// foo.range = Some(vec![Range::new(0.0, 100.0).into()]);
/// let json = serde_json::to_value(&foo).unwrap();
/// assert_eq!(json, serde_json::json!({
///     "FULL_PATH": "/foo", "ACCESS": 1, "TYPE": "f", "VALUE": [0.5],
///     "RANGE": [{"MIN": 0.0, "MAX": 100.0}]
/// }));
/// let back: Node = serde_json::from_value(json).unwrap();
/// assert_eq!(back, foo);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Node {
    /// `DESCRIPTION`: human-readable text.
    #[serde(
        rename = "DESCRIPTION",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// `FULL_PATH`: the node's OSC address (`/` for the root).
    #[serde(rename = "FULL_PATH")]
    pub full_path: String,
    /// `ACCESS`.
    #[serde(rename = "ACCESS", default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    /// `TYPE`: the OSC type tag string, without the leading comma.
    #[serde(rename = "TYPE", default, skip_serializing_if = "Option::is_none")]
    pub types: Option<String>,
    /// `VALUE`: one JSON item per type tag (see [`values_from_json`](crate::values_from_json)).
    #[serde(rename = "VALUE", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Vec<serde_json::Value>>,
    /// `RANGE`: one entry per type tag.
    #[serde(
        rename = "RANGE",
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Option::is_none"
    )]
    pub range: Option<Vec<Slot<Range>>>,
    /// `UNIT`: one entry per type tag.
    #[serde(
        rename = "UNIT",
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Option::is_none"
    )]
    pub unit: Option<Vec<Slot<String>>>,
    /// `CLIPMODE`: one entry per type tag.
    #[serde(
        rename = "CLIPMODE",
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Option::is_none"
    )]
    pub clipmode: Option<Vec<Slot<ClipMode>>>,
    /// `EXTENDED_TYPE`: one entry per type tag (read from other servers; this crate
    /// does not publish it).
    #[serde(
        rename = "EXTENDED_TYPE",
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Option::is_none"
    )]
    pub extended_type: Option<Vec<Slot<String>>>,
    /// `TAGS` (read from other servers; this crate does not publish it).
    #[serde(rename = "TAGS", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// `CRITICAL` (read from other servers; this crate does not publish it).
    #[serde(rename = "CRITICAL", default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<bool>,
    /// `CONTENTS`: the sub-nodes by name; present only on containers.
    #[serde(rename = "CONTENTS", default, skip_serializing_if = "Option::is_none")]
    pub contents: Option<BTreeMap<String, Node>>,
}

impl Node {
    /// A node with only its `FULL_PATH`.
    ///
    /// ```
    /// assert_eq!(osc_query::Node::new("/a").full_path, "/a");
    /// ```
    #[must_use]
    pub fn new(full_path: impl Into<String>) -> Self {
        Node {
            full_path: full_path.into(),
            ..Node::default()
        }
    }

    /// Parses a node document (the answer to `GET /path`).
    ///
    /// # Errors
    /// [`QueryError::Json`] for anything that is not a node.
    ///
    /// ```
    /// let n = osc_query::Node::from_json(r#"{"FULL_PATH":"/","CONTENTS":{"a":{"FULL_PATH":"/a","TYPE":"i"}}}"#)?;
    /// assert_eq!(n.child("a").and_then(|a| a.types.as_deref()), Some("i"));
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Node> {
        serde_json::from_str(text).map_err(|e| QueryError::Json {
            context: "node".into(),
            reason: e.to_string(),
        })
    }

    /// A direct sub-node by name.
    ///
    /// ```
    /// let n = osc_query::Node::new("/");
    /// assert!(n.child("a").is_none());
    /// ```
    #[must_use]
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.contents.as_ref()?.get(name)
    }

    /// The node at an OSC address below this one (this node must be the root, or the
    /// address must start with this node's path).
    ///
    /// ```
    /// let root = osc_query::Node::from_json(
    ///     r#"{"FULL_PATH":"/","CONTENTS":{"baz":{"FULL_PATH":"/baz","CONTENTS":{"qux":{"FULL_PATH":"/baz/qux"}}}}}"#)?;
    /// assert_eq!(root.find("/baz/qux").map(|n| n.full_path.as_str()), Some("/baz/qux"));
    /// assert!(root.find("/nope").is_none());
    /// assert!(root.find("/baz//qux").is_none());
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn find(&self, path: &str) -> Option<&Node> {
        let base = self.full_path.trim_end_matches('/');
        let rest = path.strip_prefix(base)?;
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Some(self);
        }
        // An empty part (`/baz//qux`) names nothing.
        rest.split('/').try_fold(self, |n, part| n.child(part))
    }

    /// Every node of the subtree, this one first, depth first in name order.
    ///
    /// ```
    /// let root = osc_query::Node::from_json(
    ///     r#"{"FULL_PATH":"/","CONTENTS":{"a":{"FULL_PATH":"/a"},"b":{"FULL_PATH":"/b"}}}"#)?;
    /// let paths: Vec<_> = root.walk().map(|n| n.full_path.as_str()).collect();
    /// assert_eq!(paths, ["/", "/a", "/b"]);
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    pub fn walk(&self) -> impl Iterator<Item = &Node> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let n = stack.pop()?;
            if let Some(c) = &n.contents {
                stack.extend(c.values().rev());
            }
            Some(n)
        })
    }
}

/// `OSC_TRANSPORT` in `HOST_INFO`.
///
/// ```
/// assert_eq!(serde_json::to_string(&osc_query::Transport::Udp).unwrap(), "\"UDP\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Transport {
    /// `"UDP"` (what a client assumes when absent).
    #[default]
    #[serde(rename = "UDP")]
    Udp,
    /// `"TCP"`.
    #[serde(rename = "TCP")]
    Tcp,
}

/// The server's description of itself, answered to `GET /?HOST_INFO`.
///
/// ```
/// use osc_query::{HostInfo, Transport};
/// let info = HostInfo::from_json(r#"{"NAME":"My Special Server","EXTENSIONS":{"LISTEN":true},"OSC_PORT":9000}"#)?;
/// assert_eq!(info.name.as_deref(), Some("My Special Server"));
/// assert!(info.supports("LISTEN") && !info.supports("TAGS"));
/// assert_eq!(info.osc_transport, None); // a client then assumes UDP
/// # Ok::<(), osc_query::QueryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostInfo {
    /// `NAME`.
    #[serde(rename = "NAME", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `EXTENSIONS`: optional attribute or command name -> supported.
    #[serde(rename = "EXTENSIONS", default)]
    pub extensions: BTreeMap<String, bool>,
    /// `OSC_IP`: where the OSC server is (absent: the HTTP server's address).
    #[serde(rename = "OSC_IP", default, skip_serializing_if = "Option::is_none")]
    pub osc_ip: Option<String>,
    /// `OSC_PORT` (absent: the HTTP server's port).
    #[serde(rename = "OSC_PORT", default, skip_serializing_if = "Option::is_none")]
    pub osc_port: Option<u16>,
    /// `OSC_TRANSPORT` (absent: UDP).
    #[serde(
        rename = "OSC_TRANSPORT",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub osc_transport: Option<Transport>,
    /// `WS_IP`, when the WebSocket server is elsewhere.
    #[serde(rename = "WS_IP", default, skip_serializing_if = "Option::is_none")]
    pub ws_ip: Option<String>,
    /// `WS_PORT`, when the WebSocket server is elsewhere.
    #[serde(rename = "WS_PORT", default, skip_serializing_if = "Option::is_none")]
    pub ws_port: Option<u16>,
}

impl HostInfo {
    /// Parses a `HOST_INFO` document.
    ///
    /// # Errors
    /// [`QueryError::Json`].
    ///
    /// ```
    /// assert!(osc_query::HostInfo::from_json("\"not an object\"").is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<HostInfo> {
        serde_json::from_str(text).map_err(|e| QueryError::Json {
            context: "HOST_INFO".into(),
            reason: e.to_string(),
        })
    }

    /// Whether `EXTENSIONS` says the server supports an optional attribute or command.
    ///
    /// ```
    /// let mut info = osc_query::HostInfo::default();
    /// info.extensions.insert("VALUE".into(), true);
    /// assert!(info.supports("VALUE"));
    /// ```
    #[must_use]
    pub fn supports(&self, name: &str) -> bool {
        self.extensions.get(name).copied().unwrap_or(false)
    }

    /// The `EXTENSIONS` this crate's server publishes: true for what it implements,
    /// false for the rest of the proposal's optional features.
    ///
    /// ```
    /// let ext = osc_query::HostInfo::our_extensions();
    /// assert_eq!(ext.get("LISTEN"), Some(&true));
    /// assert_eq!(ext.get("PATH_RENAMED"), Some(&true));
    /// assert_eq!(ext.get("HTML"), Some(&false));
    /// ```
    #[must_use]
    pub fn our_extensions() -> BTreeMap<String, bool> {
        crate::attr::IMPLEMENTED
            .iter()
            .map(|n| ((*n).to_owned(), true))
            .chain(
                crate::attr::NOT_IMPLEMENTED
                    .iter()
                    .map(|n| ((*n).to_owned(), false)),
            )
            .collect()
    }
}
