"""CodeCommit backed by real git repositories, in the AWS JSON protocol.

moto's CodeCommit knows only Create/Get/DeleteRepository and hosts no git;
here each repository is a bare git repository under <state>/codecommit, read
with git itself, and served over smart HTTP by git http-backend (gitserver.py).
There is one namespace for all regions; the region a repository was created
in only shows in its ARN.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid

from localcloud.common import ACCOUNT_ID, AwsError

NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
HEX40 = re.compile(r"^[0-9a-f]{40}$")
MODES = {"100644": "NORMAL", "100664": "NORMAL", "100755": "EXECUTABLE", "120000": "SYMLINK"}
PAGE = 1000


def git(git_dir, *args, check=True, input_bytes=None):
    """`git --git-dir <git_dir> <args>` without the system's git config; RuntimeError when it fails and `check`."""
    proc = subprocess.run(["git", "--git-dir", git_dir] + list(args), input=input_bytes,
                          capture_output=True, check=False,
                          env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C"))
    if check and proc.returncode:
        raise RuntimeError("git %s failed: %s" % (" ".join(args), proc.stderr.decode(errors="replace")))
    return proc


class CodeCommit:
    def __init__(self, state_dir):
        self.root = os.path.join(state_dir, "codecommit")
        os.makedirs(self.root, exist_ok=True)
        self._lock = threading.RLock()

    # -- storage -------------------------------------------------------------
    def git_dir(self, name):
        return os.path.join(self.root, name + ".git")

    def _meta_path(self, name):
        return os.path.join(self.git_dir(name), "localcloud.json")

    def exists(self, name):
        return bool(name) and NAME_RE.match(name) is not None and os.path.isfile(self._meta_path(name))

    def _load(self, name):
        with open(self._meta_path(name)) as handle:
            return json.load(handle)

    def _save(self, name, meta):
        tmp = self._meta_path(name) + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(meta, handle)
        os.replace(tmp, self._meta_path(name))

    def reset(self):
        with self._lock:
            shutil.rmtree(self.root, ignore_errors=True)
            os.makedirs(self.root, exist_ok=True)

    def branches(self, name):
        out = git(self.git_dir(name), "for-each-ref", "--format=%(refname)", "refs/heads").stdout
        return [line[len("refs/heads/"):] for line in out.decode().splitlines() if line]

    def after_push(self, name):
        """AWS makes the first pushed branch the default; git needs HEAD to follow it."""
        with self._lock:
            if not self.exists(name):
                return
            meta = self._load(name)
            meta["lastModifiedDate"] = time.time()
            self._ensure_default_branch(name, meta)
            self._save(name, meta)

    def _ensure_default_branch(self, name, meta):
        branches = self.branches(name)
        if meta.get("defaultBranch") in branches:
            return
        meta.pop("defaultBranch", None)
        if not branches:
            return
        head = git(self.git_dir(name), "symbolic-ref", "HEAD", check=False).stdout.decode().strip()
        head = head[len("refs/heads/"):] if head.startswith("refs/heads/") else None
        meta["defaultBranch"] = head if head in branches else branches[0]
        git(self.git_dir(name), "symbolic-ref", "HEAD", "refs/heads/" + meta["defaultBranch"])

    # -- validation ----------------------------------------------------------
    @staticmethod
    def _name(params, key="repositoryName"):
        name = params.get(key)
        if name is None or name == "":
            raise AwsError("RepositoryNameRequiredException", "A repository name is required.")
        if not isinstance(name, str) or not NAME_RE.match(name) or name.lower().endswith(".git"):
            raise AwsError("InvalidRepositoryNameException",
                           "The repository name %r is not valid: use letters, digits, '.', '_' "
                           "and '-', at most 100 characters, not ending in .git." % (name,))
        return name

    def _existing(self, params):
        name = self._name(params)
        if not self.exists(name):
            raise AwsError("RepositoryDoesNotExistException", "%s does not exist" % name)
        return name

    @staticmethod
    def _description(params):
        text = params.get("repositoryDescription")
        if text is not None and (not isinstance(text, str) or len(text) > 1000):
            raise AwsError("InvalidRepositoryDescriptionException",
                           "The repository description is not valid: at most 1000 characters.")
        return text

    def _metadata(self, name, meta, host):
        doc = {
            "accountId": ACCOUNT_ID,
            "repositoryId": meta["repositoryId"],
            "repositoryName": name,
            "creationDate": meta["creationDate"],
            "lastModifiedDate": meta["lastModifiedDate"],
            "cloneUrlHttp": "http://%s/v1/repos/%s" % (host, name),
            # No SSH is served; the URL keeps AWS's shape for tools that print it.
            "cloneUrlSsh": "ssh://%s/v1/repos/%s" % (host.split(":")[0], name),
            "Arn": "arn:aws:codecommit:%s:%s:%s" % (meta["region"], ACCOUNT_ID, name),
        }
        if meta.get("repositoryDescription") is not None:
            doc["repositoryDescription"] = meta["repositoryDescription"]
        if meta.get("defaultBranch"):
            doc["defaultBranch"] = meta["defaultBranch"]
        return doc

    # -- commits and trees ---------------------------------------------------
    def _commit_of(self, name, meta, spec):
        """Resolve a commitSpecifier (commit id, branch, tag; default branch when absent)."""
        if spec is None or spec == "":
            self._ensure_default_branch(name, meta)
            if not meta.get("defaultBranch"):
                raise AwsError("CommitDoesNotExistException",
                               "The repository %s has no commits yet." % name)
            spec = "refs/heads/" + meta["defaultBranch"]
        if not isinstance(spec, str) or spec.startswith("-"):
            raise AwsError("InvalidCommitException", "The commit specifier %r is not valid." % (spec,))
        proc = git(self.git_dir(name), "rev-parse", "--verify", "-q", spec + "^{commit}", check=False)
        if proc.returncode:
            raise AwsError("CommitDoesNotExistException",
                           "Could not find the commit %s in %s." % (spec, name))
        return proc.stdout.decode().strip()

    @staticmethod
    def _path(params, key):
        path = params.get(key)
        if path is None or path == "" and key == "filePath":
            raise AwsError("PathRequiredException", "The %s parameter is required." % key)
        if not isinstance(path, str) or "\x00" in path or any(p == ".." for p in path.split("/")):
            raise AwsError("InvalidPathException", "The path %r is not valid." % (path,))
        return path.strip("/")

    def _ls_tree(self, name, treeish):
        proc = git(self.git_dir(name), "ls-tree", "-z", "-l", treeish, check=False)
        if proc.returncode:
            return
        out = proc.stdout.decode("utf-8", "replace")
        for entry in out.split("\x00"):
            if not entry:
                continue
            info, path = entry.split("\t", 1)
            mode, kind, sha, size = info.split()
            yield mode, kind, sha, size, path

    @staticmethod
    def _person(line):
        match = re.match(r"^(.*) <(.*)> (\d+ [+-]\d{4})$", line)
        if not match:
            return {"name": line, "email": "", "date": ""}
        return {"name": match.group(1), "email": match.group(2), "date": match.group(3)}

    # -- operations ----------------------------------------------------------
    def handle(self, operation, params, region, host):
        method = getattr(self, "op_" + operation, None)
        if method is None:
            return None
        with self._lock:
            return method(params, region or "us-east-1", host)

    def op_CreateRepository(self, params, region, host):
        name = self._name(params)
        description = self._description(params)
        if os.path.exists(self.git_dir(name)):
            raise AwsError("RepositoryNameExistsException", "Repository named %s already exists" % name)
        now = time.time()
        meta = {"repositoryId": str(uuid.uuid4()), "region": region, "creationDate": now,
                "lastModifiedDate": now, "repositoryDescription": description,
                "tags": params.get("tags") or {}}
        git_dir = self.git_dir(name)
        git(git_dir, "init", "--bare", "--quiet", git_dir)
        # http-backend refuses pushes from unauthenticated users unless told.
        git(git_dir, "config", "http.receivepack", "true")
        self._save(name, meta)
        return {"repositoryMetadata": self._metadata(name, meta, host)}

    def op_GetRepository(self, params, region, host):
        name = self._existing(params)
        meta = self._load(name)
        self._ensure_default_branch(name, meta)
        return {"repositoryMetadata": self._metadata(name, meta, host)}

    def op_ListRepositories(self, params, region, host):
        sort_by = params.get("sortBy") or "repositoryName"
        order = params.get("order") or "ascending"
        if sort_by not in ("repositoryName", "lastModifiedDate"):
            raise AwsError("InvalidSortByException", "The sortBy %r is not valid." % (sort_by,))
        if order not in ("ascending", "descending"):
            raise AwsError("InvalidOrderException", "The order %r is not valid." % (order,))
        entries = []
        for entry in os.listdir(self.root):
            name = entry[:-4]
            if entry.endswith(".git") and self.exists(name):
                meta = self._load(name)
                entries.append((name, meta))
        key = (lambda e: e[0]) if sort_by == "repositoryName" else (lambda e: e[1]["lastModifiedDate"])
        entries.sort(key=key, reverse=order == "descending")
        start = 0
        if params.get("nextToken"):
            try:
                start = int(base64.b64decode(params["nextToken"]).decode())
            except Exception:
                raise AwsError("InvalidContinuationTokenException", "The continuation token is not valid.")
        page = entries[start:start + PAGE]
        doc = {"repositories": [{"repositoryName": n, "repositoryId": m["repositoryId"]} for n, m in page]}
        if start + PAGE < len(entries):
            doc["nextToken"] = base64.b64encode(str(start + PAGE).encode()).decode()
        return doc

    def op_DeleteRepository(self, params, region, host):
        name = self._name(params)
        if not self.exists(name):
            # AWS answers success with no id for a repository that is already gone.
            return {}
        repo_id = self._load(name)["repositoryId"]
        shutil.rmtree(self.git_dir(name))
        return {"repositoryId": repo_id}

    def op_UpdateRepositoryDescription(self, params, region, host):
        name = self._existing(params)
        description = self._description(params)
        meta = self._load(name)
        meta["repositoryDescription"] = description
        meta["lastModifiedDate"] = time.time()
        self._save(name, meta)
        return {}

    def op_ListBranches(self, params, region, host):
        name = self._existing(params)
        if params.get("nextToken"):
            raise AwsError("InvalidContinuationTokenException", "The continuation token is not valid.")
        return {"branches": sorted(self.branches(name))}

    def op_GetBranch(self, params, region, host):
        name = self._existing(params)
        branch = params.get("branchName")
        if not branch:
            raise AwsError("BranchNameRequiredException", "A branch name is required.")
        if not isinstance(branch, str) or git(self.git_dir(name), "check-ref-format", "--branch",
                                               branch, check=False).returncode:
            raise AwsError("InvalidBranchNameException", "The branch name %r is not valid." % (branch,))
        proc = git(self.git_dir(name), "rev-parse", "--verify", "-q", "refs/heads/%s^{commit}" % branch,
                    check=False)
        if proc.returncode:
            raise AwsError("BranchDoesNotExistException", "Branch %s does not exist in %s." % (branch, name))
        return {"branch": {"branchName": branch, "commitId": proc.stdout.decode().strip()}}

    def op_GetCommit(self, params, region, host):
        name = self._existing(params)
        commit_id = params.get("commitId")
        if not commit_id:
            raise AwsError("CommitIdRequiredException", "A commit ID is required.")
        if not isinstance(commit_id, str) or not HEX40.match(commit_id):
            raise AwsError("InvalidCommitIdException", "The commit ID %r is not valid." % (commit_id,))
        git_dir = self.git_dir(name)
        if git(git_dir, "cat-file", "-t", commit_id, check=False).stdout.strip() != b"commit":
            raise AwsError("CommitIdDoesNotExistException",
                           "Could not find commit %s in %s." % (commit_id, name))
        raw = git(git_dir, "cat-file", "commit", commit_id).stdout.decode("utf-8", "replace")
        header, _, message = raw.partition("\n\n")
        commit = {"commitId": commit_id, "parents": [], "message": message, "additionalData": ""}
        for line in header.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                commit["treeId"] = value
            elif key == "parent":
                commit["parents"].append(value)
            elif key in ("author", "committer"):
                commit[key] = self._person(value)
        return {"commit": commit}

    def op_GetFile(self, params, region, host):
        name = self._existing(params)
        path = self._path(params, "filePath")
        meta = self._load(name)
        commit = self._commit_of(name, meta, params.get("commitSpecifier"))
        entries = [e for e in self._ls_tree(name, commit + ":" + os.path.dirname(path)
                                            if os.path.dirname(path) else commit)
                   if e[4] == os.path.basename(path)] if path else []
        if not entries or entries[0][1] != "blob":
            raise AwsError("FileDoesNotExistException",
                           "The file %s does not exist at commit %s." % (path, commit))
        mode, _, blob, size, _ = entries[0]
        content = git(self.git_dir(name), "cat-file", "blob", blob).stdout
        return {"commitId": commit, "blobId": blob, "filePath": path,
                "fileMode": MODES.get(mode, "NORMAL"), "fileSize": int(size),
                "fileContent": base64.b64encode(content).decode()}

    def op_GetFolder(self, params, region, host):
        name = self._existing(params)
        if params.get("folderPath") is None:
            raise AwsError("PathRequiredException", "The folderPath parameter is required.")
        path = self._path(params, "folderPath")
        meta = self._load(name)
        commit = self._commit_of(name, meta, params.get("commitSpecifier"))
        treeish = commit + ":" + path if path else commit + "^{tree}"
        proc = git(self.git_dir(name), "rev-parse", "--verify", "-q", treeish, check=False)
        tree = proc.stdout.decode().strip()
        if proc.returncode or git(self.git_dir(name), "cat-file", "-t", tree,
                                   check=False).stdout.strip() != b"tree":
            raise AwsError("FolderDoesNotExistException",
                           "The folder %s does not exist at commit %s." % (path or "/", commit))
        doc = {"commitId": commit, "folderPath": path or "/", "treeId": tree,
               "subFolders": [], "files": [], "symbolicLinks": [], "subModules": []}
        for mode, kind, sha, _size, rel in self._ls_tree(name, tree):
            absolute = path + "/" + rel if path else rel
            if kind == "tree":
                doc["subFolders"].append({"treeId": sha, "absolutePath": absolute, "relativePath": rel})
            elif kind == "commit":
                doc["subModules"].append({"commitId": sha, "absolutePath": absolute, "relativePath": rel})
            elif mode == "120000":
                doc["symbolicLinks"].append({"blobId": sha, "absolutePath": absolute,
                                             "relativePath": rel, "fileMode": "SYMLINK"})
            else:
                doc["files"].append({"blobId": sha, "absolutePath": absolute, "relativePath": rel,
                                     "fileMode": MODES.get(mode, "NORMAL")})
        return doc
