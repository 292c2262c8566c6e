"""E-signature enrollments per second end to end, against SoftHSM's raw signature rate.

One enrollment: a fresh P-256 holder key (software, standing in for the card), its PKCS#10
request signed by that key, the CA's checks (proof of possession, issuance record), the TBS
certificate signed by the CA key on a SoftHSM2 token, and the register transaction with the
OneID outbox event (SQLite, synchronous=FULL). The raw rate is PyKCS11 ``C_Sign`` with
CKM_ECDSA on the same CA key, measured in the same run.
Run: ``.venv/bin/python -m benchmarks.bench_enroll`` (needs softhsm2-util and libsofthsm2.so).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks._common import (
    esign_ca,
    holder_records,
    per_second,
    raw_sign_rate,
    softhsm_token,
    token_session,
)

N = 200
RAW = 1000


def main() -> None:
    with softhsm_token() as (module, tmp):
        run(module, tmp)


def run(module: str, tmp: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    from pki.enroll import enroll
    from pki.esign import HolderRecord
    from pki.keys import SoftwareSigner

    with token_session(module) as session:
        setup = esign_ca(session, tmp)

        def one(record: HolderRecord) -> None:
            holder = SoftwareSigner(ec.generate_private_key(ec.SECP256R1()))
            enroll(holder, record, setup.ca, on_record=setup.outbox.hook())

        enroll_rate = per_second(holder_records(N), one)
        raw_rate = raw_sign_rate(session, setup.key, RAW)
        assert setup.register.count() == N + 1 and len(setup.outbox.pending()) == N
    print(f"enrollments end to end: {enroll_rate:.0f}/s; raw SoftHSM C_Sign: {raw_rate:.0f}/s; "
          f"ratio {enroll_rate / raw_rate:.2f}")


if __name__ == "__main__":
    main()
