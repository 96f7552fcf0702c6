"""CloudFormation: deleting a stack deletes what the stack created, as on AWS.

moto deletes a stack's resource only when the resource's model knows how to
delete itself from CloudFormation. Many models that moto *creates* from a
template do not: deleting the stack, or removing the resource from its
template in an update, leaves the resource behind, live. The ECS cluster of
the fargate_cluster role is one of them: after DeleteStack it stayed ACTIVE,
so the next run found its own old cluster "taken" and drifted to the lab's
``-c`` name.

This patch gives those resource types a delete that calls the service's own
moto backend, the way CloudFormation calls the service's API:

- ECS: a cluster becomes INACTIVE (moto's DeleteCluster, as on AWS, where a
  deleted cluster stays visible as INACTIVE for a while); a service is deleted
  (forced, as CloudFormation scales it down first); a task definition revision
  is deregistered (INACTIVE).
- ELBv2: listeners, listener rules and target groups are deleted.
- EC2: internet gateways (detached first), gateway attachments, route tables,
  routes, NAT gateways and Elastic IPs are deleted or released.
- IAM: a customer managed policy is detached from its roles, groups and users,
  then deleted.

Every other type moto creates without a delete is listed in ``LEFT_BEHIND``
(and in tools/localcloud/README.md); tools/localcloud/tests/integration checks that moto's
list of such types and ours agree, so a moto upgrade that adds one is noticed.
"""
import logging

from moto.cloudformation import parsing

LOG = logging.getLogger("localcloud.patches.cloudformation")


def _ecs(account, region):
    from moto.ecs.models import ecs_backends
    return ecs_backends[account][region]


def _elbv2(account, region):
    from moto.elbv2.models import elbv2_backends
    return elbv2_backends[account][region]


def _ec2(account, region):
    from moto.ec2.models import ec2_backends
    return ec2_backends[account][region]


def _iam(account, region):
    from moto.iam.models import iam_backends
    from moto.core.utils import get_partition
    return iam_backends[account][get_partition(region)]


def _delete_igw(res, account, region):
    ec2 = _ec2(account, region)
    if res.vpc is not None:
        ec2.detach_internet_gateway(res.id, res.vpc.id)
    ec2.delete_internet_gateway(res.id)


def _delete_gateway_attachment(res, account, region):
    ec2 = _ec2(account, region)
    if res.gateway_id.startswith("igw-"):
        ec2.detach_internet_gateway(res.gateway_id, res.vpc_id)
    else:
        ec2.detach_vpn_gateway(res.gateway_id, res.vpc_id)


def _delete_route(res, account, region):
    _ec2(account, region).delete_route(
        res.route_table.id, res.destination_cidr_block,
        destination_ipv6_cidr_block=res.destination_ipv6_cidr_block,
        destination_prefix_list_id=getattr(res.destination_prefix_list, "id", None))


def _delete_managed_policy(res, account, region):
    iam = _iam(account, region)
    for role in list(iam.roles.values()):
        if res.arn in role.managed_policies:
            iam.detach_role_policy(res.arn, role.name)
    for group in list(iam.groups.values()):
        if res.arn in group.managed_policies:
            iam.detach_group_policy(res.arn, group.name)
    for user in list(iam.users.values()):
        if res.arn in user.managed_policies:
            iam.detach_user_policy(res.arn, user.name)
    iam.delete_policy(res.arn)


