#!/usr/bin/env bash
# The main job on a fresh machine in one command: installs the build packages the
# build lacks (scripts/setup.sh --system: gcc, libc6-dev, pkg-config, libhdf5-dev),
# then builds and runs the demo, writing into ./spyglass-demo (or $1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --system
cargo run --release -p spyglass-cli -- demo --dir "${1:-spyglass-demo}"
