"""Shared fixtures: the library under test (osc4rs, and osc4py3 for the differential
tests), free loopback ports, private network namespaces."""

import importlib
import os
import shutil
import socket
import subprocess
import sys

import pytest

LIBS = ["osc4py3", "osc4rs"]
MODES = ["eventloop", "comthreads", "allthreads"]

# osc4py3 1.0.8 bugs measured in this project (see the package README).
OSC4PY3_BUGS = {
    "comthreads": "osc4py3 1.0.8's comthreads mode never sends UDP",
    "allthreads": "osc4py3 1.0.8's allthreads mode loses and duplicates sends",
}


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


# Marks a pytest run inside the private network namespace made by inside_private_netns.
IN_NETNS = "OSC4RS_IN_NETNS"
# Run first inside the namespace: lo up, with multicast and a route for 224.0.0.0/4
# (the namespace has no other interface). Exit code 77: the set-up failed.
NETNS_SETUP = ("{ ip link set lo up && ip link set lo multicast on"
               " && ip route add 224.0.0.0/4 dev lo; } || exit 77; "
               'exec "$0" -m pytest -q -p no:cacheprovider "$1"')


def _unshare_flags():
    """unshare's flags that make a network namespace here (-n as root, -rn in a user
    namespace otherwise), or None with the reason."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None, "unshare or ip (util-linux, iproute2) is not installed"
    reason = ""
    for flags in (["-n"], ["-rn"]):
        probe = subprocess.run(["unshare"] + flags + ["--", "ip", "link", "set", "lo", "up"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            return flags, ""
        reason = probe.stderr.strip()
    return None, reason


def inside_private_netns(request):
    """For tests whose traffic must stay off every real network (multicast, broadcast,
    peers that bind the wildcard address): True when the test body should run, because
    this process already is inside a private network namespace. From outside, re-runs
    this one test with pytest inside a fresh namespace (``unshare -n``, or ``-rn``
    without root) holding only ``lo``, fails if it fails there, and returns False;
    skips when no namespace can be made."""
    if os.environ.get(IN_NETNS):
        return True
    flags, reason = _unshare_flags()
    if flags is None:
        pytest.skip("cannot create a network namespace with unshare (%s); needs root or "
                    "unprivileged user namespaces" % reason)
    env = dict(os.environ, **{IN_NETNS: "1"})
    run = subprocess.run(["unshare"] + flags + ["--", "sh", "-c", NETNS_SETUP,
                                                sys.executable, request.node.nodeid],
                         cwd=str(request.config.rootpath), env=env,
                         capture_output=True, text=True, timeout=120)
    if run.returncode == 77:
        pytest.skip("the network namespace's lo could not be set up: " + run.stderr.strip())
    assert run.returncode == 0, "failed inside its network namespace:\n" + run.stdout + run.stderr
    if "1 skipped" in run.stdout:
        pytest.skip("skipped inside its network namespace: " + run.stdout.strip())
    assert "1 passed" in run.stdout, "did not run inside its namespace:\n" + run.stdout
    return False
