"""`make release`'s two steps: examples/release_cli.py builds the next version as an archive, then
playbooks/release.yml pushes it as latest and follows the pipeline to the end (traffic moved, version numbered)."""
import json
import os
import subprocess
import sys
import tarfile

from helpers import ROOT, examples_env, failure_messages, run_playbook

RELEASE = os.path.join("playbooks", "release.yml")


def build(cloud, archive_dir, *args):
    """The helper `make release SERVICE=employee` runs first, on `cloud`, the sample archives in `archive_dir`
    (else in its sibling `release`; never the checkout's)."""
    release_dir = os.path.join(os.path.dirname(str(archive_dir)), "release")
    return subprocess.run([sys.executable, "-m", "examples.release_cli", "--service", "employee",
                           "--endpoint", cloud.endpoint, "--archive-dir", str(archive_dir),
                           "--release-dir", release_dir] + list(args), cwd=ROOT,
                          env=examples_env(cloud.env()), capture_output=True, text=True, timeout=300, check=False)


def make_release(cloud, archive_dir):
    """Both steps, as the Makefile chains them; (helper's process, playbook's result, the follow task's result)."""
    built = build(cloud, archive_dir)
    assert built.returncode == 0, built.stdout + built.stderr
    result = run_playbook(cloud, RELEASE, extra_vars={"release_service": "employee", "release_poll": 0.2,
                                                      "release_archive": built.stdout.strip()})
    assert result.rc == 0, failure_messages(result)
    followed = [task["hosts"]["localhost"] for play in result.data()["plays"] for task in play["tasks"]
                if "Follow the execution" in task["task"]["name"]][0]
    return built, result, followed


def test_make_release_moves_traffic(lab, tmp_path):
    cloud = lab["cloud"]
    images = tmp_path / "images"
    images.mkdir()
    built, _result, followed = make_release(cloud, images)
    # The lab's first execution (CreatePipeline's) deployed version 1 to tg-one: this release is version 2.
    assert followed["traffic"] == {"80": {"employee-tg-two": 100}, "8080": {"employee-tg-two": 100}}
    assert followed["status"] == "Succeeded"
    execution = cloud.client("codepipeline").get_pipeline_execution(
        pipelineName="update-employee-microservice", pipelineExecutionId=followed["execution_id"])[
            "pipelineExecution"]
    assert execution["trigger"]["triggerType"] == "CloudWatchEvent"
    assert followed["execution_id"] != lab["first"]["employee"]["pipelineExecutionId"]
    assert any(" lifecycle: " in line and "AllowTraffic:Succeeded" in line for line in followed["progress"])
    image = cloud.client("ecr").describe_images(repositoryName="employee", imageIds=[{"imageTag": "latest"}])[
        "imageDetails"][0]
    assert image["imageDigest"] != lab["digests"]["employee"]
    assert dict((r["name"], r["revisionId"]) for r in execution["artifactRevisions"])["image-employee"] == \
        image["imageDigest"]
    # The released image is the sample's archive now, so a Phase 5 rerun pushes it, not version 1 again.
    assert built.stdout.strip() == str(images / "employee.oci.tar")
    assert "employee version 2 built: " in built.stderr
    with tarfile.open(str(images / "employee.oci.tar")) as tar:
        assert json.load(tar.extractfile("index.json"))["manifests"][0]["digest"] == image["imageDigest"]


def test_make_release_without_phase8(release_cloud, tmp_path):
    release_cloud.reset()
    proc = build(release_cloud, tmp_path)
    assert proc.returncode == 2
    assert "no pipeline update-employee-microservice" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_make_release_right_after_phase8(fresh_lab, tmp_path):
    """`make release` right after site.yml: it waits for the first execution, whose version 1 it follows with 2."""
    cloud = fresh_lab["cloud"]
    built, _result, followed = make_release(cloud, tmp_path / "no-archives")
    # Whether the first execution was still running or not, the release moved traffic from where it left it.
    assert followed["traffic"] == {"80": {"employee-tg-two": 100}, "8080": {"employee-tg-two": 100}}
    assert "employee version 2 built: " in built.stderr
    assert built.stdout.strip() == str(tmp_path / "release" / "employee.oci.tar")
    assert all(" (CreatePipeline) to end" in line for line in built.stderr.splitlines()
               if line.startswith("waiting for execution "))
    summaries = cloud.client("codepipeline").list_pipeline_executions(pipelineName="update-employee-microservice")[
        "pipelineExecutionSummaries"]
    assert [(s["trigger"]["triggerType"], s["status"]) for s in summaries] == [
        ("CloudWatchEvent", "Succeeded"), ("CreatePipeline", "Succeeded")]
