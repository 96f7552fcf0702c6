"""The planners of Phases 5 and 6 (_plan): a converged read plans [], each kind of difference a line, a
missing input None. Pure functions on hand-made reads, as lab_info's read_lab hands them over."""
import copy
import os

import pytest

from ansible_collections.cloudlab.microservices.plugins.module_utils import _ecr
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _plan
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import check_services

from helpers import ROOT

ACCOUNT = "123456789012"
VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
SG = "sg-0123456789abcdef0"
SERVICES = check_services([{"name": "customer"},
                           {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}],
                          variable="microservices")
LB_INPUTS = {"lab": "microservices", "subnet_ids": SUBNETS, "ingress_cidrs": ["0.0.0.0/0"]}
CC_INPUTS = {"remote_url": "", "description": "Task definitions and AppSpec files"}


def tg_arn(name):
    return "arn:aws:elasticloadbalancing:us-east-1:%s:targetgroup/%s/1" % (ACCOUNT, name)


def params(**inputs):
    return dict(production_port=80, test_port=8080, load_balancer_name="microservicesLB", image_tag="latest",
                security_group_name="microservices-sg", repository="deployment", branch="dev",
                plan_inputs=inputs)


def forward(name):
    return [{"Type": "forward", "TargetGroupArn": tg_arn(name)}]


def converged():
    """A read of the lab as the roles of Phases 5 and 6 leave it."""
    groups, tags = {}, {}
    for svc in SERVICES:
        for which in _lab.PAIR:
            name = _lab.target_group(svc["name"], which)
            groups[name] = dict(TargetGroupName=name, TargetGroupArn=tg_arn(name), Port=8080, Protocol="HTTP",
                                TargetType="ip", VpcId=VPC, HealthCheckPath=svc["health_check_path"],
                                HealthCheckProtocol="HTTP")
            tags["target group " + name] = _lab.owner_tags("microservices", svc["name"])
    tags["load balancer microservicesLB"] = _lab.owner_tags("microservices")
    listed = [dict(CidrIp="0.0.0.0/0", Description="Listeners of microservicesLB")]
    sg = dict(GroupId=SG, GroupName="microservices-sg", VpcId=VPC,
              Tags=[dict(Key=k, Value=v) for k, v in _lab.owner_tags("microservices").items()],
              IpPermissions=[dict(IpProtocol="tcp", FromPort=80, ToPort=80, IpRanges=copy.deepcopy(listed)),
                             dict(IpProtocol="tcp", FromPort=8080, ToPort=8080, IpRanges=copy.deepcopy(listed),
                                  UserIdGroupPairs=[dict(GroupId=SG,
                                                         Description="From the load balancer to the services")])])
    lb = dict(LoadBalancerArn="arn:lb", LoadBalancerName="microservicesLB", Scheme="internet-facing", VpcId=VPC,
              SecurityGroups=[SG], AvailabilityZones=[dict(SubnetId=s) for s in SUBNETS])
    rule = dict(Priority=str(_lab.rule_priority(1)), IsDefault=False,
                Conditions=[{"Field": "path-pattern", "Values": ["/admin/*"]}])
    listeners = [dict(ListenerArn="arn:listener/80", Port=80, Protocol="HTTP", DefaultActions=forward("customer-tg-two"),
                      Rules=[dict(rule, RuleArn="arn:rule/80", Actions=forward("employee-tg-two"))]),
                 dict(ListenerArn="arn:listener/8080", Port=8080, Protocol="HTTP",
                      DefaultActions=forward("customer-tg-one"),
                      Rules=[dict(rule, RuleArn="arn:rule/8080", Actions=forward("employee-tg-one"))])]
    repos = [dict(name=s["name"], exists=True, uri="%s.dkr.ecr.us-east-1.amazonaws.com/%s" % (ACCOUNT, s["name"]),
                  image_tag="latest", image_digest="sha256:" + "0" * 64, settings=_ecr.state_of(
                      dict(repositoryName=s["name"], imageTagMutability="MUTABLE",
                           imageScanningConfiguration=dict(scanOnPush=True),
                           encryptionConfiguration=dict(encryptionType="AES256")),
                      _ecr.account_policy("aws", ACCOUNT), _ecr.lab_lifecycle(10), None)) for s in SERVICES]
    for svc in SERVICES:
        owned = _lab.with_owner_tags({"Project": "microservices"}, "microservices", svc["name"])
        tags["ECR repository " + svc["name"]] = owned
    cluster = dict(name="microservices-serverlesscluster", stack_name="Infra-ECS-Cluster-microservices-serverlesscluster",
                   stack_status="CREATE_COMPLETE")
    codecommit = dict(name="deployment", exists=True, commit="abc", description=CC_INPUTS["description"])
    return dict(repos=repos, cluster=cluster, groups=groups, sg=sg, lb=lb, listeners=listeners, tags=tags,
                codecommit=codecommit, archives=dict((s["name"], "sha256:" + "0" * 64) for s in SERVICES))


