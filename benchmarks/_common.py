"""What the benchmarks share: a fresh SoftHSM2 token, the e-signature CA on it, timing loops."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pki.esign import EsignCA, EsignRegister, HolderRecord
    from pki.hsm import HSMKey, HSMSession
    from station.outbox import Outbox

MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
TOKEN = "bench"
T = TypeVar("T")
PIN = "1234"


@contextmanager
def softhsm_token() -> Iterator[tuple[str, Path]]:
    """A fresh SoftHSM2 token ``bench`` (user PIN 1234) under a temporary SOFTHSM2_CONF.

    Yields the PKCS#11 module path and the temporary folder; exits when SoftHSM2 is missing.
    """
    util = shutil.which("softhsm2-util")
    module = next((m for m in MODULES if Path(m).is_file()), None)
    if util is None or module is None:
        sys.exit("SoftHSM2 is not installed (tools/system-deps installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tokens").mkdir()
        conf = Path(tmp) / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {tmp}/tokens\nobjectstore.backend = file\n")
        os.environ["SOFTHSM2_CONF"] = str(conf)
        subprocess.run([util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN,
                        "--so-pin", "123456"], check=True, capture_output=True)  # fmt: skip
        yield module, Path(tmp)


@contextmanager
def token_session(module: str) -> Iterator[HSMSession]:
    """A logged-in session on the benchmark token."""
    from pki.hsm import PKCS11Module

    with PKCS11Module(module).token(TOKEN).session(lambda: PIN) as session:
        yield session


@dataclass
class EsignSetup:
    """The e-signature CA with its P-256 key on the token, its register and the OneID outbox."""

    key: HSMKey
    register: EsignRegister
    ca: EsignCA
    outbox: Outbox


def esign_ca(session: HSMSession, tmp: Path) -> EsignSetup:
    """Create the e-signature CA (key ``esign-ca`` on the token, register in ``tmp``)."""
    from pki.esign import EsignCA, EsignRegister, ServiceURLs
    from pki.keys import KeySpec
    from station.outbox import Outbox

    key = session.generate_key("esign-ca", KeySpec.parse("ec-p256"))
    register = EsignRegister(tmp / "esign.sqlite")
    ca = EsignCA.create(register, key, ServiceURLs.at("http://pki.idkarta.uz"))
    return EsignSetup(key, register, ca, Outbox(register.path))


def holder_records(n: int) -> list[HolderRecord]:
    """``n`` issuance records of distinct holders (PINFL, document number)."""
    from idcard.pinfl import PINFL
    from pki.esign import HolderRecord

    born = dt.date(1990, 1, 1)
    return [
        HolderRecord(
            PINFL.build("M", born + dt.timedelta(days=i), "026", f"{i % 1000:03d}").value,
            "TOSHMATOV",
            "ALISHER",
            f"AD{i:07d}",
            dt.date(2036, 1, 1),
        )
        for i in range(n)
    ]


def raw_sign_rate(session: HSMSession, key: HSMKey, count: int) -> float:
    """Raw PyKCS11 ``C_Sign`` (CKM_ECDSA) of one SHA-256 digest per second with ``key``."""
    import PyKCS11

    digest = hashlib.sha256(b"x" * 1024).digest()
    mechanism = PyKCS11.Mechanism(PyKCS11.CKM_ECDSA, None)
    start = time.perf_counter()
    for _ in range(count):
        session.raw.sign(key.handle, digest, mechanism)
    return count / (time.perf_counter() - start)


def per_second(items: Sequence[T], run: Callable[[T], object]) -> float:
    """``run`` calls per second, one per item of ``items``."""
    start = time.perf_counter()
    for item in items:
        run(item)
    return len(items) / (time.perf_counter() - start)


def best_interleaved(rounds: int, *benches: Callable[[], float]) -> list[float]:
    """The smallest time of each bench over ``rounds`` rounds, run in turn (the machine is
    shared: interleaving spreads its noise over all of them)."""
    runs: list[list[float]] = [[] for _ in benches]
    for _ in range(rounds):
        for times, bench in zip(runs, benches, strict=True):
            times.append(bench())
    return [min(times) for times in runs]
