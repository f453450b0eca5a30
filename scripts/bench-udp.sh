#!/usr/bin/env bash
# osc-channel UDP and TCP benches: receiver and sender as separate processes on
# 127.0.0.1, every mode interleaved in the same run, medians of RUNS runs, Markdown
# tables on stdout (progress on stderr). See docs/performance.md, "The channel".
#
#   scripts/bench-udp.sh [COUNT [RUNS [BATCH]]]      # defaults: 200000 3 32
#
# Environment: TCP_COUNT (default 1000000) packets for the TCP table; SKIP_TCP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-200000}
RUNS=${2:-3}
BATCH=${3:-32}
cargo build --release -q -p osc4rs-benches --bin osc_channel_bench
BIN=target/release/osc_channel_bench
echo "## UDP, streaming"
echo
"$BIN" udp "$COUNT" "$RUNS" "$BATCH" 0
echo
echo "## UDP, periodic (1 ms between drains)"
echo
"$BIN" udp "$COUNT" "$RUNS" "$BATCH" 1000
if [ "${SKIP_TCP:-0}" != 1 ]; then
    echo
    echo "## TCP"
    echo
    "$BIN" tcp "${TCP_COUNT:-1000000}" "$RUNS"
fi
