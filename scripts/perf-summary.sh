#!/usr/bin/env bash
# Regenerates docs/performance-summary.md: the headline figures of docs/performance.md
# (codec against rosc, reading a decoded view, the facade's receive CPU, idle CPU and
# round trips against plain sockets and liblo, sender CPU to one and to many destinations, the channel's scale
# curves), all from one run of this script on this machine, with the commit, the host
# and its load. docs/performance.md keeps the analysis and the commands, and
# docs/performance-log.md how each figure came about.
#
#   scripts/perf-summary.sh            # about 10 minutes on 2 cores; run it on a quiet machine
#   QUICK=1 scripts/perf-summary.sh    # smaller counts, a minute or two: for checking the script
#
# Only ratios within one run mean much on a shared machine; the load average is printed
# at the start and the end so a noisy run shows.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-docs/performance-summary.md}
TARGET="${CARGO_TARGET_DIR:-target}"
if [ -n "${QUICK:-}" ]; then
  COUNT=20000 RUNS=2 ROUNDS=300 IDLE=1 CRIT="--warm-up-time 0.5 --measurement-time 1" SCALE=20000 SCALE_RUNS=1 SEND=50000 FAN=20000 READ_ROUNDS=50
else
  COUNT=100000 RUNS=5 ROUNDS=2000 IDLE=2 CRIT="--warm-up-time 1 --measurement-time 3" SCALE=200000 SCALE_RUNS=3 SEND=200000 FAN=200000 READ_ROUNDS=1000
fi
cargo build --release -q -p osc4rs-benches --bins
echo "codec benches..." >&2
# shellcheck disable=SC2086
cargo bench -q -p osc4rs-benches --bench codec -- $CRIT >/dev/null 2>&1
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT
{
  echo "# Performance: the current figures"
  echo
  echo "Written by \`scripts/perf-summary.sh\` from one run: commit \`$(git rev-parse --short HEAD)\`,"
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
  echo "Linux $(uname -r), $(rustc --version | cut -d' ' -f1-2); load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Each table says what it measures; \`docs/performance.md\` has the analysis and the"
  echo "commands for every bench, \`docs/performance-log.md\` the history. Only ratios within one table mean much:"
  echo "the machine is shared and absolute times move by 10-30% between runs."
  echo
  echo "## Codec against rosc"
  echo
  echo "\`cargo bench -p osc4rs-benches --bench codec\`, then \`scripts/bench-table.py codec\`:"
  echo
  python3 scripts/bench-table.py codec
  echo
  echo "## Reading a decoded view"
  echo
  echo "\`read_cost $READ_ROUNDS\` (issue 22's target: reading every argument adds at most 30% to"
  echo "the decode of the view). The loops take turns in the one process, so the ratios"
  echo "compare blocks run side by side; criterion's rows, one bench after another, do not:"
  echo
  "$TARGET/release/read_cost" "$READ_ROUNDS" 2>/dev/null
  echo
  echo "## The facade: receiving, idle, round trips"
  echo
  echo "\`scripts/bench-facade.sh $COUNT $RUNS $ROUNDS $IDLE\` (see \"The facade bench\" in performance.md for what each row is):"
  echo
  scripts/bench-facade.sh "$COUNT" "$RUNS" "$ROUNDS" "$IDLE" | sed 's/^## /### /'
  echo
  echo "## The facade: sending"
  echo
  echo "\`osc4rs_facade_bench sending $SEND $RUNS\`: a process sends $SEND messages as fast as it can"
  echo "to a draining socket; CPU per message against a plain encode + \`send_to\` loop"
  echo "(eventloop calls \`process()\` after every send, as an osc4py3-style loop does):"
  echo
  "$TARGET/release/osc4rs_facade_bench" sending "$SEND" "$RUNS" 2>/dev/null
  echo
  echo "### One message to many destinations"
  echo
  echo "\`osc4rs_facade_bench fanout $FAN $RUNS 1,10,100\` (issue 22: a send to many destinations"
  echo "encodes once and copies nothing per destination but the kernel's copy):"
  echo
  "$TARGET/release/osc4rs_facade_bench" fanout "$FAN" "$RUNS" 1,10,100 2>/dev/null
  echo
  echo "## The channel: cost as connections and sources grow"
  echo
  echo "\`osc_channel_bench scale $SCALE $SCALE_RUNS\`:"
  echo
  "$TARGET/release/osc_channel_bench" scale "$SCALE" "$SCALE_RUNS" 2>/dev/null
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} > "$TMP"
mv "$TMP" "$OUT"
trap - EXIT
echo "wrote $OUT" >&2
