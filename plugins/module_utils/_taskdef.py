# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private helpers for ECS task definitions and their CodeDeploy AppSpec files.

Not a public API: used by the ecs_taskdef_sync module, the deployment filters
and the git_deployment_repo module only, and may change at any time.

The lab's files are built here once (``build``): the task definition as it is
committed (image ``<IMAGE1_NAME>``), the AppSpec (``<TASK_DEFINITION>``), and,
from the same dict, the task definition that is registered with the real image
(``with_images``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

# What DescribeTaskDefinition adds to what was registered: never part of the
# content a user asks for, so it never makes two definitions differ.
READ_ONLY_KEYS = frozenset([
    "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
    "registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt",
])

# Lists whose order ECS does not keep or does not care about, with the key
# that identifies an element.
_KEYED_LISTS = {
    "containerDefinitions": "name",
    "environment": "name",
    "secrets": "name",
    "volumes": "name",
    "ulimits": "name",
    "systemControls": "namespace",
    "environmentFiles": "value",
    "inferenceAccelerators": "deviceName",
}
_SET_LISTS = frozenset(["requiresCompatibilities"])


def _drop_empty(value):
    """ECS reports unset lists and maps as empty ones, and unset numbers as 0."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _drop_empty(item)
            if item in (None, [], {}, ""):
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [_drop_empty(item) for item in value]
    return value


def _sort_lists(value, key=None):
    if isinstance(value, dict):
        return dict((k, _sort_lists(v, k)) for k, v in value.items())
    if isinstance(value, list):
        items = [_sort_lists(item) for item in value]
        if key in _KEYED_LISTS:
            ident = _KEYED_LISTS[key]
            return sorted(items, key=lambda item: json.dumps(item.get(ident) if isinstance(item, dict) else item,
                                                             sort_keys=True))
        if key in _SET_LISTS:
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        return items
    return value


def _container_defaults(container, network_mode):
    # ECS answers cpu 0 and essential true for a container that set neither.
    if container.get("cpu") == 0:
        container.pop("cpu")
    container.setdefault("essential", True)
    for mapping in container.get("portMappings", []):
        mapping.setdefault("protocol", "tcp")
        # In awsvpc mode the host port is the container port, given or not.
        if network_mode == "awsvpc" and "containerPort" in mapping:
            mapping.setdefault("hostPort", mapping["containerPort"])
    return container


def normalise(task_definition):
    """The comparable content of a task definition, registered or described.

    Both sides of a comparison go through this: read-only fields dropped,
    empty values dropped, defaults ECS fills in made explicit, task-level cpu
    and memory as strings, and order-free lists (environment, secrets, ...)
    sorted by their key, so that a changed value always shows and a reordered
    list never does.
    """
    td = copy.deepcopy(task_definition or {})
    for key in READ_ONLY_KEYS:
        td.pop(key, None)
    for key in ("cpu", "memory"):
        if key in td and td[key] is not None:
            td[key] = str(td[key])
    network_mode = td.get("networkMode")
    td["containerDefinitions"] = [_container_defaults(dict(c), network_mode)
                                  for c in td.get("containerDefinitions", [])]
    return _sort_lists(_drop_empty(td))


def differs(desired, current):
    """True when `current` (described) is not the content of `desired`."""
    if current is None:
        return True
    return normalise(desired) != normalise(current)


def _repository(image):
    """The repository of ``repo:tag``, ``repo@sha256:...`` or ``repo:tag@sha256:...`` (a registry port is no tag)."""
    name = image.split("@", 1)[0]
    colon = name.rfind(":")
    return name[:colon] if colon > name.rfind("/") else name


def pins(image, released):
    """True when ``released`` is ``image`` (a tag) resolved to a digest of the same repository."""
    if not isinstance(image, str) or not isinstance(released, str):
        return False
    return "@" not in image and "@" in released and _repository(image) == _repository(released)


def is_release_of(desired, current):
    """True when `current` is the content of `desired`, or that content as a release registered it.

    The lab's pipelines register the family again at every release, from the deployment repository's
    task definition (the same content as ours) with ``<IMAGE1_NAME>`` replaced by the image's digest URI
    (``repo@sha256:...``). Such a revision is ours, released: each image of `desired` referenced by a tag
    may stand in `current` as a digest of the same repository; everything else must be equal. An image
    `desired` pins by digest must be that digest.
    """
    if current is None:
        return False
    want, have = normalise(desired), normalise(current)
    if want == have:
        return True
    wanted, found = want.get("containerDefinitions", []), have.get("containerDefinitions", [])
    if len(wanted) != len(found):
        return False
    for mine, theirs in zip(wanted, found):  # both sorted by container name
        if mine.get("name") == theirs.get("name") and pins(mine.get("image"), theirs.get("image")):
            theirs["image"] = mine["image"]
    return want == have


def active(found):
    """The family's latest revision as DescribeTaskDefinition gave it, or None when it is not ACTIVE: some endpoints
    (moto 5) answer with the last revision even when it was deregistered, which must not count as the current one."""
    return found if found and found.get("status", "ACTIVE") == "ACTIVE" else None


def unchanged(desired, registered):
    """ecs_taskdef_sync's entries (family, previous_arn, changed, arn, revision) when every definition of ``desired``
    is its family's latest ACTIVE revision in ``registered`` ({family: task definition as read}) by is_release_of,
    the module's own rule: nothing to register. None as soon as one is not (or was not read)."""
    entries = []
    for td in desired:
        current = active((registered or {}).get(td.get("family")))
        if not is_release_of(td, current):
            return None
        entries.append(dict(family=td["family"], previous_arn=current["taskDefinitionArn"], changed=False,
                            arn=current["taskDefinitionArn"], revision=current.get("revision")))
    return entries


# Placeholders

IMAGE_PLACEHOLDER = "<IMAGE1_NAME>"
TASKDEF_PLACEHOLDER = "<TASK_DEFINITION>"

APPSPEC_TEMPLATE = """version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: %(placeholder)s
        LoadBalancerInfo:
          ContainerName: %(container)s
          ContainerPort: %(port)d
"""


class BuildError(ValueError):
    """Inputs the files cannot be built from; str() is one line naming the variable."""


def _environment(svc, db_host):
    extra = sorted((svc.get("environment") or {}).items())
    return [{"name": "APP_DB_HOST", "value": db_host}] + [
        {"name": str(k), "value": str(v)} for k, v in extra if k != "APP_DB_HOST"]


def committed_taskdef(svc, settings):
    """The lab's taskdef-<name>.json content, image placeholder included, key order as the lab writes it."""
    port = int(svc["port"])
    return {
        "containerDefinitions": [{
            "name": svc["name"],
            "image": IMAGE_PLACEHOLDER,
            "environment": _environment(svc, svc.get("db_host") or settings.get("db_host") or ""),
            "essential": True,
            "portMappings": [{"hostPort": port, "protocol": "tcp", "containerPort": port}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-create-group": "true" if settings.get("log_create_group", True) else "false",
                    "awslogs-group": settings.get("log_group", "awslogs-capstone"),
                    "awslogs-region": settings["region"],
                    "awslogs-stream-prefix": settings.get("log_stream_prefix", "awslogs-capstone"),
                },
            },
        }],
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": str(svc["cpu"]),
        "memory": str(svc["memory"]),
        "executionRoleArn": settings["execution_role_arn"],
        "family": svc.get("family") or _lab.family(svc["name"]),
    }


