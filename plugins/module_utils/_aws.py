# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every AWS module of this collection shares, once.

- ``client(module, service)``: a boto3 client whose calls retry throttling.
  AWSRetry's default codes leave out ``ThrottlingException``, the code ECS,
  ECR, CodeDeploy and CodePipeline answer with, so it is added here.
- ``CloudlabError``: what helpers raise. Its message says what failed and,
  where a user can fix it, which variable to set. Helpers never call
  ``fail_json`` themselves.
- ``run(module, func)``: calls ``func(module)`` and turns every error into
  one failure, in one place (``fail_json_aws`` keeps AWS's error code and
  request id in the result).
- ``aws_call(description)``: a decorator for the small functions that wrap
  one boto3 call: a botocore error becomes a ``CloudlabError`` that says
  "Failed to <description>".
- ``each(func, items, label, what)``: ``func(item)`` for every item on a few
  threads (boto3 clients are thread-safe, sessions are not: make the client
  before), the results in the items' order; a failure is raised after every
  call has ended, the first one in the items' order, naming its item. Workers
  never call ``fail_json`` or ``warn``: they return what the main thread reports.
- ``warn(module, message)``: a warning the user reads, without the deprecation
  warning amazon.aws 10's ``AnsibleAWSModule.warn`` brings on ansible-core
  2.19 (it passes ``warnings`` to ``exit_json``, which core deprecates).

Private to this collection: no compatibility promise to other collections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

MAX_WORKERS = 8
RETRY = AWSRetry.jittered_backoff(catch_extra_error_codes=["ThrottlingException"])


class CloudlabError(AnsibleAWSError):
    """A failure a helper found; ``message`` is what the user reads."""


def client(module, service):
    """A boto3 client of the module's connection settings that retries throttling."""
    return module.client(service, retry_decorator=RETRY)


def error_code(exc):
    """The AWS error code of a botocore ClientError (or of the one a CloudlabError wraps), else ''."""
    inner = getattr(exc, "exception", None) or exc
    response = getattr(inner, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


def aws_call(description):
    """Decorate a function making AWS calls: botocore errors become CloudlabError("Failed to ...")."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except botocore.exceptions.WaiterError as e:
                raise CloudlabError(message="Timeout trying to %s" % description, exception=e) from e
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                raise CloudlabError(message="Failed to %s" % description, exception=e) from e

        return wrapper

    return decorate


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
        if e.exception is not None and isinstance(e.exception, (botocore.exceptions.ClientError,
                                                                botocore.exceptions.BotoCoreError)):
            module.fail_json_aws(e.exception, msg=e.message, **e.kwargs)
        module.fail_json(msg=e.message or str(e), **e.kwargs)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to %s" % module._name.split(".")[-1].replace("_", " "))
    module.exit_json(**result)
