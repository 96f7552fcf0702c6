"""The end-of-run summaries (filter summary, module_utils/_summary.py) and their words (module_utils/_i18n.py):
both languages say the same facts, every phase renders in both, check mode says what is to be created, an
unknown language is refused naming cloudlab_lang, and status in English is lab_info's own report."""
import string

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.cloudlab.microservices.plugins.filter.summary import summary
from ansible_collections.cloudlab.microservices.plugins.module_utils import _i18n

# lab_info's module run on stubbed reads (fixture aws and its answer tables): the status summary's input.
from helpers.lab_info_reads import converged_answers, fresh_answers, run

ACCOUNT = "123456789012"
TD = "arn:aws:ecs:us-east-1:%s:task-definition/%%s-microservice:3" % ACCOUNT
SVC = "arn:aws:ecs:us-east-1:%s:service/microservices-serverlesscluster/%%s-microservice" % ACCOUNT
CLUSTER_ARN = "arn:aws:ecs:us-east-1:%s:cluster/microservices-serverlesscluster" % ACCOUNT
CLONE = "http://127.0.0.1:4566/git/deployment"
DNS = "microservicesLB-1.us-east-1.elb.amazonaws.com"
TG = "arn:aws:elasticloadbalancing:us-east-1:%s:targetgroup/%%s/0a1b" % ACCOUNT

FACTS = {
    "phase5": {
        "check_mode": False,
        "repositories": {"customer": "sha256:" + "a" * 64, "employee": "sha256:" + "b" * 64},
        "cluster": "microservices-serverlesscluster", "cluster_arn": CLUSTER_ARN,
        "stack": "Infra-ECS-Cluster-microservices-serverlesscluster", "stack_status": "CREATE_COMPLETE",
        "task_definitions": {"customer": TD % "customer", "employee": TD % "employee"},
        "deployment": CLONE, "deployment_dev_commit": "0123abcd",
        "deployment_dev_files": ["appspec-customer.yaml", "appspec-employee.yaml", "taskdef-customer.json",
                                 "taskdef-employee.json"]},
    "phase6": {
        "check_mode": False, "load_balancer": "microservicesLB", "dns_name": DNS, "security_group": "sg-0abc",
        "target_groups": dict((s, dict((w, {"name": "%s-tg-%s" % (s, w), "arn": TG % ("%s-tg-%s" % (s, w))})
                                       for w in ("one", "two"))) for s in ("customer", "employee")),
        "routes": {"production": {"port": 80, "target_group": "customer-tg-two",
                                  "rules": [{"path_pattern": "/admin/*", "target_group": "employee-tg-two"}]},
                   "test": {"port": 8080, "target_group": "customer-tg-one",
                            "rules": [{"path_pattern": "/admin/*", "target_group": "employee-tg-one"}]}}},
    "phase7": {
        "check_mode": False, "cluster": "microservices-serverlesscluster",
        "services": dict((s, {"name": "%s-microservice" % s, "arn": SVC % s, "action": "create", "status": "ACTIVE",
                              "task_definition": TD % s, "desired_count": 1, "running_count": 0,
                              "differences": []}) for s in ("customer", "employee"))},
    "phase8": {
        "check_mode": False, "application": "microservices",
        "deployment_groups": {"customer": "microservices-customer", "employee": "microservices-employee"},
        "deployment_group_changes": {"microservices-customer": ["created"], "microservices-employee": []},
        "pipelines": {"customer": "update-customer-microservice", "employee": "update-employee-microservice"},
        "pipeline_changes": {}, "change_detection_rules": ["r1", "r2", "r3", "r4"],
        "artifact_bucket": "codepipeline-us-east-1-%s-microservices" % ACCOUNT,
        "routes": dict((s, dict((role, {"port": port, "target_groups": ["%s-tg-one" % s], "status": "ok"})
                                for role, port in (("production", 80), ("test", 8080))))
                       for s in ("customer", "employee"))},
}
# What each phase's lines must show, word for word, in every language.
SHOWN = {
    "phase5": [CLUSTER_ARN, CLONE, TD % "customer", TD % "employee", "sha256:" + "a" * 64, "0123abcd",
               "Infra-ECS-Cluster-microservices-serverlesscluster", "CREATE_COMPLETE", "taskdef-employee.json",
               " 4 "],
    "phase6": ["customer-tg-one", "employee-tg-two", "sg-0abc", "http://" + DNS, "/admin/* -> employee-tg-two"],
    "phase7": [SVC % "customer", SVC % "employee", "customer-microservice", "0/1"],
    "phase8": ["microservices-customer", "update-employee-microservice", "codepipeline-us-east-1-%s-microservices"
               % ACCOUNT, " 4 ", "microservices-customer", "customer-tg-one"],
}


