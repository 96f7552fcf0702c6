"""A job run as AWX and Automation Platform run one, through ansible-runner: the private data dir they lay out,
and what to look for in what the run leaves in artifacts/."""
import json
import os
import secrets
import shutil

import yaml

from helpers import ROOT

# The events of a task's result for its host, as ansible-runner names them.
RESULT_EVENTS = ("runner_on_ok", "runner_on_skipped", "runner_on_failed", "runner_on_unreachable")
META = ("meta", "ansible.builtin.meta")
# The names AWX's "Amazon Web Services" credential injects, and the ones of them it redacts in a job's env.
AWS_CREDENTIAL_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")


def awx_private_data_dir(base, cloud, extravars):
    """A job's private data dir as AWX lays it out: project/ (the repository's playbooks), inventory/ (the local
    sample inventory), env/ (extravars, envvars with the credential as AWX injects it, settings), the project's
    collections in requirements_collections/ through ANSIBLE_COLLECTIONS_PATH. Returns (dir, the env's secrets)."""
    pdd = base / "awx-job"
    shutil.copytree(os.path.join(ROOT, "playbooks"), pdd / "project" / "playbooks")
    shutil.copytree(os.path.join(ROOT, "inventories", "local"), pdd / "inventory")
    collections = pdd / "requirements_collections"
    (collections / "ansible_collections" / "cloudlab").mkdir(parents=True)
    (collections / "ansible_collections" / "cloudlab" / "microservices").symlink_to(ROOT)
    token = "awx-token-" + secrets.token_hex(16)
    envvars = {
        "AWS_ACCESS_KEY_ID": "AKIAAWX" + secrets.token_hex(6).upper(),
        "AWS_SECRET_ACCESS_KEY": "awx-secret-" + secrets.token_hex(16),
        "AWS_SECURITY_TOKEN": token,
        "AWS_SESSION_TOKEN": token,
        "LOCALCLOUD_ENDPOINT": cloud.endpoint,
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
    }
    env = pdd / "env"
    env.mkdir()
    (env / "envvars").write_text(json.dumps(envvars))
    (env / "extravars").write_text(json.dumps(extravars))
    # As AWX: no container (process isolation off), the output only as events and artifacts.
    (env / "settings").write_text(json.dumps({"process_isolation": False, "suppress_ansible_output": True,
                                             "job_timeout": 900}))
    return pdd, [envvars[name] for name in AWS_CREDENTIAL_SECRETS]


def inventory_secrets():
    """The local inventory's own dummy secrets (module options marked no_log)."""
    with open(os.path.join(ROOT, "inventories", "local", "group_vars", "all.yml"), encoding="utf-8") as f:
        connection = yaml.safe_load(f)["cloudlab_aws_connection"]
    return [connection["secret_key"], connection["session_token"]]


def secrets_in_artifacts(artifacts, values):
    """[(file, secret)] for every secret value found in a file under artifacts/. ansible-runner writes the job's
    environment into artifacts/<ident>/command (AWX shows it with the credential's values redacted): there the
    credential's own variables are left out, and any other place a value shows counts."""
    found = []
    for folder, _dirs, files in os.walk(artifacts):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if name == "command":
                data = json.loads(text)
                data["env"] = dict((k, v) for k, v in data["env"].items() if k not in AWS_CREDENTIAL_SECRETS)
                text = json.dumps(data)
            found += [(os.path.relpath(path, artifacts), value) for value in values if value in text]
    return found
