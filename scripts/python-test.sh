#!/usr/bin/env bash
# Installs the Python package spyglass_rs (python/) into .venv-python (scripts/setup.sh
# makes it) and runs python/tests with pytest. The extension module is the one the
# workspace's own `cargo test --workspace` built (target/debug/libspyglass_py.so, with
# the workspace's features: building it again with maturin would rebuild half the
# crates with another feature set); it is packed into a wheel by
# scripts/python-wheel.py and pip-installed. Run alone, the library is built first.
# The MariaDB tests use $SPYGLASS_TEST_MYSQL_URL (scripts/test.sh starts a private
# server) and are skipped without it. Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="$(readlink -f "$root/.venv-python")"
[ -x "$venv/bin/python" ] || { echo "python-test: run scripts/setup.sh first" >&2; exit 1; }
target="$(cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# the module as cargo uplifted it, else as it sits among the build's dependencies
so="$target/debug/libspyglass_py.so"
if [ ! -f "$so" ] || [ "$target/debug/deps/libspyglass_py.so" -nt "$so" ]; then
  so="$target/debug/deps/libspyglass_py.so"
fi
t0=$(date +%s)
stale=no
[ -f "$so" ] || stale=yes
if [ "$stale" = no ] && [ -n "$(find crates Cargo.lock Cargo.toml -newer "$so" \( -name '*.rs' -o -name 'Cargo.*' \) | head -1)" ]; then
  stale=yes
fi
if [ "$stale" = yes ]; then
  # the doc-test step builds every library with the workspace's features, as
  # `cargo test --workspace` does
  cargo test --workspace --doc -q >/dev/null
  so="$target/debug/libspyglass_py.so"
  [ -f "$so" ] || so="$target/debug/deps/libspyglass_py.so"
fi
"$venv/bin/python" scripts/python-wheel.py "$so" "$target/wheels" >/dev/null
"$venv/bin/pip" install -q --force-reinstall --no-deps "$target"/wheels/spyglass_rs-*.whl
t1=$(date +%s)
echo "python-test: spyglass_rs packed and installed in $((t1 - t0)) s"
# the CLI the export test compares populate_paper with (skipped when not built)
if [ -x "$target/debug/spyglass" ]; then export SPYGLASS_TEST_CLI="$target/debug/spyglass"; fi
# the tests import the installed package, not the source folder
cd "$root/python/tests"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" .
