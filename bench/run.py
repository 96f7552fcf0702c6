#!/usr/bin/env python3
# Copyright: Contributors to the cloudlab.microservices collection
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: how fast and how lean Phase 5 and the whole lab are, on a local cloud of its own.

One run measures, each from a clean cloud with the lab environment:
  1. (part phase5) the lab's Phase 5 steps as a plain AWS CLI script
     (bench/lab_cli.sh), then phase5.yml's first run and its no-op rerun, on
     the two sample services; phase5.yml with 10 and 20 generated services,
     first run and rerun (the 2-service point of the scale is that run);
  2. (part lab) the lab's Phase 5 to 8 steps as the CLI script
     (lab_cli.sh --through 8), then site.yml's first run, its no-op rerun and
     status.yml, on the two sample services; site.yml with 20 generated
     services, first run and rerun;
  3. (part push) the `archive` push of one image: first, unchanged, one
     changed layer;
  4. (part labs) site.yml's first run on one lab, then on 4 labs at once
     (4 local clouds, an inventory of 4 hosts, --forks 4): the wall time
     ratio, the CPU time per lab and the controller's peak memory (the
     resident memory of ansible-playbook and every process under it).
Every AWS request of both sides goes through a counting proxy (benchlib), so
API calls and uploaded bytes are counted the same way for the CLI and for
ansible. Prints one table, writes bench/results/bench.json, bench.txt and
bench.png (time against number of services).
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from localcloud import labs as localcloud_labs
from localcloud.testing.cloud import LocalCloud

from bench import benchlib
from examples import build

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

