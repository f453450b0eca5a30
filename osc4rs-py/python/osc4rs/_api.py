"""The osc_* functions shared by the as_* modules (one runtime per process)."""

import atexit

from . import _osc4rs
from . import oscbuildparse  # noqa: F401  (registers the classes with the extension)
from .oscmethod import OSCARG_DATAUNPACK, MethodFilter

NAMES = [
    "osc_startup",
    "osc_terminate",
    "osc_process",
    "osc_method",
    "osc_send",
    "osc_udp_server",
    "osc_udp_client",
    "osc_multicast_server",
    "osc_multicast_client",
    "osc_broadcast_server",
    "osc_broadcast_client",
    "osc_tcp_server",
    "osc_tcp_client",
]

_state = {"started": False, "logger": None}


def _flatten(names, out):
    if isinstance(names, str):
        if names not in out:
            out.append(names)
    else:
        for n in names:
            _flatten(n, out)
    return out


def _ttl(ttl):
    """A client's ``ttl`` for the extension: an int, or None for the system's default
    (osc4py3's ``udpwrite_ttl`` None)."""
    return None if ttl is None else int(ttl)


def _at_exit():
    if _state["started"]:
        try:
            osc_terminate()
        except Exception:  # noqa: BLE001 - nothing left to tell at exit
            pass


atexit.register(_at_exit)


def functions(mode):
    """The osc_* functions of one scheduling mode, as a dict name -> function."""

    def osc_startup(**kwargs):
        """Start OSC: ``logger`` (a logging.Logger), ``execthreadscount`` (handler
        threads in allthreads mode, default 10; 0 runs handlers in the I/O threads),
        ``writethreadscount`` (accepted, unused). A second call does nothing."""
        if _state["started"]:
            return
        logger = kwargs.get("logger")
        _osc4rs._startup(mode, int(kwargs.get("execthreadscount", 10)), logger)
        _state["started"] = True
        _state["logger"] = logger

    def osc_terminate():
        """Flush what is queued, close every channel, stop every thread."""
        if not _state["started"]:
            return
        _state["started"] = False
        _osc4rs._terminate()

    def osc_process():
        """Do the pending work: in eventloop mode I/O and handlers, in comthreads mode
        the handlers of what the I/O thread read; nothing in allthreads mode."""
        return _osc4rs._process()

    def osc_method(addrpattern, function, argscheme=OSCARG_DATAUNPACK, extra=None):
        """Call ``function`` for messages whose address starts with a match of
        ``addrpattern``, with the arguments ``argscheme`` names (oscmethod.OSCARG_*)."""
        mf = MethodFilter(addrpattern, function, argscheme, extra, _state["logger"])
        _osc4rs._method(addrpattern, function, list(mf.argscheme), extra, mf,
                        _state["logger"])

    def osc_send(packet, names):
        """Send an OSCMessage or OSCBundle on the channels named (a name, or a list,
        tuple or set of names, nested as you like)."""
        _osc4rs._send(packet, _flatten(names, []))

    def osc_udp_server(address, port, name):
        """A UDP server channel named ``name`` reading on ``address:port``."""
        _osc4rs._channel("udp_server", address, int(port), name)

    def osc_udp_client(address, port, name):
        """A UDP client channel named ``name`` sending to ``address:port``."""
        _osc4rs._channel("udp_client", address, int(port), name)

    def osc_multicast_server(address, port, name):
        """A multicast server: joins group ``address``, reads on ``port``."""
        _osc4rs._channel("multicast_server", address, int(port), name)

    def osc_multicast_client(address, port, name, ttl=1):
        """A multicast client sending to group ``address:port``; ``ttl`` is the
        multicast TTL (IPv6: hop limit) of its packets (None: the system's default)."""
        _osc4rs._channel("multicast_client", address, int(port), name, _ttl(ttl))

    def osc_broadcast_server(address, port, name):
        """A broadcast server reading on ``address:port``."""
        _osc4rs._channel("broadcast_server", address, int(port), name)

    def osc_broadcast_client(address, port, name, ttl=1):
        """A broadcast client sending to ``address:port``; ``ttl`` is the TTL of its
        packets (None: the system's default)."""
        _osc4rs._channel("broadcast_client", address, int(port), name, _ttl(ttl))

    def osc_tcp_server(address, port, name):
        """A TCP server listening on ``address:port``."""
        _osc4rs._channel("tcp_server", address, int(port), name)

    def osc_tcp_client(address, port, name):
        """A TCP client connected to ``address:port`` (reconnects when it drops)."""
        _osc4rs._channel("tcp_client", address, int(port), name)

    found = dict(locals())
    return {name: found[name] for name in NAMES}
