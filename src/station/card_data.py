"""The chip's data for one applicant: the complete LDS of an Uzbek ID card, before signing.

The data-collection point enters the biographic data, fingerprints and photograph (issuance
scheme, stage 2); this module turns them into the files of the chip (ICAO Doc 9303-10): EF.COM,
DG1 (TD1 MRZ with the PINFL), DG2 (portrait), DG3 (fingerprints, readable only after Terminal
Authentication), DG7 (signature), DG11, DG12, DG14 (Chip and Terminal Authentication info),
DG15 (Active Authentication key), and EF.CardAccess (PACE). EF.SOD is signed by the Document
Signer afterwards (:mod:`pki.sod`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from idcard.asn1 import oids
from idcard.cvc.certificate import CVCertificate
from idcard.lds import LDSFile
from idcard.lds.com import EFCOM
from idcard.lds.dg1 import DG1
from idcard.lds.dg2 import DG2
from idcard.lds.dg3 import DG3
from idcard.lds.dg11 import DG11, DateValue
from idcard.lds.dg12 import DG12
from idcard.lds.dg14 import DG14
from idcard.lds.dg15 import DG15
from idcard.lds.displayed import DG7
from idcard.lds.dump import Dump
from idcard.lds.security_infos import (
    ActiveAuthenticationInfo,
    CardAccess,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfos,
    TerminalAuthenticationInfo,
)
from pki.filestore import write_atomic
from station.applicant import Applicant
from station.errors import UsageError
from station.rules import card_mrz, check_applicant

__all__ = [
    "CARD_PROFILE",
    "SECRETS_FORMAT",
    "SECRETS_VERSION",
    "CardKeys",
    "CardProfile",
    "assemble_lds",
    "build_card_data",
]

SECRETS_FORMAT = "idkarta-card-secrets"
SECRETS_VERSION = 1

ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"
"""ecdsa-plain-SHA256 (BSI TR-03111 §5.2.1), the AA signature algorithm in DG14."""


@dataclass(frozen=True, slots=True)
class CardProfile:
    """What the Uzbek ID card's chip offers (protocol choices, not personal data)."""

    pace_protocol: str = f"{oids.ID_PACE_ECDH_GM}.2"  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
    pace_parameter_id: int = 13  # brainpoolP256r1
    ca_protocol: str = f"{oids.ID_CA_ECDH}.2"  # id-CA-ECDH-AES-CBC-CMAC-128
    curve: ec.EllipticCurve = field(default_factory=ec.BrainpoolP256R1)
    aa_curve: ec.EllipticCurve = field(default_factory=ec.SECP256R1)


CARD_PROFILE = CardProfile()


