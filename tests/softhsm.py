"""The SoftHSM2 fixtures shared by every test folder.

``softhsm_token``: a token shared by the whole test session, under a temporary SOFTHSM2_CONF with
its own token directory, made with ``softhsm2-util --init-token --free``. ``fresh_softhsm_token``:
a new, empty token for one test (``new_softhsm_token()`` makes one for a wider fixture), so a test
that creates fixed labels can run again in the same process. SoftHSM2 reads its token directory
once, when the module is initialised (and the module stays loaded, see :mod:`pki.hsm`), so new
tokens are made through the loaded module (C_InitToken on its free slot), not by softhsm2-util.
A missing SoftHSM2 skips locally and fails under CI=true.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Callable, Iterator
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


_FIRST: list[SoftHSMToken] = []
"""The first session's token of this process (SoftHSM2 keeps the configuration it loaded)."""


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHSMToken]:
    """A freshly initialised SoftHSM2 token, private to this test session.

    A second test session in the same process (pytest.main run twice) gets the first one's
    token and SOFTHSM2_CONF: the loaded module reads no other, and subprocesses must agree."""
    util = require_tool("softhsm2-util")
    module = softhsm_module()
    if _FIRST and _FIRST[0].conf.is_file():
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SOFTHSM2_CONF", str(_FIRST[0].conf))
            yield _FIRST[0]
        return
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
        _FIRST[:] = [token]
        yield token


_SERIAL = itertools.count(1)


@pytest.fixture(scope="session")
def new_softhsm_token(softhsm_token: SoftHSMToken) -> Callable[[], SoftHSMToken]:
    """Make another empty token in the session's SoftHSM2 (same PINs, a new label)."""
    import PyKCS11

    from pki.hsm import PKCS11Module

    def make() -> SoftHSMToken:
        label = f"idkarta-test-{next(_SERIAL)}-{os.urandom(4).hex()}"  # unique across runs
        module = PKCS11Module(softhsm_token.module)
        lib = module._lib  # the process-wide library object pki.hsm keeps loaded
        free = next(t.slot for t in module.tokens() if not t.initialized)
        lib.initToken(free, softhsm_token.so_pin, label.ljust(32))
        slot = module.token(label).info.slot
        session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
        try:
            session.login(softhsm_token.so_pin, PyKCS11.CKU_SO)
            session.initPin(softhsm_token.pin)
            session.logout()
        finally:
            session.closeSession()
        return SoftHSMToken(
            softhsm_token.module, label, softhsm_token.pin, softhsm_token.so_pin,
            softhsm_token.conf,
        )

    return make


@pytest.fixture
def fresh_softhsm_token(new_softhsm_token: Callable[[], SoftHSMToken]) -> SoftHSMToken:
    """An empty token of its own for one test."""
    return new_softhsm_token()
