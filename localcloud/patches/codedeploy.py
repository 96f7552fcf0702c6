"""CodeDeploy: what moto 5.2.5 lacks or answers unlike AWS.

- DeleteApplication, DeleteDeploymentGroup, UpdateDeploymentGroup and BatchGetDeploymentGroups do not
  exist in moto (its server answers "not yet implemented"); here they do, with the errors AWS lists
  for them: deleting what does not exist succeeds, as on AWS; an update of a missing application or
  group is ApplicationDoesNotExistException / DeploymentGroupDoesNotExistException; a rename onto an
  existing group is DeploymentGroupAlreadyExistsException.
- moto takes any deployment configuration name; AWS answers DeploymentConfigDoesNotExistException for
  one it does not have, and InvalidDeploymentConfigNameException for a configuration of another
  compute platform. Only the predefined configurations exist here.
- moto stores no compute platform when none is given; AWS takes Server.
- Deleting an application deletes its deployment groups and the tags of both, as on AWS.
"""
import json

from moto.codedeploy import models, responses
from moto.codedeploy.exceptions import CodeDeployException
from moto.core.responses import ActionResult

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


def _error(code, message):
    exc = CodeDeployException(code, message)
    exc.code = 400
    return exc


def _check_config(application, name):
    platform = application.compute_platform or "Server"
    if name is None:
        return DEFAULT_CONFIG.get(platform)
    known = set().union(*DEPLOYMENT_CONFIGS.values())
    if name not in known:
        raise _error("DeploymentConfigDoesNotExistException",
                     "The deployment configuration %s does not exist with the user or AWS account." % name)
    if name not in DEPLOYMENT_CONFIGS.get(platform, set()):
        raise _error("InvalidDeploymentConfigNameException",
                     "Deployment config %s is not valid for compute platform %s." % (name, platform))
    return name


def apply():
    backend_cls = models.CodeDeployBackend
    response_cls = responses.CodeDeployResponse
    original_create_application = backend_cls.create_application
    original_create_group = backend_cls.create_deployment_group

    def create_application(self, application_name, compute_platform, tags):
        return original_create_application(self, application_name, compute_platform or "Server", tags)

    def create_deployment_group(self, application_name, deployment_group_name, deployment_config_name, *args, **kwargs):
        if application_name in self.applications:
            deployment_config_name = _check_config(self.applications[application_name], deployment_config_name)
        return original_create_group(self, application_name, deployment_group_name, deployment_config_name,
                                     *args, **kwargs)

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
            group.deployment_config_name = _check_config(group.application, params["deploymentConfigName"])
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

    backend_cls.create_application = create_application
    backend_cls.create_deployment_group = create_deployment_group
    backend_cls.delete_application = delete_application
    backend_cls.delete_deployment_group = delete_deployment_group
    backend_cls.update_deployment_group = update_deployment_group
    backend_cls.batch_get_deployment_groups = batch_get_deployment_groups

    def r_delete_application(self):
        self.codedeploy_backend.delete_application(self._get_param("applicationName"))
        return ActionResult({})

    def r_delete_deployment_group(self):
        self.codedeploy_backend.delete_deployment_group(self._get_param("applicationName"),
                                                        self._get_param("deploymentGroupName"))
        return ActionResult({"hooksNotCleanedUp": []})

    def r_update_deployment_group(self):
        params = json.loads(self.body or "{}")
        hooks = self.codedeploy_backend.update_deployment_group(
            params.get("applicationName"), params.get("currentDeploymentGroupName"), params)
        return ActionResult({"hooksNotCleanedUp": hooks})

    def r_batch_get_deployment_groups(self):
        found, message = self.codedeploy_backend.batch_get_deployment_groups(
            self._get_param("applicationName"), self._get_param("deploymentGroupNames") or [])
        result = {"deploymentGroupsInfo": [responses._deployment_group_info(g) for g in found]}
        if message:
            result["errorMessage"] = message
        return ActionResult(result)

    response_cls.delete_application = r_delete_application
    response_cls.delete_deployment_group = r_delete_deployment_group
    response_cls.update_deployment_group = r_update_deployment_group
    response_cls.batch_get_deployment_groups = r_batch_get_deployment_groups
