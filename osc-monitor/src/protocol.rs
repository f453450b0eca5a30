//! The page's commands (JSON text messages over the WebSocket), parsed and checked.
//!
//! | command | fields |
//! |---|---|
//! | `view` | `filter` (an OSC pattern, `""` for all), `sort` (`address`, `count`, `rate`, `age`, `tags`), `desc`, `limit` |
//! | `plot` | `addresses` (a list), `window` (seconds), `points` (the plot's width in pixels) |
//! | `send` | `id` (echoed), `url` (an endpoint URL), `packet` (text notation) |
//! | `record` | `action` (`start` or `stop`), `name` (a file name, optional) |
//!
//! Anything else gets `{"type":"error","error":...}`; the connection stays open.

use serde::Deserialize;
use serde_json::Value;

/// Rows a page may ask for at most.
pub(crate) const MAX_ROWS: usize = 2000;
/// Pixels a plot may ask for at most.
pub(crate) const MAX_POINTS: usize = 4000;
/// The longest plot window (seconds).
pub(crate) const MAX_WINDOW: f64 = 3600.0;

#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct ViewCmd {
    #[serde(default)]
    pub(crate) filter: Option<String>,
    #[serde(default)]
    pub(crate) sort: Option<String>,
    #[serde(default)]
    pub(crate) desc: Option<bool>,
    #[serde(default)]
    pub(crate) limit: Option<usize>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct PlotCmd {
    pub(crate) addresses: Vec<String>,
    #[serde(default)]
    pub(crate) window: Option<f64>,
    #[serde(default)]
    pub(crate) points: Option<usize>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct SendCmd {
    #[serde(default)]
    pub(crate) id: Option<u64>,
    pub(crate) url: String,
    pub(crate) packet: String,
}

#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct RecordCmd {
    pub(crate) action: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Command {
    View(ViewCmd),
    Plot(PlotCmd),
    Send(SendCmd),
    Record(RecordCmd),
}

fn fields<T: for<'de> Deserialize<'de>>(cmd: &str, v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("{cmd}: {e}"))
}

/// Parses one text message; the error is what the page is told.
pub(crate) fn parse(text: &str) -> Result<Command, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))?;
    let Some(cmd) = v.get("cmd").and_then(Value::as_str).map(str::to_owned) else {
        return Err("a command is a JSON object with a \"cmd\" string".to_owned());
    };
    match cmd.as_str() {
        "view" => fields(&cmd, v).map(Command::View),
        "plot" => fields(&cmd, v).map(Command::Plot),
        "send" => fields(&cmd, v).map(Command::Send),
        "record" => fields(&cmd, v).map(Command::Record),
        other => Err(format!(
            "unknown command {other:?} (known: view, plot, send, record)"
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        let c = parse(r#"{"cmd":"view","filter":"/a/*","sort":"rate","desc":true}"#).unwrap();
        assert!(matches!(
            c,
            Command::View(ViewCmd {
                desc: Some(true),
                ..
            })
        ));
        let c = parse(r#"{"cmd":"send","url":"osc.udp://127.0.0.1:1","packet":"/a"}"#).unwrap();
        assert!(matches!(c, Command::Send(SendCmd { id: None, .. })));
    }

    #[test]
    fn bad_commands_are_explained() {
        assert!(parse("{").unwrap_err().starts_with("malformed JSON"));
        assert!(parse("[1,2]").unwrap_err().contains("\"cmd\""));
        assert!(
            parse(r#"{"cmd":"dance"}"#)
                .unwrap_err()
                .contains("unknown command")
        );
        assert!(parse(r#"{"cmd":"plot"}"#).unwrap_err().starts_with("plot:"));
        assert!(parse(r#"{"cmd":"send","url":1,"packet":"/a"}"#).is_err());
    }
}
