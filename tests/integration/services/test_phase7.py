"""playbooks/phase7.yml on the local cloud, as one story: the services of the lab, what a rerun changes
(and what it leaves to CodeDeploy), refusals before any change, a third service, teardown and rebuild.

The tests of this module share one cloud (module-scoped `lab7`) and run in order.
"""
import pytest

from localcloud.testing.lab import CLUSTER

from helpers import changed_count as changed, run_playbook, summary, task_results

DESTROY = "playbooks/destroy.yml"
PHASE6 = "playbooks/phase6.yml"
PHASE7 = "playbooks/phase7.yml"
ORDERS = {"name": "orders", "path_pattern": "/orders/*"}
LAB_SERVICES = [{"name": "customer"}, {"name": "employee", "health_check_path": "/admin/suppliers",
                                       "path_pattern": "/admin/*"}]


def test_deploy_role_is_in_the_lab_environment(lab7):
    """lab_environment.yml: DeployRole, trusted by CodeDeploy, with AWSCodeDeployRoleForECS."""
    iam = lab7.cloud.client("iam")
    role = iam.get_role(RoleName="DeployRole")["Role"]
    principals = [st["Principal"]["Service"] for st in role["AssumeRolePolicyDocument"]["Statement"]]
    assert principals == ["codedeploy.amazonaws.com"]
    attached = iam.list_attached_role_policies(RoleName="DeployRole")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"]
    # A rerun of lab_environment.yml changing nothing is tests/integration/context's.


def test_check_mode_creates_nothing(lab7):
    result = lab7.phase7(check=True)
    assert result.rc == 0, result
    shown = summary(result, 7)
    assert shown["check_mode"] is True
    actions = {name: svc["action"] for name, svc in shown["services"].items()}
    assert actions == {"customer": "create", "employee": "create"}
    assert shown["services"]["customer"]["arn"].endswith(":service/%s/customer-microservice" % CLUSTER)
    assert lab7.ecs.list_services(cluster=CLUSTER)["serviceArns"] == []


def test_converge_as_the_lab_then_rerun_changes_nothing(lab7):
    first = lab7.phase7()
    assert first.rc == 0, first
    assert changed(first) == 1
    for name in ("customer", "employee"):
        svc = lab7.service(name)
        assert svc["status"] == "ACTIVE"
        assert svc["deploymentController"] == {"type": "CODE_DEPLOY"}
        assert svc["launchType"] == "FARGATE" and svc["schedulingStrategy"] == "REPLICA"
        assert svc["desiredCount"] == 1
        assert svc["taskDefinition"].endswith(":task-definition/%s-microservice:1" % name)
        assert svc["loadBalancers"] == [{"targetGroupArn": lab7.target_groups[name]["two"]["arn"],
                                         "containerName": name, "containerPort": 8080}]
        network = svc["networkConfiguration"]["awsvpcConfiguration"]
        assert sorted(network["subnets"]) == lab7.subnet_ids
        assert network["securityGroups"] == [lab7.group_id] and network["assignPublicIp"] == "ENABLED"
    shown = summary(first, 7)["services"]
    assert shown["customer"]["status"] == "ACTIVE"
    assert shown["customer"]["task_definition"].endswith("customer-microservice:1")

    second = lab7.phase7()
    assert second.rc == 0, second
    assert changed(second) == 0
    assert {n: s["action"] for n, s in summary(second, 7)["services"].items()} == {"customer": "none",
                                                                                 "employee": "none"}


def test_desired_count_is_updated_in_place_with_a_diff(lab7):
    result = lab7.phase7(diff=True, ecs_services_desired_count=2)
    assert result.rc == 0, result
    assert changed(result) == 1
    (module,) = task_results(result, "Create, update or delete the ECS services")
    diff = module["diff"]
    assert diff["before"]["customer-microservice"]["desired_count"] == 1
    assert diff["after"]["customer-microservice"]["desired_count"] == 2
    svc = lab7.service("customer")
    assert svc["desiredCount"] == 2 and svc["taskSets"][0]["computedDesiredCount"] == 2
    assert svc["serviceArn"] == summary(result, 7)["services"]["customer"]["arn"]  # the same service, not a new one


