"""What the ECS services module compares and what it leaves to CodeDeploy (module_utils/_ecs_services.py)."""

from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecs_services as ecs
from ansible_collections.cloudlab.microservices.plugins.module_utils import _services

TD1 = "arn:aws:ecs:us-east-1:123456789012:task-definition/customer-microservice:1"
TD2 = "arn:aws:ecs:us-east-1:123456789012:task-definition/customer-microservice:2"
TWO = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/customer-tg-two/0000000000000002"
ONE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/customer-tg-one/0000000000000001"
OTHER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other-tg/0000000000000003"
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-b", "subnet-a"], "securityGroups": ["sg-1"],
                                   "assignPublicIp": "ENABLED"}}


def desired(count=1):
    (svc,) = _services.check_services([{"name": "customer"}])
    (out,), problems, unknown = ecs.desired_services(
        [svc], {"customer": {"one": {"arn": ONE}, "two": {"arn": TWO}}}, ["subnet-a", "subnet-b"], ["sg-1"], True, count)
    assert problems == [] and unknown == []
    return out


def described(td=TD1, tg=TWO, count=1, task_sets=None):
    lbs = [{"targetGroupArn": tg, "containerName": "customer", "containerPort": 8080}]
    return {"serviceName": "customer-microservice", "status": "ACTIVE", "desiredCount": count,
            "deploymentController": {"type": "CODE_DEPLOY"}, "launchType": "FARGATE", "schedulingStrategy": "REPLICA",
            "taskDefinition": td, "loadBalancers": lbs, "networkConfiguration": NETWORK,
            "taskSets": task_sets if task_sets is not None else [
                {"status": "PRIMARY", "taskDefinition": td, "loadBalancers": lbs, "networkConfiguration": NETWORK}]}


def test_names_and_create_input_follow_the_lab():
    want = desired()
    assert want["name"] == "customer-microservice" and want["container_name"] == "customer"
    params = ecs.create_params("microservices-serverlesscluster", want, TD1)
    assert params["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert params["launchType"] == "FARGATE" and params["schedulingStrategy"] == "REPLICA"
    assert params["loadBalancers"] == [{"targetGroupArn": TWO, "containerName": "customer", "containerPort": 8080}]
    assert params["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED"}


def test_converged_service_needs_nothing():
    assert ecs.compare(ecs.state_of(described()), desired(), TD1) == ({}, [])


def test_desired_count_is_an_update_ecs_accepts():
    update, refused = ecs.compare(ecs.state_of(described()), desired(3), TD1)
    assert update == {"desiredCount": 3} and refused == []


def entry_desired(entry_count, module_count=None):
    (svc,) = _services.check_services([{"name": "customer", "desired_count": entry_count}])
    (out,), problems, _unknown = ecs.desired_services(
        [svc], {"customer": {"one": {"arn": ONE}, "two": {"arn": TWO}}}, ["subnet-a", "subnet-b"], ["sg-1"], True,
        module_count)
    assert problems == []
    return out


def test_an_unset_count_is_left_to_whoever_changed_it():
    """Scaled by hand (or by a scaling policy) to 2: a rerun without desired_count does not reset it."""
    want = entry_desired(None)
    assert want["desired_count"] is None
    assert ecs.compare(ecs.state_of(described(count=2)), want, TD1) == ({}, [])
    assert ecs.create_params("c", want, TD1)["desiredCount"] == 1  # a new service starts with one task
    assert ecs.desired_state(want, TD1)["desired_count"] == 1


def test_a_service_s_own_count_is_converged_and_wins_over_the_module_s():
    want = entry_desired(3, module_count=1)
    assert want["desired_count"] == 3
    assert ecs.compare(ecs.state_of(described(count=2)), want, TD1) == ({"desiredCount": 3}, [])
    assert ecs.create_params("c", want, TD1)["desiredCount"] == 3
    assert entry_desired(None, module_count=0)["desired_count"] == 0


def test_new_revision_is_reported_for_codedeploy_not_updated():
    update, refused = ecs.compare(ecs.state_of(described()), desired(), TD2)
    assert update == {}
    (diff,) = refused
    assert diff["field"] == "task_definition" and diff["current"] == TD1 and diff["desired"] == TD2
    assert "CodeDeploy" in diff["action"]


def test_codedeploy_swap_to_the_other_target_group_is_converged():
    """After a blue/green deployment the PRIMARY task set runs the new revision behind tg-one."""
    swapped = described(td=TD1, tg=TWO, task_sets=[
        {"status": "PRIMARY", "taskDefinition": TD2, "networkConfiguration": NETWORK,
         "loadBalancers": [{"targetGroupArn": ONE, "containerName": "customer", "containerPort": 8080}]},
        {"status": "ACTIVE", "taskDefinition": TD1, "networkConfiguration": NETWORK,
         "loadBalancers": [{"targetGroupArn": TWO, "containerName": "customer", "containerPort": 8080}]}])
    state = ecs.state_of(swapped)
    assert state["target_group_arn"] == ONE and state["task_definition"] == TD2
    assert ecs.compare(state, desired(), TD2) == ({}, [])


def test_a_target_group_outside_the_pair_means_recreate():
    update, refused = ecs.compare(ecs.state_of(described(tg=OTHER)), desired(), TD1)
    assert update == {}
    assert [d["field"] for d in refused] == ["load_balancers"]
    assert "delete the service" in refused[0]["action"]


def test_network_and_controller_differences_are_refused_not_updated():
    svc = described()
    svc["deploymentController"] = {"type": "ECS"}
    svc["taskSets"][0]["networkConfiguration"] = {
        "awsvpcConfiguration": {"subnets": ["subnet-a"], "securityGroups": ["sg-1"]}}
    update, refused = ecs.compare(ecs.state_of(svc), desired(2), TD1)
    assert update == {"desiredCount": 2}
    assert sorted(d["field"] for d in refused) == ["assign_public_ip", "deployment_controller", "subnets"]


def test_missing_target_groups_are_a_problem():
    (svc,) = _services.check_services([{"name": "customer"}])
    problems = ecs.desired_services([svc], {}, ["subnet-a"], ["sg-1"], True, 1)[1]
    assert problems and "no target groups for service customer" in problems[0]


def test_what_phase6_would_create_in_check_mode_is_unknown_not_a_problem():
    """Phase 6 in check mode publishes '' for a target group or security group it would create."""
    (svc,) = _services.check_services([{"name": "customer"}])
    (out,), problems, unknown = ecs.desired_services(
        [svc], {"customer": {"one": {"name": "customer-tg-one", "arn": ""}, "two": {"name": "customer-tg-two", "arn": ""}}},
        ["subnet-a"], [""], True, 1)
    assert problems == []
    assert len(unknown) == 2 and "customer has no ARN yet" in unknown[0]
    assert out["security_groups"] == []


def test_container_and_port_must_exist_in_the_task_definition():
    want = desired()
    td = {"taskDefinitionArn": TD1, "containerDefinitions": [
        {"name": "customer", "portMappings": [{"containerPort": 8080}]}]}
    assert ecs.container_problem(want, td) is None
    td["containerDefinitions"][0]["portMappings"] = [{"containerPort": 80}]
    assert "maps ports [80], not 8080" in ecs.container_problem(want, td)
    td["containerDefinitions"][0]["name"] = "web"
    assert "has no container customer" in ecs.container_problem(want, td)


def test_describe_batches_of_ten():
    assert [len(b) for b in ecs.describe_batches(["s%d" % i for i in range(23)])] == [10, 10, 3]
