"""osc4py3's as_eventloop on the Rust runtime. Everything (socket I/O, decoding, handlers) runs in osc_process().

Star import is safe: it gives the osc_* functions only.
"""

from . import _api

__all__ = list(_api.NAMES)

globals().update(_api.functions("eventloop"))
