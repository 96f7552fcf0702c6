# Copyright: Contributors to the cloudlab.microservices collection
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of `make bench`: a counting proxy in front of the local cloud,
the service routes of the whole-lab runs, the targets, the table.

The proxy sits between every AWS client of the benchmark (ansible's modules,
the aws CLI) and the local cloud, so that both sides are counted the same
way, whatever the local cloud itself offers: each request is classified by
its signing scope (service) and its operation (X-Amz-Target header of the
JSON protocols, Action= of the query protocols), and the image bytes that
UploadLayerPart carries are summed.
"""
import base64
import http.client
import json
import os
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from localcloud.request_log import RequestLog

# Requests that are the local cloud's own controls, not AWS API calls.
INTERNAL_PREFIXES = ("/moto-api", "/_localcloud")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_GIT = re.compile(r"/(info/refs|git-upload-pack|git-receive-pack)(\?|$)")
# Headers the proxy owns on each side: hop-by-hop ones and the framing it redoes.
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
        "trailer", "upgrade", "content-length"}


def classify(method, path, headers, body):
    """(kind, service, operation) of one request; kind is 'aws', 'git' or 'internal'."""
    if path.startswith(INTERNAL_PREFIXES):
        return "internal", "", ""
    if _GIT.search(path):
        return "git", "git", _GIT.search(path).group(1)
    lower = {k.lower(): v for k, v in headers.items()}
    match = _SCOPE.search(lower.get("authorization", ""))
    service = match.group(1) if match else "unsigned"
    target = lower.get("x-amz-target", "")
    if target:
        return "aws", service, target.rsplit(".", 1)[-1]
    if body and "x-www-form-urlencoded" in lower.get("content-type", ""):
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return "aws", service, action[0]
    # REST protocols: the method and the first path segment name the call well enough.
    segment = urllib.parse.urlsplit(path).path.strip("/").split("/")[0]
    return "aws", service, "%s /%s" % (method, segment)


def layer_bytes(operation, body):
    """Bytes of image data a request uploads (UploadLayerPart's blob, decoded)."""
    if operation != "UploadLayerPart" or not body:
        return 0
    try:
        blob = json.loads(body).get("layerPartBlob", "")
    except ValueError:
        return 0
    return len(base64.b64decode(blob)) if blob else 0


def _read_body(rfile, headers):
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(rfile.read(size))
            rfile.readline()
    length = int(headers.get("Content-Length") or 0)
    return rfile.read(length) if length else b""


class CountingProxy:
    """An HTTP proxy on 127.0.0.1:<free port> that forwards to `upstream` and counts."""

    def __init__(self, upstream_host, upstream_port):
        self.log = RequestLog()
        proxy = self
        local = threading.local()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # the benchmark prints its own table only
                pass

            def _upstream(self):
                # One upstream connection per client thread keeps botocore's
                # keep-alive meaningful behind the proxy.
                conn = getattr(local, "conn", None)
                if conn is None:
                    conn = local.conn = http.client.HTTPConnection(upstream_host, upstream_port, timeout=600)
                return conn

            def _forward(self):
                body = _read_body(self.rfile, self.headers)
                kind, service, operation = classify(self.command, self.path, self.headers, body)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                for attempt in (1, 2):
                    conn = self._upstream()
                    try:
                        conn.request(self.command, self.path, body=body or None, headers=headers)
                        resp = conn.getresponse()
                        data = resp.read()
                        break
                    except (http.client.HTTPException, OSError):
                        # A stale kept-alive connection: retry once on a new one.
                        conn.close()
                        local.conn = None
                        if attempt == 2:
                            self.send_error(502, "local cloud unreachable")
                            return
                if kind == "git":
                    proxy.log.add_git()
                elif kind == "aws":
                    proxy.log.add(service, operation, len(body), layer_bytes(operation, body))
                self.send_response_only(resp.status, resp.reason)
                for key, value in resp.getheaders():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def counts(self):
        """What the proxy forwarded since the log's reset: api_calls, by_operation ({"service:operation": n}),
        git_requests, upload_bytes, request_body_bytes."""
        state = self.log.state()
        return {"api_calls": state["total"],
                "by_operation": dict(sorted(("%s:%s" % (svc, op), n) for svc, ops in state["services"].items()
                                            for op, n in ops.items())),
                "git_requests": state["git_requests"],
                "upload_bytes": state["upload_bytes"],
                "request_body_bytes": state["request_body_bytes"]}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# name: (what is compared, upper limit); a target is met when value <= limit.
TARGETS = {
    "first_module_runs": ("phase5 first run: module executions", 15),
    "rerun_module_runs": ("phase5 no-op rerun: module executions", 15),
    "first_run_vs_cli": ("phase5 first run / CLI script", 0.75),
    "rerun_vs_cli": ("phase5 no-op rerun / CLI script", 0.5),
    "scale_20_vs_2": ("20 services / 2 services (first run time)", 2.0),
    "unchanged_push_bytes": ("unchanged push uploads (bytes)", 0),
    "site_first_vs_cli": ("site.yml first run / CLI script, Phases 5 to 8", 0.6),
    "site_rerun_vs_cli": ("site.yml no-op rerun / CLI script, Phases 5 to 8", 0.2),
    "site_rerun_module_runs": ("site.yml no-op rerun: module executions", 6),
    "status_module_runs": ("status.yml: module executions", 1),
    "site_scale_20_vs_2": ("site.yml 20 services / 2 services (first run time)", 2.0),
    "labs_4_vs_1": ("site.yml on 4 labs (forks 4) / on 1 lab, wall time", 2.5),
    "labs_memory_per_lab_mb": ("site.yml on 4 labs: controller peak memory per lab (MB, RSS sum)", 150),
    "labs_pss_per_lab_mb": ("site.yml on 4 labs: controller peak memory per lab (MB, PSS sum)", 150),
}

# Phase 6 routes of the two sample services, as the local inventory gives them.
SAMPLE_ROUTES = {"employee": {"health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}}


def with_routes(entries):
    """The service entries with what Phases 6 to 8 need: every service but the first gets a path pattern
    (the sample's own for a sample service, ``/<name>/*`` for a generated one); the first keeps none."""
    out = []
    for index, entry in enumerate(entries):
        entry = dict(entry)
        if index:
            for key, value in SAMPLE_ROUTES.get(entry["name"], {"path_pattern": "/%s/*" % entry["name"]}).items():
                entry.setdefault(key, value)
        else:
            entry.pop("path_pattern", None)
        out.append(entry)
    return out

# Actions that run on the controller only: no module is built, sent or started.
CONTROLLER_ACTIONS = frozenset(
    "ansible.builtin.%s" % name for name in (
        "set_fact", "debug", "assert", "fail", "meta", "include_tasks", "import_tasks", "include_role",
        "import_role", "include_vars", "validate_argument_spec", "add_host", "group_by", "set_stats",
        "pause", "wait_for_connection")) | frozenset(["cloudlab.microservices.preflight"])


def module_runs(data):
    """Module executions of a playbook run (JSON callback output): every task result, loop item
    included, of an action that starts a module; skipped ones and controller-only actions not counted."""
    count, by_action = 0, {}
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            for host in task.get("hosts", {}).values():
                action = host.get("action", "")
                if action in CONTROLLER_ACTIONS or action.split(".")[-1] in (
                        "set_fact", "debug", "assert", "fail", "meta", "include_role", "import_role",
                        "include_tasks", "import_tasks", "validate_argument_spec"):
                    continue
                items = host["results"] if "results" in host else [host]
                ran = sum(1 for item in items if not item.get("skipped"))
                if ran:
                    count += ran
                    by_action[action] = by_action.get(action, 0) + ran
    return count, dict(sorted(by_action.items()))


class TreeMemory:
    """The peak memory of a process and all its descendants (ansible-playbook, its forks and the modules they
    start), sampled every `interval` seconds from /proc in a thread while the run lasts: the sum of their resident
    sets (RSS: a page a fork shares with its parent counts in both) and the sum of their proportional sets (PSS:
    a shared page counts once, split between its sharers; what the machine spends)."""

    def __init__(self, pid, interval=0.1):
        self.pid = pid
        self.interval = interval
        self.peak_bytes = 0
        self.peak_pss_bytes = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _sample(self):
        while not self._stop.is_set():
            rss, pss, count = tree_memory(self.pid)
            if rss > self.peak_bytes:
                self.peak_bytes, self.peak_processes = rss, count
            self.peak_pss_bytes = max(self.peak_pss_bytes, pss)
            self._stop.wait(self.interval)


def _memory(pid):
    """(RSS, PSS) of one process in bytes, from /proc/<pid>/smaps_rollup; (0, 0) once it is gone."""
    rss = pss = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as handle:
            for line in handle:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def descendants(root):
    """`root` and every process under it, from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, changed = {root}, True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return sorted(pid for pid in tree if pid in parents)


def tree_memory(root):
    """(RSS bytes, PSS bytes, processes) of `root` and its descendants."""
    rss = pss = 0
    members = descendants(root)
    for pid in members:
        one_rss, one_pss = _memory(pid)
        rss += one_rss
        pss += one_pss
    return rss, pss, len(members)


def labs_figures(one, many, count):
    """The many-labs comparison from a run on one lab and a run on `count` labs ({seconds, cpu_seconds,
    peak_rss_bytes} each): wall time ratio, CPU time per lab, peak memory per lab."""
    mb = 1024.0 * 1024.0
    return {
        "labs": count,
        "one_seconds": one["seconds"], "many_seconds": many["seconds"],
        "ratio": ratio(many["seconds"], one["seconds"]),
        "one_cpu_seconds": one["cpu_seconds"], "cpu_seconds_per_lab": round(many["cpu_seconds"] / count, 2),
        "one_peak_mb": round(one["peak_rss_bytes"] / mb, 1), "many_peak_mb": round(many["peak_rss_bytes"] / mb, 1),
        "memory_per_lab_mb": round(many["peak_rss_bytes"] / mb / count, 1),
        "one_peak_pss_mb": round(one.get("peak_pss_bytes", 0) / mb, 1),
        "many_peak_pss_mb": round(many.get("peak_pss_bytes", 0) / mb, 1),
        "pss_per_lab_mb": round(many.get("peak_pss_bytes", 0) / mb / count, 1),
    }


def ratio(value, base):
    return round(value / base, 2) if base and value is not None else None


def checklist_states(items):
    """{task: state} of status.yml's checklist (lab_info's ``checklist``), in the lab's order."""
    return dict((item["task"], item["state"]) for item in items or [])


def not_done(states):
    """The tasks of a checklist ({task: state}) that are not done, as ``task state`` strings."""
    return ["%s %s" % (task, state) for task, state in (states or {}).items() if state != "done"]


def _scale_ratio(rows):
    scale = {row["services"]: row for row in rows or []}
    return ratio(scale[20]["first_seconds"], scale[2]["first_seconds"]) if 20 in scale and 2 in scale else None


def evaluate(results):
    """{target: {value, limit, met}} from the measured results; a part the run left out is not measured."""
    runs = results.get("phase5") or {"first": {}, "rerun": {}}
    cli = (results.get("cli") or {}).get("seconds")
    push = {row["step"]: row for row in results.get("push") or []}
    lab = results.get("lab") or {}
    site = lab.get("site") or {"first": {}, "rerun": {}}
    lab_cli = (lab.get("cli") or {}).get("seconds")
    values = {
        "first_module_runs": runs["first"].get("module_runs"),
        "rerun_module_runs": runs["rerun"].get("module_runs"),
        "first_run_vs_cli": ratio(runs["first"].get("seconds"), cli),
        "rerun_vs_cli": ratio(runs["rerun"].get("seconds"), cli),
        "scale_20_vs_2": _scale_ratio(results.get("scale")),
        "unchanged_push_bytes": push["unchanged"]["upload_bytes"] if "unchanged" in push else None,
        "site_first_vs_cli": ratio(site["first"].get("seconds"), lab_cli),
        "site_rerun_vs_cli": ratio(site["rerun"].get("seconds"), lab_cli),
        "site_rerun_module_runs": site["rerun"].get("module_runs"),
        "status_module_runs": (lab.get("status") or {}).get("module_runs"),
        "site_scale_20_vs_2": _scale_ratio(lab.get("scale")),
        "labs_4_vs_1": (results.get("labs") or {}).get("ratio") if (results.get("labs") or {}).get("labs") == 4
        else None,
        "labs_memory_per_lab_mb": (results.get("labs") or {}).get("memory_per_lab_mb")
        if (results.get("labs") or {}).get("labs") == 4 else None,
        "labs_pss_per_lab_mb": (results.get("labs") or {}).get("pss_per_lab_mb")
        if (results.get("labs") or {}).get("labs") == 4 else None,
    }
    out = {}
    for name, (label, limit) in TARGETS.items():
        value = values[name]
        out[name] = {"label": label, "value": value, "limit": limit,
                     "met": None if value is None else value <= limit}
    return out


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return "%.2f" % value
    return str(value)


def table(rows, headers):
    """A plain-text table, columns as wide as their widest cell."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, headers))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join("%-*s" % (w, c) for w, c in zip(widths, r)) for r in cells]
    return "\n".join([line, sep] + body)


def _runs_table(cli, runs, playbook, services):
    rows = [["lab CLI script (bench/lab_cli.sh)", cli["seconds"], cli["api_calls"], None, None, 1.0]]
    for key, label in runs:
        run = playbook[key]
        rows.append([label, run["seconds"], run["api_calls"], run.get("module_runs"), run.get("changed"),
                     ratio(run["seconds"], cli["seconds"])])
    return table(rows, ["run (%d services)" % services, "seconds", "API calls", "module runs", "changed", "x CLI"])


def _scale_table(scale, playbook):
    base = {row["services"]: row for row in scale}.get(2)
    rows = []
    for row in scale:
        rows.append([row["services"], row["first_seconds"], row["first_api_calls"],
                     ratio(row["first_seconds"], base["first_seconds"]) if base else None,
                     ratio(row["first_api_calls"], base["first_api_calls"]) if base else None,
                     row.get("first_module_runs"), row["rerun_seconds"], row["rerun_api_calls"],
                     row.get("rerun_module_runs"), row.get("rerun_changed")])
    return table(rows, ["%s services" % playbook, "first s", "first calls", "x2 time", "x2 calls", "first modules",
                        "rerun s", "rerun calls", "rerun modules", "rerun changed"])


def render(results):
    """The benchmark's one table (as sections of one text), from its JSON; a part not run has no section."""
    parts = []
    if results.get("phase5"):
        parts.append(_runs_table(results["cli"], (("first", "phase5.yml first run"),
                                                  ("rerun", "phase5.yml no-op rerun")),
                                 results["phase5"], results["services"]))
    if results.get("scale"):
        parts.append(_scale_table(results["scale"], "phase5.yml"))
    lab = results.get("lab")
    if lab:
        runs = dict(lab["site"], status=lab["status"])
        parts.append(_runs_table(lab["cli"], (("first", "site.yml first run"), ("rerun", "site.yml no-op rerun"),
                                              ("status", "status.yml")), runs, results["services"]))
        states = lab["cli"].get("checklist")
        if states is not None:
            missed = not_done(states)
            parts[-1] += "\nstatus.yml on the CLI script's lab: %d of %d tasks done%s" % (
                len(states) - len(missed), len(states), " (not: %s)" % ", ".join(missed) if missed else "")
        if lab.get("scale"):
            parts.append(_scale_table(lab["scale"], "site.yml"))
    labs = results.get("labs")
    if labs:
        rows = [["1 lab", labs["one_seconds"], 1.0, labs["one_cpu_seconds"], labs["one_peak_mb"], labs["one_peak_mb"],
                 labs.get("one_peak_pss_mb"), labs.get("one_peak_pss_mb")],
                ["%d labs (forks %d)" % (labs["labs"], labs["labs"]), labs["many_seconds"], labs["ratio"],
                 labs["cpu_seconds_per_lab"], labs["many_peak_mb"], labs["memory_per_lab_mb"],
                 labs.get("many_peak_pss_mb"), labs.get("pss_per_lab_mb")]]
        parts.append(table(rows, ["site.yml first run on", "seconds", "x 1 lab", "CPU s per lab",
                                  "peak RSS MB", "RSS MB per lab", "peak PSS MB", "PSS MB per lab"]))
    if results.get("push"):
        rows = [[r["step"], r["seconds"], r["upload_bytes"], r["api_calls"]] for r in results["push"]]
        parts.append(table(rows, ["archive push", "seconds", "bytes uploaded", "API calls"]))
    rows = []
    for target in results["targets"].values():
        met = {True: "met", False: "NOT MET", None: "not measured"}[target["met"]]
        rows.append([target["label"], target["value"], "<= %s" % target["limit"], met])
    parts.append(table(rows, ["target", "measured", "limit", "result"]))
    return "\n\n".join(parts)
