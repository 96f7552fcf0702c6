# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of the lab's Fargate cluster and its CloudFormation stack, once.

Pure functions (no AWS call), used by the module ``fargate_cluster_plan`` and
by the role's input check (``_checks/fargate_cluster.py``):

- the stack's name for a cluster name (the ECS console's ``Infra-ECS-Cluster-``);
- the lab's ``-c`` rule: which name to use, given the clusters' status and
  the clusters the role's stacks own;
- what the stack needs (nothing, create, update, delete and create again),
  from comparing the deployed template, parameters and tags with the desired;
- a failed stack's events, as lines a person reads.

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core always ships PyYAML
    yaml = None

# A cluster holds its name while ACTIVE, or PROVISIONING on its way to ACTIVE.
# INACTIVE (deleted, still listed for a while), DEPROVISIONING and FAILED do not.
HOLDING_STATUSES = ("ACTIVE", "PROVISIONING")
# Stack statuses in which the deployed template and parameters are what runs.
SETTLED_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
                    "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE")
# A create that failed leaves a stack that can only be deleted (then created again).
# A stack in one of these has nothing to explain: fargate_cluster_plan reads its events otherwise.
CLEAN_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
DEAD_STATUSES = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED")

CLUSTER_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
STACK_NAME_RE = re.compile(r"^[A-Za-z][-A-Za-z0-9]{0,127}$")
NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,1023}$")
CLUSTER_NAME_MAX = 255
STACK_NAME_MAX = 128


def requested_name_problem(requested, stack_name=""):
    """'' when ``requested`` is a usable cluster name, else why not (for fargate_cluster_requested_name)."""
    longest = len(requested) + len(_lab.FALLBACK_SUFFIX)
    limit = CLUSTER_NAME_MAX if stack_name else STACK_NAME_MAX - len(_lab.STACK_PREFIX)
    if not CLUSTER_NAME_RE.match(requested or "") or longest > limit:
        return ("fargate_cluster_requested_name is %r: use letters, digits, '-' and '_', at most %d characters "
                "(so that \"<name>-c\"%s fits)" % (requested, limit - len(_lab.FALLBACK_SUFFIX),
                                                   "" if stack_name else " and its stack's name"))
    return ""


def cluster_short_name(physical_id):
    """A cluster's name from its name or ARN (CloudFormation's physical id is either)."""
    return (physical_id or "").rsplit("/", 1)[-1]


def choose_name(requested, stack_name, clusters, stacks):
    """Apply the lab's ``-c`` rule.

    ``clusters``: {cluster name: status} of the candidates ECS knows (absent: unknown to ECS).
    ``stacks``: {stack name: {"status": ..., "clusters": [cluster names the stack owns]}} of the
    role's stacks that exist (not DELETE_COMPLETE).

    A name is taken only by a cluster in HOLDING_STATUSES that the role's stack for that name
    does not own. Returns ``(name, note)``: ``note`` says why the name is not the requested one
    (a warning for the user) or ''. Returns ``(None, why)`` when every candidate is taken.
    """
    def owner(name):
        stack = stacks.get(_lab.stack(name, stack_name))
        return stack if stack and name in stack.get("clusters", ()) else None

    def taken(name):
        return clusters.get(name) in HOLDING_STATUSES and owner(name) is None

    first, fallback = _lab.clusters(requested)
    if not taken(first):
        # Stay on the fallback this role already made, rather than leave its cluster (and what
        # later phases put in it) behind for a second cluster.
        if owner(first) is None and owner(fallback) is not None and clusters.get(fallback) in HOLDING_STATUSES:
            return fallback, ("cluster name %s is free again, but stack %s already holds this role's cluster %s: "
                              "keeping %s (later phases read fargate_cluster_name). To get %s back, run "
                              "playbooks/phase5_destroy.yml, then Phase 5 again."
                              % (first, _lab.stack(fallback, stack_name), fallback, fallback, first))
        return first, ""
    holder = "a cluster that stack %s does not own" % _lab.stack(first, stack_name)
    if not taken(fallback):
        return fallback, ("cluster name %s is held by %s (status %s): using %s instead, as the lab says; "
                          "later phases read fargate_cluster_name. Delete that cluster or set "
                          "fargate_cluster_requested_name to keep a name of your own."
                          % (first, holder, clusters[first], fallback))
    return None, ("Failed to choose a cluster name: %s and %s are both held by %s clusters that this role's "
                  "stacks do not own; set fargate_cluster_requested_name to a free name, or delete those clusters"
                  % (first, fallback, "/".join(sorted(set(HOLDING_STATUSES) & {clusters[first], clusters[fallback]}))))


def desired_parameters(cluster_name, vpc_id, subnet_ids, security_group_ids, container_insights,
                       service_connect, service_connect_namespace):
    """The stack's parameters as amazon.aws.cloudformation takes them (lists comma-joined)."""
    return {
        "ECSClusterName": cluster_name,
        "VpcId": vpc_id,
        "SubnetIds": ",".join(subnet_ids),
        "SecurityGroupIds": ",".join(security_group_ids),
        "ContainerInsights": container_insights,
        "ServiceConnectNamespace": (service_connect_namespace or cluster_name) if service_connect else "",
    }


