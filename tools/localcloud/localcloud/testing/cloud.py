"""A local cloud for tests and benchmarks: the launcher, its control API, a Docker engine of one's own.

Nothing here knows the Ansible collection: a caller that runs ansible adds its own settings (ANSIBLE_CONFIG)
to the environment `LocalCloud.env()` gives.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

from localcloud.common import free_port, stop_process, unmount_under

BIN = os.path.dirname(sys.executable)
REGION = "us-east-1"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_SESSION_TOKEN": "test",
    "AWS_DEFAULT_REGION": REGION,
}

__all__ = ["AWS_ENV", "BIN", "LocalCloud", "add_fault", "clear_faults", "faults", "free_port", "request_counts",
           "reset_request_counts", "start_dockerd", "stop_dockerd"]


class LocalCloud:
    """A running `python -m localcloud serve` process on 127.0.0.1."""

    def __init__(self, state_dir, port=None, env=None):
        self.port = port or free_port()
        self.state_dir = str(state_dir)
        # Tasks run on a Docker engine only where a test asks (env LOCALCLOUD_TASKS=on and DOCKER_HOST).
        self.server_env = dict({"LOCALCLOUD_TASKS": "off"}, **(env or {}))
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.proc = None

    def start(self, timeout=60):
        log = open(os.path.join(self.state_dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localcloud", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--state-dir", self.state_dir],
            cwd=self.state_dir, stdout=log, stderr=subprocess.STDOUT,
            env=dict(os.environ, **dict(AWS_ENV, **self.server_env)))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("local cloud exited early, see %s/server.log" % self.state_dir)
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2)
                return self
            except Exception:  # not answering yet
                time.sleep(0.2)
        raise RuntimeError("local cloud did not answer within %ss" % timeout)

    def stop(self):
        stop_process(self.proc, 15)

    def reset(self):
        """Forget every resource (moto's state, and ours where the cloud has a reset)."""
        req = urllib.request.Request(self.endpoint + "/moto-api/reset", data=b"", method="POST")
        urllib.request.urlopen(req, timeout=10)
        try:
            req = urllib.request.Request(self.endpoint + "/_localcloud/reset", data=b"", method="POST")
            urllib.request.urlopen(req, timeout=10)
        except Exception:  # older local cloud without its own state
            pass

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id="test", aws_secret_access_key="test",
                            aws_session_token="test")

    def env(self):
        """Environment for a subprocess (aws, git, ansible-playbook) aimed at this cloud."""
        env = dict(os.environ, **AWS_ENV)
        env.update({
            "LOCALCLOUD_ENDPOINT": self.endpoint,
            "AWS_ENDPOINT_URL": self.endpoint,
            "PATH": BIN + os.pathsep + env.get("PATH", ""),
        })
        return env


def _control(cloud, path, body=None, method=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(cloud.endpoint + "/_localcloud/" + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def add_fault(cloud, **rule):
    """A fault rule of the local cloud (/_localcloud/faults: mode, count, seconds, match)."""
    _control(cloud, "faults", rule, "POST")


def faults(cloud):
    """The fault rules still live."""
    return _control(cloud, "faults")["faults"]


def clear_faults(cloud):
    try:
        _control(cloud, "faults", method="DELETE")
    except Exception:  # a cloud without faults has none to clear
        pass


def request_counts(cloud):
    """The cloud's request log (/_localcloud/requests): {since, total, services: {service: {operation: n}}, ...}."""
    return _control(cloud, "requests")


def reset_request_counts(cloud):
    return _control(cloud, "requests/reset", {}, "POST")


def start_dockerd(timeout=60):
    """A Docker engine of one's own on a unix socket under a temp folder (root only).

    Returns (process, base folder, environment with DOCKER_HOST and DOCKER_CONFIG); RuntimeError when it does
    not answer within `timeout` seconds. `stop_dockerd` ends it and removes its folder.
    """
    base = tempfile.mkdtemp(prefix="ecr-dockerd-", dir="/tmp")
    sock = os.path.join(base, "docker.sock")
    log = open(os.path.join(base, "dockerd.log"), "wb")
    proc = subprocess.Popen(
        ["dockerd", "--data-root", os.path.join(base, "data"), "--exec-root", os.path.join(base, "exec"),
         "--pidfile", os.path.join(base, "dockerd.pid"), "-H", "unix://" + sock,
         "--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--bridge=none"],
        stdout=log, stderr=subprocess.STDOUT)
    log.close()
    env = dict(os.environ, DOCKER_HOST="unix://" + sock, DOCKER_CONFIG=os.path.join(base, "config"))
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("dockerd exited early, see %s/dockerd.log" % base)
        if subprocess.run(["docker", "version"], env=env, capture_output=True, check=False).returncode == 0:
            return proc, base, env
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("dockerd did not answer within %d s, see %s/dockerd.log" % (timeout, base))


def stop_dockerd(proc, base):
    stop_process(proc, 30)
    unmount_under(base)
    shutil.rmtree(base, ignore_errors=True)
