#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: alb_route_check
short_description: Checks that each service's production and test routes reach a target group with targets
version_added: 1.1.0
description:
  - Reads the load balancer, its production and test listeners and their rules, and the registered targets of
    each service's pair of target groups (C(<name>-tg-one), C(<name>-tg-two)), and says per service and per
    listener which groups its route sends traffic to (weight above 0) and how many targets each group of the
    pair has. Changes nothing.
  - Fails when a service has targets behind its pair and one of its routes leads to a group of the pair with
    none (the listener answers 503 there), forwards outside its pair, or is missing; the message names the
    listener, the route, both groups and the way to fix it. It fails rather than warns because that route is
    an outage that a finished run would otherwise report as success (a warning scrolls by at the end of a
    long run).
  - A service with no target in either group of its pair (no task running yet, or the tasks of a deployment
    still starting) is reported C(no targets) and is not a failure.
  - With O(cluster), a service of more than one task set (a blue/green deployment in progress, whose
    replacement has targets before the listeners move to it) is reported C(deploying), not a failure.
  - Runs after Phase 8, in one run for all services; C(playbooks/phase8.yml) runs it last, so C(site.yml) does.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  name:
    description: Load balancer name.
    type: str
    default: microservicesLB
  services:
    description:
      - The services, as the C(microservices) list (C(name) and C(path_pattern) are used). The first is the
        listeners' default route, every other one a path rule.
    type: list
    elements: dict
    required: true
  cluster:
    description:
      - ECS cluster of the services (service C(<name>-microservice)), read to tell a deployment in progress.
      - Empty, every route that leads to an empty group of a pair with targets is a failure.
    type: str
    default: ""
  production_port:
    description: Port of the production listener.
    type: int
    default: 80
  test_port:
    description: Port of the test listener.
    type: int
    default: 8080
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
    details: Only reads; the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Changes nothing, reports C(changed=false).
"""

EXAMPLES = r"""
- name: Each route of each service reaches a target group with targets
  cloudlab.microservices.alb_route_check:
    name: microservicesLB
    cluster: microservices-serverlesscluster
    services:
      - name: customer
      - name: employee
        path_pattern: /admin/*
  register: routes
"""

RETURN = r"""
routes:
  description:
    - Per service, per listener (C(production), C(test)), where its route leads.
    - C(status) is C(ok), C(no targets) (the pair has none), C(empty) (a group reached has none while the other
      has some), C(deploying) (the same during a deployment), C(missing) or C(elsewhere) (forwards outside the pair, or does not forward).
  returned: always
  type: dict
  sample:
    employee:
      production: {port: 80, route: "rule /admin/*", target_groups: [employee-tg-one],
                   registered: {employee-tg-one: 1, employee-tg-two: 0}, status: ok}
problems:
  description: One line per route that strands its service's traffic, with the way to fix it (the failure message).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import check_routes
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb import deploying
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import count_registered
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_ecs_services
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_listeners
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_load_balancer
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_rules
from ansible_collections.cloudlab.microservices.plugins.module_utils._alb_reads import find_target_groups
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client as aws_client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import each
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._services import SERVICE_OPTIONS


def check(module):
    p = module.params
    services = p["services"]
    for index, svc in enumerate(services):
        if not svc["name"] or (index and not svc["path_pattern"]):
            raise CloudlabError(message="Failed to validate services[%d]: each service needs a name, and every one "
                                        "but the first a path_pattern" % index)
    elb = aws_client(module, "elbv2")
    lb = find_load_balancer(elb, p["name"])
    if lb is None:
        raise CloudlabError(message="Failed to find load balancer %s (name): run playbooks/phase6.yml" % p["name"])
    current = find_listeners(elb, lb["LoadBalancerArn"])
    listeners = {}
    for label, port in (("production", p["production_port"]), ("test", p["test_port"])):
        listener = current.get(port)
        listeners[label] = (port, listener, find_rules(elb, listener["ListenerArn"]) if listener else [])
    arns = find_target_groups(elb, _lab.target_groups(services))
    groups = sorted(arns.values())
    counts = each(lambda arn: count_registered(elb, arn), groups, lambda arn: arn, "describe the targets of")
    in_deployment = deploying(services, find_ecs_services(
        aws_client(module, "ecs"), p["cluster"], [_lab.ecs_service(s["name"]) for s in services])) if p["cluster"] else ()
    report, problems = check_routes(services, listeners, arns, dict(zip(groups, counts)), in_deployment)
    result = dict(changed=False, routes=report, problems=problems)
    if problems:
        raise CloudlabError(message="Failed to check the routes of load balancer %s: %s" % (
            p["name"], "; ".join(problems)), **result)
    return result


def main():
    argument_spec = dict(
        name=dict(type="str", default="microservicesLB"),
        services=dict(type="list", elements="dict", options=SERVICE_OPTIONS, required=True),
        cluster=dict(type="str", default=""),
        production_port=dict(type="int", default=80),
        test_port=dict(type="int", default=8080),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, check)


if __name__ == "__main__":
    main()
