"""The deployment files: built once from the service list, each check of a pair fails on a crafted bad one."""
import json
import os

import pytest

from helpers import ROOT

from ansible_collections.cloudlab.microservices.plugins.module_utils import _taskdef

APPSPEC = """version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: "customer"
          ContainerPort: 8080
"""


def taskdef(**changes):
    td = {
        "family": "customer-microservice",
        "containerDefinitions": [{
            "name": "customer", "image": "<IMAGE1_NAME>", "essential": True,
            "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
        }],
        "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "512", "memory": "1024",
    }
    td.update(changes)
    return td


def check(td, appspec=APPSPEC):
    text = td if isinstance(td, str) else json.dumps(td, indent=2)
    return _taskdef.check_pair("taskdef-customer.json", text, "appspec-customer.yaml", appspec)


def test_good_pair_passes():
    assert check(taskdef()) == []


def test_invalid_register_input():
    errors = check(taskdef(cpu=512, unknownField=True))
    assert any(e.startswith("taskdef-customer.json: not valid RegisterTaskDefinition input") and "cpu" in e
               for e in errors), errors
    assert any("unknownField" in e for e in errors), errors


def test_placeholder_missing():
    td = taskdef()
    td["containerDefinitions"][0]["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/customer:latest"
    assert check(td) == ["taskdef-customer.json: containerDefinitions[].image: the placeholder <IMAGE1_NAME> "
                         "must appear exactly once, found 0"]


def test_placeholder_twice():
    td = taskdef()
    td["containerDefinitions"].append(dict(td["containerDefinitions"][0], name="sidecar", portMappings=[]))
    errors = check(td)
    assert errors == ["taskdef-customer.json: containerDefinitions[].image: the placeholder <IMAGE1_NAME> "
                      "must appear exactly once, found 2"]


def test_appspec_not_yaml():
    errors = check(taskdef(), "version: 0.0\nResources: [\n")
    assert len(errors) == 1 and errors[0].startswith("appspec-customer.yaml: not YAML")


def test_appspec_without_task_definition_placeholder():
    errors = check(taskdef(), APPSPEC.replace("<TASK_DEFINITION>", "customer-microservice:3"))
    assert errors == ["appspec-customer.yaml: Properties.TaskDefinition must be <TASK_DEFINITION>, "
                      "found 'customer-microservice:3'"]


def test_appspec_without_ecs_service():
    errors = check(taskdef(), APPSPEC.replace("AWS::ECS::Service", "AWS::Lambda::Function"))
    assert errors == ["appspec-customer.yaml: Resources: no resource of Type AWS::ECS::Service"]


def test_container_name_not_in_task_definition():
    errors = check(taskdef(), APPSPEC.replace('"customer"', '"employee"'))
    assert errors == ["appspec-customer.yaml: Properties.LoadBalancerInfo.ContainerName 'employee' is not a "
                      "container of taskdef-customer.json (containers: customer)"]


def test_container_port_not_mapped():
    errors = check(taskdef(), APPSPEC.replace("8080", "8081"))
    assert errors == ["appspec-customer.yaml: Properties.LoadBalancerInfo.ContainerPort 8081 is not among the "
                      "port mappings of container 'customer' in taskdef-customer.json (containerPort: 8080)"]


def test_taskdef_not_json():
    assert check("{not json")[0].startswith("taskdef-customer.json: not JSON")


GOLDEN = os.path.join(ROOT, "tests", "integration", "deployment", "golden")
SETTINGS = {"region": "us-east-1", "execution_role_arn": "arn:aws:iam::123456789012:role/PipelineRole",
            "db_host": "supplierdb.aaaaaaaaaa.us-east-1.rds.amazonaws.com"}


def service(name, **keys):
    svc = {"name": name, "port": 8080, "cpu": "512", "memory": "1024", "family": name + "-microservice",
           "environment": {}, "db_host": ""}
    svc.update(keys)
    return svc


def test_built_files_are_the_golden_ones():
    built = _taskdef.build([service("customer"), service("employee")], SETTINGS)
    assert list(built["files"]) == ["taskdef-customer.json", "appspec-customer.yaml",
                                    "taskdef-employee.json", "appspec-employee.yaml"]
    for name, text in built["files"].items():
        with open(os.path.join(GOLDEN, name)) as handle:
            want = handle.read()
        if name.endswith(".json"):
            assert json.loads(text) == json.loads(want), name
        else:
            assert text == want, name


def test_registered_form_has_the_real_image_and_nothing_else_differs():
    built = _taskdef.build([service("customer", environment={"MODE": "x"}, db_host="own-db")], SETTINGS)
    registered = _taskdef.with_images(built["task_definitions"], built["containers"],
                                      {"customer": "123456789012.dkr.ecr.us-east-1.amazonaws.com/customer"})[0]
    container = registered["containerDefinitions"][0]
    assert container["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/customer:latest"
    assert container["environment"] == [{"name": "APP_DB_HOST", "value": "own-db"}, {"name": "MODE", "value": "x"}]
    committed = json.loads(built["files"]["taskdef-customer.json"])
    assert dict(registered, containerDefinitions=None) == dict(committed, containerDefinitions=None)
    assert built["task_definitions"][0]["containerDefinitions"][0]["image"] == "<IMAGE1_NAME>"


def test_repository_still_to_be_created_gives_no_invented_image():
    built = _taskdef.build([service("customer")], SETTINGS)
    registered = _taskdef.with_images(built["task_definitions"], built["containers"], {"customer": ""})
    assert registered[0]["containerDefinitions"][0]["image"] is None


def test_service_without_a_uri_names_the_variable():
    built = _taskdef.build([service("customer"), service("employee")], SETTINGS)
    with pytest.raises(_taskdef.BuildError) as info:
        _taskdef.with_images(built["task_definitions"], built["containers"], {"customer": "r/customer"},
                             variable="taskdef_appspec_image_uris")
    assert str(info.value).startswith("Failed to validate taskdef_appspec_image_uris: no repository URI for employee")


def test_a_bad_build_names_file_and_field_and_builds_nothing():
    with pytest.raises(_taskdef.BuildError) as info:
        _taskdef.build([service("customer", cpu=512.5)], dict(SETTINGS, execution_role_arn=None))
    msg = str(info.value)
    assert msg.startswith("Failed to build the deployment files (nothing written): taskdef-customer.json")
    assert "executionRoleArn" in msg and "\n" not in msg
