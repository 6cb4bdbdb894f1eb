#!/usr/bin/env bash
# Build (once, cached) a bare Debian root for the package test: debootstrap's default variant (what a Debian server
# install has before any task: systemd, apt, procps; no compiler, no npm, no Node). Prints the root's path.
#
#   bash test/pkg/root.sh [SUITE]        # SUITE: bookworm (default) or trixie; cached in .cache/pkg/SUITE-root
#   VRRPD_PKG_ROOT_METHOD=download ...   # force the fallback (below) instead of debootstrap
#
# Fallback when debootstrap cannot reach the repository (e.g. only apt's proxy/mirror configuration works): apt on
# this host resolves the same package set against an empty dpkg status and downloads it (`apt-get download`, as
# test/vm/build.sh does), the packages are unpacked and then configured with dpkg inside the root. Same suite only.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SUITE="${1:-bookworm}"
CACHE="${VRRPD_PKG_CACHE:-$REPO/.cache/pkg}"
ROOT="$CACHE/$SUITE-root"
MIRROR="${VRRPD_PKG_MIRROR:-http://deb.debian.org/debian}"
export DEBIAN_FRONTEND=noninteractive
log() { printf 'pkg-root: %s\n' "$*" >&2; }
die() { printf 'pkg-root: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$SUITE"
flock 9
if [ -f "$ROOT/.stamp" ]; then
  echo "$ROOT"
  exit 0
fi
rm -rf "$ROOT.new"

by_debootstrap() {
  command -v debootstrap >/dev/null || { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends debootstrap >&2; } || return 1
  log "debootstrap $SUITE from $MIRROR (a few minutes)"
  debootstrap "$SUITE" "$ROOT.new" "$MIRROR" >&2 || return 1
  echo "debootstrap $SUITE $MIRROR" > "$ROOT.new/.stamp"
}

by_download() {
  . /etc/os-release
  [ "$VERSION_CODENAME" = "$SUITE" ] || die "the download fallback builds only this host's suite ($VERSION_CODENAME)"
  local dl="$CACHE/$SUITE-debs" state="$CACHE/$SUITE-state"
  rm -rf "$dl" "$state"
  mkdir -p "$dl/partial" "$state"
  : > "$state/status"
  # debootstrap's default set: Priority required and important, and apt.
  local pkgs
  pkgs=$(apt-cache dumpavail | awk '/^Package:/ { p = $2 } /^Priority: (required|important)$/ { print p }' | sort -u)
  log "resolving and downloading $(echo "$pkgs" | wc -l) packages and their dependencies"
  # shellcheck disable=SC2086
  apt-get install -y -qq --download-only -o Dir::State::status="$state/status" -o Dir::Cache::archives="$dl" \
    -o APT::Sandbox::User=root -o APT::Install-Recommends=false $pkgs apt >&2 || return 1
  mkdir -p "$ROOT.new"
  log "unpacking $(ls "$dl"/*.deb | wc -l) packages"
  for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$ROOT.new"; done
  # Merged /usr as Debian 12 has it (the packages still ship some files under /bin, /lib...).
  for d in bin sbin lib lib64; do
    if [ -d "$ROOT.new/$d" ] && [ ! -L "$ROOT.new/$d" ]; then
      mkdir -p "$ROOT.new/usr/$d" && cp -a "$ROOT.new/$d/." "$ROOT.new/usr/$d/" && rm -rf "${ROOT:?}.new/$d"
    fi
    ln -sfn "usr/$d" "$ROOT.new/$d"
  done
  mkdir -p "$ROOT.new/var/lib/dpkg/updates" "$ROOT.new/var/lib/dpkg/info" "$ROOT.new/debs"
  : > "$ROOT.new/var/lib/dpkg/status"
  : > "$ROOT.new/var/lib/dpkg/available"
  cp "$dl"/*.deb "$ROOT.new/debs/"
  log "configuring with dpkg in the root"
  unshare --mount --propagation private sh -c "mount -t proc proc '$ROOT.new/proc' && \
    chroot '$ROOT.new' /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c 'dpkg --force-depends --force-confdef -i /debs/*.deb'" >&2 || return 1
  rm -rf "$ROOT.new/debs" "$dl" "$state"
  echo "apt-get download (host lists) $SUITE" > "$ROOT.new/.stamp"
}

if [ "${VRRPD_PKG_ROOT_METHOD:-debootstrap}" = download ] || ! by_debootstrap; then
  [ "${VRRPD_PKG_ROOT_METHOD:-debootstrap}" = download ] || log "debootstrap failed: assembling the root from apt-get downloads"
  rm -rf "$ROOT.new"
  by_download || die "could not build a $SUITE root"
fi
# No apt lists in the root: the package must install with what is in the .deb and the base system.
rm -rf "$ROOT.new/var/lib/apt/lists/"* "$ROOT.new/var/cache/apt/"*.bin "$ROOT.new/var/cache/apt/archives/"*.deb
mv "$ROOT.new" "$ROOT"
log "ready: $ROOT ($(du -sh "$ROOT" | cut -f1))"
echo "$ROOT"
