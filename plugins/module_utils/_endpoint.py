# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which AWS services an endpoint answers: one cheap read-only call each.

Used by endpoint_services_info (the answer for every service) and by
lab_context_info (the services a phase needs, refused before any change on an
endpoint such as LocalStack's community runtime that lacks some).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client as aws_client

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

# One read-only call per service, the cheapest that every implementation has.
PROBES = {
    "sts": ("sts", "get_caller_identity", {}),
    "ec2": ("ec2", "describe_vpcs", {"MaxResults": 5}),
    "iam": ("iam", "list_roles", {"MaxItems": 1}),
    "s3": ("s3", "list_buckets", {}),
    "events": ("events", "list_event_buses", {"Limit": 1}),
    "logs": ("logs", "describe_log_groups", {"limit": 1}),
    "cloudformation": ("cloudformation", "list_stacks", {}),
    "ecr": ("ecr", "describe_repositories", {"maxResults": 1}),
    "ecs": ("ecs", "list_clusters", {"maxResults": 1}),
    "codecommit": ("codecommit", "list_repositories", {}),
    "rds": ("rds", "describe_db_instances", {"MaxRecords": 20}),
    "elbv2": ("elbv2", "describe_load_balancers", {"PageSize": 1}),
    "codedeploy": ("codedeploy", "list_applications", {}),
    "codepipeline": ("codepipeline", "list_pipelines", {"maxResults": 1}),
}
NAMES = {"sts": "STS", "ec2": "EC2", "iam": "IAM", "s3": "S3", "events": "EventBridge", "logs": "CloudWatch Logs",
         "cloudformation": "CloudFormation", "ecr": "ECR", "ecs": "ECS", "codecommit": "CodeCommit", "rds": "RDS",
         "elbv2": "ELBv2", "codedeploy": "CodeDeploy", "codepipeline": "CodePipeline"}


def classify_client_error(error):
    """None when the service answered (even with a refusal), else why it is missing."""
    response = getattr(error, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    code = response.get("Error", {}).get("Code", "")
    message = response.get("Error", {}).get("Message", "")
    if status >= 500 or code in ("NotImplemented", "UnknownOperationException", "InvalidAction"):
        return ("HTTP %s %s: %s" % (status, code, message)).strip()[:300]
    return None


def probe(module, service):
    client_name, operation, params = PROBES[service]
    try:
        client = aws_client(module, client_name)
        getattr(client, operation)(**params)
        return None
    except botocore.exceptions.ClientError as error:
        return classify_client_error(error)
    except (botocore.exceptions.BotoCoreError, ValueError) as error:
        return ("no answer: %s" % error)[:300]


def missing_message(missing, endpoint):
    names = ", ".join(NAMES[s] for s in sorted(missing))
    return (
        "Failed to find %s at the endpoint %s (cloudlab_aws_connection.endpoint_url): %s. "
        "This endpoint cannot run these steps; nothing was changed. Two ways on: the local cloud "
        "(make demo, or -i inventories/local after make cloud lab), or LocalStack with an auth token "
        "(LOCALSTACK_AUTH_TOKEN set: its paid tiers have these services)"
        % (names, endpoint, "; ".join("%s: %s" % (NAMES[s], missing[s]) for s in sorted(missing))))
