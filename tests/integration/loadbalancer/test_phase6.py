"""Phase 6 on the local cloud: refusals, check mode, converge, rerun, a CodeDeploy switch, a third
service, teardown and a clean second converge.

The tests of this module build on each other, in file order, on one lab account (fixture `lab`):
each run of phase6.yml costs seconds, and the sequence is the life of the load balancer.
"""
import pytest

from helpers import changed_tasks, failure_messages, summary
from helpers.ownership import LAB, missing as untagged
from helpers.phase6 import SERVICES, phase6, state

THIRD = SERVICES + [{"name": "inventory", "health_check_path": "/health", "path_pattern": "/inventory/*"}]


@pytest.mark.parametrize("services, message", [
    ([{"name": "customer"}, {"name": "employee", "path_pattern": "/admin/*"},
      {"name": "inventory", "path_pattern": "/admin/*"}], "same path_pattern '/admin/*'"),
    ([{"name": "customer"}, {"name": "employee"}], "load_balancer_services[1] (service employee) has no path_pattern"),
], ids=["same-path-pattern", "no-path-pattern"])
def test_bad_input_is_refused_before_any_change(lab, services, message):
    # The other refusals (health check path, port, names, CIDRs) are unit tests of the same preflight
    # (tests/unit/plugins/module_utils/test_load_balancer_checks.py); these two go through both preflight stages
    # of phase6.yml.
    before = state(lab)
    result = phase6(lab, extra_vars={"microservices": services})
    assert result.rc != 0, result
    assert message in failure_messages(result)
    assert changed_tasks(result) == []
    assert state(lab) == before


def test_check_mode_on_a_fresh_account_predicts_and_creates_nothing(lab):
    result = phase6(lab, check=True, diff=True)
    assert result.rc == 0, result
    assert result.stats()["localhost"]["changed"] == 3, changed_tasks(result)
    routes = summary(result, 6)["routes"]
    assert routes["production"]["port"] == 80 and routes["production"]["rules"][0]["path_pattern"] == "/admin/*"
    now = state(lab)
    assert now["target_groups"] == {} and now["load_balancers"] == [] and now["security_groups"] == []


def _assert_lab_layout(cloud, result, switched=False):
    now = state(cloud)
    vpc = cloud.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["LabVPC"]}])["Vpcs"][0]["VpcId"]
    for name, path in (("customer", "/"), ("employee", "/admin/suppliers")):
        for which in ("one", "two"):
            group = now["target_groups"]["%s-tg-%s" % (name, which)]
            assert (group["port"], group["protocol"], group["type"], group["path"], group["vpc"]) == (
                8080, "HTTP", "ip", path, vpc)
    (lb,) = now["load_balancers"]
    assert (lb["LoadBalancerName"], lb["Scheme"], lb["Type"], lb["VpcId"]) == (
        "microservicesLB", "internet-facing", "application", vpc)
    subnets = cloud.client("ec2").describe_subnets(SubnetIds=[z["SubnetId"] for z in lb["AvailabilityZones"]])["Subnets"]
    assert sorted(t["Value"] for s in subnets for t in s["Tags"] if t["Key"] == "Name") == ["PublicSubnet1", "PublicSubnet2"]
    (sg,) = now["security_groups"]
    assert lb["SecurityGroups"] == [sg["GroupId"]] and sg["VpcId"] == vpc
    open_ports = sorted(p["FromPort"] for p in sg["IpPermissions"] if {"CidrIp": "0.0.0.0/0"} in [
        dict(CidrIp=r["CidrIp"]) for r in p.get("IpRanges", [])])
    assert open_ports == [80, 8080]
    prod, test = ("one", "two") if switched else ("two", "one")
    assert now["listeners"][80]["default"] == "customer-tg-%s" % prod
    assert now["listeners"][80]["rules"]["/admin/*"][:2] == (10, "employee-tg-%s" % prod)
    assert now["listeners"][8080]["default"] == "customer-tg-%s" % test
    assert now["listeners"][8080]["rules"]["/admin/*"][:2] == (10, "employee-tg-%s" % test)
    shown = summary(result, 6)
    assert shown["dns_name"] == lb["DNSName"]
    assert shown["routes"]["production"]["target_group"] == "customer-tg-%s" % prod
    assert shown["routes"]["production"]["rules"][0]["target_group"] == "employee-tg-%s" % prod
    return now


def test_converge_makes_the_lab_layout_and_a_rerun_changes_nothing(lab):
    first = phase6(lab)
    assert first.rc == 0, first
    assert "DEPRECATION" not in first.output, first.output
    _assert_lab_layout(lab, first)
    again = phase6(lab)
    assert again.rc == 0, again
    assert again.stats()["localhost"]["changed"] == 0, changed_tasks(again)
    _assert_lab_layout(lab, again)


