#!/usr/bin/env bash
# Lab benchmark (issue 17, "cold start"): the FIRST race of a fresh process, in a healthy lab, against the obvious
# alternatives run the same way on the same path, in alternating order, every round in one run.
#
#   usage: lab/coldstart.sh [ROUNDS]     (default 9; needs root, like the lab)
#
# Each round starts every contender once as a new process in the client namespace and takes the time it reports for
# its own first connection (name resolution included, process start-up excluded: the same span for everyone):
#   hemif (JIT)          hemif connect, the build of `dotnet build -c Release`: the race's timeToConnectMs
#   hemif (ReadyToRun)   the same, published with PublishReadyToRun (tools/publish-cli.sh): the JIT's first-use cost
#                        of HeMif's and Akka's code is compiled ahead of time
#   .NET TcpClient       TcpClient.ConnectAsync(host, port) in a fresh process (HeMif.Lab tcpclient --count 1)
#   curl                 curl -w '%{time_connect}' of the lab's HTTP check endpoint
#   python3, node        socket.create_connection / net.connect, timed around the call
# It prints each contender's median (min-max) and the ratio of each HeMif build to the best peer's median. Builds what
# it needs, brings a lab up, always tears it down. Contenders that are not installed are said and left out.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-9}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "coldstart.sh: ROUNDS must be a positive whole number, not '$rounds'" >&2; exit 2; }

dotnet build -c Release -v q --nologo examples/HeMif.Cli >/dev/null
dotnet build -c Release -v q --nologo lab/HeMif.Lab >/dev/null
r2r_dir=$(mktemp -d)
bash tools/publish-cli.sh "$r2r_dir" >/dev/null
jit=$PWD/examples/HeMif.Cli/bin/Release/net10.0/hemif.dll
r2r=$r2r_dir/hemif.dll
export HEMIF_LAB_DLL=$PWD/lab/HeMif.Lab/bin/Release/net10.0/HeMif.Lab.dll

env_file=$(mktemp)
overrides=$(mktemp --suffix=.json)
results=$(mktemp -d)
bash lab/lab.sh up >"$env_file"
# shellcheck disable=SC1090
. "$env_file"
trap 'bash lab/lab.sh down "$RUN_ID" >/dev/null 2>&1 || true; rm -rf "$env_file" "$overrides" "$results" "$r2r_dir"' EXIT
bash lab/lab.sh switch "$RUN_ID" healthy >/dev/null

cat >"$overrides" <<JSON
{ "interfaces": [ { "name": "$WIFI_IF", "kind": "Wifi", "dnsServers": ["$WIFI_DNS4"] },
                  { "name": "$CELL_IF", "kind": "Cellular", "dnsServers": ["$CELL_DNS4"] } ],
  "probe": { "url": "http://$SERVICE_NAME:$SERVER_HTTP_PORT$CHECK_PATH", "timeoutMs": 1500 } }
JSON

in_client() { ip netns exec "$NS_CLIENT" "$@"; }

# Each contender prints one number: milliseconds to its first connection, or nothing when it failed.
hemif_first() { in_client dotnet "$1" connect "$SERVICE_NAME" "$SERVER_TCP_PORT" --interfaces "$overrides" --json 2>/dev/null \
  | { grep -o '"timeToConnectMs": [0-9][0-9.]*' || true; } | head -1 | awk '{print $2}'; }
tcpclient_first() { in_client dotnet "$HEMIF_LAB_DLL" tcpclient "$SERVICE_NAME" "$SERVER_TCP_PORT" --count 1 --timeout-ms 10000 2>/dev/null \
  | { grep -o '"samples":\[[0-9.]*' || true; } | sed 's/.*\[//'; }
curl_first() { in_client curl -s -o /dev/null --max-time 10 -w '%{time_connect}' "http://$SERVICE_NAME:$SERVER_HTTP_PORT$CHECK_PATH" 2>/dev/null \
  | awk '$1 > 0 { printf "%.2f\n", $1 * 1000 }'; }
python_first() { in_client python3 -c '
import socket, sys, time
t = time.perf_counter(); s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print("%.2f" % ((time.perf_counter() - t) * 1000)); s.close()' "$SERVICE_NAME" "$SERVER_TCP_PORT" 2>/dev/null || true; }
node_first() { in_client node -e '
const net = require("net"); const t = process.hrtime.bigint();
const s = net.connect({ host: process.argv[1], port: Number(process.argv[2]) }, () => {
  console.log((Number(process.hrtime.bigint() - t) / 1e6).toFixed(2)); s.destroy(); });
s.setTimeout(10000, () => s.destroy()); s.on("error", () => {});' "$SERVICE_NAME" "$SERVER_TCP_PORT" 2>/dev/null || true; }

contenders=("hemif-jit" "hemif-r2r" "dotnet-tcpclient")
command -v curl >/dev/null && contenders+=(curl) || echo "coldstart.sh: no curl: left out" >&2
command -v python3 >/dev/null && contenders+=(python3) || echo "coldstart.sh: no python3: left out" >&2
command -v node >/dev/null && contenders+=(node) || echo "coldstart.sh: no node: left out" >&2

run_one() {
  case "$1" in
    hemif-jit) hemif_first "$jit" ;;
    hemif-r2r) hemif_first "$r2r" ;;
    dotnet-tcpclient) tcpclient_first ;;
    curl) curl_first ;;
    python3) python_first ;;
    node) node_first ;;
  esac
}

for ((round = 0; round < rounds; round++)); do
  # Alternate the order round by round so that no contender always runs first (or right after a .NET start).
  if ((round % 2)); then order=("${contenders[@]}"); else order=(); for ((i = ${#contenders[@]} - 1; i >= 0; i--)); do order+=("${contenders[i]}"); done; fi
  for c in "${order[@]}"; do
    v=$(run_one "$c")
    if [ -n "$v" ]; then echo "$v" >>"$results/$c"; else echo "coldstart.sh: $c failed in round $((round + 1))" >&2; fi
  done
done

stats() { [ -s "$1" ] || { echo "- - - 0"; return; }; sort -n "$1" | awk '{a[NR]=$1} END { m = NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f %.1f %.1f %d\n", m, a[1], a[NR], NR }'; }
best_peer=""
for c in "${contenders[@]}"; do
  case "$c" in hemif-*) continue ;; esac
  read -r m _ _ n < <(stats "$results/$c")
  [ "$n" -gt 0 ] || continue
  if [ -z "$best_peer" ] || awk -v a="$m" -v b="$best_peer" 'BEGIN { exit !(a < b) }'; then best_peer=$m; best_name=$c; fi
done

echo "First connection of a fresh process, healthy lab (Wi-Fi ${WIFI_DELAY_MS} ms, cellular ${CELL_DELAY_MS} ms), $rounds rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| contender | median ms (min-max) | runs | ratio to the best peer (%s) |\n|---|---:|---:|---:|\n' "${best_name:-none}"
for c in "${contenders[@]}"; do
  read -r m lo hi n < <(stats "$results/$c")
  ratio=$(awk -v a="$m" -v b="${best_peer:-0}" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2fx", a/b; else print "-" }')
  printf '| %s | %s (%s-%s) | %s/%s | %s |\n' "$c" "$m" "$lo" "$hi" "$n" "$rounds" "$ratio"
done