LAB = {"vpc_id": VPC, "subnet_ids": SUBNETS, "account_id": ACCOUNT, "partition": "aws"}


def plan_of(role, raw, **inputs):
    return _plan.PLANNERS[role](SERVICES, params(**inputs), LAB, raw)


# --- load_balancer ----------------------------------------------------------------------------------------
def test_load_balancer_converged_plans_nothing():
    assert plan_of("load_balancer", converged(), load_balancer=LB_INPUTS) == []


def test_load_balancer_without_its_inputs_cannot_tell():
    assert plan_of("load_balancer", converged()) is None
    # The subnets, when not given, are the lab's public subnets the read found (the playbooks' wiring).
    wired = dict(LB_INPUTS)
    del wired["subnet_ids"]
    assert plan_of("load_balancer", converged(), load_balancer=wired) == []
    # A removal (load_balancer_state=absent) is the role's to do, whatever the read found.
    assert plan_of("load_balancer", converged(), load_balancer=dict(LB_INPUTS, state="absent")) is None
    assert plan_of("load_balancer", converged(), load_balancer=dict(LB_INPUTS, state="present")) == []
    partial = dict(LB_INPUTS)
    del partial["ingress_cidrs"]
    assert plan_of("load_balancer", converged(), load_balancer=partial) is None


def test_either_group_of_a_pair_is_converged():
    raw = converged()
    raw["listeners"][0]["DefaultActions"] = forward("customer-tg-one")
    raw["listeners"][0]["Rules"][0]["Actions"] = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": tg_arn("employee-tg-one"), "Weight": 90},
        {"TargetGroupArn": tg_arn("employee-tg-two"), "Weight": 10}]}}]
    assert plan_of("load_balancer", raw, load_balancer=LB_INPUTS) == []


def _lines(change):
    raw = converged()
    change(raw)
    return plan_of("load_balancer", raw, load_balancer=LB_INPUTS)


