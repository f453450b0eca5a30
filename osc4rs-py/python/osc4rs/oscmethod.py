"""Handler argument schemes, as in osc4py3.oscmethod.

Give ``argscheme`` to ``osc_method`` as one of these tuples or a sum of them, in the
order the handler wants its arguments, e.g. ``OSCARG_ADDRESS + OSCARG_DATAUNPACK``.
"""

from . import _osc4rs

__all__ = [
    "MethodFilter",
    "PacketOptions",
    "OSCARG_DATAUNPACK",
    "OSCARG_DATA",
    "OSCARG_MESSAGE",
    "OSCARG_MESSAGEUNPACK",
    "OSCARG_ADDRESS",
    "OSCARG_TYPETAGS",
    "OSCARG_EXTRAUNPACK",
    "OSCARG_EXTRA",
    "OSCARG_METHODFILTER",
    "OSCARG_PACKOPT",
    "OSCARG_READERNAME",
    "OSCARG_SRCIDENT",
    "OSCARG_READTIME",
]

#: The message arguments, one parameter each (the default).
OSCARG_DATAUNPACK = ("data_unpack",)
#: The message arguments as one tuple.
OSCARG_DATA = ("data",)
#: The whole OSCMessage.
OSCARG_MESSAGE = ("message",)
#: Address, type tags and arguments tuple: three parameters.
OSCARG_MESSAGEUNPACK = ("message_unpack",)
#: The message address.
OSCARG_ADDRESS = ("address",)
#: The message type tags.
OSCARG_TYPETAGS = ("typetags",)
#: The ``extra`` given to osc_method, one parameter per item.
OSCARG_EXTRAUNPACK = ("extra_unpack",)
#: The ``extra`` given to osc_method.
OSCARG_EXTRA = ("extra",)
#: The MethodFilter of the registration.
OSCARG_METHODFILTER = ("methodfilter",)
#: A PacketOptions with the reader name, source and read time.
OSCARG_PACKOPT = ("packopt",)
#: The name of the channel that read the packet.
OSCARG_READERNAME = ("readername",)
#: The source of the packet: (host, port).
OSCARG_SRCIDENT = ("srcident",)
#: When the packet was read (seconds since the epoch, as time.time()).
OSCARG_READTIME = ("readtime",)

_SCHEMES = frozenset(
    OSCARG_DATAUNPACK + OSCARG_DATA + OSCARG_MESSAGE + OSCARG_MESSAGEUNPACK
    + OSCARG_ADDRESS + OSCARG_TYPETAGS + OSCARG_EXTRAUNPACK + OSCARG_EXTRA
    + OSCARG_METHODFILTER + OSCARG_PACKOPT + OSCARG_READERNAME + OSCARG_SRCIDENT
    + OSCARG_READTIME
)


class MethodFilter(object):
    """What osc_method registered: the pattern, the function, its argument scheme and
    extra data (handed to handlers that ask for OSCARG_METHODFILTER)."""

    def __init__(self, addrpattern, function, argscheme=OSCARG_DATAUNPACK, extra=None,
                 logger=None):
        """Checks the function and the argument scheme (RuntimeError if unknown)."""
        if not callable(function):
            raise TypeError("OSC method function must be callable")
        for scheme in argscheme:
            if scheme not in _SCHEMES:
                raise RuntimeError("OSC MethodFilter unknown argument scheme %s" % (scheme,))
        self.addrpattern = addrpattern
        self.function = function
        self.argscheme = tuple(argscheme)
        self.extra = extra
        self.logger = logger
        self.patternkind = "osc"

    def __repr__(self):
        """Pattern and function."""
        return "MethodFilter(%r, %r)" % (self.addrpattern, self.function)


class PacketOptions(object):
    """Where and when a packet was read (handed to OSCARG_PACKOPT handlers)."""

    def __init__(self, readername=None, srcident=None, readtime=0, message=None,
                 method=None):
        """Sets the fields."""
        self.readername = readername
        self.srcident = srcident
        self.readtime = readtime
        self.message = message
        self.method = method

    def __repr__(self):
        """The fields."""
        return "PacketOptions(readername=%r, srcident=%r, readtime=%r)" % (
            self.readername, self.srcident, self.readtime)


_osc4rs._register_method(PacketOptions)
