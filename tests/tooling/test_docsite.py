"""The docsite `make docsite` builds (antsibull-docs and Sphinx, docs/docs.sh),
read back in a real browser: headless Chromium renders a module page, the DOM
it built holds the options table, and its screenshot is a real picture."""
import glob
import os
import subprocess

import pytest
from PIL import Image

from localcloud.testing import require_binary

from helpers import ROOT

MODULE = "ecr_repository"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docsite")
    proc = subprocess.run(["bash", os.path.join(ROOT, "docs", "docs.sh"), "site"], cwd=ROOT,
                          env=dict(os.environ, DOCSITE_DIR=str(out)), capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (out / "build.log").write_text(proc.stdout + proc.stderr)
    return out / "html"


def test_examples_are_read_by_the_lexer(site):
    """Sphinx retries a code block its lexer cannot read in relaxed mode, with a warning: none may."""
    log = (site.parent / "build.log").read_text()
    lexing = [line for line in log.splitlines() if "Lexing literal_block" in line]
    assert not lexing, "\n".join(lexing)


def names(pattern):
    return sorted(os.path.basename(os.path.dirname(p)) if p.endswith("/") else
                  os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(ROOT, pattern)))


def test_every_module_role_and_playbook_has_a_page(site):
    pages = site / "collections" / "cloudlab" / "microservices"
    modules = [n for n in names("plugins/modules/*.py") if not n.startswith("_")]
    roles = names("roles/*/")
    playbooks = names("playbooks/*.yml")
    assert modules and roles and playbooks
    for name in modules:
        assert (pages / ("%s_module.html" % name)).is_file(), name
    for name in roles:
        assert (pages / ("%s_role.html" % name)).is_file(), name
    for name in playbooks:
        assert (pages / "docsite" / ("playbook_%s.html" % name)).is_file(), name


def test_landing_page_is_the_readme(site):
    html = (site / "index.html").read_text()
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        headings = [line[3:].strip() for line in handle if line.startswith("## ")]
    for heading in headings:
        assert ">%s</h2>" % heading.replace("`", "").replace("&", "&amp;") in html.replace("<code>", "").replace("</code>", ""), heading
    assert 'href="collections/cloudlab/microservices/index.html"' in html


def chromium(*args):
    require_binary("chromium")
    return subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--user-data-dir=%s" % args[0]] + list(args[1:]),
                          capture_output=True, text=True, timeout=120, check=False)


def test_module_page_renders_with_its_options_table(site, tmp_path):
    page = site / "collections" / "cloudlab" / "microservices" / ("%s_module.html" % MODULE)
    url = page.as_uri()
    dom = chromium(str(tmp_path / "profile"), "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr
    # The DOM after the browser ran the page's scripts: the parameters table
    # with a row per option of the module.
    assert "ansible-option-table" in dom.stdout
    for option in ("name", "policy", "lifecycle_policy", "scan_on_push", "tags"):
        assert 'id="parameter-%s"' % option in dom.stdout, option
    shot = tmp_path / ("%s.png" % MODULE)
    proc = chromium(str(tmp_path / "profile"), "--window-size=1280,1600", "--screenshot=%s" % shot,
                    url + "#parameters")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr
    with Image.open(str(shot)) as image:
        assert image.size == (1280, 1600)
        # A rendered page, not a blank one: text, table borders, the theme's colours.
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 100
