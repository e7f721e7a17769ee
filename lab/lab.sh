#!/usr/bin/env bash
# HeMif network lab: a two-interface client (wlan0, rmnet0) behind two routers, each with its own
# DNS server, in front of one dual-stack server, all in network namespaces of this run.
#
#   lab.sh up [--wifi-delay-ms N] [--cell-delay-ms N]   build a lab, print KEY=VALUE lines, leave it up
#   lab.sh switch [RUNID] NAME[,NAME...]                 put the lab into a state (see SWITCHES)
#   lab.sh count [RUNID]                                 packets sent by the client per interface
#   lab.sh link [RUNID] wlan0|rmnet0 DELAY_MS [LOSS_PCT]   change a client link's one-way delay and loss (%) now
#   lab.sh env [RUNID]                                   print the KEY=VALUE lines again
#   lab.sh down RUNID                                    tear one lab down (idempotent)
#   lab.sh run [--switch NAME] [up options] -- CMD...    one-shot: up, run CMD with the KEY=VALUE
#                                                        lines in its environment as HEMIF_LAB_*, down
#   lab.sh list                                          run ids of labs that are up
#
# Everything lives in namespaces named hm<RUNID>-{cli,wr,cr,srv}; the host's own namespace gets no
# address, route or interface. Addresses are documentation/benchmark ranges, inside the namespaces only.
# docs/lab.md has the picture.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE_ROOT=${HEMIF_LAB_STATE_ROOT:-/run/hemif-lab}
SWITCHES="healthy wifi-broken wifi-hard-error wifi-reset wifi-captive v6-broken dns-broken-wifi wifi-down"
SWITCHES+=" wifi-udp-blocked wifi-udp-port-unreachable" # UDP: QUIC and exchanges (see start_quic_server, apply_quic_switch)

# Addresses (inside the lab's namespaces only).
WIFI_ADDR4=198.18.1.2    WIFI_GW4=198.18.1.1    WIFI_ADDR6=2001:db8:1::2    WIFI_GW6=2001:db8:1::1
CELL_ADDR4=198.18.2.2    CELL_GW4=198.18.2.1    CELL_ADDR6=2001:db8:2::2    CELL_GW6=2001:db8:2::1
WR_UP4=198.18.11.1       SRV_WR4=198.18.11.2    WR_UP6=2001:db8:11::1       SRV_WR6=2001:db8:11::2
CR_UP4=198.18.12.1       SRV_CR4=198.18.12.2    CR_UP6=2001:db8:12::1       SRV_CR6=2001:db8:12::2
SERVER_ADDR4=198.19.0.10 SERVER_ADDR6=2001:db8:100::10
SERVER_NET4=198.19.0.0/16 SERVER_NET6=2001:db8:100::/48
PORTAL_ADDR4=198.18.3.80 PORTAL_ADDR6=2001:db8:3::80
SERVICE_NAME=svc.lab.example
WIFI_ONLY_NAME=wifi-only.lab.example
CELL_ONLY_NAME=cell-only.lab.example
MISSING_NAME=missing.lab.example
PORTAL_NAME=portal.lab.example
PVD_NAME=pvd.lab.example # the Wi-Fi router's PvD ID: its own address, where a test serves /.well-known/pvd (RFC 8801 §4)
SERVER_TCP_PORT=7
SERVER_UDP_PORT=7 # the lab server's UDP responder (echo; "spoof ..." requests get two answers to ignore first)
SERVER_HTTP_PORT=80
SERVER_MPTCP_PORT=5201
SERVER_QUIC_PORT=4433

die() { echo "lab.sh: $*" >&2; exit 1; }
log() { echo "lab.sh: $*" >&2; }

