"""Phase 6's tests: its run on the sample services and what to read back from the cloud (the lab's starting
point is tests/conftest.py's `lab`)."""
from helpers import run_playbook

PHASE6 = "playbooks/phase6.yml"
SERVICES = [
    {"name": "customer"},
    {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"},
]


def phase6(cloud, **kwargs):
    return run_playbook(cloud, PHASE6, **kwargs)


def state(cloud):
    """What Phase 6 makes, as the cloud describes it, with target groups by name."""
    elb, ec2 = cloud.client("elbv2"), cloud.client("ec2")
    groups = elb.describe_target_groups()["TargetGroups"]
    names = dict((g["TargetGroupArn"], g["TargetGroupName"]) for g in groups)

    def where(actions):
        action = actions[0]
        arns = [g["TargetGroupArn"] for g in (action.get("ForwardConfig") or {}).get("TargetGroups", [])
                if g.get("Weight", 1)] or [action["TargetGroupArn"]]
        return "+".join(sorted(names.get(a, a) for a in arns))

    def path_pattern(rule):
        """A rule's path pattern, in either form ELBv2 gives it (Values, or PathPatternConfig)."""
        (cond,) = [c for c in rule["Conditions"] if c["Field"] == "path-pattern"]
        return (cond.get("Values") or cond["PathPatternConfig"]["Values"])[0]

    lbs = elb.describe_load_balancers()["LoadBalancers"]
    listeners = {}
    for lb in lbs:
        for listener in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            rules = elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
            listeners[listener["Port"]] = dict(
                arn=listener["ListenerArn"], protocol=listener["Protocol"], default=where(listener["DefaultActions"]),
                rules=dict((path_pattern(r), (int(r["Priority"]), where(r["Actions"]), r["RuleArn"]))
                           for r in rules if not r["IsDefault"]))
    sgs = [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] == "microservices-sg"]
    return dict(
        target_groups=dict((g["TargetGroupName"], dict(port=g["Port"], protocol=g["Protocol"], type=g["TargetType"],
                                                       path=g["HealthCheckPath"], vpc=g["VpcId"], arn=g["TargetGroupArn"]))
                           for g in groups),
        load_balancers=lbs, listeners=listeners, security_groups=sgs)
