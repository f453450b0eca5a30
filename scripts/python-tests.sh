#!/usr/bin/env bash
# Builds the osc4rs Python package (osc4rs-py/, pyo3 + maturin), installs it into the
# repository's .venv and runs its pytest suite (osc4rs-py/tests). The differential
# tests also run against osc4py3 when scripts/install-peers.sh installed it; without it
# they skip with a message.
#
# The wheel is built in the workspace's target directory (CARGO_TARGET_DIR if set, else
# ./target), so CI reuses what `cargo build`/`cargo test` compiled there.
set -euo pipefail
cd "$(dirname "$0")/.."

MATURIN_VERSION="1.16.0"
PYTEST_VERSION="8.3.4"

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
VPY=.venv/bin/python
"$VPY" -m pip install -q --disable-pip-version-check \
    "maturin==$MATURIN_VERSION" "pytest==$PYTEST_VERSION"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# The maturin build backend runs the `maturin` program it finds on PATH.
export PATH="$PWD/.venv/bin:$PATH"

echo "python-tests: clippy on the extension (the 'python' feature is off in workspace builds)"
cargo clippy -p osc4rs-py --all-targets --features python -- -D warnings

echo "python-tests: building and installing osc4rs into .venv"
# No build isolation: the pinned maturin above is the build backend.
"$VPY" -m pip install -q --disable-pip-version-check --no-build-isolation --force-reinstall \
    --no-deps ./osc4rs-py

echo "python-tests: pytest osc4rs-py/tests"
cd osc4rs-py/tests
exec ../../"$VPY" -m pytest -q -p no:cacheprovider .
