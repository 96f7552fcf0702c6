"""CodeDeploy: what moto 5.2.5 lacks or answers unlike AWS.

- DeleteApplication, DeleteDeploymentGroup, UpdateDeploymentGroup and BatchGetDeploymentGroups do not
  exist in moto (its server answers "not yet implemented"); here they do, with the errors AWS lists
  for them: deleting what does not exist succeeds, as on AWS; an update of a missing application or
  group is ApplicationDoesNotExistException / DeploymentGroupDoesNotExistException; a rename onto an
  existing group is DeploymentGroupAlreadyExistsException.
- moto takes any deployment configuration name (CreateDeploymentGroup, UpdateDeploymentGroup,
  CreateDeployment); AWS answers DeploymentConfigDoesNotExistException for
  one it does not have, and InvalidDeploymentConfigNameException for a configuration of another
  compute platform. The predefined configurations exist here, and the custom ones made here.
- moto stores no compute platform when none is given; AWS takes Server.
- Deleting an application deletes its deployment groups and the tags of both, as on AWS.
- CreateDeploymentConfig, GetDeploymentConfig, ListDeploymentConfigs and DeleteDeploymentConfig do not
  exist in moto; here they do, with the predefined configurations of AWS (traffic routing of the ECS
  and Lambda ones included) and custom ones (``trafficRoutingConfig`` TimeBasedCanary, TimeBasedLinear or
  AllAtOnce for ECS and Lambda, ``minimumHealthyHosts`` for Server), which deployment groups then take.
- StopDeployment does not exist in moto; here it asks the release loop (localcloud/release.py) to stop a
  deployment that has not ended and answers ``Pending``; an ended one is DeploymentAlreadyCompletedException.
- GetDeployment shows ``rollbackInfo`` of a rolled back deployment and of its rollback deployment.
"""
import datetime
import inspect
import json
import re
import uuid

from moto.codedeploy import models, responses
from moto.codedeploy.exceptions import CodeDeployException
from moto.core.responses import ActionResult

from localcloud.patches.features.pipeline_runs import LOCK

# The predefined configurations of AWS, by compute platform.
DEPLOYMENT_CONFIGS = {
    "ECS": {"CodeDeployDefault.ECSAllAtOnce", "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
            "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
            "CodeDeployDefault.ECSCanary10Percent5Minutes", "CodeDeployDefault.ECSCanary10Percent15Minutes"},
    "Server": {"CodeDeployDefault.AllAtOnce", "CodeDeployDefault.HalfAtATime", "CodeDeployDefault.OneAtATime"},
    "Lambda": {"CodeDeployDefault.LambdaAllAtOnce", "CodeDeployDefault.LambdaCanary10Percent5Minutes",
               "CodeDeployDefault.LambdaCanary10Percent10Minutes",
               "CodeDeployDefault.LambdaCanary10Percent15Minutes",
               "CodeDeployDefault.LambdaCanary10Percent30Minutes",
               "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
               "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
               "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
               "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"},
}
# What GetDeploymentGroup shows when a group was made without a configuration, by platform.
DEFAULT_CONFIG = {"ECS": "CodeDeployDefault.ECSAllAtOnce", "Server": "CodeDeployDefault.OneAtATime",
                  "Lambda": "CodeDeployDefault.LambdaAllAtOnce"}


# Traffic routing of the predefined ECS and Lambda configurations: (type, percentage, interval in minutes).
_ROUTING = re.compile(r"CodeDeployDefault\.(?:ECS|Lambda)(Canary|Linear)(\d+)Percent(?:Every)?(\d+)Minutes?$")
_SERVER_HOSTS = {"CodeDeployDefault.AllAtOnce": {"type": "FLEET_PERCENT", "value": 0},
                 "CodeDeployDefault.HalfAtATime": {"type": "FLEET_PERCENT", "value": 50},
                 "CodeDeployDefault.OneAtATime": {"type": "HOST_COUNT", "value": 1}}
_PREDEFINED_TIME = datetime.datetime(2017, 11, 27, tzinfo=datetime.timezone.utc)