BIN = os.path.dirname(sys.executable)
PHASE5 = os.path.join(ROOT, "playbooks", "phase5.yml")
SITE = os.path.join(ROOT, "playbooks", "site.yml")
STATUS = os.path.join(ROOT, "playbooks", "status.yml")
PARTS = ("phase5", "lab", "push", "labs")
LAB = os.path.join(ROOT, "playbooks", "lab_environment.yml")
PUSH = os.path.join(HERE, "plays", "push.yml")
RESULTS = os.path.join(HERE, "results")


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class Bench:
    def __init__(self, work, keep_output=False):
        self.work = work
        self.build = build
        self.busybox = shutil.which("busybox") or "/bin/busybox"
        os.makedirs(os.path.join(work, "cloud"))
        self.cloud = LocalCloud(os.path.join(work, "cloud"))
        self.proxy = None
        self.counter = 0
        self.keep_output = keep_output

    # -- set-up --------------------------------------------------------------
    def start(self):
        self.cloud.start()
        self.proxy = benchlib.CountingProxy("127.0.0.1", self.cloud.port).start()
        self.env = self.cloud.env()
        # Both sides reach the cloud through the proxy only.
        self.env.update({"LOCALCLOUD_ENDPOINT": self.proxy.endpoint, "AWS_ENDPOINT_URL": self.proxy.endpoint,
                         "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
                         "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
                         "ANSIBLE_LOCALHOST_WARNING": "false", "AWS_PAGER": ""})
        log("local cloud on port %d, counting proxy at %s" % (self.cloud.port, self.proxy.endpoint))

    def stop(self):
        if self.proxy:
            self.proxy.stop()
        self.cloud.stop()

    def fresh(self):
        """A clean cloud holding the lab environment; counters at zero."""
        self.cloud.reset()
        result = self.playbook(LAB)
        if result["rc"]:
            raise SystemExit("lab_environment.yml failed:\n%s" % result["tail"])
        self.proxy.log.reset()

    def services(self, names, variant=""):
        """Service entries with an OCI archive each (the sample's app files, named after the service)."""
        entries = []
        for name in names:
            folder = os.path.join(self.work, "src", variant, name)
            sample = name if name in ("customer", "employee") else "customer"
            if not os.path.isdir(folder):
                shutil.copytree(os.path.join(ROOT, "examples", sample), folder)
                with open(os.path.join(folder, "www", "service.txt"), "w") as handle:
                    handle.write("%s %s\n" % (name, variant))
            out = os.path.join(self.work, "images", variant or "base", "%s.oci.tar" % name)
            if not os.path.exists(out):
                self.build.build_archive(name, out, service_dir=folder, busybox=self.busybox)
            entries.append({"name": name, "archive": out})
        return entries

    def remote(self):
        """A bare git repository standing for CodeCommit's `deployment` when the cloud hosts no git."""
        self.counter += 1
        path = os.path.join(self.work, "remotes", "deployment-%d.git" % self.counter)
        subprocess.run(["git", "init", "--quiet", "--bare", path], check=True)
        return "file://" + path

    def deploy_dir(self):
        self.counter += 1
        return os.path.join(self.work, "deploy-%d" % self.counter, "deployment")

    # -- runs ----------------------------------------------------------------
    def _cloud_log(self, reset=False):
        """The local cloud's own request log ({total, services}), or None where it has none."""
        url = self.cloud.endpoint + "/_localcloud/requests" + ("/reset" if reset else "")
        try:
            req = urllib.request.Request(url, data=b"" if reset else None, method="POST" if reset else "GET")
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b"{}")
        except (OSError, ValueError):
            return None

    def _timed(self, cmd, env=None):
        self.proxy.log.reset()
        self._cloud_log(reset=True)
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env or self.env, capture_output=True, text=True)
        seconds = round(time.monotonic() - start, 2)
        counts = self.proxy.counts()
        counts["proxy_api_calls"] = counts["api_calls"]
        cloud = self._cloud_log()
        if cloud and "total" in cloud:
            # The cloud's count is the reference; the proxy's is kept beside it as a cross-check.
            counts["api_calls"] = cloud["total"]
            counts["by_operation"] = dict(sorted(
                ("%s:%s" % (svc, op), n) for svc, ops in cloud.get("services", {}).items() for op, n in ops.items()))
            counts["counted_by"] = "local cloud request log"
        else:
            counts["counted_by"] = "bench proxy"
        return proc, seconds, counts

    def playbook(self, path, extra_vars=None):
        cmd = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(ROOT, "inventories", "local"), path]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        proc, seconds, counts = self._timed(cmd)
        result = {"rc": proc.returncode, "seconds": seconds, "tail": (proc.stdout + proc.stderr)[-4000:]}
        result.update(counts)
        try:
            data = json.loads(proc.stdout[proc.stdout.index("{"):])
            stats = data["stats"].get("localhost", {})
            result["changed"] = stats.get("changed")
            result["tasks"] = task_times(data)
            result["module_runs"], result["module_runs_by_action"] = benchlib.module_runs(data)
            result["checklist"] = [item for play in data.get("plays", []) for t in play.get("tasks", [])
                                   for item in t.get("hosts", {}).get("localhost", {}).get("checklist", [])]
            result["changed_tasks"] = sorted({
                t["task"]["name"] for play in data.get("plays", []) for t in play.get("tasks", [])
                if t.get("hosts", {}).get("localhost", {}).get("changed")})
        except (ValueError, KeyError):
            result["changed"] = None
        return result

    def converge(self, entries, remote, deploy_dir, path=PHASE5):
        extra = {"microservices": entries, "image_push_method": "archive",
                 "taskdef_appspec_dir": deploy_dir}
        if remote:
            extra["taskdef_appspec_remote_url"] = remote
        result = self.playbook(path, extra)
        if result["rc"]:
            raise SystemExit("%s failed (%d services):\n%s" % (os.path.basename(path), len(entries), result["tail"]))
        return result

    def status(self, entries):
        result = self.playbook(STATUS, {"microservices": entries})
        if result["rc"]:
            raise SystemExit("status.yml failed:\n%s" % result["tail"])
        return result

    def cli(self, entries, remote, through=5):
        archives = os.path.dirname(entries[0]["archive"])
        self.counter += 1
        listed = os.path.join(self.work, "service-list-%d.json" % self.counter)
        with open(listed, "w") as handle:
            json.dump(entries, handle)
        cmd = ["bash", os.path.join(HERE, "lab_cli.sh"), "--endpoint", self.proxy.endpoint,
               "--workdir", os.path.join(self.work, "cli-%d" % self.counter), "--archives", archives,
               "--service-list", listed, "--through", str(through)]
        if remote:
            cmd += ["--remote", remote]
        env = dict(self.env, AWS_BIN=os.path.join(BIN, "aws"), PYTHON=sys.executable)
        proc, seconds, counts = self._timed(cmd, env)
        if proc.returncode:
            raise SystemExit("lab_cli.sh failed:\n%s" % (proc.stdout + proc.stderr)[-4000:])
        result = {"seconds": seconds}
        result.update(counts)
        return result

    def codecommit_hosts_git(self):
        """Whether the cloud serves git at CodeCommit's clone URL (the foundation's git-backed CodeCommit)."""
        client = self.cloud.client("codecommit")
        try:
            url = client.create_repository(repositoryName="bench-probe")["repositoryMetadata"]["cloneUrlHttp"]
        except Exception:  # noqa: BLE001  any failure means: no usable CodeCommit
            return False
        proc = subprocess.run(["git", "ls-remote", url], capture_output=True, text=True, timeout=30,
                              env=dict(self.env, GIT_TERMINAL_PROMPT="0"))
        self.cloud.reset()
        return proc.returncode == 0


