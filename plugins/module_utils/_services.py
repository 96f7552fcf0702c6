# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of a `microservices` entry, in one place.

One list of services drives every role; each role hands its own copy
(`<role>_services`) to ``check_services`` and gets the entries back with
every key filled in, or one ``ServiceError`` whose message is one line:
the variable, the service, the key, the value and what is allowed.

Why a name is this strict: it is at once an ECR repository name, a container
name, part of every name the lab derives from it (module_utils/_lab.py): the deployment files' names, of the task definition family
(`<name>-microservice`), of the target groups (`<name>-tg-one`, at most 32
characters, letters, digits and '-' only), of the ECS service, of the
CodeDeploy deployment group (`microservices-<name>`) and of the pipeline
(`update-<name>-microservice`). The intersection of those rules is: lower
case letters, digits and '-', starting and ending with a letter or digit,
2 to 25 characters.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import ipaddress
import re

from ansible.module_utils.six import integer_types
from ansible.module_utils.six import string_types

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,23}[a-z0-9])$")
NAME_RULE = "lower case letters, digits and '-', starting and ending with a letter or digit, 2 to 25 characters"
FAMILY_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Task sizes Fargate accepts: cpu units -> memory MiB allowed.
FARGATE_SIZES = {
    "256": [512, 1024, 2048],
    "512": list(range(1024, 4096 + 1, 1024)),
    "1024": list(range(2048, 8192 + 1, 1024)),
    "2048": list(range(4096, 16384 + 1, 1024)),
    "4096": list(range(8192, 30720 + 1, 1024)),
    "8192": list(range(16384, 61440 + 1, 4096)),
    "16384": list(range(32768, 122880 + 1, 8192)),
}

# key -> what it is, for messages and docs. Defaults are in DEFAULTS or derived from the name.
KEYS = {
    "name": "service name (ECR repository, container, file names)",
    "port": "container port, 1 to 65535",
    "cpu": "Fargate task CPU units",
    "memory": "Fargate task memory in MiB",
    "family": "task definition family",
    "environment": "extra container environment, a dict of NAME: value",
    "db_host": "APP_DB_HOST of the container",
    "image": "local Docker image pushed as latest",
    "archive": "OCI layout or archive, or docker save tarball, pushed as latest",
    "health_check_path": "health check path of the service's target groups",
    "path_pattern": "load balancer path pattern routed to the service (every service but the first)",
    "source_cidrs": "source addresses (CIDRs) let through the service's path rule on both listeners (Phase 9.1)",
    "desired_count": "number of tasks, converged when set; unset, a new service starts with 1 and keeps any later count",
}
DESIRED_COUNT_MAX = 5000  # ECS's quota of tasks per service

# The argument_spec of one entry, for the modules that take a `services` list (``options=SERVICE_OPTIONS``;
# documented once by the doc fragment cloudlab.microservices.services). Ansible checks the types and refuses a
# key not listed, as check_service does; an absent key is None, which check_service takes as not given. cpu
# and memory are raw: a string or a number, as the `microservices` list has them, without core's warning of a
# number converted to a string.
SERVICE_OPTIONS = dict(
    name=dict(type="str", required=True),
    port=dict(type="int"),
    cpu=dict(type="raw"),
    memory=dict(type="raw"),
    family=dict(type="str"),
    environment=dict(type="dict"),
    db_host=dict(type="str"),
    image=dict(type="str"),
    archive=dict(type="str"),
    health_check_path=dict(type="str"),
    path_pattern=dict(type="str"),
    source_cidrs=dict(type="list", elements="str"),
    desired_count=dict(type="int"),
)

DEFAULTS = {
    "port": 8080,
    "cpu": "512",
    "memory": "1024",
    "health_check_path": "/",
}


class ServiceError(ValueError):
    """A service list the rules refuse; str() is the one-line message."""


def _typename(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, string_types):
        return "str"
    if isinstance(value, integer_types):
        return "int"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def close_match(word, allowed):
    """The allowed word closest to a misspelt one, or None."""
    found = difflib.get_close_matches(str(word), list(allowed), n=1, cutoff=0.6)
    return found[0] if found else None


def _port(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, integer_types):
        port = value
    elif isinstance(value, string_types) and value.strip().isdigit():
        port = int(value.strip())
    else:
        return None
    return port if 1 <= port <= 65535 else None


