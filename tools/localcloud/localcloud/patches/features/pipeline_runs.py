"""Pipeline executions and CodeDeploy deployment targets: the read side of the release loop.

moto 5.2.5 has no StartPipelineExecution, GetPipelineExecution, ListPipelineExecutions,
ListActionExecutions or GetPipelineState, and no ListDeploymentTargets, BatchGetDeploymentTargets or
GetDeploymentTarget; its GetDeployment shows no error information. Here they answer with AWS's
fields and states, from records that ``localcloud/release.py`` (the runner: it runs the actions and
the ECS blue/green deployment in a background thread) keeps up to date.

``start_pipeline_execution`` of the CodePipeline backend records an execution (InProgress) and hands
it to the runner set with ``set_runner``; without a runner (moto used alone) the execution stays
InProgress, as one whose actions never report.

As on AWS, CreatePipeline starts the new pipeline's first execution at once (trigger ``CreatePipeline``,
detail the caller's ARN as GetCallerIdentity gives it); UpdatePipeline starts none. StartPipelineExecution's
trigger detail is the caller's ARN too. DeletePipeline forgets the pipeline's executions, so a pipeline
made again under the same name starts with its own.
"""
import datetime
import threading
import uuid

from moto.codedeploy import responses as cd_responses
from moto.codepipeline import exceptions as cp_exceptions, models as cp_models, responses as cp_responses
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.sts import models as sts_models
from moto.utilities.utils import get_partition

LOCK = threading.RLock()
_RUNNER = []


def set_runner(runner):
    """``runner(backend, execution)`` is called (without blocking) for each new execution."""
    _RUNNER[:] = [runner]


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def _error(code, message):
    exc = JsonRESTError(code, message)
    exc.code = 400
    return exc


def executions_of(backend):
    """{pipeline name: [execution record, newest first]} of a CodePipeline backend."""
    with LOCK:
        if not hasattr(backend, "localcloud_executions"):
            backend.localcloud_executions = {}
        return backend.localcloud_executions


def _pipeline(backend, name):
    if name not in backend.pipelines:
        raise cp_exceptions.PipelineNotFoundException(
            "Account '%s' does not have a pipeline with name '%s'" % (backend.account_id, name))
    return backend.pipelines[name]


def caller_arn(response):
    """The ARN of the caller of this request, as STS GetCallerIdentity answers it for the same credentials."""
    sts = sts_models.sts_backends[response.current_account][get_partition(response.region)]
    return sts.get_caller_identity(response.get_access_key(), response.region)[1]


def find_execution(backend, name, execution_id):
    _pipeline(backend, name)
    for execution in executions_of(backend).get(name, []):
        if execution["pipelineExecutionId"] == execution_id:
            return execution
    raise _error("PipelineExecutionNotFoundException",
                 "Pipeline execution %s not found in pipeline %s" % (execution_id, name))


def start_pipeline_execution(self, name, client_request_token=None, trigger=None, source_revisions=None):
    pipeline = _pipeline(self, name)
    decl = pipeline.pipeline
    started = now()
    execution = {
        "pipelineName": name, "pipelineVersion": decl.get("version", 1),
        "pipelineExecutionId": str(uuid.uuid4()), "status": "InProgress",
        "startTime": started, "lastUpdateTime": started,
        "trigger": trigger or {"triggerType": "StartPipelineExecution",
                               "triggerDetail": "arn:aws:sts::%s:assumed-role/localcloud" % self.account_id},
        "executionMode": decl.get("executionMode") or "SUPERSEDED", "executionType": "STANDARD",
        "artifactRevisions": [], "sourceRevisions": [], "actions": [], "stages": {},
        "declaration": decl, "sourceOverrides": source_revisions or [],
    }
    with LOCK:
        executions_of(self).setdefault(name, []).insert(0, execution)
    if _RUNNER:
        _RUNNER[0](self, execution)
    return execution["pipelineExecutionId"]


def _summary(execution):
    out = dict((k, execution[k]) for k in ("pipelineExecutionId", "status", "startTime", "lastUpdateTime",
                                           "sourceRevisions", "trigger", "executionMode", "executionType"))
    if execution.get("statusSummary"):
        out["statusSummary"] = execution["statusSummary"]
    return out


