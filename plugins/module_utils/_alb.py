# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The load balancer of the lab, as rules: names, routes, and what counts as converged.

Phase 6 gives every service a pair of target groups, ``<svc>-tg-one`` and
``<svc>-tg-two``. The production listener forwards to ``two`` and the test
listener to ``one``; CodeDeploy's blue/green deployments then swap them, at
every deployment. So a route (a listener's default action or a rule) is
converged when it forwards to either group of its pair, and only to those:
pointing it back would undo CodeDeploy's switch and break the next deployment
("Primary task group must be behind listener").

A route that is created (or pointed back into its pair) forwards to the group
that holds the service's live task set, the PRIMARY one of its ECS service, when
the service exists: after a deployment that is ``one`` as often as ``two``, and
the other group of the pair is empty. Only without a service do the listeners
take the lab's first layout.

After Phases 6 to 8, ``check_routes`` says, per service and listener, which
groups its route reaches and whether they have registered targets.

Pure functions here; the AWS calls are in the modules ``alb``,
``alb_target_groups`` and ``alb_route_check``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudlab.microservices.plugins.module_utils import _lab
from ansible_collections.cloudlab.microservices.plugins.module_utils._ecs_services import primary


def other(which):
    return "two" if which == "one" else "one"


def routes(services, ports):
    """What each listener should forward where.

    ``ports`` is ``{"production": 80, "test": 8080}``. Returns a list of
    ``{listener, port, service, target_group, alternate, rules: [{priority, path_pattern, service,
    source_cidrs, target_group, alternate}]}``; the first service is the default route, every other one a path rule.
    """
    out = []
    for listener in ("production", "test"):
        primary = _lab.LISTENER_PRIMARY[listener]
        first = services[0]["name"]
        rules = []
        for index, svc in enumerate(services[1:], start=1):
            rules.append(dict(priority=_lab.rule_priority(index), path_pattern=svc["path_pattern"], service=svc["name"],
                              source_cidrs=list(svc.get("source_cidrs") or []),
                              target_group=_lab.target_group(svc["name"], primary),
                              alternate=_lab.target_group(svc["name"], other(primary))))
        out.append(dict(listener=listener, port=ports[listener], service=first,
                        target_group=_lab.target_group(first, primary),
                        alternate=_lab.target_group(first, other(primary)), rules=rules))
    return out


def name_of_arn(arn):
    """The target group name inside its ARN (``...:targetgroup/<name>/<id>``), or the text as given."""
    if arn and ":targetgroup/" in arn:
        return arn.split(":targetgroup/", 1)[1].split("/")[0]
    return arn


def forward_targets(actions):
    """ARNs of the target groups an action list sends traffic to, or None when it is not one forward.

    AWS describes a plain forward with ``TargetGroupArn`` and, nowadays, also a ``ForwardConfig``;
    CodeDeploy writes weighted ``ForwardConfig``s. A group of weight 0 receives nothing and is left out.
    """
    forwards = [a for a in actions or [] if a.get("Type") == "forward"]
    if len(forwards) != 1 or len(actions) != 1:
        return None
    action = forwards[0]
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
    if groups:
        return set(g["TargetGroupArn"] for g in groups if g.get("Weight", 1) != 0)
    if action.get("TargetGroupArn"):
        return set([action["TargetGroupArn"]])
    return None


def converged(actions, pair_arns):
    """True when the actions forward only to target groups of the pair (either one, or both weighted)."""
    targets = forward_targets(actions)
    return bool(targets) and targets <= set(a for a in pair_arns if a)


def shown_target(actions):
    """Names of where an action list forwards, for people: ``customer-tg-two``, or ``a+b`` when weighted."""
    targets = forward_targets(actions)
    if targets is None:
        return "+".join(sorted(a.get("Type", "?") for a in actions or [])) or None
    return "+".join(sorted(name_of_arn(t) for t in targets))


def condition_values(conditions, field):
    """The values of a rule's ``field`` conditions (``Values``, or ``<Field>Config.Values`` as AWS also writes them)."""
    config = {"path-pattern": "PathPatternConfig", "source-ip": "SourceIpConfig"}[field]
    out = []
    for cond in conditions or []:
        if cond.get("Field") == field:
            out.extend((cond.get(config) or {}).get("Values") or cond.get("Values") or [])
    return out


def path_patterns(conditions):
    """The path patterns of a rule's conditions."""
    return condition_values(conditions, "path-pattern")


def source_ips(conditions):
    """The CIDRs of a rule's source-ip condition, [] without one."""
    return condition_values(conditions, "source-ip")


def _clean(cond):
    """A condition as DescribeRules gives it, in the form ModifyRule takes (its ``*Config`` only, when it has one)."""
    if any(key.endswith("Config") for key in cond):
        return dict((k, v) for k, v in cond.items() if k != "Values")
    return dict(cond)


def with_source(conditions, cidrs):
    """A rule's conditions with its source-ip condition set to ``cidrs`` (removed when empty), the others kept."""
    out = [_clean(c) for c in conditions or [] if c.get("Field") != "source-ip"]
    if cidrs:
        out.append({"Field": "source-ip", "SourceIpConfig": {"Values": list(cidrs)}})
    return out


def rule_conditions(want):
    """The conditions of a service's new rule: its path pattern, and its source CIDRs when it has some."""
    return with_source([{"Field": "path-pattern", "PathPatternConfig": {"Values": [want["path_pattern"]]}}],
                       want.get("source_cidrs"))


def source_tag(cidrs):
    """The value of the rule tag that records the CIDRs the collection set (``_lab.TAG_SOURCE_IP``)."""
    return " ".join(sorted(cidrs))


def plan_source(rule, want, tags):
    """What to do to the source-ip condition of a matched rule: ``dict(conditions, add_tags, remove_tags, kept)``.

    ``want["source_cidrs"]`` set: the condition holds exactly those CIDRs (``conditions`` is the rule's new
    condition list, None when it already does) and the rule's ``cloudlab:source-ip`` tag records them. Unset:
    a condition the collection set (its tag still matches it) is removed with its tag; one set by hand (no tag),
    as the lab's own 9.1 does, stays. A tagged condition changed by hand since is kept too, and ``kept`` says so.
    ``tags`` are the rule's tags.
    """
    current = source_ips(rule.get("Conditions"))
    wanted = want.get("source_cidrs") or []
    marked = (tags or {}).get(_lab.TAG_SOURCE_IP)
    plan = dict(conditions=None, add_tags={}, remove_tags=[], kept=None)
    if wanted:
        if sorted(current) != sorted(wanted):
            plan["conditions"] = with_source(rule.get("Conditions"), wanted)
        if marked != source_tag(wanted):
            plan["add_tags"] = {_lab.TAG_SOURCE_IP: source_tag(wanted)}
    elif marked is not None:
        if current and sorted(current) != sorted(marked.split()):
            plan["kept"] = current
        else:
            plan["remove_tags"] = [_lab.TAG_SOURCE_IP]
            if current:
                plan["conditions"] = with_source(rule.get("Conditions"), [])
    return plan


def forward(arn):
    """The action list of a plain forward to one target group."""
    return [{"Type": "forward", "TargetGroupArn": arn}]


def plan_rules(current, desired, arns, purge, tags=None):
    """What to do to a listener's rules.

    ``current``: the listener's non-default rules as DescribeRules returns them; ``desired``: the
    ``rules`` of one entry of ``routes()``; ``arns``: target group name -> ARN (None when it does
    not exist yet). A current rule matches a desired one by its path pattern; its other conditions
    (a source-ip condition added later, as Phase 9 of the lab does) are left alone.

    The source-ip condition of a matched rule follows the desired ``source_cidrs`` (``plan_source``; ``tags``:
    rule ARN -> its tags); only the conditions change, so a forward CodeDeploy weighted keeps its weights.

    Returns ``dict(delete=[rule], modify=[(rule, desired)], priorities=[(rule, priority)],
    create=[desired], sources=[(rule, desired, plan_source())])`` (``sources``: only the rules with something to do).
    """
    by_pattern = {}
    for rule in current:
        patterns = path_patterns(rule.get("Conditions"))
        if len(patterns) == 1 and patterns[0] not in by_pattern:
            by_pattern[patterns[0]] = rule
    plan = dict(delete=[], modify=[], priorities=[], create=[], sources=[])
    matched = set()
    for want in desired:
        rule = by_pattern.get(want["path_pattern"])
        if rule is None:
            plan["create"].append(want)
            continue
        matched.add(rule["RuleArn"])
        pair = [arns.get(want["target_group"]), arns.get(want["alternate"])]
        if not converged(rule.get("Actions"), pair):
            plan["modify"].append((rule, want))
        if str(rule.get("Priority")) != str(want["priority"]):
            plan["priorities"].append((rule, want["priority"]))
        source = plan_source(rule, want, (tags or {}).get(rule["RuleArn"]))
        if source["conditions"] is not None or source["add_tags"] or source["remove_tags"] or source["kept"]:
            plan["sources"].append((rule, want, source))
    if purge:
        plan["delete"] = [r for r in current if r["RuleArn"] not in matched]
    return plan


def live_groups(services, described):
    """Per service name, the target group of its pair that holds its live task set.

    ``described``: ECS service name -> DescribeServices entry (None when missing). The live task set is
    the PRIMARY one (CodeDeploy's, which moves to the other group at each deployment), else the
    service's own load balancer. A service that is missing, not ACTIVE, or behind no single group of
    its pair is left out: nothing is known of it.
    """
    out = {}
    for svc in services:
        current = described.get(_lab.ecs_service(svc["name"]))
        if not current or current.get("status") != "ACTIVE":
            continue
        pair = [_lab.target_group(svc["name"], which) for which in _lab.PAIR]
        behind = set(name_of_arn(lb.get("targetGroupArn")) for lb in primary(current).get("loadBalancers") or [])
        live = [name for name in pair if name in behind]
        if len(live) == 1:
            out[svc["name"]] = live[0]
    return out


def deploying(services, described):
    """Names of the services with more than one task set: a blue/green deployment in progress, or its original
    task set still waiting for termination. Their routes may lead, for a while, to a group still empty."""
    out = set()
    for svc in services:
        current = described.get(_lab.ecs_service(svc["name"]))
        if current and current.get("status") == "ACTIVE" and len([
                t for t in current.get("taskSets") or [] if t.get("status") in ("PRIMARY", "ACTIVE")]) > 1:
            out.add(svc["name"])
    return out


def route_target(want, live):
    """The target group a route that is created or pointed back forwards to.

    ``want``: a route of ``routes()`` (the listener's default route or a rule); ``live``: ``live_groups()``.
    The group of the service's live task set when known, for both listeners (where CodeDeploy leaves them
    after every deployment), else the lab's first layout. Never the other group of a live pair: it is empty.
    """
    return live.get(want["service"]) or want["target_group"]


def find_route(listener, rules, service_index, path_pattern):
    """The actions of a service's route on a listener: the default action of the first service, else the
    rule whose one path pattern is the service's. None when there is none."""
    if listener is None:
        return None
    if service_index == 0:
        return listener.get("DefaultActions")
    for rule in rules:
        if path_patterns(rule.get("Conditions")) == [path_pattern]:
            return rule.get("Actions")
    return None


def weights(actions):
    """Target group ARN -> weight of a single forward action list (weight-0 groups included); {} otherwise."""
    forwards = [a for a in actions or [] if a.get("Type") == "forward"]
    if len(forwards) != 1 or len(actions) != 1:
        return {}
    groups = (forwards[0].get("ForwardConfig") or {}).get("TargetGroups")
    if groups:
        return dict((g["TargetGroupArn"], g.get("Weight", 1)) for g in groups)
    if forwards[0].get("TargetGroupArn"):
        return {forwards[0]["TargetGroupArn"]: 1}
    return {}


def check_routes(services, listeners, arns, registered, in_deployment=()):
    """Where each service's production and test routes lead, and which of them strand its traffic.

    ``services``: ``microservices`` entries (``name``, ``path_pattern``); ``listeners``: ``{"production":
    (port, listener or None, rules), "test": ...}``; ``arns``: target group name -> ARN (missing when the
    group does not exist); ``registered``: target group ARN -> number of registered targets; ``in_deployment``:
    ``deploying()``.

    Returns ``(report, problems)``. ``report[service][listener]`` is ``dict(port, route, target_groups,
    registered, status)``: ``target_groups`` the names the route sends traffic to (weight above 0),
    ``registered`` the count of registered targets of each group of the pair, and ``status`` one of
    ``ok`` (every group reached has targets), ``no targets`` (neither group of the pair has any: the service
    has no task behind the load balancer, nothing to reach), ``empty`` (a group reached has none while the
    other has some: the listener answers 503), ``deploying`` (the same while the service has a deployment in
    progress, which moves the route: not a problem), ``standby`` (a test route on the empty group while the
    production route reaches the live one: the lab's layout between deployments, not a problem), ``missing`` (no route for the service) or ``elsewhere`` (the
    route forwards outside the pair, or does not forward). A route is a problem when it is not ``ok`` while
    the service's pair has targets; each problem is one line saying what is wrong and how to fix it.
    """
    report, problems = {}, []
    for index, svc in enumerate(services):
        name = svc["name"]
        pair = [_lab.target_group(name, which) for which in _lab.PAIR]
        counts = dict((g, registered.get(arns.get(g), 0) if arns.get(g) else 0) for g in pair)
        live = [g for g in pair if counts[g]]
        route = "default action" if index == 0 else "rule %s" % svc.get("path_pattern")
        for label in ("production", "test"):
            port, listener, rules = listeners[label]
            actions = find_route(listener, rules, index, svc.get("path_pattern"))
            reached = sorted(name_of_arn(a) for a, w in weights(actions).items() if w)
            if actions is None:
                status = "missing"
            elif not reached or not set(reached) <= set(pair):
                status = "elsewhere"
            elif not live:
                status = "no targets"
            elif all(counts[g] for g in reached):
                status = "ok"
            elif name in in_deployment:
                status = "deploying"
            elif label == "test" and report[name]["production"]["status"] == "ok":
                # The lab's layout between deployments: production on the live group, the test listener on
                # the other one, where CodeDeploy's next replacement starts.
                status = "standby"
            else:
                status = "empty"
            report.setdefault(name, {})[label] = dict(port=port, route=route, target_groups=reached,
                                                      registered=counts, status=status)
            if status in ("ok", "no targets", "deploying", "standby"):
                continue
            where = "%s listener HTTP:%s" % (label, port)
            has = " and ".join("%s has %d" % (g, counts[g]) for g in live)
            if status == "missing":
                what = ("has no %s for %s" % (route, name) if listener is not None else
                        "does not exist")
                fix = "run playbooks/phase6.yml, which creates it forwarding to %s" % live[0]
            elif status == "elsewhere":
                what = "sends %s's %s to %s, outside its pair" % (name, route, shown_target(actions) or "nothing")
                fix = "run playbooks/phase6.yml, which points it at %s" % live[0]
            else:
                empty = [g for g in reached if not counts[g]]
                what = "sends %s's %s to %s, which has no registered target (requests answer 503)" % (
                    name, route, " and ".join(empty))
                fix = ("point it at %s (aws elbv2 modify-%s), or delete it and run playbooks/phase6.yml, which "
                       "re-creates it on the group of the live task set" % (
                           live[0], "listener" if index == 0 else "rule"))
            problems.append("%s %s while %s registered target(s): %s" % (where, what, has, fix))
    return report, problems


# The scheme the alb module makes unless told otherwise (the lab's load balancer is public).
SCHEME = "internet-facing"


def lb_view(lb):
    """A load balancer as the alb module shows and compares it (subnets and security groups sorted)."""
    if not lb:
        return {}
    return dict(arn=lb.get("LoadBalancerArn", ""), name=lb.get("LoadBalancerName"), dns_name=lb.get("DNSName", ""),
                scheme=lb.get("Scheme"), vpc_id=lb.get("VpcId"),
                subnets=sorted(z["SubnetId"] for z in lb.get("AvailabilityZones", [])),
                security_groups=sorted(lb.get("SecurityGroups", [])))


def route_view(route, listener, rules, planned=None):
    """One listener as the alb module returns it (``listeners.<production|test>``): its ARN, port, service,
    where it forwards and its rules, for ``route`` (an entry of ``routes()``). ``rules``: its non-default
    rules; a rule whose ARN starts with ``planned`` (check mode) shows no ARN."""
    by_pattern = dict((w["path_pattern"], w["service"]) for w in route["rules"])

    def patterns(rule):
        return ",".join(path_patterns(rule.get("Conditions")))
    return dict(arn=listener.get("ListenerArn", ""), port=route["port"], service=route["service"],
                target_group=shown_target(listener.get("DefaultActions")),
                rules=[dict(arn=r["RuleArn"] if not (planned and r["RuleArn"].startswith(planned)) else "",
                            priority=int(r["Priority"]), path_pattern=patterns(r),
                            service=by_pattern.get(patterns(r), ""), target_group=shown_target(r.get("Actions")))
                       for r in sorted(rules, key=lambda r: int(r.get("Priority", 0)))])


def listener_view(listener, rules):
    """A listener as people read it: where its default and each rule forward, by target group name."""
    if listener is None:
        return None
    return dict(protocol=listener.get("Protocol"), port=listener.get("Port"),
                target_group=shown_target(listener.get("DefaultActions")),
                rules=dict((rule_label(r), shown_target(r.get("Actions"))) for r in rules))


def rule_label(rule):
    """A rule as people read it: ``10 /admin/*``, with ``from 203.0.113.7/32`` when it limits its sources."""
    label = "%s %s" % (rule.get("Priority"), ",".join(path_patterns(rule.get("Conditions"))) or "-")
    sources = source_ips(rule.get("Conditions"))
    return label + (" from %s" % ",".join(sources) if sources else "")
