# -*- coding: utf-8 -*-
# Copyright: Contributors to the cloudlab.microservices collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The words of the end-of-run summaries, in the learners' languages: message key -> template, per language.

One place for the words: ``plugins/module_utils/_summary.py`` renders each summary from the facts a run
published and the templates here; nothing else spells a summary's words. Both languages have the same keys
and the same ``{placeholders}`` (``tests/unit/plugins/filter/test_summary.py``); only words change, never a
count, name, ARN or URL. The French task titles are the lab's own (its task list, "Tâche 5.1 : ...").

No Ansible import. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The variable that chooses the language, and what it accepts (the first is the default).
LANG_VARIABLE = "cloudlab_lang"
LANGS = ("en", "fr")
DEFAULT_LANG = LANGS[0]

MESSAGES = {
    "en": {
        # Headers and shared words.
        "header": "Phase {phase} summary",
        "header.check": "Phase {phase} summary (check mode: predicted, nothing changed)",
        "status.header": "Where the lab stands",
        "not_in_run": "{task}: not in this run",
        "to_be_created": "to be created",
        "to_be_made": "to be made",
        "none": "none",
        # Phase 5.
        "p5.images": "Task 5.1 ECR images: {images}",
        "p5.cluster": "Task 5.2 Fargate cluster {cluster} ({arn}), stack {stack}: {status}",
        "p5.repository": "Task 5.3 CodeCommit repository deployment: {url}",
        "p5.taskdefs": "Task 5.4 task definitions: {arns}",
        "p5.commit": "Tasks 5.5-5.6 on dev: commit {commit}, {count} files ({files})",
        # Phase 6.
        "p6.target_groups": "Task 6.1 target groups: {groups}",
        "p6.security_group": "Task 6.2 security group: {group}",
        "p6.load_balancer": "Task 6.3 load balancer {name}: {url}",
        "p6.listener": "  listener {port} ({role}): default {default}{rules}",
        # Phase 7.
        "p7.service": "Task 7.{index} ECS service {name} on {cluster}: {action}, {status}, {running}/{desired} tasks, {arn}",
        "p7.difference": "  {field}: {current} -> {desired}: {action}",
        "p7.action.create": "created",
        "p7.action.update": "updated",
        "p7.action.delete": "deleted",
        "p7.action.none": "unchanged",
        "p7.action.check.create": "to be created",
        "p7.action.check.update": "to be updated",
        "p7.action.check.delete": "to be deleted",
        "p7.action.check.none": "unchanged",
        # Phase 8.
        "p8.codedeploy": "Task 8.1 CodeDeploy application {application}: deployment groups {groups}",
        "p8.pipelines": "Task 8.2 pipelines {pipelines}: {rules} change detection rules, artifact bucket {bucket}",
        "p8.changed": "  changed: {names}",
        "p8.routes": "Routes of {service}: {routes}",
        "p8.routes_not_checked": "Routes: not checked in this run",
        "route": "{role} :{port} -> {groups} ({state})",
        "route.ok": "ok",
        "route.no targets": "no targets",
        "route.empty": "empty",
        "route.deploying": "deploying",
        "route.missing": "missing",
        "route.elsewhere": "elsewhere",
        # prune.yml.
        "prune.services": "Pruned, what the lab made for: {services}",
        "prune.services.check": "To be pruned, what the lab made for: {services}",
        "prune.kept": "ECR repositories kept (the images are yours; -e cloudlab_prune_images=true removes them): {repositories}",
        # status.yml: the checklist (titles as lab_info's own report words them), addresses, deployments.
        "state.done": "done",
        "state.missing": "missing",
        "state.drifted": "drifted",
        "check.5.1": "ECR repositories and their {tag} image",
        "check.5.2": "Fargate cluster {cluster} through CloudFormation",
        "check.5.3": "CodeCommit repository {repository}, branch {branch}",
        "check.5.4": "task definitions on {branch} and registered",
        "check.5.5": "AppSpec files on {branch}",
        "check.5.6": "placeholders, committed and pushed to {branch}",
        "check.6.1": "target groups, a pair per service",
        "check.6.2": "security group {group}",
        "check.6.3": "load balancer {name}, listeners and rules",
        "check.7": "ECS service {name}",
        "check.8.1": "CodeDeploy application {application} and deployment groups",
        "check.8.2": "pipelines, artifact bucket and change detection",
        "status.service": "{name}: {where}",
        "status.no_load_balancer": "no load balancer yet",
        "status.deployment": "deployment in progress: {service} {id} ({status})",
        "status.no_deployment": "no deployment in progress",
        # The release (role release, tasks 9.2 and 9.3); the timeline keeps AWS's own event names.
        "release.outcome": "Release of {service}: {status}{deployment}",
        "release.deployment": " (deployment {id})",
        "release.error": "  CodeDeploy says: {error}; traffic stayed where it was",
        "release.traffic": "  traffic: {where}",
        "release.route": "listener :{port} -> {groups}",
        "release.no_route": "no listener sends this service's traffic",
        "release.answer": "  listener :{port} answers on {url}: {answer}",
        # The end of a run on several labs (site.yml's last play): which labs converged, which a failure stopped.
        "labs.converged": "Labs converged ({count} of {total}): {labs}",
        "labs.failed": "Labs stopped by a failure, nothing more done on them (their failed task is above): {labs}",
    },
    "fr": {
        "header": "Résumé de la phase {phase}",
        "header.check": "Résumé de la phase {phase} (mode vérification : prévu, rien n'a changé)",
        "status.header": "Où en est le lab",
        "not_in_run": "{task} : pas dans cette exécution",
        "to_be_created": "à créer",
        "to_be_made": "à faire",
        "none": "aucun",
        "p5.images": "Tâche 5.1 images ECR : {images}",
        "p5.cluster": "Tâche 5.2 cluster Fargate {cluster} ({arn}), pile {stack} : {status}",
        "p5.repository": "Tâche 5.3 dépôt CodeCommit deployment : {url}",
        "p5.taskdefs": "Tâche 5.4 définitions de tâche : {arns}",
        "p5.commit": "Tâches 5.5-5.6 sur dev : commit {commit}, {count} fichiers ({files})",
        "p6.target_groups": "Tâche 6.1 groupes cibles : {groups}",
        "p6.security_group": "Tâche 6.2 groupe de sécurité : {group}",
        "p6.load_balancer": "Tâche 6.3 équilibreur de charge {name} : {url}",
        "p6.listener": "  écouteur {port} ({role}) : par défaut {default}{rules}",
        "p7.service": "Tâche 7.{index} service ECS {name} sur {cluster} : {action}, {status}, {running}/{desired} tâches, {arn}",
        "p7.difference": "  {field} : {current} -> {desired} : {action}",
        "p7.action.create": "créé",
        "p7.action.update": "mis à jour",
        "p7.action.delete": "supprimé",
        "p7.action.none": "inchangé",
        "p7.action.check.create": "à créer",
        "p7.action.check.update": "à mettre à jour",
        "p7.action.check.delete": "à supprimer",
        "p7.action.check.none": "inchangé",
        "p8.codedeploy": "Tâche 8.1 application CodeDeploy {application} : groupes de déploiement {groups}",
        "p8.pipelines": "Tâche 8.2 pipelines {pipelines} : {rules} règles de détection des changements, "
                        "compartiment d'artefacts {bucket}",
        "p8.changed": "  modifiés : {names}",
        "p8.routes": "Routes de {service} : {routes}",
        "p8.routes_not_checked": "Routes : pas vérifiées dans cette exécution",
        "route": "{role} :{port} -> {groups} ({state})",
        "route.ok": "ok",
        "route.no targets": "aucune cible",
        "route.empty": "vide",
        "route.deploying": "en déploiement",
        "route.missing": "absente",
        "route.elsewhere": "ailleurs",
        "prune.services": "Supprimé, ce que le lab avait créé pour : {services}",
        "prune.services.check": "À supprimer, ce que le lab avait créé pour : {services}",
        "prune.kept": "Dépôts ECR conservés (les images sont à vous ; -e cloudlab_prune_images=true les supprime) : {repositories}",
        "state.done": "fait",
        "state.missing": "manquant",
        "state.drifted": "modifié",
        "check.5.1": "dépôts ECR et leur image {tag}",
        "check.5.2": "cluster Fargate {cluster} via CloudFormation",
        "check.5.3": "dépôt CodeCommit {repository}, branche {branch}",
        "check.5.4": "définitions de tâche sur {branch} et enregistrées",
        "check.5.5": "fichiers AppSpec sur {branch}",
        "check.5.6": "espaces réservés, commit et push sur {branch}",
        "check.6.1": "groupes cibles, une paire par service",
        "check.6.2": "groupe de sécurité {group}",
        "check.6.3": "équilibreur de charge {name}, écouteurs et règles",
        "check.7": "service ECS {name}",
        "check.8.1": "application CodeDeploy {application} et groupes de déploiement",
        "check.8.2": "pipelines, compartiment d'artefacts et détection des changements",
        "status.service": "{name} : {where}",
        "status.no_load_balancer": "pas encore d'équilibreur de charge",
        "status.deployment": "déploiement en cours : {service} {id} ({status})",
        "status.no_deployment": "aucun déploiement en cours",
        "release.outcome": "Mise en production de {service} : {status}{deployment}",
        "release.deployment": " (déploiement {id})",
        "release.error": "  CodeDeploy indique : {error} ; le trafic est resté où il était",
        "release.traffic": "  trafic : {where}",
        "release.route": "écouteur :{port} -> {groups}",
        "release.no_route": "aucun écouteur n'envoie le trafic de ce service",
        "release.answer": "  l'écouteur :{port} répond sur {url} : {answer}",
        "labs.converged": "Labs convergés ({count} sur {total}) : {labs}",
        "labs.failed": "Labs arrêtés par un échec, rien de plus n'y a été fait (leur tâche en échec est plus haut) : {labs}",
    },
}

# Lab task words in the task lines ("Task 5.1" / "Tâche 5.1"), for "not in this run".
TASK_WORD = {"en": ("Task", "Tasks"), "fr": ("Tâche", "Tâches")}


def lang_problem(value):
    """Why ``value`` is not a language of the summaries (one line naming cloudlab_lang), or None."""
    if value in LANGS:
        return None
    return "%s is %r: use %s (the default) or %s" % (LANG_VARIABLE, value, LANGS[0], ", ".join(LANGS[1:]))


def text(lang, key, **args):
    """The message ``key`` in ``lang``, its placeholders filled from ``args``."""
    return MESSAGES[lang][key].format(**args)


def task_label(lang, tasks):
    """"Task 5.1" or "Tasks 5.4-5.6" in ``lang``."""
    one, many = TASK_WORD[lang]
    return "%s %s" % (many if "-" in tasks else one, tasks)
