"""The Phase 7 and 8 planners of lab_info's plan (_plan.ecs_services, codedeploy, pipelines).

Each planner gets what lab_info read: a converged read (built from what the roles' modules would create)
plans nothing; each kind of difference the role's module would change plans a line; a difference the
module does not count (a release: the live target group of the pair, the pipeline's revision) plans
nothing; an input lab_info was not given plans None. tests/e2e/test_site_plan.py runs the
same planners on a converged local cloud lab.
"""
import copy
import json


# Plain imports: these tests must fail, not skip, where the planners do not exist.
from ansible_collections.cloudlab.microservices.plugins.module_utils import _codedeploy
from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecs_services
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _pipeline
from ansible_collections.cloudlab.microservices.plugins.module_utils import _plan
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import check_services


ACCOUNT = "123456789012"
CLUSTER = "microservices-serverlesscluster"
BUCKET = "codepipeline-us-east-1-%s-microservices" % ACCOUNT
SERVICES = check_services([{"name": "customer"},
                           {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}])
P = dict(application_name="microservices", repository="deployment", branch="dev", image_tag="latest",
         desired_count=1, deployment_config="CodeDeployDefault.ECSAllAtOnce", reroute_wait_minutes=0,
         termination_wait_minutes=5, auto_rollback_events=["DEPLOYMENT_FAILURE"], codedeploy_tags={},
         pipeline_type="V2", change_detection=True, events_role_arn="", pipeline_tags={})


def tg_arn(name):
    return "arn:aws:elasticloadbalancing:us-east-1:%s:targetgroup/%s/0a1b" % (ACCOUNT, name)


def td_arn(family, revision):
    return "arn:aws:ecs:us-east-1:%s:task-definition/%s:%d" % (ACCOUNT, family, revision)


LAB = dict(
    partition="aws", region="us-east-1", account_id=ACCOUNT, subnet_ids=["subnet-1", "subnet-2"],
    security_group=dict(id="sg-1"), cluster=dict(name=CLUSTER),
    target_groups=dict((s["name"], dict((w, dict(name=_lab.target_group(s["name"], w),
                                                 arn=tg_arn(_lab.target_group(s["name"], w)))) for w in _lab.PAIR))
                       for s in SERVICES),
    listener_arns=dict(production="arn:aws:elasticloadbalancing:us-east-1:%s:listener/app/lb/1/80" % ACCOUNT,
                       test="arn:aws:elasticloadbalancing:us-east-1:%s:listener/app/lb/1/8080" % ACCOUNT),
    deploy_role_arn="arn:aws:iam::%s:role/DeployRole" % ACCOUNT,
    pipeline_role_arn="arn:aws:iam::%s:role/PipelineRole" % ACCOUNT,
    artifact_bucket=dict(name=BUCKET, exists=True),
)


