"""Role READMEs are generated from argument specs and must stay in step."""
import os

import pytest

import gen_role_docs  # tests/ is on sys.path through conftest's rootdir


ROLES = gen_role_docs.roles()


@pytest.mark.parametrize("role_dir", ROLES, ids=[os.path.basename(r) for r in ROLES])
def test_role_readme_matches_argument_specs(role_dir):
    path = os.path.join(role_dir, "README.md")
    assert os.path.exists(path), "%s missing: run `make docs`" % path
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == gen_role_docs.render(role_dir), "%s is stale: run `make docs`" % path


def test_render_lists_every_option(tmp_path):
    role = tmp_path / "demo"
    (role / "meta").mkdir(parents=True)
    (role / "meta" / "argument_specs.yml").write_text(
        "argument_specs:\n  main:\n    short_description: Demo.\n    options:\n"
        "      demo_port:\n        type: int\n        default: 8080\n        description: Port.\n"
        "      demo_services:\n        type: list\n        elements: dict\n        description: Services.\n"
        "        options:\n          name:\n            type: str\n            required: true\n"
        "            description: Name.\n")
    text = gen_role_docs.render(str(role))
    assert "| `demo_port` | int | no | `8080` | Port. |" in text
    assert "| `demo_services[].name` | str | yes |  | Name. |" in text
