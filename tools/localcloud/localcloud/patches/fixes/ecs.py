"""ECS services as AWS runs them with the CODE_DEPLOY (blue/green) deployment controller.

What moto 5.2.5 does differently, and what this restores (each listed in tools/localcloud/README.md):

- CreateService with ``deploymentController: CODE_DEPLOY`` makes no task set. AWS makes the
  service's first task set, PRIMARY, with the service's task definition, load balancers, network
  configuration and launch type; DescribeServices lists it in ``taskSets`` (``deployments`` stays
  empty). The service also gets AWS's ``deploymentConfiguration`` (200 / 100), ``platformVersion``
  LATEST for Fargate and ``createdAt``.
- UpdateService on a CODE_DEPLOY service accepts anything. AWS refuses a task definition, load
  balancers or network configuration (and forceNewDeployment) with InvalidParameterException
  ("Unable to update ... on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy
  to trigger a new deployment."), whatever their value. A desired count is accepted and reaches
  the PRIMARY task set's computed desired count.
- DeleteService marks the service INACTIVE at once. AWS drains it first: DRAINING, then INACTIVE.
  Here a deleted service stays DRAINING for the next ``LOCALCLOUD_ECS_DRAIN_POLLS`` (default 2)
  DescribeServices answers that include it, then is INACTIVE: a client that polls sees what it
  sees on AWS, without any timing. While it drains, CreateService of the same name is refused
  ("Unable to Start a service that is still Draining.").
- CreateService over an ACTIVE service of the same name replaces it silently. AWS refuses:
  "Creation of service was not idempotent."
- UpdateService and DeleteService of a service that is DRAINING or INACTIVE act on it. AWS answers
  ServiceNotActiveException ("Service was not ACTIVE.").
- ListTasks ignores ``serviceName`` and, with no ``desiredStatus``, lists stopped tasks too. AWS lists
  the service's tasks (its group ``service:<name>``), RUNNING ones unless asked for STOPPED.
- ListTaskDefinitions answers in registration order and ignores ``sort``. AWS sorts by family name and
  revision, ascending, or descending with ``sort: DESC`` (the newest revision of a family first).
"""
import os

from moto.core.utils import utcnow
from moto.core.responses import ActionResult
from moto.ecs import models, responses
from moto.ecs.exceptions import ECSException, InvalidParameterException

CODE_DEPLOY = "CODE_DEPLOY"
_REFUSED = "Unable to update %s on services with a CODE_DEPLOY deployment controller. " \
           "Use AWS CodeDeploy to trigger a new deployment."


class ServiceNotActiveException(ECSException):
    def __init__(self):
        super().__init__("ServiceNotActiveException", "Service was not ACTIVE.")


def drain_polls():
    try:
        return max(int(os.environ.get("LOCALCLOUD_ECS_DRAIN_POLLS", "2")), 0)
    except ValueError:
        return 2


def _is_code_deploy(service):
    return (service.deployment_controller or {}).get("type") == CODE_DEPLOY


def _existing(backend, cluster_str, name):
    cluster = backend._get_cluster(cluster_str)
    return backend.services.get("%s:%s" % (cluster.name, name.split("/")[-1]))


def _primary_task_set(backend, service):
    task_set = models.TaskSet(
        service.arn, service.cluster_arn, service.task_definition or "",
        backend.account_id, service.region_name,
        network_configuration=service.network_configuration or None,
        load_balancers=[dict(lb) for lb in service.load_balancers],
        service_registries=service.service_registries,
        launch_type=service.launch_type,
        platform_version=service.platform_version or "LATEST",
        scale={"value": 100.0, "unit": "PERCENT"},
    )
    task_set.status = "PRIMARY"
    task_set.service_arn = service.arn
    task_set.cluster_arn = service.cluster_arn
    task_set.computed_desired_count = service.desired_count
    task_set.running_count = 0
    task_set.pending_count = 0
    task_set.stabilityStatus = "STABILIZING"
    return task_set


def _family_and_revision(arn):
    family, _, revision = arn.rsplit("/", 1)[-1].rpartition(":")
    return family, int(revision)


def _list_task_definitions(self):
    """ListTaskDefinitions sorted as AWS sorts it: family name, then revision; ``sort: DESC`` reverses both."""
    arns = self.ecs_backend.list_task_definitions(self._get_param("familyPrefix"), self._get_param("status", "ACTIVE"))
    arns.sort(key=_family_and_revision, reverse=(self._get_param("sort") or "ASC").upper() == "DESC")
    return ActionResult({"taskDefinitionArns": arns})


