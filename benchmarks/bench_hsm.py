"""Document Signer signatures per second on SoftHSM2: our wrapper against raw PyKCS11.

Both paths hash the same 1 KiB of signed attributes with SHA-256 on the host and sign the digest
with CKM_ECDSA on a P-256 key of a fresh SoftHSM2 token. The wrapper adds the PyKCS11Error
mapping and the r‖s → DER conversion (:meth:`pki.hsm.HSMKey.sign`). Interleaved, best of 5.
Run: ``.venv/bin/python -m benchmarks.bench_hsm`` (needs softhsm2-util and libsofthsm2.so).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N = 500
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
        run(module)


def run(module: str) -> None:
    import PyKCS11

    from pki.hsm import PKCS11Module
    from pki.keys import KeySpec, SignatureAlgorithm, verify_signature

    data = os.urandom(1024)
    alg = SignatureAlgorithm.ecdsa("sha256")
    with PKCS11Module(module).token("bench").session(lambda: "1234") as session:
        key = session.generate_key("ds-bench", KeySpec.parse("ec-p256"))
        assert verify_signature(key.public_key(), key.sign(data, alg), data, alg)
        raw_session, handle = session.raw, key.handle
        mechanism = PyKCS11.Mechanism(PyKCS11.CKM_ECDSA, None)

        def ours() -> float:
            start = time.perf_counter()
            for _ in range(N):
                key.sign(data, alg)
            return time.perf_counter() - start

        def raw() -> float:
            start = time.perf_counter()
            for _ in range(N):
                bytes(raw_session.sign(handle, hashlib.sha256(data).digest(), mechanism))
            return time.perf_counter() - start

        ours_runs, raw_runs = [], []
        for _ in range(5):
            ours_runs.append(ours())
            raw_runs.append(raw())
    t_ours, t_raw = min(ours_runs), min(raw_runs)
    print(f"pki.hsm HSMKey.sign: {N} ECDSA P-256 signatures in {t_ours:.3f} s "
          f"({N / t_ours:.0f}/s)")  # fmt: skip
    print(f"raw PyKCS11 C_Sign, same digests: {t_raw:.3f} s ({N / t_raw:.0f}/s)")
    print(f"ratio (raw time / wrapper time): {t_raw / t_ours:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
