#!/usr/bin/env bash
# Runs the molecule scenarios under extensions/molecule/ from the collection
# root (so that the root ansible.cfg resolves cloudlab.microservices):
#   default     the local cloud, on a free port of 127.0.0.1 (or MOLECULE_CLOUD_PORT)
#   localstack  a LocalStack endpoint; only with LOCALSTACK_AUTH_TOKEN set
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
stop_cloud() { "$BIN/python" -m localcloud stop --state-dir "$state/cloud" >/dev/null 2>&1 || true; rm -rf "$state"; }
trap stop_cloud EXIT
echo "molecule.sh: scenario default (local cloud on 127.0.0.1:$MOLECULE_CLOUD_PORT)"
"$BIN/molecule" test -s default
ran=$((ran + 1))

# localstack
if [[ -z "${LOCALSTACK_AUTH_TOKEN:-}" ]]; then
    echo "molecule.sh: scenario localstack skipped: LOCALSTACK_AUTH_TOKEN is not set (LocalStack's image needs it, and its ECR, ECS and CodeCommit are paid features)"
    skipped=$((skipped + 1))
else
    echo "molecule.sh: scenario localstack (${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566})"
    "$BIN/molecule" test -s localstack
    ran=$((ran + 1))
fi
echo "molecule.sh: $ran scenario(s) passed, $skipped skipped"
