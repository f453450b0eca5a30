//! Shared helpers for the osc4rs benches.
