"""A change to a committed taskdef or AppSpec, told as the keys of the service's entry that would give it."""
import json

import pytest

import yaml

from ansible_collections.cloudlab.microservices.plugins.module_utils import _taskdef

SETTINGS = dict(region="us-east-1", execution_role_arn="arn:aws:iam::123456789012:role/PipelineRole",
                db_host="supplierdb.example.internal")
ENTRY = dict(name="customer", port=8080, cpu="512", memory="1024")


def files(**entry):
    return _taskdef.build([dict(ENTRY, **entry)], SETTINGS)["files"]


def edited(change):
    td = json.loads(files()["taskdef-customer.json"])
    change(td)
    return json.dumps(td, indent=4) + "\n"


def rebuilt(settings):
    """The files the entry with the named settings gives."""
    entry = dict(ENTRY)
    for line in settings:
        entry.update(yaml.safe_load(line))
    return files(**entry)


@pytest.mark.parametrize("change, settings", [
    (lambda td: td.update(memory="2048"), ['memory: "2048"']),
    (lambda td: td.update(cpu="1024", memory="4096"), ['cpu: "1024"', 'memory: "4096"']),
    (lambda td: td.update(family="shop-customer"), ['family: "shop-customer"']),
    (lambda td: td["containerDefinitions"][0]["environment"].__setitem__(0, {"name": "APP_DB_HOST", "value": "x.db"}),
     ['db_host: "x.db"']),
    (lambda td: td["containerDefinitions"][0]["environment"].append({"name": "LOG_LEVEL", "value": "debug"}),
     ['environment: {"LOG_LEVEL": "debug"}']),
    (lambda td: td["containerDefinitions"][0].update(portMappings=[
        {"containerPort": 9090, "hostPort": 9090, "protocol": "tcp"}]), ["port: 9090"]),
])
def test_a_change_a_key_of_the_entry_gives_is_named_and_that_key_gives_it(change, settings):
    current = edited(change)
    told = _taskdef.explain_change("taskdef-customer.json", current, files()["taskdef-customer.json"])
    assert told["service"] == "customer" and told["unexplained"] == []
    assert told["settings"] == settings
    assert json.loads(rebuilt(told["settings"])["taskdef-customer.json"]) == json.loads(current)


def test_the_memory_change_of_the_issue_reads_field_by_field():
    current = files()["taskdef-customer.json"].replace('"memory": "1024"', '"memory": "2048"')
    told = _taskdef.explain_change("taskdef-customer.json", current, files()["taskdef-customer.json"])
    assert told["differences"] == ['memory is "2048" on the branch, "1024" from the inventory']
    assert told["settings"] == ['memory: "2048"']


def test_what_no_key_gives_is_said_so():
    current = edited(lambda td: td.update(taskRoleArn="arn:aws:iam::123456789012:role/Other", memory="2048"))
    told = _taskdef.explain_change("taskdef-customer.json", current, files()["taskdef-customer.json"])
    assert told["settings"] == ['memory: "2048"'] and told["unexplained"] == ["taskRoleArn"]
    image = edited(lambda td: td["containerDefinitions"][0].update(image="nginx:latest"))
    told = _taskdef.explain_change("taskdef-customer.json", image, files()["taskdef-customer.json"])
    assert told["settings"] == [] and told["unexplained"] == ["containerDefinitions[0].image"]
    layout = json.dumps(json.loads(files()["taskdef-customer.json"]))
    told = _taskdef.explain_change("taskdef-customer.json", layout, files()["taskdef-customer.json"])
    assert told["unexplained"] == ["the layout"]
    told = _taskdef.explain_change("taskdef-customer.json", "{not json", files()["taskdef-customer.json"])
    assert told["unexplained"] == ["the whole file"]
    told = _taskdef.explain_change("taskdef-customer.json", None, files()["taskdef-customer.json"])
    assert told["differences"] == ["the file is absent on the branch"] and not told["settings"]


def test_the_appspec_port_is_the_entry_port():
    desired = files()["appspec-customer.yaml"]
    told = _taskdef.explain_change("appspec-customer.yaml", desired.replace("8080", "9090"), desired)
    assert told["settings"] == ["port: 9090"] and told["unexplained"] == []
    assert rebuilt(told["settings"])["appspec-customer.yaml"] == desired.replace("8080", "9090")


def test_other_files_are_not_explained():
    assert _taskdef.explain_change("README.md", "a", "b") is None