def _size(value):
    """cpu / memory as the string of an integer, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, integer_types):
        return str(value)
    if isinstance(value, string_types) and value.strip().isdigit():
        return str(int(value.strip()))
    return None


def fargate_size_problem(cpu, memory):
    """Why Fargate refuses this cpu/memory pair, or None."""
    if cpu not in FARGATE_SIZES:
        return "cpu %s is not a Fargate size (%s)" % (cpu, ", ".join(FARGATE_SIZES))
    allowed = FARGATE_SIZES[cpu]
    if memory is None or int(memory) not in allowed:
        step = allowed[1] - allowed[0]
        return "cpu %s with memory %s is a pair Fargate refuses (memory for cpu %s: %d to %d in steps of %d)" % (
            cpu, memory, cpu, allowed[0], allowed[-1], step)
    return None


def _image_ref(ref):
    """A Docker reference with a tag: 'customer' -> 'customer:latest'."""
    last = ref.split("/")[-1]
    return ref if (":" in last or "@" in last) else ref + ":latest"


def source_cidrs_problem(value):
    """(the CIDRs normalised, why they are refused or None). None or [] is no limit."""
    if value is None:
        return [], None
    if not isinstance(value, (list, tuple)):
        return [], "source_cidrs must be a list of CIDRs such as [203.0.113.7/32] (got the %s %r)" % (
            _typename(value), value)
    out, bad = [], []
    for cidr in value:
        try:
            if not isinstance(cidr, string_types) or "/" not in cidr:
                raise ValueError(cidr)
            network = str(ipaddress.ip_network(u"%s" % cidr.strip(), strict=True))
        except ValueError:
            bad.append(cidr)
            continue
        if network not in out:
            out.append(network)
    if bad:
        return out, ("source_cidrs %s: each must be an IPv4 or IPv6 network with its prefix length and no host bits "
                     "set, such as 203.0.113.7/32 or 2001:db8::/64" % ", ".join(repr(b) for b in bad))
    if len(out) > _lab.SOURCE_CIDRS_MAX:
        return out, ("source_cidrs has %d CIDRs: a listener rule holds at most %d condition values and the path "
                     "pattern takes one, so at most %d" % (len(out), _lab.RULE_CONDITION_VALUES_MAX,
                                                           _lab.SOURCE_CIDRS_MAX))
    return out, None


def desired_count_problem(value):
    """(the count or None when unset, why it is refused or None)."""
    if value is None:
        return None, None
    count = None
    if isinstance(value, integer_types) and not isinstance(value, bool):
        count = value
    elif isinstance(value, string_types) and value.strip().isdigit():
        count = int(value.strip())
    if count is None or not 0 <= count <= DESIRED_COUNT_MAX:
        return None, "desired_count %r must be a whole number from 0 to %d" % (value, DESIRED_COUNT_MAX)
    return count, None


def check_service(entry, index, variable, defaults):
    """Fill in one entry; returns (service, problems)."""
    where = "%s[%d]" % (variable, index)
    if not isinstance(entry, dict):
        return None, ["%s must be a dict with a `name` (got the %s %r)" % (where, _typename(entry), entry)]
    # A key whose value is None is not given: a module's suboptions fill every absent key with None.
    entry = dict((k, v) for k, v in entry.items() if v is not None)
    problems = []
    for key in entry:
        if key not in KEYS:
            hint = close_match(key, KEYS)
            problems.append("%s (%s) has the unknown key '%s'%s; allowed keys: %s" % (
                where, "service %s" % entry.get("name", "without a name"), key,
                " (did you mean '%s'?)" % hint if hint else "", ", ".join(KEYS)))
    name = entry.get("name")
    if not isinstance(name, string_types) or not NAME_RE.match(name):
        problems.append("%s has the name %r: a service name must be %s" % (where, name, NAME_RULE))
        return None, problems
    label = "%s (service %s)" % (where, name)
    svc = {"name": name}

    port = entry.get("port", defaults["port"])
    svc["port"] = _port(port)
    if svc["port"] is None:
        problems.append("%s: port %r is not a number from 1 to 65535" % (label, port))

    cpu, memory = _size(entry.get("cpu", defaults["cpu"])), _size(entry.get("memory", defaults["memory"]))
    if cpu is None:
        problems.append("%s: cpu %r is not a Fargate size (%s)" % (label, entry.get("cpu"), ", ".join(FARGATE_SIZES)))
    else:
        why = fargate_size_problem(cpu, memory)
        if why:
            problems.append("%s: %s" % (label, why))
    svc["cpu"], svc["memory"] = cpu, memory

    family = entry.get("family", _lab.family(name))
    if not isinstance(family, string_types) or not FAMILY_RE.match(family):
        problems.append("%s: family %r must be 1 to 255 letters, digits, '-' or '_'" % (label, family))
    svc["family"] = family

    env = entry.get("environment", {})
    if not isinstance(env, dict):
        problems.append("%s: environment must be a dict of NAME: value (got the %s %r)" % (label, _typename(env), env))
        env = {}
    bad = [k for k in env if not isinstance(k, string_types) or not ENV_NAME_RE.match(k)]
    if bad:
        problems.append("%s: environment names %s must be letters, digits and '_', not starting with a digit" % (
            label, ", ".join(repr(b) for b in bad)))
    nested = [k for k, v in env.items() if isinstance(v, (dict, list, tuple)) or v is None]
    if nested:
        problems.append("%s: environment values of %s must be strings, numbers or booleans" % (label, ", ".join(map(str, nested))))
    svc["environment"] = dict(
        (str(k), ("true" if v else "false") if isinstance(v, bool) else str(v)) for k, v in env.items())

    for key in ("db_host", "image", "archive"):
        value = entry.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, string_types):
            problems.append("%s: %s must be a string (got the %s %r)" % (label, key, _typename(value), value))
            value = ""
        svc[key] = value.strip()
    svc["image"] = _image_ref(svc["image"] or name)

    health = entry.get("health_check_path", defaults["health_check_path"])
    if not isinstance(health, string_types) or not _lab.HEALTH_PATH_RE.match(health):
        problems.append("%s: health_check_path %r must start with '/' (at most 1024 printable characters)" % (label, health))
    svc["health_check_path"] = health

    pattern = entry.get("path_pattern", "")
    if pattern is None:
        pattern = ""
    if pattern and (not isinstance(pattern, string_types) or not _lab.PATH_PATTERN_RE.match(pattern)):
        problems.append("%s: path_pattern %r %s" % (label, pattern, _lab.PATH_PATTERN_RULE))
    svc["path_pattern"] = pattern

    svc["source_cidrs"], why = source_cidrs_problem(entry.get("source_cidrs"))
    if why:
        problems.append("%s: %s" % (label, why))
    svc["desired_count"], why = desired_count_problem(entry.get("desired_count"))
    if why:
        problems.append("%s: %s" % (label, why))
    return svc, problems


def check_services(services, variable="microservices", defaults=None):
    """Every entry checked and filled in, or ServiceError naming each problem on one line.

    ``defaults`` overrides DEFAULTS (a role's own `<role>_default_port` and the like).
    """
    merged = dict(DEFAULTS)
    merged.update(dict((k, v) for k, v in (defaults or {}).items() if v is not None))
    if not isinstance(services, (list, tuple)):
        raise ServiceError("Failed to validate %s: it must be a list of services, each a dict with a `name`, such as "
                           "[{name: customer}, {name: employee}] (got the %s %r)" % (variable, _typename(services), services))
    if not services:
        raise ServiceError("Failed to validate %s: it must list at least one service, each a dict with a `name`" % variable)
    out, problems = [], []
    for index, entry in enumerate(services):
        svc, found = check_service(entry, index, variable, merged)
        problems.extend(found)
        if svc is not None:
            out.append(svc)
    for key, what in (("name", "name"), ("family", "task definition family"), ("path_pattern", "path_pattern")):
        seen, dups = set(), []
        for svc in out:
            value = svc[key]
            if value and value in seen and value not in dups:
                dups.append(value)
            seen.add(value)
        if dups:
            problems.append("%s: two services have the same %s %s; each needs its own" % (
                variable, what, ", ".join(repr(d) for d in dups)))
    if problems:
        raise ServiceError("Failed to validate %s: %s" % (variable, "; ".join(problems)))
    return out
