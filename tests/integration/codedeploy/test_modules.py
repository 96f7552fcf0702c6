"""The Phase 8 modules alone (plays/modules.yml asserts inside the play)."""
import os

from conftest import run_playbook

PLAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plays", "modules.yml")


def test_codedeploy_application_module(cloud):
    result = run_playbook(cloud, PLAY)
    assert result.rc == 0, result
    stats = result.stats()["localhost"]
    assert stats["failures"] == 0 and stats["changed"] == 3  # created, predicted, deleted
