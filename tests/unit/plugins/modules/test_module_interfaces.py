"""The modules' typed interfaces: every list-of-dict option declares its fields (suboptions), the `services`
entries that Ansible's own validation fills with None come out of check_services as if the keys were absent,
and the modules' own attribute texts use one key (`details`, as ansible-core's modules do)."""
import json
import os
import subprocess

import pytest

from helpers import ROOT
import yaml

from ansible_collections.cloudlab.microservices.plugins.module_utils import _services
from ansible.module_utils.common import arg_spec

MODULES = os.path.join(ROOT, "plugins", "modules")
# List-of-dict options that stay free-form, each with the reason its module documents.
FREE_FORM = {
    ("ecs_taskdef_sync", "task_definitions"): "checked against botocore's RegisterTaskDefinition input shape",
    ("codepipeline_pipeline", "pipelines.stages"): "CodePipeline's declaration form, checked by CodePipeline",
}


def _module_names():
    return sorted(n[:-3] for n in os.listdir(MODULES) if n.endswith(".py") and not n.startswith("_"))


def _own_documentation(name):
    with open(os.path.join(MODULES, name + ".py")) as handle:
        text = handle.read()
    start = text.index('DOCUMENTATION = r"""') + len('DOCUMENTATION = r"""')
    return yaml.safe_load(text[start:text.index('"""', start)])


@pytest.fixture(scope="module")
def shown():
    """The documentation as ansible-doc shows it (the doc fragments merged in), of every module in one run."""
    ansible_doc = os.path.join(ROOT, ".venv", "bin", "ansible-doc")
    if not os.path.exists(ansible_doc):
        pytest.fail("no %s: run make setup" % ansible_doc)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    out = subprocess.run([ansible_doc, "--json"] + ["cloudlab.microservices.%s" % n for n in _module_names()],
                         cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    return dict((key.split(".")[-1], value["doc"]) for key, value in json.loads(out).items())


def _list_of_dicts(options, prefix=""):
    for key, option in (options or {}).items():
        if option.get("type") == "list" and option.get("elements") in ("dict", "raw"):
            yield prefix + key, option
        for found in _list_of_dicts(option.get("suboptions"), prefix + key + "."):
            yield found


@pytest.mark.parametrize("name", _module_names())
def test_every_list_of_dicts_documents_its_fields(shown, name):
    doc = shown[name]
    untyped = [path for path, option in _list_of_dicts(doc.get("options"))
               if not option.get("suboptions") and (name, path) not in FREE_FORM]
    assert untyped == []


@pytest.mark.parametrize("name", ["alb", "alb_route_check", "alb_target_groups", "ecr_image_push",
                                  "ecs_codedeploy_service", "lab_info"])
def test_services_fields_are_the_ones_check_services_knows(shown, name):
    fields = shown[name]["options"]["services"]["suboptions"]
    assert sorted(fields) == sorted(_services.KEYS) == sorted(_services.SERVICE_OPTIONS)
    for key, option in fields.items():
        assert option["type"] == _services.SERVICE_OPTIONS[key]["type"], key


@pytest.mark.parametrize("name", _module_names())
def test_module_attributes_say_how_with_details(name):
    attributes = _own_documentation(name).get("attributes") or {}
    assert [key for key, value in attributes.items() if "description" in value] == []


def _validated(services):
    """The list as Ansible's argument validation hands it to a module (absent keys None, types converted)."""
    spec = dict(services=dict(type="list", elements="dict", options=_services.SERVICE_OPTIONS))
    result = arg_spec.ArgumentSpecValidator(spec).validate(dict(services=services))
    return result.validated_parameters["services"], [str(e) for e in result.errors]


def test_validated_entries_are_filled_in_as_the_raw_ones():
    raw = [{"name": "customer"}, {"name": "employee", "port": "8081", "cpu": 1024, "memory": "2048",
                                  "path_pattern": "/admin/*", "source_cidrs": ["203.0.113.7/32"]}]
    typed, errors = _validated(raw)
    assert errors == []
    assert typed[0]["desired_count"] is None and typed[0]["port"] is None
    assert _services.check_services(typed) == _services.check_services(raw)
    filled = _services.check_services(typed)
    assert filled[0]["desired_count"] is None
    assert filled[0]["source_cidrs"] == []
    assert filled[0]["port"] == 8080 and filled[0]["family"] == "customer-microservice"
    assert filled[1]["port"] == 8081 and filled[1]["cpu"] == "1024"


def test_validated_entries_keep_check_services_rules():
    typed, errors = _validated([{"name": "customer", "cpu": 300}])
    assert errors == []
    with pytest.raises(_services.ServiceError, match=r"services\[0\] \(service customer\): cpu 300 is not"):
        _services.check_services(typed, variable="services")


def test_ansible_refuses_what_the_preflight_refuses():
    _typed, errors = _validated([{"name": "customer", "prot": 8080}])
    assert errors and "prot" in errors[0]
    with pytest.raises(_services.ServiceError, match="unknown key 'prot' .did you mean 'port'"):
        _services.check_services([{"name": "customer", "prot": 8080}])
    _typed, errors = _validated([{"name": "customer", "port": "eighty"}])
    assert errors and "port" in errors[0]
    _typed, errors = _validated([{"port": 8080}])
    assert errors and "name" in errors[0]


def test_aws_call_is_amazon_aws_error_handler_raising_ours():
    from ansible_collections.cloudlab.microservices.plugins.module_utils import _aws
    from ansible_collections.amazon.aws.plugins.module_utils import errors
    from botocore import exceptions as botocore
    assert issubclass(_aws.ErrorHandler, errors.AWSErrorHandler)

    @_aws.aws_call("describe load balancer microservicesLB")
    def refused():
        raise botocore.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeLoadBalancers")

    @_aws.aws_call("wait for service customer-microservice")
    def waited():
        raise botocore.WaiterError("ServicesStable", "Max attempts exceeded", {})

    with pytest.raises(_aws.CloudlabError) as caught:
        refused()
    assert caught.value.message == "Failed to describe load balancer microservicesLB"
    assert _aws.error_code(caught.value) == "AccessDenied"
    with pytest.raises(_aws.CloudlabError) as caught:
        waited()
    assert caught.value.message == "Timeout trying to wait for service customer-microservice"
