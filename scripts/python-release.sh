#!/usr/bin/env bash
# Builds the self-contained wheel of the Python package spyglass_rs: maturin over
# python/pyproject.toml with `--release --features static` (HDF5 and zlib compiled from
# source and linked into the extension module; zig links against glibc 2.28), stripped,
# tagged manylinux_2_28 by maturin's audit, then checked here: the module's NEEDED
# entries (readelf -d) may name only the C library's own parts (libc, libm, libpthread,
# libdl, libgcc_s, the loader) and the wheel must be under 40 MB; `auditwheel show`
# prints its policy. The wheel goes to dist/ (temp name + rename). cmake, maturin, zig
# and auditwheel come from pip into the tools venv in the cache (scripts/setup.sh
# --tools); build products go to ~/.cache/spyglass-rs/target-wheel
# ($SPYGLASS_WHEEL_TARGET).
#
# --check-fresh [DIR] then proves it on a machine without the libraries: the same smoke
# script (scripts/python-smoke.py: demo session -> SQLite -> LFPV1.populate ->
# fetch_nwb into numpy) runs first in the build environment (a venv of the oldest
# supported Python found, else python3; the arrays checked against h5py) and then in a
# fresh Debian 12 root holding only python3 and python3-venv (debootstrap, as
# scripts/fresh-machine.sh; default DIR /tmp/spyglass-wheel-root), where the wheel is
# pip-installed with numpy and pandas from PyPI; its values must equal the build
# environment's and no HDF5 library may be mapped. Needs root. Prints the time of
# each part.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
check_fresh=no
fresh_dir=/tmp/spyglass-wheel-root
while [ $# -gt 0 ]; do
  case "$1" in
    --check-fresh)
      check_fresh=yes
      if [ -n "${2:-}" ] && [ "${2#-}" = "$2" ]; then fresh_dir=$2; shift; fi ;;
    *) echo "python-release: unknown argument $1 (usage: scripts/python-release.sh [--check-fresh [DIR]])" >&2; exit 2 ;;
  esac
  shift
done
if [ "$check_fresh" = yes ] && [ "$(id -u)" -ne 0 ]; then
  echo "python-release: --check-fresh needs root (debootstrap, chroot)" >&2; exit 1
fi

cache="${SPYGLASS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spyglass-rs}"
bash scripts/setup.sh --tools
tools="$cache/tools-venv"
export PATH="$tools/bin:$PATH"
export CARGO_TARGET_DIR="${SPYGLASS_WHEEL_TARGET:-$cache/target-wheel}"
unset HDF5_DIR HDF5_VERSION  # never the system HDF5 (an empty HDF5_DIR is an error too)
# As in scripts/release.sh: the cache is shared by every clone, and cargo checks a
# workspace crate's freshness against the files of the clone that built it, so a build
# from another clone rebuilds our crates (HDF5 and the other dependencies stay cached).
stamp="$CARGO_TARGET_DIR/.built-from"
if [ "$(cat "$stamp" 2>/dev/null)" != "$root" ]; then
  for crate in spyglass-blob spyglass-db spyglass-dsp spyglass-nwb spyglass spyglass-py; do
    cargo clean --release -q -p "$crate" 2>/dev/null || true
  done
fi

t0=$(date +%s)
out="$CARGO_TARGET_DIR/wheels-release"
rm -rf "$out"
# zig (pip's ziglang) compiles the C parts and links against glibc 2.28's symbols, so
# that the wheel is manylinux_2_28 (RHEL/Rocky 8 and later), not this machine's glibc
(cd python && maturin build --release --locked --strip --features static \
  --zig --compatibility manylinux_2_28 -i "$tools/bin/python" --out "$out")
mkdir -p "$CARGO_TARGET_DIR" && echo "$root" > "$stamp"
t_build=$(( $(date +%s) - t0 ))
shopt -s nullglob
wheels=("$out"/spyglass_rs-*.whl)
[ ${#wheels[@]} -eq 1 ] || { echo "python-release: expected one wheel in $out, found ${#wheels[@]}" >&2; exit 1; }
wheel=${wheels[0]}
name=$(basename "$wheel")
case "$name" in
  *-cp39-abi3-manylinux_2_28_x86_64.whl) ;;
  *) echo "python-release: FAILED: $name is not a cp39-abi3 manylinux_2_28 wheel" >&2; exit 1 ;;
esac

# the extension module's NEEDED entries: only the C library's own parts
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$tools/bin/python" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
  [open(sys.argv[2] + "/" + n.replace("/", "_"), "wb").write(z.read(n)) for n in z.namelist() if ".so" in n]' \
  "$wheel" "$scratch"
