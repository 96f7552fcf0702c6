#!/usr/bin/env bash
# Copyright: Contributors to the cloudlab.microservices collection
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Phases 5 to 8 of the lab as a learner types them: plain `aws` CLI calls and
# git, one process per step, no retries and no idempotence (run it once, on a
# fresh account). It is the baseline `make bench` compares phase5.yml (and,
# with --through 8, site.yml) with, so it makes the same control-plane calls
# against the same endpoint:
#
#   5.1  ecr get-login-password, ecr create-repository + set-repository-policy
#        per service, and the push of each image (see --archives)
#   5.2  cloudformation create-stack with the fargate_cluster role's template,
#        then `wait stack-create-complete`
#   5.3  codecommit create-repository deployment
#   5.4  ecs register-task-definition per service
#   5.5/5.6 taskdef/appspec files with placeholders, commit on dev, git push
#   6    elbv2 create-target-group (two per service), ec2 create-security-group
#        + authorize-security-group-ingress (80, 8080), elbv2 create-load-balancer,
#        create-listener (80 forwards to tg-two, 8080 to tg-one), create-rule per
#        service but the first (its path pattern, on both listeners)
#   7    ecs create-service per service (CODE_DEPLOY controller, tg-two)
#   8    deploy create-application, create-deployment-group per service,
#        s3api create-bucket (the artifact store the console makes),
#        codepipeline create-pipeline per service, and the EventBridge rules the
#        console adds for its CodeCommit and ECR sources (events put-rule +
#        put-targets, two per pipeline)
#
# The lab reads the account id, LabVPC, its subnets, PipelineRole's ARN and
# the RDS endpoint from the console; a script has to ask for them, as the
# aws_context role does.
#
# --archives DIR pushes DIR/<svc>.oci.tar through the ECR layer API
# (batch-check-layer-availability, initiate/upload/complete-layer-upload,
# put-image): the calls image_push's `archive` method makes, and what
# `docker push` amounts to where no Docker engine is at hand.
#
# --service-list FILE: the service list as JSON ([{name, path_pattern,
# health_check_path, port}], as in the inventory); it replaces --services.
#
# usage: lab_cli.sh --endpoint URL --workdir DIR [--services "customer employee"]
#                   [--service-list FILE] [--archives DIR] [--remote GIT_URL]
#                   [--region us-east-1] [--through 5|8]
# Credentials come from the environment (AWS_ACCESS_KEY_ID, ... AWS_SESSION_TOKEN).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
AWS_BIN="${AWS_BIN:-aws}"
ENDPOINT=""
REGION="us-east-1"
SERVICES="customer employee"
WORKDIR=""
ARCHIVES=""
REMOTE=""
THROUGH=5
SERVICE_LIST=""
PYTHON="${PYTHON:-python3}"
TEMPLATE="$ROOT/roles/fargate_cluster/files/fargate-cluster.cfn.yml"

while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint) ENDPOINT="$2"; shift 2 ;;
    --region) REGION="$2"; shift 2 ;;
    --services) SERVICES="$2"; shift 2 ;;
    --workdir) WORKDIR="$2"; shift 2 ;;
    --archives) ARCHIVES="$2"; shift 2 ;;
    --remote) REMOTE="$2"; shift 2 ;;
    --through) THROUGH="$2"; shift 2 ;;
    --service-list) SERVICE_LIST="$2"; shift 2 ;;
    *) echo "lab_cli.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$WORKDIR" ]; then
  echo "lab_cli.sh: --workdir is required" >&2
  exit 2
fi
case "$THROUGH" in 5|8) ;; *) echo "lab_cli.sh: --through is 5 or 8, not $THROUGH" >&2; exit 2 ;; esac
mkdir -p "$WORKDIR"
if [ -n "$SERVICE_LIST" ]; then
  SERVICES="$(jq -r '[.[].name] | join(" ")' "$SERVICE_LIST")"
fi
# What the lab sets by hand in Phase 6, for each service: port, health check path, path pattern.
setting() {  # setting SERVICE KEY DEFAULT
  if [ -n "$SERVICE_LIST" ]; then
    jq -r --arg s "$1" --arg k "$2" --arg d "$3" '(.[] | select(.name == $s) | .[$k]) // $d | tostring' "$SERVICE_LIST"
  else
    echo "$3"
  fi
}