def predefined_config(name):
    """GetDeploymentConfig's deploymentConfigInfo of a predefined configuration, or None."""
    platform = next((p for p, names in DEPLOYMENT_CONFIGS.items() if name in names), None)
    if platform is None:
        return None
    info = {"deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, "codedeploy:" + name)),
            "deploymentConfigName": name, "createTime": _PREDEFINED_TIME, "computePlatform": platform}
    if platform == "Server":
        info["minimumHealthyHosts"] = _SERVER_HOSTS[name]
        return info
    match = _ROUTING.match(name)
    if match is None:
        info["trafficRoutingConfig"] = {"type": "AllAtOnce"}
    elif match.group(1) == "Canary":
        info["trafficRoutingConfig"] = {"type": "TimeBasedCanary", "timeBasedCanary": {
            "canaryPercentage": int(match.group(2)), "canaryInterval": int(match.group(3))}}
    else:
        info["trafficRoutingConfig"] = {"type": "TimeBasedLinear", "timeBasedLinear": {
            "linearPercentage": int(match.group(2)), "linearInterval": int(match.group(3))}}
    return info


def custom_configs(backend):
    """The custom deployment configurations of a CodeDeploy backend: {name: deploymentConfigInfo}."""
    if not hasattr(backend, "localcloud_configs"):
        backend.localcloud_configs = {}
    return backend.localcloud_configs


def config_info(backend, name):
    """deploymentConfigInfo of a predefined or custom configuration, or None."""
    return predefined_config(name) or custom_configs(backend).get(name)


def _error(code, message):
    exc = CodeDeployException(code, message)
    exc.code = 400
    return exc


def _check_config(backend, application, name):
    platform = application.compute_platform or "Server"
    if name is None:
        return DEFAULT_CONFIG.get(platform)
    info = config_info(backend, name)
    if info is None:
        raise _error("DeploymentConfigDoesNotExistException",
                     "The deployment configuration %s does not exist with the user or AWS account." % name)
    if info["computePlatform"] != platform:
        raise _error("InvalidDeploymentConfigNameException",
                     "Deployment config %s is not valid for compute platform %s." % (name, platform))
    return name


def _check_routing(routing):
    kind = routing.get("type")
    keys = {"TimeBasedCanary": ("timeBasedCanary", "canaryPercentage", "canaryInterval"),
            "TimeBasedLinear": ("timeBasedLinear", "linearPercentage", "linearInterval")}
    if kind == "AllAtOnce":
        return {"type": "AllAtOnce"}
    if kind not in keys:
        raise _error("InvalidTrafficRoutingConfigurationException", "The trafficRoutingConfig type %s is not valid: "
                     "use TimeBasedCanary, TimeBasedLinear or AllAtOnce." % kind)
    member, percentage, interval = keys[kind]
    values = routing.get(member) or {}
    if not isinstance(values.get(percentage), int) or not 1 <= values[percentage] <= 99 \
            or not isinstance(values.get(interval), int) or values[interval] < 1:
        raise _error("InvalidTrafficRoutingConfigurationException", "A %s trafficRoutingConfig needs %s.%s (1 to 99) "
                     "and %s.%s (minutes, 1 or more)." % (kind, member, percentage, member, interval))
    return {"type": kind, member: {percentage: values[percentage], interval: values[interval]}}


def _apply_rollback_info():
    original_info = responses._deployment_info  # pylint: disable=protected-access

    def deployment_info(deployment):
        doc = original_info(deployment)
        info = getattr(deployment, "localcloud_rollback_info", None)
        if info:
            doc["rollbackInfo"] = dict(info)
        return doc

    responses._deployment_info = deployment_info  # pylint: disable=protected-access


