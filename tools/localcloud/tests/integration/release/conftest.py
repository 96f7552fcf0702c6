"""The release loop on the plugin's release cloud: `lab` is the boto3 lab after Phases 5 to 8, first executions ended."""
import pytest


@pytest.fixture
def lab(release_lab):
    return release_lab
