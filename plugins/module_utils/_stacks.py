# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Fargate cluster's CloudFormation stacks and clusters, read (fargate_cluster_plan, lab_info).

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _cluster as rules
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code


@aws_call("describe the ECS clusters")
def cluster_statuses(ecs, names):
    """{name: status} of the clusters ECS knows among ``names``."""
    answer = ecs.describe_clusters(clusters=names)
    return dict((c["clusterName"], c["status"]) for c in answer.get("clusters", []))


@aws_call("describe the cluster's stack")
def describe_stack(cfn, name):
    """The live stack called ``name``, or None."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except missing_code("ValidationError") as e:
        if "does not exist" in str(e):
            return None
        raise
    live = [s for s in stacks if s.get("StackStatus") != "DELETE_COMPLETE"]
    return live[0] if live else None


@aws_call("list the stack's resources")
def owned_clusters(cfn, name):
    """Names of the ECS clusters the stack created."""
    paginator = cfn.get_paginator("list_stack_resources")
    out = []
    for page in paginator.paginate(StackName=name):
        for res in page.get("StackResourceSummaries", []):
            if res.get("ResourceType") == "AWS::ECS::Cluster" and res.get("PhysicalResourceId"):
                out.append(rules.cluster_short_name(res["PhysicalResourceId"]))
    return out


@aws_call("read the deployed template")
def deployed_template(cfn, name):
    return cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]


@aws_call("read the stack's events")
def stack_events(cfn, name, limit=50):
    """The latest events, newest first (the first page is enough to explain a failure)."""
    return cfn.describe_stack_events(StackName=name).get("StackEvents", [])[:limit]


def stack_clusters(cfn, stack):
    """The clusters a stack owns. A stack caught half-created (the local cloud cannot list the
    resources of a create that failed) claims the cluster its ECSClusterName parameter names."""
    try:
        return owned_clusters(cfn, stack["StackName"])
    except CloudlabError:
        if stack["StackStatus"] in rules.SETTLED_STATUSES:
            raise
        params = dict((x["ParameterKey"], x.get("ParameterValue", "")) for x in stack.get("Parameters", []))
        return [params["ECSClusterName"]] if params.get("ECSClusterName") else []


def read_stacks(cfn, names, owners=True):
    """{stack name: {"stack": ..., "status": ..., "clusters": [...]}} of the stacks that exist
    (``owners=False``: without the clusters they own)."""
    out = {}
    for name in names:
        if name in out:
            continue
        stack = describe_stack(cfn, name)
        if stack is not None:
            out[name] = {"stack": stack, "status": stack["StackStatus"],
                         "clusters": stack_clusters(cfn, stack) if owners else []}
    return out