def parse_template(body):
    """A template (dict, JSON or YAML text) as data; the text itself when it does not parse
    (short-form tags such as !Ref need CloudFormation's own loader)."""
    if isinstance(body, dict):
        return json.loads(json.dumps(body))
    try:
        return json.loads(body)
    except ValueError:
        pass
    if yaml is not None:
        try:
            data = yaml.safe_load(body)
            if isinstance(data, dict):
                return data
        except yaml.YAMLError:
            pass
    return body


def _list_types(template):
    params = template.get("Parameters", {}) if isinstance(template, dict) else {}
    return set(name for name, spec in params.items()
               if isinstance(spec, dict) and (str(spec.get("Type", "")).startswith("List<")
                                              or spec.get("Type") == "CommaDelimitedList"))


_ID_RE = re.compile(r"[^\[\]',\s\"]+")


def normalise_parameters(params, template):
    """Parameters as comparable values: list parameters as lists (AWS echoes "a,b", moto "['a', 'b']")."""
    lists = _list_types(template)
    out = {}
    for key, value in params.items():
        value = "" if value is None else value
        if key in lists:
            out[key] = _ID_RE.findall(value) if isinstance(value, str) else [str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def _show(value):
    return json.dumps(value, sort_keys=True)


def differences(current, desired):
    """One line per difference between the deployed and the desired stack.

    Both: {"template": data or text, "parameters": {...}, "tags": {...}}, normalised.
    """
    lines = []
    for key in sorted(set(current["parameters"]) | set(desired["parameters"])):
        before, after = current["parameters"].get(key), desired["parameters"].get(key)
        if before != after:
            lines.append("parameter %s: %s -> %s" % (key, _show(before), _show(after)))
    if current["tags"] != desired["tags"]:
        lines.append("tags: %s -> %s" % (_show(current["tags"]), _show(desired["tags"])))
    if current["template"] != desired["template"]:
        if isinstance(current["template"], dict) and isinstance(desired["template"], dict):
            keys = set(current["template"]) | set(desired["template"])
            changed = sorted(k for k in keys if current["template"].get(k) != desired["template"].get(k))
            lines.append("template: %s differ" % ", ".join(changed))
        else:
            lines.append("template: the text differs")
    return lines


def plan_stack(status, current, desired):
    """What the stack needs: (action, reason, differences).

    ``status``: the stack's status ('' when it does not exist); ``current``/``desired`` as in
    ``differences`` (``current`` is ignored when the stack does not exist).
    Actions: ``none``, ``create``, ``update``, ``recreate`` (a failed create: delete, create
    again), ``wait`` (an operation in progress or a failed delete: nothing can be done now).
    """
    if not status:
        return "create", "stack does not exist", []
    if status in DEAD_STATUSES:
        return "recreate", "stack is %s after a failed create: delete it and create it again" % status, []
    if status not in SETTLED_STATUSES:
        return "wait", "stack is %s" % status, []
    diffs = differences(current, desired)
    if not diffs:
        return "none", "stack is %s and matches the template, parameters and tags" % status, []
    return "update", "stack is %s and differs: %s" % (status, "; ".join(diffs)), diffs


def compare_stack(name, stack, read_template, settings):
    """The stack of cluster ``name`` (DescribeStacks' answer, {} when it does not exist) against the role's
    ``settings`` (template_body, vpc_id, subnet_ids, security_group_ids, container_insights, service_connect,
    service_connect_namespace, tags: fargate_cluster_plan's options), as that module and lab_info's plan compare
    them. ``read_template()`` gives the deployed template's text; it is called only for a settled stack.
    Returns dict(status, parameters, tags, desired, current, action, reason, differences)."""
    p = settings
    status = stack.get("StackStatus", "")
    desired_template = parse_template(p["template_body"])
    parameters = desired_parameters(name, p["vpc_id"], p["subnet_ids"], p["security_group_ids"],
                                    p["container_insights"], p["service_connect"], p["service_connect_namespace"])
    tags = dict((str(k), str(v)) for k, v in p["tags"].items())
    desired = {"template": desired_template, "parameters": normalise_parameters(parameters, desired_template),
               "tags": tags}
    current = None
    if status in SETTLED_STATUSES:
        current_params = dict((x["ParameterKey"], x.get("ParameterValue", "")) for x in stack.get("Parameters", []))
        current = {"template": parse_template(read_template()),
                   "parameters": normalise_parameters(current_params, desired_template),
                   "tags": dict((t["Key"], t["Value"]) for t in stack.get("Tags", []))}
    action, reason, diffs = plan_stack(status, current, desired)
    return dict(status=status, parameters=parameters, tags=tags, desired=desired, current=current, action=action,
                reason=reason, differences=diffs)


def format_events(events, limit=8):
    """(failed, latest): the failed events (oldest cause first) and the latest events, as lines."""
    def line(event):
        reason = event.get("ResourceStatusReason") or ""
        return "%s %s %s%s" % (event.get("ResourceType", ""), event.get("LogicalResourceId", ""),
                               event.get("ResourceStatus", ""), (": " + reason) if reason else "")

    failed = []
    for event in reversed(events):
        text = line(event)
        if str(event.get("ResourceStatus", "")).endswith("FAILED") and text not in failed:
            failed.append(text)
    return failed, [line(e) for e in events[:limit]]
