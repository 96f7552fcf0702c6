"""The release loop: change events, pipeline executions and ECS blue/green deployments.

What AWS does after Phase 8, done by the local cloud (its state; where a Docker engine answers, the
task sets' containers run too: localcloud/tasks.py):

- A push to a CodeCommit branch (through the git server) sends EventBridge the event
  ``CodeCommit Repository State Change`` (referenceCreated / referenceUpdated); a new digest on an
  ECR tag (PutImage, or a docker push seen by the ECR side) sends ``ECR Image Action`` (PUSH,
  SUCCESS). The Phase 8 rules then start the pipeline (patches/codepipeline.py).
- Each execution runs in one background thread, one execution at a time, in the order started:
  source actions record their revision (commit id, image digest); a CodeDeployToECS action reads
  the task definition and AppSpec files of the commit, puts the image URI of the ECR source in
  place of ``<IMAGE1_NAME>``, registers the revision, puts its ARN in place of ``<TASK_DEFINITION>``
  and creates a CodeDeploy deployment, which runs here: a replacement task set behind the other
  target group of the pair, the test and then the production listeners (default actions and rules
  forwarding to the pair) moved to it, the replacement made PRIMARY, the original task set removed
  after the termination wait (``LOCALCLOUD_CODEDEPLOY_TERMINATION_SECONDS``, default 3).
- With tasks on an engine, Install waits until the replacement's tasks pass their health checks
  (``LOCALCLOUD_TASK_START_SECONDS``, default 60); tasks that cannot start fail the deployment.
- The production traffic moves as the deployment configuration says (AllAtOnce, TimeBasedCanary,
  TimeBasedLinear; predefined or custom): during a canary or linear shift the production listener
  forwards with weights (ForwardConfig) to both target groups, AllowTraffic stays InProgress and an
  AWS minute lasts ``LOCALCLOUD_CODEDEPLOY_MINUTE_SECONDS`` seconds (default 1).
- StopDeployment stops a running deployment (status Stopped); with a rollback (asked for, or by the
  group's autoRollbackConfiguration) the listeners go back to the original task set, the replacement
  is removed and a rollback deployment is recorded, as on AWS. A failure rolls back the same way when
  the configuration asks for it, and always when no listener has moved yet.
- A broken input fails the Deploy action (and the deployment, when one was made) before any
  listener moves.
"""
import hashlib
import json
import logging
import os
import queue
import threading
import time

import yaml
from moto.backends import get_backend

from localcloud.codecommit import git
from localcloud.common import ACCOUNT_ID
from localcloud.patches.fixes.codedeploy import config_info
from localcloud.patches.features import pipeline_runs as runs
from localcloud.patches.features.pipeline_runs import LOCK, now

