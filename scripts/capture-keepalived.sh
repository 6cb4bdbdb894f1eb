#!/usr/bin/env bash
# capture-keepalived.sh - record real VRRP adverts sent by Debian's keepalived
# into pcap files used as byte-exact test fixtures.
#
# Usage (as root, on a Debian host with keepalived, tcpdump and iproute2):
#   bash scripts/capture-keepalived.sh            # all captures
#   bash scripts/capture-keepalived.sh v2 v3      # only the named captures
#
# Network safety: everything happens inside two network namespaces created
# by this script (names kacap<PID>a / kacap<PID>b) and joined by one veth
# pair. Nothing is created in, or sent from, the root namespace. keepalived
# runs only in namespace A; tcpdump runs only in namespace B. Every wait is
# bounded, and an EXIT trap kills the processes this script started (by PID)
# and deletes the namespaces, also on failure or Ctrl-C.
#
# Topology (fixed MACs so captures are reproducible):
#   ns A  eth1 02:00:00:00:01:51  172.16.1.251/24  fd00:1::251/64  (keepalived)
#   ns B  eth1 02:00:00:00:01:52  172.16.1.252/24  fd00:1::252/64  (tcpdump)
#
# keepalived versions: the captures use Debian 12's own keepalived (2.2.7),
# except v3-nopseudo and v3-ka233, which need `v3_checksum_as_v2` (added in
# keepalived 2.2.8, so absent from Debian 12). For those the script downloads
# Debian 13 (trixie)'s keepalived 2.3.3 .deb plus the few trixie libraries it
# needs with `apt-get download` (private APT config and cache under a temp
# dir: the host's apt sources/state are not touched), unpacks them under the
# temp dir and runs that binary through trixie's own ld.so. /etc/keepalived
# of the trixie package is bind-mounted only inside the private mount
# namespace `ip netns exec` creates. Set KA_NO_TRIXIE=1 to skip those two.
#
# Output: test/fixtures/keepalived/<name>.pcap and <name>.conf (the exact
# keepalived.conf used for that capture). README.md there is hand-written and
# is not touched by this script.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/test/fixtures/keepalived
NSA=kacap$$a
NSB=kacap$$b
MAC_A=02:00:00:00:01:51
MAC_B=02:00:00:00:01:52
TMP=$(mktemp -d /tmp/kacap.XXXXXX)
KA_PID=""   # pid of the `timeout ... keepalived` wrapper
TD_PID=""   # pid of the `timeout ... tcpdump` wrapper
KA_PIDFILE=""

for tool in keepalived tcpdump ip timeout; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }

log() { printf '[capture] %s\n' "$*" >&2; }