aws() {
  if [ -n "$ENDPOINT" ]; then
    "$AWS_BIN" --endpoint-url "$ENDPOINT" --region "$REGION" --output text "$@"
  else
    "$AWS_BIN" --region "$REGION" --output text "$@"
  fi
}

echo "== what the console shows: account, LabVPC, subnets, PipelineRole, RDS endpoint"
ACCOUNT="$(aws sts get-caller-identity --query Account)"

# The lab's names (CLUSTER, STACK, REPOSITORY, BRANCH, IMAGE_TAG, APPLICATION, LOAD_BALANCER, BUCKET and, by
# service, FAMILY, TASKDEF_FILE, APPSPEC_FILE, ECS_SERVICE, TG_PRODUCTION, TG_TEST, PRIORITY, DEPLOYMENT_GROUP,
# PIPELINE, IMAGE_ARTIFACT, SOURCE_RULE, IMAGE_RULE) come from the collection's model,
# plugins/module_utils/_lab.py, as the playbooks' do.
NAMES="$(PYTHONPATH="$ROOT/.collections${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -c '
import sys
from ansible_collections.cloudlab.microservices.plugins.module_utils._lab import shell_names
print(shell_names(sys.argv[1].split(), {"region": sys.argv[2], "account": sys.argv[3]}))' \
  "$SERVICES" "$REGION" "$ACCOUNT")"
eval "$NAMES"
VPC_ID="$(aws ec2 describe-vpcs --filters Name=tag:Name,Values=LabVPC --query 'Vpcs[0].VpcId')"
SUBNET1="$(aws ec2 describe-subnets --filters Name=tag:Name,Values=PublicSubnet1 --query 'Subnets[0].SubnetId')"
SUBNET2="$(aws ec2 describe-subnets --filters Name=tag:Name,Values=PublicSubnet2 --query 'Subnets[0].SubnetId')"
ROLE_ARN="$(aws iam get-role --role-name PipelineRole --query Role.Arn)"
DB_HOST="$(aws rds describe-db-instances --db-instance-identifier supplierdb --query 'DBInstances[0].Endpoint.Address')"

echo "== 5.1 ECR: login, repositories, policy, images"
# The lab pipes this into `docker login`; the password is kept out of every log.
aws ecr get-login-password >/dev/null
POLICY='{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}'
declare -A URI
for svc in $SERVICES; do
  # <account>.dkr.ecr.<region>.amazonaws.com/<svc> on AWS; whatever the endpoint says elsewhere.
  URI[$svc]="$(aws ecr create-repository --repository-name "$svc" --query repository.repositoryUri)"
  aws ecr set-repository-policy --repository-name "$svc" --policy-text "$POLICY" >/dev/null
done

push_archive() {  # push_archive SERVICE ARCHIVE
  local svc="$1" archive="$2" tmp manifest mtype digests blob size upload
  tmp="$(mktemp -d "$WORKDIR/push-$svc.XXXX")"
  tar -xf "$archive" -C "$tmp"
  manifest="$tmp/blobs/sha256/$(jq -r '.manifests[0].digest' "$tmp/index.json" | cut -d: -f2)"
  mtype="$(jq -r '.mediaType // "application/vnd.oci.image.manifest.v1+json"' "$manifest")"
  digests="$(jq -r '[.config.digest] + [.layers[].digest] | join(" ")' "$manifest")"
  # shellcheck disable=SC2086 # one argument per digest
  for blob in $(aws ecr batch-check-layer-availability --repository-name "$svc" --layer-digests $digests \
                  --query "[layers[?layerAvailability!='AVAILABLE'].layerDigest, failures[].layerDigest][]"); do
    [ "$blob" = "None" ] && continue
    size="$(stat -c %s "$tmp/blobs/sha256/${blob#sha256:}")"
    upload="$(aws ecr initiate-layer-upload --repository-name "$svc" --query uploadId)"
    aws ecr upload-layer-part --repository-name "$svc" --upload-id "$upload" \
      --part-first-byte 0 --part-last-byte "$((size - 1))" \
      --layer-part-blob "fileb://$tmp/blobs/sha256/${blob#sha256:}" >/dev/null
    aws ecr complete-layer-upload --repository-name "$svc" --upload-id "$upload" --layer-digests "$blob" >/dev/null
  done
  aws ecr put-image --repository-name "$svc" --image-tag "$IMAGE_TAG" \
    --image-manifest "file://$manifest" --image-manifest-media-type "$mtype" >/dev/null
  rm -rf "$tmp"
}

if [ -n "$ARCHIVES" ]; then
  for svc in $SERVICES; do
    push_archive "$svc" "$ARCHIVES/$svc.oci.tar"
  done
fi

echo "== 5.2 Fargate cluster through CloudFormation"
PARAMS="$(jq -cn --arg c "$CLUSTER" --arg v "$VPC_ID" --arg s "$SUBNET1,$SUBNET2" \
  '[{ParameterKey:"ECSClusterName",ParameterValue:$c},{ParameterKey:"VpcId",ParameterValue:$v},
    {ParameterKey:"SubnetIds",ParameterValue:$s}]')"
aws cloudformation create-stack --stack-name "$STACK" --template-body "file://$TEMPLATE" \
  --parameters "$PARAMS" >/dev/null
aws cloudformation wait stack-create-complete --stack-name "$STACK"

echo "== 5.3 CodeCommit repository $REPOSITORY"
CLONE_URL="$(aws codecommit create-repository --repository-name "$REPOSITORY" \
  --repository-description "Task definitions and AppSpec files" --query repositoryMetadata.cloneUrlHttp)"
REMOTE="${REMOTE:-$CLONE_URL}"

echo "== 5.4 task definitions"
DEPLOY="$WORKDIR/$REPOSITORY"
mkdir -p "$DEPLOY"
taskdef() {  # taskdef SERVICE IMAGE
  jq -n --arg svc "$1" --arg image "$2" --arg family "${FAMILY[$1]}" --arg db "$DB_HOST" --arg role "$ROLE_ARN" --arg region "$REGION" \
    --argjson port "$(setting "$1" port 8080)" '{
    containerDefinitions: [{
      name: $svc, image: $image, essential: true,
      environment: [{name: "APP_DB_HOST", value: $db}],
      portMappings: [{hostPort: $port, protocol: "tcp", containerPort: $port}],
      logConfiguration: {logDriver: "awslogs", options: {
        "awslogs-create-group": "true", "awslogs-group": "awslogs-capstone",
        "awslogs-region": $region, "awslogs-stream-prefix": "awslogs-capstone"}}}],
    requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu: "512", memory: "1024",
    executionRoleArn: $role, family: $family}'
}
for svc in $SERVICES; do
  taskdef "$svc" "${URI[$svc]}:$IMAGE_TAG" >"$WORKDIR/register-$svc.json"
  aws ecs register-task-definition --cli-input-json "file://$WORKDIR/register-$svc.json" >/dev/null
