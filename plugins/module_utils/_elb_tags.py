# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ownership tags of the load balancer and target groups (Elastic Load Balancing v2): read, and add what lacks.

The tags themselves are the lab model's (``_lab.owner_tags``); this file only reads and writes them, for the
modules ``alb`` and ``alb_target_groups``. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call

# describe_tags takes at most 20 resource ARNs a call.
BATCH = 20


def as_list(tags):
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


@aws_call("read the tags of the load balancer or target groups")
def read_tags(elb, arns):
    """ARN -> tags (a dict) of each of ``arns``."""
    out = {}
    arns = [a for a in arns if a]
    for start in range(0, len(arns), BATCH):
        for desc in elb.describe_tags(ResourceArns=arns[start:start + BATCH])["TagDescriptions"]:
            out[desc["ResourceArn"]] = dict((t["Key"], t["Value"]) for t in desc.get("Tags") or [])
    return out


@aws_call("add the ownership tags to a load balancer or target group")
def add_tags(elb, arn, tags):
    elb.add_tags(ResourceArns=[arn], Tags=as_list(tags))
