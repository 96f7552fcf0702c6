#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: git_deployment_repo
short_description: Keep files committed on a branch of a local git repository and pushed, never force-pushing
version_added: 1.0.0
description:
  - Makes a local folder a git repository on O(branch) whose last commit holds O(files), and pushes that branch
    to O(remote_url). This is the lab's C(deployment) folder (tasks 5.3 and 5.6); clone (or init), branch,
    write, commit, push.
  - Creates the folder when missing, by cloning O(remote_url) when it already has the branch, else with
    C(git init). A folder that is a repository keeps its history.
  - When the remote's branch has commits the local one lacks, and the local one has none the remote lacks, the
    local branch is fast-forwarded first. When both have their own commits (diverged), nothing is changed and
    the module fails, saying how to bring them together. Nothing is ever force-pushed.
  - Someone's work is never lost silently. Before anything changes, the module refuses a folder on another
    branch or a detached HEAD, a merge or rebase in progress, uncommitted changes or untracked files that are
    not among O(files), and uncommitted changes to O(files) whose content is neither the committed nor the
    desired one (unless O(overwrite_local_changes)); each message names the files and the ways on.
  - It pushes only its own commits. Its commits carry the trailer C(Managed-By) with value C(cloudlab.microservices)
    (those of release 1.0.0, the author C(cloudlab.microservices <cloudlab.microservices@localhost>)) and touch no file
    but O(files); every other commit is the user's. Before anything changes, the module refuses local commits
    of the user's that the remote's branch lacks (unless O(include_local_commits)), naming them; a file of
    O(files) whose content on the branch a user's commit made and that differs from the desired one (unless
    O(overwrite_commits)), showing the difference field by field and, for a service's C(taskdef-<name>.json)
    or C(appspec-<name>.yaml), the keys of the service's entry that would give it; and a folder whose
    C(origin) is another repository than O(remote_url), which is never re-pointed.
  - A file is written only when its content differs; a commit is made only when a file's committed content
    differs; the branch is pushed only when the remote lacks its commits.
  - An HTTP(S) remote gets O(credential_helper) for its URL only (the AWS CLI's CodeCommit helper by
    default, which signs with the environment's credentials, session token included), in the repository's
    own configuration, with C(UseHttpPath). A remote that asks for a password fails instead of waiting.
  - The AWS options O(profile), O(access_key), O(secret_key), O(session_token) and O(region), when given (the
    play's C(module_defaults) of the action group give the lab's C(cloudlab_aws_connection)), reach git and its
    credential helper as their environment (C(AWS_PROFILE), C(AWS_ACCESS_KEY_ID), ...), so that each lab of an
    inventory pushes with its own account's credentials; unset, the helper signs with the environment's.
  - Written because ansible.builtin.git clones and pulls but neither commits nor pushes, and
    forces the checkout over local changes with C(force=true) or refuses without saying which files.
    It talks to no AWS API (the credential helper does); git runs as a subprocess.
author:
  - cloudlab.microservices maintainers (@cloudlab)
options:
  path:
    description: Local folder of the repository.
    type: path
    required: true
  branch:
    description: Branch the files are committed on and pushed to.
    type: str
    default: dev
  files:
    description:
      - File name (in the folder's top level) to its full text (UTF-8).
      - Only these files are written and committed.
      - A null text removes the file and commits its removal (the same rules apply as to a change); a file
        already gone is left alone.
    type: dict
    required: true
  remote_url:
    description:
      - Git remote the branch is pushed to; it becomes the C(origin) of the repository.
      - Empty keeps the commits local.
    type: str
    default: ""
  credential_helper:
    description: Git credential helper set for an HTTP(S) O(remote_url) only; empty sets none.
    type: str
    default: "!aws codecommit credential-helper $@"
  compare_with_origin:
    description:
      - When O(remote_url) is empty, compare the branch with the one of the folder's C(origin), if it has one.
      - For a check, in check mode, made before the remote's URL is known (the CodeCommit repository is made
        later in the same play); a remote that cannot be read is then a warning, not a failure.
    type: bool
    default: false
  overwrite_local_changes:
    description: Overwrite uncommitted changes to O(files) instead of refusing them (the module warns).
    type: bool
    default: false
  include_local_commits:
    description:
      - Push the user's local commits that the remote's branch lacks along with this module's own (it warns,
        naming them), instead of refusing them.
      - A file of O(files) such a commit changed is still subject to O(overwrite_commits).
    type: bool
    default: false
    version_added: 1.1.0
  overwrite_commits:
    description:
      - Replace, with a new commit on top, the content of O(files) that a commit not this module's made on the
        branch, instead of refusing (it warns, naming the commit and the difference). History is kept; nothing
        is force-pushed.
    type: bool
    default: false
    version_added: 1.1.0
  commit_message:
    description:
      - Message of the commits; the module adds the trailer C(Managed-By) with value C(cloudlab.microservices) as
        its last paragraph.
    type: str
    default: Update task definitions and AppSpec files
  author_name:
    description: Author name of the commits.
    type: str
    default: cloudlab.microservices
  author_email:
    description: Author e-mail of the commits.
    type: str
    default: cloudlab.microservices@localhost
  committer_name:
    description: Committer name; empty means the author's.
    type: str
    default: ""
  committer_email:
    description: Committer e-mail; empty means the author's.
    type: str
    default: ""
  variable_names:
    description:
      - Option name to the name of the variable a user sets for it (a role's own, such as C(taskdef_appspec_dir)
        for O(path)), so that messages name what the user can fix.
    type: dict
    default: {}
