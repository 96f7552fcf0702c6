"""Fixtures of the plugins' unit tests (``stubs`` is tests/conftest.py's)."""
import pytest

from helpers.lab_info_reads import stubbed_reads


@pytest.fixture
def aws(monkeypatch):
    """lab_info's reads answered in-process from tables (helpers/lab_info_reads.py): {calls, answers, writes}."""
    return stubbed_reads(monkeypatch)
