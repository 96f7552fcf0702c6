"""ELBv2 on the local cloud answers as AWS does where moto alone does not (localcloud/patches/fixes/elbv2.py)."""
import botocore.exceptions
import pytest


@pytest.fixture
def net(cloud):
    """A VPC with subnets in two zones (and a second one in the first zone), a security group, two target groups."""
    ec2, elb = cloud.client("ec2"), cloud.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.16.%d.0/24" % i, AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(["us-east-1a", "us-east-1b", "us-east-1a"])]
    sg = ec2.create_security_group(GroupName="microservices-sg", Description="lb", VpcId=vpc)["GroupId"]
    tgs = [elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")
           ["TargetGroups"][0]["TargetGroupArn"] for name in ("customer-tg-one", "customer-tg-two")]
    return dict(ec2=ec2, elb=elb, vpc=vpc, subnets=subnets, sg=sg, tgs=tgs)


def _lb(net, subnets):
    return net["elb"].create_load_balancer(Name="microservicesLB", Subnets=subnets, SecurityGroups=[net["sg"]],
                                           Scheme="internet-facing", Type="application")["LoadBalancers"][0]


def test_load_balancer_needs_two_availability_zones(net):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _lb(net, [net["subnets"][0], net["subnets"][2]])
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "two different Availability Zones" in err.value.response["Error"]["Message"]
    assert net["elb"].describe_load_balancers()["LoadBalancers"] == []
    assert _lb(net, net["subnets"][:2])["LoadBalancerName"] == "microservicesLB"


def test_target_group_lists_the_load_balancers_that_forward_to_it_now(net):
    elb, (one, two) = net["elb"], net["tgs"]
    lb = _lb(net, net["subnets"][:2])["LoadBalancerArn"]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": two}])["Listeners"][0]

    def users(arn):
        return elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]["LoadBalancerArns"]

    assert users(two) == [lb] and users(one) == []
    # CodeDeploy's switch: the listener moves to the other group of the pair.
    elb.modify_listener(ListenerArn=listener["ListenerArn"],
                        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                            {"TargetGroupArn": one, "Weight": 1}]}}])
    assert users(one) == [lb] and users(two) == []
    # A rule counts too.
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=10, Actions=[{"Type": "forward", "TargetGroupArn": two}],
                    Conditions=[{"Field": "path-pattern", "Values": ["/admin/*"]}])
    assert users(two) == [lb]
    elb.delete_load_balancer(LoadBalancerArn=lb)
    assert users(one) == [] and users(two) == []


def test_http_listener_has_no_ssl_policy(net):
    lb = _lb(net, net["subnets"][:2])["LoadBalancerArn"]
    created = net["elb"].create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                                         DefaultActions=[{"Type": "forward", "TargetGroupArn": net["tgs"][0]}])
    assert "SslPolicy" not in created["Listeners"][0]
    assert "SslPolicy" not in net["elb"].describe_listeners(LoadBalancerArn=lb)["Listeners"][0]


def test_target_group_in_use_cannot_be_deleted(net):
    elb = net["elb"]
    lb = _lb(net, net["subnets"][:2])["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": net["tgs"][1]}])
    with pytest.raises(botocore.exceptions.ClientError) as err:
        elb.delete_target_group(TargetGroupArn=net["tgs"][1])
    assert err.value.response["Error"]["Code"] == "ResourceInUse"


def test_security_group_of_a_load_balancer_cannot_be_deleted(net):
    ec2, elb = net["ec2"], net["elb"]
    lb = _lb(net, net["subnets"][:2])["LoadBalancerArn"]
    with pytest.raises(botocore.exceptions.ClientError) as err:
        ec2.delete_security_group(GroupId=net["sg"])
    assert err.value.response["Error"]["Code"] == "DependencyViolation"
    elb.delete_load_balancer(LoadBalancerArn=lb)
    ec2.delete_security_group(GroupId=net["sg"])
    assert net["sg"] not in [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]]


def test_a_target_is_its_id_and_port(net):
    elbv2 = net["elb"]
    group = elbv2.create_target_group(Name="ports-tg", Protocol="HTTP", Port=8080, VpcId=net["vpc"],
                                      TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": 41001},
                                                          {"Id": "127.0.0.1", "Port": 41002}])

    def targets():
        return sorted((d["Target"]["Id"], d["Target"]["Port"], d["TargetHealth"]["State"])
                      for d in elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"])

    assert targets() == [("127.0.0.1", 41001, "healthy"), ("127.0.0.1", 41002, "healthy")]
    elbv2.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": 41001}])
    assert targets() == [("127.0.0.1", 41002, "healthy")]
    gone = elbv2.describe_target_health(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": 41001}])
    assert gone["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "unused"
    with pytest.raises(botocore.exceptions.ClientError) as err:
        elbv2.deregister_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": 41001}])
    assert err.value.response["Error"]["Code"] == "InvalidTarget"