def _execution_doc(execution):
    out = dict((k, execution[k]) for k in ("pipelineName", "pipelineVersion", "pipelineExecutionId", "status",
                                           "artifactRevisions", "trigger", "executionMode", "executionType"))
    out["variables"] = []
    if execution.get("statusSummary"):
        out["statusSummary"] = execution["statusSummary"]
    return out


def _action_doc(execution, action):
    out = {"pipelineExecutionId": execution["pipelineExecutionId"], "pipelineVersion": execution["pipelineVersion"],
           "updatedBy": "arn:aws:iam::%s:role/localcloud" % action.get("account", "123456789012")}
    out.update(dict((k, v) for k, v in action.items() if k not in ("account", "summary", "errorDetails",
                                                                   "revision")))
    return out


def _stage_states(backend, name):
    decl = backend.pipelines[name].pipeline
    executions = executions_of(backend).get(name, [])
    states = []
    for index, stage in enumerate(decl.get("stages", [])):
        state = {"stageName": stage["name"], "actionStates": []}
        if index:
            state["inboundTransitionState"] = {"enabled": True}
        latest = next((e for e in executions if stage["name"] in e["stages"]), None)
        if latest is not None:
            state["latestExecution"] = {"pipelineExecutionId": latest["pipelineExecutionId"],
                                        "status": latest["stages"][stage["name"]], "type": "STANDARD"}
        for action in stage.get("actions", []):
            action_state = {"actionName": action["name"]}
            run = None
            if latest is not None:
                run = next((a for a in latest["actions"]
                            if a["stageName"] == stage["name"] and a["actionName"] == action["name"]), None)
            if run is not None:
                result = (run.get("output") or {}).get("executionResult") or {}
                doc = {"actionExecutionId": run["actionExecutionId"], "status": run["status"],
                       "lastStatusChange": run["lastUpdateTime"], "lastUpdatedBy": _action_doc(latest, run)["updatedBy"]}
                if run.get("summary"):
                    doc["summary"] = run["summary"]
                if result.get("externalExecutionId"):
                    doc["externalExecutionId"] = result["externalExecutionId"]
                if run.get("errorDetails"):
                    doc["errorDetails"] = run["errorDetails"]
                action_state["latestExecution"] = doc
                if run.get("revision"):
                    action_state["currentRevision"] = run["revision"]
            state["actionStates"].append(action_state)
        states.append(state)
    return states


