"""The release loop on the local cloud: a change starts the pipeline, CodeDeploy moves the traffic.

State only (no Docker): what the CodePipeline, CodeDeploy, ECS and ELBv2 APIs answer after a push
to dev or a new latest image, as on AWS. The `lab` fixture waits for each pipeline's first execution
(CreatePipeline's, which deployed version 1 to tg-one), so a change makes execution number 2.
"""
import json
import time

from localcloud.testing.lab import APP, CLUSTER, appspec, push_image, taskdef, traffic, wait_execution

EMPLOYEE = "update-employee-microservice"
CUSTOMER = "update-customer-microservice"


def _task_sets(cloud, svc):
    service = cloud.client("ecs").describe_services(cluster=CLUSTER, services=["%s-microservice" % svc])["services"][0]
    return service, service["taskSets"]


def _deployment(cloud, execution_id, pipeline):
    actions = cloud.client("codepipeline").list_action_executions(
        pipelineName=pipeline, filter={"pipelineExecutionId": execution_id})["actionExecutionDetails"]
    deploy = [a for a in actions if a["actionName"] == "Deploy"][0]
    return actions, deploy


def test_first_execution_deploys_what_is_on_the_sources(lab):
    """CreatePipeline's execution: the commit on dev and the first latest image, deployed blue/green."""
    cloud = lab["cloud"]
    first = lab["first"]["employee"]
    commit = lab["deployment"].git("rev-parse", "HEAD")
    assert dict((r["name"], r["revisionId"]) for r in first["artifactRevisions"]) == {
        "SourceArtifact": commit, "image-employee": lab["digests"]["employee"]}
    actions, deploy = _deployment(cloud, first["pipelineExecutionId"], EMPLOYEE)
    assert sorted((a["stageName"], a["actionName"], a["status"]) for a in actions) == [
        ("Deploy", "Deploy", "Succeeded"), ("Source", "Image", "Succeeded"), ("Source", "Source", "Succeeded")]
    info = cloud.client("codedeploy").get_deployment(deploymentId=deploy["output"]["executionResult"][
        "externalExecutionId"])["deploymentInfo"]
    assert info["status"] == "Succeeded"
    # The service ran the task definition the Phase 5 role registered (revision 1) behind tg-two; now revision 2,
    # with the image of the source, behind tg-one.
    arn = deploy["output"]["outputVariables"]["TaskDefinitionArn"]
    registered = cloud.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
    assert registered["revision"] == 2
    assert registered["containerDefinitions"][0]["image"].endswith("/employee@%s" % lab["digests"]["employee"])
    service, task_sets = _task_sets(cloud, "employee")
    assert [(t["status"], t["taskDefinition"]) for t in task_sets] == [("PRIMARY", arn)]
    assert task_sets[0]["loadBalancers"][0]["targetGroupArn"] == lab["target_groups"]["employee"]["one"]["arn"]
    assert service["taskDefinition"] == arn


