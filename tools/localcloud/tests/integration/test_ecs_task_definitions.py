"""ListTaskDefinitions in AWS's order: family name, then revision; `sort: DESC` gives the newest first."""


def _register(ecs, family):
    return ecs.register_task_definition(
        family=family, containerDefinitions=[{"name": "app", "image": "app:latest", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]


def _names(arns):
    return [arn.rsplit("/", 1)[-1] for arn in arns]


def test_list_task_definitions_sort(cloud):
    ecs = cloud.client("ecs")
    for family in ("employee-microservice", "employee-microservice", "customer-microservice",
                   "employee-microservice", "customer-microservice"):
        _register(ecs, family)
    ascending = ["customer-microservice:1", "customer-microservice:2",
                 "employee-microservice:1", "employee-microservice:2", "employee-microservice:3"]
    assert _names(ecs.list_task_definitions()["taskDefinitionArns"]) == ascending
    assert _names(ecs.list_task_definitions(sort="ASC")["taskDefinitionArns"]) == ascending
    assert _names(ecs.list_task_definitions(sort="DESC")["taskDefinitionArns"]) == ascending[::-1]
    assert _names(ecs.list_task_definitions(familyPrefix="employee-microservice", status="ACTIVE",
                                            sort="DESC")["taskDefinitionArns"]) == [
        "employee-microservice:3", "employee-microservice:2", "employee-microservice:1"]
    ecs.deregister_task_definition(taskDefinition="employee-microservice:3")
    assert _names(ecs.list_task_definitions(familyPrefix="employee-microservice", sort="DESC")[
        "taskDefinitionArns"]) == ["employee-microservice:2", "employee-microservice:1"]
    assert _names(ecs.list_task_definitions(status="INACTIVE", sort="DESC")["taskDefinitionArns"]) == [
        "employee-microservice:3"]