# Resource type -> delete(parsed resource, account id, region), for the types
# moto creates from a template but does not delete with the stack.
DELETERS = {
    "AWS::ECS::Cluster": lambda res, a, r: _ecs(a, r).delete_cluster(res.name),
    "AWS::ECS::Service": lambda res, a, r: _ecs(a, r).delete_service(res.cluster_name, res.name, force=True),
    "AWS::ECS::TaskDefinition": lambda res, a, r: _ecs(a, r).deregister_task_definition(res.arn),
    "AWS::ElasticLoadBalancingV2::Listener": lambda res, a, r: _elbv2(a, r).delete_listener(res.arn),
    "AWS::ElasticLoadBalancingV2::ListenerRule": lambda res, a, r: _elbv2(a, r).delete_rule(res.arn),
    "AWS::ElasticLoadBalancingV2::TargetGroup": lambda res, a, r: _elbv2(a, r).delete_target_group(res.arn),
    "AWS::EC2::InternetGateway": _delete_igw,
    "AWS::EC2::VPCGatewayAttachment": _delete_gateway_attachment,
    "AWS::EC2::RouteTable": lambda res, a, r: _ec2(a, r).delete_route_table(res.id),
    "AWS::EC2::Route": _delete_route,
    "AWS::EC2::NatGateway": lambda res, a, r: _ec2(a, r).delete_nat_gateway(res.id),
    "AWS::EC2::EIP": lambda res, a, r: _ec2(a, r).release_address(allocation_id=res.allocation_id)
    if res.allocation_id else _ec2(a, r).release_address(address=res.public_ip),
    "AWS::IAM::ManagedPolicy": _delete_managed_policy,
}

# Types moto creates from a template and still does not delete with the stack
# (none of them is in a template of this collection). Logged when it happens.
LEFT_BEHIND = frozenset([
    "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Method", "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::RestApi", "AWS::AutoScaling::ScheduledAction", "AWS::Batch::ComputeEnvironment",
    "AWS::Batch::JobDefinition", "AWS::Batch::JobQueue", "AWS::DataPipeline::Pipeline",
    "AWS::EC2::FlowLog", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SpotFleet",
    "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::TransitGateway", "AWS::EC2::VPCEndpoint",
    "AWS::EC2::VPCPeeringConnection", "AWS::EC2::VPNGateway", "AWS::EC2::Volume",
    "AWS::EC2::VolumeAttachment", "AWS::EMR::InstanceGroupConfig", "AWS::Lambda::LayerVersion",
    "AWS::Lambda::Permission", "AWS::Lambda::Version", "AWS::Redshift::Cluster",
    "AWS::Redshift::ClusterParameterGroup", "AWS::Redshift::ClusterSubnetGroup",
    "AWS::Route53::HealthCheck", "AWS::Route53::HostedZone", "AWS::Route53::RecordSetGroup",
])


def _already_gone(exc):
    """True when moto says the resource no longer exists: CloudFormation counts it as deleted."""
    code = str(getattr(exc, "error_type", "") or getattr(exc, "code", "") or type(exc).__name__)
    text = "%s %s" % (code, exc)
    return any(word in text for word in ("NotFound", "NoSuch", "does not exist", "not found"))


def undeleted_types():
    """Types moto creates from a template whose model has no CloudFormation delete (before this patch)."""
    from moto.core.common_models import CloudFormationModel

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    out = set()
    for cls in subclasses(CloudFormationModel):
        try:
            rtype = cls.cloudformation_type()
        except Exception:  # abstract helpers without a type
            continue
        creates = not hasattr(cls.create_from_cloudformation_json, "__isabstractmethod__")
        deletes = not hasattr(cls.delete_from_cloudformation_json, "__isabstractmethod__")
        if creates and not deletes and not callable(getattr(cls, "delete", None)) and rtype.startswith("AWS::"):
            out.add(rtype)
    return out


def apply():
    original = parsing.ResourceMap._delete_resource
    if getattr(original, "_localcloud_patched", False):
        return

    def _delete_resource(self, parsed_resource, resource_json):
        rtype = resource_json.get("Type", "")
        deleter = DELETERS.get(rtype)
        if deleter is not None and not isinstance(parsed_resource, str):
            try:
                deleter(parsed_resource, self._account_id, self._region_name)
            except Exception as exc:  # moto's errors have no common base with a code
                if not _already_gone(exc):
                    raise
            return
        if rtype in LEFT_BEHIND:
            LOG.warning("stack resource %s (%s) is left behind: moto cannot delete it",
                        getattr(parsed_resource, "physical_resource_id", parsed_resource), rtype)
        original(self, parsed_resource, resource_json)

    _delete_resource._localcloud_patched = True
    parsing.ResourceMap._delete_resource = _delete_resource
