"""ELBv2 where moto 5.2.5 answers differently from AWS (listed in localcloud/README.md, section ELBv2).

- CreateLoadBalancer of an Application Load Balancer accepts subnets all in one Availability Zone; AWS
  refuses them (ValidationError: at least two subnets in two different Availability Zones).
- DescribeTargetGroups' LoadBalancerArns only counts listeners' default actions as created: a group
  that a rule forwards to, or that ModifyListener / ModifyRule (CodeDeploy's switch) points at, is
  missing, and a deleted load balancer stays listed. AWS lists every load balancer whose listeners or
  rules forward to the group, now.
- An HTTP listener gets the SslPolicy ELBSecurityPolicy-2016-08; AWS gives HTTP listeners none.
- DeleteSecurityGroup deletes a group a load balancer still uses; AWS answers DependencyViolation.
"""
from moto.elbv2.exceptions import ELBClientError as RESTError
from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.elbv2.models import ELBv2Backend, elbv2_backends

_TWO_AZS = "At least two subnets in two different Availability Zones must be specified"


def _forwarded_arns(actions):
    out = set()
    for action in actions or []:
        data = getattr(action, "data", None) or {}
        if data.get("Type", getattr(action, "type", None)) != "forward":
            continue
        if data.get("TargetGroupArn"):
            out.add(data["TargetGroupArn"])
        for group in (data.get("ForwardConfig") or {}).get("TargetGroups") or []:
            if group.get("TargetGroupArn"):
                out.add(group["TargetGroupArn"])
    return out


def _refresh_load_balancer_arns(backend):
    users = {}
    for lb_arn, balancer in backend.load_balancers.items():
        for listener in balancer.listeners.values():
            arns = _forwarded_arns(listener.default_actions)
            for rule in getattr(listener, "_non_default_rules", {}).values():
                arns |= _forwarded_arns(rule.actions)
            for arn in arns:
                users.setdefault(arn, [])
                if lb_arn not in users[arn]:
                    users[arn].append(lb_arn)
    for arn, group in backend.target_groups.items():
        group.load_balancer_arns = users.get(arn, [])


def apply():
    create_load_balancer = ELBv2Backend.create_load_balancer

    def create_load_balancer_two_azs(self, name, security_groups, subnet_ids, subnet_mappings=None,
                                     scheme="internet-facing", loadbalancer_type=None, **kwargs):
        if (loadbalancer_type or "application") == "application":
            ids = list(subnet_ids or []) + [m["SubnetId"] for m in subnet_mappings or []]
            zones = set()
            for subnet_id in ids:
                subnet = self.ec2_backend.get_subnet(subnet_id)
                if subnet is not None:
                    zones.add(subnet.availability_zone)
            if ids and len(zones) < 2:
                raise RESTError("ValidationError", _TWO_AZS)
        return create_load_balancer(self, name, security_groups, subnet_ids, subnet_mappings=subnet_mappings,
                                    scheme=scheme, loadbalancer_type=loadbalancer_type, **kwargs)

    ELBv2Backend.create_load_balancer = create_load_balancer_two_azs

    describe_target_groups = ELBv2Backend.describe_target_groups

    def describe_target_groups_in_use(self, *args, **kwargs):
        _refresh_load_balancer_arns(self)
        return describe_target_groups(self, *args, **kwargs)

    ELBv2Backend.describe_target_groups = describe_target_groups_in_use

    create_listener = ELBv2Backend.create_listener

    def create_listener_no_ssl_for_http(self, load_balancer_arn, protocol, port, ssl_policy, *args, **kwargs):
        if protocol in ("HTTP", "TCP", "UDP", "TCP_UDP"):
            ssl_policy = None
        return create_listener(self, load_balancer_arn, protocol, port, ssl_policy, *args, **kwargs)

    ELBv2Backend.create_listener = create_listener_no_ssl_for_http

    delete_security_group = SecurityGroupBackend.delete_security_group

    def delete_security_group_in_use(self, name=None, group_id=None):
        group = self.get_security_group_from_id(group_id) if group_id else (
            self.get_security_group_by_name_or_id(name) if name else None)
        if group is not None:
            backend = elbv2_backends[self.account_id][self.region_name]
            for balancer in backend.load_balancers.values():
                if group.id in (balancer.security_groups or []):
                    raise DependencyViolationError("resource %s has a dependent object" % group.id)
        return delete_security_group(self, name=name, group_id=group_id)

    SecurityGroupBackend.delete_security_group = delete_security_group_in_use