def render_appspec(svc):
    return APPSPEC_TEMPLATE % dict(placeholder=TASKDEF_PLACEHOLDER, container=json.dumps(svc["name"]),
                                   port=int(svc["port"]))


def build(services, settings):
    """Every service's committed files, checked as CodePipeline will read them.

    ``services``: the service list with every key filled in (preflight's
    output); ``settings``: region, execution_role_arn, db_host, log_group,
    log_stream_prefix, log_create_group. Returns a dict with ``files``
    (file name -> text, in service order), ``task_definitions`` (the
    committed dicts, placeholder image) and ``containers`` (family ->
    container that gets the image). Raises BuildError, one line, when a pair
    fails a check: nothing is written from a failed build.
    """
    files, taskdefs, containers, errors = {}, [], {}, []
    for svc in services:
        td = committed_taskdef(svc, settings)
        td_name, as_name = _lab.taskdef_file(svc["name"]), _lab.appspec_file(svc["name"])
        td_text = json.dumps(td, indent=2) + "\n"
        as_text = render_appspec(svc)
        errors.extend(check_pair(td_name, td_text, as_name, as_text, IMAGE_PLACEHOLDER, TASKDEF_PLACEHOLDER))
        files[td_name], files[as_name] = td_text, as_text
        taskdefs.append(td)
        containers[td["family"]] = svc["name"]
    if errors:
        raise BuildError("Failed to build the deployment files (nothing written): %s" % "; ".join(errors))
    return dict(files=files, task_definitions=taskdefs, containers=containers)