def test_an_unset_count_is_not_reset(lab7):
    """Two tasks since the last test: a run that sets no count leaves them (a scaling policy's or the user's)."""
    assert lab7.service("customer")["desiredCount"] == 2
    result = lab7.phase7()
    assert result.rc == 0, result
    assert changed(result) == 0
    assert lab7.service("customer")["desiredCount"] == 2


def test_a_new_task_definition_is_reported_not_applied(lab7):
    """Back to one task (an update ECS allows) while revision 2 (another image) is only reported (an update it
    refuses)."""
    newer = lab7.register("customer", image="customer:v2")
    assert newer.endswith(":2")
    result = lab7.phase7(ecs_services_desired_count=1)
    assert result.rc == 0, result
    assert changed(result) == 1
    assert summary(result, 7)["services"]["customer"]["action"] == "update"
    assert lab7.service("customer")["desiredCount"] == 1
    (diff,) = summary(result, 7)["services"]["customer"]["differences"]
    assert diff["field"] == "task_definition" and diff["desired"] == newer
    assert "CodeDeploy" in diff["action"]
    (module,) = task_results(result, "Create, update or delete the ECS services")
    assert any("customer-microservice" in w and "CodeDeploy" in w for w in module["warnings"])
    # The warning is the module's own, not amazon.aws's exit_json(warnings=...) that ansible-core deprecates.
    assert "DEPRECATION" not in result.output and not module.get("deprecations"), result.output
    assert lab7.service("customer")["taskDefinition"].endswith(":1")


def test_after_a_blue_green_switch_a_rerun_changes_nothing(lab7):
    """CodeDeploy's deployment: a task set of revision 2 behind tg-one, made PRIMARY."""
    svc = lab7.service("customer")
    task_set = lab7.ecs.create_task_set(
        cluster=CLUSTER, service="customer-microservice", taskDefinition="customer-microservice:2",
        launchType="FARGATE", networkConfiguration=svc["networkConfiguration"],
        loadBalancers=[{"targetGroupArn": lab7.target_groups["customer"]["one"]["arn"],
                        "containerName": "customer", "containerPort": 8080}])["taskSet"]
    lab7.ecs.update_service_primary_task_set(cluster=CLUSTER, service="customer-microservice",
                                             primaryTaskSet=task_set["taskSetArn"])
    result = lab7.phase7()
    assert result.rc == 0, result
    assert changed(result) == 0
    shown = summary(result, 7)["services"]["customer"]
    assert shown["differences"] == []
    assert shown["target_group_arn"] == lab7.target_groups["customer"]["one"]["arn"]
    after = lab7.service("customer")
    assert after["loadBalancers"][0]["targetGroupArn"] == lab7.target_groups["customer"]["one"]["arn"]


@pytest.mark.parametrize("services,expected", [
    (LAB_SERVICES + [dict(ORDERS, port=70000)], "port 70000 is not a number from 1 to 65535"),
    (LAB_SERVICES + [ORDERS, {"name": "payments", "path_pattern": "/pay/*"}],
     "task definition family payments-microservice of service payments has no ACTIVE revision"),
])
def test_bad_inputs_are_refused_before_any_change(lab7, services, expected):
    if "orders" not in lab7.target_groups:
        lab7.register("orders")
        lab7.target_group_pair("orders")
        lab7.target_group_pair("payments")
    before = sorted(lab7.ecs.list_services(cluster=CLUSTER)["serviceArns"])
    result = lab7.phase7(services=services)
    assert result.rc != 0, result
    assert expected in " ".join(result.output.split())
    assert sorted(lab7.ecs.list_services(cluster=CLUSTER)["serviceArns"]) == before


def test_a_third_service(lab7):
    result = lab7.phase7(services=LAB_SERVICES + [ORDERS])
    assert result.rc == 0, result
    assert changed(result) == 1
    actions = {n: s["action"] for n, s in summary(result, 7)["services"].items()}
    assert actions == {"customer": "none", "employee": "none", "orders": "create"}
    assert lab7.service("orders")["loadBalancers"][0]["targetGroupArn"] == lab7.target_groups["orders"]["two"]["arn"]


