#!/usr/bin/env bash
# Load run on loopback (not a test: it measures). Starts the web sample on a free port, waits for its first network,
# then, after a 3-second warm-up, sends 64 concurrent clients at POST /api/predict for 10 s with `hey`, once with the
# server idle and once while a live training run is going. Fails if any request fails or gets anything but 200.
#
#   samples/LeNet.Web/load-test.sh                 # needs: apt-get install -y hey curl
#   CLIENTS=32 DURATION=20s samples/LeNet.Web/load-test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-10s}
for tool in hey curl; do
  command -v "$tool" >/dev/null || { echo "load-test.sh needs $tool: apt-get install -y $tool" >&2; exit 2; }
done

dotnet build samples/LeNet.Web -c Release -v quiet -nologo >/dev/null
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
samples/LeNet.Web/bin/Release/net10.0/LeNet.Web --urls "$url" --LeNetWeb:WeightsPath= >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

# Wait for the first network (trained on start, a few seconds) and for that run to finish.
for _ in $(seq 600); do
  status=$(curl -fs "$url/api/status" || true)
  if [[ $status == *'"ready":true'* && $status != *'"state":"running"'* ]]; then break; fi
  sleep 0.5
done
[[ $status == *'"ready":true'* ]] || { echo "the server did not get ready: $status" >&2; cat "$work/server.log" >&2; exit 1; }

# The body: a real test digit, 784 values.
curl -fs "$url/api/digits/0" | sed 's/.*"pixels":/{"pixels":/' >"$work/body.json"
echo "body: $(wc -c <"$work/body.json") bytes, test digit 0 ($(curl -fs -X POST -H 'Content-Type: application/json' --data @"$work/body.json" "$url/api/predict" | cut -c1-20)…)"

run() { # $1: label
  hey -z "$DURATION" -c "$CLIENTS" -m POST -T application/json -D "$work/body.json" "$url/api/predict" >"$work/$1.txt"
  local rps p50 p99 ok total
  rps=$(awk '/Requests\/sec:/ {print $2}' "$work/$1.txt")
  p50=$(awk '/ 50%+ in / {print $3 * 1000}' "$work/$1.txt")
  p99=$(awk '/ 99%+ in / {print $3 * 1000}' "$work/$1.txt")
  ok=$(awk '/\[200\]/ {print $2}' "$work/$1.txt")
  total=$(awk '/\[[0-9]+\]/ {n += $2} END {print n + 0}' "$work/$1.txt")
  printf '%-18s %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms   %s requests, %s with 200\n' "$1" "$rps" "$p50" "$p99" "$total" "${ok:-0}"
  if [[ "${ok:-0}" != "$total" || "$total" == 0 ]] || grep -q "Error distribution" "$work/$1.txt"; then
    echo "errors in the $1 run:" >&2; cat "$work/$1.txt" >&2; exit 1
  fi
}

echo "$CLIENTS clients for $DURATION against POST $url/api/predict ($(nproc) cores, shared with whatever else runs)"
# Warm up first (the JIT compiles the hot paths again, optimised, after their first calls), and do not count it.
hey -z 3s -c "$CLIENTS" -m POST -T application/json -D "$work/body.json" "$url/api/predict" >/dev/null
run idle

curl -fs -X POST -H 'Content-Type: application/json' -d '{"epochs":100,"fresh":false}' "$url/api/train" >/dev/null
sleep 1
run while-training
status=$(curl -fs "$url/api/status")
ips=$(sed 's/.*"imagesPerSecond":\([0-9.]*\).*/\1/' <<<"$status")
version=$(sed 's/.*"version":\([0-9]*\).*/\1/' <<<"$status")
curl -fs -X POST "$url/api/train/cancel" >/dev/null
printf 'training meanwhile: %.0f img/s; the answering network is version %s (one more per weight swap)\n' "$ips" "$version"
