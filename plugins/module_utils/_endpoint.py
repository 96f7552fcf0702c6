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


# What probe() says of a service whose endpoint did not answer at all (refused, unresolved, timed out).
NO_ANSWER = "no answer: "


def unreachable(error):
    """Whether an error (botocore's, or a CloudlabError wrapping one) says the endpoint did not answer at all."""
    inner = getattr(error, "exception", None) or error
    return isinstance(inner, botocore.exceptions.ConnectionError)


def probe(module, service):
    client_name, operation, params = PROBES[service]
    try:
        client = aws_client(module, client_name)
        getattr(client, operation)(**params)
        return None
    except botocore.exceptions.ClientError as error:
        return classify_client_error(error)
    except (botocore.exceptions.BotoCoreError, ValueError) as error:
        return (NO_ANSWER + str(error))[:300]


def down_message(endpoint, reason, region=None):
    """An endpoint that does not answer at all: down or not at that address, not a lack of services."""
    reason = str(reason)
    reason = reason[len(NO_ANSWER):] if reason.startswith(NO_ANSWER) else reason
    if not endpoint or endpoint == "AWS":
        return ("AWS does not answer from this machine%s: %s. Nothing was changed. Check the network "
                "access to AWS (DNS, proxy, firewall) and the region, cloudlab_aws_connection.region "
                "(AWS_REGION with the sample inventory inventories/aws)"
                % (" in %s" % region if region else "", reason))
    return ("The endpoint %s (cloudlab_aws_connection.endpoint_url) does not answer: %s. It is down or not "
            "at that address; nothing was changed. Start the service that serves it, or set "
            "cloudlab_aws_connection.endpoint_url to where it answers (leave endpoint_url out to use AWS)"
            % (endpoint, reason))


def check_answers(missing, endpoint, region=None):
    """The message that stops a run for the services in ``missing`` (service -> probe's reason), or None.

    An endpoint that answered none of them at all is down: that, not a lack of services, is what it says.
    """
    if not missing:
        return None
    silent = [s for s in sorted(missing) if missing[s].startswith(NO_ANSWER)]
    if silent:
        return down_message(endpoint, missing[silent[0]], region)
    return missing_message(missing, endpoint)


def missing_message(missing, endpoint):
    names = ", ".join(NAMES[s] for s in sorted(missing))
    found = "; ".join("%s: %s" % (NAMES[s], missing[s]) for s in sorted(missing))
    if not endpoint or endpoint == "AWS":
        return ("Failed to find %s on AWS: %s. Nothing was changed. Check the region, "
                "cloudlab_aws_connection.region (AWS_REGION with the sample inventory inventories/aws)"
                % (names, found))
    return (
        "Failed to find %s at the endpoint %s (cloudlab_aws_connection.endpoint_url): %s. "
        "This endpoint cannot run these steps; nothing was changed. Two ways on: a local cloud that has them "
        "(the collection's source repository runs one on 127.0.0.1), or LocalStack with an auth token "
        "(LOCALSTACK_AUTH_TOKEN set: its paid tiers have these services), or AWS (leave endpoint_url out)"
        % (names, endpoint, found))
