#!/usr/bin/env bash
# One receiver of osc4rs_facade_bench under a tool, fed by the bench's plain sender:
# to count the system calls (perf tracepoints) or the instructions (callgrind) per
# received message, which scripts/bench-facade.sh only times. See docs/performance.md.
#
#   scripts/recv-under.sh KIND COUNT RATE [TOOL ARGS...]
#
# KIND is a kind of `osc4rs_facade_bench recv` (baseline, eventloop, eventloop+view,
# ...); RATE messages per second (0: as fast as the sender goes). Examples:
#
#   scripts/recv-under.sh eventloop 100000 0 perf stat -x, \
#       -e syscalls:sys_enter_recvfrom,syscalls:sys_enter_recvmmsg,syscalls:sys_enter_epoll_wait
#   scripts/recv-under.sh eventloop+view 20000 8000 valgrind --tool=callgrind \
#       --callgrind-out-file=/tmp/cg-recv.out
#
# BIN names the bench binary; default target/release/osc4rs_facade_bench.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,16p' "$0"; exit 2; }
kind=$1 count=$2 rate=$3
shift 3
bin=${BIN:-$(dirname "$0")/../target/release/osc4rs_facade_bench}
# The tool's own report goes to standard error: merged, it follows the RESULT line.
coproc RECV { "$@" "$bin" recv "$kind" "$count" 1000 2>&1; }
# A copy of the receiver's output: bash unsets RECV as soon as the receiver exits,
# which can be before the sender does.
exec {out}<&"${RECV[0]}"
# The tool's banner (valgrind's) comes before the receiver's READY line.
ready=
while [ -z "$ready" ] && read -r line <&"$out"; do
  case $line in READY*) ready=${line#READY } ;; esac
done
[ -n "$ready" ] || { echo "recv-under.sh: the receiver printed no READY line" >&2; exit 1; }
"$bin" send "$ready" "$count" "$rate" > /dev/null
cat <&"$out"
wait
