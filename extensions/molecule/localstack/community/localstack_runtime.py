"""Start and stop LocalStack's community runtime on 127.0.0.1, from the venv
the scenario made (localstack-core, no Docker, no auth token).

  python localstack_runtime.py start --port PORT --state-dir DIR
  python localstack_runtime.py stop --state-dir DIR

`start` returns once /_localstack/health answers and prints it; `stop` ends
the process it started (pid file in DIR) and what it started."""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request


def health(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/_localstack/health" % port, timeout=2) as resp:
        return json.load(resp)


def start(port, state_dir, timeout):
    os.makedirs(state_dir, exist_ok=True)
    env = dict(os.environ,
               GATEWAY_LISTEN="127.0.0.1:%d" % port,
               # Nothing outside this machine: no DNS server, no certificate
               # download, no usage events; state under the scenario's folder.
               DNS_ADDRESS="0", SKIP_SSL_CERT_DOWNLOAD="1", DISABLE_EVENTS="1",
               LOCALSTACK_VOLUME_DIR=os.path.join(state_dir, "volume"),
               TMPDIR=os.path.join(state_dir, "tmp"))
    os.makedirs(env["TMPDIR"], exist_ok=True)
    log = open(os.path.join(state_dir, "localstack.log"), "ab")
    proc = subprocess.Popen([sys.executable, "-m", "localstack.runtime.main"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    with open(os.path.join(state_dir, "localstack.pid"), "w") as handle:
        handle.write(str(proc.pid))
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("LocalStack exited (%s) before answering; see %s/localstack.log" % (proc.returncode, state_dir))
        try:
            print(json.dumps(health(port)))
            return
        except OSError:
            time.sleep(0.5)
    stop(state_dir)
    sys.exit("LocalStack did not answer on 127.0.0.1:%d within %ss; see %s/localstack.log" % (port, timeout, state_dir))


def stop(state_dir):
    path = os.path.join(state_dir, "localstack.pid")
    if not os.path.exists(path):
        print("not running")
        return
    with open(path) as handle:
        pid = int(handle.read())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _attempt in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.remove(path)
    print("stopped")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()
    if args.action == "start":
        start(args.port, args.state_dir, args.timeout)
    else:
        stop(args.state_dir)


if __name__ == "__main__":
    main()
