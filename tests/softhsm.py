"""The SoftHSM2 fixture shared by every test folder: a fresh token per test session.

The token lives under a temporary SOFTHSM2_CONF with its own token directory, made with
``softhsm2-util --init-token --free``. A missing SoftHSM2 skips locally and fails under CI=true.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_component, require_tool

_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


@dataclass(frozen=True)
class SoftHSMToken:
    module: str
    label: str
    pin: str
    so_pin: str
    conf: Path


def softhsm_module() -> str:
    env = os.environ.get("SOFTHSM2_MODULE")
    found = next((p for p in (env, *_MODULE_CANDIDATES) if p and Path(p).is_file()), None)
    require_component(found is not None, "SoftHSM2 (libsofthsm2.so)")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHSMToken]:
    """A freshly initialised SoftHSM2 token, private to this test session."""
    util = require_tool("softhsm2-util")
    module = softhsm_module()
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    token = SoftHSMToken(module, "idkarta-test", "471100", "0011223344", conf)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        subprocess.run(
            [util, "--init-token", "--free", "--label", token.label,
             "--pin", token.pin, "--so-pin", token.so_pin],
            check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        )
        yield token
