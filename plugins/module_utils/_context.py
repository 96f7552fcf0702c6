# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab account's context, read: account, region, LabVPC and its public subnets, the lab's IAM
roles, supplierdb and the ECR registry (lab_context_info, lab_info).

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import aws_call
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import missing_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import warn
from ansible_collections.cloudlab.microservices.plugins.module_utils._endpoint import PROBES
from ansible_collections.cloudlab.microservices.plugins.module_utils._endpoint import check_answers
from ansible_collections.cloudlab.microservices.plugins.module_utils._endpoint import down_message
from ansible_collections.cloudlab.microservices.plugins.module_utils._endpoint import probe
from ansible_collections.cloudlab.microservices.plugins.module_utils._endpoint import unreachable

# The options of the read (documented in plugins/doc_fragments/lab_context.py).
CONTEXT_OPTIONS = dict(
    vpc_name=dict(type="str", default="LabVPC"),
    subnet_names=dict(type="list", elements="str", default=["PublicSubnet1", "PublicSubnet2"]),
    pipeline_role_name=dict(type="str", default="PipelineRole"),
    deploy_role_name=dict(type="str", default="DeployRole"),
    db_instance=dict(type="str", default="supplierdb"),
    required_services=dict(type="list", elements="str", default=[], choices=sorted(PROBES)),
)
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
START = "start the AWS Academy lab, or set %s; on the local cloud run `make lab`"


@aws_call("read the caller identity (check the credentials in cloudlab_aws_connection)")
def caller(sts):
    identity = sts.get_caller_identity()
    return identity["Account"], identity["Arn"].split(":")[1]


@aws_call("look up the VPC by its Name tag")
def find_vpc(ec2, name, region):
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    if not vpcs:
        raise CloudlabError(message="VPC with Name tag '%s' not found in %s: %s"
                            % (name, region, START % "aws_context_vpc_name"))
    if len(vpcs) > 1:
        raise CloudlabError(message="%d VPCs have the Name tag '%s' in %s (%s): rename the extra ones, or set "
                            "aws_context_vpc_name to a unique name"
                            % (len(vpcs), name, region, ", ".join(sorted(v["VpcId"] for v in vpcs))))
    return vpcs[0]["VpcId"]


def _name(resource):
    return dict((t["Key"], t["Value"]) for t in resource.get("Tags") or []).get("Name")


@aws_call("look up the subnets by their Name tags")
def find_subnets(ec2, vpc_id, vpc_name, names, region):
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                            {"Name": "tag:Name", "Values": list(names)}])["Subnets"]
    by_name = {}
    for subnet in subnets:
        by_name.setdefault(_name(subnet), []).append(subnet["SubnetId"])
    absent = [n for n in names if n not in by_name]
    if absent:
        raise CloudlabError(message="Subnet(s) with Name tag '%s' not found in VPC '%s' (%s) in %s: %s"
                            % ("', '".join(absent), vpc_name, vpc_id, region, START % "aws_context_subnet_names"))
    shared = sorted(n for n in names if len(by_name[n]) > 1)
    if shared:
        raise CloudlabError(message="Several subnets of VPC '%s' (%s) in %s share the Name tag '%s': rename the "
                            "extra ones, or set aws_context_subnet_names to unique names"
                            % (vpc_name, vpc_id, region, "', '".join(shared)))
    return [by_name[n][0] for n in names]


def role_arn(iam, name):
    """(ARN or None when absent, readable): AccessDenied gives (None, False)."""
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"], True
    except missing_code("NoSuchEntity"):
        return None, True
    except missing_code(*DENIED):  # pylint: disable=duplicate-except
        return None, False


@aws_call("look up the RDS instance")
def db_endpoint(rds, identifier):
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except missing_code("DBInstanceNotFound", "DBInstanceNotFoundFault"):
        return ""
    # An instance still being created has no endpoint yet: '' as if absent.
    return ((found[0] if found else {}).get("Endpoint") or {}).get("Address") or ""


def registry_host(ecr):
    """The registry's host[:port] from GetAuthorizationToken (the token itself is dropped), or None if denied."""
    try:
        # Not through the retry decorator: it retries InternalFailure for minutes, which is how an
        # endpoint without ECR answers (501). botocore's own retries still cover throttling.
        data = ecr.get_authorization_token()["authorizationData"]
    except missing_code(*DENIED):
        return None
    except missing_code("InternalFailure", "NotImplemented") as e:
        # An endpoint without ECR (LocalStack's community runtime answers 501): no registry to read.
        if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 501:
            raise
        return None
    endpoint = data[0]["proxyEndpoint"] if data else ""
    return urlparse(endpoint if "://" in endpoint else "https://" + endpoint).netloc or None


def dns_suffix(partition):
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


def lab_context(module):
    p = module.params
    region = module.region
    if p["required_services"] and p.get("endpoint_url"):
        missing = dict((s, r) for s, r in ((s, probe(module, s)) for s in p["required_services"]) if r is not None)
        if missing:
            raise CloudlabError(message=check_answers(missing, p["endpoint_url"], region))
    try:
        account, partition = caller(client(module, "sts"))
    except CloudlabError as e:
        if not unreachable(e):
            raise
        raise CloudlabError(message=down_message(p.get("endpoint_url"), e.exception, region)) from e
    ec2 = client(module, "ec2")
    vpc_id = find_vpc(ec2, p["vpc_name"], region)
    subnet_ids = find_subnets(ec2, vpc_id, p["vpc_name"], p["subnet_names"], region)

    iam = client(module, "iam")
    built = []

    def lookup(name):
        arn, readable = aws_call("look up IAM role %s" % name)(role_arn)(iam, name)
        if not readable:
            built.append(name)
            return "arn:%s:iam::%s:role/%s" % (partition, account, name)
        return arn

    pipeline = lookup(p["pipeline_role_name"])
    if pipeline is None:
        raise CloudlabError(message="IAM role '%s' not found in account %s: this collection looks it up and never "
                            "creates it (AWS Academy accounts cannot create roles); %s"
                            % (p["pipeline_role_name"], account, START % "aws_context_pipeline_role_name"))
    deploy = (lookup(p["deploy_role_name"]) or "") if p["deploy_role_name"] else ""
    if built:
        warn(module, "The credentials may not read IAM (AccessDenied on GetRole): the ARN of %s is built from the "
             "account as the lab writes it, arn:%s:iam::%s:role/<name>; if the role has another path or "
             "does not exist, later steps that use it fail" % (" and ".join(built), partition, account))

    db_host = db_endpoint(client(module, "rds"), p["db_instance"]) if p["db_instance"] else ""

    registry = aws_call("read the ECR registry address")(registry_host)(client(module, "ecr"))
    if registry is None:
        registry = "%s.dkr.ecr.%s.%s" % (account, region, dns_suffix(partition))
        warn(module, "The credentials may not call ecr:GetAuthorizationToken (or the endpoint has no ECR): "
             "the registry host %s is built from the account and region" % registry)
    return dict(changed=False, account_id=account, partition=partition, region=region, vpc_id=vpc_id,
                subnet_ids=subnet_ids, pipeline_role_arn=pipeline, deploy_role_arn=deploy, db_host=db_host,
                registry=registry, iam_readable=not built)