def task_times(data):
    """{task name: seconds}, summed over the run, from the JSON callback's durations."""
    from datetime import datetime
    out = {}
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            dur = task.get("task", {}).get("duration", {})
            if not dur.get("start") or not dur.get("end"):
                continue
            parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
            name = task["task"]["name"]
            out[name] = round(out.get(name, 0) + (parse(dur["end"]) - parse(dur["start"])).total_seconds(), 3)
    return out


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4))
    series = [("phase5.yml", results.get("scale"), results.get("cli"), "Phase 5"),
              ("site.yml", (results.get("lab") or {}).get("scale"), (results.get("lab") or {}).get("cli"),
               "Phases 5 to 8")]
    ticks = set()
    for name, rows, cli, what in series:
        if not rows:
            continue
        x = [r["services"] for r in rows]
        ticks.update(x)
        line = ax.plot(x, [r["first_seconds"] for r in rows], "o-", label="%s first run" % name)[0]
        ax.plot(x, [r["rerun_seconds"] for r in rows], "s--", color=line.get_color(), label="%s no-op rerun" % name)
        if cli:
            ax.axhline(cli["seconds"], color=line.get_color(), linestyle=":",
                       label="lab CLI script, %s, %d services" % (what, results["services"]))
    ax.set_xlabel("services in `microservices`")
    ax.set_ylabel("wall time (s)")
    ax.set_xticks(sorted(ticks))
    ax.set_ylim(bottom=0)
    ax.set_title("The lab on the local cloud")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def top_tasks(tasks, count=12):
    return dict(sorted(tasks.items(), key=lambda kv: -kv[1])[:count])


def scale_row(count, names, first, rerun):
    """One point of a scale: the first run and the rerun of a playbook with `count` services."""
    return {
        "services": count, "names": names if count <= 2 else names[:1] + ["..."] + names[-1:],
        "first_seconds": first["seconds"], "first_api_calls": first["api_calls"],
        "rerun_seconds": rerun["seconds"], "rerun_api_calls": rerun["api_calls"],
        "rerun_changed": rerun["changed"],
        "first_module_runs": first.get("module_runs"), "rerun_module_runs": rerun.get("module_runs"),
        "first_by_operation": first["by_operation"], "rerun_by_operation": rerun["by_operation"],
        "first_slowest_tasks": top_tasks(first.get("tasks", {})),
        "rerun_slowest_tasks": top_tasks(rerun.get("tasks", {})),
    }


def trim(run):
    """A run as the JSON keeps it: its slowest tasks, not all of them nor the output's tail."""
    run["slowest_tasks"] = top_tasks(run.pop("tasks", {}))
    run.pop("tail", None)
    if "checklist" in run:
        run["checklist"] = benchlib.checklist_states(run["checklist"])
    return run