def test_push_to_dev_deploys(lab):
    cloud = lab["cloud"]
    assert traffic(cloud, lab, "employee") == {"production": ["employee-tg-one"], "test": ["employee-tg-one"]}
    commit = lab["deployment"].push({"README.md": "release 2\n"}, "a change on dev")

    execution, summaries = wait_execution(cloud, EMPLOYEE, count=2)
    assert execution["status"] == "Succeeded", execution
    assert execution["trigger"]["triggerType"] == "CloudWatchEvent"
    assert len(summaries) == 2 and summaries[1]["pipelineExecutionId"] == lab["first"]["employee"][
        "pipelineExecutionId"]
    revisions = dict((r["name"], r["revisionId"]) for r in execution["artifactRevisions"])
    assert revisions == {"SourceArtifact": commit, "image-employee": lab["digests"]["employee"]}
    assert dict((r["actionName"], r["revisionId"]) for r in summaries[0]["sourceRevisions"]) == {
        "Source": commit, "Image": lab["digests"]["employee"]}

    actions, deploy = _deployment(cloud, execution["pipelineExecutionId"], EMPLOYEE)
    assert sorted((a["stageName"], a["actionName"], a["status"]) for a in actions) == [
        ("Deploy", "Deploy", "Succeeded"), ("Source", "Image", "Succeeded"), ("Source", "Source", "Succeeded")]
    deployment_id = deploy["output"]["executionResult"]["externalExecutionId"]
    codedeploy = cloud.client("codedeploy")
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Succeeded"
    assert info["deploymentGroupName"] == "%s-employee" % APP
    content = info["revision"]["appSpecContent"]["content"]
    assert "<TASK_DEFINITION>" not in content

    # The new revision: the taskdef of the commit, with the image of the source.
    arn = deploy["output"]["outputVariables"]["TaskDefinitionArn"]
    assert arn in content
    registered = cloud.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
    assert registered["revision"] == 3
    image = registered["containerDefinitions"][0]["image"]
    assert image.endswith("/employee@%s" % lab["digests"]["employee"])

    # Blue/green: one task set, the new one, behind tg-two (the first execution's is gone); both listeners on tg-two.
    service, task_sets = _task_sets(cloud, "employee")
    assert [(t["status"], t["taskDefinition"]) for t in task_sets] == [("PRIMARY", arn)]
    assert task_sets[0]["loadBalancers"][0]["targetGroupArn"] == lab["target_groups"]["employee"]["two"]["arn"]
    assert service["taskDefinition"] == arn
    assert traffic(cloud, lab, "employee") == {"production": ["employee-tg-two"], "test": ["employee-tg-two"]}
    # The push started customer's pipeline too (same repository and branch): its default route moved the same way.
    customer = wait_execution(cloud, CUSTOMER, count=2)[0]
    assert customer["status"] == "Succeeded", customer
    assert customer["trigger"]["triggerType"] == "CloudWatchEvent"
    assert traffic(cloud, lab, "customer") == {"production": ["customer-tg-two"], "test": ["customer-tg-two"]}

    targets = codedeploy.list_deployment_targets(deploymentId=deployment_id)["targetIds"]
    assert targets == ["%s:employee-microservice" % CLUSTER]
    target = codedeploy.batch_get_deployment_targets(deploymentId=deployment_id, targetIds=targets)[
        "deploymentTargets"][0]["ecsTarget"]
    assert target["status"] == "Succeeded"
    assert [(e["lifecycleEventName"], e["status"]) for e in target["lifecycleEvents"]] == [
        (name, "Succeeded") for name in ("BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic",
                                         "AfterAllowTestTraffic", "BeforeAllowTraffic", "AllowTraffic",
                                         "AfterAllowTraffic")]

    state = cloud.client("codepipeline").get_pipeline_state(name=EMPLOYEE)
    assert [(s["stageName"], s["latestExecution"]["status"]) for s in state["stageStates"]] == [
        ("Source", "Succeeded"), ("Deploy", "Succeeded")]
    source_state = state["stageStates"][0]["actionStates"][0]
    assert source_state["currentRevision"]["revisionId"] == commit


def test_new_latest_deploys_and_releases_alternate(lab):
    cloud = lab["cloud"]
    digest = push_image(cloud, "customer", "2")
    execution = wait_execution(cloud, CUSTOMER, count=2)[0]
    assert execution["status"] == "Succeeded", execution
    assert dict((r["name"], r["revisionId"]) for r in execution["artifactRevisions"])["image-customer"] == digest
    assert [s["pipelineExecutionId"] for s in cloud.client("codepipeline").list_pipeline_executions(
        pipelineName=EMPLOYEE)["pipelineExecutionSummaries"]] == [lab["first"]["employee"]["pipelineExecutionId"]]
    # customer is the listeners' default route: the default actions moved (the first execution had put them on tg-one).
    assert traffic(cloud, lab, "customer") == {"production": ["customer-tg-two"], "test": ["customer-tg-two"]}
    # As CodeDeploy leaves a listener on AWS: a weighted forward, the replacement at 100, the original at 0.
    listener = cloud.client("elbv2").describe_listeners(ListenerArns=[lab["listeners"]["production"]])["Listeners"][0]
    groups = lab["target_groups"]["customer"]
    assert "TargetGroupArn" not in listener["DefaultActions"][0]
    assert listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": groups["two"]["arn"], "Weight": 100}, {"TargetGroupArn": groups["one"]["arn"], "Weight": 0}]

    # The next release goes back to tg-one.
    digest = push_image(cloud, "customer", "3")
    execution, summaries = wait_execution(cloud, CUSTOMER, count=3)
    assert execution["status"] == "Succeeded", execution
    assert len(summaries) == 3
    assert traffic(cloud, lab, "customer") == {"production": ["customer-tg-one"], "test": ["customer-tg-one"]}
    task_sets = _task_sets(cloud, "customer")[1]
    assert len(task_sets) == 1
    assert task_sets[0]["loadBalancers"][0]["targetGroupArn"] == lab["target_groups"]["customer"]["one"]["arn"]
    image = cloud.client("ecs").describe_task_definition(taskDefinition=task_sets[0]["taskDefinition"])[
        "taskDefinition"]["containerDefinitions"][0]["image"]
    assert image.endswith("@" + digest)


