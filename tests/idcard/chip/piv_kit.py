"""Shared helpers of the PIV face tests (no tests here): an enrolled chip whose e-signature
application holds the holder's certificate, issued by a test e-signature CA, as enrollment
writes it (EF C000 over the personalization channel)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from tests.idcard.esign.esign_kit import K_PERSO, PIN, enrolled_chip, open_card
from tests.pki.test_esign_kit import ALISHER, make_ca

from idcard.chip.emrtd import VirtualChip
from idcard.chip.transport import ChipTransport
from idcard.esign import FID_CA_CERTIFICATE, ESignCard
from pki.card_signer import CardSigner
from pki.enroll import enroll
from pki.esign import EsignCA, IssuedCertificate

SELECT_PIV = bytes.fromhex("00A4040009A0000003080000100000")
"""SELECT as OpenSC sends it: the AID right-truncated to 9 bytes, P2 00, Le 256."""


@dataclass(frozen=True)
class PIVCard:
    chip: VirtualChip
    ca: EsignCA
    issued: IssuedCertificate


def piv_card(tmp_path: Path, key_type: str = "ec-p256") -> PIVCard:
    """A locked chip with key, PIN, PUK (esign_kit) and the holder's certificate written."""
    chip = enrolled_chip(key_type)
    ca = make_ca(tmp_path)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    issued = enroll(CardSigner(open_card(chip), lambda: PIN), ALISHER, ca, now=now)
    card = ESignCard(ChipTransport(chip))
    card.select()
    secure = card.open_personalization(K_PERSO)
    secure.write_file(issued.der)
    secure.write_file(bytes(ca.certificate.dump()), FID_CA_CERTIFICATE)
    chip.reset()
    return PIVCard(chip, ca, issued)


def apdu(chip: VirtualChip, hexstr: str) -> tuple[bytes, int]:
    """One command (hex, spaces allowed) to the chip: its data and status word."""
    answer = chip.process(bytes.fromhex(hexstr.replace(" ", "")))
    return answer[:-2], int.from_bytes(answer[-2:], "big")
