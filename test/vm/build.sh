#!/usr/bin/env bash
# Build (idempotently) what test/vm/run.sh boots: a Debian kernel that has IPVS, its uncompressed vmlinux,
# and a tiny busybox initramfs. Everything is cached under .cache/vm/ in the repo; see test/vm/README.md.
#
#   bash test/vm/build.sh          # prints nothing but progress on stderr; exit 0 when ready
#   VRRPD_VM_REFRESH=1 bash ...    # re-resolve and re-download the kernel even if one is cached
#
# Needs root the first time (apt-get). Reaches only Debian's apt repositories.
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$VM_DIR/../.." && pwd)"
CACHE="${VRRPD_VM_CACHE:-$REPO/.cache/vm}"
export DEBIAN_FRONTEND=noninteractive

log() { printf 'vm-build: %s\n' "$*" >&2; }
die() { printf 'vm-build: error: %s\n' "$*" >&2; exit 1; }

# Modules the initramfs loads before running the job: the root mount (9p over virtio, overlay), IPVS and
# its schedulers, and what network-namespace topologies use. Their dependencies are added automatically.
# Anything else can be loaded in the guest with plain `modprobe` (the whole module tree is bind-mounted).
BOOT_MODULES=(
  virtio_pci 9pnet_virtio 9p overlay
  nf_conntrack ip_vs
  ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq
  ip_vs_fo ip_vs_ovf ip_vs_mh
  veth bridge dummy
)
# Parameters for some of them: no dummy0 appears by itself (tests create their own devices).
declare -A MODULE_PARAMS=([dummy]="numdummies=0")
# Module directories never needed by a headless network test VM: not unpacked into the cache (~150 MB).
PRUNE=(sound drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging)

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one builder at a time; concurrent run.sh calls wait here, then find everything built

