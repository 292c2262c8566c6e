"""Shared test configuration: hypothesis profiles, vector paths, system-component gates."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
IN_CI = os.environ.get("CI") == "true"

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if IN_CI else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def require_component(available: bool, what: str) -> None:
    """Skip when a system component is missing, except in CI, where that is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (installed by tools/system-deps)")
    pytest.skip(f"{what} not installed (tools/system-deps installs it)")


def require_tool(name: str) -> str:
    """Path of an external program, or skip (locally) / fail (CI) when it is missing."""
    path = shutil.which(name)
    require_component(path is not None, f"the program {name!r}")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def vectors() -> Path:
    return VECTORS


# Fixtures shared across test folders (imported last: they use the gates above).
from tests.scrypt_cost import cheap_scrypt_cost, full_scrypt_cost  # noqa: E402, F401
from tests.softhsm import SoftHSMToken, softhsm_token  # noqa: E402, F401
