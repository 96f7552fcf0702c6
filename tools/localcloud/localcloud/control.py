"""Background life cycle of the local cloud: start, stop, status.

`start` spawns `serve` in its own session, so that `stop` can end the server
and every process it spawned (docker-registry, git http-backend) with one
signal to the process group, even when the server itself no longer answers.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from localcloud.common import port_free

PID_FILE = "localcloud.pid"
LOG_FILE = "localcloud.log"


def port_in_use_message(host, port):
    return ("port %d on %s is already in use by another process; "
            "stop it or choose --port / CLOUD_PORT" % (port, host))


def _read_pid(state_dir):
    return _read_pid_file(state_dir)[0]


def _read_pid_file(state_dir):
    """(pid, host, port) that `start` wrote; None for what the file lacks."""
    try:
        with open(os.path.join(state_dir, PID_FILE)) as handle:
            fields = handle.read().split()
    except OSError:
        return None, None, None
    try:
        pid = int(fields[0])
    except (ValueError, IndexError):
        return None, None, None
    try:
        return pid, fields[1], int(fields[2])
    except (ValueError, IndexError):
        return pid, None, None


def _alive(pid):
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it no longer serves anything.
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _status_doc(host, port, timeout=2, what="status"):
    """The cloud's own description of itself (or of what it holds), or None when nothing of ours answers."""
    try:
        with urllib.request.urlopen("http://%s:%d/_localcloud/%s" % (host, port, what),
                                    timeout=timeout) as resp:
            return json.loads(resp.read())
    except Exception:  # not ours, not up, or not HTTP at all
        return None


def _same_dir(one, two):
    return os.path.realpath(one) == os.path.realpath(two)


def start(host, port, state_dir, registry_port=None, timeout=60):
    state_dir = os.path.abspath(state_dir)
    os.makedirs(state_dir, exist_ok=True)
    doc = _status_doc(host, port)
    if doc and _same_dir(doc.get("state_dir", ""), state_dir):
        print("local cloud already running on http://%s:%d (pid %s)" % (host, port, doc.get("pid")))
        return 0
    if not port_free(host, port):
        print(port_in_use_message(host, port), file=sys.stderr)
        return 1
    pid = _read_pid(state_dir)
    if _alive(pid):
        print("a local cloud of %s runs already (pid %d) on another port; "
              "stop it first with `python -m localcloud stop --state-dir %s`"
              % (state_dir, pid, state_dir), file=sys.stderr)
        return 1
    cmd = [sys.executable, "-m", "localcloud", "serve", "--host", host, "--port", str(port),
           "--state-dir", state_dir]
    if registry_port is not None:
        cmd += ["--registry-port", str(registry_port)]
    log_path = os.path.join(state_dir, LOG_FILE)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True,
                                cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(state_dir, PID_FILE), "w") as handle:
        handle.write("%d %s %d\n" % (proc.pid, host, port))
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            _forget(state_dir)
            print("local cloud exited at start (code %s); see %s" % (proc.returncode, log_path),
                  file=sys.stderr)
            return 1
        doc = _status_doc(host, port, timeout=1)
        if doc:
            print("local cloud on http://%s:%d (pid %d, state %s, registry %s, log %s)"
                  % (host, port, proc.pid, state_dir, doc.get("registry") or "off", log_path))
            return 0
        time.sleep(0.2)
    _kill_group(proc.pid)
    _forget(state_dir)
    print("local cloud did not answer within %ds; see %s" % (timeout, log_path), file=sys.stderr)
    return 1


def _forget(state_dir):
    try:
        os.unlink(os.path.join(state_dir, PID_FILE))
    except FileNotFoundError:
        pass


def _kill_group(pid, grace=60):
    """TERM the process group of `pid` (ours: started with its own session), then KILL.

    The grace is long enough for the server to remove its task containers and stop a Docker engine of its own;
    it returns as soon as the group is gone.
    """
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + grace
    while time.time() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        if not _alive(pid) and not _group_has_others(pid):
            break
        time.sleep(0.1)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _group_has_others(pgid):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _before_stop(state_dir, host, port):
    """([(host, port)] the cloud of `state_dir` listens on, what it holds or None): asked before it stops.

    The ports are its own and, when it answers, its registry's.
    """
    if host is None or port is None:
        return [], None
    ports = [(host, port)]
    doc = _status_doc(host, port)
    if not (doc and _same_dir(doc.get("state_dir", ""), state_dir)):
        return ports, None
    if doc.get("registry"):
        reg_host, _, reg_port = doc["registry"].rpartition(":")
        ports.append((reg_host, int(reg_port)))
    return ports, _status_doc(host, port, timeout=10, what="holdings")


def _losses(state_dir, held):
    """Lines that say what a stop took with it, and what stays."""
    if held is None:
        return ["what it held could not be read (it did not answer): everything but its CodeCommit repositories "
                "is gone with it"]
    lines = ["gone with it (moto's state and the runs are in memory, the ECR image store is emptied at the next "
             "start): %s" % ", ".join(held["lost"]) if held.get("lost") else "it held nothing that a stop loses"]
    if held.get("kept"):
        lines.append("kept in %s: %s" % (os.path.join(state_dir, "codecommit"), ", ".join(held["kept"])))
    return lines


def _wait_free(ports, timeout):
    """The (host, port) pairs of `ports` still listened on after `timeout` seconds (none once all are free)."""
    deadline = time.time() + timeout
    while True:
        busy = [(host, port) for host, port in ports if not port_free(host, port)]
        if not busy or time.time() >= deadline:
            return busy
        time.sleep(0.1)


def stop(state_dir, timeout=30):
    """Stop the cloud of `state_dir`; returns once it, its children and their ports are gone."""
    state_dir = os.path.abspath(state_dir)
    pid, host, port = _read_pid_file(state_dir)
    if pid is None or not (_alive(pid) or _group_has_others(pid)):
        _forget(state_dir)
        print("local cloud of %s is not running" % state_dir)
        return 0
    ports, held = _before_stop(state_dir, host, port)
    _kill_group(pid)
    _forget(state_dir)
    busy = _wait_free(ports, timeout)
    where = " (http://%s:%d)" % (host, port) if port is not None else ""
    print("local cloud of %s%s stopped (pid %d)" % (state_dir, where, pid))
    for line in _losses(state_dir, held):
        print(line)
    if busy:
        print("still listened on after %ds, by another process: %s" % (
            timeout, ", ".join("%s:%d" % pair for pair in busy)), file=sys.stderr)
        return 1
    return 0


def status(host, port, state_dir):
    state_dir = os.path.abspath(state_dir)
    pid = _read_pid(state_dir)
    doc = _status_doc(host, port)
    if doc and _same_dir(doc.get("state_dir", ""), state_dir):
        print(json.dumps(doc, indent=2, sort_keys=True))
        return 0
    if _alive(pid):
        print("local cloud of %s runs (pid %d) but does not answer on %s:%d" % (state_dir, pid, host, port))
        return 1
    print("local cloud of %s is not running" % state_dir)
    return 3
