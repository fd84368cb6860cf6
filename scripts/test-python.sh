#!/usr/bin/env bash
# The Python face: a project venv, the wheel built from this tree, ruff, the stub check, pytest.
# Usage: scripts/test-python.sh   (from anywhere; needs python3 >= 3.11 and cargo)
# KENTRO_VENV overrides the venv's path (default .venv, ignored by git); an existing venv is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

VENV="${KENTRO_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    step "create $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
VENV="$(cd "$VENV" && pwd)"
PY="$VENV/bin/python"

step "python test tools"
# scikit-learn is pinned: the parity tests compare against this exact version.
"$PY" -m pip install --quiet maturin numpy scikit-learn==1.9.1 scipy pandas pytest hypothesis \
    matplotlib ruff mypy

step "build and install the wheel (pip install .; cargo rebuilds what changed)"
# No build isolation: the venv's maturin builds in this tree, sharing target/ with cargo.
PATH="$VENV/bin:$PATH" "$PY" -m pip install --quiet --no-build-isolation .

step "ruff"
"$PY" -m ruff check python examples scripts/*.py
"$PY" -m ruff format --check python examples scripts/*.py

step "stub check (mypy.stubtest) and mypy"
# Run outside the tree so that the installed package, not python/kentro, is checked; no cache,
# which can hide a stale stub.
ROOT="$PWD"
(
    cd "$VENV"
    export MYPY_CACHE_DIR=/dev/null
    "$PY" -m mypy.stubtest kentro --allowlist "$ROOT/python/stubtest-allowlist.txt" \
        --mypy-config-file "$ROOT/pyproject.toml"
    "$PY" -m mypy -p kentro --config-file "$ROOT/pyproject.toml"
)

if [ -f crates/kentro-cli/Cargo.toml ]; then
    step "the kentro CLI (for the model-file round trip between the faces)"
    cargo build -p kentro-cli --locked
    export KENTRO_CLI="$PWD/target/debug/kentro"
fi

step "pytest"
"$PY" -m pytest python/tests -q
