"""E-signature enrollments with the card per second end to end, against SoftHSM's raw rate.

One enrollment (:func:`station.enrollment.enroll_card`): a personalized, locked virtual chip;
SELECT and the personalization mutual authentication (AES secure messaging from then on); the
chip generates a P-256 key pair; PIN and PUK set; the chip signs the PKCS#10 request after
VERIFY PIN; the CA checks it against the issuance record and signs the certificate with its key
on a SoftHSM2 token; the register transaction with the OneID outbox event; the certificate and
the CA certificate written into the chip and read back in the clear. The chip's card-side work
runs in this process (``ChipTransport``). The raw rate is PyKCS11 ``C_Sign`` with CKM_ECDSA on the
same CA key, measured in the same run.
Run: ``.venv/bin/python -m benchmarks.bench_enroll_card [N]`` (needs SoftHSM2).
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

from benchmarks.bench_enroll import MODULES

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100
RAW = 1000


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
                        "--so-pin", "123456"], check=True, capture_output=True)  # fmt: skip
        run(module, Path(tmp))


def run(module: str, tmp: Path) -> None:
    import PyKCS11
    from tests.idcard.esign.esign_kit import K_PERSO, PIN, PUK, personalized_chip

    from idcard.chip.transport import ChipTransport
    from idcard.pinfl import PINFL
    from pki.esign import EsignCA, EsignRegister, HolderRecord, ServiceURLs
    from pki.hsm import PKCS11Module
    from pki.keys import KeySpec
    from station.enrollment import enroll_card
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
        chips = [personalized_chip() for _ in range(N)]  # the cards as they leave personalization
        start = time.perf_counter()
        for chip, record in zip(chips, records, strict=True):
            enroll_card(ChipTransport(chip), k_perso=K_PERSO, record=record, ca=ca,
                        pin=lambda: PIN, puk=PUK, outbox=outbox)  # fmt: skip
        enroll_rate = N / (time.perf_counter() - start)
        digest = hashlib.sha256(b"x" * 1024).digest()
        mechanism = PyKCS11.Mechanism(PyKCS11.CKM_ECDSA, None)
        start = time.perf_counter()
        for _ in range(RAW):
            session.raw.sign(key.handle, digest, mechanism)
        raw_rate = RAW / (time.perf_counter() - start)
        assert register.count() == N + 1 and len(outbox.pending()) == N
    print(f"card enrollments end to end: {enroll_rate:.0f}/s "
          f"({1000 / enroll_rate:.1f} ms each); raw SoftHSM C_Sign: {raw_rate:.0f}/s; "
          f"ratio {enroll_rate / raw_rate:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
