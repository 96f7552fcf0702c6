"""The one tally of the requests a local cloud answered: its /_localcloud/requests, and the bench's proxy.

AWS API calls by service and operation, git requests, and the bytes the AWS calls sent (request bodies,
and of those the image layers uploaded). Thread-safe: the server and the proxy answer on many threads.
"""
import threading
import time


class RequestLog:
    """Counts of requests since the last reset."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._counts = {}
            self._since = time.time()
            self._git = 0
            self._body_bytes = 0
            self._upload_bytes = 0

    def add(self, service, operation, body_bytes=0, upload_bytes=0):
        """One AWS API call (an unknown service or operation counts as ``unknown``)."""
        with self._lock:
            ops = self._counts.setdefault(service or "unknown", {})
            ops[operation or "unknown"] = ops.get(operation or "unknown", 0) + 1
            self._body_bytes += body_bytes
            self._upload_bytes += upload_bytes

    def add_git(self):
        """One request of git's smart HTTP protocol."""
        with self._lock:
            self._git += 1

    def state(self):
        """{since, total, services: {service: {operation: count}}, git_requests, request_body_bytes,
        upload_bytes}."""
        with self._lock:
            services = {svc: dict(sorted(ops.items())) for svc, ops in sorted(self._counts.items())}
            return {"since": self._since,
                    "total": sum(sum(ops.values()) for ops in services.values()),
                    "services": services,
                    "git_requests": self._git,
                    "request_body_bytes": self._body_bytes,
                    "upload_bytes": self._upload_bytes}
