"""Helpers of the local cloud's tests: raw responses checked against botocore's model."""
import base64
import json

import botocore.session

_SESSION = botocore.session.get_session()


def service_model(name):
    return _SESSION.get_service_model(name)


def shape_problems(value, shape, path="$"):
    """What in the raw JSON `value` botocore's `shape` does not allow (empty list: it conforms)."""
    problems = []
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return ["%s: expected an object, got %r" % (path, value)]
        for key in value:
            if key not in shape.members:
                problems.append("%s: unknown member %s" % (path, key))
        for key in shape.required_members:
            if key not in value:
                problems.append("%s: missing required member %s" % (path, key))
        for key, member in shape.members.items():
            if key in value:
                problems += shape_problems(value[key], member, "%s.%s" % (path, key))
    elif kind == "list":
        if not isinstance(value, list):
            return ["%s: expected a list" % path]
        for index, item in enumerate(value):
            problems += shape_problems(item, shape.member, "%s[%d]" % (path, index))
    elif kind == "map":
        if not isinstance(value, dict):
            return ["%s: expected a map" % path]
        for key, item in value.items():
            problems += shape_problems(key, shape.key, "%s<key>" % path)
            problems += shape_problems(item, shape.value, "%s[%s]" % (path, key))
    elif kind == "string":
        if not isinstance(value, str):
            return ["%s: expected a string, got %r" % (path, value)]
        if shape.enum and value not in shape.enum:
            problems.append("%s: %r not in %s" % (path, value, shape.enum))
        limits = shape.metadata
        if "min" in limits and len(value) < limits["min"]:
            problems.append("%s: shorter than %s" % (path, limits["min"]))
        if "max" in limits and len(value) > limits["max"]:
            problems.append("%s: longer than %s" % (path, limits["max"]))
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append("%s: expected an integer, got %r" % (path, value))
    elif kind in ("float", "double"):
        if not isinstance(value, (int, float)):
            problems.append("%s: expected a number" % path)
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append("%s: expected a boolean" % path)
    elif kind == "timestamp":
        if not isinstance(value, (int, float)):
            problems.append("%s: expected epoch seconds, got %r" % (path, value))
    elif kind == "blob":
        try:
            base64.b64decode(value, validate=True)
        except Exception:
            problems.append("%s: expected base64" % path)
    return problems


class RawCapture:
    """Keeps the raw body of the last response a client received."""

    def __init__(self, client):
        self.body = None
        self.status = None
        client.meta.events.register("after-call", self._after)
        client.meta.events.register("after-call-error", self._after_error)

    def _after(self, http_response, **kwargs):
        self.status = http_response.status_code
        self.body = http_response.content

    def _after_error(self, **kwargs):
        pass

    def json(self):
        return json.loads(self.body or b"{}")


def assert_conforms(capture, service, operation):
    """The last raw response of `capture` is a valid output of `operation`."""
    shape = service_model(service).operation_model(operation).output_shape
    doc = capture.json()
    if shape is None:
        assert doc == {}, "%s returns no output, got %r" % (operation, doc)
        return doc
    problems = shape_problems(doc, shape)
    assert not problems, "%s response does not conform to botocore's model: %s" % (operation, problems)
    return doc


def error_code(excinfo):
    """The AWS error code of a ClientError caught by pytest.raises."""
    return excinfo.value.response["Error"]["Code"]


def error_codes(service, operation):
    """Error codes botocore's model lists for an operation."""
    return {shape.name for shape in service_model(service).operation_model(operation).error_shapes}


def unvalidated_client(cloud, service):
    """A client that sends what botocore would refuse, to see the server's own refusal."""
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=cloud.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        aws_session_token="test", config=Config(parameter_validation=False))
