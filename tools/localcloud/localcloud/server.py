"""WSGI application of the local cloud and the function that serves it.

One process, threaded, on 127.0.0.1: moto answers every API it has; this
application sits in front of it and answers what moto lacks (CodeCommit with
git, ECR's registry side and layer store), injects faults on request, and
counts AWS API calls.
"""
import contextlib
import errno
import json
import logging
import os
import signal
import socket
import sys
import time
import urllib.parse

from werkzeug.serving import make_server

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

from localcloud import ecr as ecr_mod
from localcloud import holdings as holdings_mod
from localcloud import listeners as listeners_mod
from localcloud import release as release_mod
from localcloud import tasks as tasks_mod
from localcloud.codecommit import CodeCommit
from localcloud.common import AwsError, aws_error_response, json_response, port_free, read_body, signing_scope
from localcloud.control import port_in_use_message
from localcloud.faults import Faults
from localcloud.gitserver import PREFIX as GIT_PREFIX, GitHttp
from localcloud.patches import apply_all as apply_moto_patches
from localcloud.registry import Registry
from localcloud.request_log import RequestLog

LOG = logging.getLogger("localcloud")
CONTROL = "/_localcloud/"


def _target(environ):
    """(service prefix, operation) from X-Amz-Target, e.g. ('CodeCommit_20150413', 'GetBranch')."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if "." in target:
        prefix, _, operation = target.rpartition(".")
        return prefix, operation
    return None, None


def _action(environ):
    """Action of a query-protocol request (EC2, IAM, STS, CloudFormation, RDS, ELBv2...)."""
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(read_body(environ).decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return None


def _is_query(environ):
    return environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")


class LocalCloud:
    def __init__(self, state_dir, host="127.0.0.1", port=4566, registry_port=None):
        self.state_dir = os.path.abspath(state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        self.host, self.port = host, port
        self.patches = apply_moto_patches()
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.faults = Faults()
        self.requests = RequestLog()
        self.codecommit = CodeCommit(self.state_dir)
        self.git = GitHttp(self.codecommit)
        self.registry = Registry(self.state_dir, port, registry_port, host="127.0.0.1")
        self.ecr = ecr_mod.Ecr(self.state_dir, self.registry)
        # Pipeline executions and ECS blue/green deployments (localcloud/release.py).
        self.release = release_mod.attach(self)
        # Tasks on the Docker engine and listeners on 127.0.0.1 (localcloud/tasks.py, listeners.py).
        self.tasks = None
        self.listeners = None
        self.private_engine = None
        self.tasks_reason = None
        self.started = time.time()

    # -- life cycle ----------------------------------------------------------
    def start_children(self):
        self.registry.start()
        self.start_tasks()

    def start_tasks(self):
        """Run ECS tasks on the Docker engine when LOCALCLOUD_TASKS allows it and an engine answers."""
        wanted = tasks_mod.mode()
        if wanted == "off":
            self.tasks_reason = "off (LOCALCLOUD_TASKS=off)"
            return
        engine = tasks_mod.Engine(self.state_dir)
        if not engine.probe() and engine.docker is not None:
            # No engine answers: one of our own, when this machine can run it.
            self.private_engine = tasks_mod.PrivateEngine(self.state_dir)
            host = self.private_engine.start()
            if host is not None:
                os.environ["DOCKER_HOST"] = host
                engine = tasks_mod.Engine(self.state_dir)
                engine.probe()
            else:
                engine.reason = "%s, and %s" % (engine.reason, self.private_engine.reason)
        if engine.version is None:
            self.tasks_reason = "off: %s" % engine.reason
            if wanted == "on":
                raise SystemExit("LOCALCLOUD_TASKS=on but %s (DOCKER_HOST=%s)" % (engine.reason, engine.host))
            return
        if not self.registry.running:
            self.tasks_reason = "off: the ECR registry side is off (%s)" % self.registry.reason
            return
        self.listeners = listeners_mod.ListenerProxies()
        self.tasks = tasks_mod.TaskRunner(self, engine)
        self.tasks.listeners = self.listeners
        self.tasks.start()
        self.tasks_reason = None
        LOG.info("ECS tasks run on the Docker engine %s at %s", engine.version, engine.host)

    def stop_children(self):
        if self.tasks is not None:
            self.tasks.stop()
            self.listeners.stop_all()
        if self.private_engine is not None:
            self.private_engine.stop()
        self.registry.stop()

    def poke_tasks(self):
        if self.tasks is not None:
            self.tasks.poke()

    def tasks_status(self):
        if self.tasks is None:
            return {"running": False, "reason": self.tasks_reason or "not started"}
        return {"running": True, "engine": self.tasks.engine.version, "dockerHost": self.tasks.engine.host,
                "ownEngine": self.private_engine is not None and self.private_engine.proc is not None}

    def status(self):
        return {"pid": os.getpid(), "state_dir": self.state_dir, "host": self.host, "port": self.port,
                "registry": self.registry.address, "registry_off_reason": self.registry.reason,
                "patches": self.patches, "tasks": self.tasks_status(),
                "uptime": round(time.time() - self.started, 1)}

    # -- dispatch ------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL):
            return self.control(environ, start_response, path[len(CONTROL):])
        if path.startswith(GIT_PREFIX):
            self.requests.add_git()
            return self.git(environ, start_response)
        if path.startswith("/moto-api"):
            return self.moto(environ, start_response)
        return self.aws(environ, start_response)

    def aws(self, environ, start_response):
        region, service = signing_scope(environ)
        prefix, operation = _target(environ)
        if operation is None:
            operation = _action(environ)
        if service is None and prefix:
            service = prefix.split("_")[0].lower()
        # A REST request (S3) names no operation: the log shows its method and path, faults see its service only.
        self.requests.add(service, operation or "%s %s" % (environ.get("REQUEST_METHOD"),
                                                           environ.get("PATH_INFO", "/")))
        fault = self.faults.take(service, operation)
        if fault:
            return self.answer_fault(fault, environ, start_response, service, prefix)
        host = environ.get("HTTP_HOST") or "%s:%d" % (self.host, self.port)
        try:
            if prefix == "CodeCommit_20150413":
                params = json.loads(read_body(environ) or b"{}")
                result = self.codecommit.handle(operation, params, region, host)
                if result is not None:
                    return json_response(start_response, 200, result)
            elif prefix == "AmazonEC2ContainerRegistry_V20150921":
                return self.ecr_request(environ, start_response, operation, region, host)
        except AwsError as exc:
            return aws_error_response(start_response, exc)
        answer = self.moto(environ, start_response)
        if service in ("ecs", "elasticloadbalancing"):
            self.poke_tasks()
        return answer

    def ecr_request(self, environ, start_response, operation, region, host):
        params = json.loads(read_body(environ) or b"{}")
        region = region or "us-east-1"
        registry_on = self.registry.running
        if operation in ecr_mod.INTERCEPTED and (operation != "GetAuthorizationToken" or registry_on):
            return json_response(start_response, 200, self.ecr.handle(operation, params, region, host))
        if operation in ecr_mod.READS:
            self.ecr.sync_repository(region, params.get("repositoryName"))
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        # moto's ECR backend is not safe under concurrent calls (a dict changing size while another request
        # iterates it): ECR requests to moto take the layer store's lock, as the intercepted operations do.
        with self.ecr.lock:
            body = b"".join(self.moto(environ, capture))
        if captured["status"].startswith("200"):
            if operation == "DeleteRepository":
                self.registry.forget_repository(params.get("repositoryName", ""))
            body = self.ecr.rewrite_uris(body)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(body)))])
        return [body]

    def answer_fault(self, mode, environ, start_response, service, prefix):
        if mode == "drop":
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            # Nothing more can reach the client; the handler's own write then fails quietly.
            raise ConnectionAbortedError("connection dropped on purpose (localcloud fault)")
        if mode == "unavailable":
            return self._protocol_error(environ, start_response, service, prefix, 503,
                                        "ServiceUnavailable", "Service Unavailable (localcloud fault)")
        if service == "s3" or environ.get("REQUEST_METHOD") == "HEAD":
            # S3 throttles with 503 SlowDown; to a HEAD that is the status alone, which botocore retries.
            return self._protocol_error(environ, start_response, service, prefix, 503, "SlowDown",
                                        "Please reduce your request rate. (localcloud fault)")
        code = "RequestLimitExceeded" if service == "ec2" else "Throttling"
        if prefix or not _is_query(environ):
            code = "ThrottlingException"
        return self._protocol_error(environ, start_response, service, prefix, 400, code, "Rate exceeded")

    @staticmethod
    def _protocol_error(environ, start_response, service, prefix, status, code, message):
        """An error in the shape the caller's protocol parses (JSON, query XML, EC2 XML, S3 XML; none to a HEAD)."""
        reason = "Bad Request" if status == 400 else "Service Unavailable"
        if environ.get("REQUEST_METHOD") == "HEAD":
            start_response("%d %s" % (status, reason), [("Content-Length", "0")])
            return [b""]
        if service == "s3":
            body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message>"
                    "<RequestId>localcloud-fault</RequestId></Error>" % (code, message)).encode()
            start_response("%d %s" % (status, reason), [("Content-Type", "application/xml"),
                                                        ("Content-Length", str(len(body)))])
            return [body]
        if prefix or not _is_query(environ):
            return aws_error_response(start_response, AwsError(code, message, status))
        if service == "ec2":
            body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                    "<Code>%s</Code><Message>%s</Message></Error></Errors>"
                    "<RequestID>localcloud-fault</RequestID></Response>" % (code, message)).encode()
        else:
            body = ("<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message>"
                    "</Error><RequestId>localcloud-fault</RequestId></ErrorResponse>"
                    % ("Sender" if status < 500 else "Receiver", code, message)).encode()
        start_response("%d %s" % (status, reason), [("Content-Type", "text/xml"),
                                                    ("Content-Length", str(len(body)))])
        return [body]

    # -- control endpoints ---------------------------------------------------
    def control(self, environ, start_response, what):
        method = environ.get("REQUEST_METHOD", "GET")

        def reply(doc, status=200):
            return json_response(start_response, status, doc, content_type="application/json")

        if what == "status" and method == "GET":
            return reply(self.status())
        if what == "reset" and method == "POST":
            self.reset()
            return reply({"reset": True})
        if what == "faults":
            if method == "GET":
                return reply(self.faults.state())
            if method == "DELETE":
                self.faults.clear()
                return reply(self.faults.state())
            if method == "POST":
                try:
                    rule = self.faults.add(json.loads(read_body(environ) or b"null"))
                except ValueError as exc:
                    return reply({"error": "bad fault: %s" % exc}, 400)
                return reply(rule)
        if what == "tasks" and method == "GET":
            doc = dict(self.tasks_status(), **(self.tasks.docs() if self.tasks is not None else {}))
            return reply(doc)
        if what == "listeners" and method == "GET":
            return reply({"listeners": self.listeners.docs() if self.listeners is not None else [],
                          "tasks": self.tasks_status()})
        if what == "holdings" and method == "GET":
            return reply(holdings_mod.summary(self))
        if what == "requests" and method == "GET":
            return reply(self.requests.state())
        if what == "requests/reset" and method == "POST":
            self.requests.reset()
            return reply(self.requests.state())
        if what == "registry/events" and method == "POST":
            try:
                repos = self.ecr.on_registry_events(json.loads(read_body(environ) or b"{}"))
            except ValueError:
                return reply({"error": "not a notification envelope"}, 400)
            return reply({"synced": repos})
        if what.startswith("ecr/blobs/") and method in ("GET", "HEAD"):
            path = self.ecr.blob_path(what[len("ecr/blobs/"):])
            if path is None:
                return reply({"error": "no such blob"}, 404)
            size = os.path.getsize(path)
            start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                      ("Content-Length", str(size))])
            if method == "HEAD":
                return [b""]
            with open(path, "rb") as handle:
                return [handle.read()]
        return reply({"error": "unknown control endpoint %s %s" % (method, what)}, 404)

    def reset(self):
        """Forget CodeCommit repositories, the layer store, the registry's images and moto's state."""
        from moto.moto_api._internal.models import moto_api_backend
        # The runner's lock keeps it from starting tasks of the state being forgotten.
        with (self.tasks.lock if self.tasks is not None else contextlib.nullcontext()):
            if self.tasks is not None:
                self.tasks.stop_all()
                self.listeners.stop_all()
            moto_api_backend.reset()
        self.codecommit.reset()
        self.ecr.reset()
        self.faults.clear()


def serve(host, port, state_dir, registry_port=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    os.environ.setdefault("MOTO_PORT", str(port))
    # werkzeug prints its own two-line message and exits; ours names the knobs to turn.
    if not port_free(host, port):
        print(port_in_use_message(host, port), file=sys.stderr)
        return 1
    try:
        cloud = LocalCloud(state_dir, host, port, registry_port)
        server = make_server(host, port, cloud, threaded=True, request_handler=MotoRequestHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(port_in_use_message(host, port), file=sys.stderr)
            return 1
        raise
    server.daemon_threads = True

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        cloud.start_children()
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        cloud.stop_children()
        server.server_close()
        return 1
    LOG.info("local cloud on http://%s:%d, state in %s", host, port, cloud.state_dir)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        cloud.stop_children()
        server.server_close()
    return 0
