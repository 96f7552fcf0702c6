# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the collection's playbooks take from the inventory, and where a user finds an example.

Used by the preflight action (a playbook's inputs that are not set, named before any AWS call) and
by the docsite's playbook pages (docs/docsite.py lists the inputs a playbook reads).

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# name: (required, what it is). Order: as a user writes them in group_vars.
PLAYBOOK_INPUTS = (
    ("cloudlab_aws_connection", True,
     "the region, credentials and endpoint_url of every AWS call; on AWS the region alone does, "
     "the credentials coming from the environment"),
    ("microservices", True,
     "the list of services, one entry each: name, and port, cpu, memory, health_check_path, path_pattern"),
    ("cloudlab_aws_is_local", False,
     "true against a local cloud, where the services the endpoint answers are not asked first; default false"),
    ("cloudlab_lab", False,
     "the lab's name, the cloudlab:lab tag of what the collection makes and its CodeDeploy application; "
     "default microservices"),
)
# The sample inventories the collection ships, relative to its root.
SAMPLE_INVENTORIES = (("inventories/aws", "an AWS Academy lab"), ("inventories/local", "a local cloud on 127.0.0.1"))


def required_inputs():
    return [name for name, required, _what in PLAYBOOK_INPUTS if required]


def describe(name):
    return dict((n, what) for n, _required, what in PLAYBOOK_INPUTS).get(name, "")


def missing_inputs_message(missing, collection_root, playbook="cloudlab.microservices.site"):
    """One line: what is not set, what each is, and the sample inventories to start from."""
    named = "; ".join(("%s (%s)" % (name, describe(name))) if describe(name) else name for name in missing)
    samples = ", ".join("%s/%s (%s)" % (collection_root, path, what) for path, what in SAMPLE_INVENTORIES)
    return ("The playbook's inputs are not set: %s. Nothing was changed. Set them in your inventory's "
            "group_vars; the collection ships sample inventories to copy or use: %s, for instance "
            "ansible-playbook -i %s/%s %s" % (named, samples, collection_root, SAMPLE_INVENTORIES[0][0], playbook))
