# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The end-of-run summaries as a few lines a learner reads, in English or French (``_i18n.py``).

``summary(facts, phase, lang, check_mode)``: ``phase`` is ``phase5`` to ``phase8`` (the facts the phase's
playbook gathers in ``playbooks/tasks/<phase>_summary.yml``, a fact of None when its lab task was not in the
run), ``prune`` (the services prune.yml pruned and the ECR repositories it kept), ``labs`` (the labs of a run on
several, converged or stopped by a failure: _labs.recap's facts) or ``status`` (lab_info's
result: its checklist, addresses, live target groups and deployments in progress; in English the same lines
as lab_info's own ``report``). The same facts in both languages: only words change.

No AWS call and no Ansible import. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _i18n
from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab

PHASES = ("phase5", "phase6", "phase7", "phase8", "prune", "status", "release", "labs")


class SummaryError(Exception):
    pass


class _Words(object):
    """The messages of one language, for one run (check mode or not)."""

    def __init__(self, lang, check_mode):
        self.lang = lang
        self.check_mode = bool(check_mode)

    def __call__(self, key, **args):
        return _i18n.text(self.lang, key, **args)

    def header(self, phase):
        return self("header.check" if self.check_mode else "header", phase=phase)

    def not_in_run(self, tasks):
        return self("not_in_run", task=_i18n.task_label(self.lang, tasks))

    def value(self, value, missing="to_be_created"):
        """A fact as shown: an empty one is "to be created" in check mode, "none" otherwise."""
        if value not in (None, ""):
            return str(value)
        return self(missing) if self.check_mode else self("none")

    def listing(self, values):
        return ", ".join(str(v) for v in values) or self("none")


def _phase5(facts, w):
    lines = [w.header(5)]
    repos = facts.get("repositories")
    if repos is None:
        lines.append(w.not_in_run("5.1"))
    else:
        lines.append(w("p5.images", images=w.listing(
            "%s %s" % (name, w.value(digest)) for name, digest in sorted(repos.items()))))
    if facts.get("cluster") is None:
        lines.append(w.not_in_run("5.2"))
    else:
        lines.append(w("p5.cluster", cluster=facts["cluster"], arn=w.value(facts.get("cluster_arn")),
                       stack=w.value(facts.get("stack")), status=w.value(facts.get("stack_status"))))
    if facts.get("deployment") is None:
        lines.append(w.not_in_run("5.3"))
    else:
        lines.append(w("p5.repository", url=w.value(facts["deployment"])))
    if facts.get("deployment_dev_commit") is None:
        lines.append(w.not_in_run("5.4-5.6"))
    else:
        taskdefs = facts.get("task_definitions") or {}
        lines.append(w("p5.taskdefs", arns=w.listing(
            w.value(arn) for _name, arn in sorted(taskdefs.items()))))
        files = facts.get("deployment_dev_files") or []
        lines.append(w("p5.commit", commit=w.value(facts["deployment_dev_commit"], "to_be_made"),
                       count=len(files), files=w.listing(files)))
    return lines


def _listener_line(w, role, listener):
    rules = "".join(", %s -> %s" % (r.get("path_pattern"), r.get("target_group"))
                    for r in listener.get("rules") or [])
    return w("p6.listener", port=listener.get("port"), role=role,
             default=w.value(listener.get("target_group")), rules=rules)


def _phase6(facts, w):
    lines = [w.header(6)]
    groups = facts.get("target_groups") or {}
    if not groups:
        lines.append(w.not_in_run("6.1"))
    else:
        lines.append(w("p6.target_groups", groups=w.listing(
            g.get("name") if g.get("arn") or not w.check_mode else "%s (%s)" % (g.get("name"), w("to_be_created"))
            for _svc, pair in sorted(groups.items()) for _which, g in sorted(pair.items()))))
    if facts.get("security_group") is None:
        lines.append(w.not_in_run("6.2"))
    else:
        lines.append(w("p6.security_group", group=w.value(facts["security_group"])))
    routes = facts.get("routes")
    if facts.get("dns_name") is None:
        lines.append(w.not_in_run("6.3"))
    else:
        dns = facts["dns_name"]
        lines.append(w("p6.load_balancer", name=facts.get("load_balancer"),
                       url=("http://%s" % dns) if dns else w.value(dns)))
        for role, listener in sorted((routes or {}).items()):
            lines.append(_listener_line(w, role, listener))
    return lines


def _phase7(facts, w):
    lines = [w.header(7)]
    services = facts.get("services")
    if services is None:
        return lines + [w.not_in_run("7.1-7.2")]
    for index, (_name, svc) in enumerate(sorted(services.items(), key=lambda kv: kv[0])):
        action = svc.get("action") or "none"
        key = "p7.action.check.%s" % action if w.check_mode else "p7.action.%s" % action
        lines.append(w("p7.service", index=index + 1, name=svc.get("name"), cluster=facts.get("cluster"),
                       action=w(key) if key in _i18n.MESSAGES[w.lang] else action,
                       status=svc.get("status"), running=svc.get("running_count", 0),
                       desired=svc.get("desired_count", 0), arn=w.value(svc.get("arn"))))
        for diff in svc.get("differences") or []:
            lines.append(w("p7.difference", field=diff.get("field"), current=diff.get("current"),
                           desired=diff.get("desired"), action=diff.get("action")))
    return lines


def _route(w, role, route):
    state = route.get("status")
    key = "route.%s" % state
    return w("route", role=role, port=route.get("port"), groups="+".join(route.get("target_groups") or []) or "-",
             state=w(key) if key in _i18n.MESSAGES[w.lang] else state)


def _phase8(facts, w):
    lines = [w.header(8)]
    groups = facts.get("deployment_groups") or {}
    if facts.get("application") is None:
        lines.append(w.not_in_run("8.1"))
    else:
        lines.append(w("p8.codedeploy", application=w.value(facts["application"]),
                       groups=w.listing(v for _k, v in sorted(groups.items()))))
        changed = sorted(n for n, c in (facts.get("deployment_group_changes") or {}).items() if c)
        if changed:
            lines.append(w("p8.changed", names=", ".join(changed)))
    pipelines = facts.get("pipelines")
    if pipelines is None:
        lines.append(w.not_in_run("8.2"))
    else:
        lines.append(w("p8.pipelines", pipelines=w.listing(v for _k, v in sorted(pipelines.items())),
                       rules=len(facts.get("change_detection_rules") or []),
                       bucket=w.value(facts.get("artifact_bucket"))))
        changed = sorted(n for n, c in (facts.get("pipeline_changes") or {}).items() if c)
        if changed:
            lines.append(w("p8.changed", names=", ".join(changed)))
    routes = facts.get("routes")
    if routes is None:
        lines.append(w("p8.routes_not_checked"))
    else:
        for service, by_role in sorted(routes.items()):
            lines.append(w("p8.routes", service=service, routes=", ".join(
                _route(w, role, route) for role, route in sorted(by_role.items()))))
    return lines


def _prune(facts, w):
    """What prune.yml removed (or would), and the ECR repositories it kept."""
    lines = [w("prune.services.check" if w.check_mode else "prune.services",
               services=w.listing(facts.get("services") or []))]
    if facts.get("kept"):
        lines.append(w("prune.kept", repositories=", ".join(facts["kept"])))
    return lines


def _title(w, item, lab):
    """A checklist item's title from lab_info's read (the names the English title holds)."""
    task = item["task"]
    cc = lab.get("codecommit") or {}
    args = dict(branch=cc.get("branch"), repository=cc.get("name"),
                tag=next((r.get("image_tag") for r in (lab.get("repositories") or {}).values()), "latest"),
                cluster=(lab.get("cluster") or {}).get("name"), group=(lab.get("security_group") or {}).get("name"),
                name=(lab.get("load_balancer") or {}).get("name"),
                application=((lab.get("codedeploy") or {}).get("application") or {}).get("name"))
    if task.startswith("7."):
        services = list(lab.get("services") or [])
        position = int(task.split(".")[1]) - 1
        args["name"] = _lab.ecs_service(services[position]) if position < len(services) else ""
        task_key = "check.7"
    else:
        task_key = "check.%s" % task
    if task_key not in _i18n.MESSAGES[w.lang]:
        return item["title"]
    return w(task_key, **args)


def _status(lab, w):
    """lab_info's checklist, each service's addresses and live groups, the deployments in progress."""
    states = [w("state.%s" % s) for s in ("done", "missing", "drifted")]
    width = max(len(s) for s in states)
    lines = []
    for item in lab.get("checklist") or []:
        key = "state.%s" % item["state"]
        state = w(key) if key in _i18n.MESSAGES[w.lang] else item["state"]
        lines.append("[%-*s] %s %s" % (width, state, item["task"], _title(w, item, lab)))
        lines.extend("            - %s" % d for d in item.get("details") or [])
    addresses, live = lab.get("addresses") or {}, lab.get("live") or {}
    for name in lab.get("services") or []:
        where, route = addresses.get(name) or {}, live.get(name) or {}
        shown = ", ".join("%s %s -> %s" % (role, where[role], "+".join(
            "%s(%s)" % (g, wt) if len(route.get(role) or {}) > 1 else g
            for g, wt in sorted((route.get(role) or {}).items())) or "-") for role in sorted(where))
        lines.append(w("status.service", name=name, where=shown or w("status.no_load_balancer")))
    progress = lab.get("deployments_in_progress") or []
    for d in progress:
        lines.append(w("status.deployment", service=d["service"], id=d["id"], status=d["status"]))
    if not progress:
        lines.append(w("status.no_deployment"))
    return lines


def traffic_parts(where):
    """[(port, groups shown)] by port: `employee-tg-two`, or `employee-tg-one 90% / employee-tg-two 10%`."""
    parts = []
    for port, groups in sorted((where or {}).items(), key=lambda item: int(item[0])):
        if len(groups) == 1:
            shown = list(groups)[0]
        else:
            shown = " / ".join("%s %d%%" % (name, pct) for name, pct in sorted(groups.items()))
        parts.append((port, shown))
    return parts


def _release(facts, w):
    """The end of a release (release_follow's result and the service): how it ended, where traffic goes, what
    the listeners answer. CodeDeploy's status and error text are AWS's own words, shown as they are."""
    deployment = w("release.deployment", id=facts["deployment_id"]) if facts.get("deployment_id") else ""
    lines = [w("release.outcome", service=facts.get("service") or "", status=facts.get("status") or w("none"),
               deployment=deployment)]
    if facts.get("error"):
        lines.append(w("release.error", error=facts["error"]))
    routes = [w("release.route", port=port, groups=shown) for port, shown in traffic_parts(facts.get("traffic"))]
    lines.append(w("release.traffic", where=", ".join(routes) or w("release.no_route")))
    for port, answer in sorted((facts.get("answers") or {}).items(), key=lambda item: int(item[0])):
        lines.append(w("release.answer", port=port, url=answer["url"], answer=answer["answer"]))
    return lines


def _labs(facts, w):
    """The end of a run on several labs (_labs.recap's facts): the labs that converged, those a failure stopped."""
    converged, failed = facts.get("converged") or [], facts.get("failed") or []
    lines = [w("labs.converged", count=len(converged), total=len(converged) + len(failed), labs=w.listing(converged))]
    if failed:
        lines.append(w("labs.failed", labs=w.listing(failed)))
    return lines


RENDER = {"phase5": _phase5, "phase6": _phase6, "phase7": _phase7, "phase8": _phase8, "prune": _prune, "status": _status,
          "release": _release, "labs": _labs}


def summary(facts, phase, lang=_i18n.DEFAULT_LANG, check_mode=False):
    """The summary of ``phase`` as lines, in ``lang``."""
    problem = _i18n.lang_problem(lang)
    if problem:
        raise SummaryError(problem)
    if phase not in RENDER:
        raise SummaryError("summary: phase is %r: use one of %s" % (phase, ", ".join(PHASES)))
    if not isinstance(facts, dict):
        raise SummaryError("summary: the input must be a dict of the %s facts (got %s)" % (phase, _lab.quote(facts)))
    return RENDER[phase](facts, _Words(lang, check_mode))