# true while $1 is a live (non-zombie) process
alive() {
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
    local st
    st=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

# stop_pid PID SIG SECS: send SIG, wait up to SECS, then SIGKILL; reap.
stop_pid() {
    local pid=$1 sig=${2:-TERM} secs=${3:-10} i
    [ -n "$pid" ] || return 0
    kill -s "$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        log "pid $pid did not exit after SIG$sig, killing"
        kill -s KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# wait_for FILE REGEX SECS: wait until FILE contains REGEX (bounded).
wait_for() {
    local file=$1 re=$2 secs=$3 i
    for ((i = 0; i < secs * 10; i++)); do
        grep -qE "$re" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

teardown_ns() {
    local ns pid
    for ns in "$NSA" "$NSB"; do
        ip netns list 2>/dev/null | grep -qw "^$ns" || continue
        # Anything still running inside our own namespaces was started by us.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -s TERM "$pid" 2>/dev/null || true
        done
        sleep 0.2
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -s KILL "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
}

cleanup() {
    local rc=$?
    set +e
    if [ -n "$KA_PIDFILE" ] && [ -s "$KA_PIDFILE" ]; then
        stop_pid "$(cat "$KA_PIDFILE")" TERM 5
    fi
    stop_pid "$KA_PID" TERM 5
    stop_pid "$TD_PID" TERM 5
    teardown_ns
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

setup_ns() {
    teardown_ns
    local ns
    for ns in "$NSA" "$NSB"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # no DAD, no router solicitations: keep IPv6 quiet and immediate
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
            net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.default.router_solicitations=0
    done
    # veth pair created directly inside the namespaces: eth1 (A) <-> eth1 (B)
    ip -n "$NSA" link add eth1 address "$MAC_A" type veth \
        peer name eth1 address "$MAC_B" netns "$NSB"
    ip -n "$NSA" addr add 172.16.1.251/24 dev eth1
    ip -n "$NSB" addr add 172.16.1.252/24 dev eth1
    ip -n "$NSA" addr add fd00:1::251/64 dev eth1 nodad
    ip -n "$NSB" addr add fd00:1::252/64 dev eth1 nodad
    ip -n "$NSA" link set eth1 up
    ip -n "$NSB" link set eth1 up
}

# ------------------------------------------------- trixie keepalived 2.3.3
TRX=""   # unpacked trixie root, set by fetch_trixie
fetch_trixie() {
    [ -n "$TRX" ] && return 0
    local d=$TMP/trixie
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/debs" "$d/root"
    echo 'deb http://deb.debian.org/debian trixie main' >"$d/sources.list"
    printf '%s\n' \
        "Dir::Etc::SourceList \"$d/sources.list\";" \
        'Dir::Etc::SourceParts "/nonexistent";' \
        "Dir::State::Lists \"$d/lists\";" \
        "Dir::Cache \"$d/cache\";" \
        'Dir::State::status "/dev/null";' \
        'APT::Sandbox::User "root";' >"$d/apt.conf"
    log "fetching Debian 13 keepalived into $d (private apt config)"
    APT_CONFIG=$d/apt.conf timeout 300 apt-get -qq update >&2
    (cd "$d/debs" && APT_CONFIG=$d/apt.conf timeout 300 apt-get -qq download \
        keepalived libc6 libglib2.0-0t64 libmnl0 libnftnl11 libnl-3-200 \
        libnl-genl-3-200 libpcre2-8-0 libsnmp40t64 libssl3t64 libsystemd0 \
        libperl5.40 libmount1 libblkid1 libselinux1 >&2)
    local deb
    for deb in "$d"/debs/*.deb; do dpkg-deb -x "$deb" "$d/root"; done
    TRX=$d/root
}

# keepalived command line prefix for "bookworm" (system) or "trixie"
ka_cmd() {
    if [ "$1" = trixie ]; then
        local lib=$TRX/usr/lib/x86_64-linux-gnu
        # runs inside `ip netns exec`'s private mount namespace
        KA=(sh -c 'mount --bind "$0" /etc/keepalived && exec "$@"'
            "$TRX/etc/keepalived" "$lib/ld-linux-x86-64.so.2"
            --library-path "$lib:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu"
            "$TRX/usr/sbin/keepalived")
    else
        KA=(keepalived)
    fi
}

# capture NAME [key=value ...]
#   mode=normal|prio0   prio0: SIGTERM keepalived while capturing, so the
#                       priority-0 advert is recorded
#   iface=eth1|any      capture interface in namespace B
#   linktype=DLT        tcpdump -y value (e.g. LINUX_SLL)
#   secs=N              seconds to keep capturing after MASTER is entered
#   filter=EXPR         tcpdump filter
#   ka=bookworm|trixie  which Debian's keepalived to run (default bookworm)
#   forwarding=1        IPv6 forwarding on in namespace A (keepalived then sets
#                       the Router flag in its unsolicited NAs)
capture() {
    local name=$1; shift
    local mode=normal iface=eth1 linktype="" secs=4 ka=bookworm forwarding=0
    local filter='ip proto 112 or ip6 proto 112 or arp'
    local kv
    for kv in "$@"; do
        case $kv in
            mode=*) mode=${kv#*=} ;;
            iface=*) iface=${kv#*=} ;;
            linktype=*) linktype=${kv#*=} ;;
            secs=*) secs=${kv#*=} ;;
            filter=*) filter=${kv#*=} ;;
            ka=*) ka=${kv#*=} ;;
            forwarding=*) forwarding=${kv#*=} ;;
            *) echo "bad option $kv" >&2; return 1 ;;
        esac
    done
    local conf=$OUT/$name.conf pcap=$TMP/$name.pcap
    [ -f "$conf" ] || { echo "no config $conf" >&2; return 1; }
    log "=== $name (mode=$mode iface=$iface${linktype:+ linktype=$linktype} keepalived=$ka)"
    [ "$ka" = trixie ] && fetch_trixie
    local -a KA
    ka_cmd "$ka"

    setup_ns
    if [ "$forwarding" = 1 ]; then
        ip netns exec "$NSA" sysctl -qw net.ipv6.conf.all.forwarding=1
    fi
    # (always via ip netns exec: the trixie wrapper bind-mounts /etc/keepalived,
    # which must only ever happen in that private mount namespace)
    timeout 20 ip netns exec "$NSA" "${KA[@]}" --version 2>&1 | head -n 1 |
        sed 's/^/    /' >&2 || true
    # sanity-check the config (in namespace A, never in the root namespace)
    # (-t exits non-zero on warnings too, e.g. the auth_pass truncation, so
    # only report here; a real error shows up as keepalived not becoming MASTER)
    if ! timeout 20 ip netns exec "$NSA" "${KA[@]}" -t -f "$conf" >"$TMP/$name.check" 2>&1; then
        sed 's/^/    config-test: /' "$TMP/$name.check" >&2
    fi

    local -a ty=()
    [ -n "$linktype" ] && ty=(-y "$linktype")
    timeout 60 ip netns exec "$NSB" tcpdump -n -U --immediate-mode -s 0 -i "$iface" "${ty[@]}" \
        -c 300 -w "$pcap" "$filter" >"$TMP/$name.tcpdump.log" 2>&1 &
    TD_PID=$!
    wait_for "$TMP/$name.tcpdump.log" 'listening on' 10 || {
        cat "$TMP/$name.tcpdump.log" >&2; return 1; }
    sleep 0.3

    KA_PIDFILE=$TMP/$name.keepalived.pid
    timeout 60 ip netns exec "$NSA" "${KA[@]}" -n -l -D -G -P \
        -f "$conf" -p "$KA_PIDFILE" -r "$TMP/$name.vrrp.pid" \
        >"$TMP/$name.keepalived.log" 2>&1 &
    KA_PID=$!
    if ! wait_for "$TMP/$name.keepalived.log" 'Entering MASTER STATE' 20; then
        cat "$TMP/$name.keepalived.log" >&2
        return 1
    fi
    sleep "$secs"

    local kapid=""
    wait_for "$KA_PIDFILE" '[0-9]' 5 && kapid=$(cat "$KA_PIDFILE")
    if [ "$mode" = prio0 ]; then
        # like `systemctl stop keepalived`: SIGTERM to the parent process only
        stop_pid "${kapid:-$KA_PID}" TERM 10
        stop_pid "$KA_PID" TERM 5
        sleep 1.5
        stop_pid "$TD_PID" TERM 10
    else
        stop_pid "$TD_PID" TERM 10
        stop_pid "${kapid:-$KA_PID}" TERM 10
        stop_pid "$KA_PID" TERM 5
    fi
    KA_PID="" TD_PID="" KA_PIDFILE=""
    teardown_ns

    grep -E 'Entering|Truncat|truncat|password|WARNING|Warning|error|Error' \
        "$TMP/$name.keepalived.log" | sed 's/^/    ka: /' >&2 || true
    tail -n 2 "$TMP/$name.tcpdump.log" | sed 's/^/    tcpdump: /' >&2
    cp "$pcap" "$OUT/$name.pcap"
    cp "$TMP/$name.keepalived.log" "$OUT/$name.keepalived.log"
}

# ---------------------------------------------------------------- configs
mkdir -p "$OUT"

write_conf() { cat >"$OUT/$1.conf"; }

# instance_v4 VERSION ADVERT_INT EXTRA: one IPv4 instance, VRID 100, prio 100
write_v4() {
    local name=$1 version=$2 advert=$3 extra=${4:-} vips=${5:-    192.168.1.250}
    write_conf "$name" <<EOF
# $name: keepalived fixture config (see README.md)
global_defs {
    router_id kacap-$name
    vrrp_version $version
}

vrrp_instance VI_1 {
    state MASTER
    interface eth1
    virtual_router_id 100
    priority 100
    advert_int $advert
$extra    virtual_ipaddress {
$vips
    }
}
EOF
}

gen_configs() {
    # 1. v2, two VIPs in the advert, one excluded VIP (not in the advert)
    write_conf v2 <<'EOF'
# v2: keepalived fixture config (see README.md)
global_defs {
    router_id kacap-v2
    vrrp_version 2
}

vrrp_instance VI_1 {
    state MASTER
    interface eth1
    virtual_router_id 100
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.168.1.250
        192.168.1.100
    }
    virtual_ipaddress_excluded {
        192.168.1.99
    }
}
EOF
    # 2. v2 with simple password auth (10-char password, 8 chars used)
    write_v4 v2-pass 2 1 '    authentication {
        auth_type PASS
        auth_pass $up3r$3(r37
    }
'   '        192.168.1.250'
    # 3. v3
    write_v4 v3 3 1 '' '        192.168.1.250'
    write_v4 v3-100ms 3 0.1 '' '        192.168.1.250'
    # 4. v3 with the old unicast checksum (keepalived 2.2.7 has no
    #    v3_checksum_as_v2; old_unicast_checksum is the closest knob)
    write_v4 v3-unicast 3 1 '    unicast_src_ip 172.16.1.251
    unicast_peer {
        172.16.1.252
    }
' '        192.168.1.250'
    write_v4 v3-unicast-oldchksum 3 1 '    unicast_src_ip 172.16.1.251
    unicast_peer {
        172.16.1.252
    }
    old_unicast_checksum
' '        192.168.1.250'
    # 4b. the real v3_checksum_as_v2 (needs keepalived >= 2.2.8: Debian 13's
    #     2.3.3), plus the same instance without it for comparison
    write_v4 v3-nopseudo 3 1 '    v3_checksum_as_v2
' '        192.168.1.250'
    write_v4 v3-ka233 3 1 '' '        192.168.1.250'
    # 5. v2 unicast
    write_v4 v2-unicast 2 1 '    unicast_src_ip 172.16.1.251
    unicast_peer {
        172.16.1.252
    }
' '        192.168.1.250'
    # 6. v2, stopped with SIGTERM while MASTER (priority-0 advert)
    write_v4 v2-prio0 2 1 '' '        192.168.1.250'
    # 7. v3 over IPv6
    write_conf v3-ipv6 <<'EOF'
# v3-ipv6: keepalived fixture config (see README.md)
global_defs {
    router_id kacap-v3-ipv6
    vrrp_version 3
}

vrrp_instance VI_6 {
    state MASTER
    interface eth1
    virtual_router_id 100
    priority 100
    advert_int 1
    virtual_ipaddress {
        fd00:1::250/64
    }
}
EOF
    # 7b. the same with IPv6 forwarding on in namespace A (a router: NA R flag)
    sed 's/kacap-v3-ipv6/kacap-v3-ipv6-router/; s/^# v3-ipv6:/# v3-ipv6-router:/' \
        "$OUT/v3-ipv6.conf" >"$OUT/v3-ipv6-router.conf"
    # 8. v2 captured on the "any" device (cooked capture)
    write_v4 v2-sll 2 1 '' '        192.168.1.250'
    cp "$OUT/v2-sll.conf" "$OUT/v2-sll1.conf"
    sed -i 's/kacap-v2-sll/kacap-v2-sll1/; s/^# v2-sll:/# v2-sll1:/' "$OUT/v2-sll1.conf"
}

run() {
    case $1 in
        v2) capture v2 secs=7 ;;            # long enough for the 2nd GARP burst
        v2-pass) capture v2-pass ;;
        v3) capture v3 ;;
        v3-100ms) capture v3-100ms secs=1 ;;
        v3-unicast) capture v3-unicast ;;
        v3-unicast-oldchksum) capture v3-unicast-oldchksum ;;
        v3-nopseudo) capture v3-nopseudo ka=trixie ;;
        v3-ka233) capture v3-ka233 ka=trixie ;;
        v2-unicast) capture v2-unicast ;;
        v2-prio0) capture v2-prio0 mode=prio0 secs=3 ;;
        v3-ipv6) capture v3-ipv6 \
            filter='ip6 proto 112 or (icmp6 and ip6[40] == 136)' ;;
        v3-ipv6-router) capture v3-ipv6-router forwarding=1 \
            filter='ip6 proto 112 or (icmp6 and ip6[40] == 136)' ;;
        v2-sll) capture v2-sll iface=any secs=3 ;;
        v2-sll1) capture v2-sll1 iface=any linktype=LINUX_SLL secs=3 ;;
        *) echo "unknown capture $1" >&2; return 1 ;;
    esac
}

gen_configs
ALL=(v2 v2-pass v3 v3-100ms v3-unicast v3-unicast-oldchksum v2-unicast
     v2-prio0 v3-ipv6 v3-ipv6-router v2-sll v2-sll1)
[ -n "${KA_NO_TRIXIE:-}" ] || ALL+=(v3-nopseudo v3-ka233)
if [ $# -gt 0 ]; then ALL=("$@"); fi
for c in "${ALL[@]}"; do
    run "$c"
done
log "keepalived version: $(keepalived --version 2>&1 | head -n 1)"
log "done: $OUT"
