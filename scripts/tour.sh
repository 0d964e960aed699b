#!/usr/bin/env bash
# The main job on the embedded default: builds the `spyglass` command, then, in a
# fresh base directory (default: ./spyglass-tour), declares the example university
# schema on SQLite, loads its rows, queries it and draws its diagram.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export SPYGLASS_BASE_DIR=${SPYGLASS_BASE_DIR:-$PWD/spyglass-tour}
cargo build --release -q -p spyglass-cli --manifest-path "$root/Cargo.toml"
sg="$root/target/release/spyglass"
ex="$root/examples/university"
rm -f "$SPYGLASS_BASE_DIR/spyglass.db"*
"$sg" init
"$sg" declare "$ex/schema.yaml"
"$sg" load university.Student "$ex/students.csv" --skip-duplicates
"$sg" load university.Department "$ex/departments.json" --skip-duplicates
"$sg" load university.StudentMajor "$ex/majors.csv" --skip-duplicates
"$sg" load university.Course "$ex/courses.csv" --skip-duplicates
"$sg" load university.Grade "$ex/grades.csv" --skip-duplicates
"$sg" tables
"$sg" describe university.Grade
"$sg" show university.Student --where "home_state = 'OH'"
"$sg" show university.Grade --key dept=CS --format json
"$sg" diagram -o "$SPYGLASS_BASE_DIR/university.svg"