@pytest.mark.parametrize("change, expected", [
    (lambda raw: raw["groups"].pop("employee-tg-one"), "create employee-tg-one"),
    (lambda raw: raw["groups"]["customer-tg-one"].update(HealthCheckPath="/drifted"),
     "update customer-tg-one health check path /drifted -> /"),
    (lambda raw: raw["tags"].update({"target group customer-tg-two": {}}), "tag customer-tg-two with cloudlab:"),
    (lambda raw: raw.update(sg=None), "create security group"),
    (lambda raw: raw["sg"]["IpPermissions"].pop(0), "open tcp 80-80 from cidr 0.0.0.0/0"),
    (lambda raw: raw["sg"]["IpPermissions"][0]["IpRanges"].append(dict(CidrIp="10.0.0.0/8")),
     "close tcp 80-80 from cidr 10.0.0.0/8"),
    (lambda raw: raw["sg"]["IpPermissions"][0]["IpRanges"][0].update(Description="changed"),
     "open tcp 80-80 from cidr 0.0.0.0/0"),
    (lambda raw: raw["sg"].update(Tags=[]), "tag microservices-sg with cloudlab:"),
    (lambda raw: raw.update(lb=None), "create load balancer microservicesLB"),
    (lambda raw: raw["lb"]["AvailabilityZones"].pop(), "set subnets of microservicesLB"),
    (lambda raw: raw["lb"].update(SecurityGroups=["sg-other"]), "set security groups of microservicesLB"),
    (lambda raw: raw["lb"].update(Scheme="internal"), "microservicesLB is internal, not internet-facing"),
    (lambda raw: raw["tags"].update({"load balancer microservicesLB": {}}), "tag microservicesLB with cloudlab:"),
    (lambda raw: raw["listeners"].pop(1), "create test listener HTTP:8080"),
    (lambda raw: raw["listeners"][0].update(DefaultActions=forward("employee-tg-two")),
     "point production listener HTTP:80"),
    (lambda raw: raw["listeners"][0].update(Rules=[]), "create rule /admin/* of production listener HTTP:80"),
    (lambda raw: raw["listeners"][1]["Rules"][0].update(Actions=forward("customer-tg-one")),
     "point rule /admin/* of test listener HTTP:8080"),
    (lambda raw: raw["listeners"][1]["Rules"][0].update(Priority="7"), "move rule /admin/* of test listener"),
    (lambda raw: raw["listeners"][1]["Rules"].append(dict(RuleArn="arn:x", Priority="9", Conditions=[
        {"Field": "path-pattern", "Values": ["/old/*"]}], Actions=forward("customer-tg-one"))),
     "delete rule 9 of test listener HTTP:8080"),
])
def test_load_balancer_plans_each_difference(change, expected):
    lines = _lines(change)
    assert any(line.startswith(expected) or expected in line for line in lines), lines


def test_a_port_that_cannot_change_is_refused_with_the_modules_message():
    raw = converged()
    assert _plan.refusals(SERVICES, LAB, raw) == []
    raw["groups"]["customer-tg-one"]["Port"] = 8081
    (message,) = _plan.refusals(SERVICES, LAB, raw)
    assert "customer-tg-one of service customer: its Port cannot change" in message
    assert "set the service's port back" in message


def test_what_another_lab_made_is_refused_before_any_change():
    raw = converged()
    lab = dict(LAB, ownership={"other_labs": {"target group customer-tg-one": "lab2"}})
    (message,) = _plan.refusals(SERVICES, lab, raw, "microservices")
    assert message.startswith("target group customer-tg-one carries cloudlab:lab=lab2: the collection made them for "
                              "the lab lab2")
    assert "not for this lab (microservices)" in message
    assert _plan.refusals(SERVICES, dict(LAB, ownership={"other_labs": {}}), raw, "microservices") == []


# --- Phase 5 ----------------------------------------------------------------------------------------------
def test_codecommit_repo_converged_plans_nothing():
    assert plan_of("codecommit_repo", converged(), codecommit_repo=CC_INPUTS) == []


def test_codecommit_repo_differences_and_missing_inputs():
    raw = converged()
    assert plan_of("codecommit_repo", raw) is None
    assert plan_of("codecommit_repo", raw, codecommit_repo={"remote_url": ""}) is None
    raw["codecommit"]["description"] = "by hand"
    assert plan_of("codecommit_repo", raw, codecommit_repo=CC_INPUTS) == [
        "update the description of CodeCommit repository deployment"]
    raw["codecommit"] = dict(exists=False)
    assert plan_of("codecommit_repo", raw, codecommit_repo=CC_INPUTS) == ["create CodeCommit repository deployment"]
    # Another git remote: the role writes nothing to CodeCommit.
    assert plan_of("codecommit_repo", raw, codecommit_repo=dict(CC_INPUTS, remote_url="https://git.example/d")) == []


