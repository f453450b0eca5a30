#!/usr/bin/env bash
# osc4rs facade benches: receiver CPU per message, loss and messages/s against a
# plain-socket baseline (and osc4py3 1.0.8 when .venv has it, and liblo's C receiver,
# built here against Debian's liblo-dev), idle CPU, and
# ping-pong round trips. The throughput table has a `+view` row per receiver with a
# borrowed handler (Handler::borrowed over the zero-copy view) and a table of borrowed
# against owned, paired per run, and each facade row against a plain epoll loop (the
# floor of a receiver that watches several sources; the latency tables have the same
# floor as `plain+epoll`). Sender and receiver are separate processes on 127.0.0.1;
# every kind runs interleaved in the same run; medians of RUNS runs; Markdown
# tables on stdout, progress on stderr. See docs/performance.md, "The facade bench".
#
#   scripts/bench-facade.sh [COUNT [RUNS [ROUNDS [IDLE_SECS]]]]   # defaults: 100000 5 2000 2
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
RUNS=${2:-5}
ROUNDS=${3:-2000}
IDLE_SECS=${4:-2}
cargo build --release -q -p osc4rs-benches --bin osc4rs_facade_bench
BIN="${CARGO_TARGET_DIR:-target}/release/osc4rs_facade_bench"
# liblo's receiver beside ours: a small C program against Debian's liblo-dev.
if ! dpkg -s liblo-dev >/dev/null 2>&1; then
  apt-get install -y -q liblo-dev >/dev/null 2>&1 || echo "liblo-dev could not be installed: no liblo row" >&2
fi
LIBLO_RECV="${CARGO_TARGET_DIR:-target}/release/liblo_recv"
if cc -O2 -o "$LIBLO_RECV" benches/c/liblo_recv.c -llo 2>/dev/null; then
  export OSC4RS_LIBLO_RECV="$LIBLO_RECV"
fi
echo "## Throughput"
echo
"$BIN" throughput "$COUNT" "$RUNS"
echo
echo "## Idle"
echo
"$BIN" idle-all "$IDLE_SECS" "$RUNS"
echo
echo "## Round trip, each end on its own CPU (an idle CPU must wake)"
echo
"$BIN" latency "$ROUNDS" "$RUNS" split
echo
echo "## Round trip, both ends on one CPU (a hop is a context switch)"
echo
"$BIN" latency "$ROUNDS" "$RUNS" same
echo
echo "## Round trip, placement left to the scheduler"
echo
"$BIN" latency "$ROUNDS" "$RUNS"
