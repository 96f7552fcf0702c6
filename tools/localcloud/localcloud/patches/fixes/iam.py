"""The AWS managed IAM policies the lab's roles use, present on the local cloud.

moto 5.2.5 loads no AWS managed policy unless MOTO_IAM_LOAD_MANAGED_POLICIES is set, and then it
loads all of them (over a thousand, at every reset). AWS always has them: attaching
``arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS`` to a role works in any account. This patch
makes the few policies the lab's accounts use exist (taken from moto's own copy of AWS's
policies), so that ``playbooks/lab_environment.yml`` can give ``DeployRole`` the policy AWS Academy
gives it, as on AWS.
"""
import json

from moto.iam import models
from moto.iam.aws_managed_policies import aws_managed_policies_data

# Attached by playbooks/lab_environment.yml (DeployRole). Keep this list to what the lab uses.
LAB_MANAGED_POLICIES = ("AWSCodeDeployRoleForECS",)

_DATA = {}


def _lab_policies_data():
    if not _DATA:
        parsed = json.loads(aws_managed_policies_data)
        _DATA.update((name, parsed[name]) for name in LAB_MANAGED_POLICIES)
    return _DATA


def apply():
    backend_cls = models.IAMBackend
    init_aws_policies = backend_cls._init_aws_policies

    def patched_init_aws_policies(self):
        policies = init_aws_policies(self)
        if policies:  # moto loaded every policy already (MOTO_IAM_LOAD_MANAGED_POLICIES)
            return policies
        return [models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
                for name, data in _lab_policies_data().items()]

    backend_cls._init_aws_policies = patched_init_aws_policies