def measure_scale(bench, path, scale, sample, measured, git_backed, routes=False):
    """First run and rerun of the playbook at `path` for each count of `scale`; the sample's count is
    `measured` (the runs beside the CLI script), not run again."""
    rows = []
    for count in scale:
        if count == len(sample):
            # Each point costs a clean cloud, a lab environment and two runs: the sample is measured already.
            log("%s with %d services: the runs above" % (os.path.basename(path), count))
            rows.append(scale_row(count, [e["name"] for e in sample], measured["first"], measured["rerun"]))
            continue
        log("%s with %d generated services" % (os.path.basename(path), count))
        entries = bench.services(["svc%02d" % i for i in range(1, count + 1)])
        if routes:
            entries = benchlib.with_routes(entries)
        bench.fresh()
        remote = None if git_backed else bench.remote()
        deploy = bench.deploy_dir()
        first = bench.converge(entries, remote, deploy, path)
        rerun = bench.converge(entries, remote, deploy, path)
        rows.append(scale_row(count, [e["name"] for e in entries], first, rerun))
    return rows


def measure_phase5(bench, results, sample, scale, git_backed):
    log("lab CLI script, Phase 5, 2 services")
    bench.fresh()
    results["cli"] = bench.cli(sample, None if git_backed else bench.remote())

    log("phase5.yml first run and no-op rerun, 2 services")
    bench.fresh()
    remote = None if git_backed else bench.remote()
    deploy = bench.deploy_dir()
    runs = {"first": bench.converge(sample, remote, deploy), "rerun": bench.converge(sample, remote, deploy)}
    results["scale"] = measure_scale(bench, PHASE5, scale, sample, runs, git_backed)
    results["phase5"] = {key: trim(run) for key, run in runs.items()}


def measure_lab(bench, results, sample, scale, git_backed):
    sample = benchlib.with_routes(sample)
    lab = results["lab"] = {}
    log("lab CLI script, Phases 5 to 8, 2 services")
    bench.fresh()
    lab["cli"] = bench.cli(sample, None if git_backed else bench.remote(), through=8)
    # The baseline makes the same lab: status.yml reads what the script made (not timed with it).
    lab["cli"]["checklist"] = benchlib.checklist_states(bench.status(sample)["checklist"])

    log("site.yml first run and no-op rerun, then status.yml, 2 services")
    bench.fresh()
    remote = None if git_backed else bench.remote()
    deploy = bench.deploy_dir()
    runs = {"first": bench.converge(sample, remote, deploy, SITE), "rerun": bench.converge(sample, remote, deploy, SITE)}
    lab["status"] = trim(bench.status(sample))
    lab["scale"] = measure_scale(bench, SITE, scale, sample, runs, git_backed, routes=True)
    lab["site"] = {key: trim(run) for key, run in runs.items()}


def measure_push(bench, results):
    log("archive push: first, unchanged, one changed layer")
    bench.fresh()
    results["push"] = []
    base = bench.services(["customer"])
    changed = bench.services(["customer"], variant="changed")
    for step, entries in (("first", base), ("unchanged", base), ("one changed layer", changed)):
        run = bench.playbook(PUSH, {"microservices": entries})
        if run["rc"]:
            raise SystemExit("push.yml failed (%s):\n%s" % (step, run["tail"]))
        results["push"].append({"step": step, "seconds": run["seconds"], "upload_bytes": run["upload_bytes"],
                                "api_calls": run["api_calls"], "changed": run["changed"]})


