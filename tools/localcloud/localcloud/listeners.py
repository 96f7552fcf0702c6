"""Each Application Load Balancer listener as an HTTP endpoint on 127.0.0.1.

On AWS a listener of ``microservicesLB`` answers on the load balancer's DNS name and port, and sends
each request by its rules to a target of a target group. Here each HTTP listener of an application
load balancer gets a port on 127.0.0.1 from the local cloud (``GET /_localcloud/listeners`` tells
which), and a request there goes where the listener's rules say, read from the ELBv2 state at that
moment (so CodeDeploy's switch shows at once):

- rules in priority order, then the default action; conditions ``path-pattern`` (``*`` and ``?``,
  case sensitive, the path without the query), ``host-header``, ``http-request-method``,
  ``source-ip`` (CIDRs), ``http-header`` and ``query-string``, all of a rule's conditions together;
- ``forward`` to one target group, or weighted between several (``ForwardConfig``), then round robin
  over the group's healthy targets (all of them when none is healthy, as an ALB fails open);
  ``fixed-response``; ``redirect``;
- the answers of an ALB when it cannot: 503 when the group has no target, 502 when the target does
  not answer, 504 when it answers too late; ``X-Forwarded-For``, ``X-Forwarded-Proto`` and
  ``X-Forwarded-Port`` (the listener's port) added.

These endpoints run when the local cloud runs tasks (localcloud/tasks.py); HTTPS listeners are not served.
"""
import http.client
import ipaddress
import itertools
import logging
import random
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from localcloud.tasks import HEALTH, backends

LOG = logging.getLogger("localcloud.listeners")
HOP = ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade")
UNAVAILABLE = (b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
               b"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n")
BAD_GATEWAY = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
               b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")
TIMEOUT = (b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
           b"<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n")


def pattern(glob, case=True):
    """An ALB wildcard (``*`` any run of characters, ``?`` one) as a compiled full-match regex."""
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(text + r"\Z", 0 if case else re.IGNORECASE)


def _values(condition, config_key, inner="Values"):
    config = condition.get(config_key) or {}
    return list(config.get(inner) or condition.get("Values") or [])


def condition_matches(condition, request):
    """True when one rule condition holds for `request` (method, path, query, headers, client)."""
    field = condition.get("Field")
    if field == "path-pattern":
        return any(pattern(v).match(request["path"]) for v in _values(condition, "PathPatternConfig"))
    if field == "host-header":
        host = request["headers"].get("host", "").split(":")[0]
        return any(pattern(v, case=False).match(host) for v in _values(condition, "HostHeaderConfig"))
    if field == "http-request-method":
        return request["method"] in _values(condition, "HttpRequestMethodConfig")
    if field == "source-ip":
        client = ipaddress.ip_address(request["client"])
        return any(client in ipaddress.ip_network(v, strict=False) for v in _values(condition, "SourceIpConfig"))
    if field == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        value = request["headers"].get((config.get("HttpHeaderName") or "").lower())
        return value is not None and any(pattern(v, case=False).match(value) for v in config.get("Values") or [])
    if field == "query-string":
        pairs = (condition.get("QueryStringConfig") or {}).get("Values") or []
        query = parse_qsl(request["query"], keep_blank_values=True)
        return any(any((p.get("Key") is None or pattern(p["Key"], case=False).match(k))
                       and pattern(p.get("Value", ""), case=False).match(v) for k, v in query) for p in pairs)
    return False


def _priority(rule):
    try:
        return int(rule.priority)
    except (TypeError, ValueError):
        return 1 << 30


def choose_actions(listener, request):
    """The actions of the first rule (by priority) whose conditions all hold, else the default actions."""
    rules = sorted((r for r in listener.rules.values() if not getattr(r, "is_default", False)), key=_priority)
    for rule in rules:
        if rule.conditions and all(condition_matches(c, request) for c in rule.conditions):
            return [a.data for a in rule.actions]
    return [a.data for a in listener.default_actions]


def forward_group(action, pick=random.random):
    """The target group ARN a forward action sends this request to (weights of ForwardConfig honoured)."""
    groups = [g for g in (action.get("ForwardConfig") or {}).get("TargetGroups") or [] if g.get("TargetGroupArn")]
    if not groups:
        return action.get("TargetGroupArn")
    weights = [max(int(1 if g.get("Weight") is None else g["Weight"]), 0) for g in groups]
    total = sum(weights)
    if total == 0:
        return None
    point = pick() * total
    for group, weight in zip(groups, weights):
        if point < weight:
            return group["TargetGroupArn"]
        point -= weight
    return groups[-1]["TargetGroupArn"]


