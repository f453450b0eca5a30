"""Shared fixtures: the library under test (osc4rs, and osc4py3 for the differential
tests), free loopback ports."""

import importlib
import socket

import pytest

LIBS = ["osc4py3", "osc4rs"]


def load(name, module):
    """``name.module``, or skip the test when ``name`` is not installed."""
    try:
        return importlib.import_module(name + "." + module)
    except ImportError:
        pytest.skip(name + " is not installed (scripts/install-peers.sh installs osc4py3)")


@pytest.fixture(params=LIBS)
def lib(request):
    """The name of the library under test: each differential test runs once per library."""
    return request.param


@pytest.fixture
def obp(lib):
    """``oscbuildparse`` of the library under test."""
    return load(lib, "oscbuildparse")


@pytest.fixture
def om(lib):
    """``oscmethod`` of the library under test."""
    return load(lib, "oscmethod")


def free_port(kind=socket.SOCK_DGRAM):
    """A loopback port nobody uses right now."""
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()