def _apply_codepipeline():
    backend_cls = cp_models.CodePipelineBackend
    response_cls = cp_responses.CodePipelineResponse
    backend_cls.start_pipeline_execution = start_pipeline_execution
    original_create = response_cls.create_pipeline
    original_delete = backend_cls.delete_pipeline

    def r_create(self):
        answer = original_create(self)
        # The pipeline exists (CreatePipeline refused nothing): its first execution starts, as on AWS.
        self.codepipeline_backend.start_pipeline_execution(
            self._get_param("pipeline")["name"], None,
            {"triggerType": "CreatePipeline", "triggerDetail": caller_arn(self)})
        return answer

    def delete_pipeline(self, name):
        original_delete(self, name)
        with LOCK:
            executions_of(self).pop(name, None)

    def r_start(self):
        overrides = self._get_param("sourceRevisions") or []
        execution_id = self.codepipeline_backend.start_pipeline_execution(
            self._get_param("name"), self._get_param("clientRequestToken"),
            {"triggerType": "StartPipelineExecution", "triggerDetail": caller_arn(self)}, overrides)
        return ActionResult({"pipelineExecutionId": execution_id})

    def r_get_execution(self):
        with LOCK:
            execution = find_execution(self.codepipeline_backend, self._get_param("pipelineName"),
                                       self._get_param("pipelineExecutionId"))
            return ActionResult({"pipelineExecution": _execution_doc(execution)})

    def r_list_executions(self):
        name = self._get_param("pipelineName")
        backend = self.codepipeline_backend
        _pipeline(backend, name)
        limit = int(self._get_param("maxResults") or 100)
        start = int(self._get_param("nextToken") or 0)
        with LOCK:
            executions = executions_of(backend).get(name, [])
            page = [_summary(e) for e in executions[start:start + limit]]
            result = {"pipelineExecutionSummaries": page}
            if start + limit < len(executions):
                result["nextToken"] = str(start + limit)
        return ActionResult(result)

    def r_list_actions(self):
        name = self._get_param("pipelineName")
        backend = self.codepipeline_backend
        _pipeline(backend, name)
        wanted = (self._get_param("filter") or {}).get("pipelineExecutionId")
        with LOCK:
            executions = executions_of(backend).get(name, [])
            if wanted:
                executions = [find_execution(backend, name, wanted)]
            details = [_action_doc(e, a) for e in executions for a in reversed(e["actions"])]
        limit = int(self._get_param("maxResults") or 100)
        start = int(self._get_param("nextToken") or 0)
        result = {"actionExecutionDetails": details[start:start + limit]}
        if start + limit < len(details):
            result["nextToken"] = str(start + limit)
        return ActionResult(result)

    def r_get_state(self):
        name = self._get_param("name")
        backend = self.codepipeline_backend
        pipeline = _pipeline(backend, name)
        with LOCK:
            result = {"pipelineName": name, "pipelineVersion": pipeline.pipeline.get("version", 1),
                      "stageStates": _stage_states(backend, name)}
        for key in ("created", "updated"):
            if pipeline.metadata.get(key) is not None:
                result[key] = pipeline.metadata[key]
        return ActionResult(result)

    backend_cls.delete_pipeline = delete_pipeline
    response_cls.create_pipeline = r_create
    response_cls.start_pipeline_execution = r_start
    response_cls.get_pipeline_execution = r_get_execution
    response_cls.list_pipeline_executions = r_list_executions
    response_cls.list_action_executions = r_list_actions
    response_cls.get_pipeline_state = r_get_state


def target_of(deployment):
    """The ECS deployment target record the runner keeps on a moto DeploymentInfo, or None."""
    return getattr(deployment, "localcloud_target", None)


def _apply_codedeploy():
    response_cls = cd_responses.CodeDeployResponse
    original_info = cd_responses._deployment_info  # pylint: disable=protected-access

    def deployment_info(deployment):
        doc = original_info(deployment)
        error = getattr(deployment, "localcloud_error", None)
        if error:
            doc["errorInformation"] = error
        else:
            doc.pop("errorInformation", None)
        for key in ("previousRevision", "rollbackInfo", "relatedDeployments"):
            if not doc.get(key):
                doc.pop(key, None)
        if doc.get("startTime") is None:
            doc.pop("startTime", None)
        if doc.get("completeTime") is None:
            doc.pop("completeTime", None)
        return doc

    cd_responses._deployment_info = deployment_info  # pylint: disable=protected-access

    def _deployment(self):
        return self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))

    def r_list_targets(self):
        deployment = _deployment(self)
        target = target_of(deployment)
        wanted = (self._get_param("targetFilters") or {}).get("TargetStatus")
        ids = []
        if target is not None and (not wanted or target["status"] in wanted):
            ids.append(target["targetId"])
        return ActionResult({"targetIds": ids})

    def _target_doc(deployment, target_id):
        target = target_of(deployment)
        if target is None or target["targetId"] != target_id:
            raise _error("DeploymentTargetDoesNotExistException",
                         "The provided target ID does not belong to the deployment %s." % deployment.deployment_id)
        with LOCK:
            return {"deploymentTargetType": "ECSTarget", "ecsTarget": dict(target)}

    def r_batch_get_targets(self):
        deployment = _deployment(self)
        ids = self._get_param("targetIds") or []
        return ActionResult({"deploymentTargets": [_target_doc(deployment, t) for t in ids]})

    def r_get_target(self):
        deployment = _deployment(self)
        return ActionResult({"deploymentTarget": _target_doc(deployment, self._get_param("targetId"))})

    response_cls.list_deployment_targets = r_list_targets
    response_cls.batch_get_deployment_targets = r_batch_get_targets
    response_cls.get_deployment_target = r_get_target


def apply():
    _apply_codepipeline()
    _apply_codedeploy()