def with_images(taskdefs, containers, image_uris, tag="latest", variable="image_uris"):
    """The task definitions to register: the placeholder replaced by ``<uri>:<tag>``.

    ``image_uris`` maps container (service) name to repository URI. A name
    mapped to '' or None is a repository still to be created (check mode):
    its image stays None, never an invented URI. A name missing from the map
    raises BuildError naming ``variable``.
    """
    missing = [containers[td["family"]] for td in taskdefs if containers[td["family"]] not in (image_uris or {})]
    if missing:
        raise BuildError("Failed to validate %s: no repository URI for %s (wire ecr_repos_uris into %s, "
                         "or run the ecr_repos role first)" % (variable, ", ".join(missing), variable))
    out = []
    for td in taskdefs:
        name = containers[td["family"]]
        uri = image_uris[name]
        out.append(put_image_placeholder(td, name, ("%s:%s" % (uri, tag)) if uri else None))
    return out


def _ecs_input_shape():
    import botocore.session
    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def validate_register_input(task_definition):
    """Errors botocore would raise before sending RegisterTaskDefinition, one per line."""
    from botocore.validate import ParamValidator
    report = ParamValidator().validate(task_definition, _ecs_input_shape())
    if not report.has_errors():
        return []
    return [line.strip() for line in report.generate_report().splitlines() if line.strip()]


def put_image_placeholder(task_definition, container_name, placeholder):
    """A copy whose container `container_name` has `placeholder` as image."""
    td = copy.deepcopy(task_definition)
    for container in td.get("containerDefinitions", []):
        if isinstance(container, dict) and container.get("name") == container_name:
            container["image"] = placeholder
    return td


def _appspec_target(appspec):
    """(properties, error) for the ECS service target of a parsed AppSpec."""
    if not isinstance(appspec, dict):
        return None, "the document is not a mapping"
    resources = appspec.get("Resources")
    if not isinstance(resources, list) or not resources:
        return None, "Resources: must be a non-empty list"
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict):
            return None, "Resources[%d]: must be a mapping" % index
        for name, target in resource.items():
            if isinstance(target, dict) and target.get("Type") == "AWS::ECS::Service":
                props = target.get("Properties")
                if not isinstance(props, dict):
                    return None, "Resources[%d].%s.Properties: must be a mapping" % (index, name)
                return props, None
    return None, "Resources: no resource of Type AWS::ECS::Service"


