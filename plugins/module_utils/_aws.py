# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every AWS module of this collection shares, once.

- ``client(module, service)``: a boto3 client with the collection's one retry
  policy (below). Every module makes its clients here, never with
  ``module.client()`` or boto3 directly.
- The retry policy, the same for every service and every call (plain calls,
  paginators, waiters): it replaces botocore's own retry handler of the client
  (``needs-retry`` event), so there is one layer of retries, not botocore's
  under AWSRetry's.

  - Retried: the throttling codes of every service the collection calls
    (``THROTTLING_CODES``: ``Throttling`` of ELBv2, CloudFormation, IAM, STS
    and RDS, ``ThrottlingException`` of ECS, ECR, CodeDeploy, CodePipeline,
    CodeCommit and EventBridge, ``RequestLimitExceeded`` of EC2, ``SlowDown``
    of S3, ...), the transient codes (``TRANSIENT_CODES``), HTTP 500, 502,
    503 and 504 whatever the code, and a connection refused, dropped or timed
    out. Nothing else: a refusal (``ValidationError``, ``AccessDenied``, a
    missing resource) or a 501 (no such API) fails at once.
  - How often: ``ATTEMPTS`` tries of one call in all. Before try n+1 it waits
    between half and all of ``min(MAX_DELAY, BASE_DELAY * 2 ** (n - 1))``
    seconds. With 13 tries, 8 s at most between two, that is at least 31.9 s and
    at most 63.75 s of waiting: an outage of 30 s or a burst of 12 throttles is
    ridden out, and a call that keeps failing fails within about a minute.
  - A user's own setting wins: a max attempts set for botocore (env
    ``AWS_MAX_ATTEMPTS``, ``max_attempts`` of the AWS config file, or the
    module option ``aws_config``) replaces ``ATTEMPTS``.
  - The failure's message says ``reached max retries: N`` (botocore's words).
- ``CloudlabError``: what helpers raise. Its message says what failed and,
  where a user can fix it, which variable to set. Helpers never call
  ``fail_json`` themselves.
- ``run(module, func)``: calls ``func(module)`` and turns every error into
  one failure, in one place (``fail_json_aws`` keeps AWS's error code and
  request id in the result). A failure after a call that writes (any
  operation but ``READ_PREFIXES``) succeeded on one of the module's clients
  reports ``changed: true``: a load balancer created before its listener
  failed is a change, whatever the module was doing when it failed.
- ``aws_call(description)``: a decorator for the small functions that wrap
  one boto3 call: a botocore error becomes a ``CloudlabError`` that says
  "Failed to <description>" ("Timeout trying to <description>" for a waiter).
  It is amazon.aws's ``AWSErrorHandler.common_error_handler`` raising our
  ``CloudlabError`` (``ErrorHandler``), not a copy of it.
- ``each(func, items, label, what)``: ``func(item)`` for every item on a few
  threads (boto3 clients are thread-safe, sessions are not: make the client
  before), the results in the items' order; a failure is raised after every
  call has ended, the first one in the items' order, naming its item. Workers
  never call ``fail_json`` or ``warn``: they return what the main thread reports.
- ``warn(module, message)``: a warning the user reads, without the deprecation
  warning amazon.aws 10's ``AnsibleAWSModule.warn`` brings on ansible-core
  2.19 (it passes ``warnings`` to ``exit_json``, which core deprecates).

What amazon.aws's error handling (module_utils/errors.py, ``AWSErrorHandler``)
lacks, and so what this file keeps of its own:

- one retry policy under every call, paginators and waiters included, in
  place of botocore's (``client``); amazon.aws retries with ``AWSRetry``
  decorators on top of botocore's own retries;
- ``changed: true`` on a failure after a write (``run``), and one place that
  turns every error into one failure;
- the missing-resource codes per call (``missing_code``): ``AWSErrorHandler``'s
  ``list_error_handler`` and ``deletion_error_handler`` take one ``_is_missing``
  per class, and our calls each have their own codes;
- failures of calls on worker threads named by their item (``each``);
- ``warn`` (above).

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import threading
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

MAX_WORKERS = 8

# The retry policy (see the module docstring).
ATTEMPTS = 13
BASE_DELAY = 0.25
MAX_DELAY = 8
THROTTLING_CODES = frozenset([
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
    "PriorRequestNotComplete", "EC2ThrottledException",
])
# Server errors (InternalFailure, ServerException...) are retried by their HTTP status, so that a 501 (an
# endpoint without the API, such as LocalStack's for a paid service) fails at once.
TRANSIENT_CODES = frozenset(["RequestTimeout", "RequestTimeoutException", "ServiceUnavailable", "Unavailable"])
TRANSIENT_STATUS = frozenset([500, 502, 503, 504])
_HANDLER_ID = "cloudlab-retry-%s"
# Operations that only read (the rest write: a failure after one of them reports changed).
READ_PREFIXES = ("Describe", "Get", "List", "BatchGet", "BatchCheck", "Head", "Validate", "Lookup")


class CloudlabError(AnsibleAWSError):
    """A failure a helper found; ``message`` is what the user reads."""


