# bench/lib.sh: the preamble the benchmark scripts share. Source it after
# `set -euo pipefail`; it sets root and bin (NETRADRIVE_BIN or
# build/netradrive), checks the binary is built, and gives:
#   bench_need CMD...      stops unless every CMD is installed (apt-get hint)
#   bench_workdir NAME     a temp dir under BENCH_DIR (/tmp), removed at exit
#   free_port, json KEY, wait_http URL
# nd_pid and ng_pid, when set, are killed at exit (NetraDrive, nginx).
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${NETRADRIVE_BIN:-$root/build/netradrive}
[ -x "$bin" ] || { echo "bench: $bin not built (make)"; exit 1; }
nd_pid=""; ng_pid=""; work=""

bench_need() {
  for c in "$@"; do
    command -v "$c" >/dev/null || { echo "bench: needs $c (apt-get install $c)"; exit 1; }
  done
}

bench_cleanup() {
  [ -n "$nd_pid" ] && kill "$nd_pid" 2>/dev/null || true
  [ -n "$ng_pid" ] && kill "$ng_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "$work" ] && rm -rf "$work"
  return 0
}
trap bench_cleanup EXIT

bench_workdir() { work=$(mktemp -d "${BENCH_DIR:-/tmp}/netra-bench-$1.XXXXXX"); }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
wait_http() { for _ in $(seq 50); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
