"""Command line of the local cloud: `python -m localcloud serve|start|stop`."""
import argparse

from localcloud.server import serve


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m localcloud")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run in the foreground")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=4566)
    p_serve.add_argument("--state-dir", default=".localcloud")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.host, args.port, args.state_dir)


if __name__ == "__main__":
    main()