def converged():
    """What lab_info reads (``raw``) from a lab the three roles converged, built from what their modules create."""
    wanted, _p, _u = _ecs_services.desired_services(SERVICES, LAB["target_groups"], LAB["subnet_ids"], ["sg-1"],
                                                    True, 1)
    ecs = {}
    for desired in wanted:
        svc = _ecs_services.create_params(CLUSTER, desired, td_arn(desired["family"], 1),
                                          _lab.owner_tags("microservices", desired["key"]))
        svc.update(status="ACTIVE", deploymentController={"type": "CODE_DEPLOY"}, runningCount=1,
                   serviceArn="arn:aws:ecs:us-east-1:%s:service/%s/%s" % (ACCOUNT, CLUSTER, desired["name"]))
        ecs[desired["name"]] = svc
    tags = {"CodeDeploy application microservices": _lab.owner_tags("microservices")}
    groups = _codedeploy.role_groups(SERVICES, dict(
        codedeploy_application_name="microservices", codedeploy_service_role_arn=LAB["deploy_role_arn"],
        codedeploy_cluster_name=CLUSTER, codedeploy_listener_arns=LAB["listener_arns"],
        codedeploy_deployment_config=P["deployment_config"], codedeploy_termination_wait_minutes=5,
        codedeploy_auto_rollback_events=["DEPLOYMENT_FAILURE"]))
    dgroups = []
    for group in groups:
        info = dict(_codedeploy.desired_group(group), applicationName="microservices",
                    deploymentGroupName=group["name"], deploymentGroupId="d-1", computePlatform="ECS")
        dgroups.append(dict(name=group["name"], info=info, deployments=[]))
        tags["deployment group " + group["name"]] = group["tags"]
    entries = _pipeline.role_pipelines(SERVICES, dict(
        pipelines_role_arn=LAB["pipeline_role_arn"], pipelines_repository="deployment", pipelines_branch="dev",
        pipelines_image_tag="latest", pipelines_application="microservices", pipelines_artifact_bucket=BUCKET,
        pipelines_type="V2", pipelines_change_detection=True))
    pipes = []
    for entry in entries:
        arn = "arn:aws:codepipeline:us-east-1:%s:%s" % (ACCOUNT, entry["name"])
        decl = dict(_pipeline.declaration(entry), version=3)
        # As GetPipeline shows it: configuration keys AWS adds with their default value.
        decl["stages"][0]["actions"][1]["configuration"]["PollForSourceChanges"] = "true"
        rules = {}
        for rule in _pipeline.change_detection_rules(decl, arn, LAB["pipeline_role_arn"], "aws", "us-east-1", ACCOUNT):
            listed = dict(rule, EventPattern=json.dumps(rule["EventPattern"]), Targets=None,
                          Arn="arn:aws:events:us-east-1:%s:rule/%s" % (ACCOUNT, rule["Name"]))
            rules[rule["Name"]] = _pipeline.current_rule(listed, rule["Targets"], None)
            tags["EventBridge rule " + rule["Name"]] = _lab.ownership_of(entry["tags"])
        tags["pipeline " + entry["name"]] = entry["tags"]
        pipes.append(dict(name=entry["name"], declaration=decl, arn=arn, current_rules=rules,
                          rules=sorted(rules), latest_execution={}))
    return dict(ecs=ecs, app=dict(applicationName="microservices", computePlatform="ECS"), dgroups=dgroups,
                pipelines=pipes, tags=tags)


def plan(raw, p=None, lab=None):
    p, lab = p or P, lab or LAB
    return dict((role, getattr(_plan, role)(SERVICES, p, lab, raw)) for role in ("ecs_services", "codedeploy", "pipelines"))


def test_a_converged_lab_plans_nothing():
    assert plan(converged()) == dict(ecs_services=[], codedeploy=[], pipelines=[])
    assert all(_plan.PLANNERS[role](SERVICES, P, LAB, converged()) == [] for role in ("ecs_services", "codedeploy", "pipelines"))


def test_a_missing_input_plans_none():
    for key, role in (("deployment_config", "codedeploy"),
                      ("termination_wait_minutes", "codedeploy"), ("reroute_wait_minutes", "codedeploy"),
                      ("auto_rollback_events", "codedeploy"), ("codedeploy_tags", "codedeploy"),
                      ("pipeline_type", "pipelines"), ("change_detection", "pipelines"),
                      ("events_role_arn", "pipelines"), ("pipeline_tags", "pipelines")):
        p = dict(P)
        p[key] = None
        planned = plan(converged(), p)
        assert planned[role] is None, key
        assert all(v == [] for r, v in planned.items() if r != role), key
    # Given but empty is not "not given": the lab's defaults are empty tags and no events role.
    assert plan(converged(), dict(P, codedeploy_tags={}, events_role_arn=""))["pipelines"] == []


