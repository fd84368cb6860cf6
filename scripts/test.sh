#!/usr/bin/env bash
# Everything CI checks, in order: formatting, lints, docs, then the test suites.
# Usage: scripts/test.sh   (from anywhere; needs only cargo)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "cargo test"
cargo test --workspace --locked

step "the Python face"
scripts/test-python.sh