def test_phase5_roles_plan_what_is_missing_and_cannot_tell_the_rest():
    raw = converged()
    for role in ("image_push", "fargate_cluster", "taskdef_appspec"):
        assert plan_of(role, raw) is None, role
    raw["repos"][1].update(exists=False, image_digest="")
    raw["cluster"]["stack_status"] = ""
    raw["codecommit"]["commit"] = ""
    assert plan_of("ecr_repos", raw) == ["create ECR repository employee"]
    assert plan_of("image_push", raw) == ["push employee:latest"]
    assert plan_of("fargate_cluster", raw) == [
        "create stack Infra-ECS-Cluster-microservices-serverlesscluster with cluster microservices-serverlesscluster"]
    assert plan_of("taskdef_appspec", raw) == ["push the deployment files to dev of deployment"]
    raw["repos"][0]["image_digest"] = ""
    assert plan_of("image_push", raw) == ["push customer:latest", "push employee:latest"]


ARCHIVE = {"method": "archive", "archive_dir": "/images"}


def test_ecr_repos_converged_plans_nothing():
    assert plan_of("ecr_repos", converged()) == []
    # The role's defaults given as the playbooks hand them (templated: numbers and booleans as text).
    given = dict((k, str(v)) for k, v in _plan.ECR_REPOS_DEFAULTS.items() if k != "tags")
    assert plan_of("ecr_repos", converged(), ecr_repos=given) == []


@pytest.mark.parametrize("change, inputs, expected", [
    (lambda s, t: s.update(lifecycle_policy=None), {}, "set the lifecycle policy of ECR repository customer"),
    (lambda s, t: None, {"untagged_keep": 5}, "set the lifecycle policy of ECR repository customer"),
    (lambda s, t: s.update(scan_on_push=False), {}, "set scan on push of ECR repository customer"),
    (lambda s, t: s.update(image_tag_mutability="IMMUTABLE"), {}, "set the image tag mutability of ECR repository customer"),
    (lambda s, t: s.update(policy=None), {}, "set the repository policy of ECR repository customer"),
    (lambda s, t: None, {"policy_scope": "lab"}, "set the repository policy of ECR repository customer"),
    (lambda s, t: t.pop(_lab.TAG_SERVICE), {}, "retag ECR repository customer: set cloudlab:service"),
    (lambda s, t: t.update(Owner="me"), {"purge_tags": True}, "retag ECR repository customer: remove Owner"),
])
def test_ecr_repos_plans_each_difference(change, inputs, expected):
    raw = converged()
    change(raw["repos"][0]["settings"], raw["tags"]["ECR repository customer"])
    planned = plan_of("ecr_repos", raw, ecr_repos=inputs)
    assert expected in planned, planned
    assert not [line for line in planned if "employee" in line] or inputs, planned



@pytest.mark.parametrize("inputs", [{"untagged_keep": "many"}, {"scan_on_push": "maybe"}])
def test_ecr_repos_cannot_tell_with_an_input_its_role_refuses(inputs):
    # The read runs before the role's preflight: the plan lets the role run, and the role says which input is wrong.
    assert plan_of("ecr_repos", converged(), ecr_repos=inputs) is None

def test_ecr_repos_plans_the_modules_refusal_and_cannot_tell_without_its_read():
    raw = converged()
    raw["repos"][0]["settings"]["encryption_type"] = "KMS"
    (line,) = plan_of("ecr_repos", raw)
    assert line.startswith("Failed to update ECR repository customer: it is encrypted with KMS"), line
    raw = converged()
    del raw["tags"]["ECR repository employee"]
    assert plan_of("ecr_repos", raw) is None
    raw = converged()
    raw["repos"][1]["settings"] = None
    assert plan_of("ecr_repos", raw) is None


def test_image_push_compares_the_archives_digest_with_ecrs():
    assert plan_of("image_push", converged(), image_push=ARCHIVE) == []
    raw = converged()
    raw["archives"]["employee"] = "sha256:" + "1" * 64
    assert plan_of("image_push", raw, image_push=ARCHIVE) == [
        "push employee:latest (sha256:%s, ECR holds sha256:%s)" % ("1" * 64, "0" * 64)]
    # Cannot tell: the engine's image (method auto or docker), another tag than the read's, an archive not read.
    assert plan_of("image_push", converged(), image_push=dict(ARCHIVE, method="docker")) is None
    assert plan_of("image_push", converged(), image_push=dict(ARCHIVE, tag="v2")) is None
    raw = converged()
    raw["archives"]["customer"] = None
    assert plan_of("image_push", raw, image_push=ARCHIVE) is None


