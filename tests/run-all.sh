#!/usr/bin/env bash
# Every test suite, in order, stopping at the first that fails:
# ansible-lint, cfn-lint, the docs linter of Ansible's collections, the
# changelog linter, pytest, molecule. ansible-test sanity runs inside pytest,
# on the collection installed from its tarball (the same files as the
# checkout's: tests/e2e/artifact/test_installed.py); `make sanity`
# runs it on the checkout alone.
# `make test` runs this after setting up .venv and the system packages.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${VENV:-$ROOT/.venv}/bin"
cd "$ROOT" || exit 1
export PATH="$BIN:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"

passed=()
started=$SECONDS

step() {
    local name="$1"
    shift
    echo "==> $name: $*"
    local t0=$SECONDS
    "$@"
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "run-all: FAILED at step '$name' (exit $rc) after ${passed[*]:-no step} passed; rerun it with: $*"
        exit "$rc"
    fi
    passed+=("$name")
    echo "==> $name passed in $((SECONDS - t0))s"
}

cfn_lint() {
    shopt -s nullglob
    local templates=(roles/*/templates/*.cfn.yml roles/*/files/*.cfn.yml)
    shopt -u nullglob
    if [[ ${#templates[@]} -eq 0 ]]; then
        echo "no CloudFormation templates (roles/*/{templates,files}/*.cfn.yml)"
        return 0
    fi
    "$BIN/cfn-lint" "${templates[@]}"
}

pytest_all() {
    # Exit 5 is "no tests collected": with suites in tests/, that is a failure
    # too, and pytest already returns non-zero for it.
    # Two workers, whole test files each: every worker starts its own local
    # cloud (and dockerd) on free ports, and tests reset the cloud they use.
    # pytest.ini's testpaths: the collection's tests/ and the local cloud's tools/localcloud/tests.
    "$BIN/python" -m pytest -q -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" --dist loadfile --durations=15
}

step ansible-lint "$BIN/ansible-lint" --profile production
step cfn-lint cfn_lint
step docs-lint bash docs/docs.sh lint
step changelog-lint "$BIN/antsibull-changelog" lint
step pytest pytest_all
step molecule bash tests/molecule.sh

echo "run-all: all ${#passed[@]} steps passed (${passed[*]}) in $((SECONDS - started))s"
