"""Each check of deploy_placeholders fails on a crafted bad pair, naming the file and the field."""
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

_taskdef = pytest.importorskip("ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef")

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