def placeholders(template):
    return sorted(name for _text, name, _spec, _conv in string.Formatter().parse(template) if name)


def test_both_languages_have_the_same_keys_and_placeholders():
    assert set(_i18n.MESSAGES) == set(_i18n.LANGS) == {"en", "fr"}
    assert set(_i18n.MESSAGES["en"]) == set(_i18n.MESSAGES["fr"])
    for key, template in _i18n.MESSAGES["en"].items():
        assert placeholders(template) == placeholders(_i18n.MESSAGES["fr"][key]), key


@pytest.mark.parametrize("phase", sorted(FACTS))
def test_every_phase_shows_the_same_facts_in_both_languages(phase):
    english, french = (summary(FACTS[phase], phase, lang) for lang in ("en", "fr"))
    assert len(english) == len(french) and english != french
    for lang, lines in (("en", english), ("fr", french)):
        assert all(isinstance(line, str) for line in lines)
        text = "\n".join(lines)
        for fact in SHOWN[phase]:
            assert fact in text, (lang, fact, lines)
    number = phase[-1]
    assert english[0] == "Phase %s summary" % number
    assert french[0] == "Résumé de la phase %s" % number
    # The lab's task titles in French: "Tâche 5.1", as in its task list.
    assert any(line.startswith("Task %s." % number) for line in english), english
    assert any(line.startswith("Tâche %s." % number) for line in french), french
    assert len(english) <= 8


def test_a_lab_task_not_in_the_run_is_said():
    assert summary({}, "phase5", "en")[1:] == ["Task 5.1: not in this run", "Task 5.2: not in this run",
                                               "Task 5.3: not in this run", "Tasks 5.4-5.6: not in this run"]
    assert summary({}, "phase7", "fr")[1:] == ["Tâches 7.1-7.2 : pas dans cette exécution"]
    assert summary({}, "phase8", "en")[-1] == "Routes: not checked in this run"


def test_check_mode_says_what_is_to_be_created():
    facts = dict(FACTS["phase5"], repositories={"customer": "", "employee": ""}, stack_status="",
                 task_definitions={"customer": "", "employee": ""}, deployment_dev_commit="")
    english = summary(facts, "phase5", "en", True)
    french = summary(facts, "phase5", "fr", True)
    assert english[0] == "Phase 5 summary (check mode: predicted, nothing changed)"
    assert english[1] == "Task 5.1 ECR images: customer to be created, employee to be created"
    assert french[1] == "Tâche 5.1 images ECR : customer à créer, employee à créer"
    assert "Tâche 5.4 définitions de tâche : à créer, à créer" in french
    assert "commit à faire" in french[-1]
    phase6 = dict(FACTS["phase6"], dns_name="", security_group="")
    assert "Tâche 6.2 groupe de sécurité : à créer" in summary(phase6, "phase6", "fr", True)
    assert "Task 6.3 load balancer microservicesLB: to be created" in summary(phase6, "phase6", "en", True)
    assert summary(FACTS["phase7"], "phase7", "fr", True)[1].startswith(
        "Tâche 7.1 service ECS customer-microservice sur microservices-serverlesscluster : à créer,")
    # Not in check mode, an empty fact is not "to be created".
    assert "to be created" not in "\n".join(summary(facts, "phase5", "en", False))


def test_phase7_shows_what_ecs_does_not_let_change():
    diff = {"field": "task_definition", "current": TD % "customer", "desired": TD.replace(":3", ":4") % "customer",
            "action": "a new task definition goes out through CodeDeploy"}
    services = dict(FACTS["phase7"]["services"])
    services["customer"] = dict(services["customer"], action="none", differences=[diff])
    lines = summary(dict(FACTS["phase7"], services=services), "phase7", "fr")
    assert lines[1].startswith("Tâche 7.1 service ECS customer-microservice sur microservices-serverlesscluster : "
                               "inchangé, ACTIVE, 0/1 tâches, ")
    assert lines[2] == "  task_definition : %s -> %s : %s" % (diff["current"], diff["desired"], diff["action"])


