"""ECS tasks that run for real: each task set's containers on a local Docker engine.

AWS runs the tasks of a service's task sets on Fargate and registers each task's address in the task
set's target group. The local cloud does the same on the Docker engine its process can reach
(``DOCKER_HOST`` or the default socket), when ``LOCALCLOUD_TASKS`` is ``auto`` (the default: when an
engine answers) or ``on``:

- every PRIMARY or ACTIVE task set of an ACTIVE service should run ``ceil(desiredCount x scale%)``
  tasks; the runner starts or stops containers until it does, after every ECS change and every
  few seconds;
- a task is one container per container definition, on the host network, from the image of the task
  definition pulled from the local ECR registry (an ECR image URI of this account means the local
  registry; any other registry cannot be reached: the task stops with ``CannotPullContainerError``,
  as a Fargate task with no route to it would);
- each task gets its own port on 127.0.0.1 from the local cloud, in ``PORT`` (and ``HOST=127.0.0.1``)
  for the container named in the task set's load balancer; the target group gets the target
  ``127.0.0.1:<port>``, whose health comes from the target group's health check path (``initial``
  until it answers with a code of its matcher, ``healthy`` then; ``unhealthy`` if it stops answering);
- containers are labelled with the local cloud's state dir, and removed when their task set goes,
  on reset and when the local cloud stops (and, at start, those a killed local cloud left behind).

When no engine answers and the local cloud runs as root with ``dockerd`` installed (Debian's
docker.io), it starts an engine of its own (``PrivateEngine``: vfs storage under the state dir, no
bridge, no iptables, a socket under /tmp) unless ``LOCALCLOUD_DOCKERD=off``, and stops it with
itself. Without an engine nothing here runs, and the local cloud keeps its state-only behaviour.
"""
import http.client
import logging
import math
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import types
import uuid

from moto.backends import get_backend
from moto.ecs import models as ecs_models

from localcloud.common import die_with_parent, stop_process, unmount_under
from localcloud.patches.fixes import elbv2 as elbv2_patch

LOG = logging.getLogger("localcloud.tasks")
LABEL = "localcloud.state-dir"
LIVE = ("PRIMARY", "ACTIVE")
HEALTH = elbv2_patch.HEALTH


def mode():
    value = os.environ.get("LOCALCLOUD_TASKS", "auto").strip().lower()
    return value if value in ("auto", "on", "off") else "auto"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backends(service):
    """Every moto backend of `service`, across accounts and regions (a snapshot: safe while moto adds one)."""
    for _account, regions in list(get_backend(service).items()):
        for _region, backend in list(regions.items()):
            yield backend


class Engine:
    """The Docker engine, through the docker CLI (DOCKER_HOST and friends from this process)."""

    def __init__(self, state_dir):
        self.config = os.path.join(state_dir, "docker-config")
        self.docker = shutil.which("docker")
        self.version = None
        self.reason = None

    def probe(self):
        if self.docker is None:
            self.reason = "no docker client on PATH"
            return False
        try:
            proc = self.run("version", "--format", "{{.Server.Version}}", timeout=15)
        except subprocess.TimeoutExpired:
            self.reason = "the Docker engine did not answer within 15 s"
            return False
        if proc.returncode:
            self.reason = "no Docker engine answers (%s)" % (proc.stderr.strip().splitlines() or ["?"])[-1]
            return False
        self.version = proc.stdout.strip()
        return True

    def run(self, *args, data=None, timeout=120):
        env = dict(os.environ, DOCKER_CONFIG=self.config)
        return subprocess.run([self.docker] + list(args), input=data, capture_output=True, text=True,
                              env=env, timeout=timeout, check=False)

    @property
    def host(self):
        return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


