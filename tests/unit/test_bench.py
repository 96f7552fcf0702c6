"""The benchmark's own helpers (bench/benchlib.py): request classification,
the counting proxy against a real HTTP server, the targets and the table."""
import base64
import http.client
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench"))

import benchlib  # noqa: E402

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
    snap = proxy.log.snapshot()
    assert snap["api_calls"] == 3
    assert snap["by_operation"] == {"ecr:CreateRepository": 1, "ecr:UploadLayerPart": 2}
    assert snap["upload_bytes"] == 600
    proxy.log.reset()
    assert proxy.log.snapshot()["api_calls"] == 0


def test_proxy_unchunks_a_chunked_request(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("POST", "/v1/repos/deployment/git-receive-pack", body=iter([b"abc", b"defgh"]),
                 headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
    echoed = json.loads(conn.getresponse().read())
    assert echoed["len"] == 8
    assert proxy.log.snapshot()["git_requests"] == 1


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