requirements:
  - git 2.29 or later on the host
extends_documentation_fragment:
  - cloudlab.microservices.attributes
  - cloudlab.microservices.attributes.actiongroup_aws
  - amazon.aws.common.modules
  - amazon.aws.region.modules
attributes:
  check_mode:
    support: full
    details:
      - Runs every check, refusals included, and predicts the clone or init, the fast-forward, the files written, the commit and the
        push. To tell whether the local branch is behind or diverged, the remote's commits are fetched into the
        object store; no branch, tag or C(FETCH_HEAD) moves, and no file is written.
  diff_mode:
    support: full
    details: Shows each file that changes, before and after.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Commit the deployment files on dev and push them to CodeCommit
  cloudlab.microservices.git_deployment_repo:
    path: ~/deployment
    branch: dev
    remote_url: https://git-codecommit.us-east-1.amazonaws.com/v1/repos/deployment
    files:
      appspec-customer.yaml: "{{ lookup('ansible.builtin.file', 'appspec-customer.yaml') }}"
  register: deployment

- name: Refuse a folder that cannot take the files, before anything else changes
  cloudlab.microservices.git_deployment_repo:
    path: ~/deployment
    files: "{{ deployment_files }}"
    compare_with_origin: true
  check_mode: true
  changed_when: false
"""

RETURN = r"""
commit:
  description: Commit of the branch after the run; in check mode, before it (empty when there is none yet).
  returned: always
  type: str
  sample: 3f1c2a9d0b7e4c5f6a8b9c0d1e2f3a4b5c6d7e8f
remote_commit:
  description: Commit of the remote's branch before the run (empty when it has none or there is no remote).
  returned: always
  type: str
relation:
  description: The local branch against the remote's before the run.
  returned: always
  type: str
  sample: same
  choices: [none, same, behind, ahead, diverged]
files:
  description: Every file of O(files), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: File name.
      type: str
    path:
      description: Absolute path.
      type: str
    changed:
      description: Whether the file on disk was (would be) written.
      type: bool
    commit:
      description: Whether its committed content changed (would change).
      type: bool
    remove:
      description: Whether the file is to be removed (its text in O(files) is null).
      type: bool
      version_added: 1.1.0
changed_files:
  description: Names of the files whose committed content changed (or would).
  returned: always
  type: list
  elements: str
  sample: [taskdef-customer.json]
committed:
  description: Whether a commit was (would be) made.
  returned: always
  type: bool
pushed:
  description: Whether the branch was (would be) pushed.
  returned: always
  type: bool
fast_forwarded:
  description: Whether the local branch was (would be) fast-forwarded to the remote's.
  returned: always
  type: bool
