"""A weighted traffic shift as the listener answers it: tasks on a Docker engine (conftest.py's `live_cloud`).

Mid-shift the production listener sends the service's requests to both versions by the ForwardConfig
weights CodeDeploy set; at the end, to the new one only.
"""
import time

from localcloud.testing.lab import APP

from helpers.live import EMPLOYEE, count, ended, get, listeners, push_sample


def test_linear_shift_answers_with_both_versions(live_lab):
    cloud = live_lab["cloud"]
    codedeploy = cloud.client("codedeploy")
    # Half the traffic for 10 AWS minutes (10 s on this cloud), then all of it.
    codedeploy.create_deployment_config(
        deploymentConfigName="HalfForTen", computePlatform="ECS",
        trafficRoutingConfig={"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 50,
                                                                             "linearInterval": 10}})
    codedeploy.update_deployment_group(applicationName=APP, currentDeploymentGroupName="%s-employee" % APP,
                                       deploymentConfigName="HalfForTen")
    url = listeners(cloud)[80] + "/admin/suppliers"
    known = set(codedeploy.list_deployments(applicationName=APP, deploymentGroupName="%s-employee" % APP)[
        "deployments"])
    before = count(cloud, EMPLOYEE)
    push_sample(cloud, "employee", "2")

    def green_weight():
        """The new deployment's Green traffic weight, once its target shows one."""
        new = set(codedeploy.list_deployments(applicationName=APP, deploymentGroupName="%s-employee" % APP)[
            "deployments"]) - known
        for deployment_id in new:
            for target_id in codedeploy.list_deployment_targets(deploymentId=deployment_id)["targetIds"]:
                target = codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=target_id)
                for info in target["deploymentTarget"]["ecsTarget"]["taskSetsInfo"]:
                    if info["taskSetLabel"] == "Green":
                        return info["trafficWeight"]
        return None

    deadline = time.time() + 90
    while time.time() < deadline and green_weight() != 50.0:
        time.sleep(0.1)
    assert green_weight() == 50.0, "the deployment did not reach its 50% step"

    answers = [get(url) for _attempt in range(40)]
    assert green_weight() == 50.0, "the step ended while the requests ran: they prove nothing"
    assert all(status == 200 for status, _body in answers), answers
    versions = set("employee version 2" in body for _status, body in answers)
    assert versions == {True, False}, answers

    execution = ended(cloud, EMPLOYEE, before + 1)
    assert execution["status"] == "Succeeded", execution
    assert all("employee version 2" in get(url)[1] for _attempt in range(10))
