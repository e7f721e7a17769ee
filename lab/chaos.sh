#!/usr/bin/env bash
# The chaos lab (docs/chaos.md): N races under faults drawn from a seeded mix, through one long-lived connector and
# through fresh `hemif connect` processes, every race checked against HeMif's invariants from the kernel's side.
#   usage: lab/chaos.sh [--races N] [--process-races N] [--seed N] [--slack-ms N] [--json FILE]
#   (defaults: 1000 races, 20 fresh processes, seed 1, 150 ms slack on the time oracle; needs root, like the lab)
# Builds what it needs (Release), brings a lab up, adds a prohibited interface to the client, always tears it all down.
# Exit 0: no invariant broken; 1: some were (each printed with its race and fault); 2: bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."

races=1000 process_races=20 seed=1 slack_ms=150 json=""
while [ $# -gt 0 ]; do
  case $1 in
    --races) races=${2:?--races needs a number}; shift 2 ;;
    --process-races) process_races=${2:?--process-races needs a number}; shift 2 ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --slack-ms) slack_ms=${2:?--slack-ms needs a number}; shift 2 ;;
    --json) json=${2:?--json needs a file}; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "chaos.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in "$races" "$process_races" "$seed" "$slack_ms"; do
  [[ "$v" =~ ^[0-9]+$ ]] || { echo "chaos.sh: '$v' is not a whole number" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "chaos.sh: the chaos lab needs root (network namespaces), like lab/lab.sh" >&2; exit 2; }

echo "chaos.sh: building (Release)" >&2
for p in examples/HeMif.Cli lab/HeMif.Lab lab/HeMif.Chaos; do
  dotnet build -c Release -v q --nologo "$p" >/dev/null || { echo "chaos.sh: could not build $p" >&2; exit 2; }
done
hemif=$PWD/examples/HeMif.Cli/bin/Release/net10.0/hemif.dll
driver=$PWD/lab/HeMif.Chaos/bin/Release/net10.0/HeMif.Chaos.dll
export HEMIF_LAB_DLL=$PWD/lab/HeMif.Lab/bin/Release/net10.0/HeMif.Lab.dll

work=$(mktemp -d)
RUN_ID=""
cleanup() {
  [ -z "$RUN_ID" ] || bash lab/lab.sh down "$RUN_ID" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash lab/lab.sh up >"$work/lab.env"
# shellcheck disable=SC1091
. "$work/lab.env"

# The prohibited interface: a wired link (Ethernet ranks before Wi-Fi by default, so it would be tried first) with the
# lowest-metric default route of the client. A user rule prohibits it; no frame of any kind may leave through it.
# IPv6 is off on it before it comes up, so the kernel sends nothing there by itself (no MLD, no router solicitation);
# its IPv4 gateway is on-link, so even an ARP request would count.
prohibited=eth9
ip -n "$NS_CLIENT" link add "$prohibited" type veth peer name "${prohibited}p"
for dev in "$prohibited" "${prohibited}p"; do
  ip netns exec "$NS_CLIENT" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
done
ip -n "$NS_CLIENT" addr add 198.18.9.2/24 dev "$prohibited"
ip -n "$NS_CLIENT" link set "${prohibited}p" up
ip -n "$NS_CLIENT" link set "$prohibited" up
ip -n "$NS_CLIENT" route add default via 198.18.9.1 dev "$prohibited" metric 50

cat >"$work/overrides.json" <<JSON
{ "interfaces": [ { "name": "$WIFI_IF", "kind": "Wifi", "dnsServers": ["$WIFI_DNS4"] },
                  { "name": "$CELL_IF", "kind": "Cellular", "dnsServers": ["$CELL_DNS4"] },
                  { "name": "$prohibited", "kind": "Ethernet", "dnsServers": ["198.18.9.1"] } ],
  "probe": { "url": "http://$SERVICE_NAME:$SERVER_HTTP_PORT$CHECK_PATH", "timeoutMs": 1500 } }
JSON
cat >"$work/policy.json" <<JSON
{ "userRules": [ { "name": "chaos-prohibited", "description": "the chaos lab's prohibited interface",
                   "level": "Prohibit", "interface": { "names": ["$prohibited"] } } ] }
JSON

args=(--env "$work/lab.env" --lab-sh "$PWD/lab/lab.sh" --hemif "$hemif" --overrides "$work/overrides.json" --policy "$work/policy.json"
      --prohibited "$prohibited" --races "$races" --process-races "$process_races" --seed "$seed" --slack-ms "$slack_ms")
[ -z "$json" ] || args+=(--json "$(realpath -m "$json")")
status=0
ip netns exec "$NS_CLIENT" dotnet "$driver" "${args[@]}" || status=$?
exit "$status"
