"""What the playbooks take from the inventory (module_utils/_inputs.py): the message of a run
without them, and the sample inventories the tarball ships, which must set every required one."""
import os

import pytest

from helpers import ROOT
import yaml

from ansible_collections.cloudlab.microservices.plugins.module_utils import _inputs


def test_the_message_names_what_is_missing_and_the_sample_inventories():
    msg = _inputs.missing_inputs_message(["microservices"], "/c/ansible_collections/cloudlab/microservices")
    assert msg.startswith("The playbook's inputs are not set: microservices (the list of services")
    assert "cloudlab_aws_connection" not in msg
    assert "Nothing was changed" in msg
    assert "/c/ansible_collections/cloudlab/microservices/inventories/aws (an AWS Academy lab)" in msg
    assert "/c/ansible_collections/cloudlab/microservices/inventories/local (a local cloud" in msg
    assert "make " not in msg and "\n" not in msg


def test_connection_and_services_are_required_the_rest_has_defaults():
    assert _inputs.required_inputs() == ["cloudlab_aws_connection", "microservices"]


@pytest.mark.parametrize("sample", [path for path, _what in _inputs.SAMPLE_INVENTORIES])
def test_each_sample_inventory_sets_every_input(sample):
    with open(os.path.join(ROOT, sample, "group_vars", "all.yml")) as handle:
        group_vars = yaml.safe_load(handle)
    for name, _required, what in _inputs.PLAYBOOK_INPUTS:
        assert name in group_vars, "%s does not set %s (%s)" % (sample, name, what)
    assert os.path.isfile(os.path.join(ROOT, sample, "hosts.yml"))


def test_the_preflight_finds_the_samples_beside_the_plugins():
    from ansible_collections.cloudlab.microservices.plugins.action import preflight
    for path, _what in _inputs.SAMPLE_INVENTORIES:
        assert os.path.isdir(os.path.join(preflight.COLLECTION_ROOT, path))
