# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many labs from one inventory: each lab is an inventory host of the group ``cloudlab_labs``.

The rules every playbook follows, once:
  - which hosts a play runs on (``play_hosts``): the group when the inventory has it, else ``localhost``, so an
    inventory of one lab (inventories/local, inventories/aws) runs as before, without a host pattern warning;
  - what is per lab on the controller's disk (``lab_path``): the path as given for a single lab, a path of its
    own per host when the inventory has several labs (``~/deployment-<host>``), so that two labs never share a
    git folder, whichever order or fork runs them;
  - two labs of a run never share an account and region (``sharing``): their names would collide.

No Ansible import. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The inventory group whose hosts are labs, and the host of the single-lab inventories.
LABS_GROUP = "cloudlab_labs"
SINGLE_LAB_HOST = "localhost"

# What a host name keeps in a file name: anything else becomes '-'.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class LabsError(Exception):
    """A bad input of the many-labs rules, in words that name it."""


def _groups(groups):
    if not isinstance(groups, dict):
        raise LabsError("the input must be the inventory's groups (the magic variable groups), got %r" % (groups,))
    return groups


def play_hosts(groups):
    """The host pattern of every playbook: the group of labs when the inventory defines it, else localhost."""
    return LABS_GROUP if LABS_GROUP in _groups(groups) else SINGLE_LAB_HOST


def lab_hosts(groups):
    """The labs of the inventory: the group's hosts, or the single lab's host."""
    groups = _groups(groups)
    if LABS_GROUP in groups:
        return list(groups[LABS_GROUP] or [])
    return [SINGLE_LAB_HOST]


def host_suffix(host):
    """The host's name as a file name part: letters, digits, '.', '_' and '-' kept, the rest '-'."""
    if not isinstance(host, str) or not host.strip():
        raise LabsError("the host must be an inventory host name (inventory_hostname), got %r" % (host,))
    safe = _UNSAFE.sub("-", host.strip()).strip("-.")
    if not safe:
        raise LabsError("the host name %r has nothing a file name can keep (letters, digits, '.', '_', '-')" % host)
    return safe


def lab_path(path, host, groups):
    """A path of the controller that is per lab: ``path`` itself when the inventory holds one lab (whatever the
    host's name), ``<path>-<host>`` when it holds several. The count is the inventory's, not the run's: a run
    limited to one lab (--limit) uses the same folder as a run of all of them."""
    if not isinstance(path, str) or not path.strip():
        raise LabsError("the path must be a folder, such as ~/deployment, got %r" % (path,))
    if len(lab_hosts(groups)) <= 1:
        return path
    stripped = path.rstrip("/") or path
    return "%s-%s" % (stripped, host_suffix(host))


def place(read, connection):
    """Where a lab's resources live: (endpoint, account, region) from its read (lab_info's C(account_id) and
    C(region)) and its connection (C(cloudlab_aws_connection)'s C(endpoint_url), C(AWS) without one); None
    when the read is missing or failed (that lab stops on its own failure)."""
    if not isinstance(read, dict) or read.get("failed") or not read.get("account_id"):
        return None
    endpoint = (connection or {}).get("endpoint_url") if isinstance(connection, dict) else None
    return (endpoint or "AWS", read["account_id"], read.get("region") or "")


def sharing(places):
    """{host: refusal} of the labs of a run that share an account and region with another (``places`` is
    {host: place}, each ``place()``'s). A lab's names are fixed, so two such labs would change each other's
    resources: each is refused, naming the others, before any change."""
    by_place = {}
    for host, where in places.items():
        if where is not None:
            by_place.setdefault(tuple(where), []).append(host)
    out = {}
    for (endpoint, account, region), hosts in by_place.items():
        if len(hosts) < 2:
            continue
        for host in hosts:
            others = ", ".join(h for h in hosts if h != host)
            out[host] = ("The labs %s and %s of this inventory are the same account %s in %s%s: a lab's names are "
                         "fixed, so they would change each other's resources; nothing changed on either. Give "
                         "each lab its own account or region (cloudlab_aws_connection in its host vars), or keep "
                         "one of them in the group cloudlab_labs."
                         % (host, others, account, region, "" if endpoint == "AWS" else " at " + endpoint))
    return out


def recap(all_hosts, live_hosts):
    """{converged: [...], failed: [...]} of a play's labs: those still running at the end of the run and those a
    failure stopped (Ansible keeps a failed host out of the later plays)."""
    for name, value in (("all_hosts", all_hosts), ("live_hosts", live_hosts)):
        if not isinstance(value, (list, tuple)):
            raise LabsError("%s must be a list of host names (ansible_play_hosts_all, ansible_play_hosts), got %r"
                            % (name, value))
    live = set(live_hosts)
    return {"converged": [h for h in all_hosts if h in live], "failed": [h for h in all_hosts if h not in live]}
