#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: release_follow
short_description: Finds, starts or stops a release of a service and follows it to its end (Phase 9.2, 9.3)
version_added: 1.1.0
description:
  - A release is the pipeline execution that a new C(latest) image or a commit on C(dev) starts, and the
    CodeDeploy blue/green deployment its Deploy action starts. This module finds that execution (by the
    source revision it took, the image digest or the commit id), or starts one, or stops the service's
    deployment in progress with a rollback, and then follows it until it ends.
  - Following means reading, every O(poll) seconds, the execution and its actions, the deployment's
    lifecycle events and the replacement task set's traffic weight (the shift in percent of a canary or
    linear configuration). A module cannot print while it runs, so what changed is kept in order, with
    the seconds since the start, in RV(timeline) and RV(progress).
  - At the end it reads where each listener of the load balancer sends the service's traffic (RV(traffic))
    and, where it can reach them, what the listeners answer on the service's health check path
    (RV(answers)), the local cloud's C(/_localcloud/listeners) addresses when O(endpoint_url) is set, the
    load balancer's DNS name otherwise.
  - Fails, with one line, when the execution ends other than C(Succeeded) (CodeDeploy's own error text and
    where traffic stayed), when no execution starts (naming the missing change detection rule), when
    O(timeout) is reached (where the release is, and how to follow it), when the lab's resources disappear,
    when the endpoint cannot be reached, and when interrupted (SIGINT, SIGTERM; the deployment goes on).
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  service:
    description: The service released, a name of the C(microservices) list (C(employee)).
    type: str
    required: true
  source:
    description:
      - Which source of the pipeline took the change. V(image), the ECR action C(Image) (a new C(latest));
        V(commit), the CodeCommit action C(Source) (a commit on O(branch)).
    type: str
    choices: [image, commit]
    default: image
  revision:
    description:
      - The revision to release, the image digest (V(image)) or the commit id (V(commit)); the execution that
        took it is followed. Empty with V(commit), the head of O(branch) now.
    type: str
    default: ""
  start:
    description:
      - Start an execution (C(StartPipelineExecution)) when none took O(revision) within O(start_timeout),
        instead of failing. It takes the sources' current revisions.
    type: bool
    default: false
  execution_id:
    description: Follow this execution of the pipeline instead of looking for one (to follow a release again).
    type: str
    default: ""
  stop:
    description:
      - Stop the service's deployment in progress with a rollback (C(StopDeployment), C(autoRollbackEnabled)),
        then follow it until it has stopped. Nothing to stop is no change.
    type: bool
    default: false
  wait:
    description: Follow until the end; V(false) returns once the execution is found or started.
    type: bool
    default: true
  timeout:
    description: Seconds to follow before failing with where the release is (it goes on in AWS).
    type: int
    default: 1800
  start_timeout:
    description: Seconds to wait for an execution that took O(revision) to appear.
    type: int
    default: 60
  poll:
    description: Seconds between two reads.
    type: float
    default: 5
  application:
    description: The lab's CodeDeploy application; the deployment group is C(<application>-<service>).
    type: str
    default: microservices
  pipeline:
    description: The service's pipeline; empty, the lab's C(update-<service>-microservice).
    type: str
    default: ""
  repository:
    description: CodeCommit repository of the deployment files (V(commit) without O(revision)).
    type: str
    default: deployment
  branch:
    description: Its branch.
    type: str
    default: dev
  load_balancer_name:
    description: The lab's load balancer.
    type: str
    default: microservicesLB
  follow_command:
    description: The command line (after C(ansible-playbook)) that RV(follow) gives to follow the release again.
    type: str
    default: ""
extends_documentation_fragment:
  - cloudlab.microservices.attributes
  - cloudlab.microservices.attributes.actiongroup_aws
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details: Reads the pipeline and its rules and says what it would follow, start or stop; starts, stops and waits for nothing.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: Following changes nothing; O(start) starts an execution only when none took O(revision); O(stop) stops only what runs.
notes:
  - Ctrl-C on C(ansible-playbook) ends the playbook, not the release; the release goes on in AWS. The role
    C(cloudlab.microservices.release) prints how to follow it again before it follows.