class PrivateEngine:
    """A dockerd of the local cloud's own, for when no engine answers (root and dockerd needed)."""

    def __init__(self, state_dir):
        self.data = os.path.join(state_dir, "docker")
        self.run_dir = None
        self.proc = None
        self.reason = None

    def start(self, timeout=60):
        """DOCKER_HOST of the started engine, or None (``reason`` says why)."""
        binary = shutil.which("dockerd")
        if os.environ.get("LOCALCLOUD_DOCKERD", "auto").strip().lower() == "off":
            self.reason = "no engine of its own (LOCALCLOUD_DOCKERD=off)"
            return None
        if binary is None:
            self.reason = "dockerd is not installed (apt-get install docker.io)"
            return None
        if os.geteuid() != 0:
            self.reason = "dockerd needs root"
            return None
        # A unix socket path must stay short: exec root and socket live under /tmp.
        self.run_dir = tempfile.mkdtemp(prefix="lc-dockerd-", dir="/tmp")
        sock = os.path.join(self.run_dir, "docker.sock")
        os.makedirs(self.data, exist_ok=True)
        log = open(os.path.join(self.data, "dockerd.log"), "ab")
        self.proc = subprocess.Popen(
            [binary, "--data-root", os.path.join(self.data, "data"), "--exec-root", os.path.join(self.run_dir, "exec"),
             "--pidfile", os.path.join(self.run_dir, "dockerd.pid"), "-H", "unix://" + sock,
             "--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--bridge=none"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
            # Its own session: `localcloud stop` signals the cloud's process group, and the engine must outlive the
            # server until the server has removed the containers and stops the engine itself.
            start_new_session=True)
        log.close()
        host = "unix://" + sock
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.reason = "dockerd exited (code %s), see %s/dockerd.log" % (self.proc.returncode, self.data)
                self.stop()
                return None
            probe = subprocess.run([shutil.which("docker") or "docker", "-H", host, "version"],
                                   capture_output=True, check=False)
            if probe.returncode == 0:
                return host
            time.sleep(0.3)
        self.reason = "dockerd did not answer within %ss, see %s/dockerd.log" % (timeout, self.data)
        self.stop()
        return None

    def stop(self):
        """Stop the engine (it stops what still runs), then undo the mounts it may leave."""
        stop_process(self.proc, 60)
        self.proc = None
        unmount_under(self.data)
        if self.run_dir:
            unmount_under(self.run_dir)
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None


class RunningTask(ecs_models.Task):
    """moto's ECS task record of a container the runner started: RUNNING until the runner stops it.

    moto's own tasks move on by one state at every DescribeTasks; these stay where the container is.
    """

    @property
    def status(self):
        return getattr(self, "_localcloud_status", "RUNNING")

    @status.setter
    def status(self, value):
        self._localcloud_status = value


class Task:
    def __init__(self, task_set, service, port, target_group, container):
        self.task_set_arn = task_set.task_set_arn
        self.service = service.name
        self.cluster = service.cluster_name
        self.task_definition = task_set.task_definition
        self.port = port
        self.target_group = target_group
        self.container = container
        self.containers = []  # docker container ids
        self.health = "initial"
        self.record = None  # moto's ECS task, for ListTasks / DescribeTasks

    def doc(self):
        return {"taskSetArn": self.task_set_arn, "cluster": self.cluster, "service": self.service,
                "taskDefinitionArn": self.task_definition, "port": self.port, "targetGroupArn": self.target_group,
                "containerName": self.container, "containers": list(self.containers), "health": self.health}


class TaskRunner:
    """Keeps the containers of every live task set running on the engine, and their targets registered."""

    INTERVAL = 2.0

    def __init__(self, cloud, engine):
        self.cloud, self.engine = cloud, engine
        self.label = "%s=%s" % (LABEL, cloud.state_dir)
        self.tasks = []
        self.failed = {}  # task set arn -> why its tasks cannot start
        self.lock = threading.RLock()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = None
        self.listeners = None
        self.logged_in = False

    # -- life cycle ----------------------------------------------------------
    def start(self):
        self.remove_leftovers()
        self.thread = threading.Thread(target=self._loop, name="localcloud-tasks", daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.stop_all()

    def poke(self):
        self.wake.set()

    def _loop(self):
        while not self.stopping.is_set():
            self.wake.wait(self.INTERVAL)
            self.wake.clear()
            if self.stopping.is_set():
                return
            try:
                self.reconcile()
                if self.listeners is not None:
                    self.listeners.reconcile()
            except Exception:  # pylint: disable=broad-except
                LOG.exception("task runner pass failed")

    def remove_leftovers(self):
        proc = self.engine.run("ps", "-aq", "--filter", "label=" + self.label, timeout=30)
        ids = proc.stdout.split()
        if ids:
            self.engine.run("rm", "-f", *ids, timeout=60)

    def stop_all(self):
        with self.lock:
            for task in list(self.tasks):
                self._stop(task)
            self.failed.clear()

    # -- what should run ---------------------------------------------------
    @staticmethod
    def wanted():
        """[(backend, service, task set, count)] of every live task set of every ACTIVE service."""
        out = []
        for backend in backends("ecs"):
            for service in list(backend.services.values()):
                if service.status != "ACTIVE":
                    continue
                for task_set in list(service.task_sets or []):
                    if task_set.status not in LIVE:
                        continue
                    scale = float((task_set.scale or {}).get("value", 100.0))
                    out.append((backend, service, task_set, int(math.ceil(service.desired_count * scale / 100.0))))
        return out

    def reconcile(self):
        with self.lock:
            wanted = self.wanted()
            live = set(t.task_set_arn for _b, _s, t, _c in wanted)
            for task in list(self.tasks):
                if task.task_set_arn not in live:
                    self._stop(task)
            for arn in list(self.failed):
                if arn not in live:
                    del self.failed[arn]
            for backend, service, task_set, count in wanted:
                mine = [t for t in self.tasks if t.task_set_arn == task_set.task_set_arn]
                for task in mine[count:]:
                    self._stop(task)
                for _ in range(count - len(mine)):
                    if task_set.task_set_arn in self.failed:
                        break
                    self._start(backend, service, task_set)
            self._check_health()
            self._counts(wanted)

    def _counts(self, wanted):
        per_service = {}
        for _backend, service, task_set, _count in wanted:
            mine = [t for t in self.tasks if t.task_set_arn == task_set.task_set_arn]
            task_set.running_count = len([t for t in mine if t.health != "initial"])
            task_set.pending_count = len(mine) - task_set.running_count
            per_service.setdefault(id(service), [service, 0, 0])
            per_service[id(service)][1] += task_set.running_count
            per_service[id(service)][2] += task_set.pending_count
        for service, running, pending in per_service.values():
            service.running_count, service.pending_count = running, pending

    # -- one task ----------------------------------------------------------
    def _image(self, image):
        """The reference docker pulls for a task definition's image, or None when it is not in local ECR."""
        registry = self.cloud.registry
        if not registry.running:
            return None
        local = self.cloud.ecr.rewrite_uris(image.encode()).decode()
        if local.startswith(registry.address + "/"):
            return local
        return None

    def _login(self):
        if self.logged_in:
            return None
        registry = self.cloud.registry
        proc = self.engine.run("login", "-u", registry.USER, "--password-stdin", registry.address,
                               data=registry.password + "\n", timeout=60)
        if proc.returncode:
            return "docker login to the local registry failed: %s" % proc.stderr.strip()
        self.logged_in = True
        return None

    def _start(self, backend, service, task_set):
        arn = task_set.task_set_arn
        try:
            taskdef = backend.describe_task_definition(task_set.task_definition)
        except Exception:  # pylint: disable=broad-except
            self.failed[arn] = "ClientException: Unable to describe task definition %s" % task_set.task_definition
            return
        balancer = (task_set.load_balancers or [{}])[0]
        task = Task(task_set, service, free_port(), balancer.get("targetGroupArn"), balancer.get("containerName"))
        error = self._login()
        for definition in taskdef.container_definitions:
            image = definition.get("image", "")
            ref = self._image(image)
            if error is None and ref is None:
                error = ("CannotPullContainerError: pull image manifest has been retried 1 time(s): %s is not in "
                         "this account's ECR registry, the only registry the local cloud reaches" % image)
            if error is None:
                pulled = self.engine.run("pull", "-q", ref, timeout=300)
                if pulled.returncode:
                    error = "CannotPullContainerError: %s" % pulled.stderr.strip()
            if error is None:
                error = self._run(task, definition, ref)
            if error is not None:
                break
        if error is not None:
            LOG.warning("task of %s cannot start: %s", arn, error)
            self.failed[arn] = error
            self._stop(task)
            return
        self.tasks.append(task)
        self._register(task)
        self._record(backend, service, task_set, taskdef, task)
        LOG.info("task of %s/%s runs on 127.0.0.1:%d (%s)", task.cluster, task.service, task.port,
                 ", ".join(c[:12] for c in task.containers))

    def _run(self, task, definition, ref):
        name = "lc-%s-%s" % (task.service, os.urandom(4).hex())
        args = ["run", "-d", "--network", "host", "--name", name, "--label", self.label,
                "--label", "localcloud.task-set=%s" % task.task_set_arn]
        env = dict((e.get("name"), e.get("value", "")) for e in definition.get("environment") or [] if e.get("name"))
        if definition.get("name") == task.container or len(definition.get("portMappings") or []) > 0:
            env.update({"PORT": str(task.port), "HOST": "127.0.0.1"})
        for key in sorted(env):
            args += ["-e", "%s=%s" % (key, env[key])]
        if definition.get("entryPoint"):
            args += ["--entrypoint", definition["entryPoint"][0]]
        args.append(ref)
        args += list(definition.get("entryPoint") or [])[1:] + list(definition.get("command") or [])
        proc = self.engine.run(*args, timeout=120)
        if proc.returncode:
            return "CannotStartContainerError: %s" % proc.stderr.strip()
        task.containers.append(proc.stdout.strip())
        return None

    def _stop(self, task):
        # As on AWS: out of the target group first, then the containers stop.
        self._deregister(task)
        if task.containers:
            self.engine.run("rm", "-f", *task.containers, timeout=60)
        self._unrecord(task)
        if task in self.tasks:
            self.tasks.remove(task)

    # -- ECS's record of the task ---------------------------------------------
    @staticmethod
    def _record(backend, service, task_set, taskdef, task):
        """A RUNNING task in ECS (ListTasks, DescribeTasks) for the containers, at 127.0.0.1."""
        cluster = backend.clusters.get(service.cluster_name)
        if cluster is None:
            return
        # moto 5.2.5 fails to make an awsvpc task (its network interface lacks private_dns_name): the record is
        # made as a task of no network mode, then given the attachment of its address here, 127.0.0.1.
        definition = types.SimpleNamespace(arn=taskdef.arn, network_mode=None,
                                           container_definitions=taskdef.container_definitions)
        try:
            record = RunningTask(cluster, definition, None, None, backend, "service:%s" % service.name,
                                 launch_type=task_set.launch_type or service.launch_type or "FARGATE",
                                 started_by=task_set.id, platform_version=task_set.platform_version)
        except Exception:  # pylint: disable=broad-except
            LOG.warning("no ECS task record for a task of %s", task.task_set_arn, exc_info=True)
            return
        subnets = ((task_set.network_configuration or {}).get("awsvpcConfiguration") or {}).get("subnets") or [""]
        record.attachments = [{"id": str(uuid.uuid4()), "type": "ElasticNetworkInterface", "status": "ATTACHED",
                               "details": [{"name": "subnetId", "value": subnets[0]},
                                           {"name": "privateIPv4Address", "value": "127.0.0.1"}]}]
        for container in record.containers:
            container.last_status = "RUNNING"
        record.health_status = "UNKNOWN"
        backend.tasks.setdefault(cluster.name, {})[record.task_arn] = record
        task.record = record

    @staticmethod
    def _unrecord(task):
        record = task.record
        if record is None:
            return
        record.status = "STOPPED"
        record.desired_status = "STOPPED"
        record.stopped_reason = "Scaling activity initiated by (deployment %s)" % record.started_by
        for container in record.containers:
            container.last_status = "STOPPED"
        for attachment in record.attachments:
            attachment["status"] = "DELETED"
        task.record = None

    # -- targets and health ------------------------------------------------
    @staticmethod
    def _group(arn):
        for backend in backends("elbv2"):
            group = backend.target_groups.get(arn)
            if group is not None:
                return group
        return None

    def _register(self, task):
        group = self._group(task.target_group) if task.target_group else None
        if group is None:
            return
        HEALTH[(group.arn, "127.0.0.1", task.port)] = ("initial", "Elb.InitialHealthChecking",
                                                       "Initial health checks in progress")
        group.register([{"Id": "127.0.0.1", "Port": task.port}])

    def _deregister(self, task):
        HEALTH.pop((task.target_group, "127.0.0.1", task.port), None)
        group = self._group(task.target_group) if task.target_group else None
        if group is not None:
            try:
                group.deregister([{"Id": "127.0.0.1", "Port": task.port}])
            except Exception:  # pylint: disable=broad-except
                pass

    def _check_health(self):
        for task in list(self.tasks):
            group = self._group(task.target_group) if task.target_group else None
            path = (getattr(group, "health_check_path", None) or "/") if group is not None else "/"
            codes = ((getattr(group, "matcher", None) or {}).get("HttpCode") or "200") if group is not None else "200"
            state = health_check(task.port, path, codes)
            if state[0] == "unhealthy" and task.health == "initial":
                state = ("initial",) + HEALTH.get((task.target_group, "127.0.0.1", task.port), state)[1:]
            task.health = state[0]
            if task.target_group:
                HEALTH[(task.target_group, "127.0.0.1", task.port)] = state

    def wait_ready(self, task_set_arn, timeout):
        """Wait until every task of the task set is healthy; None, or why not (a sentence)."""
        deadline = time.time() + timeout
        while True:
            self.reconcile()
            with self.lock:
                if task_set_arn in self.failed:
                    return self.failed[task_set_arn]
                mine = [t for t in self.tasks if t.task_set_arn == task_set_arn]
                wanted = [c for _b, _s, t, c in self.wanted() if t.task_set_arn == task_set_arn]
                if mine and wanted and len(mine) >= wanted[0] and all(t.health == "healthy" for t in mine):
                    return None
                exited = self._exited(mine)
            if exited:
                return exited
            if time.time() > deadline:
                return ("the replacement tasks did not pass their health check (%s) within %ss"
                        % (", ".join("127.0.0.1:%d %s" % (t.port, t.health) for t in mine) or "no task", timeout))
            time.sleep(0.3)

    def _exited(self, tasks):
        for task in tasks:
            for container in task.containers:
                proc = self.engine.run("inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", container, timeout=30)
                running, _, code = proc.stdout.strip().partition(" ")
                if proc.returncode == 0 and running == "false":
                    logs = self.engine.run("logs", "--tail", "5", container, timeout=30)
                    tail = " | ".join((logs.stdout + logs.stderr).strip().splitlines()[-3:])
                    return "Essential container in task exited (exit code %s)%s" % (code, (": " + tail) if tail else "")
        return None

    def docs(self):
        with self.lock:
            return {"tasks": [t.doc() for t in self.tasks],
                    "failed": [{"taskSetArn": arn, "reason": why} for arn, why in sorted(self.failed.items())]}


def health_check(port, path, codes, timeout=1.0):
    """(state, reason, description) of an HTTP GET of path on 127.0.0.1:port, as an ALB health check says it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path or "/", headers={"User-Agent": "ELB-HealthChecker/2.0"})
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return ("unhealthy", "Target.FailedHealthChecks", "Health checks failed")
    finally:
        conn.close()
    if matches(status, codes):
        return ("healthy", None, None)
    return ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [%d]" % status)


def matches(status, codes):
    """True when an HTTP status is one of a matcher's codes ("200", "200,302", "200-399")."""
    for part in str(codes).split(","):
        part = part.strip()
        if "-" in part:
            low, _, high = part.partition("-")
            if low.isdigit() and high.isdigit() and int(low) <= status <= int(high):
                return True
        elif part.isdigit() and int(part) == status:
            return True
    return False
