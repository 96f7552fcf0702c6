"""The one model of the lab (plugins/module_utils/_lab.py): every derived name, the rules, and that no copy is left."""
import ast
import os
import re
import subprocess
import sys

import pytest

from helpers import ROOT


from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

THREE = [{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*"},
         {"name": "inventory", "path_pattern": "/inventory/*", "family": "stock"}]


@pytest.mark.parametrize("name, family, priority", [
    ("customer", "customer-microservice", None),
    ("employee", "employee-microservice", 10),
    ("inventory", "stock", 20),
])
def test_every_name_of_a_service(name, family, priority):
    lab = _lab.model(THREE)["services"][name]
    assert lab == {
        "family": family,
        "ecs_service": "%s-microservice" % name,
        "taskdef_file": "taskdef-%s.json" % name,
        "appspec_file": "appspec-%s.yaml" % name,
        "target_groups": {"one": "%s-tg-one" % name, "two": "%s-tg-two" % name},
        "rule_priority": priority,
        "deployment_group": "microservices-%s" % name,
        "pipeline": "update-%s-microservice" % name,
        "image_artifact": "image-%s" % name,
        "event_rules": ["update-%s-microservice-source" % name, "update-%s-microservice-image" % name],
    }


def test_names_of_the_lab_with_its_defaults_and_with_settings():
    lab = _lab.model(THREE[:2], {"region": "us-east-1", "account": "123456789012"})
    assert {k: v for k, v in lab.items() if k != "services"} == {
        "application": "microservices", "repository": "deployment", "branch": "dev", "image_tag": "latest",
        "clusters": ["microservices-serverlesscluster", "microservices-serverlesscluster-c"],
        "stacks": ["Infra-ECS-Cluster-microservices-serverlesscluster",
                   "Infra-ECS-Cluster-microservices-serverlesscluster-c"],
        "artifact_bucket": "codepipeline-us-east-1-123456789012-microservices",
        "files": ["appspec-customer.yaml", "appspec-employee.yaml", "taskdef-customer.json", "taskdef-employee.json"],
    }
    mine = _lab.model(THREE[:1], {"application": "shop", "artifact_bucket": "my-bucket", "branch": "main"})
    assert mine["services"]["customer"]["deployment_group"] == "shop-customer"
    assert (mine["artifact_bucket"], mine["branch"]) == ("my-bucket", "main")
    assert _lab.model(THREE[:1])["artifact_bucket"] == ""  # neither given nor derivable: no invented name


def test_the_cluster_c_rule_and_its_stacks():
    assert _lab.clusters("lab_cluster") == ["lab_cluster", "lab_cluster-c"]
    # Stack names allow no underscore; a fixed stack name is the one stack of both names.
    assert _lab.stacks("lab_cluster") == ["Infra-ECS-Cluster-lab-cluster", "Infra-ECS-Cluster-lab-cluster-c"]
    assert _lab.stacks("lab_cluster", "my-stack") == ["my-stack"]
    assert _lab.model([], {"cluster": "x", "stack_name": "s"})["stacks"] == ["s"]


def test_event_rule_names_fit_eventbridge():
    long_name = _lab.event_rule("p" * 80, "Source")
    assert len(long_name) == 64 and long_name != _lab.event_rule("p" * 81, "Source")
    assert _lab.event_rule("update-a b", "Image") == "update-a-b-image"


def test_shell_names_are_what_bash_reads():
    script = _lab.shell_names(["customer", "orders"]) + '\necho "$STACK ${FAMILY[orders]} ${APPSPEC_FILE[customer]}"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["Infra-ECS-Cluster-microservices-serverlesscluster", "orders-microservice",
                           "appspec-customer.yaml"]


def test_the_filter_is_the_model():
    from ansible_collections.cloudlab.microservices.plugins.filter import lab as lab_filter
    assert lab_filter.FilterModule().filters()["lab_names"](THREE, {}) == _lab.model(THREE)
    with pytest.raises(Exception, match="each a dict with a name"):
        lab_filter.lab_names([{"port": 1}])


@pytest.mark.parametrize("kind, good, bad", [
    ("ecr_tag", ["latest", "v1.2_3-rc", "_x", "a" * 128], ["bad tag!", ".x", "-x", "a" * 129, ""]),
    ("codecommit", ["deployment", "a.b_c-d", "a" * 100], ["a b", "a" * 101, ""]),
    ("codedeploy", ["microservices", "a_b.c+d=e,f@g-h", "a" * 100], ["a b", "a/b", "a" * 101, ""]),
    ("pipeline", ["update-customer-microservice", "a.b@c_d", "a" * 100], ["a+b", "a b", "a" * 101, ""]),
    ("event_rule", ["update-x-source", "a.b_c", "a" * 64], ["a@b", "a" * 65, ""]),
])
def test_aws_name_rules_and_their_limits(kind, good, bad):
    assert [g for g in good if _lab.name_problem(kind, g)] == []
    assert [b for b in bad if not _lab.name_problem(kind, b)] == []


