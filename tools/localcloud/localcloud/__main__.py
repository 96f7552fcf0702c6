"""Command line of the local cloud: `python -m localcloud serve|start|stop|status`."""
import argparse
import sys

from localcloud import control

LOOPBACK = ("127.0.0.1", "localhost")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m localcloud",
        description="moto + git-backed CodeCommit + ECR registry side, on one local port")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("serve", "run in the foreground"),
                       ("start", "run in the background and wait until it answers"),
                       ("stop", "stop the background cloud and everything it spawned"),
                       ("status", "say whether the cloud of this state dir runs")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--state-dir", default=".localcloud",
                         help="folder for the pid file, log and every stored resource")
        if name in ("serve", "start", "status"):
            cmd.add_argument("--host", default="127.0.0.1")
            cmd.add_argument("--port", type=int, default=4566)
        if name in ("serve", "start"):
            cmd.add_argument("--registry-port", type=int, default=None,
                             help="port of the ECR registry side (default: port+1, 0: any free port)")
    args = parser.parse_args(argv)
    # Nothing here checks credentials (see README): never offer it beyond this machine.
    if getattr(args, "host", "127.0.0.1") not in LOOPBACK:
        parser.error("--host must be a loopback address (%s): the local cloud checks no "
                     "credentials" % ", ".join(LOOPBACK))
    if args.command == "serve":
        from localcloud.server import serve
        return serve(args.host, args.port, args.state_dir, args.registry_port)
    if args.command == "start":
        return control.start(args.host, args.port, args.state_dir, args.registry_port)
    if args.command == "stop":
        return control.stop(args.state_dir)
    return control.status(args.host, args.port, args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
