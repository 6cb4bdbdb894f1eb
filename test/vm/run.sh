#!/usr/bin/env bash
# Boot the IPVS test VM (qemu, software emulation) and run SCRIPT in it; exit with the script's exit code.
#
#   bash test/vm/run.sh [-t SECONDS] [-e NAME=VALUE]... [-C DIR] SCRIPT [ARGS...]
#
# SCRIPT is a host path; the guest sees the host's root filesystem read-only at the same paths, with a
# tmpfs overlay on top (writes go to guest memory and vanish). It runs as root in DIR (default: the repo),
# with stdin from /dev/null; executable scripts are exec'd, others are run with bash. The guest has no
# network device. The guest's console is streamed to stdout (lines end in \n here, \r stripped); progress
# and timings go to stderr.
#
# Exit codes: the script's; 124 if the timeout (-t, or $VRRPD_VM_TIMEOUT, default 300 s) killed qemu;
# 125 if the VM failed before or around the script (no VRRPD_VM_EXIT marker); 126/127 for bad usage here.
# Environment: VRRPD_VM_MEM (MiB, default 2048), VRRPD_VM_SMP (default 2), VRRPD_VM_VERBOSE=1 (kernel
# messages), VRRPD_VM_NO_BUILD=1 (skip build.sh's up-to-date check), VRRPD_VM_CACHE (default .cache/vm),
# VRRPD_VM_ACCEL (default tcg: this machine's /dev/kvm does not work with stock kernels; kvm is untested).
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$VM_DIR/../.." && pwd)"
CACHE="${VRRPD_VM_CACHE:-$REPO/.cache/vm}"

usage() { sed -n '4p' "$0" | sed 's/^# *//' >&2; exit 126; }
timeout_s="${VRRPD_VM_TIMEOUT:-300}"
cwd="$REPO"
envs=()
while getopts 't:e:C:h' opt; do
  case "$opt" in
    t) timeout_s=$OPTARG ;;
    e) [[ "$OPTARG" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || { echo "run.sh: bad -e $OPTARG" >&2; exit 126; }
       envs+=("$OPTARG") ;;
    C) cwd=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
script=$(realpath -e -- "$1") || { echo "run.sh: no such script: $1" >&2; exit 127; }
shift
cwd=$(realpath -e -- "$cwd")
[[ "$timeout_s" =~ ^[0-9]+$ ]] || { echo "run.sh: bad timeout $timeout_s" >&2; exit 126; }

if [ -z "${VRRPD_VM_NO_BUILD:-}" ] || [ ! -f "$CACHE/env" ]; then
  bash "$VM_DIR/build.sh"
fi
# shellcheck disable=SC1091
. "$CACHE/env"

# The job: a shell script in the cache (visible to the guest through the shared root), removed on exit.
mkdir -p "$CACHE/jobs"
jobdir=$(mktemp -d "$CACHE/jobs/job.XXXXXX")
case "$jobdir$VM_MODDIR" in *[[:space:]]*) echo "run.sh: the cache path must not contain spaces" >&2; exit 126 ;; esac
{
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb'
  echo 'export VRRPD_VM=1'
  [ -n "${CI:-}" ] && printf 'export CI=%q\n' "$CI"
  for kv in ${envs[@]+"${envs[@]}"}; do printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"; done
  printf 'cd %q || exit 125\n' "$cwd"
  cmd=(bash "$script" "$@")
  [ -x "$script" ] && cmd=("$script" "$@")
  printf 'exec'; printf ' %q' "${cmd[@]}"; printf '\n'
} > "$jobdir/job.sh"

qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then kill "$qemu_pid" 2>/dev/null || true; fi
  rm -rf "$jobdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

append="console=ttyS0 panic=-1 oops=panic reboot=t mitigations=off tsc=reliable no_timer_check"
append+=" vrrpd_job=$jobdir/job.sh vrrpd_moddir=$VM_MODDIR"
[ -n "${VRRPD_VM_VERBOSE:-}" ] || append+=" quiet loglevel=3"

# No network device at all (-nodefaults, no -nic): the tests build their topologies from network
# namespaces and veth pairs inside the guest, and nothing can leave it.
qemu=(qemu-system-x86_64 -nodefaults -no-user-config -accel "${VRRPD_VM_ACCEL:-tcg}" -cpu max -M pc -bios "$VM_QBOOT"
  -m "${VRRPD_VM_MEM:-2048}" -smp "${VRRPD_VM_SMP:-2}" -display none -monitor none -serial stdio -no-reboot
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
  -kernel "$VM_KERNEL" -initrd "$VM_INITRD" -append "$append")

mkfifo "$jobdir/console"
start=$(date +%s%N)
timeout -k 5 "$timeout_s" "${qemu[@]}" < /dev/null > "$jobdir/console" 2>&1 &
qemu_pid=$!

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
fmt_ms() { printf '%d.%01d s' $(($1 / 1000)) $((($1 % 1000) / 100)); }
code=""
ready_ms=""
while IFS= read -r line || [ -n "$line" ]; do
  line=${line//$'\r'/}
  case "$line" in
    *'] reboot: Power down') continue ;;
    *VRRPD_VM_READY*) ready_ms=$(ms_since "$start"); continue ;;
    *VRRPD_VM_EXIT=*) code=${line##*VRRPD_VM_EXIT=}; code=${code%%[!0-9]*}
      pre=${line%VRRPD_VM_EXIT=*}; [ -z "$pre" ] || printf '%s\n' "$pre" ;;
    *) printf '%s\n' "$line" ;;
  esac
done < "$jobdir/console"
set +e
wait "$qemu_pid"
qrc=$?
set -e
qemu_pid=""
total_ms=$(ms_since "$start")

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
  echo "vm: timed out after ${timeout_s} s (qemu killed)" >&2
  exit 124
fi
if [ -z "$code" ]; then
  echo "vm: the guest ended without an exit marker (qemu exit $qrc): boot or init failure" >&2
  exit 125
fi
if [ -n "$ready_ms" ]; then
  echo "vm: boot $(fmt_ms "$ready_ms"), job $(fmt_ms $((total_ms - ready_ms))), total $(fmt_ms "$total_ms"); exit $code" >&2
fi
exit "$code"