def check_pair(taskdef_file, taskdef_text, appspec_file, appspec_text,
               image_placeholder="<IMAGE1_NAME>", taskdef_placeholder="<TASK_DEFINITION>"):
    """Errors of one task definition / AppSpec pair as committed, each naming file and field."""
    import yaml

    errors = []
    try:
        td = json.loads(taskdef_text)
    except ValueError as e:
        return ["%s: not JSON: %s" % (taskdef_file, e)]
    if not isinstance(td, dict):
        return ["%s: the document must be a JSON object" % taskdef_file]

    for line in validate_register_input(td):
        errors.append("%s: not valid RegisterTaskDefinition input: %s" % (taskdef_file, line))

    count = taskdef_text.count(image_placeholder)
    if count != 1:
        errors.append("%s: containerDefinitions[].image: the placeholder %s must appear exactly once, found %d"
                      % (taskdef_file, image_placeholder, count))

    try:
        appspec = yaml.safe_load(appspec_text)
    except yaml.YAMLError as e:
        errors.append("%s: not YAML: %s" % (appspec_file, str(e).replace("\n", " ")))
        return errors
    props, problem = _appspec_target(appspec)
    if problem:
        errors.append("%s: %s" % (appspec_file, problem))
        return errors
    if props.get("TaskDefinition") != taskdef_placeholder:
        errors.append("%s: Properties.TaskDefinition must be %s, found %r"
                      % (appspec_file, taskdef_placeholder, props.get("TaskDefinition")))
    lb = props.get("LoadBalancerInfo")
    if not isinstance(lb, dict):
        errors.append("%s: Properties.LoadBalancerInfo: must be a mapping" % appspec_file)
        return errors
    containers = [c for c in td.get("containerDefinitions") or [] if isinstance(c, dict)]
    by_name = dict((c.get("name"), c) for c in containers)
    name = lb.get("ContainerName")
    if name not in by_name:
        errors.append("%s: Properties.LoadBalancerInfo.ContainerName %r is not a container of %s (containers: %s)"
                      % (appspec_file, name, taskdef_file, ", ".join(sorted(str(n) for n in by_name)) or "none"))
        return errors
    port = lb.get("ContainerPort")
    ports = [m.get("containerPort") for m in by_name[name].get("portMappings") or [] if isinstance(m, dict)]
    if not isinstance(port, int) or isinstance(port, bool) or port not in ports:
        errors.append("%s: Properties.LoadBalancerInfo.ContainerPort %r is not among the port mappings of "
                      "container %r in %s (containerPort: %s)"
                      % (appspec_file, port, name, taskdef_file, ", ".join(str(p) for p in ports) or "none"))
    return errors


# What a change to a committed file means for the service list

_ENTRY_SIZES = ("cpu", "memory")
_FILE_RE = re.compile(r"^(?P<kind>taskdef|appspec)-(?P<service>.+)\.(?:json|yaml)$")


def _shown(value):
    return "absent" if value is _ABSENT else json.dumps(value, sort_keys=True)


class _Absent(object):
    pass


_ABSENT = _Absent()


def _differing(current, desired, path=""):
    """(path, current, desired) of every leaf that differs; dicts and lists of equal length are walked."""
    if isinstance(current, dict) and isinstance(desired, dict):
        out = []
        for key in sorted(set(current) | set(desired), key=str):
            out.extend(_differing(current.get(key, _ABSENT), desired.get(key, _ABSENT),
                                  "%s.%s" % (path, key) if path else str(key)))
        return out
    if isinstance(current, list) and isinstance(desired, list) and len(current) == len(desired):
        out = []
        for index, (cur, des) in enumerate(zip(current, desired)):
            out.extend(_differing(cur, des, "%s[%d]" % (path, index)))
        return out
    return [] if current == desired else [(path, current, desired)]


def _env_map(value):
    if not isinstance(value, list) or not all(isinstance(e, dict) and set(e) == {"name", "value"} for e in value):
        return None
    return dict((e["name"], e["value"]) for e in value)


def _single_port(value):
    """The port of a lab-shaped portMappings (one mapping, host port = container port, tcp), or None."""
    if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)):
        return None
    mapping = value[0]
    port = mapping.get("containerPort")
    if (not isinstance(port, int) or isinstance(port, bool) or mapping.get("hostPort", port) != port
            or mapping.get("protocol", "tcp") != "tcp" or set(mapping) - {"containerPort", "hostPort", "protocol"}):
        return None
    return port