class ListenerProxies:
    """One HTTP server on 127.0.0.1 per HTTP listener of an application load balancer."""

    def __init__(self):
        self.servers = {}  # listener arn -> (server, thread, local port, doc)
        self.lock = threading.Lock()
        self.turns = {}  # target group arn -> round-robin counter

    def reconcile(self):
        present = {}
        for backend in backends("elbv2"):
            for balancer in list(backend.load_balancers.values()):
                if (getattr(balancer, "loadbalancer_type", None) or "application") != "application":
                    continue
                for listener in list(balancer.listeners.values()):
                    if listener.protocol == "HTTP":
                        present[listener.arn] = (backend, balancer, listener)
        with self.lock:
            for arn in [a for a in self.servers if a not in present]:
                self._close(arn)
            for arn, (backend, balancer, listener) in present.items():
                if arn not in self.servers:
                    self._open(backend, balancer, listener)

    def _open(self, backend, balancer, listener):
        proxies, arn = self, listener.arn

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "awselb/2.0"

            def log_message(self, fmt, *args):  # quiet: one line per request would flood the log
                LOG.debug(fmt, *args)

            def handle_one_request(self):
                self.raw_requestline = self.rfile.readline(65537)
                if not self.raw_requestline:
                    self.close_connection = True
                    return
                if not self.parse_request():
                    return
                proxies.answer(self, backend, arn)
                self.wfile.flush()

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="localcloud-listener", daemon=True)
        thread.start()
        port = server.server_address[1]
        doc = {"loadBalancerName": balancer.name, "loadBalancerArn": balancer.arn, "listenerArn": arn,
               "port": int(listener.port), "protocol": listener.protocol, "url": "http://127.0.0.1:%d" % port}
        self.servers[arn] = (server, thread, port, doc)
        LOG.info("listener %s:%s answers on http://127.0.0.1:%d", balancer.name, listener.port, port)

    def _close(self, arn):
        server, thread, _port, _doc = self.servers.pop(arn)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    def stop_all(self):
        with self.lock:
            for arn in list(self.servers):
                self._close(arn)

    def docs(self):
        with self.lock:
            return sorted((s[3] for s in self.servers.values()), key=lambda d: (d["loadBalancerName"], d["port"]))

    # -- one request ---------------------------------------------------------
    def answer(self, handler, backend, arn):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        split = urlsplit(handler.path)
        request = {"method": handler.command, "path": split.path or "/", "query": split.query,
                   "headers": dict((k.lower(), v) for k, v in handler.headers.items()),
                   "client": handler.client_address[0]}
        listener = None
        for balancer in list(backend.load_balancers.values()):
            listener = balancer.listeners.get(arn) or listener
        if listener is None:
            return self._send(handler, 503, UNAVAILABLE)
        for action in choose_actions(listener, request):
            kind = action.get("Type")
            if kind == "forward":
                return self._forward(handler, backend, listener, forward_group(action), body)
            if kind == "fixed-response":
                config = action.get("FixedResponseConfig") or {}
                return self._send(handler, int(config.get("StatusCode", 200)),
                                  (config.get("MessageBody") or "").encode("utf-8"),
                                  config.get("ContentType") or "text/plain; charset=utf-8")
            if kind == "redirect":
                config = action.get("RedirectConfig") or {}
                host = request["headers"].get("host", "127.0.0.1").split(":")[0]
                location = "%s://%s:%s%s%s" % (
                    (config.get("Protocol") or "#{protocol}").replace("#{protocol}", "http").lower(),
                    (config.get("Host") or "#{host}").replace("#{host}", host),
                    (config.get("Port") or "#{port}").replace("#{port}", str(listener.port)),
                    (config.get("Path") or "#{path}").replace("#{path}", request["path"]),
                    "?" + (config.get("Query") or "#{query}").replace("#{query}", request["query"])
                    if (config.get("Query") or request["query"]) else "")
                code = 301 if config.get("StatusCode") == "HTTP_301" else 302
                return self._send(handler, code, b"", extra=[("Location", location)])
        return self._send(handler, 503, UNAVAILABLE)

    def _forward(self, handler, backend, listener, group_arn, body):
        group = backend.target_groups.get(group_arn) if group_arn else None
        targets = list(group.targets.values()) if group is not None else []
        if not targets:
            return self._send(handler, 503, UNAVAILABLE)
        healthy = [t for t in targets
                   if (HEALTH.get((group.arn, t["Id"], int(t["Port"]))) or ("healthy",))[0] == "healthy"]
        pool = healthy or targets
        with self.lock:
            turn = self.turns.setdefault(group.arn, itertools.count())
            target = pool[next(turn) % len(pool)]
        headers = [(k, v) for k, v in handler.headers.items() if k.lower() not in HOP]
        client = handler.client_address[0]
        seen = handler.headers.get("X-Forwarded-For")
        headers = [(k, v) for k, v in headers if k.lower() not in ("x-forwarded-for", "x-forwarded-proto",
                                                                    "x-forwarded-port")]
        headers += [("X-Forwarded-For", "%s, %s" % (seen, client) if seen else client),
                    ("X-Forwarded-Proto", "http"), ("X-Forwarded-Port", str(listener.port))]
        conn = http.client.HTTPConnection(target["Id"], int(target["Port"]), timeout=60)
        try:
            conn.putrequest(handler.command, handler.path, skip_host=True, skip_accept_encoding=True)
            for key, value in headers:
                conn.putheader(key, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            answer = conn.getresponse()
            data = answer.read()
            kept = [(k, v) for k, v in answer.getheaders()
                    if k.lower() not in HOP + ("content-length", "date", "server")]
            return self._send(handler, answer.status, data, None, kept, reason=answer.reason)
        except TimeoutError:
            return self._send(handler, 504, TIMEOUT)
        except (OSError, http.client.HTTPException):
            return self._send(handler, 502, BAD_GATEWAY)
        finally:
            conn.close()

    @staticmethod
    def _send(handler, status, data, content_type="text/html", extra=(), reason=None):
        handler.send_response(status, reason)
        if content_type:
            handler.send_header("Content-Type", content_type)
        for key, value in extra:
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)