"""

EXAMPLES = r"""
- name: Follow the execution that a new latest image of employee started
  cloudlab.microservices.release_follow:
    service: employee
    source: image
    revision: "{{ pushed.images[0].digest }}"
    timeout: 900

- name: Stop employee's deployment in progress, with a rollback
  cloudlab.microservices.release_follow:
    service: employee
    stop: true
"""

RETURN = r"""
pipeline:
  description: The pipeline followed.
  returned: always
  type: str
execution_id:
  description: The execution followed (empty when none, or in check mode before the change it follows is made).
  returned: always
  type: str
status:
  description: The execution's status at the end (C(Succeeded), C(Failed), C(Stopped)...), or C(InProgress).
  returned: always
  type: str
deployment_id:
  description: The CodeDeploy deployment of its Deploy action, when it started one.
  returned: always
  type: str
error:
  description: CodeDeploy's error text (else the action's, else the execution's) when it did not succeed.
  returned: always
  type: str
timeline:
  description: What changed, in order, each C(seconds) (since the start), C(what) and C(state).
  returned: always
  type: list
  elements: dict
progress:
  description: The timeline as lines, C(+12.0s Deploy.Deploy = InProgress).
  returned: always
  type: list
  elements: str
traffic:
  description: For each listener port, the service's target groups it sends traffic to, with their percent.
  returned: always
  type: dict
  sample: {"80": {"employee-tg-two": 100}, "8080": {"employee-tg-two": 100}}
