"""Faults on purpose and the request log.

moto keeps its state in memory, so a restart cannot stand in for an outage:
the cloud is told instead to answer the next requests badly (throttling,
HTTP 503) or to drop their connections, for a number of requests or a while.
"""
import threading
import time
import uuid

MODES = ("throttle", "unavailable", "drop")


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    @staticmethod
    def parse(doc):
        """Validate a rule from POST /_localcloud/faults; raises ValueError."""
        if not isinstance(doc, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(doc) - {"mode", "count", "seconds", "match"}
        if unknown:
            raise ValueError("unknown keys: %s" % ", ".join(sorted(unknown)))
        mode = doc.get("mode")
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % ", ".join(MODES))
        count, seconds = doc.get("count"), doc.get("seconds")
        if count is None and seconds is None:
            raise ValueError("give count (requests) or seconds (duration), or both")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError("count must be a positive integer")
        if seconds is not None and (not isinstance(seconds, (int, float)) or seconds <= 0):
            raise ValueError("seconds must be a positive number")
        match = doc.get("match")
        if match is not None and not isinstance(match, str):
            raise ValueError("match must be a string")
        return {"id": str(uuid.uuid4()), "mode": mode, "remaining": count,
                "until": time.time() + seconds if seconds is not None else None,
                "match": match or None, "hits": 0}

    def add(self, doc):
        rule = self.parse(doc)
        with self._lock:
            self._rules.append(rule)
        return self._public(rule)

    def clear(self):
        with self._lock:
            self._rules = []

    def _expired(self, rule, now):
        return ((rule["remaining"] is not None and rule["remaining"] <= 0)
                or (rule["until"] is not None and now >= rule["until"]))

    def state(self):
        now = time.time()
        with self._lock:
            self._rules = [r for r in self._rules if not self._expired(r, now)]
            return {"faults": [self._public(r) for r in self._rules]}

    @staticmethod
    def _public(rule):
        left = None if rule["until"] is None else max(0.0, round(rule["until"] - time.time(), 3))
        return {"id": rule["id"], "mode": rule["mode"], "remaining": rule["remaining"],
                "seconds_left": left, "match": rule["match"], "hits": rule["hits"]}

    def take(self, service, operation):
        """The mode of the first live rule for this request, consuming one use.

        A rule's ``match`` is, whatever its case, the signing service (``ecs``, ``s3``), the operation
        (``CreateListener``) or both as ``service.Operation``; no part of a path or a bucket name matches.
        """
        labels = set(label.lower() for label in (service, operation) if label)
        if service and operation:
            labels.add(("%s.%s" % (service, operation)).lower())
        now = time.time()
        with self._lock:
            for rule in self._rules:
                if self._expired(rule, now):
                    continue
                if rule["match"] and rule["match"].lower() not in labels:
                    continue
                if rule["remaining"] is not None:
                    rule["remaining"] -= 1
                rule["hits"] += 1
                return rule["mode"]
        return None
