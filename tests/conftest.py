"""The fixtures of the collection's tests; their helpers are in tests/helpers (``from helpers import ...``).

The local cloud's fixtures come from its pytest plugin, localcloud.testing (tools/localcloud): ``local_cloud``
(session), ``cloud`` (emptied per test), ``dockerd``, ``release_cloud`` and the lab's account made with boto3
(``release_lab``), whose pipelines this conftest declares with the collection's own rules (``lab_pipelines``).
``lab`` is the one lab the playbook suites start from: what an AWS Academy account holds, made by
playbooks/lab_environment.yml. A checkout without ``make setup`` (no .collections link, no local cloud
package, no amazon.aws) stops the run at once with what to do, rather than skipping tests.
"""
import importlib.util
import os
import types

import pytest

from helpers import LAB_ENVIRONMENT, ROOT, run_playbook


def _setup_missing():
    """What `make setup` makes that this run lacks: one line each."""
    missing = []
    link = os.path.join(ROOT, ".collections", "ansible_collections", "cloudlab", "microservices")
    if os.path.realpath(link) != os.path.realpath(ROOT):
        missing.append("the link %s to the checkout (the collection imported as ansible_collections."
                       "cloudlab.microservices)" % os.path.relpath(link, ROOT))
    for module, what in (("localcloud", "the local cloud package (pip install -e tools/localcloud)"),
                         ("ansible_collections.amazon.aws", "the amazon.aws collection (requirements.txt)"),
                         ("moto", "moto, the local cloud's dependency")):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(what)
    return missing


_MISSING = _setup_missing()
if _MISSING:
    raise pytest.UsageError("the development setup is incomplete: run `make setup` (missing: %s)"
                            % "; ".join(_MISSING))

# Imported only once the setup is known to be there; the plugin's asserts rewritten all the same.
pytest.register_assert_rewrite("localcloud.testing")
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab, _pipeline  # noqa: E402
from localcloud.testing import require_binary  # noqa: E402
from localcloud.testing.cloud import clear_faults  # noqa: E402

pytest_plugins = ["localcloud.testing"]


def pytest_configure(config):  # pylint: disable=unused-argument
    """Every ansible command a test starts (with a cloud's env() or not) reads the checkout's ansible.cfg."""
    os.environ["ANSIBLE_CONFIG"] = os.path.join(ROOT, "ansible.cfg")


@pytest.fixture(scope="module")
def lab(local_cloud):
    """The session's local cloud, emptied, holding only what an AWS Academy lab has (VPC, subnets, roles,
    supplierdb), made by playbooks/lab_environment.yml; no fault left."""
    require_binary("git")
    local_cloud.reset()
    clear_faults(local_cloud)
    result = run_playbook(local_cloud, LAB_ENVIRONMENT, json_output=False)
    assert result.rc == 0, result
    yield local_cloud
    clear_faults(local_cloud)


@pytest.fixture
def lab_pipelines():
    """The boto3 lab's pipelines as the collection declares them (plugins/module_utils/_pipeline.py)."""
    return types.SimpleNamespace(name=_lab.pipeline, stages=_pipeline.lab_stages,
                                 rules=_pipeline.change_detection_rules)