@pytest.mark.parametrize("name", [
    "dev", "feature/x", "v1.0", "a@b", "bad..branch", "a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b",
    "/a", "a/", "a.", ".a", "a/.b", "a.lock", "a/b.lock/c", "a@{b", "a//b", "-a", "a\tb", "a\x7fb",
])
def test_branch_rule_is_git_check_ref_format(name):
    git = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True, check=False)
    assert (_lab.branch_problem(name) is None) == (git.returncode == 0), _lab.branch_problem(name)


def test_the_branch_at_is_refused():
    """``@`` is HEAD to git (check-ref-format --branch resolves it), never the name of a branch to push."""
    assert _lab.branch_problem("@")


def test_a_long_value_is_quoted_short():
    assert _lab.quote("x" * 120) == "'%s'... (120 characters)" % ("x" * 40)
    assert _lab.quote("dev") == "'dev'"


def test_routes_the_first_service_default_the_others_by_path():
    assert _lab.route_problems(THREE, "svcs") == []
    problems = _lab.route_problems([{"name": "a", "path_pattern": "/a/*"}, {"name": "b"},
                                    {"name": "c", "path_pattern": "/c"}, {"name": "d", "path_pattern": "/c"}], "svcs")
    assert problems == [
        "svcs[0] (service a) has the path_pattern '/a/*': the first service is the listeners' default route and "
        "takes no path rule; remove it or list another service first",
        "svcs[1] (service b) has no path_pattern: every service but the first needs one, the path its listener "
        "rule routes (such as /b/*)",
        "svcs: two services have the same path_pattern '/c'; each needs its own"]


def test_the_default_service_cannot_limit_its_sources():
    problems = _lab.route_problems([{"name": "a", "source_cidrs": ["203.0.113.7/32"]},
                                    {"name": "b", "path_pattern": "/b/*", "source_cidrs": ["203.0.113.7/32"]}], "svcs")
    assert problems == [
        "svcs[0] (service a) has source_cidrs: the first service is the listeners' default action, which takes no "
        "condition (it answers every request no rule matches); limit another service's path rule, or remove "
        "source_cidrs"]


def test_the_alb_module_refuses_the_routes_the_preflight_refuses():
    """One rule for the module and the load balancer role: the module used to accept a first service's path."""
    from ansible_collections.cloudlab.microservices.plugins.modules import alb
    from ansible_collections.cloudlab.microservices.plugins.module_utils import _aws as aws

    class Module:
        params = {"services": [{"name": "a", "path_pattern": "/a/*"}, {"name": "b", "path_pattern": "/b/*"}],
                  "production_port": 80, "test_port": 8080, "subnets": ["subnet-1"], "security_groups": ["sg"]}

    with pytest.raises(aws.CloudlabError, match=r"services\[0\] \(service a\) has the path_pattern '/a/\*'"):
        alb.check_inputs(Module())


# ---- no copy of a derived name outside the model ---------------------------------------------------
# What a derived name looks like when spelt out.
DERIVED = re.compile(r"-microservice|-tg-|\bmicroservices-|taskdef-|appspec-|Infra-ECS-Cluster-|codepipeline-")
# The lab's own inputs, which look like derived names but are what the learner is told to type: the role
# defaults (repeated where a playbook runs without the role) of the cluster name and the security group name.
ALLOWED = {
    "microservices-serverlesscluster": "the cluster name the lab asks for (fargate_cluster_requested_name)",
    "microservices-sg": "the lab's security group name (load_balancer_security_group_name)",
}
SCANNED = ("plugins", "roles", "playbooks", "extensions", "bench", os.path.join("examples", "release_cli.py"))
MODEL = os.path.join("plugins", "module_utils", "_lab.py")


