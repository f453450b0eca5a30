"""Start, stop and exit: never a hang."""

import subprocess
import sys
import textwrap
import time

import pytest

from conftest import free_port

PROGRAM = textwrap.dedent("""
    import sys, time
    from osc4rs import oscbuildparse
    mod = __import__("osc4rs.as_" + sys.argv[1], fromlist=["x"])
    mod.osc_startup(execthreadscount=2)
    mod.osc_udp_server("127.0.0.1", int(sys.argv[2]), "srv")
    mod.osc_udp_client("127.0.0.1", int(sys.argv[2]), "cli")
    got = []
    mod.osc_method("/slow", lambda *a: (got.append(a), time.sleep(0.2)))
    mod.osc_send(oscbuildparse.OSCMessage("/slow", None, [1]), "cli")
    end = time.time() + 5
    while not got and time.time() < end:
        mod.osc_process()
        time.sleep(0.001)
    print("handled", len(got))
    # No osc_terminate(): interpreter exit must stop everything.
""")


@pytest.mark.parametrize("mode", ["eventloop", "comthreads", "allthreads"])
def test_exit_without_terminate_does_not_hang(mode):
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode, str(free_port())],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "handled 1" in out.stdout


@pytest.mark.parametrize("mode", ["eventloop", "comthreads", "allthreads"])
def test_terminate_then_start_again(mode):
    from osc4rs import oscbuildparse
    mod = __import__("osc4rs.as_" + mode, fromlist=["x"])
    for _ in range(3):
        mod.osc_startup()
        mod.osc_udp_server("127.0.0.1", free_port(), "srv")
        mod.osc_terminate()
        mod.osc_terminate()  # twice is harmless
    with pytest.raises(RuntimeError):
        mod.osc_send(oscbuildparse.OSCMessage("/a", None, []), "srv")


# A program started with SIGINT ignored (a background job of a non-interactive shell,
# as a CI runner may start the tests) keeps it ignored, and Python then raises no
# KeyboardInterrupt: the program asks for Ctrl-C's usual meaning first.
CTRL_C_PROGRAM = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    mod = __import__("osc4rs.as_" + sys.argv[1], fromlist=["x"])
    mod.osc_startup()
    mod.osc_udp_server("127.0.0.1", int(sys.argv[2]), "srv")
    print("looping", flush=True)
    try:
        while True:
            mod.osc_process()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    mod.osc_terminate()
""")


@pytest.mark.parametrize("mode", ["eventloop", "comthreads", "allthreads"])
def test_ctrl_c_in_a_loop_around_osc_process(mode):
    import signal

    child = subprocess.Popen([sys.executable, "-c", CTRL_C_PROGRAM, mode, str(free_port())],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "looping"
        time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "interrupted" in out, err
    assert child.returncode == 0, err
