"""Test cards: sample dumps (station's sample applicant, EF.SOD from the test DS of pa_pki), PACE
profiles, an EF.CardSecurity for PACE-CAM, and personalized virtual chips."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.idcard.verify.pa_pki import PKI, der, sign_files

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.asn1 import oids
from idcard.chip.emrtd import VirtualChip
from idcard.chip.perso import ChipSecrets
from idcard.chip.transport import ChipTransport
from idcard.cvc import CHAT, CVCertificate, CVCertificateBody, CVPublicKey, Role, ecdsa_signer
from idcard.errors import TransportError
from idcard.lds.dg1 import DG1
from idcard.lds.dump import Dump
from idcard.lds.security_infos import (
    CardAccess,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfos,
)
from idcard.mrz import MRZ
from idcard.reader.personalize import personalize
from pki.cardsecurity import sign_card_security
from station.applicant import sample_applicant
from station.card_data import CardKeys, CardProfile, build_card_data

CAN = "123456"
TODAY = dt.date(2026, 1, 15)


@functools.cache
def ds_pki() -> PKI:
    return PKI()


@functools.cache
def sample_cvca() -> CVCertificate:
    """A CVCA for cards whose DG14 advertises Terminal Authentication (the chip refuses to lock
    without one) when a test has no EAC PKI of its own: self-signed P-256 without domain
    parameters, small enough for a short PUT DATA (short-length-only cards)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return CVCertificateBody(
        car="UZCVCA09999",
        public_key=CVPublicKey.from_key(key.public_key(), "0.4.0.127.0.7.2.2.2.2.3"),
        chr="UZCVCA09999",
        chat=CHAT.inspection_system(Role.CVCA, dg3=True, dg4=True),
        effective_date=dt.date(2026, 1, 1),
        expiration_date=dt.date(2029, 1, 1),
    ).sign(ecdsa_signer(key))


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def card_security(ca_key: ec.EllipticCurvePrivateKey, pace: tuple[PACEInfo, ...]) -> bytes:
    """EF.CardSecurity: SecurityInfos (PACE infos, the chip's CA public key) signed by the DS."""
    infos = SecurityInfos((*pace, ChipAuthenticationPublicKeyInfo(oids.ID_PK_ECDH, _spki(ca_key))))
    pki = ds_pki()
    return sign_card_security(infos, pki.signer(), der(pki.ds))


@dataclass(frozen=True)
class Card:
    """A personalized chip and what a reader needs to know about it."""

    chip: VirtualChip
    dump: Dump
    keys: CardKeys = field(repr=False)
    mrz: MRZ

    def transport(self) -> ChipTransport:
        return ChipTransport(self.chip)


_CURVES = {12: ec.SECP256R1, 13: ec.BrainpoolP256R1, 15: ec.SECP384R1, 16: ec.BrainpoolP384R1}


@functools.cache
def _keys(parameter_id: int) -> CardKeys:
    curve = _CURVES[parameter_id]()
    return CardKeys(ec.generate_private_key(curve), ec.generate_private_key(ec.SECP256R1()))


def build_dump(
    *,
    pace_oid: str | None = f"{oids.ID_PACE_ECDH_GM}.2",
    parameter_id: int = 13,
    keys: CardKeys | None = None,
    cam: bool = False,
    drop: tuple[str, ...] = (),
    replace: dict[str, bytes] | None = None,
) -> tuple[Dump, CardKeys]:
    """The sample applicant's files for a PACE profile, EF.SOD signed by the test DS.

    ``pace_oid=None`` makes a BAC-only card (no EF.CardAccess, no PACEInfo in DG14)."""
    keys = keys or _keys(parameter_id)
    profile = CardProfile(
        pace_protocol=pace_oid or f"{oids.ID_PACE_ECDH_GM}.2",
        pace_parameter_id=parameter_id,
        curve=_CURVES[parameter_id](),
    )
    base = build_card_data(sample_applicant(), keys, profile=profile)
    files = dict(base.files)
    if pace_oid is None:
        files.pop("EF.CardAccess")
    if cam:
        pace = (PACEInfo(pace_oid or "", 2, parameter_id),)
        files["EF.CardSecurity"] = card_security(keys.chip_authentication, pace)
    files.update(replace or {})
    for name in drop:
        files.pop(name, None)
    files.pop("EF.SOD", None)
    signed = sign_files({k: v for k, v in files.items() if k.startswith("DG")}, ds_pki())
    files["EF.SOD"] = signed["EF.SOD"]
    return Dump(files), keys


def card_access(*infos: PACEInfo) -> bytes:
    return CardAccess(SecurityInfos(infos)).security_infos.encode()


def make_card(
    dump: Dump,
    keys: CardKeys,
    *,
    aa_key: object | None = None,
    cvca: object | None = None,
    pace_required: bool = False,
    extended_length: bool = True,
    date: dt.date = TODAY,
) -> Card:
    chip = VirtualChip.new(extended_length=extended_length)
    secrets = ChipSecrets(
        ca_private_key=keys.chip_authentication,
        aa_private_key=aa_key or keys.active_authentication,  # type: ignore[arg-type]
        can=CAN,
        cvca=cvca or sample_cvca(),  # type: ignore[arg-type]
        current_date=date,
        pace_required=pace_required,
    )
    personalize(ChipTransport(chip), dump, secrets)
    mrz = DG1.decode(dump.files["DG1"]).mrz
    return Card(chip, dump, keys, mrz)


class DyingTransport:
    """Passes ``budget`` commands to ``inner`` then fails like a pulled card."""

    def __init__(self, inner: ChipTransport, budget: int) -> None:
        self.inner = inner
        self.budget = budget
        self.sent = 0

    @property
    def atr(self) -> bytes:
        return self.inner.atr

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        if self.sent >= self.budget:
            raise TransportError("card removed")
        self.sent += 1
        return self.inner.transmit(command)
