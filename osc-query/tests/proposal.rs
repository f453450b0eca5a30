//! The JSON of the OSCQuery proposal's own examples: our model reads each one and
//! writes it back identically, and a namespace built with this crate's API serves
//! the same document as the proposal's first example.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use osc_query::{Access, HostInfo, Namespace, Node, ParamSpec, Range, Slot};
use serde_json::{Value, json};

fn root_example() -> Value {
    json!({
        "DESCRIPTION": "root node",
        "FULL_PATH": "/",
        "ACCESS": 0,
        "CONTENTS": {
            "foo": {
                "DESCRIPTION": "demonstrates a read-only OSC node- single float value ranged 0-100",
                "FULL_PATH": "/foo",
                "ACCESS": 1,
                "TYPE": "f",
                "VALUE": [0.5],
                "RANGE": [{"MIN": 0.0, "MAX": 100.0}]
            },
            "bar": {
                "DESCRIPTION": "demonstrates a read/write OSC node- two ints with different ranges",
                "FULL_PATH": "/bar",
                "ACCESS": 3,
                "TYPE": "ii",
                "VALUE": [4, 51],
                "RANGE": [{"MIN": 0, "MAX": 50}, {"MIN": 51, "MAX": 100}]
            },
            "baz": {
                "DESCRIPTION": "simple container node, with one method- qux",
                "FULL_PATH": "/baz",
                "ACCESS": 0,
                "CONTENTS": {
                    "qux": {
                        "DESCRIPTION": "read/write OSC node- accepts one of several string-type inputs",
                        "FULL_PATH": "/baz/qux",
                        "ACCESS": 3,
                        "TYPE": "s",
                        "VALUE": ["half-full"],
                        "RANGE": [{"VALS": ["empty", "half-full", "full"]}]
                    }
                }
            }
        }
    })
}

#[test]
fn the_root_example_round_trips() {
    let doc = root_example();
    let node: Node = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(node.find("/baz/qux").unwrap().types.as_deref(), Some("s"));
    assert_eq!(node.find("/foo").unwrap().access, Some(Access::Read));
    assert_eq!(serde_json::to_value(&node).unwrap(), doc);
}

/// The proposal's first example, built with the API.
pub fn example_namespace() -> Namespace {
    let ns = Namespace::new("root node");
    ns.add_parameter(
        ParamSpec::new("/foo", 0.5f32)
            .description("demonstrates a read-only OSC node- single float value ranged 0-100")
            .range(Range::new(0.0, 100.0))
            .read_only(),
    )
    .unwrap();
    ns.add_parameter(
        ParamSpec::new("/bar", (4i32, 51i32))
            .description("demonstrates a read/write OSC node- two ints with different ranges")
            .ranges(vec![Range::new(0, 50).into(), Range::new(51, 100).into()]),
    )
    .unwrap();
    ns.add_parameter(
        ParamSpec::new("/baz/qux", String::from("half-full"))
            .description("read/write OSC node- accepts one of several string-type inputs")
            .range(Range::vals(["empty", "half-full", "full"])),
    )
    .unwrap();
    ns
}

#[test]
fn a_namespace_built_with_the_api_serves_the_root_example() {
    let ns = example_namespace();
    let mut tree = serde_json::to_value(ns.tree()).unwrap();
    // The proposal describes its container; ours has no description of its own.
    tree["CONTENTS"]["baz"]["DESCRIPTION"] = json!("simple container node, with one method- qux");
    assert_eq!(tree, root_example());
    let baz = serde_json::to_value(ns.node("/baz/").unwrap()).unwrap();
    assert_eq!(
        baz["CONTENTS"],
        root_example()["CONTENTS"]["baz"]["CONTENTS"]
    );
}

#[test]
fn per_value_attributes_follow_type_structure() {
    let doc = json!({
        "FULL_PATH": "/x",
        "TYPE": "i[ff]i",
        "VALUE": [100, [1.0, 1.0], 100],
        "RANGE": [{"MIN": 0, "MAX": 100}, [{"MIN": 0.0, "MAX": 1.0}, {"MIN": 0.0, "MAX": 1.0}], {"MIN": 0, "MAX": 100}],
        "UNIT": ["distance.mm", ["distance.miles", "distance.miles"], "distance.mm"]
    });
    let node: Node = serde_json::from_value(doc.clone()).unwrap();
    let range = node.range.as_ref().unwrap();
    assert!(matches!(&range[1], Slot::Nested(v) if v.len() == 2));
    assert_eq!(serde_json::to_value(&node).unwrap(), doc);
    let values = osc_query::values_from_json("i[ff]i", node.value.as_ref().unwrap()).unwrap();
    assert_eq!(values.len(), 3);

    let nulls =
        json!({"FULL_PATH": "/asdf", "TYPE": "iii", "UNIT": ["distance.m", null, "distance"]});
    let node: Node = serde_json::from_value(nulls.clone()).unwrap();
    assert_eq!(node.unit.as_ref().unwrap()[1], Slot::One(None));
    assert_eq!(serde_json::to_value(&node).unwrap(), nulls);

    // The shorthand: one value standing for every argument.
    let short: Node =
        serde_json::from_value(json!({"FULL_PATH": "/s", "TYPE": "ff", "CLIPMODE": "both"}))
            .unwrap();
    assert_eq!(
        short.clipmode.unwrap(),
        vec![Slot::from(osc_query::ClipMode::Both)]
    );
}

#[test]
fn host_info_example_reads_and_our_extensions_are_exact() {
    let info = HostInfo::from_json(
        r#"{"NAME": "My Special Server", "EXTENSIONS": {"ACCESS": true, "VALUE": true, "RANGE": true,
        "DESCRIPTION": true, "TAGS": true, "EXTENDED_TYPE": true, "UNIT": true, "CRITICAL": true,
        "CLIPMODE": true, "LISTEN": true, "PATH_CHANGED": true}}"#,
    )
    .unwrap();
    assert!(info.supports("PATH_CHANGED"));
    assert!(info.osc_ip.is_none() && info.osc_port.is_none() && info.osc_transport.is_none());
    let ours = HostInfo::our_extensions();
    let on: Vec<&str> = ours
        .iter()
        .filter(|(_, v)| **v)
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        on,
        [
            "ACCESS",
            "CLIPMODE",
            "DESCRIPTION",
            "LISTEN",
            "PATH_ADDED",
            "PATH_CHANGED",
            "PATH_REMOVED",
            "PATH_RENAMED",
            "RANGE",
            "UNIT",
            "VALUE"
        ]
    );
    assert_eq!(ours.get("HTML"), Some(&false));
}

#[test]
fn malformed_documents_are_errors() {
    assert!(Node::from_json("{").is_err());
    assert!(Node::from_json(r#"{"TYPE": "f"}"#).is_err()); // FULL_PATH is required
    assert!(Node::from_json(r#"{"FULL_PATH": "/", "ACCESS": 9}"#).is_err());
    assert!(HostInfo::from_json(r#"{"OSC_PORT": "x"}"#).is_err());
}