overwritten:
  description: Files with uncommitted changes that were (would be) overwritten (O(overwrite_local_changes)).
  returned: always
  type: list
  elements: str
path:
  description: The folder, as given (user's home expanded).
  returned: always
  type: str
is_repo:
  description: Whether the folder was a git repository before the run.
  returned: always
  type: bool
compared_with:
  description: URL of the remote the branch was compared with (O(remote_url), or the origin with O(compare_with_origin)).
  returned: always
  type: str
local_commits:
  description:
    - The user's local commits (not this module's) that the remote's branch lacks, newest first; pushed (or
      would be) only with O(include_local_commits).
  returned: always
  type: list
  elements: dict
  version_added: 1.1.0
  contains:
    sha:
      description: Commit id.
      type: str
    author:
      description: Author name.
      type: str
    email:
      description: Author e-mail.
      type: str
    subject:
      description: First line of the message.
      type: str
    files:
      description: Files the commit changed.
      type: list
      elements: str
user_changes:
  description:
    - Files of O(files) whose content on the branch a commit not this module's made and that differ from the
      desired content; replaced (or would be) only with O(overwrite_commits).
  returned: always
  type: list
  elements: dict
  version_added: 1.1.0
  contains:
    name:
      description: File name.
      type: str
    commit:
      description: The commit that last changed the file.
      type: str
    author:
      description: Its author name.
      type: str
    email:
      description: Its author e-mail.
      type: str
    subject:
      description: First line of its message.
      type: str
    service:
      description: Service of a C(taskdef-<name>.json) or C(appspec-<name>.yaml); null for another file.
      type: str
    differences:
      description: Each difference, the branch's value then the desired one.
      type: list
      elements: str
    settings:
      description: Keys of the service's entry, each as the YAML line C(key) colon value, that would give the branch's content.
      type: list
      elements: str
    unexplained:
      description: What no key of the service's entry gives.
      type: list
      elements: str
actions:
  description: What was done (or would be), in order, in words.
  returned: always
  type: list
  elements: str
  sample: ["created the repository on dev", "wrote taskdef-customer.json", "committed", "pushed dev"]
