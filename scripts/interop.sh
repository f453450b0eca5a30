#!/usr/bin/env bash
# The osc4rs command-line tool against real peers on loopback, comparing values exactly:
#   liblo oscsend            -> osc4rs dump   (UDP, TCP)
#   osc4rs send              -> liblo oscdump (UDP, TCP length prefix, SLIP)
#   python-osc clients       -> osc4rs dump   (UDP, TCP mode 1.0, TCP mode 1.1)
#   osc4rs send              -> python-osc servers (UDP, TCP 1.0, TCP 1.1)
# Installs the peers with scripts/install-peers.sh; skips (exit 0) with a message only if
# that is impossible. Run by .ci/run.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! bash scripts/install-peers.sh >/dev/null; then
  echo "interop: SKIPPED: the peers (liblo-tools, python-osc) could not be installed"
  exit 0
fi
cargo build -q -p osc4rs-cli || exit 1
OSC=target/debug/osc4rs
PY=.venv/bin/python
PEER=scripts/peer.py
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT

pass=0
fail=0
check() { # name expected actual
  if [ "$2" == "$3" ]; then
    pass=$((pass + 1)); echo "ok    $1"
  else
    fail=$((fail + 1)); echo "FAIL  $1"; echo "      expected: $2"; echo "      got:      $3"
  fi
}

port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# dump_with PROTO EXTRA_ARGS... ; then run the sender; prints the dump's output.
dump_start() { # proto port
  "$OSC" dump --proto "$1" --port "$2" --timeout 3 > "$tmp/dump.txt" 2>"$tmp/dump.err" &
  dpid=$!; pids+=("$dpid"); sleep 0.4
}
dump_result() { wait "$dpid" 2>/dev/null; cat "$tmp/dump.txt"; }

# --- liblo -> osc4rs dump -----------------------------------------------------
p=$(port); dump_start udp "$p"
oscsend localhost "$p" /liblo/udp ifsTFNIhdSc 42 2.5 "hello" -9000000000 0.125 sym x
check "oscsend -> dump (udp)" '/liblo/udp ,ifsTFNIhdSc 42 2.5 "hello" true false nil infinitum -9000000000 0.125 "sym" "x"' "$(dump_result)"

p=$(port); dump_start tcp "$p"
oscsend "osc.tcp://localhost:$p" /liblo/tcp is 7 "over tcp"
check "oscsend -> dump (tcp)" '/liblo/tcp ,is 7 "over tcp"' "$(dump_result)"

# --- osc4rs send -> liblo oscdump ----------------------------------------------
for proto in udp tcp slip; do
  p=$(port)
  case $proto in udp) url="$p" ;; *) url="osc.tcp://:$p" ;; esac
  oscdump -L "$url" > "$tmp/oscdump.txt" 2>/dev/null & opid=$!; pids+=("$opid"); sleep 0.4
  "$OSC" send --proto "$proto" --port "$p" '/to/liblo ,ifsTh 5 1.5 "x y" true -2' || fail=$((fail + 1))
  sleep 0.4; kill "$opid" 2>/dev/null; wait "$opid" 2>/dev/null
  got=$(sed -E 's/^[0-9a-f]{8}\.[0-9a-f]{8} //' "$tmp/oscdump.txt")
  check "send -> oscdump ($proto)" '/to/liblo ifsTh 5 1.500000 "x y" #T -2' "$got"
done

# --- python-osc -> osc4rs dump ---------------------------------------------------
p=$(port); dump_start udp "$p"
"$PY" "$PEER" send-udp 127.0.0.1 "$p" /py/udp 3 0.5 text
check "python-osc -> dump (udp)" '/py/udp ,ifs 3 0.5 "text"' "$(dump_result)"
for mode in 1.0 1.1; do
  proto=tcp; [ "$mode" = 1.1 ] && proto=slip
  p=$(port); dump_start "$proto" "$p"
  "$PY" "$PEER" send-tcp 127.0.0.1 "$p" "$mode" /py/tcp 3 0.5 text
  check "python-osc tcp $mode -> dump ($proto)" '/py/tcp ,ifs 3 0.5 "text"' "$(dump_result)"
done

# --- osc4rs send -> python-osc servers -------------------------------------------
for spec in "udp udp" "tcp tcp 1.0" "slip tcp 1.1"; do
  set -- $spec
  proto=$1; kind=$2; mode=${3:-}
  "$PY" "$PEER" "serve-$kind" $mode 1 > "$tmp/py.txt" & ppid=$!; pids+=("$ppid")
  for _ in $(seq 50); do grep -q READY "$tmp/py.txt" 2>/dev/null && break; sleep 0.1; done
  p=$(awk '/READY/ {print $2}' "$tmp/py.txt")
  "$OSC" send --proto "$proto" --port "$p" '/to/py ,ifs 9 0.75 "rust"' || fail=$((fail + 1))
  wait "$ppid" 2>/dev/null
  check "send ($proto) -> python-osc $kind $mode" "/to/py 9 0.75 'rust'" "$(grep -v READY "$tmp/py.txt")"
done

echo "interop: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
