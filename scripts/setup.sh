#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test spyglass-rs:
# system libraries (HDF5, fonts, MariaDB server) and a Python virtual environment
# holding the interop oracles (datajoint-python, pynwb, nwbinspector, dandi, scipy,
# ghostipy), a second one holding Python Spyglass, and one for the Python package
# spyglass_rs (maturin, pytest, datajoint-python, pynwb). Debian's chromium and
# chromium-driver run the browser tests of `spyglass view`. Idempotent: a second run only checks.
#
# Modes: `--system` installs only the packages the build needs (gcc, libc6-dev,
# pkg-config, libhdf5-dev) and stops (scripts/demo.sh); `--tools` only makes the
# tools venv with cmake (to build HDF5 from source), maturin, zig and auditwheel in the cache
# (scripts/release.sh, scripts/python-release.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="${SPYGLASS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spyglass-rs}"

apt_install() {
  local need=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}"
    local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# Runs from several clones at once take turns (a lock in the cache), so that none
# removes an environment another is building or races it for apt.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

case "${1:-}" in
  --system)
    apt_install gcc libc6-dev pkg-config libhdf5-dev
    echo "setup: build packages ok"
    exit 0 ;;
  --tools)
    apt_install gcc g++ make python3-venv
    if [ ! -x "$cache/tools-venv/bin/cmake" ]; then
      echo "setup: installing cmake into $cache/tools-venv"
      mkdir -p "$cache"
      python3 -m venv "$cache/tools-venv"
      "$cache/tools-venv/bin/pip" install -q cmake
    fi
    # the Python wheel's release (scripts/python-release.sh): maturin builds it, zig
    # (ziglang) links it against glibc 2.28's symbols, auditwheel tells its manylinux tag
    if [ ! -x "$cache/tools-venv/bin/maturin" ] || [ ! -x "$cache/tools-venv/bin/auditwheel" ] ||
       ! "$cache/tools-venv/bin/python" -c 'import ziglang' 2>/dev/null; then
      echo "setup: installing maturin, ziglang and auditwheel into $cache/tools-venv"
      "$cache/tools-venv/bin/pip" install -q maturin==1.16.0 ziglang==0.17.1 auditwheel==6.8.2
    fi
    echo "setup: tools ok"
    exit 0 ;;
esac

need_apt=()
for pkg in libhdf5-dev hdf5-tools pkg-config mariadb-server mariadb-client \
           libfontconfig1-dev libfreetype-dev fonts-dejavu-core \
           chromium chromium-driver; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# pip_twice VENV ARGS…: `VENV/bin/pip ARGS…` quietly, and once more aloud if it fails.
pip_twice() {
  local dir=$1
  shift
  "$dir/bin/pip" "$@" -q || {
    echo "setup: pip $* failed; trying again" >&2
    "$dir/bin/pip" "$@"
  }
}

# Python environments live in a cache outside the clone, keyed by the hash of their
# requirements, so that clean clones (CI) and worktrees reuse them; a link in the clone
# (`.venv`, …) names the current one. A requirements file's `#nodeps PKG==V` lines are
# installed without their dependencies, as are the extra packages given here.
#   cached_venv LINK CACHE_PREFIX REQUIREMENTS WHAT [NODEPS_PKG…]
cached_venv() {
  local link=$1 prefix=$2 req="$root/scripts/$3" what=$4
  shift 4
  local want dir
  want=$(sha256sum "$req" | cut -c1-16)
  dir="$cache/$prefix-$want"
  if [ ! -x "$dir/bin/python" ] || [ ! -f "$dir/.complete" ]; then
    echo "setup: building $what in $dir"
    rm -rf "$dir"
    python3 -m venv "$dir"
    # a registry hiccup fails a quiet install with no word: each step is tried again,
    # the second time aloud, so a real failure shows pip's own message
    pip_twice "$dir" install --upgrade pip
    pip_twice "$dir" install -r "$req"
    local nodeps
    nodeps=$(grep '^#nodeps ' "$req" | cut -d' ' -f2- || true)
    nodeps="$nodeps $*"
    # shellcheck disable=SC2086 # one package per word
    [ -z "${nodeps// /}" ] || pip_twice "$dir" install --no-deps $nodeps
    touch "$dir/.complete"
  fi
  if [ "$(readlink "$root/$link" 2>/dev/null)" != "$dir" ]; then
    rm -rf "${root:?}/$link"
    ln -s "$dir" "$root/$link"
  fi
}

# the interop oracles; ndx-franklab-novela's pinned metadata (hdmf<5) conflicts with
# pynwb 4.2.0, and it works with hdmf 6
cached_venv .venv venv requirements-interop.txt "the Python oracle environment" \
  ndx-franklab-novela==0.2.4
# Python Spyglass itself (about 1.5 GB, a few minutes the first time), the oracle of the
# lab-database interop tests; skipped with SPYGLASS_SKIP_SPYGLASS_INTEROP=1.
if [ -z "${SPYGLASS_SKIP_SPYGLASS_INTEROP:-}" ]; then
  cached_venv .venv-spyglass spyglass-venv requirements-spyglass.txt \
    "the Python Spyglass environment"
fi
# element-array-ephys (the Brody lab's ephys_chronic), the oracle of the Kilosort-folder
# interop tests; its element packages without their plotting/notebook dependencies.
cached_venv .venv-elements elements-venv requirements-elements.txt \
  "the element-array-ephys environment"
# The Python package spyglass_rs (python/): maturin to build it, pytest to run its
# suite, datajoint-python and pynwb as its oracles, nbclient for the notebooks.
cached_venv .venv-python pyvenv requirements-python.txt "the spyglass_rs Python environment"
echo "setup: ok"
