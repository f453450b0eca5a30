"""osc4py3's as_allthreads on the Rust runtime. Everything runs in background threads; handlers on a pool of execthreadscount threads. osc_process() does nothing.

Star import is safe: it gives the osc_* functions only.
"""

from . import _api

__all__ = list(_api.NAMES)

globals().update(_api.functions("allthreads"))
