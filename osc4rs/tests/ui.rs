//! The compiler messages for the common handler mistakes point to the right API
//! (`#[diagnostic::on_unimplemented]` on `IntoHandler` and `TypedFn`). The expected
//! messages are the `.stderr` files beside each case; `TRYBUILD=overwrite cargo test
//! -p osc4rs --test ui` rewrites them after a deliberate change (read the diff).

#[test]
fn handler_mistakes_explain_themselves() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