def _broken_release(lab, files, message):
    cloud = lab["cloud"]
    before_traffic = traffic(cloud, lab, "employee")
    before_sets = _task_sets(cloud, "employee")[1]
    lab["deployment"].push(files, "broken")
    execution = wait_execution(cloud, EMPLOYEE, count=2)[0]
    wait_execution(cloud, CUSTOMER, count=2)
    assert execution["status"] == "Failed"
    actions, deploy = _deployment(cloud, execution["pipelineExecutionId"], EMPLOYEE)
    assert deploy["status"] == "Failed"
    assert message in deploy["output"]["executionResult"]["errorDetails"]["message"]
    state = cloud.client("codepipeline").get_pipeline_state(name=EMPLOYEE)
    assert state["stageStates"][1]["latestExecution"]["status"] == "Failed"
    assert message in state["stageStates"][1]["actionStates"][0]["latestExecution"]["errorDetails"]["message"]
    assert traffic(cloud, lab, "employee") == before_traffic
    after_sets = _task_sets(cloud, "employee")[1]
    assert [t["id"] for t in after_sets] == [t["id"] for t in before_sets]
    return deploy


def test_taskdef_without_placeholder_fails_at_deploy(lab):
    deploy = _broken_release(lab, {"taskdef-employee.json": json.dumps(taskdef("employee", image="employee:latest"))},
                             "does not contain the placeholder <IMAGE1_NAME>")
    assert "externalExecutionId" not in deploy["output"]["executionResult"]


def test_appspec_container_not_in_taskdef_fails_the_deployment(lab):
    deploy = _broken_release(lab, {"appspec-employee.yaml": appspec("nosuchcontainer")},
                             "The container nosuchcontainer does not exist in the task definition")
    deployment_id = deploy["output"]["executionResult"]["externalExecutionId"]
    info = lab["cloud"].client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "ECS_UPDATE_ERROR"


def test_start_pipeline_execution_and_missing_image(lab):
    cloud = lab["cloud"]
    cloud.client("ecr").batch_delete_image(repositoryName="employee", imageIds=[{"imageTag": "latest"}])
    pipelines = cloud.client("codepipeline")
    execution_id = pipelines.start_pipeline_execution(name=EMPLOYEE)["pipelineExecutionId"]
    execution = wait_execution(cloud, EMPLOYEE, count=2)[0]
    assert execution["pipelineExecutionId"] == execution_id
    assert execution["trigger"]["triggerType"] == "StartPipelineExecution"
    assert execution["status"] == "Failed"
    actions = pipelines.list_action_executions(pipelineName=EMPLOYEE, filter={
        "pipelineExecutionId": execution_id})["actionExecutionDetails"]
    image = [a for a in actions if a["actionName"] == "Image"][0]
    assert image["status"] == "Failed"
    assert "The image tag 'latest' does not exist" in image["output"]["executionResult"]["errorDetails"]["message"]
    assert traffic(cloud, lab, "employee") == {"production": ["employee-tg-one"], "test": ["employee-tg-one"]}


def test_create_deployment_through_the_api_runs(lab):
    """CreateDeployment of an ECS application, without a pipeline: the same blue/green deployment."""
    cloud = lab["cloud"]
    definition = taskdef("employee", image="employee@%s" % lab["digests"]["employee"])
    arn = cloud.client("ecs").register_task_definition(
        family=definition["family"], networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512",
        memory="1024", containerDefinitions=definition["containerDefinitions"])["taskDefinition"]["taskDefinitionArn"]
    codedeploy = cloud.client("codedeploy")
    deployment_id = codedeploy.create_deployment(
        applicationName=APP, deploymentGroupName="%s-employee" % APP,
        revision={"revisionType": "AppSpecContent",
                  "appSpecContent": {"content": appspec("employee").replace("<TASK_DEFINITION>", arn)}})["deploymentId"]
    statuses = []
    for _attempt in range(200):
        status = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
        if not statuses or statuses[-1] != status:
            statuses.append(status)
        if status in ("Succeeded", "Failed"):
            break
        time.sleep(0.1)
    assert statuses[-1] == "Succeeded"
    assert set(statuses) <= {"Created", "InProgress", "Succeeded"}
    assert traffic(cloud, lab, "employee") == {"production": ["employee-tg-two"], "test": ["employee-tg-two"]}
    task_sets = _task_sets(cloud, "employee")[1]
    assert [(t["status"], t["taskDefinition"]) for t in task_sets] == [("PRIMARY", arn)]