need_tools() {
  [ "$(id -u)" -eq 0 ] || die "the lab needs root (network namespaces, TAP devices): run it as root"
  local missing=()
  command -v ip >/dev/null || missing+=("ip: apt-get install iproute2")
  command -v nft >/dev/null || missing+=("nft: apt-get install nftables")
  command -v dnsmasq >/dev/null || missing+=("dnsmasq: apt-get install dnsmasq-base")
  command -v dotnet >/dev/null || missing+=("dotnet: the .NET 10 SDK")
  command -v setsid >/dev/null || missing+=("setsid: apt-get install util-linux")
  command -v ss >/dev/null || missing+=("ss: apt-get install iproute2")
  if [ ${#missing[@]} -gt 0 ]; then
    local m
    for m in "${missing[@]}"; do echo "lab.sh: lab needs \`${m%%:*}\`:${m#*:}" >&2; done
    exit 1
  fi
  [ -c /dev/net/tun ] || die "lab needs /dev/net/tun (TAP devices for the delayed links): modprobe tun"
}

# The C# helpers (relay, servers, probes). HEMIF_LAB_DLL points at a built HeMif.Lab.dll (the
# integration tests pass theirs); otherwise the newest build under lab/HeMif.Lab/bin, else build it.
lab_tool_dll() {
  if [ -n "${HEMIF_LAB_DLL:-}" ]; then
    [ -f "$HEMIF_LAB_DLL" ] || die "HEMIF_LAB_DLL=$HEMIF_LAB_DLL does not exist"
    echo "$HEMIF_LAB_DLL"; return
  fi
  local built
  built=$(ls -t "$LAB_DIR"/HeMif.Lab/bin/*/net10.0/HeMif.Lab.dll 2>/dev/null | head -n1 || true)
  if [ -z "$built" ]; then
    log "building lab/HeMif.Lab"
    dotnet build "$LAB_DIR/HeMif.Lab/HeMif.Lab.csproj" -nologo -v q -c Debug >&2 || die "could not build lab/HeMif.Lab"
    built="$LAB_DIR/HeMif.Lab/bin/Debug/net10.0/HeMif.Lab.dll"
  fi
  echo "$built"
}

valid_run() { [[ "${1:-}" =~ ^[0-9a-f]{4,8}$ ]] || die "'${1:-}' is not a lab run id (4 to 8 hex digits)"; }

names() {
  RUN=$1
  CLI=hm$RUN-cli WR=hm$RUN-wr CR=hm$RUN-cr SRV=hm$RUN-srv
  STATE=$STATE_ROOT/$RUN
}

ns_exists() { [ -e "/run/netns/$1" ]; }

# A sysctl inside a namespace (no procps needed): nsctl NS net.ipv4.ip_forward 1
nsctl() { ip netns exec "$1" sh -c "echo $3 > /proc/sys/$(echo "$2" | tr . /)"; }

# The one running lab when a command is given no run id.
default_run() {
  if [ -n "${HEMIF_LAB_RUN_ID:-}" ]; then echo "$HEMIF_LAB_RUN_ID"; return; fi
  local runs
  runs=$(ls "$STATE_ROOT" 2>/dev/null || true)
  [ -n "$runs" ] || die "no lab is up"
  [ "$(echo "$runs" | wc -l)" -eq 1 ] || die "several labs are up ($(echo $runs)): name the run id"
  echo "$runs"
}

start_daemon() { # start_daemon NS LOGFILE CMD... : detached from our stdout, so callers reading it see EOF
  local ns=$1 logfile=$2; shift 2
  setsid ip netns exec "$ns" "$@" </dev/null >"$logfile" 2>&1 &
  DAEMONS+=("$!:$logfile")
}

DAEMONS=() # "pid:log" of the helpers this up started, so a wait gives up as soon as one of them died

wait_for() { # wait_for SECONDS DESCRIPTION CMD...
  local deadline=$((SECONDS + $1)) what=$2 d; shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "timed out waiting for $what"
    for d in "${DAEMONS[@]}"; do
      kill -0 "${d%%:*}" 2>/dev/null || die "a lab helper exited while waiting for $what: $(tail -n 5 "${d#*:}" 2>/dev/null | tr '\n' ' ')"
    done
    sleep 0.05
  done
}

listening() { # listening NS tcp|udp PORT
  local flag=-Hltn; [ "$2" = udp ] && flag=-Hlun
  [ -n "$(ip netns exec "$1" ss $flag "sport = :$3")" ]
}

start_dns() { # start_dns ROUTER normal|captive
  local router=$1 mode=$2 ns addr4 addr6 records=()
  if [ "$router" = wr ]; then
    ns=$WR addr4=$WIFI_GW4 addr6=$WIFI_GW6
    records+=("--host-record=$WIFI_ONLY_NAME,$SERVER_ADDR4,$SERVER_ADDR6" "--host-record=$PVD_NAME,$WIFI_GW4,$WIFI_GW6")
  else
    ns=$CR addr4=$CELL_GW4 addr6=$CELL_GW6
    records+=("--host-record=$CELL_ONLY_NAME,$SERVER_ADDR4,$SERVER_ADDR6")
  fi
  records+=("--host-record=$SERVICE_NAME,$SERVER_ADDR4,$SERVER_ADDR6"
            "--host-record=$PORTAL_NAME,$PORTAL_ADDR4,$PORTAL_ADDR6"
            "--local=/lab.example/")
  if [ "$mode" = captive ]; then
    # A captive network's DNS answers every name with its portal.
    records=("--address=/#/$PORTAL_ADDR4" "--address=/#/$PORTAL_ADDR6")
  fi
  stop_pidfile "$STATE/$router-dns.pid"
  ip netns exec "$ns" dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address="$addr4" --listen-address="$addr6" --port=53 \
    --user=root --group=root --cache-size=0 --log-queries --log-facility="$STATE/$router-dns.log" \
    --pid-file="$STATE/$router-dns.pid" "${records[@]}" </dev/null >>"$STATE/$router-dns.log" 2>&1 \
    || die "dnsmasq did not start in $ns (see $STATE/$router-dns.log)"
  echo "$mode" >"$STATE/$router-dns.mode"
  wait_for 5 "dnsmasq in $ns" listening "$ns" udp 53
}

stop_pidfile() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  rm -f "$f"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

print_env() {
  cat <<EOF
RUN_ID=$RUN
STATE_DIR=$STATE
NS_CLIENT=$CLI
NS_WIFI_ROUTER=$WR
NS_CELL_ROUTER=$CR
NS_SERVER=$SRV
WIFI_IF=wlan0
CELL_IF=rmnet0
WIFI_ADDR4=$WIFI_ADDR4
WIFI_ADDR6=$WIFI_ADDR6
CELL_ADDR4=$CELL_ADDR4
CELL_ADDR6=$CELL_ADDR6
WIFI_GW4=$WIFI_GW4
WIFI_GW6=$WIFI_GW6
CELL_GW4=$CELL_GW4
CELL_GW6=$CELL_GW6
WIFI_DNS4=$WIFI_GW4
WIFI_DNS6=$WIFI_GW6
CELL_DNS4=$CELL_GW4
CELL_DNS6=$CELL_GW6
WIFI_DELAY_MS=$WIFI_DELAY_MS
CELL_DELAY_MS=$CELL_DELAY_MS
RELAY_STATS=$STATE/relay.stats
SERVICE_NAME=$SERVICE_NAME
WIFI_ONLY_NAME=$WIFI_ONLY_NAME
CELL_ONLY_NAME=$CELL_ONLY_NAME
MISSING_NAME=$MISSING_NAME
SERVER_ADDR4=$SERVER_ADDR4
SERVER_ADDR6=$SERVER_ADDR6
SERVER_NET4=$SERVER_NET4
SERVER_NET6=$SERVER_NET6
SERVER_TCP_PORT=$SERVER_TCP_PORT
SERVER_UDP_PORT=$SERVER_UDP_PORT
SERVER_HTTP_PORT=$SERVER_HTTP_PORT
SERVER_MPTCP_PORT=$SERVER_MPTCP_PORT
MPTCP=$MPTCP
CHECK_PATH=/generate_204
PORTAL_NAME=$PORTAL_NAME
PVD_NAME=$PVD_NAME
PORTAL_ADDR4=$PORTAL_ADDR4
PORTAL_ADDR6=$PORTAL_ADDR6
PORTAL_LOGIN_URL=http://$PORTAL_NAME/login
LAB_DLL=$DLL
SWITCHES=${SWITCHES// /,}
EOF
  quic_env
}

# --- QUIC: Debian's ngtcp2-server (gtlsserver) in the server namespace, on the server's IPv4 and IPv6 addresses.
# It answers a client Initial of a version it does not know with Version Negotiation (RFC 9000 §6), which is what
# `hemif probe quic` asks. Optional: without gtlsserver the lab still comes up, says QUIC_SERVER=absent, and the QUIC
# lab tests say they could not run (.ci/run installs ngtcp2-server).
start_quic_server() {
  if ! command -v gtlsserver >/dev/null; then
    log "no gtlsserver (apt-get install ngtcp2-server): the lab has no QUIC server"
    echo absent >"$STATE/quic-server"
    return 0
  fi
  command -v openssl >/dev/null || die "the QUIC server needs a certificate: apt-get install openssl"
  # A throwaway self-signed certificate for this run (the probe needs no TLS; a QUIC client would validate it).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$SERVICE_NAME" -addext "subjectAltName=DNS:$SERVICE_NAME" \
    -keyout "$STATE/quic-key.pem" -out "$STATE/quic-cert.pem" >"$STATE/quic-openssl.log" 2>&1 \
    || die "openssl could not make the QUIC server's certificate (see $STATE/quic-openssl.log)"
  mkdir -p "$STATE/quic-htdocs"
  local addr
  for addr in "$SERVER_ADDR4" "$SERVER_ADDR6"; do
    start_daemon "$SRV" "$STATE/quic-$addr.log" gtlsserver --quiet --htdocs="$STATE/quic-htdocs" \
      "$addr" "$SERVER_QUIC_PORT" "$STATE/quic-key.pem" "$STATE/quic-cert.pem"
  done
  wait_for 20 "the QUIC server (see $STATE/quic-*.log)" quic_listening "$SERVER_QUIC_PORT" 2
  echo gtlsserver >"$STATE/quic-server"
}

quic_listening() { [ "$(ip netns exec "$SRV" ss -Hlun "sport = :$1" | wc -l)" -ge "$2" ]; }

quic_env() {
  echo "QUIC_SERVER=$(cat "$STATE/quic-server" 2>/dev/null || echo absent)"
  echo "SERVER_QUIC_PORT=$SERVER_QUIC_PORT"
}

# The QUIC switches; returns non-zero for a switch that is not one of them.
apply_quic_switch() {
  case $1 in
    wifi-udp-blocked)
      # The Wi-Fi router drops UDP to the server's QUIC port and its UDP responder, and only that: TCP and DNS still work.
      nft_router "$WR" add rule inet hemif_lab forward iifname client0 udp dport "{ $SERVER_QUIC_PORT, $SERVER_UDP_PORT }" drop ;;
    wifi-udp-port-unreachable)
      # The Wi-Fi router answers UDP to the server's UDP responder with ICMP port unreachable (hard failure).
      nft_router "$WR" add rule inet hemif_lab forward iifname client0 udp dport "$SERVER_UDP_PORT" reject with icmpx type port-unreachable ;;
    *) return 1 ;;
  esac
}

cmd_up() {
  WIFI_DELAY_MS=10 CELL_DELAY_MS=40
  while [ $# -gt 0 ]; do
    case $1 in
      --wifi-delay-ms) WIFI_DELAY_MS=${2:?}; shift 2 ;;
      --cell-delay-ms) CELL_DELAY_MS=${2:?}; shift 2 ;;
      *) die "up: unknown option '$1'" ;;
    esac
  done
  [[ "$WIFI_DELAY_MS$CELL_DELAY_MS" =~ ^[0-9]+$ ]] || die "delays are whole milliseconds"
  need_tools
  DLL=$(lab_tool_dll)

  mkdir -p "$STATE_ROOT"
  local id
  while :; do
    id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
    # mkdir is the lock: two runs that drew the same id cannot both get it.
    if ! ns_exists "hm$id-cli" && mkdir "$STATE_ROOT/$id" 2>/dev/null; then break; fi
  done
  names "$id"
  # From here on, any failure tears down what was built.
  trap 'status=$?; if [ $status -ne 0 ]; then log "up failed; tearing down run $RUN"; teardown "$RUN"; fi' EXIT
  log "run $RUN: building namespaces $CLI $WR $CR $SRV"

  local ns
  for ns in "$CLI" "$WR" "$CR" "$SRV"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    nsctl "$ns" net.ipv4.conf.all.rp_filter 0
    nsctl "$ns" net.ipv4.conf.default.rp_filter 0
    nsctl "$ns" net.ipv6.conf.default.accept_ra 0
    # ICMP errors at full speed, or hard-error tests wait 1-5 s at random (routers rate-limit by default).
    nsctl "$ns" net.ipv4.icmp_ratelimit 0
    nsctl "$ns" net.ipv6.icmp.ratelimit 0
  done
  for ns in "$WR" "$CR"; do
    nsctl "$ns" net.ipv4.ip_forward 1
    nsctl "$ns" net.ipv6.conf.all.forwarding 1
  done

  # The delayed links: a TAP in the client (wlan0, rmnet0) and one in its router (client0), joined by the relay.
  ip -n "$CLI" tuntap add dev wlan0 mode tap
  ip -n "$CLI" tuntap add dev rmnet0 mode tap
  ip -n "$WR" tuntap add dev client0 mode tap
  ip -n "$CR" tuntap add dev client0 mode tap
  # The routers' uplinks to the server: plain veth pairs, created inside the namespaces.
  ip -n "$WR" link add uplink0 type veth peer name wifi0 netns "$SRV"
  ip -n "$CR" link add uplink0 type veth peer name cell0 netns "$SRV"

  ip -n "$CLI" addr add "$WIFI_ADDR4/24" dev wlan0
  ip -n "$CLI" addr add "$WIFI_ADDR6/64" dev wlan0 nodad
  ip -n "$CLI" addr add "$CELL_ADDR4/24" dev rmnet0
  ip -n "$CLI" addr add "$CELL_ADDR6/64" dev rmnet0 nodad
  ip -n "$WR" addr add "$WIFI_GW4/24" dev client0
  ip -n "$WR" addr add "$WIFI_GW6/64" dev client0 nodad
  ip -n "$WR" addr add "$WR_UP4/24" dev uplink0
  ip -n "$WR" addr add "$WR_UP6/64" dev uplink0 nodad
  ip -n "$WR" addr add "$PORTAL_ADDR4/32" dev lo
  ip -n "$WR" addr add "$PORTAL_ADDR6/128" dev lo nodad
  ip -n "$CR" addr add "$CELL_GW4/24" dev client0
  ip -n "$CR" addr add "$CELL_GW6/64" dev client0 nodad
  ip -n "$CR" addr add "$CR_UP4/24" dev uplink0
  ip -n "$CR" addr add "$CR_UP6/64" dev uplink0 nodad
  ip -n "$SRV" addr add "$SRV_WR4/24" dev wifi0
  ip -n "$SRV" addr add "$SRV_WR6/64" dev wifi0 nodad
  ip -n "$SRV" addr add "$SRV_CR4/24" dev cell0
  ip -n "$SRV" addr add "$SRV_CR6/64" dev cell0 nodad
  ip -n "$SRV" addr add "$SERVER_ADDR4/32" dev lo
  ip -n "$SRV" addr add "$SERVER_ADDR6/128" dev lo nodad
  for ns in "$CLI:wlan0" "$CLI:rmnet0" "$WR:client0" "$WR:uplink0" "$CR:client0" "$CR:uplink0" "$SRV:wifi0" "$SRV:cell0"; do
    ip -n "${ns%%:*}" link set "${ns#*:}" up
  done

  # Start the relay before the routes: a TAP has no carrier until someone holds it open.
  start_daemon "$CLI" "$STATE/relay.log" dotnet "$DLL" relay --pid-file "$STATE/relay.pid" --stats-file "$STATE/relay.stats" --control-file "$STATE/relay.control" \
    --link "$CLI:wlan0:$WR:client0:$WIFI_DELAY_MS" --link "$CLI:rmnet0:$CR:client0:$CELL_DELAY_MS"
  start_daemon "$SRV" "$STATE/server.log" dotnet "$DLL" serve --echo-port "$SERVER_TCP_PORT" \
    --http-port "$SERVER_HTTP_PORT" --mode check --pid-file "$STATE/server.pid"
  start_daemon "$WR" "$STATE/portal.log" dotnet "$DLL" serve --http-port 80 --mode portal --pid-file "$STATE/portal.pid"
  mptcp_up

  # Client: both interfaces have a default route, Wi-Fi preferred (lower metric); and one routing
  # table per interface chosen by source address, as a multi-network host has, so a socket bound to
  # rmnet0's address leaves through rmnet0 even without SO_BINDTODEVICE.
  wifi_routes
  ip -n "$CLI" route add default via "$CELL_GW4" dev rmnet0 metric 200
  ip -n "$CLI" -6 route add default via "$CELL_GW6" dev rmnet0 metric 200
  ip -n "$CLI" route add 198.18.2.0/24 dev rmnet0 table 102
  ip -n "$CLI" route add default via "$CELL_GW4" dev rmnet0 table 102
  ip -n "$CLI" -6 route add 2001:db8:2::/64 dev rmnet0 table 102
  ip -n "$CLI" -6 route add default via "$CELL_GW6" dev rmnet0 table 102
  ip -n "$CLI" rule add from "$WIFI_ADDR4" table 101 pref 1001
  ip -n "$CLI" rule add from "$CELL_ADDR4" table 102 pref 1002
  ip -n "$CLI" -6 rule add from "$WIFI_ADDR6" table 101 pref 1001
  ip -n "$CLI" -6 rule add from "$CELL_ADDR6" table 102 pref 1002
  # Routers: the server's networks through the uplink; table 100, looked up first, is where switches
  # put blackhole/unreachable routes (empty when healthy, so lookups fall through to main).
  ip -n "$WR" route add "$SERVER_NET4" via "$SRV_WR4" dev uplink0
  ip -n "$WR" -6 route add "$SERVER_NET6" via "$SRV_WR6" dev uplink0
  ip -n "$CR" route add "$SERVER_NET4" via "$SRV_CR4" dev uplink0
  ip -n "$CR" -6 route add "$SERVER_NET6" via "$SRV_CR6" dev uplink0
  for ns in "$WR" "$CR"; do
    ip -n "$ns" rule add pref 100 table 100
    ip -n "$ns" -6 rule add pref 100 table 100
  done
  # Server: each client network back through its own router.
  ip -n "$SRV" route add 198.18.1.0/24 via "$WR_UP4" dev wifi0
  ip -n "$SRV" route add "$PORTAL_ADDR4/32" via "$WR_UP4" dev wifi0
  ip -n "$SRV" route add 198.18.2.0/24 via "$CR_UP4" dev cell0
  ip -n "$SRV" -6 route add 2001:db8:1::/64 via "$WR_UP6" dev wifi0
  ip -n "$SRV" -6 route add 2001:db8:2::/64 via "$CR_UP6" dev cell0

  # Firewall tables the switches fill; on the client, counters of what leaves each interface.
  for ns in "$WR" "$CR"; do
    ip netns exec "$ns" nft -f - <<'EOF'
table inet hemif_lab {
  chain input { type filter hook input priority 0; policy accept; }
  chain forward { type filter hook forward priority 0; policy accept; }
}
EOF
  done
  ip netns exec "$CLI" nft -f - <<'EOF'
table inet hemif_lab {
  counter wlan0_transport { }
  counter rmnet0_transport { }
  chain output {
    type filter hook output priority 0; policy accept;
    oifname "wlan0" meta l4proto { tcp, udp } counter name "wlan0_transport"
    oifname "rmnet0" meta l4proto { tcp, udp } counter name "rmnet0_transport"
  }
}
EOF
  mptcp_counters

  # The client's own resolv.conf and hosts (ip netns exec bind-mounts /etc/netns/NAME/* over /etc).
  mkdir -p "/etc/netns/$CLI"
  printf 'nameserver %s\nnameserver %s\noptions timeout:1 attempts:1\n' "$WIFI_GW4" "$CELL_GW4" >"/etc/netns/$CLI/resolv.conf"
  printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"/etc/netns/$CLI/hosts"

  start_dns wr normal
  start_dns cr normal
  echo healthy >"$STATE/switch"

  wait_for 20 "the relay (see $STATE/relay.log)" carrier "$CLI" wlan0
  wait_for 5 "the relay's rmnet0 link (see $STATE/relay.log)" carrier "$CLI" rmnet0
  wait_for 20 "the server (see $STATE/server.log)" listening "$SRV" tcp "$SERVER_TCP_PORT"
  wait_for 20 "the server's HTTP (see $STATE/server.log)" listening "$SRV" tcp "$SERVER_HTTP_PORT"
  wait_for 20 "the server's UDP responder (see $STATE/server.log)" listening "$SRV" udp "$SERVER_UDP_PORT"
  wait_for 20 "the portal (see $STATE/portal.log)" listening "$WR" tcp 80
  [ "$MPTCP" = 0 ] || wait_for 20 "the MPTCP sink (see $STATE/mptcp-sink.log)" listening "$SRV" tcp "$SERVER_MPTCP_PORT"
  # End to end through both links and both families (bash's /dev/tcp over the default route, then
  # each router's DNS over its own link).
  wait_for 10 "the server over Wi-Fi (IPv4)" ip netns exec "$CLI" timeout 2 bash -c "exec 3<>/dev/tcp/$SERVER_ADDR4/$SERVER_TCP_PORT"
  wait_for 10 "the server over Wi-Fi (IPv6)" ip netns exec "$CLI" timeout 2 bash -c "exec 3<>/dev/tcp/$SERVER_ADDR6/$SERVER_TCP_PORT"

  start_quic_server
  print_env | tee "$STATE/lab.env"
  trap - EXIT
}

carrier() { ip -n "$1" link show "$2" | grep -q LOWER_UP; }

# --- MPTCP (issue 6) ----------------------------------------------------------------------------
# MPTCP on in every namespace (a new namespace has net.mptcp.enabled=1, but say so), room for up to 8
# subflows on the client and the server (the kernel's maximum), the MPTCP sink on the server, and
# counters of the client's packets to the sink's port per interface (lab.sh count: *_MPTCP_PACKETS).
MPTCP=0
mptcp_up() {
  local ns
  if ! ip netns exec "$CLI" test -e /proc/sys/net/mptcp/enabled; then
    log "this kernel has no MPTCP (no /proc/sys/net/mptcp): no MPTCP sink (MPTCP=0)"
    return 0
  fi
  MPTCP=1
  for ns in "$CLI" "$WR" "$CR" "$SRV"; do nsctl "$ns" net.mptcp.enabled 1; done
  for ns in "$CLI" "$SRV"; do ip -n "$ns" mptcp limits set subflows 8 add_addr_accepted 8; done
  start_daemon "$SRV" "$STATE/mptcp-sink.log" dotnet "$DLL" mptcp-sink --port "$SERVER_MPTCP_PORT" --pid-file "$STATE/mptcp-sink.pid"
}

mptcp_counters() {
  ip netns exec "$CLI" nft -f - <<EOF
add counter inet hemif_lab wlan0_mptcp
add counter inet hemif_lab rmnet0_mptcp
add rule inet hemif_lab output oifname "wlan0" tcp dport $SERVER_MPTCP_PORT counter name "wlan0_mptcp"
add rule inet hemif_lab output oifname "rmnet0" tcp dport $SERVER_MPTCP_PORT counter name "rmnet0_mptcp"
EOF
}

# Wi-Fi's routes in the client: the preferred default route and its source-address table. Idempotent
# (replace), because pulling the link down (switch wifi-down) deletes every route through it.
wifi_routes() {
  ip -n "$CLI" route replace default via "$WIFI_GW4" dev wlan0 metric 100
  ip -n "$CLI" -6 route replace default via "$WIFI_GW6" dev wlan0 metric 100
  ip -n "$CLI" route replace 198.18.1.0/24 dev wlan0 table 101
  ip -n "$CLI" route replace default via "$WIFI_GW4" dev wlan0 table 101
  ip -n "$CLI" -6 route replace 2001:db8:1::/64 dev wlan0 table 101
  ip -n "$CLI" -6 route replace default via "$WIFI_GW6" dev wlan0 table 101
}

# Undoes wifi-down: the link up again, its IPv6 address (a link going down loses it) and its routes.
wifi_link_restore() {
  ip -n "$CLI" link show wlan0 | grep -q '[<,]UP[,>]' && return 0
  ip -n "$CLI" link set wlan0 up
  ip -n "$CLI" addr replace "$WIFI_ADDR4/24" dev wlan0
  ip -n "$CLI" addr replace "$WIFI_ADDR6/64" dev wlan0 nodad
  wifi_routes
}
# --- end MPTCP ----------------------------------------------------------------------------------

nft_router() { ip netns exec "$1" nft "${@:2}"; }

reset_switches() {
  local ns
  wifi_link_restore
  for ns in "$WR" "$CR"; do
    ip -n "$ns" route flush table 100 2>/dev/null || true
    ip -n "$ns" -6 route flush table 100 2>/dev/null || true
    nft_router "$ns" flush chain inet hemif_lab input
    nft_router "$ns" flush chain inet hemif_lab forward
  done
  [ "$(cat "$STATE/wr-dns.mode" 2>/dev/null)" = normal ] && [ -f "$STATE/wr-dns.pid" ] || start_dns wr normal
  [ "$(cat "$STATE/cr-dns.mode" 2>/dev/null)" = normal ] && [ -f "$STATE/cr-dns.pid" ] || start_dns cr normal
}

apply_switch() {
  apply_quic_switch "$1" && return 0
  case $1 in
    healthy) ;;
    wifi-broken)
      # Silent loss beyond the Wi-Fi router: packets toward the server vanish (soft failure, timeouts).
      ip -n "$WR" route add blackhole "$SERVER_NET4" table 100
      ip -n "$WR" -6 route add blackhole "$SERVER_NET6" table 100 ;;
    wifi-hard-error)
      # The Wi-Fi router answers at once with ICMP destination unreachable (hard failure).
      ip -n "$WR" route add unreachable "$SERVER_NET4" table 100
      ip -n "$WR" -6 route add unreachable "$SERVER_NET6" table 100 ;;
    wifi-reset)
      # The Wi-Fi router answers every forwarded TCP SYN with a RST (hard failure, "connection refused").
      nft_router "$WR" add rule inet hemif_lab forward iifname client0 meta l4proto tcp reject with tcp reset ;;
    wifi-captive)
      # A captive network: its DNS answers every name with the portal, and nothing is forwarded
      # beyond the router until one logs in (the portal itself is on the router, so it answers).
      start_dns wr captive
      nft_router "$WR" add rule inet hemif_lab forward iifname client0 drop ;;
    v6-broken)
      # IPv6 is dropped (silently) by both routers; IPv4 still works.
      nft_router "$WR" add rule inet hemif_lab forward meta nfproto ipv6 drop
      nft_router "$CR" add rule inet hemif_lab forward meta nfproto ipv6 drop ;;
    dns-broken-wifi)
      # The Wi-Fi router's DNS gets queries and never answers.
      nft_router "$WR" add rule inet hemif_lab input udp dport 53 drop
      nft_router "$WR" add rule inet hemif_lab input tcp dport 53 drop ;;
    wifi-down)
      # Wi-Fi pulled: the client's wlan0 goes down (it loses its IPv6 address and every route through it,
      # as a phone leaving a Wi-Fi network does); healthy brings it back.
      ip -n "$CLI" link set wlan0 down ;;
    *) die "unknown switch '$1' (one of: $SWITCHES; combine with commas)" ;;
  esac
}

cmd_switch() {
  local run spec
  case $# in
    1) run=$(default_run); spec=$1 ;;
    2) run=$1; spec=$2 ;;
    *) die "usage: lab.sh switch [RUNID] NAME[,NAME...]" ;;
  esac
  valid_run "$run"; names "$run"
  [ -d "$STATE" ] && ns_exists "$CLI" || die "lab $run is not up"
  local one
  for one in ${spec//,/ }; do
    [[ " $SWITCHES " == *" $one "* ]] || die "unknown switch '$one' (one of: $SWITCHES; combine with commas)"
  done
  reset_switches
  for one in ${spec//,/ }; do apply_switch "$one"; done
  echo "$spec" >"$STATE/switch"
  echo "SWITCH=$spec"
}

cmd_count() {
  local run=${1:-$(default_run)} dev key
  valid_run "$run"; names "$run"
  ns_exists "$CLI" || die "lab $run is not up"
  for dev in wlan0 rmnet0; do
    key=WIFI; [ "$dev" = rmnet0 ] && key=CELL
    # Every frame the client sent on the interface (ARP and neighbour discovery included)...
    echo "${key}_TX_PACKETS=$(ip netns exec "$CLI" cat "/sys/class/net/$dev/statistics/tx_packets")"
    # ...and only its TCP and UDP packets (what a connection or a DNS query sends).
    echo "${key}_TRANSPORT_PACKETS=$(ip netns exec "$CLI" nft list counter inet hemif_lab "${dev}_transport" | awk '/packets/ {for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1)}')"
    # ...and only its packets to the MPTCP sink's port (every subflow of a connection to it).
    echo "${key}_MPTCP_PACKETS=$(ip netns exec "$CLI" nft list counter inet hemif_lab "${dev}_mptcp" | awk '/packets/ {for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1)}')"
  done
}

# Delay and loss of one client link, changed while the lab runs (the relay reads its control file every 20 ms); the
# chaos lab changes Wi-Fi in the middle of a race with it. The file keeps one line per link, so each link keeps its own.
cmd_link() {
  local run
  [ $# -ge 2 ] && [ $# -le 4 ] || die "usage: lab.sh link [RUNID] wlan0|rmnet0 DELAY_MS [LOSS_PCT]"
  if [[ "$1" == wlan0 || "$1" == rmnet0 ]]; then run=$(default_run); else run=$1; shift; fi
  local dev=$1 delay=$2 loss=${3:-0}
  valid_run "$run"; names "$run"
  [ -d "$STATE" ] && ns_exists "$CLI" || die "lab $run is not up"
  [[ "$dev" == wlan0 || "$dev" == rmnet0 ]] || die "link: '$dev' is not a client link (wlan0 or rmnet0)"
  [[ "$delay" =~ ^[0-9]+$ ]] || die "link: delay '$delay' is not whole milliseconds"
  [[ "$loss" =~ ^[0-9]+$ ]] && [ "$loss" -le 100 ] || die "link: loss '$loss' is not a percentage (0-100)"
  local file="$STATE/relay.control"
  { grep -v "^$dev " "$file" 2>/dev/null || true; echo "$dev delay_ms=$delay loss_pct=$loss"; } >"$file.tmp"
  mv "$file.tmp" "$file"
  echo "LINK=$dev DELAY_MS=$delay LOSS_PCT=$loss"
}

cmd_env() {
  local run=${1:-$(default_run)}
  valid_run "$run"; names "$run"
  [ -f "$STATE/lab.env" ] || die "lab $run is not up"
  cat "$STATE/lab.env"
  echo "SWITCH=$(cat "$STATE/switch")"
}

teardown() {
  local run=$1 ns pids i
  names "$run"
  # Every process inside our namespaces is ours (relay, servers, dnsmasq, probes): end them by id.
  for ns in "$CLI" "$WR" "$CR" "$SRV"; do
    ns_exists "$ns" || continue
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -z "$pids" ] || kill $pids 2>/dev/null || true
  done
  for i in $(seq 1 40); do
    pids=""
    for ns in "$CLI" "$WR" "$CR" "$SRV"; do
      ns_exists "$ns" && pids+=" $(ip netns pids "$ns" 2>/dev/null || true)"
    done
    [ -n "${pids// /}" ] || break
    sleep 0.05
  done
  [ -z "${pids// /}" ] || kill -9 $pids 2>/dev/null || true
  for ns in "$CLI" "$WR" "$CR" "$SRV"; do
    if ns_exists "$ns"; then ip netns del "$ns" || log "could not delete namespace $ns"; fi
    rm -rf "/etc/netns/$ns"
  done
  rm -rf "$STATE"
}

cmd_down() {
  [ $# -eq 1 ] || die "usage: lab.sh down RUNID"
  valid_run "$1"
  [ "$(id -u)" -eq 0 ] || die "the lab needs root"
  teardown "$1"
  echo "DOWN=$1"
}

cmd_list() { ls "$STATE_ROOT" 2>/dev/null || true; }

cmd_run() {
  local switch=healthy up_args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
      --switch) switch=${2:?}; shift 2 ;;
      *) up_args+=("$1"); shift ;;
    esac
  done
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || die "usage: lab.sh run [--switch NAME] [up options] -- CMD..."
  local line
  RUN_ENVFILE=$(mktemp)
  cmd_up "${up_args[@]}" >"$RUN_ENVFILE"
  # One-shot: whatever happens from here, the lab goes down with this script.
  trap 'teardown "$RUN"; rm -f "$RUN_ENVFILE"' EXIT
  trap 'exit 130' INT TERM
  while IFS= read -r line; do export "HEMIF_LAB_$line"; done <"$RUN_ENVFILE"
  cmd_switch "$RUN" "$switch" >/dev/null
  export HEMIF_LAB_SWITCH=$switch
  "$@"
}

main() {
  local command=${1:-}
  [ $# -gt 0 ] && shift
  case $command in
    up) cmd_up "$@" ;;
    switch) cmd_switch "$@" ;;
    count) cmd_count "$@" ;;
    link) cmd_link "$@" ;;
    env) cmd_env "$@" ;;
    down) cmd_down "$@" ;;
    run) cmd_run "$@" ;;
    list) cmd_list ;;
    *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
