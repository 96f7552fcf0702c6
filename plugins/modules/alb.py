#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: alb
short_description: An Application Load Balancer whose listeners stay converged across blue/green switches
version_added: 1.0.0
description:
  - Creates or updates an Application Load Balancer with a production and a test listener (HTTP) for a
    list of services. The first service is each listener's default route; every other service gets a
    path rule (its C(path_pattern)) on both listeners, priority 10 for the second service, 20 for the
    third, and so on (the position in the list, so appending a service moves no other rule).
  - The production listener forwards to each service's C(<name>-tg-two), the test listener to its
    C(<name>-tg-one) (the groups M(cloudlab.microservices.alb_target_groups) makes), as long as the service
    does not exist on O(cluster).
  - Once it does, a listener or rule that is created (or pointed back into its pair) forwards, on both
    listeners, to the group of the pair that holds the service's live task set (the PRIMARY task set of
    ECS service C(<name>-microservice)), never to the other one, which after a deployment has no target.
    This costs one DescribeServices call, made only when a route is created or pointed back.
  - A route (a default action or a rule) that forwards to either target group of its service's pair, or to
    both with weights, is converged and left alone. CodeDeploy's ECS blue/green deployments swap the two
    groups of a pair at every deployment; setting a listener back would break the next deployment
    ("Primary task group must be behind listener").
  - A rule is matched by its path pattern; conditions it has beyond the path pattern are kept. Rules of no
    service are deleted (O(purge_rules)). Listeners on other ports are left alone.
  - A service's C(source_cidrs) (the lab's task 9.1) gives its rule on both listeners a C(source-ip) condition
    with exactly those CIDRs; a request from another address falls to the listener's default action. Only the
    rule's conditions change (ModifyRule without actions), so a forward that CodeDeploy weighted or switched keeps
    its target groups and weights. The rule carries the tag C(cloudlab:source-ip) with the CIDRs set; when
    C(source_cidrs) is removed, the condition goes with its tag. A C(source-ip) condition without that tag (added
    by hand, as the lab's own 9.1 does, or by an older version of the collection) is left as it is.
  - With O(state=absent), deletes the listeners, then the load balancer.
  - Written because amazon.aws.elb_application_lb (10.1.2) is wrong for this. Its listener and rule
    comparison wants the exact target group ARN given, so a rerun after a CodeDeploy deployment points the
    listeners back at the original groups. Its check mode stops at the first difference, reports no diff,
    and fails on a fresh account, because it resolves security group names before predicting anything
    (the group is only created by the same run). Its listeners name target groups by ARN, which do not
    exist yet in check mode.
  - Before creating the load balancer, checks that the subnets are in at least two Availability Zones of
    one VPC, as AWS requires, and says which subnets are at fault.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  name:
    description: Load balancer name (at most 32 letters, digits and hyphens).
    type: str
    required: true
  services:
    description:
      - The services, as the C(microservices) list (C(name), C(path_pattern) and C(source_cidrs) are used). Every
        service but the first needs a C(path_pattern). Required with O(state=present).
      - C(source_cidrs), a list of at most 4 IPv4 or IPv6 CIDRs (a rule holds at most 5 condition values and the
        path pattern takes one), limits the service's rule to those sources. The first service, the listeners'
        default action, cannot have it.
    type: list
    elements: dict
  subnets:
    description: Subnet IDs, in at least two Availability Zones. Required with O(state=present).
    type: list
    elements: str
  security_groups:
    description:
      - Security group IDs or names (names are looked up in the subnets' VPC). Required with O(state=present).
      - In check mode, a name that does not exist yet is taken as a group the same run creates.
    type: list
    elements: str
  scheme:
    description: C(internet-facing) or C(internal); cannot change once created.
    type: str
    choices: [internet-facing, internal]
    default: internet-facing
  production_port:
    description: Port of the production listener (HTTP), which forwards to the C(-tg-two) groups.
    type: int
    default: 80
  test_port:
    description: Port of the test listener (HTTP), which forwards to the C(-tg-one) groups.
    type: int
    default: 8080
  cluster:
    description:
      - The ECS cluster of the services (Phase 5's C(fargate_cluster_name)), where the module looks for the
        live task set of a service whose route it creates or points back.
      - Empty, a cluster that does not exist (yet) or a service not on it give the lab's first layout
        (production C(-tg-two), test C(-tg-one)).
    type: str
    default: ""
    version_added: 1.1.0
  purge_rules:
    description: Delete rules of the two listeners that match no service's path pattern.
    type: bool
    default: true
  lab:
    description:
      - The lab the load balancer belongs to (its CodeDeploy application name). When set, the load balancer
        carries the collection's ownership tags (C(cloudlab:managed-by), C(cloudlab:lab)); an existing one
        that lacks one gets it, and no other tag is touched. Omitted, no tag is managed.
    type: str
  state:
    description: Whether the load balancer should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: With O(state=absent), wait until AWS reports the load balancer deleted.
    type: bool
    default: true
extends_documentation_fragment:
  - cloudlab.microservices.attributes
  - cloudlab.microservices.services
  - cloudlab.microservices.attributes.actiongroup_aws
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Predicts every change, on a fresh account included (missing security and target groups are
      taken as made by the same run), and makes none.
  diff_mode:
    support: full
    details: Shows the load balancer's subnets and security groups and, per listener, where the default
      route and each rule forward, by target group name, and the sources a rule is limited to.
  idempotent:
    support: full
    details: A load balancer whose routes forward within their pairs is left alone.
"""

EXAMPLES = r"""
- name: The lab's load balancer, listeners and rules
  cloudlab.microservices.alb:
    name: microservicesLB
    subnets: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
    security_groups: [microservices-sg]
    cluster: microservices-serverlesscluster
    services:
      - name: customer
      - name: employee
        path_pattern: /admin/*
        source_cidrs: [203.0.113.7/32]
  register: alb

- name: DNS name
  ansible.builtin.debug:
    msg: "{{ alb.load_balancer.dns_name }}"
"""

RETURN = r"""
load_balancer:
  description: The load balancer ({} once deleted; in check mode before creation, its name and no ARN).
  returned: always
  type: dict
  contains:
    arn: {description: ARN, type: str}
    name: {description: Name, type: str}
    dns_name: {description: DNS name, type: str, sample: microservicesLB-1234567890.us-east-1.elb.amazonaws.com}
    vpc_id: {description: VPC, type: str}
    subnets: {description: Subnet IDs, type: list, elements: str}
    security_groups: {description: Security group IDs, type: list, elements: str}
listeners:
  description: The production and test listeners and where each route forwards now, by target group name.
  returned: when state is present
  type: dict
  sample:
    production:
      arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/microservicesLB/50dc/f9a8"
      port: 80
      target_group: customer-tg-two
      rules: [{priority: 10, path_pattern: /admin/*, service: employee, target_group: employee-tg-two, arn: "..."}]
target_groups:
  description: Per service, its pair of target groups as found (ARN '' when missing).
  returned: when state is present
  type: dict
actions:
  description: What was done (or would be done in check mode), one line per change.
  returned: always
  type: list
  elements: str
"""


from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import SCHEME
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import converged
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import forward
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import lb_view
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import listener_view
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import live_groups
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import path_patterns
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import plan_rules
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import route_target
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import route_view
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import routes
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import rule_conditions
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import source_ips
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import source_tag
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import shown_target
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_ecs_services
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_listeners
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_load_balancer
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_rules
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_target_groups
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _elb_tags
from ansible_collections.cloudlab.microservices.plugins.module_utils._lab import SG_ID_RE
from ansible_collections.cloudlab.microservices.plugins.module_utils._lab import route_problems
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import source_cidrs_problem
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client as aws_client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import warn
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import SERVICE_OPTIONS

PLANNED = "(planned) "


# ---- reads -----------------------------------------------------------------------------------------

@aws_call("describe the subnets")
def find_subnets(ec2, subnet_ids):
    return ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]


@aws_call("look up the security groups")
def find_security_groups(ec2, names, vpc_id):
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                   {"Name": "group-name", "Values": names}])["SecurityGroups"]
    return dict((g["GroupName"], g["GroupId"]) for g in groups)


# ---- checks before any change ----------------------------------------------------------------------

def check_inputs(module):
    p = module.params
    services = p["services"] or []
    if not services:
        raise CloudlabError(message="Failed to validate services: state=present needs at least one service")
    for index, svc in enumerate(services):
        if not svc["name"]:
            raise CloudlabError(message="Failed to validate services[%d]: each service needs a name" % index)
    problems = route_problems(services, "services")
    for index, svc in enumerate(services):
        svc["source_cidrs"], why = source_cidrs_problem(svc.get("source_cidrs"))
        if why:
            problems.append("services[%d] (service %s): %s" % (index, svc["name"], why))
    if problems:
        raise CloudlabError(message="Failed to validate services: %s" % "; ".join(problems))
    if p["production_port"] == p["test_port"]:
        raise CloudlabError(message="Failed to validate production_port and test_port: both are %d; the "
                            "listeners need two ports" % p["test_port"])
    for opt in ("subnets", "security_groups"):
        if not p[opt]:
            raise CloudlabError(message="Failed to validate %s: state=present needs it" % opt)


def check_subnets(ec2, subnet_ids):
    """The subnets' VPC, or an error when they are not in two Availability Zones of one VPC."""
    subnets = find_subnets(ec2, subnet_ids)
    vpcs = set(s["VpcId"] for s in subnets)
    zones = set(s["AvailabilityZone"] for s in subnets)
    if len(vpcs) != 1:
        raise CloudlabError(message="Failed to validate subnets %s: they are in several VPCs (%s); a load "
                            "balancer's subnets share one VPC" % (", ".join(subnet_ids), ", ".join(sorted(vpcs))))
    if len(zones) < 2:
        raise CloudlabError(message=(
            "Failed to validate subnets %s: they are all in %s; an Application Load Balancer needs subnets in "
            "at least two Availability Zones (the lab's PublicSubnet1 and PublicSubnet2)"
            % (", ".join(subnet_ids), ", ".join(sorted(zones)))))
    return vpcs.pop()


def resolve_security_groups(module, ec2, wanted, vpc_id):
    names = [g for g in wanted if not SG_ID_RE.match(g)]
    found = find_security_groups(ec2, names, vpc_id) if names else {}
    missing = [n for n in names if n not in found]
    if missing and not module.check_mode:
        raise CloudlabError(message="Failed to find security group(s) %s in VPC %s: create them first (the "
                            "load_balancer role's task6_2 does)" % (", ".join(missing), vpc_id))
    return [g if SG_ID_RE.match(g) else found.get(g, PLANNED + g) for g in wanted]


# ---- changes ---------------------------------------------------------------------------------------

@aws_call("create the load balancer")
def create_load_balancer(elb, p, security_groups):
    extra = dict(Tags=_elb_tags.as_list(_lab.owner_tags(p["lab"]))) if p["lab"] else {}
    return elb.create_load_balancer(Name=p["name"], Subnets=p["subnets"], SecurityGroups=security_groups,
                                    Scheme=p["scheme"], Type="application", IpAddressType="ipv4",
                                    **extra)["LoadBalancers"][0]


@aws_call("set the load balancer's subnets")
def set_subnets(elb, arn, subnets):
    elb.set_subnets(LoadBalancerArn=arn, Subnets=subnets)


@aws_call("set the load balancer's security groups")
def set_security_groups(elb, arn, groups):
    elb.set_security_groups(LoadBalancerArn=arn, SecurityGroups=groups)


@aws_call("create a listener")
def create_listener(elb, lb_arn, port, tg_arn):
    return elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=port,
                               DefaultActions=forward(tg_arn))["Listeners"][0]


@aws_call("modify a listener")
def modify_listener(elb, listener_arn, tg_arn):
    return elb.modify_listener(ListenerArn=listener_arn, Protocol="HTTP", DefaultActions=forward(tg_arn))["Listeners"][0]


@aws_call("delete a rule")
def delete_rule(elb, arn):
    elb.delete_rule(RuleArn=arn)


@aws_call("modify a rule")
def modify_rule(elb, arn, tg_arn):
    return elb.modify_rule(RuleArn=arn, Actions=forward(tg_arn))["Rules"][0]


@aws_call("set rule priorities")
def set_priorities(elb, pairs):
    elb.set_rule_priorities(RulePriorities=[dict(RuleArn=arn, Priority=prio) for arn, prio in pairs])


@aws_call("set the conditions of a rule")
def set_conditions(elb, arn, conditions):
    """Conditions only: the rule's actions (a forward CodeDeploy weighted included) stay as they are."""
    return elb.modify_rule(RuleArn=arn, Conditions=conditions)["Rules"][0]


@aws_call("create a rule")
def create_rule(elb, listener_arn, want, tg_arn):
    extra = dict(Tags=_elb_tags.as_list({_lab.TAG_SOURCE_IP: source_tag(want["source_cidrs"])})) if (
        want["source_cidrs"]) else {}
    return elb.create_rule(ListenerArn=listener_arn, Priority=want["priority"], Actions=forward(tg_arn),
                           Conditions=rule_conditions(want), **extra)["Rules"][0]


@aws_call("remove the source-ip tag of a rule")
def remove_tags(elb, arn, keys):
    elb.remove_tags(ResourceArns=[arn], TagKeys=keys)


def rule_tags(elb, rules, desired):
    """Rule ARN -> tags, read only where a source-ip condition is or is wanted (one call for up to 20 rules)."""
    if not any(source_ips(r.get("Conditions")) for r in rules) and not any(w["source_cidrs"] for w in desired):
        return {}
    return _elb_tags.read_tags(elb, [r["RuleArn"] for r in rules])


@aws_call("delete a listener")
def delete_listener(elb, arn):
    try:
        elb.delete_listener(ListenerArn=arn)
    except missing_code("ListenerNotFound"):
        pass


@aws_call("delete the load balancer")
def delete_load_balancer(elb, arn, wait):
    elb.delete_load_balancer(LoadBalancerArn=arn)
    if wait:
        elb.get_waiter("load_balancers_deleted").wait(LoadBalancerArns=[arn])


# ---- the two states --------------------------------------------------------------------------------

def ensure_absent(module, elb):
    lb = find_load_balancer(elb, module.params["name"])
    actions, before = [], {}
    if lb is not None:
        listeners = find_listeners(elb, lb["LoadBalancerArn"])
        before = dict(load_balancer=lb_view(lb), listeners=dict(
            ("%s:%s" % (l["Protocol"], port), listener_view(l, [])) for port, l in listeners.items()))
        for port, listener in sorted(listeners.items()):
            actions.append("delete listener %s:%s" % (listener["Protocol"], port))
            if not module.check_mode:
                delete_listener(elb, listener["ListenerArn"])
        actions.append("delete load balancer %s" % module.params["name"])
        if not module.check_mode:
            delete_load_balancer(elb, lb["LoadBalancerArn"], module.params["wait"])
    result = dict(changed=bool(actions), actions=actions, load_balancer={})
    if module._diff:
        result["diff"] = dict(before=before, after={})
    return result


def ensure_present(module, elb, ec2):
    p = module.params
    check_inputs(module)
    services = p["services"]
    vpc_id = check_subnets(ec2, p["subnets"])
    groups = resolve_security_groups(module, ec2, p["security_groups"], vpc_id)
    names = _lab.target_groups(services)
    arns = find_target_groups(elb, names)
    missing = [n for n in names if n not in arns]
    if missing and not module.check_mode:
        raise CloudlabError(message="Failed to find target group(s) %s: create them first (the load_balancer "
                            "role's task6_1 does, with cloudlab.microservices.alb_target_groups)" % ", ".join(missing))
    ports = dict(production=p["production_port"], test=p["test_port"])
    wanted = routes(services, ports)
    actions = []

    def arn_of(name):
        return arns.get(name) or PLANNED + name

    live = []

    def aim(want):
        """(target group name, why) of a route to create or point back; ECS is read once, at the first."""
        if not live:
            live.append(live_groups(services, find_ecs_services(
                aws_client(module, "ecs"), p["cluster"], [_lab.ecs_service(s["name"]) for s in services]))
                if p["cluster"] else {})
        name = route_target(want, live[0])
        return name, (" (the group of %s's live task set)" % _lab.ecs_service(want["service"])
                      if want["service"] in live[0] else "")

    lb = find_load_balancer(elb, p["name"])
    before = dict(load_balancer=lb_view(lb), listeners={})
    owner = _lab.owner_tags(p["lab"]) if p["lab"] else {}
    tags_before = _elb_tags.read_tags(elb, [lb["LoadBalancerArn"]]).get(lb["LoadBalancerArn"], {}) if (
        lb is not None and owner) else {}
    if lb is not None and owner:
        before["load_balancer"]["tags"] = tags_before
    if lb is None:
        actions.append("create load balancer %s" % p["name"])
        lb = (create_load_balancer(elb, p, groups) if not module.check_mode else dict(
            LoadBalancerName=p["name"], Scheme=p["scheme"], VpcId=vpc_id, SecurityGroups=groups,
            AvailabilityZones=[dict(SubnetId=s) for s in p["subnets"]]))
        current_listeners = {}
    else:
        if lb.get("Scheme") != p["scheme"]:
            raise CloudlabError(message=(
                "Failed to update load balancer %s: it is %s and a scheme cannot change; remove it "
                "(load_balancer_state=absent) or set the scheme back" % (p["name"], lb.get("Scheme"))))
        if lb_view(lb)["subnets"] != sorted(p["subnets"]):
            actions.append("set subnets of %s to %s" % (p["name"], ", ".join(p["subnets"])))
            if not module.check_mode:
                set_subnets(elb, lb["LoadBalancerArn"], p["subnets"])
        if lb_view(lb)["security_groups"] != sorted(groups):
            actions.append("set security groups of %s to %s" % (p["name"], ", ".join(groups)))
            if not module.check_mode:
                set_security_groups(elb, lb["LoadBalancerArn"], groups)
        lacking = _lab.missing_tags(tags_before, owner)
        if lacking:
            actions.append("tag %s with %s" % (p["name"], ", ".join(sorted(lacking))))
            if not module.check_mode:
                _elb_tags.add_tags(elb, lb["LoadBalancerArn"], lacking)
        current_listeners = find_listeners(elb, lb["LoadBalancerArn"])
    lb_arn = lb.get("LoadBalancerArn", "")

    listeners_out, after_listeners = {}, {}
    for route in wanted:
        port, label = route["port"], "%s listener HTTP:%d" % (route["listener"], route["port"])
        listener = current_listeners.get(port)
        pair = [arns.get(route["target_group"]), arns.get(route["alternate"])]
        rules = find_rules(elb, listener["ListenerArn"]) if listener else []
        before["listeners"]["HTTP:%d" % port] = listener_view(listener, rules)
        if listener is None:
            target, why = aim(route)
            actions.append("create %s forwarding to %s%s" % (label, target, why))
            listener = (create_listener(elb, lb_arn, port, arns[target]) if not module.check_mode
                        else dict(ListenerArn="", Protocol="HTTP", Port=port, DefaultActions=forward(arn_of(target))))
        elif listener.get("Protocol") != "HTTP" or not converged(listener.get("DefaultActions"), pair):
            target, why = aim(route)
            actions.append("point %s (forwarding to %s) at %s%s" % (
                label, shown_target(listener.get("DefaultActions")), target, why))
            listener = (modify_listener(elb, listener["ListenerArn"], arns[target])
                        if not module.check_mode else dict(listener, Protocol="HTTP",
                                                           DefaultActions=forward(arn_of(target))))

        plan = plan_rules(rules, route["rules"], arns, p["purge_rules"], rule_tags(elb, rules, route["rules"]))
        kept = dict((r["RuleArn"], r) for r in rules)
        for rule in plan["delete"]:
            actions.append("delete rule %s of %s" % (rule.get("Priority"), label))
            kept.pop(rule["RuleArn"])
            if not module.check_mode:
                delete_rule(elb, rule["RuleArn"])
        for rule, want in plan["modify"]:
            target, why = aim(want)
            actions.append("point rule %s of %s at %s%s" % (want["path_pattern"], label, target, why))
            kept[rule["RuleArn"]] = (modify_rule(elb, rule["RuleArn"], arns[target])
                                     if not module.check_mode else dict(rule, Actions=forward(arn_of(target))))
        for rule, want, source in plan["sources"]:
            if source["kept"]:
                warn(module, "rule %s of %s: its source-ip condition %s was changed since the collection set it; "
                     "services[].source_cidrs of %s is unset, the condition is kept (remove it by hand, or set "
                     "source_cidrs)" % (want["path_pattern"], label, ",".join(source["kept"]), want["service"]))
                continue
            if source["conditions"] is not None:
                cidrs = source_ips(source["conditions"])
                actions.append("%s rule %s of %s%s" % (
                    "limit" if cidrs else "lift the source limit of", want["path_pattern"], label,
                    " to %s" % ",".join(cidrs) if cidrs else ""))
                kept[rule["RuleArn"]] = dict(kept[rule["RuleArn"]], Conditions=source["conditions"]) if (
                    module.check_mode) else set_conditions(elb, rule["RuleArn"], source["conditions"])
            if source["add_tags"] or source["remove_tags"]:
                if source["conditions"] is None:
                    actions.append("%s rule %s of %s" % (
                        "tag" if source["add_tags"] else "untag", want["path_pattern"], label))
                if not module.check_mode and source["add_tags"]:
                    _elb_tags.add_tags(elb, rule["RuleArn"], source["add_tags"])
                if not module.check_mode and source["remove_tags"]:
                    remove_tags(elb, rule["RuleArn"], source["remove_tags"])
        if plan["priorities"]:
            for rule, prio in plan["priorities"]:
                actions.append("move rule %s of %s from priority %s to %d" % (
                    ",".join(path_patterns(rule.get("Conditions"))), label, rule.get("Priority"), prio))
                kept[rule["RuleArn"]] = dict(kept[rule["RuleArn"]], Priority=str(prio))
            if not module.check_mode:
                set_priorities(elb, [(rule["RuleArn"], prio) for rule, prio in plan["priorities"]])
        for want in plan["create"]:
            target, why = aim(want)
            actions.append("create rule %s (priority %d) of %s forwarding to %s%s%s" % (
                want["path_pattern"], want["priority"], label, target, why,
                " from %s" % ",".join(want["source_cidrs"]) if want["source_cidrs"] else ""))
            rule = (create_rule(elb, listener["ListenerArn"], want, arns[target])
                    if not module.check_mode else dict(
                        RuleArn=PLANNED + want["path_pattern"], Priority=str(want["priority"]),
                        Conditions=rule_conditions(want),
                        Actions=forward(arn_of(target))))
            kept[rule["RuleArn"]] = rule

        final_rules = sorted(kept.values(), key=lambda r: int(r.get("Priority", 0)))
        after_listeners["HTTP:%d" % port] = listener_view(listener, final_rules)
        listeners_out[route["listener"]] = route_view(route, listener, final_rules, PLANNED)

    if actions and not module.check_mode:
        lb = find_load_balancer(elb, p["name"])
    target_groups = {}
    for svc in services:
        for which in _lab.PAIR:
            name = _lab.target_group(svc["name"], which)
            target_groups.setdefault(svc["name"], {})[which] = dict(name=name, arn=arns.get(name, ""))
    result = dict(changed=bool(actions), actions=actions, load_balancer=lb_view(lb), listeners=listeners_out,
                  target_groups=target_groups)
    if module._diff:
        lb_after = dict(lb_view(lb), **(dict(tags=dict(owner, **tags_before)) if owner else {}))
        result["diff"] = dict(before=before, after=dict(load_balancer=lb_after, listeners=after_listeners))
    return result


def ensure(module):
    elb = aws_client(module, "elbv2")
    if module.params["state"] == "absent":
        return ensure_absent(module, elb)
    return ensure_present(module, elb, aws_client(module, "ec2"))


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        services=dict(type="list", elements="dict", options=SERVICE_OPTIONS),
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str"),
        scheme=dict(type="str", choices=["internet-facing", "internal"], default=SCHEME),
        production_port=dict(type="int", default=80),
        test_port=dict(type="int", default=8080),
        cluster=dict(type="str", default=""),
        purge_rules=dict(type="bool", default=True),
        lab=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, ensure)


if __name__ == "__main__":
    main()