LOG = logging.getLogger("localcloud.release")
LIFECYCLE = ("BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
             "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
_LOCAL = threading.local()


def task_start_seconds():
    """How long a replacement task set's tasks may take to pass their health checks (tasks on an engine)."""
    try:
        return max(float(os.environ.get("LOCALCLOUD_TASK_START_SECONDS", "60")), 1.0)
    except ValueError:
        return 60.0


def termination_seconds():
    try:
        return max(float(os.environ.get("LOCALCLOUD_CODEDEPLOY_TERMINATION_SECONDS", "3")), 0.0)
    except ValueError:
        return 3.0


def minute_seconds():
    """Seconds an AWS minute of a traffic shift (canary interval, linear interval) lasts here."""
    try:
        return max(float(os.environ.get("LOCALCLOUD_CODEDEPLOY_MINUTE_SECONDS", "1")), 0.0)
    except ValueError:
        return 1.0


def traffic_steps(routing):
    """[(percent of production traffic on the replacement, AWS minutes before the next step)] of a
    trafficRoutingConfig: canary = X% then the rest N minutes later; linear = X% more every N minutes."""
    kind = (routing or {}).get("type")
    if kind == "TimeBasedCanary":
        canary = routing["timeBasedCanary"]
        return [(float(canary["canaryPercentage"]), canary["canaryInterval"]), (100.0, 0)]
    if kind == "TimeBasedLinear":
        linear = routing["timeBasedLinear"]
        step = linear["linearPercentage"]
        return [(float(w), linear["linearInterval"]) for w in range(step, 100, step)] + [(100.0, 0)]
    return [(100.0, 0)]


def rolls_back(deployment, event):
    """Whether the autoRollbackConfiguration of the deployment (else its group's) rolls back on `event`."""
    config = deployment.auto_rollback_configuration or deployment.deployment_group.auto_rollback_configuration or {}
    return bool(config.get("enabled")) and event in (config.get("events") or [])


class ActionFailed(Exception):
    def __init__(self, message, code="JobFailed", external_id=None):
        super().__init__(message)
        self.message, self.code, self.external_id = message, code, external_id


class DeploymentFailed(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


class DeploymentStopped(Exception):
    """StopDeployment asked for it; `rollback` is its autoRollbackEnabled (None: not given)."""

    def __init__(self, rollback):
        super().__init__("stopped")
        self.rollback = rollback


def _put_event(account, region, source, detail_type, detail, resources=()):
    backend = get_backend("events")[account][region]
    backend.put_events([{"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail),
                         "Resources": list(resources)}])


class Release:
    def __init__(self, cloud):
        self.cloud = cloud
        self.jobs = queue.Queue()
        self.worker = None
        self.current = None  # the action record the worker runs

    # -- wiring --------------------------------------------------------------
    def attach(self):
        runs.set_runner(lambda backend, execution: self.submit(self.run_execution, backend, execution))
        self.cloud.git = _PushEvents(self.cloud.git, self.cloud.codecommit)
        _watch_ecr_tags()
        _run_api_deployments(self)
        return self

    def submit(self, job, *args):
        """Queue ``job(*args)`` for the worker thread, which runs one job at a time in order."""
        with LOCK:
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=self._work, name="localcloud-release", daemon=True)
                self.worker.start()
        self.jobs.put((job, args))

    def _work(self):
        while True:
            job, args = self.jobs.get()
            try:
                job(*args)
            except Exception:  # pylint: disable=broad-except
                LOG.exception("release job failed")

    # -- executions ----------------------------------------------------------
    def run_execution(self, backend, execution):
        decl = execution["declaration"]
        outputs = {}
        # On AWS a newer execution overtakes one still waiting for a stage; here executions wait in the
        # queue, so one that a newer execution of its pipeline has joined there never starts.
        if self._superseded(backend, execution):
            return
        try:
            for stage in decl.get("stages", []):
                self._set(execution, stages=dict(execution["stages"], **{stage["name"]: "InProgress"}))
                for order in sorted({a.get("runOrder", 1) for a in stage.get("actions", [])}):
                    for action in [a for a in stage["actions"] if a.get("runOrder", 1) == order]:
                        self._run_action(backend, execution, stage["name"], action, outputs)
                self._set(execution, stages=dict(execution["stages"], **{stage["name"]: "Succeeded"}))
            self._set(execution, status="Succeeded")
        except ActionFailed as exc:
            failed = [name for name, status in execution["stages"].items() if status == "InProgress"]
            self._set(execution, status="Failed", stages=dict(execution["stages"], **dict((n, "Failed") for n in failed)),
                      statusSummary=exc.message)

    def _superseded(self, backend, execution):
        with LOCK:
            listed = runs.executions_of(backend).get(execution["pipelineName"]) or []
        if not any(e is execution for e in listed):
            return True  # its pipeline was deleted since (DeletePipeline forgets the executions): nothing to run
        newest = listed[0]
        if execution["executionMode"] != "SUPERSEDED" or newest is execution:
            return False
        self._set(execution, status="Superseded",
                  statusSummary="Superseded by execution %s" % newest["pipelineExecutionId"])
        return True

    @staticmethod
    def _set(record, **values):
        with LOCK:
            record.update(values)
            if "status" in values or "stages" in values:
                record["lastUpdateTime"] = now()

    def _run_action(self, backend, execution, stage_name, action, outputs):
        type_id = action.get("actionTypeId", {})
        config = dict(action.get("configuration") or {})
        started = now()
        record = {
            "stageName": stage_name, "actionName": action["name"], "actionExecutionId": str(os.urandom(16).hex()),
            "startTime": started, "lastUpdateTime": started, "status": "InProgress", "account": backend.account_id,
            "input": {"actionTypeId": type_id, "configuration": config, "resolvedConfiguration": config,
                      "region": backend.region_name,
                      "inputArtifacts": [{"name": a["name"], "s3location": self._location(execution, a["name"])}
                                         for a in action.get("inputArtifacts", [])]},
        }
        if action.get("roleArn"):
            record["input"]["roleArn"] = action["roleArn"]
        with LOCK:
            execution["actions"].append(record)
        self.current = record
        handler = {"CodeCommit": self._source_codecommit, "ECR": self._source_ecr,
                   "CodeDeployToECS": self._deploy_ecs}.get(type_id.get("provider"))
        try:
            if handler is None:
                raise ActionFailed("The local cloud does not run actions of provider %s" % type_id.get("provider"))
            try:
                result = handler(backend, execution, action, config, outputs)
            except ActionFailed:
                raise
            except Exception as exc:  # pylint: disable=broad-except
                LOG.exception("action %s failed unexpectedly", action["name"])
                raise ActionFailed("InternalError: the local cloud could not run this action: %s" % exc)
        except ActionFailed as exc:
            result = {"externalExecutionSummary": exc.message, "errorDetails": {"code": exc.code, "message": exc.message}}
            if exc.external_id:
                result["externalExecutionId"] = exc.external_id
            self._set(record, status="Failed", summary=exc.message, errorDetails={"code": exc.code, "message": exc.message},
                      output={"executionResult": result}, lastUpdateTime=now())
            raise
        for artifact in action.get("outputArtifacts", []):
            outputs[artifact["name"]] = result
        output = {"outputArtifacts": [{"name": a["name"], "s3location": self._location(execution, a["name"])}
                                      for a in action.get("outputArtifacts", [])],
                  "executionResult": {"externalExecutionId": result.get("externalId", ""),
                                      "externalExecutionSummary": result.get("summary", "")},
                  "outputVariables": result.get("variables", {})}
        values = {"status": "Succeeded", "output": output, "summary": result.get("summary", ""), "lastUpdateTime": now()}
        if result.get("revision"):
            values["revision"] = result["revision"]
        self._set(record, **values)

    @staticmethod
    def _location(execution, artifact):
        store = execution["declaration"].get("artifactStore") or {}
        return {"bucket": store.get("location", ""),
                "key": "%s/%s/%s" % (execution["pipelineName"][:20], artifact[:20], execution["pipelineExecutionId"][:7])}

    def _record_revision(self, execution, action, artifact_names, revision_id, summary, url):
        created = now()
        with LOCK:
            execution["sourceRevisions"].append({"actionName": action["name"], "revisionId": revision_id,
                                                 "revisionSummary": summary, "revisionUrl": url})
            for name in artifact_names:
                execution["artifactRevisions"].append({"name": name, "revisionId": revision_id,
                                                       "revisionSummary": summary, "created": created,
                                                       "revisionUrl": url})
        return {"revisionId": revision_id, "revisionChangeId": revision_id, "created": created}

    @staticmethod
    def _override(execution, action, kind):
        for item in execution.get("sourceOverrides") or []:
            if item.get("actionName") == action["name"] and item.get("revisionType") == kind:
                return item.get("revisionValue")
        return None

    # -- sources -------------------------------------------------------------
    def _source_codecommit(self, backend, execution, action, config, outputs):
        repo, branch = config.get("RepositoryName"), config.get("BranchName")
        codecommit = self.cloud.codecommit
        if not codecommit.exists(repo):
            raise ActionFailed("The repository %s does not exist in account %s" % (repo, backend.account_id))
        git_dir = codecommit.git_dir(repo)
        commit = self._override(execution, action, "COMMIT_ID")
        if commit is None:
            proc = git(git_dir, "rev-parse", "--verify", "-q", "refs/heads/%s^{commit}" % branch, check=False)
            if proc.returncode:
                raise ActionFailed("The branch %s does not exist in repository %s" % (branch, repo))
            commit = proc.stdout.decode().strip()
        message = git(git_dir, "log", "-1", "--format=%s", commit, check=False).stdout.decode().strip()
        url = "https://%s.console.aws.amazon.com/codesuite/codecommit/repositories/%s/commit/%s" % (
            backend.region_name, repo, commit)
        revision = self._record_revision(execution, action, [a["name"] for a in action.get("outputArtifacts", [])],
                                         commit, message, url)
        return {"kind": "commit", "repository": repo, "commit": commit, "git_dir": git_dir, "revision": revision,
                "externalId": commit, "summary": message,
                "variables": {"CommitId": commit, "BranchName": branch, "RepositoryName": repo,
                              "CommitMessage": message}}

    def _source_ecr(self, backend, execution, action, config, outputs):
        name, tag = config.get("RepositoryName"), config.get("ImageTag") or "latest"
        region, account = backend.region_name, backend.account_id
        self.cloud.ecr.sync_repository(region, name)
        ecr = get_backend("ecr")[account][region]
        repository = ecr.repositories.get(name)
        if repository is None:
            raise ActionFailed("The repository with name '%s' does not exist in the registry with id '%s'"
                               % (name, account))
        digest = self._override(execution, action, "IMAGE_DIGEST")
        if digest is None:
            image = next((i for i in repository.images if tag in i.image_tags), None)
            if image is None:
                raise ActionFailed("The image tag '%s' does not exist in the repository '%s'" % (tag, name))
            digest = image.get_image_digest()
        uri = self.cloud.ecr.rewrite_uris(repository.uri.encode()).decode()
        image_uri = "%s@%s" % (uri, digest)
        url = "https://%s.console.aws.amazon.com/ecr/repositories/private/%s/%s/_/image/%s/details" % (
            region, account, name, digest)
        revision = self._record_revision(execution, action, [a["name"] for a in action.get("outputArtifacts", [])],
                                         digest, "Image tag: %s" % tag, url)
        return {"kind": "image", "repository": name, "digest": digest, "uri": image_uri, "revision": revision,
                "externalId": digest, "summary": "Image tag: %s" % tag,
                "variables": {"ImageDigest": digest, "ImageTag": tag, "ImageURI": image_uri, "RegistryId": account,
                              "RepositoryName": name}}

    # -- CodeDeployToECS -----------------------------------------------------
    @staticmethod
    def _read(outputs, config, artifact_key, path_key, default, what):
        artifact = config.get(artifact_key)
        source = outputs.get(artifact)
        path = config.get(path_key) or default
        if not source or source.get("kind") != "commit":
            raise ActionFailed("Exception while trying to read the %s artifact file from: %s." % (what, artifact))
        proc = git(source["git_dir"], "show", "%s:%s" % (source["commit"], path), check=False)
        if proc.returncode:
            raise ActionFailed("Exception while trying to read the %s artifact file from: %s. The file %s does not "
                               "exist in the artifact." % (what, artifact, path))
        return proc.stdout.decode("utf-8", "replace"), path

    def _deploy_ecs(self, backend, execution, action, config, outputs):
        region, account = backend.region_name, backend.account_id
        text, taskdef_path = self._read(outputs, config, "TaskDefinitionTemplateArtifact",
                                        "TaskDefinitionTemplatePath", "taskdef.json", "task definition")
        for number in range(1, 6):
            artifact = config.get("Image%dArtifactName" % number)
            if not artifact:
                continue
            placeholder = "<%s>" % (config.get("Image%dContainerName" % number) or "IMAGE%d_NAME" % number)
            image = outputs.get(artifact)
            if not image or image.get("kind") != "image":
                raise ActionFailed("Exception while trying to read the image artifact file from: %s." % artifact)
            if placeholder not in text:
                raise ActionFailed("Invalid action configuration: The task definition %s does not contain the "
                                   "placeholder %s for the image of artifact %s." % (taskdef_path, placeholder, artifact))
            text = text.replace(placeholder, image["uri"])
        try:
            taskdef = json.loads(text)
        except ValueError as exc:
            raise ActionFailed("Exception while trying to parse the task definition artifact file %s: %s"
                               % (taskdef_path, exc))
        if not isinstance(taskdef, dict) or not taskdef.get("family") or not taskdef.get("containerDefinitions"):
            raise ActionFailed("Invalid task definition %s: family and containerDefinitions are required."
                               % taskdef_path)
        ecs = get_backend("ecs")[account][region]
        keys = {"family": "family", "containerDefinitions": "container_definitions", "volumes": "volumes",
                "networkMode": "network_mode", "tags": "tags", "placementConstraints": "placement_constraints",
                "requiresCompatibilities": "requires_compatibilities", "cpu": "cpu", "memory": "memory",
                "taskRoleArn": "task_role_arn", "executionRoleArn": "execution_role_arn",
                "proxyConfiguration": "proxy_configuration", "runtimePlatform": "runtime_platform",
                "ipcMode": "ipc_mode", "pidMode": "pid_mode", "ephemeralStorage": "ephemeral_storage"}
        kwargs = dict((attr, taskdef[key]) for key, attr in keys.items() if key in taskdef)
        for key in ("cpu", "memory"):
            if key in kwargs:
                kwargs[key] = str(kwargs[key])
        try:
            registered = ecs.register_task_definition(**kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            raise ActionFailed("Exception while trying to register the task definition %s: %s"
                               % (taskdef_path, getattr(exc, "message", exc)))
        arn = registered.arn
        appspec, appspec_path = self._read(outputs, config, "AppSpecTemplateArtifact", "AppSpecTemplatePath",
                                           "appspec.yaml", "AppSpec")
        if "<TASK_DEFINITION>" not in appspec:
            raise ActionFailed("Invalid action configuration: The AppSpec file %s does not contain the placeholder "
                               "<TASK_DEFINITION>." % appspec_path)
        appspec = appspec.replace("<TASK_DEFINITION>", arn)
        codedeploy = get_backend("codedeploy")[account][region]
        revision = {"revisionType": "AppSpecContent",
                    "appSpecContent": {"content": appspec, "sha256": hashlib.sha256(appspec.encode()).hexdigest()}}
        _LOCAL.from_pipeline = True
        try:
            deployment_id = codedeploy.create_deployment(config.get("ApplicationName"),
                                                         config.get("DeploymentGroupName"), revision)
        except Exception as exc:  # pylint: disable=broad-except
            raise ActionFailed(getattr(exc, "message", str(exc)))
        finally:
            _LOCAL.from_pipeline = False
        # As on AWS, the action shows its deployment while it runs.
        self._set(self.current, output={"executionResult": {
            "externalExecutionId": deployment_id, "externalExecutionSummary": "Deployment %s in progress" % deployment_id}})
        deployment = codedeploy.deployments[deployment_id]
        with LOCK:
            deployment.creator = "user"
            deployment.description = "Deployment by CodePipeline %s execution %s" % (
                execution["pipelineName"], execution["pipelineExecutionId"])
        self.run_deployment(account, region, deployment_id)
        if deployment.status != "Succeeded":
            error = getattr(deployment, "localcloud_error", None) or {}
            ended = "was stopped" if deployment.status == "Stopped" else "failed"
            raise ActionFailed(("Deployment %s %s. %s" % (deployment_id, ended, error.get("message", ""))).strip(),
                               external_id=deployment_id)
        return {"externalId": deployment_id, "summary": "Deployment %s succeeded" % deployment_id,
                "variables": {"TaskDefinitionArn": arn}}

    # -- the ECS blue/green deployment ---------------------------------------
    def run_deployment(self, account, region, deployment_id):
        codedeploy = get_backend("codedeploy")[account][region]
        deployment = codedeploy.deployments[deployment_id]
        group = deployment.deployment_group
        services = group.ecs_services or [{}]
        target = {"deploymentId": deployment_id,
                  "targetId": "%s:%s" % (services[0].get("clusterName"), services[0].get("serviceName")),
                  "targetArn": "", "lastUpdatedAt": now(), "status": "InProgress", "taskSetsInfo": [],
                  "lifecycleEvents": [{"lifecycleEventName": name, "status": "Pending"} for name in LIFECYCLE]}
        with LOCK:
            deployment.localcloud_target = target
            deployment.status = "InProgress"
            deployment.start_time = now()
            deployment.deployment_overview = dict(deployment.deployment_overview, InProgress=1)
        undo = []
        blue_green = _BlueGreen(self, account, region, deployment, target, undo)
        try:
            try:
                blue_green.run()
            except (DeploymentFailed, DeploymentStopped):
                raise
            except Exception as exc:  # pylint: disable=broad-except
                LOG.exception("deployment %s failed unexpectedly", deployment_id)
                raise DeploymentFailed("INTERNAL_ERROR", "The local cloud could not run this deployment: %s" % exc)
        except (DeploymentFailed, DeploymentStopped) as exc:
            if isinstance(exc, DeploymentStopped):
                status, error = "Stopped", {"code": "MANUAL_STOP", "message": "The deployment was stopped by the user."}
                rollback = exc.rollback if exc.rollback is not None else rolls_back(deployment,
                                                                                    "DEPLOYMENT_STOP_ON_REQUEST")
            else:
                status, error = "Failed", {"code": exc.code, "message": exc.message}
                rollback = rolls_back(deployment, "DEPLOYMENT_FAILURE")
            # Without a rollback, AWS leaves a stopped or failed deployment where it was; a failure before any
            # listener moved changes nothing here either (the replacement task set is removed).
            if rollback or (status == "Failed" and not blue_green.traffic_moved):
                for step in reversed(undo):
                    step()
                getattr(self.cloud, "poke_tasks", lambda: None)()
            with LOCK:
                target["status"] = "Failed"
                target["lastUpdatedAt"] = now()
                for event in target["lifecycleEvents"]:
                    if event["status"] in ("Pending", "InProgress"):
                        event["status"] = "Failed" if event["status"] == "InProgress" else "Skipped"
                deployment.status = status
                deployment.localcloud_error = error
                deployment.complete_time = now()
                deployment.deployment_overview = dict(deployment.deployment_overview, InProgress=0, Failed=1)
            if rollback and undo:
                _record_rollback(codedeploy, deployment)
            return
        with LOCK:
            target["status"] = "Succeeded"
            target["lastUpdatedAt"] = now()
            deployment.status = "Succeeded"
            deployment.complete_time = now()
            deployment.deployment_overview = dict(deployment.deployment_overview, InProgress=0, Succeeded=1)


def _record_rollback(codedeploy, deployment):
    """The rollback deployment AWS records for a rolled back one: creator codeDeployRollback, the revision of
    the group's last successful deployment, both linked by rollbackInfo."""
    from moto.codedeploy import models as cd_models  # pylint: disable=import-outside-toplevel
    group = deployment.deployment_group
    with LOCK:
        done = [d for d in codedeploy.deployments.values() if d.deployment_group is group and d.status == "Succeeded"
                and d.creator != "codeDeployRollback" and d.complete_time]
        last = max(done, key=lambda d: d.complete_time) if done else None
        rollback = cd_models.DeploymentInfo(
            deployment.application, group, last.revision if last else deployment.revision,
            deployment.deployment_config_name, None, None, None, None, None, None, None, "codeDeployRollback")
        rollback.status = "Succeeded"
        rollback.start_time = rollback.complete_time = now()
        rollback.deployment_overview = dict(rollback.deployment_overview, Succeeded=1)
        rollback.localcloud_rollback_info = {"rollbackTriggeringDeploymentId": deployment.deployment_id}
        codedeploy.deployments[rollback.deployment_id] = rollback
        deployment.localcloud_rollback_info = {
            "rollbackDeploymentId": rollback.deployment_id,
            "rollbackMessage": "Deployment %s was rolled back by deployment %s: production traffic is back on the "
                               "original task set and the replacement task set is removed."
                               % (deployment.deployment_id, rollback.deployment_id)}
    return rollback


class _BlueGreen:
    """One ECS blue/green deployment, step by step, with the lifecycle events AWS shows."""

    def __init__(self, release, account, region, deployment, target, undo):
        self.release, self.deployment, self.target, self.undo = release, deployment, target, undo
        self.ecs = get_backend("ecs")[account][region]
        self.elbv2 = get_backend("elbv2")[account][region]
        self.codedeploy = get_backend("codedeploy")[account][region]
        self.traffic_moved = False  # a listener forwards (some of) the pair's traffic to the replacement
        self._before = {}  # listener or rule ARN: its actions before this deployment moved them

    def _stopped(self):
        """Raise DeploymentStopped once StopDeployment asked for it."""
        with LOCK:
            stop = getattr(self.deployment, "localcloud_stop", None)
        if stop is not None:
            raise DeploymentStopped(stop.get("rollback"))

    def _wait(self, seconds):
        """Sleep `seconds`, ending early (DeploymentStopped) when the deployment is stopped."""
        deadline = time.monotonic() + seconds
        while True:
            self._stopped()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def _routing(self):
        name = self.deployment.deployment_config_name
        info = config_info(self.codedeploy, str(name)) if name else None
        if info is None:
            raise DeploymentFailed("CODEDEPLOY_RESOURCE_CANNOT_BE_FOUND",
                                   "The deployment configuration %s does not exist." % name)
        return info.get("trafficRoutingConfig") or {"type": "AllAtOnce"}

    def event(self, name, status):
        with LOCK:
            for event in self.target["lifecycleEvents"]:
                if event["lifecycleEventName"] == name:
                    event["status"] = status
                    event["startTime" if status == "InProgress" else "endTime"] = now()
            self.target["lastUpdatedAt"] = now()

    def step(self, name, work=None):
        self._stopped()
        self.event(name, "InProgress")
        if work is not None:
            try:
                work()
            except DeploymentFailed:
                self.event(name, "Failed")
                raise
        self.event(name, "Succeeded")

    def _appspec(self):
        content = ((self.deployment.revision or {}).get("appSpecContent") or {}).get("content")
        if content is None:
            raise DeploymentFailed("INVALID_REVISION", "The deployment has no AppSpec content; the local cloud runs "
                                   "ECS deployments of revision type AppSpecContent only.")
        try:
            spec = yaml.safe_load(content)
            props = spec["Resources"][0]["TargetService"]["Properties"]
            return props, props["LoadBalancerInfo"]
        except (yaml.YAMLError, KeyError, IndexError, TypeError) as exc:
            raise DeploymentFailed("INVALID_REVISION", "The AppSpec file is not valid: missing %s" % exc)

    def _target_group_arn(self, name):
        for group in self.elbv2.target_groups.values():
            if group.name == name:
                return group.arn
        raise DeploymentFailed("ELASTIC_LOAD_BALANCING_INVALID", "The target group %s does not exist." % name)

    def run(self):
        self._stopped()
        group = self.deployment.deployment_group
        props, lb_info = self._appspec()
        steps = traffic_steps(self._routing())
        ecs_service = (group.ecs_services or [{}])[0]
        cluster, name = ecs_service.get("clusterName"), ecs_service.get("serviceName")
        service = self.ecs.services.get("%s:%s" % (cluster, name))
        if service is None or service.status != "ACTIVE":
            raise DeploymentFailed("INVALID_ECS_SERVICE", "The ECS service %s in cluster %s does not exist or is not "
                                   "ACTIVE." % (name, cluster))
        self.target["targetArn"] = service.arn
        pairs = (group.load_balancer_info or {}).get("targetGroupPairInfoList") or []
        if not pairs:
            raise DeploymentFailed("MISSING_ELB_INFORMATION", "The deployment group has no target group pair.")
        pair = pairs[0]
        arns = [self._target_group_arn(t["name"]) for t in pair.get("targetGroups", [])]
        original = next((t for t in service.task_sets if t.status == "PRIMARY"), None)
        current = (original.load_balancers if original else service.load_balancers) or [{}]
        blue_tg = current[0].get("targetGroupArn")
        green_tg = next((a for a in arns if a != blue_tg), None)
        taskdef_arn = props.get("TaskDefinition")
        try:
            taskdef = self.ecs.describe_task_definition(taskdef_arn)
        except Exception:  # pylint: disable=broad-except
            raise DeploymentFailed("ECS_UPDATE_ERROR", "The ECS service cannot be updated due to an unexpected error: "
                                   "Unable to describe task definition %s. (Service: AmazonECS; Status Code: 400; "
                                   "Error Code: ClientException)" % taskdef_arn)
        container = lb_info.get("ContainerName")
        self.step("BeforeInstall")
        replacement = {}

        def install():
            names = [c.get("name") for c in taskdef.container_definitions]
            if container not in names:
                raise DeploymentFailed("ECS_UPDATE_ERROR", "The ECS service cannot be updated due to an unexpected "
                                       "error: The container %s does not exist in the task definition. (Service: "
                                       "AmazonECS; Status Code: 400; Error Code: InvalidParameterException)" % container)
            network = props.get("NetworkConfiguration")
            network = _lower_keys(network) if network else getattr(original, "network_configuration", None)
            launch = props.get("LaunchType") or getattr(original, "launch_type", None) or "FARGATE"
            task_set = self.ecs.create_task_set(
                name, cluster, taskdef_arn, external_id=self.deployment.deployment_id,
                network_configuration=network, launch_type=launch,
                load_balancers=[{"targetGroupArn": green_tg, "containerName": container,
                                 "containerPort": int(lb_info.get("ContainerPort") or 0)}],
                platform_version=props.get("PlatformVersion") or getattr(original, "platform_version", None))
            # No scale given above: moto would start tasks (state only here); the scale AWS shows is set after.
            task_set.scale = {"value": 100.0, "unit": "PERCENT"}
            task_set.status = "ACTIVE"
            replacement["task_set"] = task_set
            self.undo.append(lambda: self.ecs.delete_task_set(cluster, name, task_set.task_set_arn))
            self.undo.append(lambda: self._task_sets(original, blue_tg, None, green_tg, 0.0))
            self._task_sets(original, blue_tg, task_set, green_tg, 0.0)
            self._tasks_ready(task_set)

        self.step("Install", install)
        self.step("AfterInstall")
        routes = pair.get("testTrafficRoute", {}).get("listenerArns", [])
        self.step("AllowTestTraffic", lambda: self._move(routes, arns, blue_tg, green_tg))
        self.step("AfterAllowTestTraffic")
        self.step("BeforeAllowTraffic")

        def allow():
            # As the deployment configuration says: weighted steps, each held for its interval, then all of it.
            prod = pair.get("prodTrafficRoute", {}).get("listenerArns", [])
            for weight, minutes in steps[:-1]:
                self._move(prod, arns, blue_tg, green_tg, weight)
                self._task_sets(original, blue_tg, replacement["task_set"], green_tg, weight)
                self._wait(minutes * minute_seconds())
            self._move(prod, arns, blue_tg, green_tg)
            self.ecs.update_service_primary_task_set(cluster, name, replacement["task_set"].task_set_arn)
            if original is not None:
                self.undo.append(lambda: self.ecs.update_service_primary_task_set(cluster, name,
                                                                                  original.task_set_arn))
            self._task_sets(original, blue_tg, replacement["task_set"], green_tg, 100.0)

        self.step("AllowTraffic", allow)
        self.step("AfterAllowTraffic")
        with LOCK:
            self.deployment.instance_termination_wait_time_started = True
        self._wait(termination_seconds())
        if original is not None and original in service.task_sets:
            self.ecs.delete_task_set(cluster, name, original.task_set_arn)
            getattr(self.release.cloud, "poke_tasks", lambda: None)()

    def _tasks_ready(self, task_set):
        """With tasks on a Docker engine: wait until the replacement's tasks pass their health checks."""
        runner = getattr(self.release.cloud, "tasks", None)
        if runner is None:
            return
        seconds = task_start_seconds()
        why = runner.wait_ready(task_set.task_set_arn, seconds)
        if why is None:
            return
        if why.startswith("the replacement tasks did not pass"):
            raise DeploymentFailed("TIMEOUT", "The deployment timed out while waiting for the replacement task set "
                                   "to become healthy (LOCALCLOUD_TASK_START_SECONDS=%g): %s" % (seconds, why))
        raise DeploymentFailed("ECS_UPDATE_ERROR", "The ECS service cannot be updated: the tasks of the "
                               "replacement task set %s did not start: %s" % (task_set.id, why))

    def _task_sets(self, blue, blue_tg, green, green_tg, green_weight):
        """taskSetsInfo of the target: the replacement is PRIMARY once all production traffic is on it."""
        infos = []
        for label, task_set, tg, weight, primary in (
                ("Blue", blue, blue_tg, 100.0 - green_weight, green_weight < 100.0),
                ("Green", green, green_tg, green_weight, green_weight >= 100.0)):
            if task_set is None:
                continue
            infos.append({"identifer": task_set.id if hasattr(task_set, "id") else task_set.task_set_arn,
                          "desiredCount": 1, "pendingCount": 0, "runningCount": 0,
                          "status": "PRIMARY" if primary else "ACTIVE", "trafficWeight": weight,
                          "targetGroup": {"name": tg.split("/")[-2] if tg else ""}, "taskSetLabel": label})
        with LOCK:
            self.target["taskSetsInfo"] = infos

    def _move(self, listener_arns, pair_arns, blue_tg, green_tg, weight=100.0):
        """Forward actions of these listeners (default and rules) to either of the pair: `weight` percent to
        ``green_tg``, the rest to ``blue_tg`` (a weighted ForwardConfig, as CodeDeploy sets it on AWS), all of it
        to ``green_tg`` at 100. The undo list gets, once per listener or rule, its actions from before."""
        for listener_arn in listener_arns:
            try:
                listener = self.elbv2.describe_listeners(None, [listener_arn])[0]
            except Exception:  # pylint: disable=broad-except
                raise DeploymentFailed("ELASTIC_LOAD_BALANCING_INVALID", "The listener %s does not exist." % listener_arn)
            for rule in list(listener.rules.values()):
                default = getattr(rule, "is_default", False)
                key = listener_arn if default else rule.arn
                current = json.loads(json.dumps([a.data for a in rule.actions]))
                before = self._before.get(key, current)
                after = _retarget(before, pair_arns, blue_tg, green_tg, weight)
                if after == current:
                    continue
                if key not in self._before:
                    self._before[key] = before
                    if default:
                        self.undo.append(lambda arn=listener_arn, old=before: self.elbv2.modify_listener(
                            arn, actions=json.loads(json.dumps(old))))
                    else:
                        self.undo.append(lambda arn=rule.arn, old=before: self.elbv2.modify_rule(
                            arn, [], json.loads(json.dumps(old))))
                if default:
                    self.elbv2.modify_listener(listener_arn, actions=after)
                else:
                    self.elbv2.modify_rule(rule.arn, [], after)
                self.traffic_moved = True


def _retarget(actions, pair_arns, blue_tg, green_tg, weight=100.0):
    """`actions` with each forward to the pair split by weight in a ForwardConfig, as CodeDeploy sets them: the
    original target group gets 100 - weight, the replacement `weight`; at 100 the original stays at weight 0.
    Target groups outside the pair that an action also forwards to keep their entries."""
    out = []
    for action in json.loads(json.dumps(actions)):
        if action.get("Type") == "forward":
            forward = action.get("ForwardConfig") or {}
            groups = forward.get("TargetGroups") or []
            pair = [g for g in groups if g.get("TargetGroupArn") in pair_arns]
            if action.get("TargetGroupArn") in pair_arns or pair:
                others = [g for g in groups if g.get("TargetGroupArn") not in pair_arns]
                sticky = forward.get("TargetGroupStickinessConfig") or {"Enabled": False}
                action.pop("TargetGroupArn", None)
                if weight >= 100.0:
                    # As CodeDeploy leaves it on AWS (since late 2022): the replacement at 100 and the original
                    # still behind the listener at 0, so that the next deployment's Install can pass ELB checks.
                    moved = [{"TargetGroupArn": green_tg, "Weight": 100}]
                    if blue_tg and blue_tg != green_tg:
                        moved.append({"TargetGroupArn": blue_tg, "Weight": 0})
                else:
                    green = int(round(weight))
                    moved = [{"TargetGroupArn": blue_tg, "Weight": 100 - green},
                             {"TargetGroupArn": green_tg, "Weight": green}]
                action["ForwardConfig"] = {"TargetGroups": moved + others, "TargetGroupStickinessConfig": sticky}
        out.append(action)
    return out


def _lower_keys(value):
    """AppSpec's NetworkConfiguration (AwsvpcConfiguration, Subnets...) as ECS's API spells it."""
    if isinstance(value, dict):
        return dict((k[:1].lower() + k[1:], _lower_keys(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


# -- change events -----------------------------------------------------------
class _PushEvents:
    """The git server, sending EventBridge the CodeCommit event of each branch a push changed."""

    def __init__(self, git, codecommit):
        self.git, self.codecommit = git, codecommit

    def _refs(self, name):
        if not self.codecommit.exists(name):
            return {}
        out = git(self.codecommit.git_dir(name), "for-each-ref", "--format=%(objectname) %(refname)",
                   "refs/heads", check=False).stdout.decode()
        return dict(reversed(line.split(" ", 1)) for line in out.splitlines() if line)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        name = path.split("/")[3] if path.count("/") >= 3 else ""
        pushing = path.endswith("/git-receive-pack") and environ.get("REQUEST_METHOD") == "POST"
        before = self._refs(name) if pushing else None
        answer = self.git(environ, start_response)
        if pushing:
            try:
                self._send(name, before, self._refs(name))
            except Exception:  # pylint: disable=broad-except
                LOG.exception("could not send the CodeCommit events of a push to %s", name)
        return answer

    def _send(self, name, before, after):
        meta = self.codecommit._load(name)  # pylint: disable=protected-access
        region = meta.get("region") or "us-east-1"
        arn = "arn:aws:codecommit:%s:%s:%s" % (region, ACCOUNT_ID, name)
        for ref in sorted(set(before) | set(after)):
            commit = after.get(ref)
            if before.get(ref) == commit:
                continue
            event = "referenceDeleted" if commit is None else "referenceUpdated" if ref in before else "referenceCreated"
            detail = {"callerUserArn": "arn:aws:iam::%s:user/localcloud" % ACCOUNT_ID, "event": event,
                      "referenceFullName": ref, "referenceName": ref[len("refs/heads/"):],
                      "referenceType": "branch", "repositoryId": meta.get("repositoryId"), "repositoryName": name}
            if commit is not None:
                detail["commitId"] = commit
            if ref in before:
                detail["oldCommitId"] = before[ref]
            _put_event(ACCOUNT_ID, region, "aws.codecommit", "CodeCommit Repository State Change", detail, [arn])


_WATCHED = []


def _watch_ecr_tags():
    """ECR's backend sends ``ECR Image Action`` when a tag gets a new digest (PutImage or a docker push)."""
    if _WATCHED:
        return
    from moto.ecr import models as ecr_models  # pylint: disable=import-outside-toplevel
    original = ecr_models.ECRBackend.put_image

    def put_image(self, repository_name, image_manifest, image_tag, *args, **kwargs):
        repository = self.repositories.get(repository_name)
        old = None
        if repository is not None and image_tag:
            old = next((i.get_image_digest() for i in repository.images if image_tag in i.image_tags), None)
        image = original(self, repository_name, image_manifest, image_tag, *args, **kwargs)
        digest = image.get_image_digest()
        if image_tag and digest != old:
            try:
                _put_event(self.account_id, self.region_name, "aws.ecr", "ECR Image Action",
                           {"result": "SUCCESS", "repository-name": repository_name, "image-digest": digest,
                            "action-type": "PUSH", "image-tag": image_tag})
            except Exception:  # pylint: disable=broad-except
                LOG.exception("could not send the ECR event of %s:%s", repository_name, image_tag)
        return image

    ecr_models.ECRBackend.put_image = put_image
    _WATCHED.append(True)


def _run_api_deployments(release):
    """A CreateDeployment of an ECS application through the API runs too (the pipeline runs its own)."""
    if len(_WATCHED) > 1:
        return
    from moto.codedeploy import models as cd_models  # pylint: disable=import-outside-toplevel
    original = cd_models.CodeDeployBackend.create_deployment

    def create_deployment(self, application_name, deployment_group_name, revision, *args, **kwargs):
        deployment_id = original(self, application_name, deployment_group_name, revision, *args, **kwargs)
        platform = self.applications[application_name].compute_platform
        if platform == "ECS" and not getattr(_LOCAL, "from_pipeline", False) and _RELEASES:
            _RELEASES[0].submit(_RELEASES[0].run_deployment, self.account_id, self.region_name, deployment_id)
        return deployment_id

    cd_models.CodeDeployBackend.create_deployment = create_deployment
    _WATCHED.append(True)
    _RELEASES.append(release)


_RELEASES = []


def attach(cloud):
    """Wire the release loop into a LocalCloud (server.py)."""
    release = Release(cloud)
    release.attach()
    _RELEASES[:] = [release]
    return release

