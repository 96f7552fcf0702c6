"""`make release`'s program: a new image as latest, the pipeline followed, traffic before and after."""
import subprocess
import sys

from conftest import ROOT


def test_release_cli_moves_traffic(lab):
    cloud = lab["cloud"]
    proc = subprocess.run([sys.executable, "-m", "localcloud.release_cli", "--service", "employee",
                           "--endpoint", cloud.endpoint], cwd=ROOT, env=cloud.env(), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    # The lab's first execution (CreatePipeline's) deployed version 1 to tg-one: this release is version 2.
    assert "before: listener :80 -> employee-tg-one, listener :8080 -> employee-tg-one" in lines
    assert "after: listener :80 -> employee-tg-two, listener :8080 -> employee-tg-two" in lines
    assert "execution Succeeded" in lines
    assert any(line.startswith("pushed employee:latest = sha256:") and line.endswith("(version 2)") for line in lines)
    started = [line for line in lines if line.startswith("execution ") and line.endswith(" started (CloudWatchEvent)")]
    assert len(started) == 1
    assert lab["first"]["employee"]["pipelineExecutionId"] not in started[0]
    assert any("AllowTraffic:Succeeded" in line for line in lines)
    image = cloud.client("ecr").describe_images(repositoryName="employee", imageIds=[{"imageTag": "latest"}])[
        "imageDetails"][0]
    assert image["imageDigest"] != lab["digests"]["employee"]


def test_release_cli_without_phase8(release_cloud):
    release_cloud.reset()
    proc = subprocess.run([sys.executable, "-m", "localcloud.release_cli", "--service", "employee",
                           "--endpoint", release_cloud.endpoint], cwd=ROOT, env=release_cloud.env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert "no pipeline update-employee-microservice" in proc.stderr


def test_release_cli_right_after_phase8(fresh_lab):
    """`make release` right after site.yml: it waits for the first execution, whose version 1 it follows with 2."""
    cloud = fresh_lab["cloud"]
    proc = subprocess.run([sys.executable, "-m", "localcloud.release_cli", "--service", "employee",
                           "--endpoint", cloud.endpoint], cwd=ROOT, env=cloud.env(), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    # Whether the first execution was still running or not, "before" is where it left the traffic.
    assert "before: listener :80 -> employee-tg-one, listener :8080 -> employee-tg-one" in lines
    assert "after: listener :80 -> employee-tg-two, listener :8080 -> employee-tg-two" in lines
    assert any(line.endswith("(version 2)") for line in lines)
    assert all(" (CreatePipeline) to end" in line for line in lines if line.startswith("waiting for execution "))
    summaries = cloud.client("codepipeline").list_pipeline_executions(pipelineName="update-employee-microservice")[
        "pipelineExecutionSummaries"]
    assert [(s["trigger"]["triggerType"], s["status"]) for s in summaries] == [
        ("CloudWatchEvent", "Succeeded"), ("CreatePipeline", "Succeeded")]
