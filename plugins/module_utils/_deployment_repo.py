# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployment repository: a local git folder on one branch that holds
files this collection writes, kept in step with a remote and pushed.

``inspect`` reads everything (folder, branch, uncommitted work, the remote's
branch and how it relates to the local one) and returns a plan, or raises
``RepoError`` with every reason to refuse in one line, before anything
changes. ``apply`` carries the plan out. Check mode runs ``inspect`` only.

Git is driven through its binary (``run(args, env) -> (rc, out, err)``, the
module's ``run_command``); nothing is ever force-pushed; a local branch that
is only behind the remote's is fast-forwarded; a diverged one is refused.

The collection pushes only its own commits. Its commits carry the trailer
``Managed-By: cloudlab.microservices`` (those of 1.0.0 have the author
``cloudlab.microservices <cloudlab.microservices@localhost>`` instead) and
touch no file but the managed ones; every other commit is the user's. A
user's local commits the remote lacks, a managed file whose content on the
branch a user's commit made and the desired content would replace, and an
``origin`` that is another repository are refused before any change.

Private to this collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import tempfile

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
TRAILER_KEY = "Managed-By"
TRAILER_VALUE = "cloudlab.microservices"
TRAILER = "%s: %s" % (TRAILER_KEY, TRAILER_VALUE)
# The author of the commits of 1.0.0, which carried no trailer (the role's default identity).
LEGACY_AUTHOR = ("cloudlab.microservices", "cloudlab.microservices@localhost")
_LOG_FORMAT = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%(trailers:key=" + TRAILER_KEY + ",valueonly,separator=%x2C)%x1f%s"
_IN_PROGRESS = (("MERGE_HEAD", "a merge"), ("rebase-merge", "a rebase"), ("rebase-apply", "a rebase or am"),
                ("CHERRY_PICK_HEAD", "a cherry-pick"), ("REVERT_HEAD", "a revert"))


class RepoError(Exception):
    """What stops the module; str() is the one-line message."""


def redact(text):
    """Text with the user:password part of any URL hidden."""
    return _URL_USERINFO.sub(r"\g<scheme>***@", text or "")


def _last_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return redact(lines[-1]) if lines else "no message"


def parse_log(raw):
    """`git log -z --name-only --format=_LOG_FORMAT` -> list of commit dicts, newest first."""
    commits = []
    for record in raw.split("\x1e")[1:]:
        header, _sep, names = record.partition("\0")
        fields = header.split("\x1f", 5)
        if len(fields) < 6:
            continue
        if names.startswith("\n"):
            names = names[1:]
        commits.append(dict(sha=fields[0], parents=fields[1].split(), author=fields[2], email=fields[3],
                            managed_by=[v.strip() for v in fields[4].split(",") if v.strip()], subject=fields[5],
                            files=[n for n in names.split("\0") if n]))
    return commits


def is_collections(commit, managed):
    """Whether a commit (parse_log) is this collection's: its trailer or 1.0.0's author, managed files only."""
    if len(commit["parents"]) > 1 or not set(commit["files"]) <= set(managed):
        return False
    return TRAILER_VALUE in commit["managed_by"] or (commit["author"], commit["email"]) == LEGACY_AUTHOR


def describe_commit(commit):
    return '%s (%s <%s>, "%s")' % (commit["sha"][:12], commit["author"], commit["email"], commit["subject"])


def line_differences(current, desired, limit=3):
    """Up to `limit` phrases `line N: ... on the branch, ... desired` for text that is not a known lab file."""
    import difflib

    cur, des = (current or "").splitlines(), (desired or "").splitlines()
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, cur, des, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        out.append("line %d: %r on the branch, %r desired" % (i1 + 1, "\n".join(cur[i1:i2]), "\n".join(des[j1:j2])))
    if len(out) > limit:
        out = out[:limit] + ["%d more" % (len(out) - limit)]
    return out or ["only the line endings differ"]


def parse_status(raw):
    """`git status --porcelain=v1 -z` -> list of (XY, path)."""
    entries, parts, index = [], raw.split("\0"), 0
    while index < len(parts):
        item = parts[index]
        index += 1
        if len(item) < 4:
            continue
        code, path = item[:2], item[3:]
        if code[0] in "RC":
            index += 1  # the rename's or copy's source follows
        entries.append((code, path))
    return entries


class DeploymentRepo(object):
    """One folder, one branch, one remote; ``var(option)`` names the user's variable in messages."""

    def __init__(self, run, path, branch, files, remote_url="", credential_helper="", compare_with_origin=False,
                 overwrite_local_changes=False, commit_message="Update files", identity=None, var_names=None,
                 warn=None, include_local_commits=False, overwrite_commits=False, explain=None):
        self._run = run
        self.path = path
        self.branch = branch
        self.files = files
        self.remote_url = remote_url or ""
        self.credential_helper = credential_helper or ""
        self.compare_with_origin = compare_with_origin
        self.overwrite = overwrite_local_changes
        self.commit_message = commit_message
        self.identity = identity or {}
        self.var_names = var_names or {}
        self.warn = warn or (lambda msg: None)
        self.include_local_commits = include_local_commits
        self.overwrite_commits = overwrite_commits
        # explain(name, text on the branch, desired text) -> None or dict(service, differences, settings, unexplained)
        self.explain = explain or (lambda name, current, desired: None)
        self.is_repo = False
        self._object_dir = None

    # -- git -----------------------------------------------------------------

    def var(self, option):
        return self.var_names.get(option) or option

    def _credential_args(self, url):
        if not (self.credential_helper and re.match(r"^https?://", url or "")):
            return []
        return ["-c", "credential.%s.helper=%s" % (url, self.credential_helper),
                "-c", "credential.%s.UseHttpPath=true" % url]

    def git(self, *args, **kwargs):
        """Run git in the folder; raise RepoError unless rc is in ``ok`` (default (0,))."""
        ok = kwargs.pop("ok", (0,))
        url = kwargs.pop("url", None)
        git_dir = kwargs.pop("git_dir", None)
        if git_dir:
            cwd_args = ["--git-dir", git_dir]
        else:
            cwd_args = [] if kwargs.pop("outside", False) else ["-C", self.path]
        env = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
        env.update(kwargs.pop("env", {}))
        # The helper comes from the repository's own config once it is there; given
        # twice, git would ask it twice.
        in_repo = cwd_args and not git_dir and self._helper_configured(url)
        argv = ["git"] + cwd_args + ([] if in_repo else self._credential_args(url)) + list(args)
        rc, out, err = self._run(argv, env)
        if rc not in ok:
            raise RepoError("Failed to run git %s for %s (%s): %s" % (
                next((a for a in args if a[0] != "-" and a != git_dir), "?"), self.path, self.var("path"), _last_line(err or out)))
        return rc, out, err

    def _helper_configured(self, url):
        if not url or not self._credential_args(url) or not os.path.exists(os.path.join(self.path, ".git")):
            return False
        key = "credential.%s.helper" % url
        rc, out, _err = self._run(["git", "-C", self.path, "config", "--local", "--get-all", key],
                                  {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
        return rc == 0 and out.splitlines() == [self.credential_helper]

    def _blob(self, commit, name):
        if not commit:
            return None
        rc, out, _err = self.git("cat-file", "blob", "%s:%s" % (commit, name), ok=(0, 128), git_dir=self._object_dir)
        return out if rc == 0 else None

    def _disk(self, name):
        try:
            with open(os.path.join(self.path, name), "rb") as handle:
                data = handle.read()
        except (IOError, OSError):
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return "<not UTF-8 text>"

    def _remote_head(self, url, soft=False):
        rc, out, err = self.git("ls-remote", "--heads", url, "refs/heads/%s" % self.branch, url=url,
                                outside=not self.is_repo, ok=(0, 1, 2, 128))
        if rc != 0:
            message = "Failed to read branch %s of %s (%s): %s" % (
                self.branch, redact(url), self.var("remote_url"), _last_line(err or out))
            if soft:
                self.warn(message + "; the check against the remote is left to the run that knows its URL")
                return None
            raise RepoError(message + "; check the URL and that the credentials may read it")
        fields = out.split()
        return fields[0] if fields else ""

    # -- inspect -------------------------------------------------------------

    def inspect(self):
        """Read the folder and the remote; return the plan or raise RepoError with every reason to refuse."""
        path, where = self.path, "%s (%s)" % (self.path, self.var("path"))
        if os.path.lexists(path) and not os.path.isdir(path):
            raise RepoError("Failed to use the deployment folder %s: it is a file, not a folder; set %s to a "
                            "folder (it is created when missing)" % (where, self.var("path")))
        self.is_repo = os.path.exists(os.path.join(path, ".git"))
        plan = dict(exists=os.path.isdir(path), is_repo=self.is_repo, head="", remote_head=None, relation="none",
                    create=None, dirty=[], overwritten=[], touched=[], remote_url=self.remote_url,
                    local_commits=[], user_changes=[], history=True)
        problems = []

        url = self.remote_url
        if not url and self.compare_with_origin and self.is_repo:
            rc, out, _err = self.git("config", "--get", "remote.origin.url", ok=(0, 1))
            url = out.strip() if rc == 0 else ""
        plan["compared_with"] = url
        remote_head = self._remote_head(url, soft=not self.remote_url) if url else ""
        plan["remote_head"] = remote_head or ""

        if not self.is_repo:
            self._inspect_plain_folder(plan, problems, remote_head)
        else:
            self._inspect_repo(plan, problems, url, remote_head)
        if plan["history"] and url and remote_head is not None:
            self._local_commits(plan, problems, url)
            self._user_changes(plan, problems)
        if problems:
            raise RepoError("Failed to use the deployment folder %s, nothing was changed: %s"
                            % (where, "; ".join(problems)))
        self._plan_files(plan)
        return plan

    def _managed_work(self, names, plan, base):
        """Managed files whose content on disk is someone's work: neither the committed nor the desired one."""
        work = []
        for name in names:
            disk = self._disk(name)
            if disk is None or disk == self.files[name] or disk == self._blob(base, name):
                if disk is not None and disk != self._blob(base, name):
                    plan["dirty"].append(name)
                continue
            work.append(name)
        return work

    def _refuse_work(self, work, problems, tracked):
        if not work:
            return
        if self.overwrite:
            self.warn("Overwriting uncommitted changes to %s in %s, as %s is true"
                      % (", ".join(work), self.path, self.var("overwrite_local_changes")))
            return
        discard = ("`git -C %s checkout HEAD -- %s`" % (self.path, " ".join(work)) if tracked
                   else "`rm %s`" % " ".join(os.path.join(self.path, n) for n in work))
        problems.append(
            "it has uncommitted changes to %s, which this run would overwrite; commit them "
            "(`git -C %s commit -m '...' -- %s`, and they become the base this run builds on), discard them "
            "with %s, or set %s: true to overwrite them"
            % (", ".join(work), self.path, " ".join(work), discard, self.var("overwrite_local_changes")))

    def _inspect_plain_folder(self, plan, problems, remote_head):
        entries = sorted(os.listdir(self.path)) if plan["exists"] else []
        others = [e for e in entries if e not in self.files]
        if remote_head:
            if entries:
                problems.append("it is not a git repository and is not empty, while %s already has branch %s; "
                                "clone it there (`git clone --branch %s %s %s`), empty the folder, or set %s "
                                "to another folder" % (redact(self.remote_url), self.branch, self.branch,
                                                       redact(self.remote_url), self.path, self.var("path")))
                return
            plan["create"] = "clone"
            self._scratch_fetch(self.remote_url)
            return
        if others:
            problems.append("it is not a git repository and holds files this role does not write (%s); move "
                            "them away or set %s to another folder" % (", ".join(others), self.var("path")))
        work = self._managed_work([e for e in entries if e in self.files], plan, None)
        plan["overwritten"] = work if self.overwrite else []
        self._refuse_work(work, problems, tracked=False)
        plan["create"] = "init"

    def _inspect_repo(self, plan, problems, url, remote_head):
        git_dir = os.path.join(self.path, ".git")
        for marker, what in _IN_PROGRESS:
            if os.path.exists(os.path.join(git_dir, marker)):
                problems.append("%s is in progress there; finish or abort it first" % what)
        rc, out, _err = self.git("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1, 128))
        on = out.strip() if rc == 0 else None
        if on != self.branch:
            problems.append("it is on %s, not '%s' (%s); switch it with `git -C %s switch %s`, or set %s to "
                            "another folder" % (("branch '%s'" % on) if on else "a detached HEAD", self.branch,
                                                self.var("branch"), self.path, self.branch, self.var("path")))
        rc, out, _err = self.git("rev-parse", "--verify", "--quiet", "HEAD", ok=(0, 1, 128))
        head = out.strip() if rc == 0 else ""
        plan["head"] = head

        _rc, out, _err = self.git("status", "--porcelain=v1", "-z", "--untracked-files=all")
        entries = parse_status(out)
        untracked = [p for code, p in entries if code == "??" and p not in self.files]
        changed = [p for code, p in entries if code != "??" and p not in self.files]
        managed = sorted(set(p for _code, p in entries if p in self.files))
        plan["touched"] = managed
        if changed:
            problems.append("it has uncommitted changes to %s, files this role does not write, which its commit "
                            "must neither take nor hide; commit them (`git -C %s commit`) or undo them "
                            "(`git -C %s checkout HEAD -- %s`)" % (", ".join(changed), self.path, self.path,
                                                                   " ".join(changed)))
        if untracked:
            problems.append("it holds the untracked file%s %s, which this role does not write; commit %s, "
                            "move %s away, or list %s in .gitignore"
                            % ("s" if len(untracked) > 1 else "", ", ".join(untracked),
                               "them" if len(untracked) > 1 else "it", "them" if len(untracked) > 1 else "it",
                               "them" if len(untracked) > 1 else "it"))
        work = self._managed_work(managed, plan, head)
        plan["overwritten"] = work if self.overwrite else []
        self._refuse_work(work, problems, tracked=bool(head))

        if on != self.branch:
            plan["history"] = False
        origin = self.git("config", "--get", "remote.origin.url", ok=(0, 1))[1].strip()
        if self.remote_url and origin and origin.rstrip("/") != self.remote_url.rstrip("/"):
            plan["history"] = False
            problems.append(
                "its origin is %s, another repository than %s (%s), and this run never re-points it (the "
                "folder's commits would go to a repository they did not come from); set %s to another folder "
                "for this remote (or move %s away), or, if it is the same repository at a new address, "
                "`git -C %s remote set-url origin %s`"
                % (redact(origin), redact(self.remote_url), self.var("remote_url"), self.var("path"), self.path,
                   self.path, redact(self.remote_url)))
            return
        if not remote_head or on != self.branch:
            plan["relation"] = "none" if not remote_head else "unknown"
            return
        if head == remote_head:
            plan["relation"] = "same"
            return
        if not head:
            self._ensure_objects(url, remote_head)
            plan["relation"] = "behind"
            return
        self._ensure_objects(url, remote_head)
        behind = self.git("merge-base", "--is-ancestor", head, remote_head, ok=(0, 1))[0] == 0
        ahead = self.git("merge-base", "--is-ancestor", remote_head, head, ok=(0, 1))[0] == 0
        if behind:
            plan["relation"] = "behind"
        elif ahead:
            plan["relation"] = "ahead"
        else:
            local_only = self.git("rev-list", "--count", "%s..%s" % (remote_head, head))[1].strip()
            remote_only = self.git("rev-list", "--count", "%s..%s" % (head, remote_head))[1].strip()
            plan["relation"] = "diverged"
            plan["history"] = False
            problems.append(
                "its branch %s and branch %s of %s have diverged (%s local commit(s) the remote lacks, %s remote "
                "commit(s) the local branch lacks); bring them together by hand, for instance `git -C %s pull "
                "--rebase origin %s`, then run again (nothing is ever force-pushed)"
                % (self.branch, self.branch, redact(url), local_only, remote_only, self.path, self.branch))

    def _log(self, *args):
        out = self.git("log", "-z", "--no-renames", "--name-only", "--format=" + _LOG_FORMAT, *args,
                       git_dir=self._object_dir)[1]
        return parse_log(out)

    def _local_commits(self, plan, problems, url):
        """The user's commits this run would push: refused unless include_local_commits."""
        head, remote_head = plan["head"], plan["remote_head"]
        if not head or plan["relation"] not in ("ahead", "none"):
            return
        commits = self._log(head if not remote_head else "%s..%s" % (remote_head, head))
        theirs = [c for c in commits if not is_collections(c, self.files)]
        plan["local_commits"] = [dict(sha=c["sha"], author=c["author"], email=c["email"], subject=c["subject"],
                                      files=c["files"]) for c in theirs]
        if not theirs:
            return
        named = ", ".join(describe_commit(c) for c in theirs)
        if self.include_local_commits:
            self.warn("Pushing %d commit(s) of yours to branch %s of %s with this run's, as %s is true: %s"
                      % (len(theirs), self.branch, redact(url), self.var("include_local_commits"), named))
            return
        problems.append(
            "it has %d local commit(s) not on branch %s of %s that are not this collection's, which this run "
            "would push: %s; this collection pushes only its own commits: push them yourself (`git -C %s push "
            "origin %s`, see them with `git -C %s log origin/%s..%s`) and run again, or set %s: true to have this "
            "run push them with its own" % (
                len(theirs), self.branch, redact(url), named, self.path, self.branch, self.path, self.branch,
                self.branch, self.var("include_local_commits")))

    def _user_changes(self, plan, problems):
        """Managed files whose content on the branch a user's commit made and this run would replace."""
        base = self._base(plan)
        if not base:
            return
        differing = [n for n in self.files if self._blob(base, n) != self.files[n]]
        if not differing:
            return
        last = {}
        for commit in self._log(base, "--", *differing):
            for name in commit["files"]:
                last.setdefault(name, commit)
            if len(last) == len(differing):
                break
        for name in differing:
            commit = last.get(name)
            if commit is None or is_collections(commit, self.files):
                continue
            current = self._blob(base, name)
            desired = self.files[name]
            explained = self.explain(name, current, desired) if desired is not None else None
            if explained is None:
                explained = dict(service=None, differences=line_differences(current, desired or ""),
                                 settings=[], unexplained=["this file"])
            plan["user_changes"].append(dict(name=name, commit=commit["sha"], author=commit["author"],
                                             email=commit["email"], subject=commit["subject"], **explained))
        if not plan["user_changes"]:
            return
        overwrite = self.var("overwrite_commits")
        phrases = []
        for change in plan["user_changes"]:
            phrase = "%s on branch %s, as commit %s made it, differs from what %s gives: %s" % (
                change["name"], self.branch, describe_commit(dict(change, sha=change["commit"])), self.var("files"),
                "; ".join(change["differences"]))
            if change["settings"] and not change["unexplained"]:
                phrase += "; to keep it, set %s in the entry of service %s in %s" % (
                    ", ".join("`%s`" % s for s in change["settings"]), change["service"], self.var("files"))
            elif change["settings"]:
                phrase += "; %s in the entry of service %s in %s would give part of it, and no setting gives %s" % (
                    ", ".join("`%s`" % s for s in change["settings"]), change["service"], self.var("files"),
                    ", ".join(change["unexplained"]))
            else:
                phrase += "; no setting gives %s" % ", ".join(change["unexplained"])
            phrases.append(phrase)
        if self.overwrite_commits:
            self.warn("Replacing with a commit on top what commits not this collection's made, as %s is true: %s"
                      % (overwrite, " | ".join(phrases)))
            return
        problems.append("%s; to replace it with what %s gives (a new commit on top, history kept), set %s: true"
                        % (" | ".join(phrases), self.var("files"), overwrite))

    @staticmethod
    def _base(plan):
        """The commit the files are compared with: the remote's after a clone or fast-forward, else HEAD."""
        return plan["remote_head"] if plan["relation"] == "behind" or plan["create"] == "clone" else plan["head"]

    def _ensure_objects(self, url, commit):
        """The remote's commits in the object store; no branch, tag or FETCH_HEAD moves (check mode too)."""
        if self.git("cat-file", "-e", "%s^{commit}" % commit, ok=(0, 1, 128))[0] == 0:
            return
        self.git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", url,
                 "refs/heads/%s" % self.branch, url=url)

    def _scratch_fetch(self, url):
        """The remote branch's commits in a scratch repository, to read before a clone (check mode too)."""
        self._object_dir = tempfile.mkdtemp(prefix="cloudlab-deployment-")
        self.git("init", "--quiet", "--bare", self._object_dir, outside=True)
        self.git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", url, "refs/heads/%s" % self.branch,
                 url=url, git_dir=self._object_dir)

    def close(self):
        """Remove the scratch repository, if any."""
        if self._object_dir and os.path.isdir(self._object_dir):
            shutil.rmtree(self._object_dir, ignore_errors=True)
        self._object_dir = None

    # -- plan ----------------------------------------------------------------

    def _plan_files(self, plan):
        base = self._base(plan)
        plan["base"] = base
        files, diffs = [], []
        for name, text in self.files.items():
            committed = self._blob(base, name)
            on_disk = self._disk(name) if plan["is_repo"] or plan["create"] == "init" else None
            # A file git status lists (changed, deleted, untracked) is as it is on disk; any other is
            # the committed one (after the fast-forward, when there is one).
            before = on_disk if name in plan["touched"] or plan["create"] == "init" else committed
            # A file whose text is None is to be removed, and its removal committed.
            entry = dict(name=name, path=os.path.join(self.path, name), changed=before != text,
                         commit=committed != text, remove=text is None)
            files.append(entry)
            if entry["changed"]:
                diffs.append(dict(before_header=entry["path"], after_header=entry["path"],
                                  before=before or "", after=text or ""))
        plan["files"] = files
        plan["diff"] = diffs
        plan["commit"] = any(f["commit"] for f in files)
        has_commits = bool(plan["head"] or plan["commit"] or plan["create"] == "clone")
        plan["fast_forward"] = plan["relation"] == "behind"
        plan["push"] = bool(self.remote_url) and (
            plan["commit"] or plan["relation"] == "ahead" or (not plan["remote_head"] and has_commits))
        return plan

    # -- apply ---------------------------------------------------------------

    def remote_settings(self):
        if not self.remote_url:
            return {}
        wanted = {"remote.origin.url": self.remote_url, "remote.origin.fetch": "+refs/heads/*:refs/remotes/origin/*"}
        if self._credential_args(self.remote_url):
            wanted["credential.%s.helper" % self.remote_url] = self.credential_helper
            wanted["credential.%s.UseHttpPath" % self.remote_url] = "true"
        return wanted

    def settings_to_write(self, plan):
        if not self.remote_url:
            return []
        if not plan["is_repo"]:
            return sorted(self.remote_settings())
        todo = []
        for key, value in sorted(self.remote_settings().items()):
            rc, out, _err = self.git("config", "--local", "--get-all", key, ok=(0, 1))
            if rc != 0 or out.splitlines() != [value]:
                todo.append(key)
        return todo

    def _write(self, name, text):
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".%s." % name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
            os.chmod(tmp, 0o644)
            os.rename(tmp, os.path.join(self.path, name))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def apply(self, plan, settings):
        """Carry the plan out; returns (head after, list of what was done)."""
        done = []
        if plan["create"] == "clone":
            parent = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(parent):
                os.makedirs(parent)
            if os.path.isdir(self.path):
                os.rmdir(self.path)  # empty, checked by inspect
            self.git("clone", "--quiet", "--branch", self.branch, "--origin", "origin", self.remote_url, self.path,
                     url=self.remote_url, outside=True)
            done.append("cloned %s" % redact(self.remote_url))
        elif plan["create"] == "init":
            if not os.path.isdir(self.path):
                os.makedirs(self.path)
            self.git("init", "--quiet", "--initial-branch=%s" % self.branch, self.path, outside=True)
            done.append("created the repository on %s" % self.branch)
        for key in settings:
            self.git("config", "--local", "--replace-all", key, self.remote_settings()[key])
        if settings:
            done.append("set %s" % ", ".join(settings))
        if plan["fast_forward"]:
            for name in plan["dirty"] + plan["overwritten"]:
                if plan["head"] and self._blob(plan["head"], name) is not None:
                    self.git("checkout", "--quiet", "HEAD", "--", name)
                elif os.path.exists(os.path.join(self.path, name)):
                    os.unlink(os.path.join(self.path, name))
            self.git("merge", "--ff-only", "--quiet", plan["remote_head"])
            self.git("update-ref", "refs/remotes/origin/%s" % self.branch, plan["remote_head"])
            done.append("fast-forwarded %s to %s" % (self.branch, plan["remote_head"][:12]))
        written = [f["name"] for f in plan["files"]
                   if self.files[f["name"]] is not None and self._disk(f["name"]) != self.files[f["name"]]]
        for name in written:
            self._write(name, self.files[name])
        if written:
            done.append("wrote %s" % ", ".join(written))
        removed = [f["name"] for f in plan["files"] if self.files[f["name"]] is None and self._disk(f["name"]) is not None]
        for name in removed:
            os.unlink(os.path.join(self.path, name))
        if removed:
            done.append("removed %s" % ", ".join(removed))
        head = self.git("rev-parse", "--verify", "--quiet", "HEAD", ok=(0, 1, 128))[1].strip()
        # git names no path it neither has on disk nor tracks: a file to remove that is already gone is left out.
        names = [n for n in self.files if self.files[n] is not None or self._blob(head, n) is not None]
        if names:
            self.git("add", "--", *names)
        staged = bool(names) and self.git("diff", "--cached", "--quiet", "--", *names, ok=(0, 1))[0] == 1
        if staged:
            self.git("-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", self.commit_message,
                     "-m", TRAILER, "--", *names, env=self.identity)
            done.append("committed")
        head = self.git("rev-parse", "--verify", "--quiet", "HEAD", ok=(0, 1, 128))[1].strip()
        if self.remote_url and head and head != plan["remote_head"]:
            rc, out, err = self.git("push", "--quiet", "origin", "%s:refs/heads/%s" % (self.branch, self.branch),
                                    url=self.remote_url, ok=(0, 1, 128))
            if rc != 0:
                raise RepoError("Failed to push branch %s to %s (%s): %s; if the remote moved meanwhile, run "
                                "again (it is fast-forwarded, or refused if it diverged)"
                                % (self.branch, redact(self.remote_url), self.var("remote_url"),
                                   _last_line(err or out)))
            self.git("update-ref", "refs/remotes/origin/%s" % self.branch, head)
            done.append("pushed %s" % self.branch)
        return head, done