# --- host packages -------------------------------------------------------------------------------------
# qemu-system-x86 (pulls qemu-system-data: qboot.rom), busybox-static (the initramfs), kmod (depmod and
# modprobe for the module closure; modprobe in the guest), ipvsadm (run in the guest from the host root).
apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    apt_updated=1
  fi
}
need=()
for pkg in qemu-system-x86 busybox-static kmod ipvsadm xz-utils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need+=("$pkg")
done
if ((${#need[@]})); then
  [ "$(id -u)" = 0 ] || die "missing packages (${need[*]}): run this once as root, or apt-get install them"
  apt_update_once
  log "apt-get install ${need[*]}"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 || die "apt-get install ${need[*]} failed"
fi
QBOOT=/usr/share/qemu/qboot.rom
[ -f "$QBOOT" ] || die "$QBOOT is missing (package qemu-system-data)"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "no $BUSYBOX (package busybox-static)"

# --- the kernel package --------------------------------------------------------------------------------
# The versioned package that the linux-image-amd64 metapackage depends on, e.g. linux-image-6.1.0-56-amd64.
resolve_kernel_pkg() {
  if [ -n "${VRRPD_VM_KERNEL_PKG:-}" ]; then echo "$VRRPD_VM_KERNEL_PKG"; return; fi
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
kernel_pkg_version() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }'; }

KDIR="$CACHE/kernel"
have_kernel=0
[ -f "$KDIR/.stamp" ] && have_kernel=1
want_pkg=""
# Asking apt costs ~1 s: only when apt's package lists changed since the cached kernel was fetched.
if [ "$have_kernel" = 0 ] || [ -n "${VRRPD_VM_REFRESH:-}" ] || [ -n "${VRRPD_VM_KERNEL_PKG:-}" ] \
  || [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -newer "$KDIR/.stamp" -print -quit 2>/dev/null)" ]; then
  want_pkg=$(resolve_kernel_pkg || true)
fi
if [ -z "$want_pkg" ] && { [ "$have_kernel" = 0 ] || [ -n "${VRRPD_VM_REFRESH:-}" ]; }; then
  [ "$(id -u)" = 0 ] || die "apt knows no linux-image-amd64 and no kernel is cached: run as root once"
  apt_update_once
  want_pkg=$(resolve_kernel_pkg || true)
  [ -n "$want_pkg" ] || die "apt has no linux-image-amd64 (is Debian's main component configured?)"
fi
want_stamp=""
if [ -n "$want_pkg" ]; then
  want_ver=$(kernel_pkg_version "$want_pkg")
  want_stamp="$want_pkg=$want_ver"
fi

if [ "$have_kernel" = 0 ] || { [ -n "$want_stamp" ] && [ "$(cat "$KDIR/.stamp")" != "$want_stamp" ]; }; then
  [ -n "$want_pkg" ] || die "cannot resolve the kernel package"
  log "fetching $want_stamp"
  dl="$CACHE/download"
  rm -rf "$dl" "$KDIR.new"
  mkdir -p "$dl"
  # -o APT::Sandbox::User=root: the download dir belongs to root, not _apt (avoids a warning, same result).
  # Stale package lists name a version the mirror no longer has: update them, re-resolve, retry once.
  if ! (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$want_pkg" >&2); then
    [ "$apt_updated" = 0 ] && [ "$(id -u)" = 0 ] || die "apt-get download $want_pkg failed"
    apt_update_once
    want_pkg=$(resolve_kernel_pkg || true)
    [ -n "$want_pkg" ] || die "apt has no linux-image-amd64"
    (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$want_pkg" >&2) || die "apt-get download $want_pkg failed"
  fi
  deb=$(ls "$dl"/*.deb)
  log "unpacking $(basename "$deb")"
  dpkg-deb -x "$deb" "$KDIR.new"
  krel=$(ls "$KDIR.new/lib/modules" | head -1)
  [ -n "$krel" ] && [ -f "$KDIR.new/boot/vmlinuz-$krel" ] || die "unexpected layout in $deb"
  for p in "${PRUNE[@]}"; do rm -rf "${KDIR:?}.new/lib/modules/$krel/kernel/$p"; done
  log "depmod $krel"
  depmod -b "$KDIR.new" "$krel"
  printf '%s\n' "$krel" > "$KDIR.new/.release"
  printf '%s=%s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" > "$KDIR.new/.stamp"
  rm -rf "$KDIR" "$dl"
  mv "$KDIR.new" "$KDIR"
fi
KREL=$(cat "$KDIR/.release")
MODDIR="$KDIR/lib/modules/$KREL"

# --- vmlinux: the uncompressed kernel (skips the in-guest decompression, ~3 s under TCG) ----------------
# Like the kernel's scripts/extract-vmlinux: find each compression magic in the bzImage, try to decompress
# from there, keep the first result that is an ELF file.
extract_vmlinux() {
  local img=$1 out=$2 tmp="$2.tmp" magic cmd off
  local -a tries=(
    '\xfd7zXZ\x00|xz -dc'
    '\x1f\x8b\x08|gzip -dc'
    '\x28\xb5\x2f\xfd|zstd -dc'
    'BZh|bzip2 -dc'
    '\x5d\x00\x00\x00|xz -dc --format=lzma'
    '\x02\x21\x4c\x18|lz4 -dc'
  )
  for t in "${tries[@]}"; do
    magic=${t%%|*}
    cmd=${t#*|}
    command -v "${cmd%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$img" 2>/dev/null | cut -d: -f1 | head -20); do
      tail -c +"$((off + 1))" "$img" | $cmd > "$tmp" 2>/dev/null || true # trailing garbage is expected
      if [ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
        mv "$tmp" "$out"
        return 0
      fi
    done
  done
  rm -f "$tmp"
  return 1
}
VMLINUX="$CACHE/vmlinux"
if [ ! -f "$VMLINUX" ] || [ "$KDIR/.stamp" -nt "$VMLINUX" ]; then
  log "extracting vmlinux from vmlinuz-$KREL"
  extract_vmlinux "$KDIR/boot/vmlinuz-$KREL" "$VMLINUX" || die "could not extract vmlinux from vmlinuz-$KREL"
fi

# --- initramfs -----------------------------------------------------------------------------------------
# Rebuilt when any input changes: the kernel, busybox, test/vm/init or this script (the module list).
INITRD="$CACHE/initramfs.cpio"
inputs=$( {
  cat "$KDIR/.stamp"
  sha256sum "$BUSYBOX" "$VM_DIR/init" "$VM_DIR/build.sh"
  printf '%s\n' "${BOOT_MODULES[@]}"
} | sha256sum | cut -d' ' -f1)
if [ ! -f "$INITRD" ] || [ "$(cat "$INITRD.inputs" 2>/dev/null)" != "$inputs" ]; then
  log "building the initramfs"
  stage="$CACHE/initramfs.stage"
  rm -rf "$stage"
  mkdir -p "$stage"/{bin,dev,proc,sys,lower,rw,newroot,lib/modules}
  cp "$BUSYBOX" "$stage/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
  done
  install -m 0755 "$VM_DIR/init" "$stage/init"
  # The module closure in load order (modprobe prints insmod lines, dependencies first), each once.
  : > "$stage/modules.list"
  declare -A seen=()
  for m in "${BOOT_MODULES[@]}"; do
    deps=$(modprobe -d "$KDIR" -S "$KREL" --show-depends "$m") || die "module $m not found in $KREL"
    while read -r kind path _; do
      [ "$kind" = insmod ] || continue # "builtin X" needs nothing
      rel=${path#"$MODDIR"/}
      [ -z "${seen[$rel]:-}" ] || continue
      seen[$rel]=1
      mkdir -p "$stage/lib/modules/$(dirname "$rel")"
      cp "$path" "$stage/lib/modules/$rel"
      name=$(basename "$rel" .ko)
      echo "/lib/modules/$rel ${MODULE_PARAMS[$name]:-}" >> "$stage/modules.list"
    done <<< "$deps"
  done
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  echo "$inputs" > "$INITRD.inputs"
  log "initramfs: $(wc -l < "$stage/modules.list") modules, $(($(stat -c %s "$INITRD") / 1024)) KiB"
  rm -rf "$stage"
fi

# What run.sh needs, as shell assignments.
cat > "$CACHE/env.tmp" <<EOF
VM_KERNEL=$VMLINUX
VM_INITRD=$INITRD
VM_MODDIR=$MODDIR
VM_KREL=$KREL
VM_QBOOT=$QBOOT
EOF
mv "$CACHE/env.tmp" "$CACHE/env"
