#!/usr/bin/env bash
# The test command (README "Run the tests"): installs what a fresh machine lacks
# (scripts/setup.sh: system libraries, MariaDB server, the Python oracle venv), then
# runs every test of the workspace, interop tests with their Python oracles included.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export SPYGLASS_PYTHON="$(readlink -f "$root/.venv")/bin/python"

# The build lives in the cache outside the clone too, as the venvs do, keyed by the
# toolchain: a clean clone (CI) then rebuilds only the workspace's own crates, not its
# ~400 dependencies. A caller's CARGO_TARGET_DIR wins; over 60 GB it starts afresh.
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  cache="${SPYGLASS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spyglass-rs}"
  export CARGO_TARGET_DIR="$cache/target-$(rustc -vV | sha256sum | cut -c1-16)"
  if [ -d "$CARGO_TARGET_DIR" ] && [ "$(du -sm "$CARGO_TARGET_DIR" | cut -f1)" -gt 61440 ]; then
    rm -rf "$CARGO_TARGET_DIR"
  fi
fi
# the time at the end of each phase
t_start=$(date +%s)
phase() { echo "test.sh: $1 done at +$(( $(date +%s) - t_start )) s"; }

status=0
# Lints, on by default (SPYGLASS_LINT=0 skips them): formatting, clippy on every
# target with warnings as errors, and the docs (missing_docs and broken links are
# warnings, so errors here).
if [ "${SPYGLASS_LINT:-1}" != 0 ]; then
  cargo fmt --all --check 2>&1 || status=1
  # modules declared inside a macro (the pipeline families' `family!`) are not
  # reached by cargo fmt: every tracked Rust file is checked directly as well
  git ls-files 'crates/*.rs' | xargs rustfmt --edition 2021 --check 2>&1 || status=1
  cargo clippy --workspace --all-targets -- -D warnings 2>&1 || status=1
  RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps 2>&1 || status=1
  phase lints
fi

# A private MariaDB for the lab-server tests, unless one is configured
# (SPYGLASS_TEST_MYSQL_URL=mysql://user:pass@host:port uses that server instead).
if [ -z "${SPYGLASS_TEST_MYSQL_URL:-}" ]; then
  mdb=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mariadb-install-db --no-defaults --user=root --auth-root-authentication-method=normal \
    --skip-test-db --datadir="$mdb/data" >"$mdb/install.log" 2>&1 || { cat "$mdb/install.log" >&2; exit 1; }
  mariadbd --no-defaults --datadir="$mdb/data" --socket="$mdb/mysql.sock" --port="$port" \
    --bind-address=127.0.0.1 --user=root --pid-file="$mdb/mariadbd.pid" \
    --log-error="$mdb/err.log" --tmpdir="$mdb" --skip-name-resolve --innodb-log-file-size=16M &
  trap 'kill "$(cat "$mdb/mariadbd.pid" 2>/dev/null)" 2>/dev/null; sleep 1; rm -rf "$mdb"' EXIT
  for _ in $(seq 100); do
    mariadb --no-defaults --socket="$mdb/mysql.sock" -uroot -e 'select 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
  export SPYGLASS_TEST_MYSQL_URL="mysql://root@127.0.0.1:$port"
fi

# everything, on the embedded SQLite default
cargo test --workspace --no-fail-fast 2>&1 || status=1
phase "workspace tests (SQLite)"
# the engine suite again, on MariaDB
SPYGLASS_TEST_BACKEND=mysql cargo test -p spyglass-db --test integration --no-fail-fast 2>&1 || status=1
phase "engine tests (MariaDB)"
# the Python package spyglass_rs: the extension module the workspace build made,
# packed into a wheel (scripts/python-wheel.py) and installed in its venv, then
# its pytest suite on SQLite and on the MariaDB above (SPYGLASS_SKIP_PYTHON=1 skips)
if [ -z "${SPYGLASS_SKIP_PYTHON:-}" ]; then
  bash scripts/python-test.sh 2>&1 || status=1
  phase "Python tests"
fi
exit $status