def _labs_run(cmd, env):
    """One ansible-playbook run of the many-labs part: wall time, CPU time of it and everything under it (the
    children's rusage), peak resident memory of its process tree, the JSON callback's stats."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with benchlib.TreeMemory(proc.pid, interval=0.25) as memory:
        out, err = proc.communicate()
    seconds = round(time.monotonic() - start, 2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        stats = json.loads(out[out.index("{"):])["stats"]
    except ValueError:
        stats = {}
    return {"rc": proc.returncode, "seconds": seconds, "cpu_seconds": round(cpu, 2),
            "peak_rss_bytes": memory.peak_bytes, "peak_pss_bytes": memory.peak_pss_bytes,
            "peak_processes": memory.peak_processes, "stats": stats,
            "tail": (out + err)[-4000:]}


def measure_labs(bench, results, sample, count=4):
    """site.yml's first run on one lab, then on `count` labs at once, each lab a local cloud of its own."""
    base = os.path.join(bench.work, "labs")
    clouds = {}
    entries = benchlib.with_routes(sample)
    try:
        for index in range(1, count + 1):
            name = "lab%d" % index
            os.makedirs(os.path.join(base, name))
            clouds[name] = LocalCloud(os.path.join(base, name)).start()
        env = dict(bench.env)
        for key in ("LOCALCLOUD_ENDPOINT", "AWS_ENDPOINT_URL"):
            env.pop(key, None)
        runs = {}
        for labs in (1, count):
            chosen = dict((name, clouds[name].endpoint) for name in sorted(clouds)[:labs])
            for name in chosen:
                clouds[name].reset()
            inventory = localcloud_labs.write_inventory(
                os.path.join(base, "inventory-%d" % labs), chosen,
                os.path.join(ROOT, "inventories", "local", "group_vars", "all.yml"))
            home = os.path.join(base, "home-%d" % labs)
            os.makedirs(home)
            run_env = dict(env, HOME=home)
            cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, "--forks", str(labs)]
            log("lab_environment.yml on %d lab(s)" % labs)
            ready = _labs_run(cmd + [LAB], run_env)
            if ready["rc"]:
                raise SystemExit("lab_environment.yml failed on %d labs:\n%s" % (labs, ready["tail"]))
            log("site.yml first run on %d lab(s), forks %d" % (labs, labs))
            run = _labs_run(cmd + [SITE, "-e", json.dumps({"microservices": entries, "image_push_method": "archive"})],
                            run_env)
            failed = [host for host, stat in run["stats"].items() if stat.get("failures") or stat.get("unreachable")]
            if run["rc"] or failed or len(run["stats"]) != labs:
                raise SystemExit("site.yml failed on %d labs (%s):\n%s" % (labs, ", ".join(failed), run["tail"]))
            run.pop("tail")
            runs[labs] = run
    finally:
        for cloud in clouds.values():
            cloud.stop()
    results["labs"] = benchlib.labs_figures(runs[1], runs[count], count)
    results["labs"]["peak_processes"] = runs[count]["peak_processes"]


def counts(text):
    return [int(n) for n in text.split(",") if n.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="what to measure, of %s" % ", ".join(PARTS))
    parser.add_argument("--scale", default="2,10,20", help="service counts of the phase5.yml scale runs")
    parser.add_argument("--lab-scale", default="2,20", help="service counts of the site.yml scale runs")
    parser.add_argument("--out", default=RESULTS, help="folder of bench.json / bench.txt / bench.png")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, clones)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error("unknown part %s: the parts are %s" % (", ".join(unknown), ", ".join(PARTS)))
    for tool in ("git", "jq", "tar"):
        if not shutil.which(tool):
            raise SystemExit("bench needs %s (make system-deps)" % tool)
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="cloudlab-bench-")
    bench = Bench(work)
    started = time.monotonic()
    results = {"services": 2, "parts": parts, "machine": {"cpus": os.cpu_count()},
               "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    try:
        bench.start()
        git_backed = bench.codecommit_hosts_git()
        results["codecommit_remote"] = "local cloud (git smart HTTP)" if git_backed else "bare git repository (file://)"
        log("CodeCommit remote: %s" % results["codecommit_remote"])
        sample = bench.services(["customer", "employee"])
        if "phase5" in parts:
            measure_phase5(bench, results, sample, counts(args.scale), git_backed)
        if "lab" in parts:
            measure_lab(bench, results, sample, counts(args.lab_scale), git_backed)
        if "push" in parts:
            measure_push(bench, results)
        if "labs" in parts:
            measure_labs(bench, results, sample)
    finally:
        bench.stop()
        if args.keep:
            log("work folder kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    results["targets"] = benchlib.evaluate(results)
    results["bench_seconds"] = round(time.monotonic() - started, 1)
    text = benchlib.render(results)
    print()
    print(text)
    print("\nbench took %.0f s; results in %s" % (results["bench_seconds"], os.path.relpath(args.out, os.getcwd())))
    with open(os.path.join(args.out, "bench.json"), "w") as handle:
        json.dump(results, handle, indent=2, sort_keys=True)
    with open(os.path.join(args.out, "bench.txt"), "w") as handle:
        handle.write(text + "\n")
    plot(results, os.path.join(args.out, "bench.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