def test_the_phase5_plan_defaults_are_the_roles_defaults():
    import yaml
    for role, defaults, prefix in (("ecr_repos", _plan.ECR_REPOS_DEFAULTS, "ecr_repos_"),
                                   ("image_push", _plan.IMAGE_PUSH_DEFAULTS, "image_push_")):
        with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml"), encoding="utf-8") as handle:
            found = yaml.safe_load(handle)
        assert dict((k, found[prefix + k]) for k in defaults) == defaults, role
    # read_lab.yml hands each of them over by that variable.
    with open(os.path.join(ROOT, "playbooks", "tasks", "read_lab.yml"), encoding="utf-8") as handle:
        given = yaml.safe_load(handle)[0]["cloudlab.microservices.lab_info"]["plan_inputs"]
    for role, defaults, prefix in (("ecr_repos", _plan.ECR_REPOS_DEFAULTS, "ecr_repos_"),
                                   ("image_push", _plan.IMAGE_PUSH_DEFAULTS, "image_push_")):
        for key in defaults:
            assert given[role][key] == "{{ %s%s | default(omit) }}" % (prefix, key), (role, key)


def test_the_modules_lifecycle_policy_is_the_one_the_role_asked_before():
    assert _ecr.lab_lifecycle("10") == {"rules": [{
        "rulePriority": 1, "description": "Expire untagged images beyond the 10 newest",
        "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 10},
        "action": {"type": "expire"}}]}


TEMPLATE = os.path.join(ROOT, "roles", "fargate_cluster", "files", "fargate-cluster.cfn.yml")
CLUSTER = "microservices-serverlesscluster"


def _template():
    with open(TEMPLATE, encoding="utf-8") as handle:
        return handle.read()


def stack_read(raw):
    """The converged stack, as fargate_cluster deployed it: the role's template, parameters and tags."""
    params = dict(ECSClusterName=CLUSTER, VpcId=VPC, SubnetIds=",".join(SUBNETS), SecurityGroupIds="",
                  ContainerInsights="enabled", ServiceConnectNamespace="")
    raw["cluster"].update(name=CLUSTER, note="", template=_template(), stack=dict(
        StackName=raw["cluster"]["stack_name"], StackStatus="CREATE_COMPLETE",
        Parameters=[dict(ParameterKey=k, ParameterValue=v) for k, v in params.items()],
        Tags=[dict(Key=k, Value=v) for k, v in _lab.owner_tags("microservices").items()]))
    return raw


def test_fargate_cluster_converged_plans_nothing():
    assert plan_of("fargate_cluster", stack_read(converged()), fargate_cluster={"template_body": _template()}) == []


@pytest.mark.parametrize("change, inputs, expected", [
    (lambda c: c["stack"]["Parameters"][4].update(ParameterValue="disabled"), {},
     'update stack Infra-ECS-Cluster-microservices-serverlesscluster: parameter ContainerInsights: "disabled" -> "enabled"'),
    (lambda c: None, {"container_insights": "enhanced"}, "parameter ContainerInsights"),
    (lambda c: c["stack"]["Parameters"][2].update(ParameterValue=SUBNETS[0]), {}, "parameter SubnetIds"),
    (lambda c: c["stack"]["Tags"].pop(), {}, "tags:"),
    (lambda c: None, {"tags": {"Owner": "me"}}, "tags:"),
    (lambda c: c.update(template=c["template"].replace("Default: enabled", "Default: disabled")), {}, "template"),
    (lambda c: c["stack"].update(StackStatus="UPDATE_ROLLBACK_COMPLETE"), {}, None),
    (lambda c: c["stack"].update(StackStatus="UPDATE_IN_PROGRESS"), {}, None),
    (lambda c: c.update(note="cluster microservices-serverlesscluster is someone else's"), {}, None),
    (lambda c: c.update(template=None), {}, None),
])
def test_fargate_cluster_plans_each_difference(change, inputs, expected):
    raw = stack_read(converged())
    change(raw["cluster"])
    raw["cluster"]["stack_status"] = raw["cluster"]["stack"]["StackStatus"]
    planned = plan_of("fargate_cluster", raw, fargate_cluster=dict(inputs, template_body=_template()))
    if expected is None:
        assert planned is None
    else:
        assert len(planned) == 1 and planned[0].startswith("update stack ") and expected in planned[0], planned


