"""Shared helpers of the e-signature card tests (no tests here): a small locked chip whose
e-sign application knows its K_perso, and a card with key, PIN and PUK set.

Imported by tests/idcard/chip/test_esign_app.py, tests/idcard/esign/, tests/pki/test_card_signer.py
and tests/station/test_enrollment.py.
"""

from __future__ import annotations

from idcard import tlv
from idcard.apdu import CommandAPDU
from idcard.chip import perso
from idcard.chip.emrtd import EMRTD_AID, VirtualChip
from idcard.chip.transport import ChipTransport
from idcard.esign import ESignCard

K_PERSO = bytes(range(32))
PIN = "123456"
PUK = "87654321"
MRZ = perso.MRZKey("AD1234567", "900101", "340101")


def personalized_chip(k_perso: bytes = K_PERSO) -> VirtualChip:
    """A locked chip: minimal eMRTD files (COM, SOD, DG1 — placeholders, not a valid LDS) and
    the MRZ key, then K_perso in the e-sign application; no e-sign key yet."""
    chip = VirtualChip.new()
    t = ChipTransport(chip)
    t.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).check()
    for fid in (0x011E, 0x011D, 0x0101):
        t.transmit(perso.create_file(fid, 4)).check()
        t.transmit(perso.update_binary(0, tlv.encode(0x60, b"\x00\x00"))).check()
    t.transmit(perso.put_data(perso.TAG_MRZ, perso.encode_mrz(MRZ))).check()
    ESignCard(t).select()
    t.transmit(perso.put_esign_perso_key(k_perso)).check()
    t.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")).check()
    t.transmit(perso.lock()).check()
    return chip


def enrolled_chip(key_type: str = "ec-p256") -> VirtualChip:
    """A locked chip whose e-sign key was generated over the personalization channel, with
    :data:`PIN` and :data:`PUK` set (no certificate)."""
    chip = personalized_chip()
    card = ESignCard(ChipTransport(chip))
    card.select()
    secure = card.open_personalization(K_PERSO)
    secure.generate_key(key_type)
    secure.set_initial_pin(PIN)
    secure.set_initial_puk(PUK)
    chip.reset()
    return chip


def open_card(chip: VirtualChip) -> ESignCard:
    """A terminal session: the application selected, nothing verified."""
    card = ESignCard(ChipTransport(chip))
    card.select()
    return card
