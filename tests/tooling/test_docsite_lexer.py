"""docs/docs.sh lint reads every plugin's EXAMPLES with the lexer Sphinx highlights them with: a block
it cannot read (Sphinx's 'Lexing literal_block ... Retrying in relaxed mode' warning) fails the lint."""
from docs import docsite
from helpers import ROOT


def test_a_placeholder_call_is_a_lexer_error():
    # One of the four examples the docsite warned about before they were rewritten.
    bad = 'example: "{{ services | cloudlab.microservices.artifact_bucket(...) }}"\n'
    assert docsite.lexer_errors(bad)


def test_a_real_task_reads():
    good = ("- name: The bucket\n  ansible.builtin.set_fact:\n"
            "    bucket: \"{{ '' | cloudlab.microservices.artifact_bucket('us-east-1', '123456789012') }}\"\n")
    assert docsite.lexer_errors(good) == []


def test_the_lint_names_the_plugin_and_line(tmp_path):
    (tmp_path / "plugins" / "filter").mkdir(parents=True)
    (tmp_path / "plugins" / "filter" / "demo.yml").write_text(
        "EXAMPLES: |\n  - name: ok\n    ansible.builtin.debug:\n      msg: hi\n  example: \"{{ x | f(...) }}\"\n")
    problems = docsite.lexer(str(tmp_path))
    assert problems and all(p.startswith("plugins/filter/demo.yml: EXAMPLES line 4: ") for p in problems), problems


def test_every_example_of_the_collection_reads():
    found = dict(docsite.plugin_examples(ROOT))
    # Modules (EXAMPLES strings) and filters (EXAMPLES keys) alike.
    assert "plugins/modules/lab_info.py" in found and "plugins/filter/artifact_bucket.yml" in found, sorted(found)
    assert docsite.lexer(ROOT) == []
