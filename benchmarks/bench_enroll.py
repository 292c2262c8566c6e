"""E-signature enrollments per second end to end, against SoftHSM's raw signature rate.

One enrollment: a fresh P-256 holder key (software, standing in for the card), its PKCS#10
request signed by that key, the CA's checks (proof of possession, issuance record), the TBS
certificate signed by the CA key on a SoftHSM2 token, and the register transaction with the
OneID outbox event (SQLite, synchronous=FULL). The raw rate is PyKCS11 ``C_Sign`` with
CKM_ECDSA on the same CA key, measured in the same run.
Run: ``.venv/bin/python -m benchmarks.bench_enroll`` (needs softhsm2-util and libsofthsm2.so).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N = 200
RAW = 1000
MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


def main() -> None:
    util = shutil.which("softhsm2-util")
    module = next((m for m in MODULES if Path(m).is_file()), None)
    if util is None or module is None:
        sys.exit("SoftHSM2 is not installed (tools/system-deps installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tokens").mkdir()
        conf = Path(tmp) / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {tmp}/tokens\nobjectstore.backend = file\n")
        os.environ["SOFTHSM2_CONF"] = str(conf)
        subprocess.run([util, "--init-token", "--free", "--label", "bench", "--pin", "1234",
                        "--so-pin", "123456"], check=True, capture_output=True)
        run(module, Path(tmp))


def run(module: str, tmp: Path) -> None:
    import PyKCS11
    from cryptography.hazmat.primitives.asymmetric import ec

    from idcard.pinfl import PINFL
    from pki.enroll import enroll
    from pki.esign import EsignCA, EsignRegister, HolderRecord, ServiceURLs
    from pki.hsm import PKCS11Module
    from pki.keys import KeySpec, SoftwareSigner
    from station.outbox import Outbox

    with PKCS11Module(module).token("bench").session(lambda: "1234") as session:
        key = session.generate_key("esign-ca", KeySpec.parse("ec-p256"))
        register = EsignRegister(tmp / "esign.sqlite")
        ca = EsignCA.create(register, key, ServiceURLs.at("http://pki.idkarta.uz"))
        outbox = Outbox(register.path)
        records = [
            HolderRecord(
                PINFL.build("M", dt.date(1990, 1, 1) + dt.timedelta(days=i), "026",
                            f"{i % 1000:03d}").value,
                "TOSHMATOV", "ALISHER", f"AD{i:07d}", dt.date(2036, 1, 1),
            )
            for i in range(N)
        ]
        start = time.perf_counter()
        for record in records:
            holder = SoftwareSigner(ec.generate_private_key(ec.SECP256R1()))
            enroll(holder, record, ca, on_record=outbox.hook())
        enroll_rate = N / (time.perf_counter() - start)
        digest = hashlib.sha256(b"x" * 1024).digest()
        mechanism = PyKCS11.Mechanism(PyKCS11.CKM_ECDSA, None)
        start = time.perf_counter()
        for _ in range(RAW):
            session.raw.sign(key.handle, digest, mechanism)
        raw_rate = RAW / (time.perf_counter() - start)
        assert register.count() == N + 1 and len(outbox.pending()) == N
    print(f"enrollments end to end: {enroll_rate:.0f}/s; raw SoftHSM C_Sign: {raw_rate:.0f}/s; "
          f"ratio {enroll_rate / raw_rate:.2f}")


if __name__ == "__main__":
    main()