def _code_strings(path):
    """(line, text) of every string in the code: docstrings and DOCUMENTATION/EXAMPLES/RETURN are docs."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    docs = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and body and isinstance(body[0], ast.Expr):
            docs.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in ("DOCUMENTATION", "EXAMPLES", "RETURN")
                                                for t in node.targets):
            docs.add(id(node.value))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs]


def _code_lines(path):
    """(line, text) of YAML and shell without comments; filter docs and role argument specs are docs."""
    with open(path) as handle:
        return [(n, line.split(" #")[0]) for n, line in enumerate(handle, 1) if not line.lstrip().startswith("#")]


def _scanned_files():
    for top in SCANNED:
        path = os.path.join(ROOT, top)
        if os.path.isfile(path):
            yield top
            continue
        for folder, _dirs, files in os.walk(path):
            for name in files:
                yield os.path.relpath(os.path.join(folder, name), ROOT)


def _copies():
    found = []
    for rel in _scanned_files():
        path = os.path.join(ROOT, rel)
        if rel == MODEL or rel.endswith("argument_specs.yml") or (rel.startswith("plugins/filter/")
                                                                  and rel.endswith(".yml")):
            continue
        if rel.endswith(".py"):
            pieces = _code_strings(path)
        elif rel.endswith((".yml", ".yaml", ".sh", ".j2", ".json")):
            pieces = _code_lines(path)
        else:
            continue
        for line, text in pieces:
            for allowed in ALLOWED:
                text = text.replace(allowed, "")
            if DERIVED.search(text):
                found.append("%s:%d: %s" % (rel, line, text.strip()[:100]))
    return found


def test_no_derived_name_is_spelt_outside_the_model():
    assert _copies() == []


def test_the_scan_finds_a_copy(tmp_path, monkeypatch):
    """The scan is not blind: the copies it replaced are found in a file like theirs."""
    plugin = tmp_path / "plugins" / "module_utils"
    plugin.mkdir(parents=True)
    (plugin / "_copy.py").write_text('"""doc: update-<svc>-microservice is fine here."""\n'
                                     'def name(s):\n    return "update-%s-microservice" % s\n')
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "p.yml").write_text("# comment: x-tg-one\nx: \"{{ item }}-microservice\"\n"
                                                  "c: microservices-serverlesscluster\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
    assert _copies() == ["plugins/module_utils/_copy.py:3: update-%s-microservice",
                         "playbooks/p.yml:2: x: \"{{ item }}-microservice\""]


def test_the_ownership_tags_and_who_owns_what():
    assert _lab.owner_tags("lab1") == {"cloudlab:managed-by": "cloudlab.microservices", "cloudlab:lab": "lab1"}
    assert _lab.owner_tags(None, "customer") == {"cloudlab:managed-by": "cloudlab.microservices",
                                                 "cloudlab:lab": "microservices", "cloudlab:service": "customer"}
    # A tag is added where it lacks, never re-pointed; the user's tags stay.
    assert _lab.missing_tags({"cloudlab:lab": "other", "Project": "x"}, _lab.owner_tags("lab1")) == {
        "cloudlab:managed-by": "cloudlab.microservices"}
    assert _lab.with_owner_tags({"Project": "x", "cloudlab:lab": "mine"}, "lab1", "customer") == {
        "Project": "x", "cloudlab:lab": "mine", "cloudlab:managed-by": "cloudlab.microservices",
        "cloudlab:service": "customer"}
    assert _lab.ownership_of({"Project": "x", "cloudlab:lab": "lab1"}) == {"cloudlab:lab": "lab1"}
    assert _lab.owned(_lab.owner_tags("lab1", "customer"), "lab1")
    assert not _lab.owned(_lab.owner_tags("lab1"), "lab2")
    assert not _lab.owned({"cloudlab:lab": "lab1"}, "lab1")
    tagged = [_lab.owner_tags("lab1", "customer"), _lab.owner_tags("lab1", "employee"),
              _lab.owner_tags("lab1", "employee"), _lab.owner_tags("lab2", "orders"), {"cloudlab:service": "x"}]
    assert _lab.owned_services(tagged, "lab1", ["customer"]) == ["employee"]


def test_what_another_lab_made_is_named_and_refused():
    tagged = [("target group customer-tg-one", _lab.owner_tags("lab2", "customer")),
              ("ECR repository customer", _lab.owner_tags("lab2", "customer")),
              ("load balancer microservicesLB", _lab.owner_tags("lab3")),
              ("ECS service customer-microservice", _lab.owner_tags("lab1", "customer")),
              # Not the collection's, or no lab named: nobody else's.
              ("security group microservices-sg", {"cloudlab:lab": "lab2"}),
              ("pipeline update-customer-microservice", {"cloudlab:managed-by": "cloudlab.microservices"}),
              ("bucket b", {})]
    found = _lab.other_labs(tagged, "lab1")
    assert found == {"target group customer-tg-one": "lab2", "ECR repository customer": "lab2",
                     "load balancer microservicesLB": "lab3"}
    assert _lab.other_labs(tagged, "lab2") == {"load balancer microservicesLB": "lab3",
                                               "ECS service customer-microservice": "lab1"}
    # The default lab is microservices, as owner_tags has it.
    assert _lab.other_labs([("x", _lab.owner_tags(None))], None) == {}
    assert _lab.other_labs_refusal({}, "lab1") is None
    message = _lab.other_labs_refusal(found, "lab1")
    assert message.startswith("ECR repository customer, target group customer-tg-one carry cloudlab:lab=lab2; "
                              "load balancer microservicesLB carries cloudlab:lab=lab3: ")
    assert "not for this lab (lab1)" in message and "nothing changed" in message
    assert "cloudlab_aws_connection" in message and "cloudlab_lab: lab2" in message


def test_the_filter_adds_the_ownership_tags():
    from ansible_collections.cloudlab.microservices.plugins.filter import lab as lab_filter
    assert lab_filter.lab_tags({"Project": "x"}, "lab1") == dict(_lab.owner_tags("lab1"), Project="x")
    with pytest.raises(Exception, match="a dict of tags"):
        lab_filter.lab_tags(["x"], "lab1")
