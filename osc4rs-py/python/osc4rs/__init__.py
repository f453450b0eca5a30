"""osc4rs: Open Sound Control on a Rust core, with osc4py3's API.

Switch an osc4py3 program by changing its imports::

    from osc4rs import oscbuildparse
    from osc4rs.as_eventloop import *      # or as_comthreads, as_allthreads

Modules:

- :mod:`osc4rs.oscbuildparse`: OSCMessage, OSCBundle, OSCtimetag, the special value
  types, encode_packet / decode_packet, dumphex_buffer, timetag conversions and the
  OSCError exception classes;
- :mod:`osc4rs.oscmethod`: the OSCARG_* handler argument schemes;
- :mod:`osc4rs.as_eventloop`, :mod:`osc4rs.as_comthreads`,
  :mod:`osc4rs.as_allthreads`: the osc_* functions, one scheduling mode each;
- :class:`osc4rs.Osc`: a runtime object for new code (context manager, decorator for
  methods, several at once).
"""

from ._osc4rs import __version__
from .osc import Osc
from .oscbuildparse import OSCBundle, OSCMessage, OSCtimetag, OSC_IMMEDIATELY

__all__ = ["__version__", "Osc", "OSCMessage", "OSCBundle", "OSCtimetag", "OSC_IMMEDIATELY"]
