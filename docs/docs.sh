#!/usr/bin/env bash
# The collection's documentation as Ansible's collections make theirs
# (antsibull-docs, Sphinx), from a clean copy of the collection: the files a
# fresh clone has, in a temporary ansible_collections/ tree beside the
# dependencies from the venv. Nothing is written to the checkout but build/.
#
#   docs/docs.sh lint    antsibull-docs lint-collection-docs --plugin-docs, and every
#                        plugin's EXAMPLES read by the lexer Sphinx uses (none refused)
#   docs/docs.sh site    HTML of every module, role and playbook in build/docsite/html
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
BIN="$VENV/bin"
export PATH="$BIN:$PATH"
SITE="$("$BIN/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
OUT="${DOCSITE_DIR:-$ROOT/build/docsite}"

stage="$(mktemp -d -t cloudlab-docs-XXXXXX)"
trap 'rm -rf "$stage"' EXIT
tree="$stage/ansible_collections/cloudlab/microservices"
mkdir -p "$tree"
# Tracked files and new ones not ignored: no .venv, .cache, .collections link.
"$BIN/python" - "$ROOT" "$tree" <<'PYEOF'
import os, shutil, subprocess, sys
root, tree = sys.argv[1:]
out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                     cwd=root, check=True, capture_output=True, text=True).stdout
for rel in filter(None, out.split("\0")):
    if os.path.isfile(os.path.join(root, rel)):
        os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
        shutil.copy2(os.path.join(root, rel), os.path.join(tree, rel))
PYEOF
# The dependencies, linked from the venv's `ansible` package. antsibull-docs
# copies a collection that sits in a git checkout by its tracked files only:
# for a venv inside a clone that is none, hence the ceiling that keeps git
# from finding the clone above the venv.
GIT_CEILING_DIRECTORIES="$(dirname "$(realpath "$SITE")")"
export GIT_CEILING_DIRECTORIES
"$BIN/python" - "$SITE" "$stage" "$tree" <<'PYEOF'
import json, os, sys
import yaml
site, stage, tree = sys.argv[1:]
todo = list(yaml.safe_load(open(os.path.join(tree, "galaxy.yml")))["dependencies"])
while todo:
    ns, name = todo.pop().split(".")
    src, dest = (os.path.join(base, "ansible_collections", ns, name) for base in (site, stage))
    if os.path.exists(dest):
        continue
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.symlink(src, dest)
    with open(os.path.join(src, "MANIFEST.json")) as handle:
        todo += list(json.load(handle)["collection_info"].get("dependencies") or {})
PYEOF
export ANSIBLE_COLLECTIONS_PATH="$stage"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
printf "[defaults]\n" > "$stage/ansible.cfg"
export ANSIBLE_CONFIG="$stage/ansible.cfg"

case "${1:-}" in
lint)
    "$BIN/antsibull-docs" lint-collection-docs --plugin-docs "$tree"
    # The examples through Sphinx's lexer: zero blocks it cannot read.
    "$BIN/python" "$ROOT/docs/docsite.py" lexer "$tree"
    ;;
site)
    src="$stage/docsite"
    mkdir -p "$src"
    # Extra-docs pages of the playbooks, written into the staged collection.
    "$BIN/python" "$ROOT/docs/docsite.py" playbooks "$tree"
    # The Sphinx project antsibull-docs makes for a collection (conf.py, theme)...
    "$BIN/antsibull-docs" sphinx-init --use-current --lenient --dest-dir "$src" \
        --project cloudlab.microservices --copyright "cloudlab.microservices maintainers" \
        --title "cloudlab.microservices" cloudlab.microservices >/dev/null
    # ...offline: no inventories of other sites to fetch.
    echo "intersphinx_mapping = {}" >> "$src/conf.py"
    # The pages of every module and role, and the collection index with the
    # playbook pages: what the project's build.sh runs, into rst/.
    mkdir -p "$src/rst"
    chmod og-w "$src/rst"
    (cd "$src" && "$BIN/antsibull-docs" --config-file antsibull-docs.cfg collection \
        --use-current --dest-dir rst cloudlab.microservices)
    # The README as the landing page.
    "$BIN/python" "$ROOT/docs/docsite.py" landing "$tree" "$src/rst"
    (cd "$src" && "$BIN/sphinx-build" -M html rst build -c . -q)
    rm -rf "$OUT"
    mkdir -p "$OUT"
    cp -a "$src/build/html" "$OUT/html"
    echo "docs.sh: $OUT/html/index.html"
    ;;
*)
    echo "usage: docs/docs.sh lint|site" >&2
    exit 2
    ;;
esac
