"""osc4py3's as_comthreads on the Rust runtime. Socket I/O and decoding run in a background thread; handlers run in osc_process().

Star import is safe: it gives the osc_* functions only.
"""

from . import _api

__all__ = list(_api.NAMES)

globals().update(_api.functions("comthreads"))