def test_after_a_release_nothing_is_planned():
    """CodeDeploy moved each service to tg-one on a revision the pipeline registered: not a change."""
    raw = converged()
    for svc in raw["ecs"].values():
        family = svc["taskDefinition"].rsplit("/", 1)[1].split(":")[0]
        svc["taskSets"] = [dict(status="PRIMARY", taskDefinition=td_arn(family, 7), launchType="FARGATE",
                                networkConfiguration=svc["networkConfiguration"],
                                loadBalancers=[dict(svc["loadBalancers"][0],
                                                    targetGroupArn=svc["loadBalancers"][0]["targetGroupArn"]
                                                    .replace("tg-two", "tg-one"))])]
    assert plan(raw) == dict(ecs_services=[], codedeploy=[], pipelines=[])


def test_ecs_services_plans_each_change_its_module_makes():
    raw = converged()
    del raw["ecs"]["customer-microservice"]
    raw["ecs"]["employee-microservice"]["status"] = "DRAINING"
    assert plan(raw)["ecs_services"] == ["create ECS service customer-microservice on cluster " + CLUSTER,
                                         "create ECS service employee-microservice on cluster " + CLUSTER]
    raw = converged()
    raw["ecs"]["customer-microservice"]["desiredCount"] = 3
    raw["ecs"]["employee-microservice"]["tags"] = [dict(key="team", value="a")]
    assert plan(raw)["ecs_services"] == [
        "set the desired count of ECS service customer-microservice from 3 to 1",
        "tag ECS service employee-microservice with cloudlab:lab, cloudlab:managed-by, cloudlab:service"]


def test_ecs_services_what_the_module_refuses_is_no_change():
    """A network or load balancer difference is reported by the module (a warning), never changed."""
    raw = converged()
    svc = raw["ecs"]["customer-microservice"]
    svc["networkConfiguration"]["awsvpcConfiguration"]["subnets"] = ["subnet-9"]
    svc["loadBalancers"][0]["containerPort"] = 9090
    assert plan(raw)["ecs_services"] == []


def test_codedeploy_plans_each_change_its_module_makes():
    raw = converged()
    raw["app"] = None
    for group in raw["dgroups"]:
        group["info"] = None
    assert plan(raw)["codedeploy"] == ["create CodeDeploy application microservices",
                                       "create deployment group microservices-customer",
                                       "create deployment group microservices-employee"]
    raw = converged()
    info = raw["dgroups"][0]["info"]
    info["deploymentConfigName"] = "CodeDeployDefault.ECSCanary10Percent5Minutes"
    info["blueGreenDeploymentConfiguration"]["terminateBlueInstancesOnDeploymentSuccess"][
        "terminationWaitTimeInMinutes"] = 60
    raw["tags"]["deployment group microservices-employee"] = dict(raw["tags"]["deployment group microservices-employee"],
                                                                  extra="x")
    raw["tags"]["CodeDeploy application microservices"] = {}
    assert plan(raw)["codedeploy"] == [
        "retag CodeDeploy application microservices: set cloudlab:lab, set cloudlab:managed-by",
        "update deployment group microservices-customer: deploymentConfigName, blueGreenDeploymentConfiguration",
        "retag deployment group microservices-employee: remove extra"]
    # The role's inputs, not the read, are what the groups are compared with.
    assert plan(converged(), dict(P, reroute_wait_minutes=10))["codedeploy"] == [
        "update deployment group microservices-%s: blueGreenDeploymentConfiguration" % s for s in ("customer", "employee")]


def test_codedeploy_without_listeners_plans_none():
    lab = dict(LAB, listener_arns=dict(production=LAB["listener_arns"]["production"]))
    assert plan(converged(), lab=lab)["codedeploy"] is None
    assert plan(converged(), lab=dict(LAB, deploy_role_arn=""))["codedeploy"] is None


