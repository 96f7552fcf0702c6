"""WSGI application of the local cloud and the function that serves it."""
import os

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def make_app(state_dir):
    """Return the WSGI application: moto for every API it has."""
    os.makedirs(state_dir, exist_ok=True)
    return DomainDispatcherApplication(create_backend_app)


def serve(host, port, state_dir):
    os.environ.setdefault("MOTO_PORT", str(port))
    run_simple(host, port, make_app(state_dir), threaded=True,
               request_handler=MotoRequestHandler)
