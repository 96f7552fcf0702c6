# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reads of the load balancer that the modules ``alb`` and ``alb_route_check`` share.

Each takes an elbv2 (or ecs) client of ``_aws.client`` and raises CloudlabError saying what failed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import describe_batches


@aws_call("describe the load balancer")
def find_load_balancer(elb, name):
    try:
        return elb.describe_load_balancers(Names=[name])["LoadBalancers"][0]
    except missing_code("LoadBalancerNotFound"):
        return None


@aws_call("describe the load balancer's listeners")
def find_listeners(elb, lb_arn):
    out = []
    for page in elb.get_paginator("describe_listeners").paginate(LoadBalancerArn=lb_arn):
        out.extend(page["Listeners"])
    return dict((l["Port"], l) for l in out)


@aws_call("describe a listener's rules")
def find_rules(elb, listener_arn):
    rules, marker = [], None
    while True:
        kwargs = dict(ListenerArn=listener_arn)
        if marker:
            kwargs["Marker"] = marker
        page = elb.describe_rules(**kwargs)
        rules.extend(page["Rules"])
        marker = page.get("NextMarker")
        if not marker:
            return [r for r in rules if not r.get("IsDefault")]


@aws_call("list the target groups")
def find_target_groups(elb, names):
    found = {}
    for page in elb.get_paginator("describe_target_groups").paginate():
        for group in page["TargetGroups"]:
            if group["TargetGroupName"] in names:
                found[group["TargetGroupName"]] = group["TargetGroupArn"]
    return found


@aws_call("describe the targets of a target group")
def count_registered(elb, arn):
    """How many targets are registered in the group (those draining out of it left out)."""
    health = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return len([t for t in health if (t.get("TargetHealth") or {}).get("State") != "draining"])


@aws_call("describe the ECS services")
def find_ecs_services(ecs, cluster, names):
    """ECS service name -> its description, {} when the cluster does not exist."""
    found = {}
    for batch in describe_batches(names):
        try:
            answer = ecs.describe_services(cluster=cluster, services=batch)
        except missing_code("ClusterNotFoundException"):
            return {}
        for svc in answer.get("services") or []:
            found[svc["serviceName"]] = svc
    return found