def test_pipelines_plans_each_change_its_module_makes():
    raw = converged()
    customer, employee = raw["pipelines"]
    customer["declaration"]["stages"][0]["actions"][0]["configuration"]["BranchName"] = "main"
    del employee["current_rules"][_lab.event_rule(employee["name"], _lab.SOURCE_ACTION)]
    image_rule = employee["current_rules"][_lab.event_rule(employee["name"], _lab.IMAGE_ACTION)]
    image_rule["Targets"] = []
    raw["tags"]["pipeline " + employee["name"]] = {}
    assert plan(raw)["pipelines"] == [
        "update pipeline update-customer-microservice: its declaration differs",
        "retag pipeline update-employee-microservice: set cloudlab:lab, set cloudlab:managed-by, set cloudlab:service",
        "update EventBridge rule update-employee-microservice-image of pipeline update-employee-microservice: targets",
        "create EventBridge rule update-employee-microservice-source of pipeline update-employee-microservice"]
    raw = converged()
    raw["pipelines"][0]["current_rules"][_lab.event_rule("update-customer-microservice", _lab.IMAGE_ACTION)][
        "State"] = "DISABLED"
    raw["tags"]["EventBridge rule update-employee-microservice-image"] = {}
    assert plan(raw)["pipelines"] == [
        "update EventBridge rule update-customer-microservice-image of pipeline update-customer-microservice: "
        "description, pattern or state",
        "update EventBridge rule update-employee-microservice-image of pipeline update-employee-microservice: tags"]


def test_pipelines_new_lab_and_rules_no_longer_wanted():
    raw = converged()
    raw["pipelines"][1] = dict(name="update-employee-microservice", declaration=None, arn="", current_rules={},
                               rules=[], latest_execution={})
    lab = dict(LAB, artifact_bucket=dict(name=BUCKET, exists=False))
    assert plan(raw, lab=lab)["pipelines"] == [
        "create artifact bucket " + BUCKET,
        "create pipeline update-employee-microservice",
        "create EventBridge rule update-employee-microservice-image of pipeline update-employee-microservice",
        "create EventBridge rule update-employee-microservice-source of pipeline update-employee-microservice"]
    assert plan(converged(), dict(P, change_detection=False))["pipelines"] == [
        "delete EventBridge rule update-%s-microservice-%s of pipeline update-%s-microservice" % (s, r, s)
        for s in ("customer", "employee") for r in ("image", "source")]


def test_pipelines_whose_rules_were_not_read_plan_none():
    raw = converged()
    raw["pipelines"][0]["current_rules"] = None
    assert plan(raw)["pipelines"] is None


def test_rule_changes_is_what_the_module_syncs():
    """One rule comparison for the pipeline module and the planner: a rule converged by the module is equal."""
    raw = converged()
    pipe = raw["pipelines"][0]
    desired = _pipeline.change_detection_rules(pipe["declaration"], pipe["arn"], LAB["pipeline_role_arn"], "aws",
                                               "us-east-1", ACCOUNT)
    current = copy.deepcopy(pipe["current_rules"])
    for rule in current.values():
        rule["Tags"] = {"cloudlab:lab": "microservices"}
    assert _pipeline.rule_changes(current, desired, {"cloudlab:lab": "microservices"}) == {}
    changes = _pipeline.rule_changes(current, desired[:1], {"cloudlab:lab": "microservices", "cloudlab:x": "y"})
    assert changes == {desired[0]["Name"]: {"rule": False, "targets": False, "tags": {"cloudlab:x": "y"}},
                       desired[1]["Name"]: {"delete": True}}


def test_an_unset_count_is_left_alone_and_a_services_own_count_is_planned():
    """desired_count unset (the role's default): a count changed by hand is no change, as in the module;
    a service's own desired_count that differs is planned."""
    raw = converged()
    raw["ecs"]["customer-microservice"]["desiredCount"] = 3
    p = dict(P, desired_count=None)
    assert plan(raw, p)["ecs_services"] == []
    services = check_services([{"name": "customer", "desired_count": 2},
                               {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}])
    assert _plan.PLANNERS["ecs_services"](services, p, LAB, raw) == [
        "set the desired count of ECS service customer-microservice from 3 to 2"]