"""

import os

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.cloudlab.microservices.plugins.module_utils._aws import warn
from ansible_collections.cloudlab.microservices.plugins.module_utils._deployment_repo import DeploymentRepo
from ansible_collections.cloudlab.microservices.plugins.module_utils._deployment_repo import RepoError
from ansible_collections.cloudlab.microservices.plugins.module_utils._deployment_repo import redact
from ansible_collections.cloudlab.microservices.plugins.module_utils._taskdef import explain_change

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    branch=dict(type="str", default="dev"),
    files=dict(type="dict", required=True),
    remote_url=dict(type="str", default=""),
    credential_helper=dict(type="str", default="!aws codecommit credential-helper $@"),
    compare_with_origin=dict(type="bool", default=False),
    overwrite_local_changes=dict(type="bool", default=False),
    include_local_commits=dict(type="bool", default=False),
    overwrite_commits=dict(type="bool", default=False),
    commit_message=dict(type="str", default="Update task definitions and AppSpec files"),
    author_name=dict(type="str", default="cloudlab.microservices"),
    author_email=dict(type="str", default="cloudlab.microservices@localhost"),
    committer_name=dict(type="str", default=""),
    committer_email=dict(type="str", default=""),
    variable_names=dict(type="dict", default={}),
)


def _validate(p, var):
    names = list(p["files"])
    if not names:
        raise RepoError("Failed to validate %s: no file to commit" % var("files"))
    bad = [n for n in names if not n or "/" in n or "\\" in n or n.startswith(".") or n in (".", "..")]
    if bad:
        raise RepoError("Failed to validate %s: %s must be plain file names of the folder's top level, not "
                        "hidden" % (var("files"), ", ".join(repr(b) for b in bad)))
    if not isinstance(p["branch"], str) or not p["branch"] or p["branch"].startswith("-"):
        raise RepoError("Failed to validate %s: %r is not a branch name" % (var("branch"), p["branch"]))


def predicted_actions(plan, settings):
    done = []
    if plan["create"] == "clone":
        done.append("clone %s" % redact(plan["remote_url"]))
    elif plan["create"] == "init":
        done.append("create the repository on its branch")
    if settings:
        done.append("set %s" % ", ".join(settings))
    if plan["fast_forward"]:
        done.append("fast-forward to %s" % plan["remote_head"][:12])
    written = [f["name"] for f in plan["files"] if f["changed"] and not f["remove"]]
    if written:
        done.append("write %s" % ", ".join(written))
    removed = [f["name"] for f in plan["files"] if f["changed"] and f["remove"]]
    if removed:
        done.append("remove %s" % ", ".join(removed))
    if plan["commit"]:
        done.append("commit")
    if plan["push"]:
        done.append("push")
    return done


def ensure(module, repo):
    p = module.params
    _validate(p, repo.var)
    plan = repo.inspect()
    settings = repo.settings_to_write(plan)
    result = dict(path=p["path"], branch=repo.branch, is_repo=plan["is_repo"], compared_with=plan["compared_with"], remote_commit=plan["remote_head"] or "",
                  relation=plan["relation"] if plan["relation"] != "unknown" else "none",
                  files=plan["files"], changed_files=[f["name"] for f in plan["files"] if f["commit"]],
                  overwritten=plan["overwritten"], fast_forwarded=plan["fast_forward"],
                  local_commits=plan["local_commits"], user_changes=plan["user_changes"])
    if module.check_mode:
        actions = predicted_actions(plan, settings)
        result.update(commit=plan["head"], committed=plan["commit"], pushed=plan["push"], actions=actions)
    else:
        head, actions = repo.apply(plan, settings)
        result.update(commit=head, committed="committed" in actions,
                      pushed=any(a.startswith("pushed") for a in actions), actions=actions)
    result["changed"] = bool(actions)
    if module._diff:
        result["diff"] = plan["diff"]
    return result


# The AWS options given to the module (its action group's module_defaults), as the environment of git and of its
# credential helper; an option left unset leaves the environment's own.
AWS_ENVIRONMENT = (("profile", ("AWS_PROFILE",)), ("access_key", ("AWS_ACCESS_KEY_ID",)),
                   ("secret_key", ("AWS_SECRET_ACCESS_KEY",)), ("session_token", ("AWS_SESSION_TOKEN",)),
                   ("region", ("AWS_REGION", "AWS_DEFAULT_REGION")))


def aws_environment(params):
    """{variable: value} of the AWS options set: the credentials the lab's AWS modules sign with (amazon.aws's
    options, which fall back to the environment's own when not given)."""
    env = {}
    for option, names in AWS_ENVIRONMENT:
        if params.get(option):
            env.update((name, params[option]) for name in names)
    return env


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    aws_env = aws_environment(p)
    git = module.get_bin_path("git", required=True)
    identity = {
        "GIT_AUTHOR_NAME": p["author_name"], "GIT_AUTHOR_EMAIL": p["author_email"],
        "GIT_COMMITTER_NAME": p["committer_name"] or p["author_name"],
        "GIT_COMMITTER_EMAIL": p["committer_email"] or p["author_email"],
    }

    def run(argv, env):
        return module.run_command([git] + argv[1:], environ_update=dict(aws_env, **env))

    repo = DeploymentRepo(
        run, os.path.abspath(p["path"]), p["branch"], p["files"], remote_url=p["remote_url"],
        credential_helper=p["credential_helper"], compare_with_origin=p["compare_with_origin"],
        overwrite_local_changes=p["overwrite_local_changes"], commit_message=p["commit_message"],
        identity=identity, var_names=p["variable_names"], warn=lambda message: warn(module, message),
        include_local_commits=p["include_local_commits"], overwrite_commits=p["overwrite_commits"],
        explain=explain_change)
    try:
        result = ensure(module, repo)
    except RepoError as e:
        module.fail_json(msg=str(e))
    except (IOError, OSError) as e:
        module.fail_json(msg="Failed to write in %s (%s): %s" % (p["path"], repo.var("path"), e))
    finally:
        repo.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
