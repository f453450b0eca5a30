#!/usr/bin/env bash
# Installs the third-party OSC peers used by the interop vectors and tests:
#   - liblo-tools (Debian): oscsend, oscdump, oscsendfile
#   - socat (Debian): pseudo-terminal pairs standing in for a serial cable
#   - python-osc, osc4py3, pyserial, zeroconf and python-oscquery (PyPI) in a venv at .venv in the
#     repository root
#   - osc.js (`osc`) and `ws` (npm) in .node/node_modules, for the WebSocket interop
#   - playwright-core (npm) in .node/node_modules, driving the system chromium for the
#     monitor's browser test (scripts/monitor-browser.js; no browser is downloaded)
#   - chromium (Debian), for the browser page of the WebSocket bridge test
# Idempotent: steps already done are skipped. Meant to run as root on a Debian machine
# with CPython 3 and pip, reaching only the package registries.
# Exit codes: 0 = everything installed; 3 = a peer could not be installed (callers should
# skip interop tests and say why).
set -uo pipefail

PYTHON_OSC_VERSION="1.9.3"
OSCJS_VERSION="2.4.5"
WS_VERSION="8.18.0"
PLAYWRIGHT_CORE_VERSION="1.65.1"
OSC4PY3_VERSION="1.0.8"
PYSERIAL_VERSION="3.5"
ZEROCONF_VERSION="0.154.0"
PYTHON_OSCQUERY_VERSION="0.4.0"

cd "$(dirname "$0")/.." || exit 3
ROOT="$(pwd)"
VENV="$ROOT/.venv"

fail() {
    printf 'install-peers: FAILED: %s\n' "$*" >&2
    printf 'install-peers: interop tests that need this peer should be skipped.\n' >&2
    exit 3
}
say() { printf 'install-peers: %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        fail "not root and no sudo: cannot apt-get install liblo-tools"
    fi
fi

# --- Debian packages -------------------------------------------------------------
# apt_install PACKAGE COMMAND: installs PACKAGE unless COMMAND is already on the PATH,
# refreshing the package lists only when apt does not know the package yet.
apt_install() {
    if command -v "$2" >/dev/null 2>&1 && dpkg -s "$1" >/dev/null 2>&1; then
        say "$1 already installed"
        return
    fi
    command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: $1 needs a Debian-like system"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache show "$1" >/dev/null 2>&1; then
        say "apt-get update"
        $SUDO apt-get update -q >/dev/null || fail "apt-get update"
    fi
    say "apt-get install -y $1"
    $SUDO apt-get install -y -q --no-install-recommends "$1" >/dev/null \
        || fail "apt-get install $1"
    command -v "$2" >/dev/null 2>&1 || fail "$1 installed but $2 is not on PATH"
}

apt_install liblo-tools oscsend   # liblo's oscsend, oscdump, oscsendfile
apt_install socat socat           # the serial tests' cable: a pseudo-terminal pair
apt_install chromium chromium     # the browser tests of the WebSocket bridge

# --- Python venv with python-osc and osc4py3 (PyPI) --------------------------
PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null 2>&1 || fail "$PY not found"
if [ ! -x "$VENV/bin/python" ]; then
    say "creating venv at $VENV"
    "$PY" -m venv "$VENV" || fail "python3 -m venv $VENV (on Debian: apt-get install python3-venv)"
fi
VPY="$VENV/bin/python"

have_pkg() { # name version
    [ "$("$VPY" -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p')" = "$2" ]
}

# pip_install NAME VERSION: installs NAME==VERSION into the venv unless it is there.
pip_install() {
    if have_pkg "$1" "$2"; then
        say "$1 $2 already installed"
        return
    fi
    say "pip install $1==$2"
    "$VPY" -m pip install -q --disable-pip-version-check "$1==$2" || fail "pip install $1==$2"
}

pip_install python-osc "$PYTHON_OSC_VERSION"
pip_install osc4py3 "$OSC4PY3_VERSION"
pip_install pyserial "$PYSERIAL_VERSION"   # the board at the far end of the serial tests
pip_install zeroconf "$ZEROCONF_VERSION"   # the DNS-SD peer of osc-query's discovery tests
pip_install python-oscquery "$PYTHON_OSCQUERY_VERSION"   # an OSCQuery server and client nobody here wrote

"$VPY" -c 'import pythonosc.osc_message_builder, pythonosc.slip, osc4py3.as_eventloop, serial, zeroconf, pythonoscquery.osc_query_service' \
    || fail "python-osc / osc4py3 / pyserial / zeroconf / python-oscquery installed but cannot be imported"

# --- osc.js and ws (npm), for the WebSocket interop ----------------------------
NODE_DIR="$ROOT/.node"
command -v node >/dev/null 2>&1 || fail "node not found (osc.js needs Node.js)"
command -v npm >/dev/null 2>&1 || fail "npm not found"
if [ -f "$NODE_DIR/node_modules/osc/package.json" ] && [ -f "$NODE_DIR/node_modules/ws/package.json" ]; then
    say "osc.js and ws already installed"
else
    mkdir -p "$NODE_DIR"
    say "npm install osc@$OSCJS_VERSION ws@$WS_VERSION"
    npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" \
        "osc@$OSCJS_VERSION" "ws@$WS_VERSION" >/dev/null 2>&1 \
        || fail "npm install osc ws"
fi
(cd "$NODE_DIR" && node -e 'require("osc"); require("ws")') \
    || fail "osc.js / ws installed but cannot be loaded"
# playwright-core alone: the library, without the browsers of the `playwright` package
# (its install script would download them); it drives Debian's chromium.
if [ -f "$NODE_DIR/node_modules/playwright-core/package.json" ]; then
    say "playwright-core already installed"
else
    say "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" \
        "playwright-core@$PLAYWRIGHT_CORE_VERSION" >/dev/null 2>&1 \
        || fail "npm install playwright-core"
fi
(cd "$NODE_DIR" && node -e 'require("playwright-core")') \
    || fail "playwright-core installed but cannot be loaded"

# --- Report -----------------------------------------------------------------
say "installed:"
printf '  liblo-tools %s\n' "$(dpkg-query -W -f='${Version}' liblo-tools 2>/dev/null)"
printf '  liblo7      %s\n' "$(dpkg-query -W -f='${Version}' 'liblo7*' 2>/dev/null | head -n1)"
printf '  python      %s (%s)\n' "$("$VPY" -c 'import platform; print(platform.python_version())')" "$VPY"
printf '  python-osc  %s\n' "$("$VPY" -m pip show python-osc | sed -n 's/^Version: //p')"
printf '  osc4py3     %s\n' "$("$VPY" -m pip show osc4py3 | sed -n 's/^Version: //p')"
printf '  pyserial    %s\n' "$("$VPY" -m pip show pyserial | sed -n 's/^Version: //p')"
printf '  zeroconf    %s\n' "$("$VPY" -m pip show zeroconf | sed -n 's/^Version: //p')"
printf '  python-oscquery %s\n' "$("$VPY" -m pip show python-oscquery | sed -n 's/^Version: //p')"
printf '  socat       %s\n' "$(dpkg-query -W -f='${Version}' socat 2>/dev/null)"
printf '  osc.js      %s\n' "$(cd "$NODE_DIR" && node -p 'require("osc/package.json").version')"
printf '  ws          %s\n' "$(cd "$NODE_DIR" && node -p 'require("ws/package.json").version')"
printf '  playwright-core %s\n' "$(cd "$NODE_DIR" && node -p 'require("playwright-core/package.json").version')"
exit 0
