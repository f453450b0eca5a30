"""osc4py3's own demo programs (rundemo, speedudpsrv, speedudpcli, from the installed
osc4py3 1.0.8) run against osc4rs with only the import lines changed."""

import os
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest

from conftest import free_port


def demos_dir():
    try:
        import osc4py3.demos
    except ImportError:
        pytest.skip("osc4py3 is not installed (scripts/install-peers.sh installs it)")
    return os.path.dirname(osc4py3.demos.__file__)


def switched(src, dst, port, mode=None):
    """The demo files copied to dst with osc4py3 imports turned into osc4rs ones (and,
    for the speed demos, the port and the scheduling mode set)."""
    for name in os.listdir(src):
        if name.endswith(".py"):
            shutil.copy(os.path.join(src, name), dst)
    for name in ("rundemo.py", "speedudpsrv.py", "speedudpcli.py"):
        path = os.path.join(dst, name)
        with open(path) as f:
            text = f.read()
        text = text.replace("from osc4py3 import", "from osc4rs import")
        text = text.replace("from osc4py3.as_", "from osc4rs.as_")
        text = text.replace('"osc4py3." + sys.argv[1]', '"osc4rs." + sys.argv[1]')
        if mode:
            text = re.sub(r'^SCHEDULING = "\w+"', 'SCHEDULING = "%s"' % mode, text,
                          flags=re.M)
        with open(path, "w") as f:
            f.write(text)
    common = os.path.join(dst, "speedudpcommon.py")
    with open(common) as f:
        text = f.read()
    with open(common, "w") as f:
        f.write(re.sub(r"^PORT = \d+", "PORT = %d" % port, text, flags=re.M))


@pytest.mark.parametrize("mode", ["as_eventloop", "as_comthreads", "as_allthreads"])
def test_rundemo(tmp_path, mode):
    switched(demos_dir(), str(tmp_path), free_port())
    demo = subprocess.Popen([sys.executable, "rundemo.py", mode, "nolog"],
                            cwd=str(tmp_path), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    calls = []

    def count_calls():
        for line in demo.stdout:
            if "handler function called with" in line:
                calls.append(line)

    reader = threading.Thread(target=count_calls, daemon=True)
    reader.start()
    try:
        # Simple, multiple (5), bundle (3), local, 100 local, all targets: 111 handler
        # calls. The demo runs osc_process() once per line it reads: Enter is pressed
        # until every handler ran (on a loaded machine the I/O threads may be
        # behind), then a little longer, to see duplicates.
        demo.stdin.write("s\nm\nb\nl\nk\na\n")
        end = time.monotonic() + 30
        while len(calls) < 111 and time.monotonic() < end:
            demo.stdin.write("\n")
            demo.stdin.flush()
            time.sleep(0.01)
        demo.stdin.write("\n" * 20 + "q\n")
        demo.stdin.close()
        demo.wait(60)
        err = demo.stderr.read()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    reader.join(10)
    assert demo.returncode == 0, err
    assert len(calls) == 111


@pytest.mark.parametrize("mode", ["eventloop", "comthreads", "allthreads"])
def test_speedudp(tmp_path, mode):
    switched(demos_dir(), str(tmp_path), free_port(), mode)
    srv = subprocess.Popen([sys.executable, "speedudpsrv.py"], cwd=str(tmp_path),
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        # Wait until the server listens.
        line = ""
        while "start the client" not in line:
            line = srv.stdout.readline()
            assert line, "server exited early"
        cli = subprocess.run([sys.executable, "speedudpcli.py"], cwd=str(tmp_path),
                             input="\n", capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        # In allthreads mode the server waits for Enter while its workers run the
        # handlers: press it once the last message was handled, not as soon as the
        # client is done (on a loaded machine the handlers may still be behind).
        seen = []

        def read_until_done():
            for line in srv.stdout:
                seen.append(line)
                if "Elapsed time" in line:
                    return

        reader = threading.Thread(target=read_until_done, daemon=True)
        reader.start()
        reader.join(60)
        rest, _ = srv.communicate(input="\n", timeout=60)
        rest = "".join(seen) + rest
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    assert "Elapsed time to receive/process 1000 messages" in rest
    assert srv.returncode == 0
