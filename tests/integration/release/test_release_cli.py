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
    assert "before: listener :80 -> employee-tg-two, listener :8080 -> employee-tg-one" in lines
    assert "after: listener :80 -> employee-tg-one, listener :8080 -> employee-tg-one" in lines
    assert "execution Succeeded" in lines
    assert any(line.startswith("pushed employee:latest = sha256:") and line.endswith("(version 1)") for line in lines)
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