def test_teardown_then_a_clean_second_converge(lab7):
    """destroy.yml --tags phase7,phase6: the services are deleted and drained before the load balancer goes.
    Then phase6.yml and phase7.yml alone (Phase 6 read back from AWS) build it again, and the converge waits
    for a service still draining (the lab's pitfall: recreating a service of that name fails while it drains)."""
    down = run_playbook(lab7.cloud, DESTROY, extra_vars=dict(confirm=True, microservices=LAB_SERVICES),
                        tags=["phase7", "phase6"])
    assert down.rc == 0, down
    assert {lab7.service(s["name"])["status"] for s in LAB_SERVICES} == {"INACTIVE"}
    assert lab7.cloud.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    # Phase 5's teardown was left out by the tags: the cluster and the task definitions are still there.
    assert lab7.ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]["status"] == "ACTIVE"
    lab7.ecs.update_service(cluster=CLUSTER, service="orders-microservice", desiredCount=0)
    lab7.ecs.delete_service(cluster=CLUSTER, service="orders-microservice", force=True)
    assert lab7.service("orders")["status"] == "DRAINING"

    services = LAB_SERVICES + [ORDERS]
    six = run_playbook(lab7.cloud, PHASE6, extra_vars=dict(microservices=services))
    assert six.rc == 0, six
    # The cluster was made by the fixture, not by Phase 5's stack: its name is Phase 5's fact.
    again = run_playbook(lab7.cloud, PHASE7, extra_vars=dict(microservices=services, fargate_cluster_name=CLUSTER))
    assert again.rc == 0, again
    assert {n: s["action"] for n, s in summary(again, 7)["services"].items()} == dict.fromkeys(
        ("customer", "employee", "orders"), "create")
    groups = {g["TargetGroupName"]: g["TargetGroupArn"]
              for g in lab7.cloud.client("elbv2").describe_target_groups()["TargetGroups"]}
    for name in ("customer", "employee", "orders"):
        svc = lab7.service(name)
        assert svc["status"] == "ACTIVE"
        assert svc["loadBalancers"][0]["targetGroupArn"] == groups["%s-tg-two" % name]
    assert lab7.service("customer")["taskDefinition"].endswith(":2")  # the latest ACTIVE revision


def test_a_service_running_a_release_of_the_latest_is_not_reported(lab7):
    """The pipeline released the lab's content (image by digest) and CodeDeploy runs it; then the lab's content
    was registered on top, as Phase 5 did after a few releases: Phase 7 reports and warns nothing."""
    services = LAB_SERVICES + [ORDERS]
    groups = {g["TargetGroupName"]: g["TargetGroupArn"]
              for g in lab7.cloud.client("elbv2").describe_target_groups()["TargetGroups"]}
    released = lab7.register("customer", image="customer@sha256:" + "a" * 64)
    svc = lab7.service("customer")
    task_set = lab7.ecs.create_task_set(
        cluster=CLUSTER, service="customer-microservice", taskDefinition=released,
        launchType="FARGATE", networkConfiguration=svc["networkConfiguration"],
        loadBalancers=[{"targetGroupArn": groups["customer-tg-one"], "containerName": "customer",
                        "containerPort": 8080}])["taskSet"]
    lab7.ecs.update_service_primary_task_set(cluster=CLUSTER, service="customer-microservice",
                                             primaryTaskSet=task_set["taskSetArn"])
    latest = lab7.register("customer")
    assert int(latest.rsplit(":", 1)[1]) == int(released.rsplit(":", 1)[1]) + 1

    result = run_playbook(lab7.cloud, PHASE7, extra_vars=dict(microservices=services, fargate_cluster_name=CLUSTER))
    assert result.rc == 0, result
    assert changed(result) == 0
    shown = summary(result, 7)["services"]["customer"]
    assert shown["differences"] == [] and shown["task_definition"] == released
    (module,) = task_results(result, "Create, update or delete the ECS services")
    assert not module.get("warnings"), module.get("warnings")

    # A latest revision with other content (a bigger task) is still reported.
    other = dict(lab7.ecs.describe_task_definition(taskDefinition=latest)["taskDefinition"], memory="2048")
    other = lab7.ecs.register_task_definition(**dict((k, other[k]) for k in (
        "family", "networkMode", "requiresCompatibilities", "cpu", "memory", "executionRoleArn",
        "containerDefinitions")))["taskDefinition"]["taskDefinitionArn"]
    result = run_playbook(lab7.cloud, PHASE7, extra_vars=dict(microservices=services, fargate_cluster_name=CLUSTER))
    assert result.rc == 0, result
    (diff,) = summary(result, 7)["services"]["customer"]["differences"]
    assert diff["field"] == "task_definition" and diff["current"] == released and diff["desired"] == other
