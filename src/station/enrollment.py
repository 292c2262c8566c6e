"""First-issue e-signature enrollment through the card (decree of 19 January 2026: a free
e-signature certificate written into the chip at the card's first issue, the holder registered
in OneID; /work/shared/domain.md).

:func:`enroll_card` runs at the station with the locked card in the reader:

1. SELECT the e-sign application and open the personalization secure channel with the card's
   K_perso (:meth:`idcard.esign.ESignCard.open_personalization`; docs/chip.md);
2. the chip generates the key pair (GENERATE ASYMMETRIC KEY PAIR); the private key never leaves;
3. the holder sets the PIN at the station (the PIN pad callback); the station sets the PUK
   (printed in the holder's PIN letter);
4. the chip signs the PKCS#10 request after VERIFY PIN (:func:`pki.enroll.build_request` through
   :class:`pki.card_signer.CardSigner`): the proof of possession;
5. the e-signature CA checks the request against the issuance record and issues; the certificate
   and the OneID registration event are written in one transaction (``Outbox.hook``);
6. the certificate and the CA certificate are written back into the chip over the channel and
   read back in the clear. If that fails, the just-issued certificate is revoked
   (``cessationOfOperation``) so no certificate exists that is not on a card.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from idcard.errors import IdkartaError
from idcard.esign import FID_CA_CERTIFICATE, FID_CERTIFICATE, ESignCard
from idcard.esign.protocol import PublicKey
from idcard.transport import Transport
from pki.card_signer import CardSigner
from pki.enroll import build_request
from pki.esign import DEFAULT_VALIDITY, EsignCA, HolderRecord, IssuedCertificate
from station.errors import StationError
from station.outbox import Outbox

__all__ = ["CardEnrollment", "EnrollmentError", "enroll_card"]

log = logging.getLogger(__name__)


class EnrollmentError(StationError):
    """The card did not end up holding the issued certificate (it was revoked)."""


@dataclass(frozen=True, slots=True)
class CardEnrollment:
    """What an enrollment produced: the certificate row, the chip-signed request, the key."""

    issued: IssuedCertificate
    request: bytes = field(repr=False)
    public_key: PublicKey = field(repr=False)


def enroll_card(
    transport: Transport,
    *,
    k_perso: bytes,
    record: HolderRecord,
    ca: EsignCA,
    pin: Callable[[], str],
    puk: str,
    key_type: str = "ec-p256",
    outbox: Outbox | None = None,
    validity: dt.timedelta = DEFAULT_VALIDITY,
    now: dt.datetime | None = None,
    rng: Callable[[int], bytes] = os.urandom,
) -> CardEnrollment:
    """Enroll the holder of ``record`` with the card on ``transport`` (see module doc).

    ``pin`` is asked once (the holder's new PIN); ``puk`` is the station's. Refusals by the CA
    (:class:`pki.esign.EnrollmentRefused`) propagate with nothing issued.
    """
    card = ESignCard(transport)
    card.select()
    secure = card.open_personalization(k_perso, rng=rng)
    public = secure.generate_key(key_type)
    holder_pin = pin()
    secure.set_initial_pin(holder_pin)
    secure.set_initial_puk(puk)
    signer = CardSigner(secure, lambda: holder_pin, label=f"card {record.card_number}",
                        public_key=public)  # fmt: skip
    request = build_request(signer, record)
    box = outbox if outbox is not None else Outbox(ca.register.path)
    issued = ca.issue(request, record, validity=validity, now=now, on_record=box.hook())
    try:
        secure.write_file(issued.der, FID_CERTIFICATE)
        secure.write_file(bytes(ca.certificate.dump()), FID_CA_CERTIFICATE)
        card = ESignCard(transport)
        card.select()  # a plain SELECT ends the channel and the PIN verification
        if card.read_file(FID_CERTIFICATE) != issued.der:
            raise EnrollmentError("the certificate read back from the card differs")
    except IdkartaError as exc:
        ca.revoke(issued.serial, "cessation_of_operation")
        log.warning("certificate %x revoked: not written to the card (%s)", issued.serial,
                    type(exc).__name__)  # fmt: skip
        if isinstance(exc, EnrollmentError):
            raise
        raise EnrollmentError(f"writing the certificate to the card failed: {exc}") from exc
    log.info("card %s enrolled: certificate %x", record.card_number, issued.serial)
    return CardEnrollment(issued, request, public)
