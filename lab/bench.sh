#!/usr/bin/env bash
# Lab benchmark (issue 5): per switch, the median time to connect over N runs for HeMif (`hemif connect`, the race's
# own time to connect) and for .NET's own `TcpClient.ConnectAsync(host, port)` run in the same client namespace, and
# their ratio. Builds what it needs, brings a lab up, always tears it down.
#   usage: lab/bench.sh [RUNS [SWITCH...]]    (default 10, every switch; needs root, like the lab)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
shift || true
switches=("$@")
[ "${#switches[@]}" -gt 0 ] || switches=(healthy wifi-broken wifi-hard-error wifi-captive v6-broken dns-broken-wifi)
timeout_ms=10000

dotnet build -c Release -v q --nologo examples/HeMif.Cli >/dev/null
dotnet build -c Release -v q --nologo lab/HeMif.Lab >/dev/null
hemif=$PWD/examples/HeMif.Cli/bin/Release/net10.0/hemif.dll
export HEMIF_LAB_DLL=$PWD/lab/HeMif.Lab/bin/Release/net10.0/HeMif.Lab.dll

env_file=$(mktemp)
overrides=$(mktemp --suffix=.json)
bash lab/lab.sh up >"$env_file"
# shellcheck disable=SC1090
. "$env_file"
trap 'bash lab/lab.sh down "$RUN_ID" >/dev/null 2>&1 || true; rm -f "$env_file" "$overrides"' EXIT

cat >"$overrides" <<JSON
{ "interfaces": [ { "name": "$WIFI_IF", "kind": "Wifi", "dnsServers": ["$WIFI_DNS4"] },
                  { "name": "$CELL_IF", "kind": "Cellular", "dnsServers": ["$CELL_DNS4"] } ],
  "probe": { "url": "http://$SERVICE_NAME:$SERVER_HTTP_PORT$CHECK_PATH", "timeoutMs": 1500 } }
JSON

median() { { grep -v '^$' || true; } | sort -n | awk '{a[NR]=$1} END { if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }

printf '| switch | HeMif median (ms) | HeMif connected | TcpClient median (ms) | TcpClient connected | ratio TcpClient / HeMif |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for sw in "${switches[@]}"; do
  bash lab/lab.sh switch "$RUN_ID" "$sw" >/dev/null
  # One process, one connector, RUNS races in a row: how an application uses it (and how TcpClient is measured
  # below). The first race includes the JIT; later ones use the outcome cache, as a real application would.
  errfile=$(mktemp)
  out=$(ip netns exec "$NS_CLIENT" dotnet "$hemif" connect "$SERVICE_NAME" "$SERVER_TCP_PORT" --interfaces "$overrides" --count "$runs" --json 2>"$errfile" || true)
  mapfile -t hemif_times < <(printf '%s' "$out" | sed -n '/"races"/,$p' | { grep -o '"timeToConnectMs": [0-9][0-9.]*' || true; } | awk '{print $2}')
  if [ "${#hemif_times[@]}" -eq 0 ]; then echo "hemif connect ($sw) gave no times: $(head -c 400 "$errfile")" >&2; fi
  rm -f "$errfile"
  hm=$(printf '%s\n' "${hemif_times[@]:-}" | median)
  tc_json=$(ip netns exec "$NS_CLIENT" dotnet "$HEMIF_LAB_DLL" tcpclient "$SERVICE_NAME" "$SERVER_TCP_PORT" --count "$runs" --timeout-ms "$timeout_ms" || true)
  tc_ok=$(printf '%s' "$tc_json" | { grep -o '"connected":[0-9]*' || true; } | cut -d: -f2)
  tc=$(printf '%s' "$tc_json" | { grep -o '"samples":\[[^]]*\]' || true; } | sed 's/.*\[//; s/\]//' | tr ',' '\n' | median)
  if [ "${tc_ok:-0}" -lt "$runs" ] && [ "$tc" = "-" ]; then tc=">$timeout_ms (timed out or failed)"; fi
  ratio=$(awk -v a="$tc" -v b="$hm" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.1fx", a/b; else print "-" }')
  printf '| %s | %s | %d/%d | %s | %s/%d | %s |\n' "$sw" "$hm" "${#hemif_times[@]}" "$runs" "$tc" "${tc_ok:-0}" "$runs" "$ratio"
done