class Backend:
    """What this patch gives moto's CodeDeployBackend: each method replaces moto's of the same name or adds one
    moto lacks (once installed, ``self`` is the moto backend). ``moto`` keeps moto's own methods that these wrap."""

    moto = {}

    def create_application(self, application_name, compute_platform, tags):
        return Backend.moto["create_application"](self, application_name, compute_platform or "Server", tags)

    def create_deployment_group(self, application_name, deployment_group_name, deployment_config_name, *args, **kwargs):
        if application_name in self.applications:
            deployment_config_name = _check_config(self, self.applications[application_name],
                                                   deployment_config_name)
        return Backend.moto["create_deployment_group"](self, application_name, deployment_group_name,
                                                       deployment_config_name, *args, **kwargs)

    def create_deployment(self, application_name, deployment_group_name, revision, deployment_config_name=None,
                          *args, **kwargs):
        if deployment_config_name and application_name in self.applications:
            _check_config(self, self.applications[application_name], deployment_config_name)
        return Backend.moto["create_deployment"](self, application_name, deployment_group_name, revision,
                                                 deployment_config_name, *args, **kwargs)

    def delete_application(self, application_name):
        if application_name not in self.applications:
            return
        for group_name in list(self.deployment_groups.get(application_name, {})):
            self.delete_deployment_group(application_name, group_name)
        self.deployment_groups.pop(application_name, None)
        del self.applications[application_name]
        self.tagger.delete_all_tags_for_resource(self._application_arn(application_name))

    def delete_deployment_group(self, application_name, deployment_group_name):
        groups = self.deployment_groups.get(application_name, {})
        if groups.pop(deployment_group_name, None) is not None:
            self.tagger.delete_all_tags_for_resource(
                self._deployment_group_arn(application_name, deployment_group_name))

    def update_deployment_group(self, application_name, current_name, params):
        group = self.get_deployment_group(application_name, current_name)
        new_name = params.get("newDeploymentGroupName")
        groups = self.deployment_groups[application_name]
        if new_name and new_name != current_name:
            if new_name in groups:
                raise _error("DeploymentGroupAlreadyExistsException",
                             "Deployment group %s already exists." % new_name)
        if "deploymentConfigName" in params:
            group.deployment_config_name = _check_config(self, group.application, params["deploymentConfigName"])
        simple = {
            "serviceRoleArn": "service_role_arn", "ec2TagFilters": "ec2_tag_filters",
            "onPremisesInstanceTagFilters": "on_premises_instance_tag_filters",
            "autoScalingGroups": "auto_scaling_groups", "triggerConfigurations": "trigger_configurations",
            "autoRollbackConfiguration": "auto_rollback_configuration",
            "outdatedInstancesStrategy": "outdated_instances_strategy", "deploymentStyle": "deployment_style",
            "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
            "loadBalancerInfo": "load_balancer_info", "ec2TagSet": "ec2_tag_set", "ecsServices": "ecs_services",
            "onPremisesTagSet": "on_premises_tag_set", "terminationHookEnabled": "termination_hook_enabled",
        }
        for key, attr in simple.items():
            if key in params:
                setattr(group, attr, params[key])
        if new_name and new_name != current_name:
            groups[new_name] = groups.pop(current_name)
            group.deployment_group_name = new_name
        return []

    def batch_get_deployment_groups(self, application_name, names):
        if application_name not in self.applications:
            raise _error("ApplicationDoesNotExistException",
                         "The application %s does not exist with the user or AWS account." % application_name)
        if len(names) > 100:
            raise _error("BatchLimitExceededException", "The maximum number of names is 100.")
        groups = self.deployment_groups.get(application_name, {})
        found = [groups[n] for n in names if n in groups]
        missing = [n for n in names if n not in groups]
        message = ""
        if missing:
            message = "Deployment groups not found: %s" % ", ".join(missing)
        return found, message

    def create_deployment_config(self, params):
        name = params.get("deploymentConfigName")
        if not name:
            raise _error("DeploymentConfigNameRequiredException", "Deployment configuration name is required.")
        if config_info(self, name) is not None:
            raise _error("DeploymentConfigAlreadyExistsException",
                         "A deployment configuration named %s already exists with the user or AWS account." % name)
        platform = params.get("computePlatform") or "Server"
        if platform not in DEPLOYMENT_CONFIGS:
            raise _error("InvalidComputePlatformException", "The computePlatform %s is not valid: use Server, "
                         "Lambda or ECS." % platform)
        hosts, routing = params.get("minimumHealthyHosts"), params.get("trafficRoutingConfig")
        info = {"deploymentConfigId": str(uuid.uuid4()), "deploymentConfigName": name,
                "createTime": datetime.datetime.now(datetime.timezone.utc), "computePlatform": platform}
        if platform == "Server":
            if routing:
                raise _error("InvalidTrafficRoutingConfigurationException",
                             "A trafficRoutingConfig is valid for the Lambda and ECS compute platforms only.")
            if not hosts or hosts.get("type") not in ("HOST_COUNT", "FLEET_PERCENT") or hosts.get("value") is None:
                raise _error("InvalidMinimumHealthyHostValueException",
                             "The minimumHealthyHosts value is not valid: give a type (HOST_COUNT or "
                             "FLEET_PERCENT) and a value.")
            info["minimumHealthyHosts"] = hosts
        else:
            if hosts:
                raise _error("InvalidMinimumHealthyHostValueException",
                             "A minimumHealthyHosts value is valid for the Server compute platform only.")
            info["trafficRoutingConfig"] = _check_routing(routing or {"type": "AllAtOnce"})
        if params.get("zonalConfig"):
            info["zonalConfig"] = params["zonalConfig"]
        custom_configs(self)[name] = info
        return info["deploymentConfigId"]

    def get_deployment_config(self, name):
        if not name:
            raise _error("DeploymentConfigNameRequiredException", "Deployment configuration name is required.")
        info = config_info(self, name)
        if info is None:
            raise _error("DeploymentConfigDoesNotExistException",
                         "The deployment configuration %s does not exist with the user or AWS account." % name)
        return info

    def delete_deployment_config(self, name):
        if not name:
            raise _error("DeploymentConfigNameRequiredException", "Deployment configuration name is required.")
        if predefined_config(name) is not None:
            raise _error("InvalidOperationException", "The deployment configuration %s is predefined by AWS and "
                         "cannot be deleted." % name)
        for groups in self.deployment_groups.values():
            if any(g.deployment_config_name == name for g in groups.values()):
                raise _error("DeploymentConfigInUseException", "The deployment configuration %s is still in use "
                             "by a deployment group." % name)
        custom_configs(self).pop(name, None)

    def stop_deployment(self, deployment_id, rollback):
        if not deployment_id:
            raise _error("DeploymentIdRequiredException", "At least one deployment ID must be specified.")
        deployment = self.get_deployment(deployment_id)
        with LOCK:
            if deployment.status in ("Succeeded", "Failed", "Stopped"):
                raise _error("DeploymentAlreadyCompletedException",
                             "The deployment %s has already completed." % deployment_id)
            if deployment.application.compute_platform != "ECS":
                # The local cloud runs ECS deployments only; any other one is a record and stops at once.
                deployment.status = "Stopped"
                deployment.complete_time = datetime.datetime.now(datetime.timezone.utc)
                return "Succeeded", "Stopping Succeeded."
            deployment.localcloud_stop = {"rollback": rollback}
        return "Pending", "Stopping Pending. Stopping to schedule commands in the deployment instances"