@pytest.mark.parametrize("lang", ["de", "", None, "FR"])
def test_an_unknown_language_is_refused_naming_the_variable(lang):
    with pytest.raises(AnsibleFilterError, match="cloudlab_lang is .*: use en \\(the default\\) or fr"):
        summary(FACTS["phase5"], "phase5", lang)
    assert _i18n.lang_problem(lang).startswith("cloudlab_lang is %r" % lang)
    assert _i18n.lang_problem("fr") is None


def test_an_unknown_phase_or_input_is_refused():
    with pytest.raises(AnsibleFilterError, match="phase is 'phase4'"):
        summary({}, "phase4")
    with pytest.raises(AnsibleFilterError, match="the input must be a dict"):
        summary("x", "phase5")


@pytest.mark.parametrize("answers", [fresh_answers, converged_answers])
def test_status_in_english_is_lab_infos_report(aws, capsys, answers):
    result = run(aws, answers(), capsys)
    assert not result.get("failed"), result
    assert summary(result, "status", "en") == result["report"]


def test_status_in_french(aws, capsys):  # noqa: F811
    fresh = summary(run(aws, fresh_answers(), capsys), "status", "fr")
    assert fresh[0] == "[manquant] 5.1 dépôts ECR et leur image latest"
    assert "[manquant] 7.2 service ECS employee-microservice" in fresh
    assert "customer : pas encore d'équilibreur de charge" in fresh
    assert fresh[-1] == "aucun déploiement en cours"
    result = run(aws, converged_answers(), capsys)
    converged = summary(result, "status", "fr")
    english = result["report"]
    assert len(converged) == len(english)
    assert "[fait    ] 8.2 pipelines, compartiment d'artefacts et détection des changements" in converged
    assert "déploiement en cours : customer d-RUNNING (InProgress)" in converged
    # The same addresses and target groups as the English report.
    address = [line for line in english if line.startswith("employee: ")][0]
    assert "employee : " + address[len("employee: "):] in converged


def test_prune_says_what_went_and_what_stays():
    facts = {"services": ["employee"], "kept": ["employee"]}
    assert summary(facts, "prune", "en") == [
        "Pruned, what the lab made for: employee",
        "ECR repositories kept (the images are yours; -e cloudlab_prune_images=true removes them): employee"]
    assert summary(facts, "prune", "fr", True)[0] == "À supprimer, ce que le lab avait créé pour : employee"
    assert summary({"services": ["employee"], "kept": []}, "prune", "fr") == [
        "Supprimé, ce que le lab avait créé pour : employee"]


RELEASED = dict(service="employee", status="Succeeded", deployment_id="d-7ABC", error="",
                traffic={"80": {"employee-tg-two": 100}, "8080": {"employee-tg-one": 90, "employee-tg-two": 10}},
                answers={"80": {"url": "http://127.0.0.1:41080/admin/suppliers", "answer": "employee version 2"}})


def test_release_says_how_it_ended_where_traffic_goes_and_what_answers_in_both_languages():
    english, french = (summary(RELEASED, "release", lang) for lang in ("en", "fr"))
    assert english == [
        "Release of employee: Succeeded (deployment d-7ABC)",
        "  traffic: listener :80 -> employee-tg-two, listener :8080 -> employee-tg-one 90% / employee-tg-two 10%",
        "  listener :80 answers on http://127.0.0.1:41080/admin/suppliers: employee version 2"]
    assert french == [
        "Mise en production de employee : Succeeded (déploiement d-7ABC)",
        "  trafic : écouteur :80 -> employee-tg-two, écouteur :8080 -> employee-tg-one 90% / employee-tg-two 10%",
        "  l'écouteur :80 répond sur http://127.0.0.1:41080/admin/suppliers : employee version 2"]


def test_a_failed_release_keeps_codedeploys_words_in_both_languages():
    failed = dict(RELEASED, status="Failed", error="Essential container in task exited",
                  traffic={"80": {"employee-tg-one": 100}}, answers={})
    for lang in ("en", "fr"):
        lines = summary(failed, "release", lang)
        assert "Failed" in lines[0] and "Essential container in task exited" in lines[1], lines
        assert lines[2].endswith(":80 -> employee-tg-one"), lines
    assert summary(dict(failed, traffic={}), "release", "fr")[2] == "  trafic : aucun écouteur n'envoie le trafic de ce service"