def test_fargate_cluster_without_its_template_cannot_tell():
    assert plan_of("fargate_cluster", stack_read(converged())) is None
    assert plan_of("fargate_cluster", stack_read(converged()), fargate_cluster={"container_insights": "enabled"}) is None


def test_the_fargate_cluster_plan_defaults_are_the_roles_defaults():
    import yaml
    with open(os.path.join(ROOT, "roles", "fargate_cluster", "defaults", "main.yml"), encoding="utf-8") as handle:
        found = yaml.safe_load(handle)
    assert dict((k, found["fargate_cluster_" + k]) for k in _plan.FARGATE_CLUSTER_DEFAULTS) == \
        _plan.FARGATE_CLUSTER_DEFAULTS
    with open(os.path.join(ROOT, "playbooks", "tasks", "read_lab.yml"), encoding="utf-8") as handle:
        given = yaml.safe_load(handle)[0]["cloudlab.microservices.lab_info"]["plan_inputs"]["fargate_cluster"]
    for key in _plan.FARGATE_CLUSTER_DEFAULTS:
        assert given[key] == "{{ fargate_cluster_%s | default(omit) }}" % key, key
    # The template the plan compares with is the file the role deploys.
    from ansible_collections.cloudlab.microservices.plugins.filter import fargate_cluster
    assert os.path.realpath(fargate_cluster.fargate_cluster_template("")) == os.path.realpath(TEMPLATE)
    assert "fargate_cluster_template" in given["template_body"]


# --- the filters the playbooks call -----------------------------------------------------------------------
def _filters():
    # Imported in the test, as test_lab_model does (ansible's plugin side at collection time changes what
    # other unit tests see of ansible's warnings).
    from ansible_collections.cloudlab.microservices.plugins.filter import plan as plan_filters
    return plan_filters


def test_plan_runs_a_role_that_changes_or_cannot_tell():
    f = _filters()
    read = {"plan": {"load_balancer": [], "ecr_repos": ["create ECR repository customer"], "image_push": None}}
    assert f.plan_runs(read, "load_balancer") is False
    assert f.plan_runs(read, "ecr_repos") is True
    assert f.plan_runs(read, "image_push") is True
    with pytest.raises(Exception, match="not one of the planned roles"):
        f.plan_runs(read, "nope")
    with pytest.raises(Exception, match="lab_info's result"):
        f.plan_runs({"skipped": True}, "load_balancer")


def test_lab_facts_are_the_roles_facts_from_the_read():
    read = {"plan": {}, "account_id": ACCOUNT, "partition": "aws", "region": "us-east-1", "vpc_id": VPC,
            "subnet_ids": SUBNETS, "pipeline_role_arn": "arn:p", "deploy_role_arn": "arn:d", "db_host": "db",
            "registry": "r.example", "cluster": {"name": "microservices-serverlesscluster-c"},
            "repositories": {"customer": {"exists": True, "uri": "r.example/customer", "image_digest": "sha256:c"},
                             "employee": {"exists": False, "uri": "", "image_digest": ""}},
            "codecommit": {"clone_url": "https://git/deployment"}, "security_group": {"id": SG},
            "task_definitions": {"customer": {"family": "customer-microservice",
                                              "registered": {"family": "customer-microservice"}},
                                 "employee": {"family": "employee-microservice", "registered": None}},
            "target_groups": {"customer": {"one": {"arn": tg_arn("customer-tg-one")}, "two": None}},
            "load_balancer": {"arn": "arn:lb", "dns_name": "lb.example"}, "listener_arns": {"production": "arn:l80"}}
    facts = _filters().lab_facts(read)
    assert facts["aws_context_subnet_ids"] == SUBNETS and facts["aws_context_registry"] == "r.example"
    assert facts["fargate_cluster_name"] == "microservices-serverlesscluster-c"
    assert facts["ecr_repos_uris"] == {"customer": "r.example/customer"}
    assert facts["image_push_digests"] == {"customer": "sha256:c", "employee": ""}
    assert facts["taskdef_appspec_registered"] == {"customer-microservice": {"family": "customer-microservice"}}
    assert facts["codecommit_repo_clone_url"] == "https://git/deployment"
    assert facts["load_balancer_security_group_id"] == SG
    assert facts["load_balancer_target_groups"] == {"customer": {
        "one": {"name": "customer-tg-one", "arn": tg_arn("customer-tg-one")}, "two": {"name": "customer-tg-two", "arn": ""}}}
    assert facts["load_balancer_listener_arns"] == {"production": "arn:l80", "test": ""}


