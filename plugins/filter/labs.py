# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many labs from one inventory (module_utils/_labs.py): the hosts every play runs on (lab_hosts), a path of the
controller per lab (lab_path), the labs a run converged and those a failure stopped (labs_recap), the labs of a run
that share an account and region (labs_sharing)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudlab.microservices.plugins.module_utils import _labs


def _call(name, function, *args):
    try:
        return function(*args)
    except _labs.LabsError as e:
        raise AnsibleFilterError("%s: %s" % (name, e))


def lab_hosts(groups):
    return _call("lab_hosts", _labs.play_hosts, groups)


def lab_path(path, host, groups):
    return _call("lab_path", _labs.lab_path, path, host, groups)


def labs_recap(all_hosts, live_hosts):
    return _call("labs_recap", _labs.recap, all_hosts, live_hosts)


def labs_sharing(hosts, hostvars):
    """{host: refusal} of the ``hosts`` whose read (``__lab_read``) found the account and region of another's."""
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("labs_sharing: the input must be a list of host names (ansible_play_hosts), got %r"
                                 % (hosts,))
    places = {}
    for host in hosts:
        try:
            host_vars = hostvars[host]
        except (KeyError, TypeError):
            raise AnsibleFilterError("labs_sharing: give the magic variable hostvars, which knows the host %s" % host)
        places[host] = _labs.place(host_vars.get("__lab_read"), host_vars.get("cloudlab_aws_connection"))
    return _call("labs_sharing", _labs.sharing, places)


class FilterModule(object):
    def filters(self):
        return {"lab_hosts": lab_hosts, "lab_path": lab_path, "labs_recap": labs_recap, "labs_sharing": labs_sharing}
