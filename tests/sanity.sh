#!/usr/bin/env bash
# ansible-test sanity, offline, on the git-tracked files of the collection.
#
# ansible-test insists on running from a real .../ansible_collections/<ns>/<name>
# folder (the .collections link resolves back to the checkout and is refused)
# and wants the collections our plugins import beside it, so this copies the
# tracked files into a temporary tree of that shape, links the dependency
# collections from the venv, and runs there. Commit first: untracked files
# are not checked.
#
#   tests/sanity.sh [extra ansible-test sanity arguments, e.g. --test pep8]
#
# SANITY_COLLECTION_DIR=<.../ansible_collections/cloudlab/microservices> runs
# it on that tree instead (an installed collection, its dependencies beside
# it): tests/e2e/artifact/test_installed.py does so in `make test`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

# ansible-test bootstraps pip in its sanity venvs with a get-pip script it
# downloads from a host we cannot reach, unless a copy sits in its cache. The
# stand-in below gives it the same interface (pip install arguments on the
# command line) through ensurepip and PyPI. Its name follows the pip version
# this ansible-test pins.
PIP_VERSION="$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$SITE/ansible_test/_internal/python_requirements.py" | head -n1)"
if [[ -z "$PIP_VERSION" ]]; then
    echo "sanity.sh: cannot find the pip version ansible-test pins" >&2
    exit 1
fi
CACHE="$HOME/.ansible/test/cache"
GET_PIP="$CACHE/get_pip_${PIP_VERSION//./_}.py"
if [[ ! -s "$GET_PIP" ]]; then
    mkdir -p "$CACHE"
    cat > "$GET_PIP.tmp" <<'PYEOF'
"""Offline stand-in for get-pip.py, written by tests/sanity.sh."""
import subprocess
import sys

# get-pip.py options that only make sense for its bundled wheels.
DROPPED = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in DROPPED]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
PYEOF
    mv "$GET_PIP.tmp" "$GET_PIP"
fi

if [[ -n "${SANITY_COLLECTION_DIR:-}" ]]; then
    cd "$SANITY_COLLECTION_DIR"
    echo "sanity.sh: ansible-test sanity --python $PYVER --local $* in $SANITY_COLLECTION_DIR"
    PATH="$VENV/bin:$PATH" "$VENV/bin/ansible-test" sanity --python "$PYVER" --local --color no "$@"
    exit
fi

# Read the collection's name from galaxy.yml rather than repeat it here.
read -r NAMESPACE NAME < <("$PY" - "$ROOT/galaxy.yml" <<'PYEOF'
import sys
import yaml
with open(sys.argv[1]) as f:
    g = yaml.safe_load(f)
print(g["namespace"], g["name"])
PYEOF
)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sanity.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
DEST="$WORK/ansible_collections/$NAMESPACE/$NAME"
mkdir -p "$DEST"

# Tracked files only, minus what galaxy.yml's build_ignore keeps out of the
# collection (the local cloud, the benchmark, the sample services...).
"$PY" - "$ROOT" "$DEST" <<'PYEOF'
import fnmatch
import os
import shutil
import subprocess
import sys

import yaml

root, dest = sys.argv[1:3]
with open(os.path.join(root, "galaxy.yml")) as f:
    ignore = yaml.safe_load(f).get("build_ignore") or []
files = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                       capture_output=True).stdout.decode().split("\0")


def ignored(path):
    parts = path.split("/")
    for pattern in ignore:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.replace("**/", "")):
            return True
        # A pattern naming a folder (or a file name anywhere) drops it.
        if any(fnmatch.fnmatch("/".join(parts[:i]), pattern) for i in range(1, len(parts))):
            return True
        if "/" not in pattern and fnmatch.fnmatch(parts[-1], pattern):
            return True
    return False


copied = 0
for path in files:
    if not path or ignored(path) or not os.path.isfile(os.path.join(root, path)):
        continue
    os.makedirs(os.path.join(dest, os.path.dirname(path)), exist_ok=True)
    shutil.copy2(os.path.join(root, path), os.path.join(dest, path))
    copied += 1
print("sanity.sh: %d tracked files copied to %s" % (copied, dest))
PYEOF

# The collections our plugins import or take doc fragments from, and what
# those import in turn (community.docker needs library_inventory_filtering_v1).
for dep in amazon/aws community/aws community/docker community/library_inventory_filtering_v1; do
    if [[ -d "$SITE/ansible_collections/$dep" ]]; then
        mkdir -p "$WORK/ansible_collections/${dep%/*}"
        ln -s "$SITE/ansible_collections/$dep" "$WORK/ansible_collections/$dep"
    fi
done

cd "$DEST"
echo "sanity.sh: ansible-test sanity --python $PYVER --local $*"
PATH="$VENV/bin:$PATH" "$VENV/bin/ansible-test" sanity --python "$PYVER" --local --color no "$@"
