"""Write roles/<role>/README.md from the role's meta/argument_specs.yml.

A README may start with a part a person wrote (a paragraph, an example): everything above the
generated header line is kept as it is, and the generated tables follow it.

`make docs` runs it; tests/tooling/test_role_docs.py fails when a role README
is not what this script would write, so the variable tables cannot drift
from the specs that Ansible itself enforces.
"""
import json
import os
import sys

import yaml

from helpers import ROOT

HEADER = "<!-- Generated from meta/argument_specs.yml by `make docs`; edit the spec, not this file. -->\n"


def _text(value):
    if isinstance(value, list):
        value = " ".join(value)
    return " ".join(str(value or "").split()).replace("|", "\\|")


def _default(opt):
    if "default" not in opt:
        return ""
    return "`%s`" % json.dumps(opt["default"], sort_keys=True)


def _rows(options, prefix=""):
    for name in sorted(options):
        opt = options[name] or {}
        kind = opt.get("type", "str")
        if opt.get("elements"):
            kind += " of " + opt["elements"]
        if opt.get("choices"):
            kind += " (" + ", ".join(str(c) for c in opt["choices"]) + ")"
        yield "| `%s%s` | %s | %s | %s | %s |" % (
            prefix, name, kind, "yes" if opt.get("required") else "no",
            _default(opt), _text(opt.get("description")))
        if opt.get("options"):
            yield from _rows(opt["options"], prefix + name + "[]." if opt.get("type") == "list" else prefix + name + ".")


def intro(role_dir):
    """What a person wrote above the generated part of the role's README (kept as is), or ''."""
    path = os.path.join(role_dir, "README.md")
    if not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return text[:text.index(HEADER)] if HEADER in text else ""


def render(role_dir):
    with open(os.path.join(role_dir, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    role = os.path.basename(role_dir)
    written = intro(role_dir)
    out = [written, HEADER, ("## Variables of `cloudlab.microservices.%s`\n" if written else
                             "# Role `cloudlab.microservices.%s`\n") % role]
    for entry in sorted(specs, key=lambda e: (e != "main", e)):
        spec = specs[entry]
        if entry != "main":
            out.append("\n## Entry point `%s`\n" % entry)
        out.append("\n%s\n" % _text(spec.get("short_description")))
        if spec.get("description"):
            out.append("\n%s\n" % _text(spec["description"]))
        options = spec.get("options") or {}
        if options:
            out.append("\n| variable | type | required | default | description |\n"
                       "| --- | --- | --- | --- | --- |\n")
            out.append("\n".join(_rows(options)) + "\n")
    return "".join(out)


def roles():
    base = os.path.join(ROOT, "roles")
    return sorted(os.path.join(base, r) for r in os.listdir(base)
                  if os.path.isfile(os.path.join(base, r, "meta", "argument_specs.yml")))


def main(argv):
    check = "--check" in argv
    stale = []
    for role_dir in roles():
        path = os.path.join(role_dir, "README.md")
        text = render(role_dir)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            stale.append(path)
            if not check:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
    if check and stale:
        print("out of date (run `make docs`): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