done

echo "== 5.5/5.6 files with placeholders, commit on dev, push"
for svc in $SERVICES; do
  taskdef "$svc" "<IMAGE1_NAME>" >"$DEPLOY/${TASKDEF_FILE[$svc]}"
  cat >"$DEPLOY/${APPSPEC_FILE[$svc]}" <<EOF
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: "$svc"
          ContainerPort: $(setting "$svc" port 8080)
EOF
done
git -C "$DEPLOY" init --quiet --initial-branch="$BRANCH"
git -C "$DEPLOY" add .
git -C "$DEPLOY" -c user.name=learner -c user.email=learner@localhost commit --quiet -m "Task definitions and AppSpec files"
git -C "$DEPLOY" remote add origin "$REMOTE"
git -C "$DEPLOY" -c "credential.helper=!$AWS_BIN codecommit credential-helper \$@" -c credential.UseHttpPath=true \
  push --quiet -u origin "$BRANCH"

if [ "$THROUGH" = 5 ]; then
  echo "== done"
  exit 0
fi

FIRST="${SERVICES%% *}"
echo "== 6 target groups, security group, load balancer, listeners, rules"
declare -A TG_ARN
for svc in $SERVICES; do
  for tg in "${TG_PRODUCTION[$svc]}" "${TG_TEST[$svc]}"; do
    TG_ARN[$tg]="$(aws elbv2 create-target-group --name "$tg" --target-type ip --protocol HTTP \
      --port "$(setting "$svc" port 8080)" --vpc-id "$VPC_ID" \
      --health-check-path "$(setting "$svc" health_check_path /)" --query 'TargetGroups[0].TargetGroupArn')"
  done
