#!/usr/bin/env bash
# Upload and download one big file through NetraDrive with STORAGE_BACKEND=telegram
# against tests/fake-telegram on loopback, with 1, 2, 4 and 8 bots, and compare the
# throughput with the theoretical limit.
#
# The fake caps every connection at CAP MiB/s (--bandwidth) and paces every chat
# (--pace: bursts of 3, 1/s, 20 a minute); NetraDrive keeps its own pacing on
# (TELEGRAM_PACING=true: 0.9/s, bursts of 3, 20 per 61 s per chat). Each run uses
# N bots, TELEGRAM_PARALLEL_UPLOADS=N (one document per bot at a time) and CHATS
# chats, so the limit is
#   min(N x CAP, pacing bound),  pacing bound = CHATS x 20/61 msg/s x CHUNK_SIZE
# (the client's sustained per-chat rate; its bursts only help). Each run starts
# from an empty DATA_DIR and an empty fake, so the download is cache-cold: every
# byte comes from the fake (checked with its /_fake/stats). The downloaded bytes'
# SHA-256 is checked, and NetraDrive's peak RSS (VmHWM) read after each phase.
#
# usage: bench/telegram_transfer.sh [SIZE_MIB] [CAP_MIB_S]   (defaults 1024, 32)
# env:   BOTS="1 2 4 8"  CHATS=64  CHUNK_SIZE in bytes (default NetraDrive's 20 MiB - 64 KiB)
#        NETRADRIVE_BIN, FAKE_TELEGRAM_BIN (default build-bench/, then build/)
# needs: make BUILD=build-bench (netradrive + fake-telegram), curl, openssl
set -euo pipefail
size_mib=${1:-1024}
cap_mib=${2:-32}
bots_list=${BOTS:-1 2 4 8}
chats=${CHATS:-64}
root=$(cd "$(dirname "$0")/.." && pwd)
pick() { for f in "$@"; do [ -x "$f" ] && { echo "$f"; return; }; done; echo "$1"; }
bin=${NETRADRIVE_BIN:-$(pick "$root/build-bench/netradrive" "$root/build/netradrive")}
fake_bin=${FAKE_TELEGRAM_BIN:-$(pick "$root/build-bench/fake-telegram" "$root/build/fake-telegram")}
for f in "$bin" "$fake_bin"; do [ -x "$f" ] || { echo "bench: $f not built (make BUILD=build-bench)"; exit 1; }; done
work=$(mktemp -d /tmp/netra-tgbench.XXXXXX)
nd_pid=""; fk_pid=""
stop_nd() { [ -n "$nd_pid" ] && { kill "$nd_pid" 2>/dev/null; wait "$nd_pid" 2>/dev/null; }; nd_pid=""; }
stop_fk() { [ -n "$fk_pid" ] && { kill "$fk_pid" 2>/dev/null; wait "$fk_pid" 2>/dev/null; }; fk_pid=""; }
cleanup() { stop_nd || true; stop_fk || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

py() { /usr/bin/python3 -c "$@"; }
free_port() { py 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }       # utime + stime
hwm_mib() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
stat_of() { curl -sf "$fake_url/_fake/stats" | py "import json,sys; print(json.load(sys.stdin)['$1'])"; }

cap=$((cap_mib * 1048576))
chunk=${CHUNK_SIZE:-$((20 * 1048576 - 65536))}
chunks=$(( (size_mib * 1048576 + chunk - 1) / chunk ))

echo "bench: generating ${size_mib} MiB of random data"
head -c $((size_mib * 1048576)) /dev/urandom > "$work/big.bin"
bytes=$(stat -c %s "$work/big.bin")
want=$(openssl dgst -sha256 -r "$work/big.bin" | cut -d' ' -f1)
chat_ids=$(py "print(','.join(str(-1001000000000 - i) for i in range(1, $chats + 1)))")
pace_mib=$(py "print(f'{$chats * 20 / 61 * $chunk / 1048576:.0f}')")
# A generous bound per transfer: the file at one cap's (or the pacing's) rate, plus a minute.
max_time=$(py "print(int($size_mib / min($cap_mib, max(1, $pace_mib))) + 60)")
t_start=$(date +%s)
rows=()

for n in $bots_list; do
  echo "bench: $n bot(s), $chats chats, cap $cap_mib MiB/s per connection"
  rm -rf "$work/fake" "$work/nd"
  # --- the fake Bot API ---
  "$fake_bin" --port 0 --dir "$work/fake" --bandwidth "$cap" --pace > "$work/fake.out" 2>&1 &
  fk_pid=$!
  fk_port=""
  for _ in $(seq 100); do
    fk_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/fake.out")
    [ -n "$fk_port" ] && break; sleep 0.05
  done
  [ -n "$fk_port" ] || { echo "bench: fake-telegram did not start"; cat "$work/fake.out"; exit 1; }
  fake_url="http://127.0.0.1:$fk_port"

  # --- NetraDrive with N bots ---
  tokens=$(py "print(','.join(f'{700000 + i}:bench-bot-token-{i}' for i in range(1, $n + 1)))")
  nd_port=$(free_port)
  PORT=$nd_port DATA_DIR="$work/nd" LOG_LEVEL=warn STORAGE_BACKEND=telegram \
    TELEGRAM_API_URL="$fake_url" TELEGRAM_BOT_TOKEN="$tokens" TELEGRAM_STORAGE_CHAT_ID="$chat_ids" \
    TELEGRAM_PARALLEL_UPLOADS="$n" TELEGRAM_PACING=true CHUNK_SIZE="$chunk" \
    "$bin" serve 2> "$work/nd.err" &
  nd_pid=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$nd_port/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$nd_port/healthz" >/dev/null ||
    { echo "bench: netradrive did not start"; cat "$work/nd.err"; exit 1; }
  api="http://127.0.0.1:$nd_port/api/v1"
  curl -sf -XPOST "$api/auth/signup" -H 'Content-Type: application/json' \
    -d '{"username":"bench","email":"bench@example.com","password":"benchmark-pass"}' >/dev/null
  token=$(curl -sf -XPOST "$api/auth/token" -d 'username=bench&password=benchmark-pass' |
          py 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -sf -XPOST "$fake_url/_fake/reset-stats" >/dev/null

  # --- upload ---
  sync
  c0=$(cpu_ticks "$nd_pid"); f0=$(cpu_ticks "$fk_pid")
  up=$(curl -s -m "$max_time" -o "$work/up.json" -w '%{time_total}' -H "Authorization: Bearer $token" \
       -F "file=@$work/big.bin" "$api/files/upload")
  c1=$(cpu_ticks "$nd_pid"); f1=$(cpu_ticks "$fk_pid")
  fid=$(py 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/up.json") ||
    { echo "bench: upload failed: $(cat "$work/up.json")"; tail -5 "$work/nd.err"; exit 1; }
  rss_up=$(hwm_mib "$nd_pid")
  sent=$(stat_of sendDocument); limited=$(stat_of rate_limited); bin_in=$(stat_of bytes_in)

  # --- cold download (nothing of it is in the cache: the upload does not fill it) ---
  curl -sf -XPOST "$fake_url/_fake/reset-stats" >/dev/null
  dl=$( { curl -s -m "$max_time" -w '%{stderr}%{time_total}' -H "Authorization: Bearer $token" \
          "$api/files/$fid/download" | openssl dgst -sha256 -r | cut -d' ' -f1 > "$work/got"; } 2>&1 )
  c2=$(cpu_ticks "$nd_pid"); f2=$(cpu_ticks "$fk_pid")
  rss_all=$(hwm_mib "$nd_pid")
  bout=$(stat_of bytes_out)
  [ "$(cat "$work/got")" = "$want" ] || { echo "bench: downloaded bytes differ ($n bots)!"; exit 1; }
  [ "$bin_in" -ge "$bytes" ] && [ "$bout" -ge "$bytes" ] ||
    { echo "bench: the fake moved less than the file ($bin_in in, $bout out)"; exit 1; }

  stop_nd; stop_fk
  rows+=("$n $up $dl $rss_up $rss_all $sent $limited $bout $c0 $c1 $c2 $f0 $f1 $f2")
done

echo
echo "file: $size_mib MiB (CHUNK_SIZE $chunk bytes: $chunks chunks at most), machine: $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "fake: --bandwidth $cap_mib MiB/s per connection, --pace; $chats chats," \
     "pacing bound $chats x 20/61 msg/s x chunk = $pace_mib MiB/s"
printf '%s\n' "${rows[@]}" > "$work/rows"
/usr/bin/python3 - "$work/rows" "$cap_mib" "$pace_mib" "$bytes" "$chunk" "$(getconf CLK_TCK)" <<'PY'
import math, sys
rows, cap, pace, size, chunk, hz = sys.argv[1], *map(int, sys.argv[2:])
print(f'{"bots":<5} {"limit MiB/s":<15} {"chunks, bound":<14} {"upload MiB/s (%)":<18} '
      f'{"download MiB/s (%)":<19} {"peak RSS MiB":<13} {"429s":<5} CPU s up/down: netradrive, fake')
for line in open(rows):
    n, up, dl, rss_up, rss_all, sent, limited, bout, c0, c1, c2, f0, f1, f2 = line.split()
    n = int(n)
    limit = min(n * cap, pace)
    bind = 'caps' if n * cap <= pace else 'pacing'
    # The chunks the fake stored (NetraDrive may cut the file into whole rounds
    # of smaller ones), about equal: with one per bot at a time, the busiest
    # bot carries `lane` bytes.
    count = int(sent) - int(limited)
    sizes = [size // count + (1 if i < size % count else 0) for i in range(count)]
    lane = max(sum(sizes[k::n]) for k in range(n))
    bound = min(1.0, size / 1048576 * cap / (lane / 1048576) / limit)
    mib = size / 1048576
    u, d = mib / float(up), mib / float(dl)
    t = lambda a, b: (int(b) - int(a)) / hz
    print(f'{n:<5} {f"{limit:.0f} ({bind})":<15} {count:>4}, {100 * bound:>4.0f}%    '
          f'{u:>6.1f} ({100 * u / limit:>3.0f}%)    {d:>6.1f} ({100 * d / limit:>3.0f}%)     '
          f'{rss_up:>4} / {rss_all:<4}   {limited:<5} '
          f'{t(c0, c1):.1f}/{t(c1, c2):.1f}, {t(f0, f1):.1f}/{t(f1, f2):.1f}')
PY
echo "limit: min(bots x cap, pacing bound); chunks: stored; bound: the share of the limit" \
     "those whole chunks allow when each bot sends one at a time; peak RSS: after the upload / after the download;" \
     "429s: sendDocument calls the fake refused"
echo "bench: total $(( $(date +%s) - t_start )) s"