def apply():
    backend_cls = models.EC2ContainerServiceBackend
    create_service = backend_cls.create_service
    update_service = backend_cls.update_service
    delete_service = backend_cls.delete_service
    describe_services = backend_cls.describe_services

    def patched_create_service(self, cluster_str, service_name, desired_count, *args, **kwargs):
        old = _existing(self, cluster_str, service_name)
        if old is not None and old.status == "DRAINING":
            raise InvalidParameterException("Unable to Start a service that is still Draining.")
        if old is not None and old.status == "ACTIVE":
            raise InvalidParameterException("Creation of service was not idempotent.")
        service = create_service(self, cluster_str, service_name, desired_count, *args, **kwargs)
        service.created_at = utcnow()
        service.deployment_configuration = {"maximumPercent": 200, "minimumHealthyPercent": 100}
        if service.launch_type == "FARGATE" and not service.platform_version:
            service.platform_version = "LATEST"
        if _is_code_deploy(service):
            service.deployments = []
            service.task_sets = [_primary_task_set(self, service)]
            # No task starts before CodeDeploy's first deployment (the lab's "0/1 tasks").
            service.pending_count = 0
        return service

    def patched_update_service(self, service_properties):
        props = dict(service_properties)
        service = _existing(self, props.get("cluster", "default"), props.get("service", ""))
        if service is not None and service.status != "ACTIVE":
            raise ServiceNotActiveException()
        if service is not None and _is_code_deploy(service):
            if props.get("task_definition"):
                raise InvalidParameterException(_REFUSED % "task definition")
            if props.get("load_balancers") is not None:
                raise InvalidParameterException(_REFUSED % "load balancers")
            if props.get("network_configuration") is not None or props.get("force_new_deployment"):
                raise InvalidParameterException(_REFUSED % "network parameters")
            if props.get("platform_version"):
                raise InvalidParameterException(_REFUSED % "platform version")
        updated = update_service(self, service_properties)
        if _is_code_deploy(updated) and props.get("desired_count") is not None:
            for task_set in updated.task_sets:
                if task_set.status == "PRIMARY":
                    task_set.computed_desired_count = props["desired_count"]
                    task_set.updatedAt = utcnow()
            # No task runs here: CodeDeploy has not deployed anything yet.
            updated.running_count = 0
            updated.pending_count = 0
        return updated

    def patched_delete_service(self, cluster_name, service_name, force):
        service = self._get_service(cluster_name, service_name)
        if service.status != "ACTIVE":
            raise ServiceNotActiveException()
        deleted = delete_service(self, cluster_name, service_name, force)
        deleted.status = "DRAINING"
        deleted.desired_count = 0
        deleted.running_count = 0
        deleted._localcloud_drain_left = drain_polls()
        for task_set in deleted.task_sets:
            task_set.computed_desired_count = 0
        if deleted._localcloud_drain_left == 0:
            deleted.status = "INACTIVE"
        return deleted

    def patched_describe_services(self, cluster_str, service_names_or_arns):
        services, failures = describe_services(self, cluster_str, service_names_or_arns)
        for service in services:
            if service.status == "DRAINING":
                left = getattr(service, "_localcloud_drain_left", 0)
                if left <= 0:
                    service.status = "INACTIVE"
                    service.task_sets = []
                else:
                    service._localcloud_drain_left = left - 1
        return services, failures

    list_tasks = backend_cls.list_tasks

    def patched_list_tasks(self, cluster_str=None, container_instance=None, family=None, started_by=None,
                           service_name=None, desiredStatus=None):  # noqa: N803 (moto's own name)
        found = list_tasks(self, cluster_str, container_instance, family, started_by, None, desiredStatus or "RUNNING")
        if service_name:
            found = [t for t in found if getattr(t, "group", None) == "service:%s" % service_name.split("/")[-1]]
        return found

    backend_cls.list_tasks = patched_list_tasks
    responses.EC2ContainerServiceResponse.list_task_definitions = _list_task_definitions
    backend_cls.create_service = patched_create_service
    backend_cls.update_service = patched_update_service
    backend_cls.delete_service = patched_delete_service
    backend_cls.describe_services = patched_describe_services