def _explain_taskdef(current, desired, out):
    cur_c, des_c = current.get("containerDefinitions"), desired.get("containerDefinitions")
    env_paths, ports_done = (), False
    if (isinstance(cur_c, list) and isinstance(des_c, list) and len(cur_c) == len(des_c) == 1
            and isinstance(cur_c[0], dict) and isinstance(des_c[0], dict)):
        cur_env, des_env = _env_map(cur_c[0].get("environment", [])), _env_map(des_c[0].get("environment", []))
        if cur_env is not None and des_env is not None:
            env_paths = ("containerDefinitions[0].environment",)
            _explain_environment(cur_env, des_env, out)
    for path, cur, des in _differing(current, desired):
        if any(path == p or path.startswith(p + "[") for p in env_paths):
            continue
        if path.startswith("containerDefinitions[0].portMappings"):
            if ports_done:
                continue
            ports_done = True
            port = _single_port(current.get("containerDefinitions")[0].get("portMappings"))
            whole = "containerDefinitions[0].portMappings"
            out["differences"].append("%s is %s on the branch, %s from the inventory" % (
                whole, _shown(current["containerDefinitions"][0].get("portMappings", _ABSENT)),
                _shown(desired["containerDefinitions"][0].get("portMappings", _ABSENT))))
            if port is None:
                out["unexplained"].append(whole)
            else:
                out["settings"].append("port: %d" % port)
            continue
        out["differences"].append("%s is %s on the branch, %s from the inventory" % (path, _shown(cur), _shown(des)))
        if path in _ENTRY_SIZES and isinstance(cur, (str, int)) and not isinstance(cur, bool):
            out["settings"].append('%s: "%s"' % (path, cur))
        elif path == "family" and isinstance(cur, str) and cur:
            out["settings"].append("family: %s" % json.dumps(cur))
        else:
            out["unexplained"].append(path)


def _explain_environment(current, desired, out):
    names = sorted(n for n in set(current) | set(desired) if current.get(n, _ABSENT) != desired.get(n, _ABSENT))
    extras = False
    for name in names:
        out["differences"].append("environment %s is %s on the branch, %s from the inventory" % (
            name, _shown(current.get(name, _ABSENT)), _shown(desired.get(name, _ABSENT))))
        if name == "APP_DB_HOST":
            if name in current and isinstance(current[name], str) and current[name]:
                out["settings"].append("db_host: %s" % json.dumps(current[name]))
            else:
                out["unexplained"].append("environment APP_DB_HOST absent")
        else:
            extras = True
    if extras:
        rest = dict((k, v) for k, v in current.items() if k != "APP_DB_HOST")
        out["settings"].append("environment: %s" % (json.dumps(rest, sort_keys=True) if rest else "{}"))


def _explain_appspec(current, desired, out):
    for path, cur, des in _differing(current, desired):
        out["differences"].append("%s is %s on the branch, %s from the inventory" % (path, _shown(cur), _shown(des)))
        if path.endswith("Properties.LoadBalancerInfo.ContainerPort") and isinstance(cur, int) and not isinstance(
                cur, bool):
            out["settings"].append("port: %d" % cur)
        else:
            out["unexplained"].append(path)


def explain_change(file_name, current, desired):
    """How the content of a lab file on the branch differs from the one built, in service entry terms.

    ``current``: the file's text on the branch (None when absent there);
    ``desired``: the text built from the service list. Returns None for a
    file that is not a service's task definition or AppSpec, else a dict:
    ``service`` (name from the file name), ``differences`` (one phrase per
    difference, field by field), ``settings`` (the keys of the service's
    entry, as ``key: value``, that would build ``current``) and
    ``unexplained`` (what no key of the entry builds).
    """
    import yaml

    match = _FILE_RE.match(file_name)
    if not match:
        return None
    out = dict(service=match.group("service"), differences=[], settings=[], unexplained=[])
    if current is None:
        out["differences"].append("the file is absent on the branch")
        out["unexplained"].append("a missing %s (removing service %s from the list leaves the file alone)"
                                  % (file_name, out["service"]))
        return out
    try:
        if match.group("kind") == "taskdef":
            cur, des = json.loads(current), json.loads(desired)
        else:
            cur, des = yaml.safe_load(current), yaml.safe_load(desired)
    except (ValueError, yaml.YAMLError):
        cur, des = None, None
    if not isinstance(cur, dict) or not isinstance(des, dict):
        out["differences"].append("the file on the branch is not a %s document" % (
            "JSON" if match.group("kind") == "taskdef" else "YAML"))
        out["unexplained"].append("the whole file")
        return out
    if cur == des:
        out["differences"].append("only the layout differs (the same content)")
        out["unexplained"].append("the layout")
        return out
    if match.group("kind") == "taskdef":
        _explain_taskdef(cur, des, out)
    else:
        _explain_appspec(cur, des, out)
    return out
