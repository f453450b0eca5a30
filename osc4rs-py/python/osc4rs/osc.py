"""A pythonic runtime for new code: ``osc4rs.Osc``.

::

    from osc4rs import Osc, OSCMessage

    with Osc("eventloop") as osc:
        osc.udp_server("in", "127.0.0.1", 3721)
        osc.udp_client("out", "127.0.0.1", 3721)

        @osc.method("/synth/*/freq")
        def freq(hz):
            print("freq", hz)

        osc.send(OSCMessage("/synth/1/freq", None, [440.0]), "out")
        osc.process(timeout=0.1)

Unlike the osc4py3 modules, several runtimes may run at once, methods match the whole
address as the OSC specification says (``/synth/*/freq``), and ``send`` refuses an
address that receivers would drop.
"""

from . import _osc4rs
from . import oscbuildparse  # noqa: F401  (registers the classes with the extension)
from .oscmethod import OSCARG_DATAUNPACK, _SCHEMES

__all__ = ["Osc"]


def _ttl(ttl):
    """A client's ``ttl``: an int, or None for the system's default."""
    return None if ttl is None else int(ttl)


def _names(target, out):
    if isinstance(target, str):
        if target not in out:
            out.append(target)
    else:
        for t in target:
            _names(t, out)
    return out


class Osc(object):
    """An OSC runtime in one mode: "eventloop" (everything in ``process()``),
    "comthreads" (I/O in a background thread, handlers in ``process()``) or
    "allthreads" (everything in the background; handlers on ``exec_threads`` workers).
    A context manager: leaving the ``with`` block terminates it."""

    def __init__(self, mode="eventloop", exec_threads=10, logger=None):
        """Starts the runtime; ``logger`` (a logging.Logger) receives its records."""
        self._rt = _osc4rs.Runtime(mode, exec_threads, logger)
        self.mode = mode

    def __enter__(self):
        """The runtime itself."""
        return self

    def __exit__(self, *exc):
        """Terminates the runtime."""
        self.terminate()
        return False

    def udp_server(self, name, host, port):
        """A UDP server channel reading on ``host:port``."""
        self._rt.channel("udp_server", name, host, int(port))

    def udp_client(self, name, host, port):
        """A UDP client channel sending to ``host:port``."""
        self._rt.channel("udp_client", name, host, int(port))

    def broadcast_server(self, name, host, port):
        """A broadcast server channel."""
        self._rt.channel("broadcast_server", name, host, int(port))

    def broadcast_client(self, name, host, port, ttl=1):
        """A broadcast client channel; ``ttl``: the TTL of its packets (None: the
        system's default)."""
        self._rt.channel("broadcast_client", name, host, int(port), _ttl(ttl))

    def multicast_server(self, name, group, port):
        """A multicast server joining ``group``."""
        self._rt.channel("multicast_server", name, group, int(port))

    def multicast_client(self, name, group, port, ttl=1):
        """A multicast client sending to ``group:port``; ``ttl``: the multicast TTL
        (IPv6: hop limit) of its packets (None: the system's default)."""
        self._rt.channel("multicast_client", name, group, int(port), _ttl(ttl))

    def tcp_server(self, name, host, port):
        """A TCP server listening on ``host:port``."""
        self._rt.channel("tcp_server", name, host, int(port))

    def tcp_client(self, name, host, port):
        """A TCP client connected to ``host:port``."""
        self._rt.channel("tcp_client", name, host, int(port))

    def method(self, address, argscheme=OSCARG_DATAUNPACK, extra=None):
        """A decorator registering the function for messages matching ``address``,
        called with the arguments ``argscheme`` names (osc4rs.oscmethod.OSCARG_*)."""
        for scheme in argscheme:
            if scheme not in _SCHEMES:
                raise ValueError("unknown argument scheme %r" % (scheme,))

        def register(function):
            self._rt.method(address, function, list(argscheme), extra)
            return function

        return register

    def send(self, packet, target):
        """Sends an OSCMessage or OSCBundle to a channel name or a (nested) group of
        names."""
        self._rt.send(packet, _names(target, []))

    def process(self, timeout=0.0):
        """Does the pending work, waiting up to ``timeout`` seconds for some; returns
        the number of packets handled (always 0 in allthreads mode)."""
        return self._rt.process(timeout)

    def terminate(self):
        """Flushes, closes every channel and stops every thread (idempotent)."""
        self._rt.terminate()

    def local_addr(self, name):
        """``(host, port)`` the channel's socket is bound to (port 0 picks a free one)."""
        return self._rt.local_addr(name)