answers:
  description: For each listener port it could reach, C(url) and C(answer) (the page's C(<service> version N), or the HTTP status).
  returned: always
  type: dict
report:
  description: RV(progress), then where each listener sends the service's traffic and what it answers, as lines.
  returned: always
  type: list
  elements: str
follow:
  description: How to follow the release again (the playbook, and the AWS CLI).
  returned: always
  type: str
"""

import signal
import time

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible.module_utils.urls import open_url
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils import _release
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import CloudlabError
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import client
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import error_code
from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import run
from ansible_collections.cloudlab.microservices.plugins.module_utils._lab_info import local_listeners

IN_PROGRESS = ["Created", "Queued", "InProgress", "Baking", "Ready"]


class Interrupted(Exception):
    pass


def _on_sigterm(_signum, _frame):
    raise Interrupted("SIGTERM")


class Release:
    def __init__(self, module):
        self.module = module
        p = module.params
        self.p = p
        self.service = p["service"]
        self.pipeline = p["pipeline"] or _lab.pipeline(self.service)
        self.group = _lab.deployment_group(p["application"], self.service)
        self.c = dict((name, client(module, name)) for name in ("codepipeline", "codedeploy", "elbv2", "events"))
        self.timeline = _release.Timeline(time.time)
        self.result = dict(changed=False, pipeline=self.pipeline, execution_id="", status="", deployment_id="",
                           error="", timeline=self.timeline.events, progress=[], traffic={}, answers={}, follow="",
                           report=[])
        self.where_now = "before any execution was found"

    def fail_fields(self):
        """The result, as a failure's fields (its one line is the message)."""
        return dict((k, v) for k, v in self.result.items() if k != "msg")

    # ---- reads
    def hint(self):
        args = self.p["follow_command"] or "playbooks/release.yml -e release_service=%s" % self.service
        return _release.follow_hint(args, self.result["execution_id"], self.result["deployment_id"], self.pipeline)

    def summaries(self):
        return self.c["codepipeline"].list_pipeline_executions(pipelineName=self.pipeline, maxResults=20)[
            "pipelineExecutionSummaries"]

    def revision(self):
        if self.p["revision"] or self.p["source"] == "image":
            return self.p["revision"]
        cc = client(self.module, "codecommit")
        return cc.get_branch(repositoryName=self.p["repository"], branchName=self.p["branch"])["branch"]["commitId"]

    def rule_state(self, action):
        name = _lab.event_rule(self.pipeline, action)
        try:
            return name, self.c["events"].describe_rule(Name=name).get("State", "ENABLED")
        except botocore.exceptions.ClientError as e:
            if error_code(e) == "ResourceNotFoundException":
                return name, None
            raise

    def traffic(self):
        elb = self.c["elbv2"]
        lb = elb.describe_load_balancers(Names=[self.p["load_balancer_name"]])["LoadBalancers"][0]
        names = [_lab.target_group(self.service, which) for which in _lab.PAIR]
        found = elb.describe_target_groups(Names=names)["TargetGroups"]
        groups = dict((g["TargetGroupArn"], g["TargetGroupName"]) for g in found)
        listeners = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        rules = dict((ls["ListenerArn"], elb.describe_rules(ListenerArn=ls["ListenerArn"])["Rules"]) for ls in listeners)
        path = (found[0].get("HealthCheckPath") if found else None) or "/"
        return _release.traffic(listeners, rules, groups), lb, listeners, path

    def answers(self, lb, listeners, path):
        endpoint = self.p.get("endpoint_url")
        if endpoint:
            urls = local_listeners(endpoint)
            where = dict((ls["Port"], urls[ls["ListenerArn"]]) for ls in listeners if ls["ListenerArn"] in urls)
        else:
            where = dict((ls["Port"], "http://%s:%d" % (lb["DNSName"], ls["Port"])) for ls in listeners)
        out = {}
        for port, base in sorted(where.items()):
            url = base.rstrip("/") + path
            try:
                resp = open_url(url, method="GET", timeout=10, validate_certs=False)
                answer = _release.said(self.service, resp.getcode(), resp.read().decode("utf-8", "replace"))
            except Exception as e:  # an HTTP error, a refused connection, a name that does not resolve
                code = getattr(e, "code", None)
                answer = "HTTP %s" % code if code else "no answer (%s)" % e
            out[port] = dict(url=url, answer=answer)
        return out

    def deployment_in_progress(self):
        ids = self.c["codedeploy"].list_deployments(applicationName=self.p["application"],
                                                    deploymentGroupName=self.group,
                                                    includeOnlyStatuses=IN_PROGRESS)["deployments"]
        return ids[0] if ids else None

    def read_deployment(self, deployment_id):
        cd = self.c["codedeploy"]
        info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        self.result["deployment_id"] = deployment_id
        status = info.get("status", "")
        self.timeline.observe("deployment %s" % deployment_id, status)
        target = None
        targets = cd.list_deployment_targets(deploymentId=deployment_id).get("targetIds") or []
        if targets:
            target = (cd.batch_get_deployment_targets(deploymentId=deployment_id, targetIds=targets[:1])[
                "deploymentTargets"] or [{}])[0].get("ecsTarget")
        if target:
            self.timeline.observe("lifecycle", _release.lifecycle_state(target.get("lifecycleEvents")))
            percent = _release.green_percent(target)
            self.timeline.observe("traffic shift", _release.shift_state(percent, info.get("deploymentConfigName")))
            self.where_now = "deployment %s %s, %s" % (deployment_id, status, _release.lifecycle_state(
                target.get("lifecycleEvents")) or "no lifecycle event yet")
            if percent is not None:
                self.where_now += ", %d%% of traffic on the replacement" % percent
        else:
            self.where_now = "deployment %s %s" % (deployment_id, status)
        return info

    # ---- steps
    def find(self):
        """The execution to follow: the one given, the one that took the revision, or one started."""
        if self.p["execution_id"]:
            return self.p["execution_id"]
        action = _lab.IMAGE_ACTION if self.p["source"] == "image" else _lab.SOURCE_ACTION
        revision = self.revision()
        if self.module.check_mode:
            found = _release.find_execution(self.summaries(), action, revision) if revision else None
            if found:
                return found["pipelineExecutionId"]
            self.result["changed"] = bool(self.p["start"])
            self.result["msg"] = "would follow the execution of %s that %s starts" % (
                self.pipeline, "a start" if self.p["start"] else "revision %s" % (revision or "(the new image)"))
            return ""
        deadline = time.time() + self.p["start_timeout"]
        while True:
            found = _release.find_execution(self.summaries(), action, revision)
            if found:
                return found["pipelineExecutionId"]
            if self.p["start"] or time.time() >= deadline:
                break
            time.sleep(self.p["poll"])
        if self.p["start"]:
            self.result["changed"] = True
            return self.c["codepipeline"].start_pipeline_execution(name=self.pipeline)["pipelineExecutionId"]
        rule, state = self.rule_state(action)
        if state is None:
            raise CloudlabError(message=_release.rule_missing(self.pipeline, rule, action, revision,
                                                              self.p["start_timeout"]), **self.fail_fields())
        line = ("no execution of pipeline %s started for %s within %ss (its rule %s is %s); set release_start=true "
                "to start one" % (self.pipeline, revision, self.p["start_timeout"], rule, state))
        raise CloudlabError(message=line, **self.fail_fields())

    def follow(self, execution_id):
        cp = self.c["codepipeline"]
        deadline = time.time() + self.p["timeout"]
        while True:
            execution = cp.get_pipeline_execution(pipelineName=self.pipeline,
                                                  pipelineExecutionId=execution_id)["pipelineExecution"]
            actions = cp.list_action_executions(pipelineName=self.pipeline,
                                                filter={"pipelineExecutionId": execution_id})["actionExecutionDetails"]
            actions = sorted(actions, key=lambda a: (str(a.get("startTime", "")), a.get("stageName", "")))
            for action in actions:
                self.timeline.observe("%s.%s" % (action["stageName"], action["actionName"]),
                                      _release.action_state(action))
            status = execution["status"]
            self.where_now = "execution %s %s" % (execution_id, status)
            deployment_id = _release.deployment_of(actions)
            info = self.read_deployment(deployment_id) if deployment_id else {}
            self.timeline.observe("execution %s" % execution_id, status)
            self.result["progress"] = self.timeline.lines()
            if status in _release.ENDED or status not in ("InProgress", "Stopping"):
                error = ((info.get("errorInformation") or {}).get("message") or "")
                if not error:
                    error = next((_release.action_state(a) for a in actions if a.get("status") == "Failed"), "")
                if not error and status != "Succeeded":
                    error = execution.get("statusSummary") or ""
                return status, error
            if time.time() >= deadline:
                return "InProgress", ""
            time.sleep(self.p["poll"])

    def stop(self):
        deployment_id = self.deployment_in_progress()
        if not deployment_id:
            self.result["msg"] = "no deployment of %s in progress: nothing to stop" % self.group
            return None
        self.result["deployment_id"] = deployment_id
        self.result["changed"] = True
        if self.module.check_mode:
            self.result["msg"] = "would stop deployment %s with a rollback" % deployment_id
            return None
        self.c["codedeploy"].stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        self.timeline.observe("stop", "StopDeployment %s with a rollback" % deployment_id)
        return deployment_id

    def wait_stopped(self, deployment_id):
        deadline = time.time() + self.p["timeout"]
        while True:
            info = self.read_deployment(deployment_id)
            self.result["progress"] = self.timeline.lines()
            if info.get("status") in _release.DEPLOYMENT_ENDED:
                return info.get("status"), (info.get("errorInformation") or {}).get("message") or ""
            if time.time() >= deadline:
                return "InProgress", ""
            time.sleep(self.p["poll"])

    def end(self, status, error):
        self.result.update(status=status, error=error, progress=self.timeline.lines())
        where, lb, listeners, path = self.traffic()
        self.result["traffic"] = dict((str(port), groups) for port, groups in where.items())
        self.result["answers"] = dict((str(port), a) for port, a in self.answers(lb, listeners, path).items())
        self.result["report"] = _release.report_lines(self.result["progress"], where, self.result["answers"])
        self.result["follow"] = self.hint()
        if status == "InProgress":
            raise CloudlabError(message=_release.still_running(self.service, self.p["timeout"], self.where_now,
                                                               self.result["follow"]), **self.fail_fields())
        if self.p["stop"]:
            said = " (%s)" % error if error else ""
            self.result["msg"] = "deployment %s %s%s: %s" % (self.result["deployment_id"], status, said,
                                                             _release.traffic_line(where))
            return self.result
        line = _release.outcome(self.service, status, error, where, self.result["deployment_id"])
        if status != "Succeeded":
            raise CloudlabError(message=line, **self.fail_fields())
        self.result["msg"] = line
        return self.result

    def run(self):
        if self.p["stop"]:
            deployment_id = self.stop()
            if not deployment_id or not self.p["wait"]:
                self.result["follow"] = self.hint() if deployment_id else ""
                return self.result
            return self.end(*self.wait_stopped(deployment_id))
        try:
            if not self.p["execution_id"]:  # following a release: its pipeline gone is the lab destroyed meanwhile
                self.c["codepipeline"].get_pipeline(name=self.pipeline)
        except botocore.exceptions.ClientError as e:
            if error_code(e) == "PipelineNotFoundException":
                raise CloudlabError(message="no pipeline %s: run Phases 5 to 8 first (playbooks/site.yml)"
                                    % self.pipeline, **self.fail_fields())
            raise
        execution_id = self.find()
        self.result["execution_id"] = execution_id
        if not execution_id:
            return self.result
        self.result["follow"] = self.hint()
        if not self.p["wait"] or self.module.check_mode:
            status = self.c["codepipeline"].get_pipeline_execution(
                pipelineName=self.pipeline, pipelineExecutionId=execution_id)["pipelineExecution"]["status"]
            self.result["status"] = status
            self.result.setdefault("msg", "execution %s of %s is %s; follow it with %s"
                                   % (execution_id, self.pipeline, status, self.result["follow"]))
            return self.result
        return self.end(*self.follow(execution_id))


def release_follow(module):
    release = Release(module)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return release.run()
    except (KeyboardInterrupt, Interrupted) as e:
        why = "Ctrl-C" if isinstance(e, KeyboardInterrupt) else str(e)
        release.result["follow"] = release.hint() if release.result["execution_id"] else ""
        raise CloudlabError(message=_release.interrupted(release.service, why, release.where_now,
                                                         release.result["follow"] or "the CodePipeline console"),
                            **release.fail_fields())
    except botocore.exceptions.ClientError as e:
        if error_code(e) in _release.GONE_CODES:
            what = e.response.get("Error", {}).get("Message") or error_code(e)
            raise CloudlabError(message=_release.gone(release.service, "%s (%s)" % (what, error_code(e))),
                                **release.fail_fields())
        raise
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
            botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError) as e:
        endpoint = module.params.get("endpoint_url") or "AWS"
        raise CloudlabError(message="release of %s: cannot reach %s (%s) at %s; if the release started it goes on "
                            "there: follow it with %s" % (release.service, endpoint, type(e).__name__,
                                                          release.where_now, release.hint() if release.result[
                                                              "execution_id"] else "this playbook once it answers"),
                            **release.fail_fields())
    finally:
        signal.signal(signal.SIGTERM, previous)


def main():
    argument_spec = dict(
        service=dict(type="str", required=True),
        source=dict(type="str", default="image", choices=["image", "commit"]),
        revision=dict(type="str", default=""),
        start=dict(type="bool", default=False),
        execution_id=dict(type="str", default=""),
        stop=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=1800),
        start_timeout=dict(type="int", default=60),
        poll=dict(type="float", default=5),
        application=dict(type="str", default="microservices"),
        pipeline=dict(type="str", default=""),
        repository=dict(type="str", default="deployment"),
        branch=dict(type="str", default="dev"),
        load_balancer_name=dict(type="str", default="microservicesLB"),
        follow_command=dict(type="str", default=""),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, release_follow)


if __name__ == "__main__":
    main()