def test_the_roles_security_group_rules_are_the_ones_the_plan_compares():
    rules = _filters().security_group_rules(SERVICES, 80, 8080, ["0.0.0.0/0"], "microservices-sg", "microservicesLB")
    assert rules[0]["ports"] == ["80", "8080"] and rules[0]["cidr_ip"] == ["0.0.0.0/0"]
    assert rules[1]["ports"] == ["8080"] and rules[1]["group_name"] == "microservices-sg"
    assert plan_of("load_balancer", converged(), load_balancer=dict(LB_INPUTS, ingress_cidrs=["10.0.0.0/8"])) == [
        "open tcp 80-80 from cidr 10.0.0.0/8 on microservices-sg", "open tcp 8080-8080 from cidr 10.0.0.0/8 on microservices-sg",
        "close tcp 80-80 from cidr 0.0.0.0/0 on microservices-sg", "close tcp 8080-8080 from cidr 0.0.0.0/0 on microservices-sg"]


# --- Phases 7 and 8: what the plan took from the read, and the facts of a skipped role ---------------------
def _read78(**plan):
    groups = dict((s["name"], dict((w, {"name": _lab.target_group(s["name"], w),
                                        "arn": tg_arn(_lab.target_group(s["name"], w))}) for w in _lab.PAIR))
                  for s in SERVICES)
    return {"plan": dict(dict(ecs_services=[], codedeploy=[], pipelines=[]), **plan),
            "services": ["customer", "employee"], "account_id": ACCOUNT, "partition": "aws", "region": "us-east-1",
            "vpc_id": VPC, "subnet_ids": SUBNETS, "pipeline_role_arn": "arn:p", "deploy_role_arn": "arn:d",
            "db_host": "", "registry": "r", "cluster": {"name": "microservices-serverlesscluster-c"},
            "repositories": {}, "codecommit": {"name": "deployment", "clone_url": "https://git/deployment"},
            "security_group": {"id": SG}, "target_groups": groups,
            "load_balancer": {"name": "microservicesLB", "arn": "arn:lb", "dns_name": "lb",
                              "listeners": {"production": {"port": 80}, "test": {"port": 8080}}},
            "listener_arns": {"production": "arn:l80", "test": "arn:l8080"},
            "codedeploy": {"application": {"name": "microservices"}},
            "artifact_bucket": {"name": "codepipeline-us-east-1-%s-microservices" % ACCOUNT},
            "ecs_services": {"customer": {"exists": True, "status": "ACTIVE", "arn": "arn:svc/customer",
                                          "running_count": 1, "desired_count": 1, "target_group": "customer-tg-two",
                                          "task_definition": "arn:td/customer-microservice:2"},
                             "employee": {"exists": False}}}


