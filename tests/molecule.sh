#!/usr/bin/env bash
# Runs the molecule scenarios under extensions/molecule/ from the collection
# root (so that the root ansible.cfg resolves cloudlab.microservices):
#   default     the local cloud, on a free port of 127.0.0.1 (or MOLECULE_CLOUD_PORT)
#   localstack  LocalStack: without LOCALSTACK_AUTH_TOKEN its community runtime,
#               started and stopped by the scenario on a free port (what it
#               has runs, Phase 5 is refused before any change); with the
#               token, the full scenario against LOCALSTACK_ENDPOINT
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${VENV:-$ROOT/.venv}/bin"
cd "$ROOT"
export PATH="$BIN:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
# molecule looks for scenarios under ./molecule unless told where.
export MOLECULE_GLOB="extensions/molecule/*/molecule.yml"

free_port() {
    "$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ran=0
skipped=0

# default
state="$(mktemp -d -t cloudlab-molecule-XXXXXX)"
export MOLECULE_CLOUD_PORT="${MOLECULE_CLOUD_PORT:-$(free_port)}"
export MOLECULE_CLOUD_STATE="$state"
# The scenario stops at Phase 5: no ECS task to run, so no Docker engine for the local cloud.
export LOCALCLOUD_TASKS=off
stop_cloud() { "$BIN/python" -m localcloud stop --state-dir "$state/cloud" >/dev/null 2>&1 || true; rm -rf "$state"; }
trap stop_cloud EXIT
echo "molecule.sh: scenario default (local cloud on 127.0.0.1:$MOLECULE_CLOUD_PORT)"
"$BIN/molecule" test -s default
ran=$((ran + 1))

# localstack
ls_state="$(mktemp -d -t cloudlab-molecule-localstack-XXXXXX)"
stop_localstack() {
    # Backstop for a scenario that failed before its destroy step.
    "$BIN/python" extensions/molecule/localstack/community/localstack_runtime.py stop \
        --state-dir "$ls_state/localstack" >/dev/null 2>&1 || true
    rm -rf "$ls_state"
}
trap 'stop_cloud; stop_localstack' EXIT
export MOLECULE_CLOUD_STATE="$ls_state"
if [[ -z "${LOCALSTACK_AUTH_TOKEN:-}" ]]; then
    export MOLECULE_LOCALSTACK_MODE=community
    LOCALSTACK_ENDPOINT="http://127.0.0.1:$(free_port)"
    export LOCALSTACK_ENDPOINT
    echo "molecule.sh: scenario localstack, community runtime on ${LOCALSTACK_ENDPOINT} (LOCALSTACK_AUTH_TOKEN is not set: Phase 5 must be refused there)"
else
    export MOLECULE_LOCALSTACK_MODE=full
    echo "molecule.sh: scenario localstack, full, against ${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}"
fi
"$BIN/molecule" test -s localstack
ran=$((ran + 1))
echo "molecule.sh: $ran scenario(s) passed, $skipped skipped"
