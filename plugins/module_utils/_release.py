# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A release followed (Phase 9.2 and 9.3): the rules of what is said about it, once.

What a release is made of, as AWS shows it: a pipeline execution (its actions), the CodeDeploy deployment
its Deploy action started (the lifecycle events of its ECS target, the Green task set's traffic weight
during a canary or linear shift), and the listeners of the load balancer (where each one sends the
service's traffic). The functions here turn those reads into the lines a user reads and into the
result's one line; the module (release_follow) reads AWS and calls them. No AWS call here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab_info
from ansible_collections.cloudlab.microservices.plugins.module_utils import _summary

ENDED = ("Succeeded", "Failed", "Stopped", "Superseded", "Cancelled")
DEPLOYMENT_ENDED = ("Succeeded", "Failed", "Stopped")
# Codes that mean the lab's resources are gone (destroyed while a release was followed).
GONE_CODES = ("PipelineNotFoundException", "PipelineExecutionNotFoundException", "DeploymentDoesNotExistException",
              "DeploymentGroupDoesNotExistException", "ApplicationDoesNotExistException",
              "LoadBalancerNotFound", "ListenerNotFound")


class Timeline:
    """What was seen, in order: a line is added when what a key shows changes (no repeat per poll)."""

    def __init__(self, clock):
        self.clock = clock
        self.start = clock()
        self.seen = {}
        self.events = []

    def observe(self, key, text):
        if not text or self.seen.get(key) == text:
            return False
        self.seen[key] = text
        self.events.append({"seconds": round(self.clock() - self.start, 1), "what": key, "state": text})
        return True

    def lines(self):
        return ["+%.1fs %s: %s" % (e["seconds"], e["what"], e["state"]) for e in self.events]


def action_state(action):
    """`Succeeded (Deployment d-X succeeded)` of a pipeline action execution."""
    result = (action.get("output") or {}).get("executionResult") or {}
    detail = result.get("externalExecutionSummary") or ""
    error = (result.get("errorDetails") or {}).get("message") or ""
    text = action.get("status") or "InProgress"
    extra = error or detail
    return "%s (%s)" % (text, extra) if extra else text


def deployment_of(actions):
    """The CodeDeploy deployment id a Deploy action (provider CodeDeployToECS) started, or None."""
    for action in actions:
        provider = ((action.get("input") or {}).get("actionTypeId") or {}).get("provider", "")
        result = (action.get("output") or {}).get("executionResult") or {}
        ident = result.get("externalExecutionId") or ""
        if ident and (provider.startswith("CodeDeploy") or (not provider and action.get("actionName") == "Deploy")):
            return ident
    return None


def lifecycle_state(events):
    """`BeforeInstall:Succeeded Install:InProgress ...` of an ECS target's lifecycle events (pending ones left out)."""
    return " ".join("%s:%s" % (e["lifecycleEventName"], e["status"]) for e in events or []
                    if e.get("status") != "Pending")


def green_percent(target):
    """The traffic weight (percent) of the replacement (Green) task set of an ECS deployment target, or None."""
    for info in (target or {}).get("taskSetsInfo") or []:
        if info.get("taskSetLabel") == "Green" and info.get("trafficWeight") is not None:
            return int(round(float(info["trafficWeight"])))
    return None


def shift_state(percent, config):
    """`30% of traffic on the replacement (CodeDeployDefault.ECSLinear10PercentEvery1Minutes)`."""
    if percent is None:
        return ""
    return "%d%% of traffic on the replacement task set%s" % (percent, " (%s)" % config if config else "")


def traffic(listeners, rules, groups):
    """{listener port: {target group name: percent}}: where each listener sends the service's traffic.

    ``listeners`` as DescribeListeners gives them, ``rules`` {listener ARN: its rules}, ``groups``
    {target group ARN: name} of the service's pair. A listener that sends the service nothing is left out.
    """
    pair = set(groups.values())
    out = {}
    for listener in listeners:
        weights = {}
        for rule in rules.get(listener["ListenerArn"], []):
            for name, weight in (_lab_info.route(rule.get("Actions"), groups) or {}).items():
                if name in pair:
                    weights[name] = weights.get(name, 0) + weight
        total = sum(weights.values())
        if total:
            out[listener["Port"]] = dict((name, int(round(100.0 * w / total))) for name, w in sorted(weights.items())
                                         if w)
    return out


def traffic_line(where):
    """`listener :80 -> employee-tg-two, listener :8080 -> employee-tg-one 90% / employee-tg-two 10%`."""
    if not where:
        return "no listener sends this service's traffic"
    return ", ".join("listener :%s -> %s" % part for part in _summary.traffic_parts(where))


def said(service, status, body):
    """What a page answers, in short: the sample's `<service> version N` line, else the HTTP status."""
    found = re.search(r"%s version [^<\s]+" % re.escape(service), body or "")
    return found.group(0) if found else "HTTP %s" % status


def find_execution(summaries, action, revision):
    """The newest execution summary whose source action `action` has revision `revision`, or None."""
    for summary in summaries:
        for source in summary.get("sourceRevisions") or []:
            if source.get("actionName") == action and source.get("revisionId") == revision:
                return summary
    return None


def follow_hint(playbook_args, execution_id, deployment_id=None, pipeline=None):
    """How to follow a release again (the playbook, and the AWS CLI)."""
    parts = ["ansible-playbook %s -e release_execution_id=%s" % (playbook_args, execution_id)]
    if pipeline:
        parts.append("aws codepipeline get-pipeline-execution --pipeline-name %s --pipeline-execution-id %s"
                     % (pipeline, execution_id))
    if deployment_id:
        parts.append("aws deploy get-deployment --deployment-id %s" % deployment_id)
    return "; or ".join(parts)


def outcome(service, status, error, where, deployment_id):
    """The result's one line once the execution ended: success, or what failed and where traffic stayed."""
    if status == "Succeeded":
        return "release of %s Succeeded%s: %s" % (
            service, " (deployment %s)" % deployment_id if deployment_id else "", traffic_line(where))
    return "release of %s %s%s: %s; traffic stayed where it is: %s" % (
        service, status, " (deployment %s)" % deployment_id if deployment_id else "",
        error or "no error text from AWS", traffic_line(where))


def still_running(service, seconds, where_now, hint):
    """The line of a time limit reached: where the release is, and how to follow it."""
    return ("release of %s still in progress after %ss (%s); it goes on in AWS: follow it with %s"
            % (service, seconds, where_now, hint))


def interrupted(service, why, where_now, hint):
    """The line of a follow interrupted (Ctrl-C, SIGTERM): the deployment goes on."""
    return ("following the release of %s was interrupted (%s) at %s; the deployment goes on in AWS: follow it with %s"
            % (service, why, where_now, hint))


def gone(service, what, hint=""):
    """The line of the lab destroyed while the release was followed."""
    return ("release of %s: %s no longer exists (the lab was destroyed or changed while the release ran); "
            "rebuild it with playbooks/site.yml%s" % (service, what, ", then " + hint if hint else ""))


def rule_missing(pipeline, rule, action, revision, seconds):
    """The line of a pipeline that never started because its change detection rule is missing."""
    what = "commit" if action == "Source" else "image"
    return ("no execution of pipeline %s started for %s %s within %ss: its change detection rule %s (EventBridge) "
            "is missing, so nothing starts it; rerun Phase 8 (playbooks/phase8.yml, task8_2) to make it, "
            "or set release_start=true to start the pipeline" % (pipeline, what, revision, seconds, rule))


def report_lines(progress, where, answers):
    """What the role shows at the end: the timeline, where traffic goes, what each listener answers."""
    lines = list(progress)
    lines.append("traffic: %s" % traffic_line(where))
    for port, answer in sorted(answers.items(), key=lambda item: int(item[0])):
        lines.append("listener :%s answers on %s: %s" % (port, answer["url"], answer["answer"]))
    return lines
