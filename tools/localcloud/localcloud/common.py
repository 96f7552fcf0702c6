"""Small helpers shared by the local cloud's handlers."""
import ctypes
import errno
import json
import os
import re
import signal
import socket
import subprocess
import uuid

ACCOUNT_ID = "123456789012"
PR_SET_PDEATHSIG = 1
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


class AwsError(Exception):
    """An error answered in the AWS JSON protocol's shape (HTTP 400 unless told)."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def json_response(start_response, status, doc, content_type="application/x-amz-json-1.1",
                  extra_headers=()):
    body = json.dumps(doc).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(status, "Status")
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))),
               ("x-amzn-RequestId", str(uuid.uuid4()))] + list(extra_headers)
    start_response("%d %s" % (status, reason), headers)
    return [body]


def aws_error_response(start_response, error):
    return json_response(start_response, error.status,
                         {"__type": error.code, "message": error.message},
                         extra_headers=[("x-amzn-ErrorType", error.code)])


def signing_scope(environ):
    """(region, service) from the SigV4 Authorization header, or (None, None)."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1), match.group(2)
    return None, None


def port_free(host, port):
    """True when a server may listen on host:port now: nothing listens there.

    The check binds as the servers bind (werkzeug and docker-registry set SO_REUSEADDR). A stopped server leaves
    sockets on its port for up to a minute: TIME_WAIT where it closed a connection first (werkzeug closes after
    every answer), FIN_WAIT_2 towards a client that still holds a connection open. They keep a plain bind off the
    port but not a listening server, so they must not fail the check.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_port(host="127.0.0.1"):
    """A port of `host` that nothing uses now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def read_body(environ):
    """Read the whole request body once and put it back for the next reader."""
    import io
    if "localcloud.body" in environ:
        return environ["localcloud.body"]
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["localcloud.body"] = body
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def stop_process(proc, grace):
    """TERM a child process (if it still runs), wait up to `grace` seconds, then KILL it."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def unmount_under(path):
    """Unmount whatever is still mounted at or under `path` (deepest first): what a stopped dockerd may leave.

    dockerd mounts its data root and network namespaces; when it is killed before it cleans up, the mounts stay
    and the folders cannot be removed.
    """
    root = os.path.realpath(path)
    try:
        with open("/proc/self/mounts") as handle:
            points = [line.split()[1].replace("\\040", " ") for line in handle]
    except OSError:
        return
    for point in sorted((p for p in points if p == root or p.startswith(root + "/")), key=len, reverse=True):
        if subprocess.run(["umount", point], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def die_with_parent():
    """Runs in a child before exec (preexec_fn): the child gets SIGTERM when the cloud dies, killed or not."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
