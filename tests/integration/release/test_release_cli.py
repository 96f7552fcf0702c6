"""`make release`'s program: a new image as latest, the pipeline followed, traffic before and after."""
import json
import subprocess
import sys
import tarfile

from conftest import ROOT


def release(cloud, archive_dir, *args):
    """`make release SERVICE=employee` on `cloud`, the sample archives in `archive_dir` (never the checkout's)."""
    return subprocess.run([sys.executable, "-m", "localcloud.release_cli", "--service", "employee",
                           "--endpoint", cloud.endpoint, "--archive-dir", str(archive_dir)] + list(args), cwd=ROOT,
                          env=cloud.env(), capture_output=True, text=True, timeout=300, check=False)


def test_release_cli_moves_traffic(lab, tmp_path):
    cloud = lab["cloud"]
    images = tmp_path / "images"
    images.mkdir()
    proc = release(cloud, images)
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
    # The released image is the sample's archive now, so a Phase 5 rerun pushes it, not version 1 again.
    with tarfile.open(str(images / "employee.oci.tar")) as tar:
        assert json.load(tar.extractfile("index.json"))["manifests"][0]["digest"] == image["imageDigest"]
    assert any(line.startswith("archive ") and line.endswith("employee.oci.tar is version 2 now (what Phase 5 pushes)")
               for line in lines), proc.stdout


def test_release_cli_without_phase8(release_cloud, tmp_path):
    release_cloud.reset()
    proc = release(release_cloud, tmp_path)
    assert proc.returncode == 2
    assert "no pipeline update-employee-microservice" in proc.stderr


def test_release_cli_right_after_phase8(fresh_lab, tmp_path):
    """`make release` right after site.yml: it waits for the first execution, whose version 1 it follows with 2."""
    cloud = fresh_lab["cloud"]
    proc = release(cloud, tmp_path / "no-archives")
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
