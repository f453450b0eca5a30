//! The Python module `osc4rs._osc4rs`.

use pyo3::prelude::*;

use crate::{codec, handler, pyosc, runtime};

/// `osc4rs._osc4rs`: the Rust side of the `osc4rs` Python package. Its functions are
/// reached through `osc4rs.oscbuildparse`, `osc4rs.oscmethod` and the `as_*` modules.
#[pymodule]
fn _osc4rs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(codec::_register_codec, m)?)?;
    m.add_function(wrap_pyfunction!(codec::encode_packet, m)?)?;
    m.add_function(wrap_pyfunction!(codec::decode_packet, m)?)?;
    m.add_function(wrap_pyfunction!(codec::_dumphex, m)?)?;
    m.add_function(wrap_pyfunction!(codec::_call_floor, m)?)?;
    m.add_function(wrap_pyfunction!(handler::_register_method, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_startup, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_terminate, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_process, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_method, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_send, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_channel, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_local_addr, m)?)?;
    m.add_class::<pyosc::PyOsc>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
