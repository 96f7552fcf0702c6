"""Pages of the docsite that antsibull-docs does not make from plugin docs.

Called by docs/docs.sh on a staged copy of the collection, before
`antsibull-docs collection` and Sphinx run:

  docsite.py playbooks TREE   one extra-docs page per playbooks/*.yml (header
                              comment, plays, tags, variables with a default)
                              and docs/docsite/extra-docs.yml listing them
  docsite.py landing TREE DIR the collection's README.md as the landing page:
                              DIR/readme.html and DIR/index.rst
  docsite.py lexer TREE       every plugin's EXAMPLES through the lexer Sphinx
                              highlights them with (yaml+jinja), as Sphinx does:
                              a block it cannot read is named and the exit is 1
                              (Sphinx only warns and retries in relaxed mode)
"""
import ast
import importlib.util
import json
import os
import re
import sys

import yaml
from markdown_it import MarkdownIt
from pygments.lexers import get_lexer_by_name
from pygments.token import Error

LABEL = "ansible_collections.cloudlab.microservices.docsite.%s"


def header_comment(text):
    """The comment block at the top of a YAML file, without the '#'."""
    lines = []
    for line in text.splitlines():
        if line.strip() == "---" and not lines:
            continue
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return lines


def comment_to_rst(lines):
    """Paragraphs stay prose; indented lines (commands) become code blocks."""
    out, code = [], False
    for line in lines:
        indented = line.startswith("  ") and bool(line.strip())
        if indented and not code:
            out += ["", ".. code-block:: console", ""]
            code = True
        elif not indented and code and line.strip():
            out.append("")
            code = False
        # Markdown's `code` is rst's ``code``.
        out.append("  " + line.strip() if indented else re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", line))
    return out


def tags_of(tasks):
    found = []
    for task in tasks or []:
        for tag in task.get("tags") or []:
            if tag not in found:
                found.append(tag)
        for key in ("block", "rescue", "always"):
            for tag in tags_of(task.get(key)):
                if tag not in found:
                    found.append(tag)
    return found


def inputs_module(tree):
    """The collection's plugins/module_utils/_inputs.py: what playbooks take from the inventory."""
    spec = importlib.util.spec_from_file_location(
        "cloudlab_inputs", os.path.join(tree, "plugins", "module_utils", "_inputs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def playbook_text(src, name, seen=None):
    """A playbook's text with the text of the files it pulls in from playbooks/ (imported
    playbooks, vars_files, task files), so that an input read in any of them is found."""
    seen = seen if seen is not None else set()
    if name in seen or not os.path.isfile(os.path.join(src, name)):
        return ""
    seen.add(name)
    with open(os.path.join(src, name), encoding="utf-8") as handle:
        text = handle.read()
    for ref in sorted(set(re.findall(r"[\w/]+\.yml", text))):
        text += playbook_text(src, ref, seen)
    return text


def inputs_section(inputs, text):
    """The inventory inputs a playbook reads, as a table (empty when it reads none)."""
    used = [(n, required, what) for n, required, what in inputs.PLAYBOOK_INPUTS
            if re.search(r"\b%s\b" % n, text)]
    if not used:
        return []
    out = ["Inputs", "------", "",
           "From the inventory (group_vars), or ``-e``. The sample inventories of the collection, "
           "%s, set every one." % " and ".join("``%s`` (%s)" % s for s in inputs.SAMPLE_INVENTORIES), "",
           ".. list-table::", "   :header-rows: 1", "", "   * - variable", "     - required", "     - what"]
    for name, required, what in used:
        out += ["   * - ``%s``" % name, "     - %s" % ("yes" if required else "no"), "     - %s" % what]
    return out + [""]


def playbook_page(name, text, inputs=None, full_text=None):
    plays = yaml.safe_load(text) or []
    fqcn = "cloudlab.microservices.%s" % name
    title = "%s playbook" % fqcn
    out = [".. _%s:" % (LABEL % ("playbook_" + name)), "", title, "=" * len(title), ""]
    out += comment_to_rst(header_comment(text))
    out += ["", "Run it", "------", "",
            "With a sample inventory of the collection (``inventories/`` in its folder: ``ansible-galaxy "
            "collection list cloudlab.microservices`` shows where it is installed), or your own:", "",
            ".. code-block:: console", "",
            "  ansible-playbook -i <collection folder>/inventories/aws %s" % fqcn, ""]
    if inputs is not None:
        out += inputs_section(inputs, full_text or text)
    for play in plays:
        if "import_playbook" in play:
            out += ["Imports ``%s``." % play["import_playbook"], ""]
            continue
        heading = play.get("name", "Play")
        out += [heading, "-" * len(heading), "", "Hosts: ``%s``" % play.get("hosts"), ""]
        tags = [t for t in tags_of(play.get("pre_tasks")) + tags_of(play.get("tasks"))
                + tags_of(play.get("post_tasks")) if t != "always"]
        if tags:
            out += ["Tags: %s" % ", ".join("``%s``" % t for t in dict.fromkeys(tags)), ""]
        steps = [t.get("name") for key in ("pre_tasks", "tasks", "post_tasks") for t in play.get(key) or []]
        if steps:
            out += ["Steps:", ""] + ["#. %s" % s for s in steps if s] + [""]
        defaults = {k: v for k, v in (play.get("vars") or {}).items()
                    if not k.startswith("_") and "{{" not in str(v)}
        if defaults:
            out += [".. list-table:: Variables with a default (``-e`` overrides them)", "   :header-rows: 1", "",
                    "   * - variable", "     - default"]
            for key, value in sorted(defaults.items()):
                out += ["   * - ``%s``" % key, "     - ``%s``" % json.dumps(value)]
            out.append("")
    return "\n".join(out) + "\n"


def playbooks(tree):
    src = os.path.join(tree, "playbooks")
    rst = os.path.join(tree, "docs", "docsite", "rst")
    os.makedirs(rst, exist_ok=True)
    names = sorted(f[:-4] for f in os.listdir(src) if f.endswith(".yml"))
    inputs = inputs_module(tree)
    for name in names:
        with open(os.path.join(src, name + ".yml"), encoding="utf-8") as handle:
            page = playbook_page(name, handle.read(), inputs, playbook_text(src, name + ".yml"))
        with open(os.path.join(rst, "playbook_%s.rst" % name), "w", encoding="utf-8") as handle:
            handle.write(page)
    extra = {"sections": [{"title": "Playbooks", "toctree": ["playbook_%s" % n for n in names]}]}
    with open(os.path.join(tree, "docs", "docsite", "extra-docs.yml"), "w", encoding="utf-8") as handle:
        handle.write("---\n" + yaml.safe_dump(extra, sort_keys=False))
    return names


def readme_html(markdown):
    """README.md as HTML, its first heading left to the page title, links to
    role READMEs and playbooks aimed at their pages in the docsite."""
    markdown = re.sub(r"\A# [^\n]*\n", "", markdown)
    markdown = re.sub(r"\]\(roles/([a-z_]+)/README\.md\)",
                      r"](collections/cloudlab/microservices/\1_role.html)", markdown)
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    # The theme's styles for Sphinx's own code blocks and tables.
    html = re.sub(r"<pre><code[^>]*>", '<div class="highlight"><pre>', html).replace("</code></pre>", "</pre></div>")
    return html.replace("<table>", '<table class="docutils align-default">')


def landing(tree, dest):
    with open(os.path.join(tree, "README.md"), encoding="utf-8") as handle:
        html = readme_html(handle.read())
    with open(os.path.join(dest, "readme.html"), "w", encoding="utf-8") as handle:
        handle.write('<div class="cloudlab-readme">\n%s</div>\n' % html)
    index = ["cloudlab.microservices", "=" * 22, "",
             ".. raw:: html", "   :file: readme.html", "",
             ".. toctree::", "   :caption: Reference", "   :maxdepth: 2", "",
             "   collections/cloudlab/microservices/index", ""]
    with open(os.path.join(dest, "index.rst"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(index))


def plugin_examples(tree):
    """(path, EXAMPLES) of every plugin: a module's EXAMPLES string, a filter's EXAMPLES key."""
    found = []
    plugins = os.path.join(tree, "plugins")
    for kind in sorted(os.listdir(plugins)) if os.path.isdir(plugins) else []:
        folder = os.path.join(plugins, kind)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                continue
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            examples = None
            if name.endswith(".py"):
                for node in ast.parse(text).body:
                    if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
                        examples = ast.literal_eval(node.value)
            elif name.endswith((".yml", ".yaml")):
                data = yaml.safe_load(text)
                examples = data.get("EXAMPLES") if isinstance(data, dict) else None
            if examples:
                found.append((os.path.relpath(path, tree), examples))
    return found


def lexer_errors(code, language="yaml+jinja"):
    """(line, text) of each token the lexer cannot read: what makes Sphinx warn 'Lexing literal_block'."""
    errors, line = [], 1
    for token, value in get_lexer_by_name(language, stripnl=False).get_tokens(code):
        if token is Error:
            errors.append((line, value))
        line += value.count("\n")
    return errors


def lexer(tree):
    problems = []
    for path, examples in plugin_examples(tree):
        for line, value in lexer_errors(examples):
            problems.append("%s: EXAMPLES line %d: the yaml+jinja lexer cannot read %r" % (path, line, value))
    return problems


def main(argv):
    if len(argv) == 2 and argv[0] == "playbooks":
        print("docsite.py: playbook pages: %s" % ", ".join(playbooks(argv[1])))
    elif len(argv) == 3 and argv[0] == "landing":
        landing(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "lexer":
        problems = lexer(argv[1])
        print("\n".join(problems) or "docsite.py: every plugin's EXAMPLES reads as yaml+jinja")
        sys.exit(1 if problems else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