def retryable(response, caught_exception):
    """Whether an answer (``(http_response, parsed)``) or a connection error is worth another try."""
    if caught_exception is not None:
        return isinstance(caught_exception, (botocore.exceptions.ConnectionError,
                                             botocore.exceptions.HTTPClientError))
    if not response:
        return False
    http, parsed = response
    code = ((parsed or {}).get("Error") or {}).get("Code", "")
    return code in THROTTLING_CODES or code in TRANSIENT_CODES or getattr(http, "status_code", 0) in TRANSIENT_STATUS


def delay(attempt, rand=random.random):
    """Seconds to wait after try number ``attempt`` (1 based) failed: half to all of the capped doubling."""
    ceiling = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))
    return ceiling / 2.0 + rand() * ceiling / 2.0


class RetryPolicy:
    """botocore's ``needs-retry`` handler: the seconds to wait before the next try, or None for no retry."""

    def __init__(self, attempts=ATTEMPTS, rand=random.random):
        self.attempts = attempts
        self.rand = rand

    def __call__(self, attempts, response=None, caught_exception=None, **_kwargs):
        if not retryable(response, caught_exception):
            return None
        if attempts >= self.attempts:
            if response and isinstance(response[1], dict):
                response[1].setdefault("ResponseMetadata", {})["MaxAttemptsReached"] = True
            return None
        return delay(attempts, self.rand)


def with_retry_policy(conn):
    """Give a boto3 client the collection's retry policy in place of botocore's own; returns the client."""
    events = conn.meta.events
    name = conn.meta.service_model.service_id.hyphenize()
    # A user's own max attempts (env, AWS config file, aws_config) stays theirs.
    attempts = (conn.meta.config.retries or {}).get("total_max_attempts") or ATTEMPTS
    # botocore registers its legacy, standard or adaptive handler under this id.
    events.unregister("needs-retry.%s" % name, unique_id="retry-config-%s" % name)
    events.register("needs-retry.%s" % name, RetryPolicy(attempts), unique_id=_HANDLER_ID % name)
    return conn


_CLIENTS_LOCK = threading.Lock()


def client(module, service):
    """A boto3 client of the module's connection settings, with the collection's retry policy; one per service
    for the module's run (made once: a client's service model takes a while to load, and clients are
    thread-safe).

    Its successful writes are recorded on the module, for ``run()``'s failure to report ``changed``.
    """
    with _CLIENTS_LOCK:
        made = module.__dict__.setdefault("_cloudlab_clients", {})
        if service not in made:
            made[service] = _client(module, service)
        return made[service]


def _client(module, service):
    conn = with_retry_policy(module.client(service))
    name = conn.meta.service_model.service_id.hyphenize()

    def after_call(http_response=None, model=None, **_kwargs):
        if getattr(http_response, "status_code", 500) < 300 and not model.name.startswith(READ_PREFIXES):
            module.cloudlab_wrote = True

    conn.meta.events.register("after-call.%s" % name, after_call, unique_id="cloudlab-wrote-%s" % name)
    return conn


def error_code(exc):
    """The AWS error code of a botocore ClientError (or of the one a CloudlabError wraps), else ''."""
    inner = getattr(exc, "exception", None) or exc
    response = getattr(inner, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


class ErrorHandler(AWSErrorHandler):
    """amazon.aws's error handler, raising CloudlabError."""

    _CUSTOM_EXCEPTION = CloudlabError


def aws_call(description):
    """Decorate a function making AWS calls: botocore errors become CloudlabError("Failed to ...")."""
    return ErrorHandler.common_error_handler(description)


def each(func, items, label, what, workers=MAX_WORKERS):
    """[func(item) for item in items], run on at most ``workers`` threads, in the items' order.

    Every call runs to its end; then the first failure in the items' order is raised.
    A CloudlabError is raised as it is (its message names the item); a botocore error
    becomes CloudlabError("Failed to <what> <label(item)>").
    """
    items = list(items)
    if len(items) < 2 or workers < 2:
        calls = [_named(func, label, what, item) for item in items]
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(_named(func, label, what, item)) for item in items]
    return [future.result() for future in futures]


def _named(func, label, what, item):
    def call():
        try:
            return func(item)
        except AnsibleAWSError:
            raise
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            raise CloudlabError(message="Failed to %s %s" % (what, label(item)), exception=e) from e
    return call


def warn(module, message):
    """Warn through the AnsibleModule inside an AnsibleAWSModule (see the module docstring)."""
    getattr(module, "_module", module).warn(message)


def missing_code(*codes):
    """An exception class to catch AWS errors of these codes (is_boto3_error_code, re-exported)."""
    return is_boto3_error_code(list(codes))


def run(module, func):
    """Run ``func(module)``, which returns the result dict, and exit with it or with one failure."""
    try:
        result = func(module)
    except AnsibleAWSError as e:
        extra = dict(dict(changed=_wrote(module)), **e.kwargs)
        if e.exception is not None and isinstance(e.exception, (botocore.exceptions.ClientError,
                                                                botocore.exceptions.BotoCoreError)):
            module.fail_json_aws(e.exception, msg=e.message, **extra)
        module.fail_json(msg=e.message or str(e), **extra)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to %s" % module._name.split(".")[-1].replace("_", " "),
                             changed=_wrote(module))
    module.exit_json(**result)


def _wrote(module):
    return bool(getattr(module, "cloudlab_wrote", False))