@dataclass(frozen=True, slots=True)
class CardKeys:
    """The chip's own key pairs (Chip Authentication, Active Authentication).

    On a real card they are generated inside the chip; the virtual chip receives them at
    personalization. Never logged (no repr).
    """

    chip_authentication: ec.EllipticCurvePrivateKey = field(repr=False)
    active_authentication: ec.EllipticCurvePrivateKey = field(repr=False)

    @classmethod
    def generate(cls, profile: CardProfile = CARD_PROFILE) -> CardKeys:
        return cls(
            ec.generate_private_key(profile.curve), ec.generate_private_key(profile.aa_curve)
        )

    def to_secrets_file(
        self,
        path: str | os.PathLike[str],
        passphrase: bytes,
        *,
        can: str | None = None,
        cvca: CVCertificate | None = None,
        current_date: date | None = None,
        pace_required: bool = False,
    ) -> Path:
        """Write what ``idkarta card personalize --secrets`` needs besides the dump folder.

        JSON (``format`` ``idkarta-card-secrets``, version 1): ``ca_private_key`` and
        ``aa_private_key`` as PKCS#8 PEM encrypted with ``passphrase`` (RFC 5958; the best
        encryption cryptography offers), ``can`` (printed on the card, so in the clear),
        ``cvca`` (the Terminal Authentication trust anchor, hex), ``current_date`` (the chip's
        first date, ISO) and ``pace_required``. Written atomically with mode 0600.
        """
        if not passphrase:
            raise UsageError("the secrets file needs a passphrase")
        encryption = serialization.BestAvailableEncryption(passphrase)

        def pem(key: ec.EllipticCurvePrivateKey) -> str:
            return key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            ).decode("ascii")

        content = {
            "format": SECRETS_FORMAT,
            "version": SECRETS_VERSION,
            "can": can,
            "ca_private_key": pem(self.chip_authentication),
            "aa_private_key": pem(self.active_authentication),
            "cvca": None if cvca is None else cvca.encode().hex().upper(),
            "current_date": None if current_date is None else current_date.isoformat(),
            "pace_required": pace_required,
        }
        target = Path(path)
        write_atomic(target, (json.dumps(content, indent=2) + "\n").encode(), 0o600)
        return target


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def build_card_data(
    applicant: Applicant,
    keys: CardKeys,
    *,
    profile: CardProfile = CARD_PROFILE,
    personalized_at: datetime | None = None,
    today: date | None = None,
) -> Dump:
    """Every file of the chip except EF.SOD, as a :class:`Dump` (file name → bytes).

    The application is checked first (:func:`station.rules.check_applicant`, ``today`` the
    local date by default): :class:`station.rules.ApplicantError` names the first bad field.
    """
    check_applicant(applicant, today=today)
    doc = applicant.document
    when = personalized_at or datetime.now(UTC).replace(microsecond=0, tzinfo=None)  # real time
    dg1 = DG1(card_mrz(applicant))
    dg2 = DG2.from_image(applicant.portrait)
    dg3 = DG3.from_images({f.position: f.image for f in applicant.fingers})
    full_name = f"{applicant.surname}<<{applicant.given_names} {applicant.patronymic}".strip()
    other = f"{applicant.surname_cyrillic}<<{applicant.given_names_cyrillic}".strip("<")
    dg11 = DG11(
        full_name=full_name.upper(),
        other_names=(other.upper(),) if other else (),
        personal_number=applicant.pinfl.value,
        full_date_of_birth=DateValue.from_date(applicant.birth_date),
        place_of_birth=applicant.place_of_birth.upper(),
        address="<".join(applicant.address).upper() or None,
        telephone=applicant.telephone,
    )
    dg12 = DG12(
        issuing_authority=doc.issuing_authority,
        date_of_issue=DateValue.from_date(doc.issue_date),
        personalization_time=DateValue(when.strftime("%Y%m%d%H%M%S")),
    )
    groups: list[LDSFile] = [dg1, dg2, dg3]
    if applicant.signature is not None:
        groups.append(DG7.from_image(applicant.signature))
    groups += [dg11, dg12]
    return assemble_lds(groups, keys, profile)


def assemble_lds(
    groups: Sequence[LDSFile], keys: CardKeys, profile: CardProfile = CARD_PROFILE
) -> Dump:
    """The chip's files but EF.SOD: ``groups`` (DG1 … DG12, in order) followed by DG14 (Chip
    and Terminal Authentication, Active Authentication and PACE info) and DG15 (the AA key) of
    ``keys``, EF.CardAccess (PACE) and the EF.COM that lists them all."""
    dg14 = DG14(
        SecurityInfos(
            (
                ChipAuthenticationInfo(profile.ca_protocol, 1),
                ChipAuthenticationPublicKeyInfo(oids.ID_PK_ECDH, _spki(keys.chip_authentication)),
                TerminalAuthenticationInfo(),
                ActiveAuthenticationInfo(ECDSA_PLAIN_SHA256),
                PACEInfo(profile.pace_protocol, 2, profile.pace_parameter_id),
            )
        )
    )
    dg15 = DG15.from_public_key(keys.active_authentication.public_key())
    card_access = CardAccess(
        SecurityInfos((PACEInfo(profile.pace_protocol, 2, profile.pace_parameter_id),))
    )
    files = [*groups, dg14, dg15]
    com = EFCOM.from_data_groups([g.NAME for g in files])
    return Dump.from_objects([com, *files, card_access])
