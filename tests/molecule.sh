#!/usr/bin/env bash
# Runs every molecule scenario under extensions/molecule/, from the
# collection root (so that the root ansible.cfg resolves cloudlab.microservices).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${VENV:-$ROOT/.venv}/bin"
cd "$ROOT"
export PATH="$BIN:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"

shopt -s nullglob
scenarios=(extensions/molecule/*/molecule.yml)
shopt -u nullglob
if [[ ${#scenarios[@]} -eq 0 ]]; then
    echo "molecule.sh: no scenarios under extensions/molecule/, nothing to run"
    exit 0
fi

for file in "${scenarios[@]}"; do
    scenario="$(basename "$(dirname "$file")")"
    echo "molecule.sh: scenario $scenario"
    # molecule looks for scenarios under ./molecule unless told where.
    MOLECULE_GLOB="extensions/molecule/*/molecule.yml" "$BIN/molecule" test -s "$scenario"
done
echo "molecule.sh: ${#scenarios[@]} scenario(s) passed"