def test_rerun_after_a_codedeploy_switch_leaves_the_listeners_where_codedeploy_put_them(lab):
    elb, now = lab.client("elbv2"), state(lab)
    groups = now["target_groups"]
    # What CodeDeploy's ECS blue/green deployment does: listener default actions and rules move to the
    # other group of each pair, production and test.
    for port, which in ((80, "one"), (8080, "two")):
        elb.modify_listener(ListenerArn=now["listeners"][port]["arn"], DefaultActions=[{
            "Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": groups["customer-tg-%s" % which]["arn"], "Weight": 1}]}}])
        elb.modify_rule(RuleArn=now["listeners"][port]["rules"]["/admin/*"][2], Actions=[{
            "Type": "forward", "TargetGroupArn": groups["employee-tg-%s" % which]["arn"]}])
    result = phase6(lab, diff=True)
    assert result.rc == 0, result
    assert result.stats()["localhost"]["changed"] == 0, changed_tasks(result)
    _assert_lab_layout(lab, result, switched=True)


def test_ownership_tags_that_lack_are_added_back_and_a_users_tag_stays(lab):
    phase6_kinds = ("target_groups", "load_balancer", "security_group")
    assert untagged(lab, ["customer", "employee"], phase6_kinds) == []
    elb, ec2 = lab.client("elbv2"), lab.client("ec2")
    now = state(lab)
    group, lb = now["target_groups"]["employee-tg-two"]["arn"], now["load_balancers"][0]["LoadBalancerArn"]
    sg = now["security_groups"][0]["GroupId"]
    # As before this collection tagged (or after a user's cleanup): no ownership tag, a user's own tag.
    for arn in (group, lb):
        elb.remove_tags(ResourceArns=[arn], TagKeys=list(LAB.owner_tags("x", "x")))
        elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "team", "Value": "blue"}])
    ec2.delete_tags(Resources=[sg], Tags=[{"Key": k} for k in LAB.owner_tags("x")])
    assert len(untagged(lab, ["customer", "employee"], phase6_kinds)) == 3

    checked = phase6(lab, check=True, diff=True)
    assert checked.rc == 0, checked
    assert len(untagged(lab, ["customer", "employee"], phase6_kinds)) == 3, "check mode tagged"
    diffs = [(task["task"]["name"], task["hosts"]["localhost"]) for play in checked.data()["plays"]
             for task in play["tasks"] if task["hosts"].get("localhost", {}).get("changed")]
    groups = [host for name, host in diffs if "target groups" in name][0]
    assert groups["actions"] == ["tag employee-tg-two with cloudlab:lab, cloudlab:managed-by, cloudlab:service"]
    assert groups["diff"]["after"]["employee-tg-two"]["tags"] == dict(LAB.owner_tags(None, "employee"), team="blue")
    balancer = [host for name, host in diffs if "load balancer, its two listeners" in name][0]
    assert balancer["actions"] == ["tag microservicesLB with cloudlab:lab, cloudlab:managed-by"]
    assert len(diffs) == 3, [name for name, _host in diffs]  # the security group too

    result = phase6(lab)
    assert result.rc == 0, result
    assert untagged(lab, ["customer", "employee"], phase6_kinds) == []
    tags = elb.describe_tags(ResourceArns=[group])["TagDescriptions"][0]["Tags"]
    assert {"Key": "team", "Value": "blue"} in tags
    again = phase6(lab)
    assert again.stats()["localhost"]["changed"] == 0, changed_tasks(again)


def test_a_third_service_gets_its_own_pair_and_path_rule(lab):
    result = phase6(lab, extra_vars={"microservices": THIRD})
    assert result.rc == 0, result
    now = state(lab)
    assert now["target_groups"]["inventory-tg-one"]["path"] == "/health"
    assert now["listeners"][80]["rules"]["/inventory/*"][:2] == (20, "inventory-tg-two")
    assert now["listeners"][8080]["rules"]["/inventory/*"][:2] == (20, "inventory-tg-one")
    # The switched routes of the other services stay as CodeDeploy left them.
    assert now["listeners"][80]["default"] == "customer-tg-one"
    assert now["listeners"][80]["rules"]["/admin/*"][:2] == (10, "employee-tg-one")


def test_teardown_removes_everything_then_a_second_converge_starts_clean(lab):
    gone = phase6(lab, extra_vars={"microservices": THIRD, "load_balancer_state": "absent"})
    assert gone.rc == 0, gone
    now = state(lab)
    assert now["target_groups"] == {} and now["load_balancers"] == [] \
        and now["security_groups"] == []
    again = phase6(lab)
    assert again.rc == 0, again
    _assert_lab_layout(lab, again)