sos=("$scratch"/*.so*)
[ ${#sos[@]} -ge 1 ] || { echo "python-release: FAILED: no shared object in $name" >&2; exit 1; }
bad=0
for so in "${sos[@]}"; do
  needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  echo "python-release: $(basename "$so") NEEDED: $(echo $needed)"
  for lib in $needed; do
    case "$lib" in
      libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|libgcc_s.so.*|ld-linux*.so.*) ;;
      *) echo "python-release: FAILED: $(basename "$so") needs $lib, which the wheel should carry" >&2; bad=1 ;;
    esac
  done
done
[ "$bad" -eq 0 ] || exit 1
echo "python-release: auditwheel show"
auditwheel show "$wheel"
size=$(stat -c %s "$wheel")
if [ "$size" -ge $((40 * 1024 * 1024)) ]; then
  echo "python-release: FAILED: $name is larger than 40 MB ($size bytes)" >&2
  exit 1
fi
mkdir -p dist
rm -f dist/spyglass_rs-*.whl
cp "$wheel" "dist/.$name.tmp"
mv "dist/.$name.tmp" "dist/$name"
echo "python-release: dist/$name is $(( (size + 524288) / 1048576 )) MB ($size bytes), built in ${t_build}s"
[ "$check_fresh" = yes ] || { echo "python-release: ok"; exit 0; }

# ---- --check-fresh: the build environment's values, then a fresh Debian root's ------
wheel="$root/dist/$name"
# the oldest Python the wheel supports when one is at hand (pyenv), else python3
host_py=python3
for v in 3.9 3.10; do
  if "python$v" -c '' 2>/dev/null; then host_py="python$v"; break; fi
  found=$(ls -d "$HOME"/.pyenv/versions/"$v".*/bin/python3 2>/dev/null | tail -1 || true)
  if [ -n "$found" ]; then host_py=$found; break; fi
done
t0=$(date +%s)
"$host_py" -m venv "$scratch/host-venv"
"$scratch/host-venv/bin/pip" install -q "$wheel" h5py
"$scratch/host-venv/bin/python" scripts/python-smoke.py "$scratch/host-work" --h5py --out "$scratch/expected.json" >/dev/null
t_host=$(( $(date +%s) - t0 ))
echo "python-release: build environment ($("$scratch/host-venv/bin/python" -V)): smoke values in ${t_host}s"

t0=$(date +%s)
if [ ! -x "$fresh_dir/usr/bin/python3" ]; then
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  debootstrap --variant=minbase --include=ca-certificates,python3,python3-venv bookworm "$fresh_dir" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
fi
t_boot=$(( $(date +%s) - t0 ))
# the root must hold no HDF5 (nor any library the wheel should carry)
if find "$fresh_dir/usr/lib" "$fresh_dir/lib" -name 'libhdf5*' 2>/dev/null | grep -q .; then
  echo "python-release: FAILED: $fresh_dir has an HDF5 library: not a fresh root" >&2; exit 1
fi
mounts=()
cleanup() {
  for ((i=${#mounts[@]}-1; i>=0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
mount -t proc proc "$fresh_dir/proc"; mounts+=("$fresh_dir/proc")
mount --bind /dev "$fresh_dir/dev"; mounts+=("$fresh_dir/dev")
cp /etc/resolv.conf "$fresh_dir/etc/resolv.conf"
# this machine's own certificate authorities (e.g. an HTTPS egress proxy's), as
# scripts/fresh-machine.sh does, so that pip reaches PyPI from the root
ca_env=()
if [ -d /usr/local/share/ca-certificates ] && find /usr/local/share/ca-certificates -name '*.crt' | grep -q .; then
  mkdir -p "$fresh_dir/usr/local/share/ca-certificates"
  find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$fresh_dir/usr/local/share/ca-certificates/" \;
  chroot "$fresh_dir" update-ca-certificates >/dev/null 2>&1
  ca_env=(PIP_CERT=/etc/ssl/certs/ca-certificates.crt)
fi
rm -rf "$fresh_dir/smoke" "$fresh_dir/root/.cache"  # no pip cache from an earlier run
mkdir -p "$fresh_dir/smoke"
cp "$wheel" scripts/python-smoke.py "$scratch/expected.json" "$fresh_dir/smoke/"
t0=$(date +%s)
chroot "$fresh_dir" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "${ca_env[@]}" \
  bash -c "set -e; cd /smoke && python3 -m venv venv && venv/bin/pip install -q --disable-pip-version-check ./$name"
t_install=$(( $(date +%s) - t0 ))
t0=$(date +%s)
chroot "$fresh_dir" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
  bash -c "cd /smoke && venv/bin/python -V && venv/bin/python python-smoke.py work --expect expected.json --out fresh.json >/dev/null"
t_smoke=$(( $(date +%s) - t0 ))
"$tools/bin/python" -c 'import json, sys; v = json.load(open(sys.argv[1]))["values"]; \
  print("python-release: fresh values: LFP", v["lfp_dtype"], v["lfp_shape"], "at", v["lfp_sampling_rate"], "Hz, sample 1000:", \
        ", ".join(v["lfp_samples"]), "; sha256", v["lfp_sha256"][:16], "(= the build environment)")' "$fresh_dir/smoke/fresh.json"
echo "python-release: fresh root $fresh_dir ($(chroot "$fresh_dir" dpkg-query -W -f '.\n' | wc -l) Debian packages, no HDF5):"
echo "python-release:   debootstrap ${t_boot}s, venv + pip install (wheel, numpy, pandas) ${t_install}s, smoke ${t_smoke}s"
echo "python-release: ok"
