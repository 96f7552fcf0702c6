#!/usr/bin/env bash
# Copyright: Contributors to the cloudlab.microservices collection
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Phase 5 of the lab as a learner types it: plain `aws` CLI calls and git,
# one process per step, no retries and no idempotence (run it once, on a
# fresh account). It is the baseline `make bench` compares phase5.yml with,
# so it makes the same control-plane calls against the same endpoint:
#
#   5.1  ecr get-login-password, ecr create-repository + set-repository-policy
#        per service, and the push of each image (see --archives)
#   5.2  cloudformation create-stack with the fargate_cluster role's template,
#        then `wait stack-create-complete`
#   5.3  codecommit create-repository deployment
#   5.4  ecs register-task-definition per service
#   5.5/5.6 taskdef/appspec files with placeholders, commit on dev, git push
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
# usage: lab_cli.sh --endpoint URL --workdir DIR [--services "customer employee"]
#                   [--archives DIR] [--remote GIT_URL] [--region us-east-1]
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
    *) echo "lab_cli.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$WORKDIR" ]; then
  echo "lab_cli.sh: --workdir is required" >&2
  exit 2
fi
mkdir -p "$WORKDIR"

# The lab's names (CLUSTER, STACK, REPOSITORY, BRANCH, IMAGE_TAG and, by service, FAMILY, TASKDEF_FILE,
# APPSPEC_FILE) come from the collection's model, plugins/module_utils/_lab.py, as the playbooks' do.
NAMES="$(PYTHONPATH="$ROOT/.collections${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -c '
import sys
from ansible_collections.cloudlab.microservices.plugins.module_utils._lab import shell_names
print(shell_names(sys.argv[1].split()))' "$SERVICES")"
eval "$NAMES"

aws() {
  if [ -n "$ENDPOINT" ]; then
    "$AWS_BIN" --endpoint-url "$ENDPOINT" --region "$REGION" --output text "$@"
  else
    "$AWS_BIN" --region "$REGION" --output text "$@"
  fi
}

echo "== what the console shows: account, LabVPC, subnets, PipelineRole, RDS endpoint"
aws sts get-caller-identity --query Account >/dev/null
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
  jq -n --arg svc "$1" --arg image "$2" --arg family "${FAMILY[$1]}" --arg db "$DB_HOST" --arg role "$ROLE_ARN" --arg region "$REGION" '{
    containerDefinitions: [{
      name: $svc, image: $image, essential: true,
      environment: [{name: "APP_DB_HOST", value: $db}],
      portMappings: [{hostPort: 8080, protocol: "tcp", containerPort: 8080}],
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
          ContainerPort: 8080
EOF
done
git -C "$DEPLOY" init --quiet --initial-branch="$BRANCH"
git -C "$DEPLOY" add .
git -C "$DEPLOY" -c user.name=learner -c user.email=learner@localhost commit --quiet -m "Task definitions and AppSpec files"
git -C "$DEPLOY" remote add origin "$REMOTE"
git -C "$DEPLOY" -c "credential.helper=!$AWS_BIN codecommit credential-helper \$@" -c credential.UseHttpPath=true \
  push --quiet -u origin "$BRANCH"
echo "== done"
