"""The benchmark's own helpers (bench/benchlib.py): request classification,
the counting proxy against a real HTTP server, the targets and the table."""
import base64
import http.client
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import ROOT

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from bench import benchlib

BENCH = os.path.join(ROOT, "bench")

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/%s/aws4_request, "
                           "SignedHeaders=host, Signature=abc"}


def signed(service, **extra):
    headers = {"Authorization": SIGNED["Authorization"] % service}
    headers.update(extra)
    return headers


def test_classify_json_protocol_by_target():
    headers = signed("ecr", **{"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.CreateRepository"})
    assert benchlib.classify("POST", "/", headers, b"{}") == ("aws", "ecr", "CreateRepository")


def test_classify_query_protocol_by_action():
    headers = signed("cloudformation", **{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    body = b"Action=DescribeStacks&Version=2010-05-15&StackName=x"
    assert benchlib.classify("POST", "/", headers, body) == ("aws", "cloudformation", "DescribeStacks")


def test_classify_git_and_internal_requests_apart():
    assert benchlib.classify("GET", "/v1/repos/deployment/info/refs?service=git-receive-pack", {}, b"")[0] == "git"
    assert benchlib.classify("POST", "/moto-api/reset", {}, b"")[0] == "internal"
    assert benchlib.classify("GET", "/_localcloud/requests", {}, b"")[0] == "internal"


def test_layer_bytes_counts_decoded_blob_of_upload_layer_part_only():
    blob = os.urandom(1000)
    body = json.dumps({"layerPartBlob": base64.b64encode(blob).decode(), "uploadId": "u"}).encode()
    assert benchlib.layer_bytes("UploadLayerPart", body) == 1000
    assert benchlib.layer_bytes("PutImage", body) == 0
    assert benchlib.layer_bytes("UploadLayerPart", b"not json") == 0


@pytest.fixture
def upstream():
    """A real HTTP server that echoes method, path and body, standing for the local cloud."""
    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            data = json.dumps({"method": self.command, "path": self.path, "len": len(body),
                               "target": self.headers.get("X-Amz-Target")}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Echo", "1")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    proxy = benchlib.CountingProxy("127.0.0.1", upstream).start()
    yield proxy
    proxy.stop()


def test_proxy_forwards_and_counts_per_operation(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    blob = base64.b64encode(b"x" * 300).decode()
    for target, body in (("CreateRepository", "{}"), ("UploadLayerPart", json.dumps({"layerPartBlob": blob})),
                         ("UploadLayerPart", json.dumps({"layerPartBlob": blob}))):
        headers = signed("ecr", **{"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921." + target,
                                   "Content-Type": "application/x-amz-json-1.1"})
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        echoed = json.loads(resp.read())
        # Same keep-alive connection, same request seen upstream.
        assert resp.status == 200 and resp.getheader("X-Echo") == "1"
        assert echoed["len"] == len(body) and echoed["target"].endswith(target)
    conn.request("GET", "/moto-api/", headers={})
    conn.getresponse().read()
    snap = proxy.counts()
    assert snap["api_calls"] == 3
    assert snap["by_operation"] == {"ecr:CreateRepository": 1, "ecr:UploadLayerPart": 2}
    assert snap["upload_bytes"] == 600
    proxy.log.reset()
    assert proxy.counts()["api_calls"] == 0


def test_proxy_unchunks_a_chunked_request(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("POST", "/v1/repos/deployment/git-receive-pack", body=iter([b"abc", b"defgh"]),
                 headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
    echoed = json.loads(conn.getresponse().read())
    assert echoed["len"] == 8
    assert proxy.counts()["git_requests"] == 1


def results(cli=40.0, first=30.0, rerun=10.0, s2=20.0, s20=90.0, unchanged_bytes=0, first_modules=14):
    return {
        "services": 2,
        "cli": {"seconds": cli, "api_calls": 38},
        "phase5": {"first": {"seconds": first, "api_calls": 50, "changed": 9, "module_runs": first_modules},
                   "rerun": {"seconds": rerun, "api_calls": 30, "changed": 0, "module_runs": 12}},
        "scale": [{"services": 2, "first_seconds": s2, "first_api_calls": 50, "rerun_seconds": 9,
                   "rerun_api_calls": 30, "rerun_changed": 0},
                  {"services": 20, "first_seconds": s20, "first_api_calls": 300, "rerun_seconds": 20,
                   "rerun_api_calls": 120, "rerun_changed": 0}],
        "push": [{"step": "first", "seconds": 3, "upload_bytes": 2000, "api_calls": 20},
                 {"step": "unchanged", "seconds": 2, "upload_bytes": unchanged_bytes, "api_calls": 5}],
    }


def test_evaluate_marks_each_target_from_the_figures():
    targets = benchlib.evaluate(results())
    assert targets["first_run_vs_cli"]["value"] == 0.75 and targets["first_run_vs_cli"]["met"]
    assert targets["rerun_vs_cli"]["value"] == 0.25 and targets["rerun_vs_cli"]["met"]
    assert targets["scale_20_vs_2"]["value"] == 4.5 and targets["scale_20_vs_2"]["met"] is False
    assert targets["unchanged_push_bytes"]["met"]
    assert targets["first_module_runs"]["value"] == 14 and targets["first_module_runs"]["met"]
    assert targets["rerun_module_runs"]["met"]
    missed = benchlib.evaluate(results(cli=20.0, rerun=20.0, unchanged_bytes=5, first_modules=16))
    assert not missed["first_run_vs_cli"]["met"]
    assert not missed["rerun_vs_cli"]["met"]
    assert not missed["unchanged_push_bytes"]["met"]
    assert not missed["first_module_runs"]["met"]


def test_module_runs_counts_module_executions_only():
    def task(action, **host):
        host["action"] = action
        return {"task": {"name": action}, "hosts": {"localhost": host}}
    data = {"plays": [{"tasks": [
        task("ansible.builtin.set_fact"), task("ansible.builtin.debug"),
        task("cloudlab.microservices.preflight"), task("ansible.builtin.include_role"),
        task("amazon.aws.aws_caller_info"),
        task("cloudlab.microservices.ecr_repository", skipped=True),
        task("ansible.builtin.stat", results=[{"changed": False}, {"skipped": True}, {"changed": True}]),
    ]}]}
    count, by_action = benchlib.module_runs(data)
    assert count == 3
    assert by_action == {"amazon.aws.aws_caller_info": 1, "ansible.builtin.stat": 2}


def test_evaluate_reports_a_missing_scale_point_as_not_measured():
    data = results()
    data["scale"] = data["scale"][:1]
    assert benchlib.evaluate(data)["scale_20_vs_2"]["met"] is None


def test_render_shows_every_section_and_verdict():
    data = results()
    data["targets"] = benchlib.evaluate(data)
    text = benchlib.render(data)
    for needle in ("lab CLI script", "phase5.yml no-op rerun", "x2 time", "unchanged", "NOT MET", "met"):
        assert needle in text
    # Columns line up: every line of a section has its cells at the same offsets.
    section = text.split("\n\n")[0].splitlines()
    gaps = [i for i, ch in enumerate(section[1]) if ch == " "]
    assert gaps
    for line in section:
        assert all(line[i] == " " for i in gaps if i < len(line)), line


# ---- the whole lab: routes, the CLI script's Phases 6 to 8, the targets and the table ----------------
def test_with_routes_gives_every_service_but_the_first_a_path():
    entries = benchlib.with_routes([{"name": "customer", "path_pattern": "/x/*"}, {"name": "employee"},
                                    {"name": "svc03"}, {"name": "svc04", "path_pattern": "/own/*"}])
    assert "path_pattern" not in entries[0]
    assert entries[1] == {"name": "employee", "health_check_path": "/admin/suppliers", "path_pattern": "/admin/*"}
    assert entries[2] == {"name": "svc03", "path_pattern": "/svc03/*"}
    assert entries[3]["path_pattern"] == "/own/*"


def lab_results(cli=100.0, first=50.0, rerun=25.0, rerun_modules=20, status_modules=1, s20=90.0):
    def run(seconds, modules):
        return {"seconds": seconds, "api_calls": 100, "changed": 0, "module_runs": modules}
    return {"cli": {"seconds": cli, "api_calls": 90},
            "site": {"first": run(first, 30), "rerun": run(rerun, rerun_modules)},
            "status": run(2.0, status_modules),
            "scale": [{"services": 2, "first_seconds": first, "first_api_calls": 100, "rerun_seconds": rerun,
                       "rerun_api_calls": 60, "rerun_changed": 0},
                      {"services": 20, "first_seconds": s20, "first_api_calls": 900, "rerun_seconds": 40,
                       "rerun_api_calls": 400, "rerun_changed": 0}]}


def test_evaluate_marks_the_whole_lab_targets():
    data = results()
    data["lab"] = lab_results()
    targets = benchlib.evaluate(data)
    assert targets["site_first_vs_cli"]["value"] == 0.5 and targets["site_first_vs_cli"]["met"]
    assert targets["site_rerun_vs_cli"]["value"] == 0.25 and targets["site_rerun_vs_cli"]["met"] is False
    assert targets["site_rerun_module_runs"]["value"] == 20 and targets["site_rerun_module_runs"]["met"] is False
    assert targets["status_module_runs"]["met"]
    assert targets["site_scale_20_vs_2"]["value"] == 1.8 and targets["site_scale_20_vs_2"]["met"]
    data["lab"] = lab_results(first=70.0, rerun=20.0, rerun_modules=6, status_modules=2, s20=150.0)
    targets = benchlib.evaluate(data)
    assert targets["site_first_vs_cli"]["met"] is False
    assert targets["site_rerun_vs_cli"]["met"] and targets["site_rerun_module_runs"]["met"]
    assert targets["status_module_runs"]["met"] is False
    assert targets["site_scale_20_vs_2"]["met"] is False


def test_a_part_left_out_is_not_measured():
    only_lab = {"services": 2, "lab": lab_results()}
    targets = benchlib.evaluate(only_lab)
    assert targets["first_run_vs_cli"]["met"] is None and targets["unchanged_push_bytes"]["met"] is None
    assert targets["site_first_vs_cli"]["met"] is True
    without_lab = benchlib.evaluate(results())
    assert all(without_lab[name]["met"] is None for name in
               ("site_first_vs_cli", "site_rerun_vs_cli", "site_rerun_module_runs", "status_module_runs",
                "site_scale_20_vs_2"))
    only_lab["targets"] = targets
    text = benchlib.render(only_lab)
    assert "phase5.yml" not in text and "archive push" not in text
    assert "site.yml no-op rerun" in text and "status.yml" in text and "site.yml services" in text


def test_render_shows_the_whole_lab_beside_its_cli_script():
    data = results()
    data["lab"] = lab_results()
    data["targets"] = benchlib.evaluate(data)
    sections = benchlib.render(data).split("\n\n")
    (lab,) = [s for s in sections if s.startswith("run (") and "site.yml first run" in s]
    rows = {line.split("  ")[0].strip(): line.split() for line in lab.splitlines()[2:]}
    assert rows["lab CLI script (bench/lab_cli.sh)"][-1] == "1.00"
    assert rows["site.yml first run"][-1] == "0.50" and rows["site.yml no-op rerun"][-1] == "0.25"
    assert rows["status.yml"][-3] == "1"  # module runs
    verdicts = [line for line in sections[-1].splitlines() if "site.yml no-op rerun: module" in line]
    assert verdicts and verdicts[0].rstrip().endswith("NOT MET")


FAKE_AWS = r'''#!/usr/bin/env python3
"""Stands for the aws CLI: writes its arguments as one JSON line, answers what --query asks."""
import json, os, sys
args = sys.argv[1:]
while args and args[0] in ("--endpoint-url", "--region", "--output"):
    args = args[2:]
with open(os.environ["FAKE_AWS_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
def opt(name):
    return args[args.index(name) + 1] if name in args else ""
answers = {"get-caller-identity": "123456789012", "create-target-group": "arn:tg/" + opt("--name"),
           "create-listener": "arn:listener/" + opt("--port"), "create-security-group": "sg-0123456789abcdef0"}
if "--query" in args:
    print(answers.get(args[1], "answer-of-" + args[1]))
'''


def run_lab_cli(tmp_path, *args):
    """lab_cli.sh run with a stand-in for the aws CLI and a bare git remote: (process, calls made so far)."""
    fake = tmp_path / "aws"
    if not fake.exists():
        fake.write_text(FAKE_AWS)
        fake.chmod(0o755)
        subprocess.run(["git", "init", "--quiet", "--bare", str(tmp_path / "remote.git")], check=True)
    log = tmp_path / "calls.jsonl"
    env = dict(os.environ, AWS_BIN=str(fake), FAKE_AWS_LOG=str(log), PYTHON=sys.executable)
    proc = subprocess.run(["bash", os.path.join(BENCH, "lab_cli.sh"), "--remote", "file://%s" % (tmp_path / "remote.git")]
                          + list(args), env=env, capture_output=True, text=True, check=False)
    return proc, [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def lab_cli_calls(tmp_path):
    """lab_cli.sh --through 8 with the sample's routes: the calls it makes, in order."""
    services = tmp_path / "services.json"
    services.write_text(json.dumps(benchlib.with_routes([{"name": "customer"}, {"name": "employee"}])))
    proc, calls = run_lab_cli(tmp_path, "--workdir", str(tmp_path / "work"), "--service-list", str(services),
                              "--through", "8")
    assert proc.returncode == 0, proc.stderr
    return calls


def _calls(calls, service, operation):
    return [c for c in calls if c[:2] == [service, operation]]


def _opt(call, name):
    return call[call.index(name) + 1]


def test_lab_cli_makes_phase6_as_the_lab_says(lab_cli_calls):
    groups = _calls(lab_cli_calls, "elbv2", "create-target-group")
    assert sorted(_opt(c, "--name") for c in groups) == sorted(
        _lab.target_groups([{"name": "customer"}, {"name": "employee"}]))
    assert {_opt(c, "--name"): _opt(c, "--health-check-path") for c in groups}[
        _lab.target_group("employee", "one")] == "/admin/suppliers"
    assert sorted(_opt(c, "--port") for c in _calls(lab_cli_calls, "ec2", "authorize-security-group-ingress")) == [
        "80", "8080"]
    (balancer,) = _calls(lab_cli_calls, "elbv2", "create-load-balancer")
    assert _opt(balancer, "--name") == _lab.LOAD_BALANCER
    listeners = {_opt(c, "--port"): _opt(c, "--default-actions")
                 for c in _calls(lab_cli_calls, "elbv2", "create-listener")}
    assert listeners == {"80": "Type=forward,TargetGroupArn=arn:tg/" + _lab.target_group("customer", "two"),
                         "8080": "Type=forward,TargetGroupArn=arn:tg/" + _lab.target_group("customer", "one")}
    rules = {_opt(c, "--listener-arn"): c for c in _calls(lab_cli_calls, "elbv2", "create-rule")}
    assert sorted(rules) == ["arn:listener/80", "arn:listener/8080"]
    assert _opt(rules["arn:listener/80"], "--priority") == str(_lab.rule_priority(1))
    assert _opt(rules["arn:listener/80"], "--conditions") == "Field=path-pattern,Values=/admin/*"
    assert _opt(rules["arn:listener/8080"], "--actions").endswith(_lab.target_group("employee", "one"))


def test_lab_cli_makes_phases7_and_8_with_the_model_names(lab_cli_calls, tmp_path):
    services = _calls(lab_cli_calls, "ecs", "create-service")
    assert len(services) == 2
    spec = json.loads((tmp_path / "work" / "service-employee.json").read_text())
    assert spec["serviceName"] == _lab.ecs_service("employee")
    assert spec["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert spec["loadBalancers"][0]["targetGroupArn"] == "arn:tg/" + _lab.target_group("employee", "two")
    group = json.loads((tmp_path / "work" / "group-customer.json").read_text())
    assert group["deploymentGroupName"] == _lab.deployment_group(_lab.APPLICATION, "customer")
    pair = group["loadBalancerInfo"]["targetGroupPairInfoList"][0]
    assert [g["name"] for g in pair["targetGroups"]] == [_lab.target_group("customer", w) for w in ("two", "one")]
    assert pair["prodTrafficRoute"]["listenerArns"] == ["arn:listener/80"]
    (bucket,) = _calls(lab_cli_calls, "s3api", "create-bucket")
    assert _opt(bucket, "--bucket") == _lab.artifact_bucket("us-east-1", "123456789012")
    pipeline = json.loads((tmp_path / "work" / "pipeline-employee.json").read_text())["pipeline"]
    assert pipeline["name"] == _lab.pipeline("employee")
    deploy = pipeline["stages"][1]["actions"][0]["configuration"]
    assert deploy["TaskDefinitionTemplatePath"] == _lab.taskdef_file("employee")
    assert deploy["Image1ArtifactName"] == _lab.image_artifact("employee")
    rules = [_opt(c, "--name") for c in _calls(lab_cli_calls, "events", "put-rule")]
    assert rules == _lab.event_rules(_lab.pipeline("customer")) + _lab.event_rules(_lab.pipeline("employee"))
    assert len(_calls(lab_cli_calls, "events", "put-targets")) == 4


def test_lab_cli_stops_after_phase5_unless_told(tmp_path):
    proc, calls = run_lab_cli(tmp_path, "--workdir", str(tmp_path / "w"))
    assert proc.returncode == 0, proc.stderr
    operations = {tuple(call[:2]) for call in calls}
    assert ("ecs", "register-task-definition") in operations
    assert not [op for op in operations if op[0] in ("elbv2", "deploy", "codepipeline", "events")
                or op == ("ecs", "create-service")]
    refused, after = run_lab_cli(tmp_path, "--workdir", str(tmp_path / "w2"), "--through", "7")
    assert refused.returncode == 2 and "--through is 5 or 8" in refused.stderr
    assert after == calls  # refused before its first call


def test_render_says_how_much_of_the_lab_the_cli_script_made():
    data = {"services": 2, "lab": lab_results()}
    items = [{"task": "5.1", "state": "done"}, {"task": "6.2", "state": "drifted"}, {"task": "8.2", "state": "missing"}]
    data["lab"]["cli"]["checklist"] = benchlib.checklist_states(items)
    assert benchlib.not_done(data["lab"]["cli"]["checklist"]) == ["6.2 drifted", "8.2 missing"]
    data["targets"] = benchlib.evaluate(data)
    assert "status.yml on the CLI script's lab: 1 of 3 tasks done (not: 6.2 drifted, 8.2 missing)" in \
        benchlib.render(data)
    data["lab"]["cli"]["checklist"] = benchlib.checklist_states(items[:1])
    data["targets"] = benchlib.evaluate(data)
    assert "1 of 1 tasks done\n" in benchlib.render(data) + "\n"


def labs_results(one=30.0, many=70.0, rss_many=4 * 200 * 1024 ** 2, pss_many=4 * 100 * 1024 ** 2):
    one_run = {"seconds": one, "cpu_seconds": 20.0, "peak_rss_bytes": 300 * 1024 ** 2, "peak_pss_bytes": 200 * 1024 ** 2}
    many_run = {"seconds": many, "cpu_seconds": 72.0, "peak_rss_bytes": rss_many, "peak_pss_bytes": pss_many}
    results = {"services": 2, "labs": benchlib.labs_figures(one_run, many_run, 4)}
    results["targets"] = benchlib.evaluate(results)
    return results


def test_labs_figures_give_the_ratio_cpu_and_memory_per_lab():
    labs = labs_results()["labs"]
    assert (labs["ratio"], labs["cpu_seconds_per_lab"], labs["memory_per_lab_mb"], labs["pss_per_lab_mb"]) == (
        2.33, 18.0, 200.0, 100.0)


def test_evaluate_marks_the_many_labs_targets():
    targets = labs_results()["targets"]
    assert targets["labs_4_vs_1"]["met"] is True
    assert targets["labs_memory_per_lab_mb"]["met"] is False
    assert targets["labs_pss_per_lab_mb"]["met"] is True
    targets = labs_results(many=80.0)["targets"]
    assert targets["labs_4_vs_1"]["met"] is False
    assert benchlib.evaluate({"services": 2})["labs_4_vs_1"]["met"] is None


def test_render_shows_the_many_labs_table():
    text = benchlib.render(labs_results())
    assert "4 labs (forks 4)" in text and "PSS MB per lab" in text
    assert "site.yml on 4 labs (forks 4) / on 1 lab, wall time" in text


def test_tree_memory_counts_a_process_and_its_children():
    child = subprocess.Popen([sys.executable, "-c", "import subprocess, sys; "
                              "subprocess.run([sys.executable, '-c', 'import time; time.sleep(5)'])"])
    try:
        import time
        deadline = time.time() + 10
        while len(benchlib.descendants(child.pid)) < 2 and time.time() < deadline:
            time.sleep(0.05)
        rss, pss, count = benchlib.tree_memory(child.pid)
        assert count == 2 and rss > pss > 0
    finally:
        child.kill()
        child.wait()
