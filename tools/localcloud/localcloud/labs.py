"""Several labs at once on this machine: one local cloud per lab and an inventory with one host each.

    python -m localcloud.labs up --count 3 --dir build/labs    # 3 clouds on free ports, build/labs/inventory
    python -m localcloud.labs wait --dir build/labs            # until every lab's listeners answer
    python -m localcloud.labs down --dir build/labs            # stop the clouds `up` started

Each cloud has its own state dir (<dir>/<lab>/cloud), a free port and a free registry port. The inventory
(<dir>/inventory) is the settings one lab's inventory holds (`up --group-vars`, by default the collection's
inventories/local/group_vars/all.yml from the checkout's root, copied) with the labs as hosts of the group
cloudlab_labs, each with its own endpoint in its host vars (a host var wins over the group's
LOCALCLOUD_ENDPOINT lookup). The collection's playbooks run on that group, one fork per lab:

    ansible-playbook -i build/labs/inventory playbooks/site.yml --forks 3
"""
import argparse
import json
import os
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request

from localcloud import control

STATE = "labs.json"
GROUP = "cloudlab_labs"


def lab_names(count):
    return ["lab%d" % i for i in range(1, count + 1)]


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _yaml_scalar(value):
    """A value of the inventory as YAML (JSON is YAML: strings quoted, numbers and booleans as they are)."""
    return json.dumps(value)


def write_inventory(folder, labs, group_vars_file, host_vars=None):
    """An inventory folder of several labs: `labs` {host: endpoint}, `host_vars` {host: {var: value}} beside
    the endpoint; the group's settings are `group_vars_file`'s (the collection's inventories/local/group_vars/
    all.yml: the local cloud does not know the collection's layout). Returns the folder."""
    os.makedirs(os.path.join(folder, "group_vars"), exist_ok=True)
    shutil.copyfile(group_vars_file, os.path.join(folder, "group_vars", "all.yml"))
    lines = ["---",
             "# Several labs, one local cloud each (python -m localcloud.labs); each host is a lab.",
             "all:", "  children:", "    %s:" % GROUP, "      hosts:"]
    for host, endpoint in labs.items():
        values = {"ansible_connection": "local",
                  "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                  "cloudlab_aws_endpoint_url": endpoint}
        values.update((host_vars or {}).get(host, {}))
        lines.append("        %s:" % host)
        lines.extend("          %s: %s" % (key, _yaml_scalar(value)) for key, value in values.items())
    with open(os.path.join(folder, "hosts.yml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return folder


def _state(folder):
    try:
        with open(os.path.join(folder, STATE)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def up(folder, count, group_vars_file, host="127.0.0.1"):
    """Start `count` clouds (those of a previous `up` of this folder first stopped when the count differs)."""
    folder = os.path.abspath(folder)
    if not os.path.isfile(group_vars_file):
        print("no file %s: give --group-vars the collection's inventories/local/group_vars/all.yml"
              % group_vars_file, file=sys.stderr)
        return 2
    known = _state(folder)
    if known and sorted(known) != lab_names(count):
        down(folder)
        known = {}
    labs = {}
    for name in lab_names(count):
        state_dir = os.path.join(folder, name, "cloud")
        port = (known.get(name) or {}).get("port") or free_port(host)
        if control.start(host, port, state_dir, registry_port=0) != 0:
            print("lab %s: its local cloud did not start (see %s); stopping the others" % (name, state_dir),
                  file=sys.stderr)
            _save(folder, labs)
            down(folder)
            return 1
        labs[name] = {"port": port, "state_dir": state_dir, "endpoint": "http://%s:%d" % (host, port)}
        _save(folder, labs)
    inventory = write_inventory(os.path.join(folder, "inventory"),
                                dict((name, lab["endpoint"]) for name, lab in labs.items()), group_vars_file)
    for name, lab in labs.items():
        print("lab %s: local cloud %s (state %s)" % (name, lab["endpoint"], lab["state_dir"]))
    print("inventory: %s" % inventory)
    return 0


def _save(folder, labs):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, STATE), "w") as handle:
        json.dump(labs, handle, indent=2, sort_keys=True)


def down(folder):
    """Stop every cloud a previous `up` of this folder started."""
    folder = os.path.abspath(folder)
    labs = _state(folder)
    if not labs:
        print("no labs were started in %s" % folder)
        return 0
    rc = 0
    for name in sorted(labs):
        print("lab %s:" % name)
        rc = control.stop(labs[name]["state_dir"]) or rc
    os.unlink(os.path.join(folder, STATE))
    return rc


def _get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except OSError:
        return None, b""


def answers(endpoint, balancer="microservicesLB"):
    """{listener port: (its local URL, HTTP status or None)} of a cloud's load balancer."""
    status, body = _get(endpoint + "/_localcloud/listeners")
    if status != 200:
        return {}
    out = {}
    for doc in json.loads(body).get("listeners", []):
        if doc.get("loadBalancerName") == balancer:
            out[doc["port"]] = (doc["url"], _get(doc["url"] + "/")[0])
    return out


def wait(folder, timeout=600):
    """Until every lab's listeners answer 200, or `timeout` seconds; prints each lab's listeners."""
    labs = _state(os.path.abspath(folder))
    if not labs:
        print("no labs were started in %s" % folder, file=sys.stderr)
        return 1
    deadline = time.time() + timeout
    pending = dict(labs)
    seen = {}
    while pending:
        for name in sorted(pending):
            seen[name] = answers(pending[name]["endpoint"])
            if seen[name] and all(code == 200 for _url, code in seen[name].values()):
                print("lab %s: %s" % (name, ", ".join("listener :%s answers on %s" % (port, url)
                                                       for port, (url, _code) in sorted(seen[name].items()))))
                del pending[name]
        if pending and time.time() >= deadline:
            for name in sorted(pending):
                print("lab %s: listeners not answering after %ds: %s" % (
                    name, timeout, seen[name] or "no listener (is the local cloud running tasks?)"), file=sys.stderr)
            return 1
        if pending:
            time.sleep(3)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m localcloud.labs", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("up", "start one local cloud per lab and write the inventory"),
                       ("wait", "wait until every lab's listeners answer"),
                       ("down", "stop the clouds of `up`")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--dir", default="build/labs", help="folder of the clouds' state and the inventory")
        if name == "up":
            cmd.add_argument("--count", type=int, default=3, help="how many labs")
            cmd.add_argument("--group-vars", default=os.path.join("inventories", "local", "group_vars", "all.yml"),
                             help="the settings every lab shares (default: the collection's local inventory's, "
                                  "from the checkout's root)")
        if name == "wait":
            cmd.add_argument("--timeout", type=int, default=600, help="seconds to wait for the listeners")
    args = parser.parse_args(argv)
    if args.command == "up":
        if args.count < 1:
            parser.error("--count must be 1 or more")
        return up(args.dir, args.count, args.group_vars)
    if args.command == "wait":
        return wait(args.dir, args.timeout)
    return down(args.dir)


if __name__ == "__main__":
    sys.exit(main())