done
# The lab's own input (load_balancer_security_group_name's default), as the learner types it.
SG_ID="$(aws ec2 create-security-group --group-name microservices-sg --vpc-id "$VPC_ID" \
  --description "Load balancer of the microservices" --query GroupId)"
for port in 80 8080; do
  aws ec2 authorize-security-group-ingress --group-id "$SG_ID" --protocol tcp --port "$port" \
    --cidr 0.0.0.0/0 >/dev/null
done
LB_ARN="$(aws elbv2 create-load-balancer --name "$LOAD_BALANCER" --type application --scheme internet-facing \
  --ip-address-type ipv4 --subnets "$SUBNET1" "$SUBNET2" --security-groups "$SG_ID" \
  --query 'LoadBalancers[0].LoadBalancerArn')"
declare -A LISTENER
for port in 80 8080; do
  if [ "$port" = 80 ]; then declare -n PAIR_OF=TG_PRODUCTION; else declare -n PAIR_OF=TG_TEST; fi
  LISTENER[$port]="$(aws elbv2 create-listener --load-balancer-arn "$LB_ARN" --protocol HTTP --port "$port" \
    --default-actions "Type=forward,TargetGroupArn=${TG_ARN[${PAIR_OF[$FIRST]}]}" \
    --query 'Listeners[0].ListenerArn')"
  for svc in $SERVICES; do
    [ "$svc" = "$FIRST" ] && continue
    aws elbv2 create-rule --listener-arn "${LISTENER[$port]}" --priority "${PRIORITY[$svc]}" \
      --conditions "Field=path-pattern,Values=$(setting "$svc" path_pattern "")" \
      --actions "Type=forward,TargetGroupArn=${TG_ARN[${PAIR_OF[$svc]}]}" >/dev/null
  done
  unset -n PAIR_OF
done

echo "== 7 ECS services, deployed by CodeDeploy"
for svc in $SERVICES; do
  jq -n --arg cluster "$CLUSTER" --arg service "${ECS_SERVICE[$svc]}" --arg td "${FAMILY[$svc]}" \
    --arg tg "${TG_ARN[${TG_PRODUCTION[$svc]}]}" --arg svc "$svc" --argjson port "$(setting "$svc" port 8080)" \
    --arg s1 "$SUBNET1" --arg s2 "$SUBNET2" --arg sg "$SG_ID" '{
    cluster: $cluster, serviceName: $service, taskDefinition: $td,
    loadBalancers: [{targetGroupArn: $tg, containerName: $svc, containerPort: $port}],
    desiredCount: 1, launchType: "FARGATE", schedulingStrategy: "REPLICA",
    deploymentController: {type: "CODE_DEPLOY"},
    networkConfiguration: {awsvpcConfiguration: {subnets: [$s1, $s2], securityGroups: [$sg],
                                                 assignPublicIp: "ENABLED"}}}' >"$WORKDIR/service-$svc.json"
  aws ecs create-service --cli-input-json "file://$WORKDIR/service-$svc.json" >/dev/null
done

echo "== 8 CodeDeploy application and deployment groups, artifact bucket, pipelines"
DEPLOY_ROLE_ARN="$(aws iam get-role --role-name DeployRole --query Role.Arn)"
aws deploy create-application --application-name "$APPLICATION" --compute-platform ECS >/dev/null
for svc in $SERVICES; do
  jq -n --arg app "$APPLICATION" --arg group "${DEPLOYMENT_GROUP[$svc]}" --arg role "$DEPLOY_ROLE_ARN" \
    --arg cluster "$CLUSTER" --arg service "${ECS_SERVICE[$svc]}" --arg prod "${LISTENER[80]}" \
    --arg test "${LISTENER[8080]}" --arg tg1 "${TG_PRODUCTION[$svc]}" --arg tg2 "${TG_TEST[$svc]}" '{
    applicationName: $app, deploymentGroupName: $group, serviceRoleArn: $role,
    deploymentConfigName: "CodeDeployDefault.ECSAllAtOnce",
    ecsServices: [{clusterName: $cluster, serviceName: $service}],
    deploymentStyle: {deploymentType: "BLUE_GREEN", deploymentOption: "WITH_TRAFFIC_CONTROL"},
    blueGreenDeploymentConfiguration: {
      deploymentReadyOption: {actionOnTimeout: "CONTINUE_DEPLOYMENT"},
      terminateBlueInstancesOnDeploymentSuccess: {action: "TERMINATE", terminationWaitTimeInMinutes: 5}},
    loadBalancerInfo: {targetGroupPairInfoList: [{
      targetGroups: [{name: $tg1}, {name: $tg2}],
      prodTrafficRoute: {listenerArns: [$prod]}, testTrafficRoute: {listenerArns: [$test]}}]}}' \
    >"$WORKDIR/group-$svc.json"
  aws deploy create-deployment-group --cli-input-json "file://$WORKDIR/group-$svc.json" >/dev/null
