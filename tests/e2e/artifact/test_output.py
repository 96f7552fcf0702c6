"""What a person reads: phase5.yml run as the README says, with the
collection's ansible.cfg (Ansible's default callback, skipped tasks left out),
and no deprecation warning on a run of a user who did nothing wrong.

A first run shows what changed in each lab task; a converged rerun fits in
MAX_LINES lines and ends with the summary before the recap."""
import re

import pytest

from helpers import run_playbook
# archives, lab: fixtures, used as such.
from helpers.phase5 import PHASE5, phase5_vars

pytestmark = pytest.mark.slow

MAX_LINES = 250
# A role of each lab task, as its changed tasks are named in the output.
LAB_TASKS = {
    "5.1": ("cloudlab.microservices.ecr_repos", "cloudlab.microservices.image_push"),
    "5.2": ("cloudlab.microservices.fargate_cluster",),
    "5.3": ("cloudlab.microservices.codecommit_repo",),
    "5.4-5.6": ("cloudlab.microservices.taskdef_appspec",),
}


def changed_banners(output):
    """Names of the tasks shown with a `changed:` result."""
    names, task = [], None
    for line in output.splitlines():
        match = re.match(r"^TASK \[(.*)\] \*+$", line)
        if match:
            task = match.group(1)
        elif line.startswith("changed: ") and task:
            names.append(task)
    return names


@pytest.fixture(scope="module")
def runs(lab, archives, tmp_path_factory):  # noqa: F811
    """(first run, rerun) of phase5.yml with the collection's own output settings."""
    workdir = tmp_path_factory.mktemp("output")
    first = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives), json_output=False)
    assert first.rc == 0, first
    again = run_playbook(lab, PHASE5, extra_vars=phase5_vars(workdir, archives), json_output=False)
    assert again.rc == 0, again
    return first, again


def test_first_run_shows_what_changed_in_each_lab_task(runs):
    first, _again = runs
    changed = changed_banners(first.stdout)
    for task, roles in LAB_TASKS.items():
        assert any(name.startswith(roles) for name in changed), \
            "no change shown for lab task %s in:\n%s" % (task, first.stdout)
    assert re.search(r"changed=[1-9]", first.stdout)


def test_converged_rerun_is_short_and_ends_with_the_summary(runs):
    _first, again = runs
    lines = again.output.splitlines()
    assert len(lines) <= MAX_LINES, "%d lines:\n%s" % (len(lines), again.output)
    assert changed_banners(again.stdout) == []
    assert "DEPRECATION" not in again.output, again.output
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", again.stdout)
    # The last task shown, right before the recap, is the summary.
    shown = [line for line in again.stdout.splitlines() if line.startswith("TASK [")]
    assert shown and "summary" in shown[-1].lower(), shown
    tail = again.stdout[again.stdout.rindex(shown[-1]):again.stdout.index("PLAY RECAP")]
    for line in ("Phase 5 summary", "Task 5.1 ECR images: customer sha256:", "Task 5.2 Fargate cluster ",
                 "Task 5.3 CodeCommit repository deployment: ", "Task 5.4 task definitions: ",
                 "Tasks 5.5-5.6 on dev: commit "):
        assert line in tail, tail
