#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: deploy_placeholders
short_description: Write checked task definition and AppSpec files with CodePipeline's placeholders
version_added: 0.1.0
description:
  - For each service, writes C(taskdef-<name>.json) and C(appspec-<name>.yaml) into a folder, as
    CodePipeline's "Amazon ECS (Blue/Green)" deploy action expects them in its source repository.
  - The task definition is given with its real image; the module replaces the image of the container
    the AppSpec routes traffic to (C(LoadBalancerInfo.ContainerName)) with the image placeholder
    (C(<IMAGE1_NAME>) by default), which the pipeline replaces with the image of its ECR source.
  - Before anything is written, every pair is checked as it would be committed; the task definition
    is valid input for RegisterTaskDefinition according to botocore's ECS service model, it carries the
    image placeholder exactly once, the AppSpec parses as YAML, has an C(AWS::ECS::Service) target
    whose C(TaskDefinition) is the task definition placeholder (C(<TASK_DEFINITION>) by default), its
    C(ContainerName) is a container of the task definition and its C(ContainerPort) is among that
    container's port mappings. Each failure names the file and the field; one failure writes nothing.
  - Written because no module of ansible.builtin, amazon.aws or community.aws validates these files;
    it talks to no AWS API.
  - A file is rewritten only when its content differs.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  path:
    description: Folder the files are written to; it must exist, except in check mode.
    type: path
    required: true
  services:
    description: One entry per service.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Service name, used in the file names.
        type: str
        required: true
      task_definition:
        description: Task definition in RegisterTaskDefinition's input form, with the real image.
        type: dict
        required: true
      appspec:
        description: Text of the AppSpec file, written as given.
        type: str
        required: true
  image_placeholder:
    description: Placeholder written in place of the image.
    type: str
    default: <IMAGE1_NAME>
  task_definition_placeholder:
    description: Placeholder the AppSpec must carry as C(TaskDefinition).
    type: str
    default: <TASK_DEFINITION>
requirements:
  - botocore
  - PyYAML
attributes:
  check_mode:
    support: full
    description: Runs every check and reports the files that would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the old and new content of each file that changes.
  idempotent:
    support: full
    description: Files with the desired content are left alone.
"""

EXAMPLES = r"""
- name: Write the files CodePipeline reads from the deployment repository
  cloudlab.microservices.deploy_placeholders:
    path: "{{ playbook_dir }}/../deployment"
    services:
      - name: customer
        task_definition: "{{ lookup('ansible.builtin.template', 'taskdef.json.j2') | from_json }}"
        appspec: "{{ lookup('ansible.builtin.template', 'appspec.yaml.j2') }}"
"""

RETURN = r"""
files:
  description: Every file the module manages, in order (task definition, then AppSpec, per service).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Absolute path.
      type: str
      sample: /home/user/deployment/taskdef-customer.json
    name:
      description: File name in the folder.
      type: str
      sample: taskdef-customer.json
    changed:
      description: Whether the file was (or in check mode would be) written.
      type: bool
changed_files:
  description: Names of the files that changed (or would).
  returned: always
  type: list
  elements: str
  sample: [taskdef-customer.json]
"""

import json
import os
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.common.text.converters import to_native

try:
    import yaml
    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

try:
    import botocore  # noqa: F401, pylint: disable=unused-import
    HAS_BOTOCORE = True
    BOTOCORE_IMPORT_ERROR = None
except ImportError:
    HAS_BOTOCORE = False
    BOTOCORE_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import check_pair
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import put_image_placeholder


def _container_of(appspec_text):
    """The ContainerName of an AppSpec, or None when it has none that can be read."""
    try:
        doc = yaml.safe_load(appspec_text)
        for resource in doc["Resources"]:
            for target in resource.values():
                if isinstance(target, dict) and target.get("Type") == "AWS::ECS::Service":
                    return target["Properties"]["LoadBalancerInfo"]["ContainerName"]
    except (yaml.YAMLError, KeyError, TypeError, AttributeError):
        return None
    return None


def render(service, image_placeholder):
    """(taskdef text, appspec text) as they are committed."""
    td = put_image_placeholder(service["task_definition"], _container_of(service["appspec"]), image_placeholder)
    appspec = service["appspec"]
    if not appspec.endswith("\n"):
        appspec += "\n"
    return json.dumps(td, indent=2) + "\n", appspec


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8")
    except (IOError, OSError):
        return None
    except UnicodeDecodeError:
        # Not our content: it is replaced, and the diff shows it was not text.
        return "<not UTF-8>"


def _write(module, path, text):
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(to_bytes(text))
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            services=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                task_definition=dict(type="dict", required=True),
                appspec=dict(type="str", required=True),
            )),
            image_placeholder=dict(type="str", default="<IMAGE1_NAME>"),
            task_definition_placeholder=dict(type="str", default="<TASK_DEFINITION>"),
        ),
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    if not HAS_BOTOCORE:
        module.fail_json(msg=missing_required_lib("botocore"), exception=BOTOCORE_IMPORT_ERROR)

    p = module.params
    folder = p["path"]
    # In check mode the folder may be one the same run would have created.
    if not os.path.isdir(folder) and not module.check_mode:
        module.fail_json(msg="Failed to write the deployment files: folder %s does not exist "
                             "(set taskdef_appspec_dir to an existing folder)" % folder)
    names = [s["name"] for s in p["services"]]
    if len(set(names)) != len(names):
        module.fail_json(msg="Failed to validate services: names must be distinct, got %s" % ", ".join(names))

    planned, errors = [], []
    for service in p["services"]:
        taskdef_name, appspec_name = "taskdef-%s.json" % service["name"], "appspec-%s.yaml" % service["name"]
        taskdef_text, appspec_text = render(service, p["image_placeholder"])
        errors.extend(check_pair(taskdef_name, taskdef_text, appspec_name, appspec_text,
                                 p["image_placeholder"], p["task_definition_placeholder"]))
        planned.extend([(taskdef_name, taskdef_text), (appspec_name, appspec_text)])
    if errors:
        module.fail_json(msg="Failed to validate the deployment files (nothing written): %s" % "; ".join(errors),
                         errors=errors)

    files, diffs = [], []
    for name, text in planned:
        path = os.path.join(folder, name)
        before = _read(path)
        changed = before != text
        files.append(dict(path=path, name=name, changed=changed))
        if changed:
            diffs.append(dict(before_header=path, after_header=path, before=before or "", after=text))
            if not module.check_mode:
                try:
                    _write(module, path, text)
                except (IOError, OSError) as e:
                    module.fail_json(msg="Failed to write %s: %s (check taskdef_appspec_dir)" % (path, to_native(e)))

    result = dict(changed=bool(diffs), files=files, changed_files=[f["name"] for f in files if f["changed"]])
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
