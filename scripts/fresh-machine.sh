#!/usr/bin/env bash
# Runs the README's two commands on a fresh Debian 12 root, from a clean clone:
# debootstrap bookworm into a folder, chroot into it with /proc, /dev and the Rust
# toolchain (~/.rustup, ~/.cargo, read-only) bind-mounted, `git clone` this repository,
# then `bash scripts/demo.sh` (checks the demo's outputs exist) and, unless
# FRESH_SKIP_TESTS=1, `bash scripts/test.sh` with SPYGLASS_SKIP_SPYGLASS_INTEROP=1.
# Prints the time each part took. Needs root. Usage: scripts/fresh-machine.sh [DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/spyglass-fresh-root}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "fresh-machine: needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }

t0=$(date +%s)
if [ ! -x "$dir/bin/bash" ]; then
  debootstrap --variant=minbase --include=ca-certificates,git,sudo,python3,python3-venv bookworm "$dir" "$mirror"
fi
t_boot=$(( $(date +%s) - t0 ))

mounts=()
bind() { mkdir -p "$dir$2"; mount --bind "$1" "$dir$2"; mounts+=("$dir$2"); [ "${3:-}" = ro ] && mount -o remount,bind,ro "$dir$2"; return 0; }
cleanup() { for ((i=${#mounts[@]}-1; i>=0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
mount -t proc proc "$dir/proc"; mounts+=("$dir/proc")
bind /dev /dev
bind /dev/pts /dev/pts
bind "$HOME/.rustup" /opt/rustup ro
bind "$HOME/.cargo" /opt/cargo-ro ro
cp /etc/resolv.conf "$dir/etc/resolv.conf"
# an installed Debian has these; debootstrap writes none (MariaDB's install-db resolves the host name)
[ -s "$dir/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
  "$(hostname)" > "$dir/etc/hosts"
# this machine's own certificate authorities (e.g. an HTTPS egress proxy's), so that the
# root reaches crates.io and PyPI as the host does; pip is told to use the system bundle
extra_ca=()
if [ -d /usr/local/share/ca-certificates ]; then
  mapfile -t extra_ca < <(find /usr/local/share/ca-certificates -name '*.crt')
fi
ca_env=()
if [ ${#extra_ca[@]} -gt 0 ]; then
  mkdir -p "$dir/usr/local/share/ca-certificates"
  cp "${extra_ca[@]}" "$dir/usr/local/share/ca-certificates/"
  chroot "$dir" update-ca-certificates >/dev/null 2>&1
  ca_env=(PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt)
fi

# a clean clone of the committed tree (no build products, no venvs)
rm -rf "$dir/work/spyglass-rs"
mkdir -p "$dir/work"
git clone -q "$root" "$dir/work/spyglass-rs"

run() {
  chroot "$dir" /usr/bin/env -i HOME=/root PATH=/opt/cargo-ro/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    RUSTUP_HOME=/opt/rustup CARGO_HOME=/root/.cargo RUSTUP_TOOLCHAIN=stable CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" \
    SPYGLASS_SKIP_SPYGLASS_INTEROP=1 LANG=C.UTF-8 "${ca_env[@]}" bash -c "cd /work/spyglass-rs && $1"
}

t0=$(date +%s)
run "bash scripts/demo.sh"
t_demo=$(( $(date +%s) - t0 ))
for f in spyglass-demo/spyglass.db spyglass-demo/lfp_demo.svg spyglass-demo/export/demo/bundle/spyglass.db; do
  [ -s "$dir/work/spyglass-rs/$f" ] || { echo "fresh-machine: demo output $f missing" >&2; exit 1; }
done
[ -n "$(find "$dir/work/spyglass-rs/spyglass-demo" -name '*.nwb' | head -1)" ] || { echo "fresh-machine: no NWB file from the demo" >&2; exit 1; }
echo "fresh-machine: debootstrap ${t_boot}s, demo (set-up + build + run) ${t_demo}s"

if [ -z "${FRESH_SKIP_TESTS:-}" ]; then
  t0=$(date +%s)
  run "bash scripts/test.sh"
  echo "fresh-machine: tests ${t_tests:=$(( $(date +%s) - t0 ))}s"
fi
echo "fresh-machine: ok"
