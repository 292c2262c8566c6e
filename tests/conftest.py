"""Shared test configuration: hypothesis profiles, vector paths, system-component gates."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
REAL_WORLD = Path(
    os.environ.get("IDKARTA_REAL_WORLD") or ROOT.parent / "shared" / "vectors" / "real-world"
)
"""National master lists and ICAO face samples as issuers publish them: the workplace's shared
collection, read in place beside the checkout (its README: tests read ``real-world/`` in place;
vectors/real-world/README.md lists the files and their sources). ``IDKARTA_REAL_WORLD`` names
another place (``tools/mutation`` sets it for its scratch copy)."""
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


def require_real_world() -> Path:
    """:data:`REAL_WORLD`, or skip (locally) / fail (CI) when the shared collection is not beside
    the checkout; usable at module level."""
    if not REAL_WORLD.is_dir():
        if IN_CI:
            pytest.fail(f"{REAL_WORLD} is required in CI (the shared vectors beside the checkout)")
        pytest.skip(f"{REAL_WORLD} not found (the shared vectors beside the checkout)",
                    allow_module_level=True)
    return REAL_WORLD


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
