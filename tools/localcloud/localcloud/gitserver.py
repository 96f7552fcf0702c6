"""Git smart HTTP for the CodeCommit repositories, served by git http-backend.

A real git server (git's own CGI program), so that clone and push behave as
git does; no authentication is checked: any client may read and push.
"""
import os
import subprocess

from localcloud.common import read_body

PREFIX = "/v1/repos/"


class GitHttp:
    def __init__(self, codecommit):
        self.codecommit = codecommit

    def __call__(self, environ, start_response):
        rest = environ.get("PATH_INFO", "")[len(PREFIX):]
        name, _, tail = rest.partition("/")
        if not self.codecommit.exists(name):
            body = ("repository %s not found\n" % name).encode()
            start_response("404 Not Found", [("Content-Type", "text/plain"),
                                             ("Content-Length", str(len(body)))])
            return [body]
        body = read_body(environ)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.codecommit.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": environ.get("REQUEST_METHOD", "GET"),
            "PATH_INFO": "/%s.git/%s" % (name, tail),
            "QUERY_STRING": environ.get("QUERY_STRING", ""),
            "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": environ.get("REMOTE_ADDR", "127.0.0.1"),
            # Pushes are recorded under this name in the reflog; nobody is authenticated.
            "REMOTE_USER": "localcloud",
        }
        if environ.get("HTTP_CONTENT_ENCODING"):
            env["HTTP_CONTENT_ENCODING"] = environ["HTTP_CONTENT_ENCODING"]
        if environ.get("HTTP_GIT_PROTOCOL"):
            env["GIT_PROTOCOL"] = environ["HTTP_GIT_PROTOCOL"]
        proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True,
                              check=False)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        if not _ and b"\n\n" in proc.stdout:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status = "200 OK"
        headers = []
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = value.strip()
            elif key:
                headers.append((key.strip(), value.strip()))
        if proc.returncode and not head:
            status = "500 Internal Server Error"
            payload = proc.stderr
        headers = [h for h in headers if h[0].lower() != "content-length"]
        headers.append(("Content-Length", str(len(payload))))
        start_response(status, headers)
        if tail == "git-receive-pack" and environ.get("REQUEST_METHOD") == "POST":
            self.codecommit.after_push(name)
        return [payload]