class Responses:
    """The operations' handlers this patch gives moto's CodeDeployResponse (``self`` is moto's response)."""

    def delete_application(self):
        self.codedeploy_backend.delete_application(self._get_param("applicationName"))
        return ActionResult({})

    def delete_deployment_group(self):
        self.codedeploy_backend.delete_deployment_group(self._get_param("applicationName"),
                                                        self._get_param("deploymentGroupName"))
        return ActionResult({"hooksNotCleanedUp": []})

    def update_deployment_group(self):
        params = json.loads(self.body or "{}")
        hooks = self.codedeploy_backend.update_deployment_group(
            params.get("applicationName"), params.get("currentDeploymentGroupName"), params)
        return ActionResult({"hooksNotCleanedUp": hooks})

    def batch_get_deployment_groups(self):
        found, message = self.codedeploy_backend.batch_get_deployment_groups(
            self._get_param("applicationName"), self._get_param("deploymentGroupNames") or [])
        result = {"deploymentGroupsInfo": [responses._deployment_group_info(g) for g in found]}
        if message:
            result["errorMessage"] = message
        return ActionResult(result)

    def create_deployment_config(self):
        params = json.loads(self.body or "{}")
        return ActionResult({"deploymentConfigId": self.codedeploy_backend.create_deployment_config(params)})

    def get_deployment_config(self):
        info = self.codedeploy_backend.get_deployment_config(self._get_param("deploymentConfigName"))
        return ActionResult({"deploymentConfigInfo": info})

    def list_deployment_configs(self):
        names = sorted(set().union(*DEPLOYMENT_CONFIGS.values()) | set(custom_configs(self.codedeploy_backend)))
        start = int(self._get_param("nextToken") or 0)
        result = {"deploymentConfigsList": names[start:start + 100]}
        if start + 100 < len(names):
            result["nextToken"] = str(start + 100)
        return ActionResult(result)

    def delete_deployment_config(self):
        self.codedeploy_backend.delete_deployment_config(self._get_param("deploymentConfigName"))
        return ActionResult({})

    def stop_deployment(self):
        rollback = self._get_param("autoRollbackEnabled")
        status, message = self.codedeploy_backend.stop_deployment(self._get_param("deploymentId"), rollback)
        return ActionResult({"status": status, "statusMessage": message})


def _install(patch, target):
    """Every method of `patch` onto `target`, moto's own kept in ``patch.moto`` where the patch has one."""
    for name, method in vars(patch).items():
        if inspect.isfunction(method):
            if hasattr(patch, "moto") and hasattr(target, name):
                patch.moto.setdefault(name, getattr(target, name))
            setattr(target, name, method)


def apply():
    _apply_rollback_info()
    _install(Backend, models.CodeDeployBackend)
    _install(Responses, responses.CodeDeployResponse)
