#!/usr/bin/env bash
# Builds the self-contained release binary: HDF5 (and zlib) compiled from source and
# linked statically (feature `static`), stripped, copied to dist/spyglass, and checked:
# `ldd` may list only the C library's own parts (no libhdf5, no libcurl) and the file
# must be under 40 MB. cmake (needed to build HDF5) comes from pip into a tools venv
# in the cache. Build products go to ~/.cache/spyglass-rs/target-static.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache="${SPYGLASS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spyglass-rs}"
bash scripts/setup.sh --tools
export PATH="$cache/tools-venv/bin:$PATH"
export CARGO_TARGET_DIR="${SPYGLASS_STATIC_TARGET:-$cache/target-static}"
unset HDF5_DIR HDF5_VERSION  # never the system HDF5 (an empty HDF5_DIR is an error too)
# The cache is shared by every clone, but cargo names a workspace crate's artifacts by
# its path relative to the workspace and checks freshness against the files of the
# clone that built it: a build from another clone must rebuild our crates (the
# dependencies, HDF5 included, stay cached).
stamp="$CARGO_TARGET_DIR/.built-from"
if [ "$(cat "$stamp" 2>/dev/null)" != "$root" ]; then
  for crate in spyglass-blob spyglass-db spyglass-dsp spyglass-nwb spyglass spyglass-cli; do
    cargo clean --release -q -p "$crate" 2>/dev/null || true
  done
fi
cargo build --release --locked -p spyglass-cli --features static
mkdir -p "$CARGO_TARGET_DIR" && echo "$root" > "$stamp"
mkdir -p dist
strip -o dist/spyglass.tmp "$CARGO_TARGET_DIR/release/spyglass"
mv dist/spyglass.tmp dist/spyglass

echo "release: ldd dist/spyglass"
deps=$(ldd dist/spyglass || true)
echo "$deps"
if echo "$deps" | grep -Eiq 'hdf5|curl|ssl|krb5|ldap|ssh|libz\.'; then
  echo "release: FAILED: the binary links a library it should carry" >&2
  exit 1
fi
# only the C library's own parts (libc, libm, libgcc_s, the loader, vdso)
if echo "$deps" | grep -Ev 'linux-vdso|ld-linux|libc\.so|libm\.so|libgcc_s\.so|libpthread\.so|libdl\.so|librt\.so|^\s*$' | grep -q .; then
  echo "release: FAILED: unexpected shared libraries" >&2
  exit 1
fi
size=$(stat -c %s dist/spyglass)
echo "release: dist/spyglass is $((size / 1024 / 1024)) MB ($size bytes)"
if [ "$size" -ge $((40 * 1024 * 1024)) ]; then
  echo "release: FAILED: larger than 40 MB" >&2
  exit 1
fi
echo "release: ok"
