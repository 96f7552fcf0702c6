"""The prune's module inputs from lab_info's ownership.unlisted (_lab.prune_plan, filter prune_plan)."""

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab


def _filters():
    # Imported in the test, as test_lab_model does: importing ansible's plugin side at collection time changes
    # what other unit tests see of ansible's warnings.
    from ansible_collections.cloudlab.microservices.plugins.filter import lab as lab_filters
    return lab_filters


SUPPLIER = {"pipeline": "update-supplier-microservice", "event_rules": ["update-supplier-microservice-source"],
            "deployment_group": "microservices-supplier", "ecs_service": "supplier-microservice", "cluster": "c",
            "target_groups": ["supplier-tg-one", "supplier-tg-two"], "ecr_repository": "supplier",
            "files": ["taskdef-supplier.json", "appspec-supplier.yaml"]}
# Another service whose groups are only half the lab's, whose ECS service and pipeline are not the lab's.
HALF = {"pipeline": "", "event_rules": [], "deployment_group": "", "ecs_service": "", "cluster": "c",
        "target_groups": ["half-tg-one"], "ecr_repository": "", "files": []}


def test_one_list_per_module_run_and_the_images_stay():
    plan = _lab.prune_plan({"supplier": SUPPLIER, "half": HALF})
    assert plan == {
        "services": ["half", "supplier"],
        "pipelines": [{"name": "update-supplier-microservice"}],
        "deployment_groups": [{"name": "microservices-supplier"}],
        "ecs_cluster": "c", "ecs_services": [{"name": "supplier"}],
        "target_groups": [{"name": "supplier"}],
        "files": {"taskdef-supplier.json": None, "appspec-supplier.yaml": None},
        "ecr_repositories": [], "kept": ["supplier"]}


def test_the_images_go_only_with_the_second_flag():
    plan = _filters().prune_plan({"supplier": SUPPLIER}, True)
    assert plan["ecr_repositories"] == ["supplier"] and plan["kept"] == []


def test_nothing_unlisted_prunes_nothing():
    plan = _lab.prune_plan({})
    assert plan["services"] == [] and plan["files"] == {} and plan["ecs_cluster"] == ""


def test_the_filter_refuses_what_is_not_lab_infos_answer():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="ownership.unlisted"):
        _filters().prune_plan(["supplier"])
