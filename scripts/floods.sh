#!/usr/bin/env bash
# Hostile-load attacks against `osc4rs dump` and the facade in every mode, on loopback
# only (127.0.0.0/8 and ::1). Prints a Markdown table per target: survival, peak RSS
# of the target, and how long a fresh, well-behaved client waited to be served during
# the attack and right after it. Takes a few minutes; not part of CI (see
# docs/robustness.md for the results and what each attack does).
#
# A regression check: exits 1 (after running every attack) when a target died, its
# peak RSS went over its memory budget + 32 MiB (64 MiB), or a fresh client waited
# more than 500 ms (or was never served) during or after an attack; each failure is
# named on standard error.
#
#   scripts/floods.sh [ATTACK...]     # default: every attack
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release -q -p osc4rs-cli -p osc4rs-benches --bin osc4rs --bin osc_flood
B=${CARGO_TARGET_DIR:-target}/release
failed=()
# One attack on one target: prints its row; records a failure instead of stopping.
flood() {
  "$B/osc_flood" "$@" || failed+=("$1 against ${*:4}")
}
attacks=("$@")
if [ ${#attacks[@]} -eq 0 ]; then
  attacks=(lockout lockout-one-host lockout-ipv6 memory fairness rst churn udp-garbage)
fi
port=9400
header() {
  echo
  echo "### $1"
  echo
  echo "| attack | load | survived | peak RSS | fresh client served after | after the attack | run |"
  echo "|---|---|---|---|---|---|---|"
}
header "osc4rs dump (TCP with --auto, UDP for udp-garbage)"
for a in "${attacks[@]}"; do
  port=$((port + 1))
  case "$a" in
    udp-garbage) flood "$a" "$port" -- "$B/osc4rs" dump --port "$port" ;;
    lockout-ipv6) flood "$a" "$port" -- "$B/osc4rs" dump --proto tcp --auto --ipv6 --host ::1 --port "$port" ;;
    *) flood "$a" "$port" -- "$B/osc4rs" dump --proto tcp --auto --port "$port" ;;
  esac
done
for mode in eventloop comthreads allthreads; do
  header "facade, $mode (TCP and UDP on one port)"
  for a in "${attacks[@]}"; do
    [ "$a" = lockout-ipv6 ] && continue
    port=$((port + 1))
    flood "$a" "$port" -- "$B/osc_flood" serve "$mode" "$port"
  done
done
echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "floods.sh: ${#failed[@]} failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "floods.sh: every target survived every attack within the limits (RSS <= 64 MiB, fresh client <= 500 ms)"
