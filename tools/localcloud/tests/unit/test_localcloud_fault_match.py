"""Which requests a local cloud fault rule reaches: its signing service, its operation, or both, exactly."""
import socket

import pytest

from localcloud.common import port_free
from localcloud.faults import Faults


@pytest.mark.parametrize("match,service,operation,hit", [
    ("codepipeline", "codepipeline", "ListPipelines", True),
    ("CODEPIPELINE", "codepipeline", "ListPipelines", True),
    ("codepipeline", "s3", None, False),                       # S3 on the codepipeline-... bucket: no operation
    ("pipeline", "codepipeline", "ListPipelines", False),      # no substring
    ("CreateListener", "elasticloadbalancing", "CreateListener", True),
    ("createlistener", "elasticloadbalancing", "CreateListener", True),
    ("Listener", "elasticloadbalancing", "CreateListener", False),
    ("ecs.CreateService", "ecs", "CreateService", True),
    ("ecs.CreateService", "ecs", "UpdateService", False),
    ("s3", "s3", None, True),
    ("events", "events", "PutRule", True),
    ("ecr", "ecr", "PutImage", True),
    ("ecr", "ecs", "ListTasks", False),
    (None, "sts", "GetCallerIdentity", True),
])
def test_match(match, service, operation, hit):
    faults = Faults()
    faults.add({"mode": "throttle", "count": 1, "match": match})
    assert (faults.take(service, operation) == "throttle") is hit
    left = faults.state()["faults"]
    assert left == [] if hit else [f["hits"] for f in left] == [0]


def test_port_free_ignores_what_a_stopped_server_left():
    """A connection the server closed first leaves TIME_WAIT on its port: a server may listen there again."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _addr = server.accept()
        assert not port_free("127.0.0.1", port)  # listening
        accepted.close()  # the server closes first
        client.recv(1)
        client.close()
    assert port_free("127.0.0.1", port)
    with socket.socket() as plain:
        with pytest.raises(OSError):
            plain.bind(("127.0.0.1", port))  # TIME_WAIT: a bind without SO_REUSEADDR fails, the old check's error
