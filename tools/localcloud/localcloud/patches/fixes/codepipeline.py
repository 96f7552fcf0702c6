"""CodePipeline: what moto 5.2.5 answers unlike AWS.

- CreatePipeline checks that the role trusts codepipeline.amazonaws.com; moto reads
  ``Principal.Service`` as one string only, so the usual trust policy that lists several services
  (as the lab's PipelineRole does) is refused. Here a string or a list is read, as AWS does.
- CreatePipeline of a name in use: AWS answers PipelineNameInUseException, moto InvalidStructureException.
- GetPipeline: AWS fills in ``pipelineType`` (V1) and ``executionMode`` (SUPERSEDED) when the
  declaration left them out; moto returns only what it was sent. A pipeline type other than V1 or V2
  is a ValidationException on AWS.
- The declaration is checked as AWS checks it (InvalidStructureException / InvalidActionDeclarationException):
  the artifact store is required, source actions only in the first stage and the first stage only
  source actions, output artifact names unique, an input artifact must be the output of an action
  that runs before it, and at most 5 input artifacts to a CodeDeployToECS action. moto checks none
  of this.
- EventBridge: a rule whose target is a pipeline ARN starts an execution of that pipeline when an
  event matches, as on AWS (moto's events deliver only to logs, SQS and event buses).
"""
import json

from moto.codepipeline import exceptions, models
from moto.core.exceptions import JsonRESTError
from moto.iam.exceptions import NotFoundException as IAMNotFoundException


def _error(code, message):
    exc = JsonRESTError(code, message)
    exc.code = 400
    return exc


def check_declaration(pipeline):
    """Raise what AWS raises for a declaration with these faults."""
    if pipeline.get("pipelineType", "V1") not in ("V1", "V2"):
        raise _error("ValidationException", "1 validation error detected: Value '%s' at 'pipeline.pipelineType' "
                     "failed to satisfy constraint: Member must satisfy enum value set: [V1, V2]"
                     % pipeline.get("pipelineType"))
    if not pipeline.get("artifactStore") and not pipeline.get("artifactStores"):
        raise exceptions.InvalidStructureException("Pipeline must have an artifact store")
    produced = set()
    for index, stage in enumerate(pipeline.get("stages", [])):
        actions = stage.get("actions", [])
        sources = [a for a in actions if a.get("actionTypeId", {}).get("category") == "Source"]
        if index == 0 and len(sources) != len(actions):
            raise exceptions.InvalidStructureException(
                "Stage %s: the first stage may contain only source actions" % stage.get("name"))
        if index > 0 and sources:
            raise exceptions.InvalidStructureException(
                "Stage %s: source actions are allowed only in the first stage" % stage.get("name"))
        stage_outputs = set()
        for order in sorted({a.get("runOrder", 1) for a in actions}):
            batch = [a for a in actions if a.get("runOrder", 1) == order]
            for action in batch:
                for artifact in action.get("inputArtifacts", []):
                    if artifact.get("name") not in produced | stage_outputs:
                        raise exceptions.InvalidStructureException(
                            "Input Artifact Bundle %s in action %s is not declared as an output of an action "
                            "that runs before it" % (artifact.get("name"), action.get("name")))
                provider = action.get("actionTypeId", {}).get("provider")
                if provider == "CodeDeployToECS" and len(action.get("inputArtifacts", [])) > 5:
                    raise _error("InvalidActionDeclarationException",
                                 "Action %s: CodeDeployToECS takes at most 5 input artifacts" % action.get("name"))
            for action in batch:
                for artifact in action.get("outputArtifacts", []):
                    name = artifact.get("name")
                    if name in produced or name in stage_outputs:
                        raise exceptions.InvalidStructureException(
                            "Output Artifact Bundle name %s is used more than once" % name)
                    stage_outputs.add(name)
        produced |= stage_outputs


def _role_trusts_codepipeline(backend, role_arn):
    try:
        role = backend.iam_backend.get_role_by_arn(role_arn)
    except IAMNotFoundException:
        return False
    for statement in json.loads(role.assume_role_policy_document).get("Statement", []):
        service = (statement.get("Principal") or {}).get("Service") or []
        services = [service] if isinstance(service, str) else service
        if statement.get("Effect") == "Allow" and "codepipeline.amazonaws.com" in services:
            return True
    return False


def _with_defaults(pipeline):
    shown = dict(pipeline)
    shown.setdefault("pipelineType", "V1")
    shown.setdefault("executionMode", "SUPERSEDED")
    return shown


def apply():
    backend_cls = models.CodePipelineBackend
    original_update = backend_cls.update_pipeline
    original_get = backend_cls.get_pipeline

    def create_pipeline(self, pipeline, tags):
        if pipeline.get("name") in self.pipelines:
            raise _error("PipelineNameInUseException",
                         "Pipeline name %s is already in use in account %s" % (pipeline["name"], self.account_id))
        if not _role_trusts_codepipeline(self, pipeline.get("roleArn")):
            raise exceptions.InvalidStructureException(
                "CodePipeline is not authorized to perform AssumeRole on role %s" % pipeline.get("roleArn"))
        if len(pipeline.get("stages") or []) < 2:
            raise exceptions.InvalidStructureException(
                "Pipeline has only %d stage(s). There should be a minimum of 2 stages in a pipeline"
                % len(pipeline.get("stages") or []))
        check_declaration(pipeline)
        created = models.CodePipeline(self.account_id, self.region_name, pipeline)
        if tags:
            created.validate_tags(tags)
            created.tags.update(dict((t["key"], t["value"]) for t in tags))
        self.pipelines[pipeline["name"]] = created
        return _with_defaults(created.pipeline), sorted(tags or [], key=lambda t: t["key"])

    def update_pipeline(self, pipeline):
        check_declaration(pipeline)
        return _with_defaults(original_update(self, pipeline))

    def get_pipeline(self, name):
        pipeline, metadata = original_get(self, name)
        return _with_defaults(pipeline), metadata

    backend_cls.create_pipeline = create_pipeline
    backend_cls.update_pipeline = update_pipeline
    backend_cls.get_pipeline = get_pipeline
    _deliver_events_to_pipelines()


def _deliver_events_to_pipelines():
    from moto.events import models as events_models  # pylint: disable=import-outside-toplevel
    from moto.utilities.arns import parse_arn  # pylint: disable=import-outside-toplevel

    rule_cls = events_models.Rule
    original_send = rule_cls.send_to_targets

    def send_to_targets(self, original_event, transform_input=True):
        # moto raises NotImplementedError for a target type it does not know: hand it the others only.
        pipelines = [t for t in self.targets if parse_arn(t["Arn"]).service == "codepipeline"]
        others = [t for t in self.targets if t not in pipelines]
        all_targets, self.targets = self.targets, others
        try:
            original_send(self, original_event, transform_input)
        finally:
            self.targets = all_targets
        if not pipelines or not self.event_pattern.matches_event(original_event):
            return
        for target in pipelines:
            arn = parse_arn(target["Arn"])
            backend = models.codepipeline_backends[arn.account][arn.region]
            name = target["Arn"].split(":", 5)[5]
            if name in backend.pipelines:
                backend.start_pipeline_execution(name, None, _event_trigger(self))

    rule_cls.send_to_targets = send_to_targets


def _event_trigger(rule):
    """The trigger AWS records for an execution an EventBridge rule started."""
    return {"triggerType": "CloudWatchEvent", "triggerDetail": rule.arn}
