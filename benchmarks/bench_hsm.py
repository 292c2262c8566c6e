"""Document Signer signatures per second on SoftHSM2: our wrapper against raw PyKCS11.

Both paths hash the same 1 KiB of signed attributes with SHA-256 on the host and sign the digest
with CKM_ECDSA on a P-256 key of a fresh SoftHSM2 token. The wrapper adds the PyKCS11Error
mapping and the r‖s → DER conversion (:meth:`pki.hsm.HSMKey.sign`). Interleaved, best of 5.
Run: ``.venv/bin/python -m benchmarks.bench_hsm`` (needs softhsm2-util and libsofthsm2.so).
"""

from __future__ import annotations

import hashlib
import os
import time

from benchmarks._common import best_interleaved, softhsm_token, token_session

N = 500


def main() -> None:
    with softhsm_token() as (module, _tmp):
        run(module)


def run(module: str) -> None:
    import PyKCS11

    from pki.keys import KeySpec, SignatureAlgorithm, verify_signature

    data = os.urandom(1024)
    alg = SignatureAlgorithm.ecdsa("sha256")
    with token_session(module) as session:
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

        t_ours, t_raw = best_interleaved(5, ours, raw)
    print(f"pki.hsm HSMKey.sign: {N} ECDSA P-256 signatures in {t_ours:.3f} s "
          f"({N / t_ours:.0f}/s)")  # fmt: skip
    print(f"raw PyKCS11 C_Sign, same digests: {t_raw:.3f} s ({N / t_raw:.0f}/s)")
    print(f"ratio (raw time / wrapper time): {t_raw / t_ours:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
