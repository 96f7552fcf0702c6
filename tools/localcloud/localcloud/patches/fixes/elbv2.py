"""ELBv2 where moto 5.2.5 answers differently from AWS (listed in tools/localcloud/README.md, section ELBv2).

- CreateLoadBalancer of an Application Load Balancer accepts subnets all in one Availability Zone; AWS
  refuses them (ValidationError: at least two subnets in two different Availability Zones).
- DescribeTargetGroups' LoadBalancerArns only counts listeners' default actions as created: a group
  that a rule forwards to, or that ModifyListener / ModifyRule (CodeDeploy's switch) points at, is
  missing, and a deleted load balancer stays listed. AWS lists every load balancer whose listeners or
  rules forward to the group, now.
- An HTTP listener gets the SslPolicy ELBSecurityPolicy-2016-08; AWS gives HTTP listeners none.
- DeleteSecurityGroup deletes a group a load balancer still uses; AWS answers DependencyViolation.
- A target is known by its Id alone: registering 127.0.0.1 on port 41001 and then on 41002 keeps one
  target. AWS knows a target by Id and Port (an IP target group holds 10.0.0.5:8080 and 10.0.0.5:8081),
  and the local cloud's tasks all run on 127.0.0.1, one port each. Targets are kept by Id and Port, and
  DescribeTargetHealth answers with the health the local cloud's task runner saw (``HEALTH``), healthy
  when it has none (state-only tasks).
"""
from moto.elbv2.exceptions import ELBClientError as RESTError
from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup, elbv2_backends
from moto.elbv2.exceptions import InvalidTargetError, TargetNotRunning

# {(target group arn, target id, port): (state, reason, description)}, written by localcloud/tasks.py.
HEALTH = {}

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


def _key(group, target):
    return "%s:%s" % (target["Id"], target.get("Port") or group.port)


def _register(self, targets):
    for target in targets:
        instance = self.ec2_backend.get_instance_by_id(target["Id"])
        if instance is not None and instance.state != "running":
            raise TargetNotRunning(instance_id=target["Id"])
        entry = {"Id": target["Id"], "Port": target.get("Port") or self.port}
        self.targets[_key(self, target)] = entry
        self.deregistered_targets.pop(_key(self, target), None)


def _deregister(self, targets):
    for target in targets:
        entry = self.targets.pop(_key(self, target), None)
        if not entry:
            raise InvalidTargetError()
        self.deregistered_targets[_key(self, target)] = entry


def _deregister_terminated(self, instance_ids):
    for key, entry in list(self.targets.items()):
        if entry["Id"] in instance_ids:
            self.terminated_targets[key] = self.targets.pop(key)


def _health_for(self, target, ec2_backend):
    key = _key(self, target)
    entry = self.targets.get(key)
    port = target.get("Port") or self.port
    if entry is None:
        if key in self.deregistered_targets:
            return FakeHealthStatus(target["Id"], port, self.health_check_port, "unused", "Target.NotRegistered",
                                    "Target is not registered to the target group")
        if key in self.terminated_targets:
            return FakeHealthStatus(target["Id"], port, self.health_check_port, "draining",
                                    "Target.DeregistrationInProgress", "Target deregistration is in progress")
        return FakeHealthStatus(target["Id"], port, self.health_check_port, "unavailable", "Target.NotRegistered",
                                "Target is not registered")
    state = HEALTH.get((self.arn, entry["Id"], int(entry["Port"])))
    if state is None or state[0] == "healthy":
        return FakeHealthStatus(entry["Id"], entry["Port"], self.health_check_port, "healthy")
    return FakeHealthStatus(entry["Id"], entry["Port"], self.health_check_port, state[0], state[1], state[2])


def apply():
    if FakeTargetGroup.register is not _register:
        FakeTargetGroup.register = _register
        FakeTargetGroup.deregister = _deregister
        FakeTargetGroup.health_for = _health_for
        FakeTargetGroup.deregister_terminated_instances = _deregister_terminated
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

