//! `osc4rs match`: check a pattern against addresses.

use std::process::ExitCode;

use clap::Args;
use osc_pattern::{Filter, Pattern};

use crate::Failure;

/// Arguments of `osc4rs match`.
#[derive(Debug, Args)]
pub(crate) struct MatchArgs {
    /// An OSC address pattern (or, with --regex, a regular expression).
    pattern: String,
    /// Literal addresses to test.
    #[arg(required = true)]
    addresses: Vec<String>,
    /// osc4py3's prefix semantics: `/test` also selects `/testing` and `/test/x/y`.
    #[arg(long, conflicts_with = "regex")]
    prefix: bool,
    /// PATTERN is a regular expression matched against the whole address.
    #[arg(long)]
    regex: bool,
}

/// Prints each address the pattern matches; exit status 1 if none.
pub(crate) fn run(a: MatchArgs) -> Result<ExitCode, Failure> {
    let bad =
        |e: osc_pattern::PatternError| Failure::input(format!("bad pattern {:?}: {e}", a.pattern));
    let matcher: Box<dyn Fn(&str) -> bool> = if a.regex {
        let f = Filter::regex(&a.pattern).map_err(bad)?;
        Box::new(move |s| f.matches(s))
    } else if a.prefix {
        let f = Filter::osc4py3_prefix(&a.pattern).map_err(bad)?;
        Box::new(move |s| f.matches(s))
    } else {
        let p = Pattern::new(&a.pattern).map_err(bad)?;
        Box::new(move |s| p.matches(s))
    };
    let mut any = false;
    for addr in &a.addresses {
        if matcher(addr) {
            println!("{addr}");
            any = true;
        }
    }
    Ok(if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
