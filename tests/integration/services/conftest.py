"""Fixtures of the Phase 7 suite: the lab's starting point with stand-ins for what Phases 5 and 6 leave."""
import pytest

from helpers.phase7 import Lab


@pytest.fixture(scope="module")
def lab7(lab):
    """The lab's starting point (`lab`), Phase 5's cluster and task definitions, Phase 6's resources."""
    stand_in = Lab(lab)
    for name, health in (("customer", "/"), ("employee", "/admin/suppliers")):
        stand_in.register(name)
        stand_in.target_group_pair(name, health)
    stand_in.load_balancer("customer")
    return stand_in
