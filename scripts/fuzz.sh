#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time each (default 120 s). Not part of CI:
# it needs the nightly toolchain and cargo-fuzz (installed here if missing).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-120}
shift || true
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
# Seeds: the shared corpora of testdata/ (byte-exact vectors and hostile packets), one
# file per packet, for the targets that take packet bytes.
seed() {
  mkdir -p "corpus/$1"
  python3 - "corpus/$1" ../testdata/codec/*.txt ../testdata/hostile/packets.txt <<'PY'
import hashlib, sys
out = sys.argv[1]
for path in sys.argv[2:]:
    for line in open(path, encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if line.startswith("#") or len(parts) < 2 or not parts[1]:
            continue
        data = bytes.fromhex(parts[1])
        with open(f"{out}/seed-{hashlib.sha1(data).hexdigest()[:16]}", "wb") as f:
            f.write(data)
PY
}
for t in "${targets[@]}"; do
  echo "==> fuzzing $t for ${secs}s"
  case "$t" in decode|roundtrip|deframe|views) seed "$t" ;; esac
  mkdir -p "corpus/$t"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048
done
