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

import sys
from pathlib import Path

from benchmarks._common import (
    esign_ca,
    holder_records,
    per_second,
    raw_sign_rate,
    softhsm_token,
    token_session,
)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100
RAW = 1000


def main() -> None:
    with softhsm_token() as (module, tmp):
        run(module, tmp)


def run(module: str, tmp: Path) -> None:
    from tests.idcard.esign.esign_kit import K_PERSO, PIN, PUK, personalized_chip

    from idcard.chip.emrtd import VirtualChip
    from idcard.chip.transport import ChipTransport
    from pki.esign import HolderRecord
    from station.enrollment import enroll_card

    with token_session(module) as session:
        setup = esign_ca(session, tmp)
        records = holder_records(N)
        chips = [personalized_chip() for _ in range(N)]  # the cards as they leave personalization

        def one(card: tuple[VirtualChip, HolderRecord]) -> None:
            chip, record = card
            enroll_card(ChipTransport(chip), k_perso=K_PERSO, record=record, ca=setup.ca,
                        pin=lambda: PIN, puk=PUK, outbox=setup.outbox)  # fmt: skip

        enroll_rate = per_second(list(zip(chips, records, strict=True)), one)
        raw_rate = raw_sign_rate(session, setup.key, RAW)
        assert setup.register.count() == N + 1 and len(setup.outbox.pending()) == N
    print(f"card enrollments end to end: {enroll_rate:.0f}/s "
          f"({1000 / enroll_rate:.1f} ms each); raw SoftHSM C_Sign: {raw_rate:.0f}/s; "
          f"ratio {enroll_rate / raw_rate:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
