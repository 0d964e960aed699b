#!/usr/bin/env bash
# The test command (README "Run the tests"): installs what a fresh machine lacks
# (scripts/setup.sh: system libraries, MariaDB server, the Python oracle venv), then
# runs every test of the workspace, interop tests with their Python oracles included.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export SPYGLASS_PYTHON="$root/.venv/bin/python"
cargo test --workspace --no-fail-fast 2>&1