def _wired78(read):
    """The inputs as phase7.yml and phase8.yml wire them on a converged lab (numbers as the templating gives)."""
    facts = _filters().lab_facts(read)
    return dict(
        ecs_services=dict(cluster=facts["fargate_cluster_name"], subnet_ids=SUBNETS, security_group_ids=[SG],
                          target_groups=facts["load_balancer_target_groups"], lab="microservices",
                          assign_public_ip=True, state="present"),
        codedeploy=dict(application_name="microservices", service_role_arn="arn:d",
                        cluster_name="microservices-serverlesscluster-c", service_names={}, target_groups={},
                        listener_arns={"production": "arn:l80", "test": "arn:l8080"}, state="present"),
        pipelines=dict(role_arn="arn:p", repository="deployment", application="microservices",
                       deployment_groups={}, artifact_bucket="codepipeline-us-east-1-%s-microservices" % ACCOUNT,
                       account_id=int(ACCOUNT), region="us-east-1", state="present"))


def test_a_phase78_role_is_skipped_only_when_its_wiring_is_what_the_plan_took():
    f = _filters()
    read = _read78()
    wired = _wired78(read)
    for role in ("ecs_services", "codedeploy", "pipelines"):
        assert f.plan_runs(read, role, wired[role]) is False, role
        assert f.plan_runs(_read78(**{role: None}), role, wired[role]) is True, role
    # An extra var, or an earlier role of the run that published something else, makes the role run.
    for role, key, value in (("ecs_services", "cluster", "other"), ("ecs_services", "subnet_ids", SUBNETS[:1]),
                             ("ecs_services", "target_groups", {}), ("ecs_services", "state", "absent"),
                             ("codedeploy", "service_role_arn", "arn:other"), ("codedeploy", "cluster_name", "x"),
                             ("codedeploy", "listener_arns", {"production": "arn:new", "test": "arn:l8080"}),
                             ("codedeploy", "listener_arns", {}),
                             ("codedeploy", "service_names", {"customer": "svc", "employee": "employee-microservice"}),
                             ("pipelines", "repository", "other"), ("pipelines", "role_arn", "arn:other"),
                             ("pipelines", "deployment_groups", {"customer": "g", "employee": "g2"}),
                             ("pipelines", "application", "other"), ("pipelines", "artifact_bucket", "mine")):
        changed = dict(wired[role], **{key: value})
        assert f.wiring_differs(read, role, changed) == [key], (role, key)
        assert f.plan_runs(read, role, changed) is True, (role, key)
    # Left empty, the role derives what the plan took; given, the same names.
    names = {"customer": "customer-microservice", "employee": "employee-microservice"}
    assert f.plan_runs(read, "codedeploy", dict(wired["codedeploy"], service_names=names)) is False
    with pytest.raises(Exception, match="takes no wired input nope"):
        f.plan_runs(read, "pipelines", {"nope": 1})


def test_phase78_facts_are_the_roles_facts_from_the_read():
    facts = _filters().phase78_facts(_read78())
    assert facts["ecs_services_names"] == {"customer": "customer-microservice", "employee": "employee-microservice"}
    assert facts["ecs_services_arns"] == {"customer": "arn:svc/customer"}
    assert facts["ecs_services_details"]["customer"] == dict(
        name="customer-microservice", arn="arn:svc/customer", status="ACTIVE", running_count=1, desired_count=1,
        action="none", differences=[], task_definition="arn:td/customer-microservice:2",
        target_group_arn=tg_arn("customer-tg-two"))
    assert facts["ecs_services_details"]["employee"]["status"] == "MISSING"
    assert facts["codedeploy_application"] == "microservices"
    assert facts["codedeploy_deployment_groups"] == {"customer": "microservices-customer",
                                                     "employee": "microservices-employee"}
    assert facts["pipelines_names"] == {"customer": "update-customer-microservice",
                                        "employee": "update-employee-microservice"}


def test_ecr_repos_is_skipped_only_when_its_wired_account_is_the_reads():
    f = _filters()
    read = _read78(ecr_repos=[])
    assert f.plan_runs(read, "ecr_repos", {"account_id": ACCOUNT, "partition": "aws"}) is False
    assert f.plan_runs(read, "ecr_repos", {"account_id": "210987654321", "partition": "aws"}) is True
    assert f.plan_runs(read, "ecr_repos", {"account_id": ACCOUNT, "partition": "aws-cn"}) is True