done
aws s3api create-bucket --bucket "$BUCKET" >/dev/null
for svc in $SERVICES; do
  jq -n --arg name "${PIPELINE[$svc]}" --arg role "$ROLE_ARN" --arg bucket "$BUCKET" --arg repo "$REPOSITORY" \
    --arg branch "$BRANCH" --arg svc "$svc" --arg tag "$IMAGE_TAG" --arg image "${IMAGE_ARTIFACT[$svc]}" \
    --arg app "$APPLICATION" --arg group "${DEPLOYMENT_GROUP[$svc]}" --arg taskdef "${TASKDEF_FILE[$svc]}" \
    --arg appspec "${APPSPEC_FILE[$svc]}" --arg source "$SOURCE_ACTION" --arg imageaction "$IMAGE_ACTION" '{pipeline: {
    name: $name, roleArn: $role, artifactStore: {type: "S3", location: $bucket}, pipelineType: "V2",
    stages: [
      {name: "Source", actions: [
        {name: $source, actionTypeId: {category: "Source", owner: "AWS", provider: "CodeCommit", version: "1"},
         configuration: {RepositoryName: $repo, BranchName: $branch, PollForSourceChanges: "false"},
         outputArtifacts: [{name: "SourceArtifact"}]},
        {name: $imageaction, actionTypeId: {category: "Source", owner: "AWS", provider: "ECR", version: "1"},
         configuration: {RepositoryName: $svc, ImageTag: $tag}, outputArtifacts: [{name: $image}]}]},
      {name: "Deploy", actions: [
        {name: "Deploy", actionTypeId: {category: "Deploy", owner: "AWS", provider: "CodeDeployToECS", version: "1"},
         configuration: {ApplicationName: $app, DeploymentGroupName: $group,
           TaskDefinitionTemplateArtifact: "SourceArtifact", TaskDefinitionTemplatePath: $taskdef,
           AppSpecTemplateArtifact: "SourceArtifact", AppSpecTemplatePath: $appspec,
           Image1ArtifactName: $image, Image1ContainerName: "IMAGE1_NAME"},
         inputArtifacts: [{name: "SourceArtifact"}, {name: $image}]}]}]}}' >"$WORKDIR/pipeline-$svc.json"
  aws codepipeline create-pipeline --cli-input-json "file://$WORKDIR/pipeline-$svc.json" >/dev/null
  PIPELINE_ARN="arn:aws:codepipeline:$REGION:$ACCOUNT:${PIPELINE[$svc]}"
  aws events put-rule --name "${SOURCE_RULE[$svc]}" --event-pattern "$(jq -cn \
    --arg repo "arn:aws:codecommit:$REGION:$ACCOUNT:$REPOSITORY" --arg branch "$BRANCH" '{
    source: ["aws.codecommit"], "detail-type": ["CodeCommit Repository State Change"], resources: [$repo],
    detail: {event: ["referenceCreated", "referenceUpdated"], referenceType: ["branch"], referenceName: [$branch]}}')" \
    >/dev/null
  aws events put-rule --name "${IMAGE_RULE[$svc]}" --event-pattern "$(jq -cn --arg repo "$svc" --arg tag "$IMAGE_TAG" '{
    source: ["aws.ecr"], "detail-type": ["ECR Image Action"],
    detail: {"action-type": ["PUSH"], "image-tag": [$tag], "repository-name": [$repo], result: ["SUCCESS"]}}')" \
    >/dev/null
  for rule in "${SOURCE_RULE[$svc]}" "${IMAGE_RULE[$svc]}"; do
    aws events put-targets --rule "$rule" \
      --targets "Id=codepipeline,Arn=$PIPELINE_ARN,RoleArn=$ROLE_ARN" >/dev/null
  done
done
echo "== done"
