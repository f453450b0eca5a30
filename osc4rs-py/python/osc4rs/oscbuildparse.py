"""OSC messages and bundles: build them, encode them to bytes, decode them back.

The same names as ``osc4py3.oscbuildparse``; encoding and decoding run in Rust
(``osc-codec``). Messages and bundles are named tuples::

    >>> raw = encode_packet(OSCMessage('/my/pattern', ',iisf', [1, 3, "a string", 11.3]))
    >>> decode_packet(raw)
    OSCMessage(addrpattern='/my/pattern', typetags=',iisf', arguments=(1, 3, 'a string', 11.300000190734863))

Pass ``None`` as type tags to have them detected from the Python values.
"""

import sys
import time
from collections import namedtuple

from . import _osc4rs

__all__ = [
    "encode_packet",
    "decode_packet",
    "OSCMessage",
    "OSCBundle",
    "OSCtimetag",
    "OSCmidi",
    "OSCrgba",
    "OSCbang",
    "OSCError",
    "OSCCorruptedRawError",
    "OSCInternalBugError",
    "OSCInvalidDataError",
    "OSCInvalidRawError",
    "OSCInvalidSignatureError",
    "OSCUnknownTypetagError",
    "OSC_IMMEDIATELY",
    "OSC_IMPULSE",
    "OSC_INFINITUM",
    "OSC_BANG",
    "float2timetag",
    "timetag2float",
    "timetag2unixtime",
    "unixtime2timetag",
    "dumphex_buffer",
]

# Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch).
NTP_UNIX_OFFSET = 2208988800
_FRAC = 1 << 32


class OSCMessage(namedtuple("OSCMessage", "addrpattern typetags arguments")):
    """An OSC message: ``addrpattern`` (starts with ``/``), ``typetags`` (starts with
    ``,``, or None to detect them) and ``arguments`` (a list or tuple)."""

    __slots__ = ()


class OSCBundle(namedtuple("OSCBundle", "timetag elements")):
    """An OSC bundle: a ``timetag`` (OSCtimetag) and ``elements`` (messages and
    bundles)."""

    __slots__ = ()


OSCrgba = namedtuple("OSCrgba", "red green blue alpha")
OSCrgba.__doc__ = "An RGBA colour (tag r): four ints in 0..255."
OSCmidi = namedtuple("OSCmidi", "portid status data1 data2")
OSCmidi.__doc__ = "A MIDI message (tag m): port id, status byte, two data bytes."
OSCbang = namedtuple("OSCbang", "")
OSCbang.__doc__ = "Infinitum / impulse / bang (tag I): no value."

OSC_INFINITUM = OSCbang()
OSC_IMPULSE = OSC_INFINITUM
OSC_BANG = OSC_INFINITUM


class OSCtimetag(namedtuple("OSCtimetag", "sec frac")):
    """An NTP time tag: whole seconds since 1900-01-01 and the fraction in 1/2**32 s.

    Adding or subtracting a number of seconds gives another time tag."""

    __slots__ = ()

    def __add__(self, seconds):
        """The time tag ``seconds`` later."""
        return float2timetag(timetag2float(self) + seconds)

    def __radd__(self, seconds):
        """The time tag ``seconds`` later."""
        return float2timetag(seconds + timetag2float(self))

    def __sub__(self, seconds):
        """The time tag ``seconds`` earlier."""
        return float2timetag(timetag2float(self) - seconds)


OSC_IMMEDIATELY = OSCtimetag(0, 1)


class OSCError(Exception):
    """Base class of every error raised by this module."""


class OSCInvalidRawError(OSCError):
    """The bytes given to decode_packet are not a valid OSC packet."""


class OSCUnknownTypetagError(OSCError):
    """A type tag that OSC does not define (or that restrict_typetags refuses)."""


class OSCInternalBugError(OSCError):
    """A bug in osc4rs; please report it with the data that caused it."""


class OSCInvalidDataError(OSCError):
    """The values given to encode_packet cannot be encoded."""


class OSCInvalidSignatureError(OSCError):
    """A packet signature check failed (advanced packet control; not raised by osc4rs)."""


class OSCCorruptedRawError(OSCError):
    """A packet checksum check failed (advanced packet control; not raised by osc4rs)."""


class _OSCUndetectableTypeError(OSCInvalidDataError, RuntimeError):
    """No type tag for a Python value; a RuntimeError too, as osc4py3 raises one."""


_osc4rs._register_codec(
    OSCMessage,
    OSCBundle,
    OSCtimetag,
    OSCrgba,
    OSCmidi,
    OSC_INFINITUM,
    (OSCError, OSCInvalidRawError, OSCUnknownTypetagError, OSCInvalidDataError,
     _OSCUndetectableTypeError),
)

encode_packet = _osc4rs.encode_packet
decode_packet = _osc4rs.decode_packet


def dumphex_buffer(rawdata, tofile=None):
    """Print the bytes in hex, 16 a line in groups of 4, with their ASCII text."""
    text = _osc4rs._dumphex(bytes(rawdata))
    if text:
        print(text.rstrip("\n"), file=tofile if tofile is not None else sys.stdout)


def timetag2float(timetag):
    """Seconds since 1900-01-01 (a float) from a time tag."""
    sec, frac = timetag
    return float(sec) + frac / _FRAC


def timetag2unixtime(timetag):
    """Seconds since 1970-01-01 (as time.time() gives them) from a time tag."""
    return timetag2float(timetag) - NTP_UNIX_OFFSET


def float2timetag(ftime):
    """A time tag from seconds since 1900-01-01 (the fraction rounded to nearest)."""
    sec = int(ftime)
    frac = int((ftime - sec) * _FRAC + 0.5)
    if frac >= _FRAC:
        sec, frac = sec + 1, frac - _FRAC
    return OSCtimetag(sec, frac)


def unixtime2timetag(ftime=None):
    """A time tag from seconds since 1970-01-01 (default: now)."""
    if ftime is None:
        ftime = time.time()
    return float2timetag(ftime + NTP_UNIX_OFFSET)
