"""The e-signature application's refusals: every malformed, misplaced or unauthorised command gets
its exact status word (docs/chip.md, "E-signature on the card") and changes nothing on the chip;
and the accepted variants of the same commands (templates, offsets, INS 46), the chip's log lines
and its randomness."""

from __future__ import annotations

import functools
import hashlib
import logging

import pytest
from asn1crypto import algos
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.idcard.esign.esign_kit import PIN, PUK, enrolled_chip

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.chip.emrtd import VirtualChip
from idcard.chip.state import ChipState
from idcard.chip.transport import ChipTransport
from idcard.esign import ESignCard
from idcard.esign.protocol import ESIGN_AID, decode_public_key, pin_block

DIGEST = hashlib.sha256(b"x").digest()
SELECT = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, ESIGN_AID)


@functools.cache
def _image(kind: str) -> dict[str, object]:
    """The JSON image of a chip of one kind (copied per test: key generation is slow)."""
    if kind in ("enrolled", "rsa"):
        return enrolled_chip("rsa-2048" if kind == "rsa" else "ec-p256").state.to_json()
    chip = VirtualChip.new()  # before the lock: personalization needs no channel
    card = ESignCard(ChipTransport(chip))
    card.select()
    if kind in ("keyed", "pin-only"):
        card.generate_key()
    if kind == "pin-only":
        card.set_initial_pin(PIN)
    return chip.state.to_json()


def _chip(kind: str, *, verified: bool = False) -> tuple[VirtualChip, ChipTransport]:
    chip = VirtualChip(ChipState.from_json(_image(kind)))
    t = ChipTransport(chip)
    t.transmit(SELECT).check()
    if verified:
        t.transmit(CommandAPDU(0x00, 0x20, 0x00, 0x81, pin_block(PIN))).check()
    return chip, t


def _apdu(hexa: str, data: bytes = b"", ne: int | None = None) -> CommandAPDU:
    cla, ins, p1, p2 = bytes.fromhex(hexa)
    return CommandAPDU(cla, ins, p1, p2, data, ne=ne)


def _mse(*dos: tuple[int, bytes]) -> bytes:
    return b"".join(tlv.encode(tag, value) for tag, value in dos)


def _crt(*dos: tuple[int, bytes], template: int = 0xB6) -> bytes:
    return tlv.encode(template, _mse(*dos))


def _digest_info(oid_name: str, digest: bytes) -> bytes:
    return algos.DigestInfo({"digest_algorithm": {"algorithm": oid_name},
                             "digest": digest}).dump()  # fmt: skip


def _rsa_n() -> int:
    key = ChipState.from_json(_image("rsa")).esign_key
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.public_key().public_numbers().n


PINB, PUKB = pin_block(PIN), pin_block(PUK, puk=True)
RAW, PSS = (_apdu("002241B6", _mse((0x80, bytes([alg])))) for alg in (0x12, 0x13))
SHORT_PUK = pin_block("123456")  # a well-formed PIN block, not a PUK block (8 digits)

# (chip kind, PIN verified first, commands sent before, the command, its status word)
CASES: list[tuple[str, bool, tuple[CommandAPDU, ...], CommandAPDU, int]] = [
    # dispatch
    ("enrolled", False, (), _apdu("00CA0100"), 0x6D00),
    ("enrolled", False, (), _apdu("80200081", PINB), 0x6E00),
    ("enrolled", False, (), _apdu("002241B6", b"\x84\x05\x01"), 0x6A80),  # TLV does not decode
    # MSE:SET DST
    ("enrolled", False, (), _apdu("002241A4", _mse((0x84, b"\x01"), (0x80, b"\x01"))), 0x6A86),
    ("enrolled", False, (), _apdu("002241B6", _mse((0x84, b"\x02"), (0x80, b"\x01"))), 0x6A88),
    ("enrolled", False, (), _apdu("002241B6", _mse((0x84, b"\x01"))), 0x6A80),
    ("enrolled", False, (), _apdu("002241B6", _mse((0x84, b"\x01"), (0x80, b"\x01\x01"))), 0x6A80),
    ("enrolled", False, (), _apdu("002241B6", _mse((0x80, b"\x11"))), 0x6A81),  # RSA on EC key
    ("rsa", False, (), _apdu("002241B6", _mse((0x80, b"\x01"))), 0x6A81),  # ECDSA on RSA key
    ("blank", False, (), _apdu("002241B6", _mse((0x80, b"\x01"))), 0x6A80),  # no key
    # PSO: COMPUTE DIGITAL SIGNATURE
    ("enrolled", True, (), _apdu("002A9E9B", DIGEST), 0x6A86),
    ("enrolled", True, (), _apdu("002A9E9A", DIGEST[:31]), 0x6A80),
    ("enrolled", False, (), _apdu("002A9E9A", DIGEST), 0x6982),
    ("blank", False, (), _apdu("002A9E9A", DIGEST), 0x6A88),
    ("rsa", True, (RAW,), _apdu("002A9E9A", b"\x01" * 255), 0x6A80),  # one byte short of n
    ("rsa", True, (PSS,), _apdu("002A9E9A", DIGEST[:30]), 0x6A80),  # no hash of 30 bytes
    ("rsa", True, (), _apdu("002A9E9A", b"\x30\x03\x02\x01"), 0x6A80),  # not a DigestInfo
    ("rsa", True, (), _apdu("002A9E9A", _digest_info("sha256", bytes(48))), 0x6A80),
    ("rsa", True, (), _apdu("002A9E9A", _digest_info("sha256", bytes(33))), 0x6A80),
    # VERIFY
    ("enrolled", False, (), _apdu("00200082", PINB), 0x6A88),
    ("blank", False, (), _apdu("00200081", PINB), 0x6984),
    ("keyed", False, (), _apdu("00200081"), 0x6984),
    # CHANGE REFERENCE DATA
    ("enrolled", False, (), _apdu("00240083", PINB + PINB), 0x6A88),
    ("enrolled", False, (), _apdu("00240281", PINB + PINB), 0x6A86),
    ("keyed", False, (), _apdu("00240081", PINB + PINB), 0x6984),
    ("enrolled", False, (), _apdu("00240081", PINB + b"12\xff\xff\xff\xff\xff\xff"), 0x6A80),
    ("enrolled", False, (), _apdu("00240082", SHORT_PUK + PUKB), 0x6A80),
    ("enrolled", False, (), _apdu("00240082", PUKB + SHORT_PUK), 0x6A80),
    ("enrolled", False, (), _apdu("00240081", PINB + PINB + b"\xff"), 0x6A80),
    ("blank", False, (), _apdu("00240181", PINB), 0x6985),  # no key yet
    ("keyed", False, (), _apdu("00240182", SHORT_PUK), 0x6A80),
    ("keyed", False, (), _apdu("00240181", b"12345"), 0x6A80),
    # RESET RETRY COUNTER
    ("enrolled", False, (), _apdu("002C0082", PUKB + PINB), 0x6A88),
    ("enrolled", False, (), _apdu("002C0281", PUKB + PINB), 0x6A86),
    ("pin-only", False, (), _apdu("002C0081", PUKB + PINB), 0x6984),
    ("enrolled", False, (), _apdu("002C0181", PUKB + PINB), 0x6A80),  # P1 01 takes the PUK only
    ("enrolled", False, (), _apdu("002C0081", PUKB), 0x6A80),  # P1 00 needs the new PIN
    ("enrolled", False, (), _apdu("002C0081", SHORT_PUK + PINB), 0x6A80),
    ("enrolled", False, (), _apdu("002C0181", SHORT_PUK), 0x6A80),
    ("enrolled", False, (), _apdu("002C0081", b"1234567\xff" + PINB), 0x6A80),
    # GENERATE ASYMMETRIC KEY PAIR
    ("blank", False, (), _apdu("00478100"), 0x6A88),
    ("blank", False, (), _apdu("00470001", _crt((0x84, b"\x01"))), 0x6A86),
    ("blank", False, (), _apdu("00470000", _crt((0x80, b"\x01"))), 0x6A88),
    ("blank", False, (), _apdu("00470000", _crt((0x84, b"\x02"), (0x80, b"\x01"))), 0x6A88),
    ("blank", False, (), _apdu("00470000", _crt((0x84, b"\x01"), (0x80, b"\x01\x01"))), 0x6A81),
    ("blank", False, (), _apdu("00470000", _crt((0x84, b"\x01"), (0x80, b"\x7f"))), 0x6A81),
    # PUT DATA (K_perso)
    ("blank", False, (), _apdu("00DA0072", bytes(16)), 0x6A86),
    ("blank", False, (), _apdu("00DA0071", bytes(15)), 0x6A80),
    ("enrolled", False, (), _apdu("00DA0071", bytes(16)), 0x6982),
    # CREATE FILE / UPDATE BINARY
    ("blank", False, (), _apdu("00E00000", tlv.encode(0x63, bytes.fromhex("0010C002"))), 0x6A80),
    ("blank", False, (), _apdu("00D7C001", tlv.encode(0x54, b"\x00") + tlv.encode(0x53, b"x")),
     0x6A82),
]
_CREATED = _apdu("00E00000", tlv.encode(0x63, bytes.fromhex("0010C000")))
for _body in (
    tlv.encode(0x54, b"\x00"),  # no DO'53'
    tlv.encode(0x53, b"x"),  # no DO'54'
    tlv.encode(0x54, b"") + tlv.encode(0x53, b"x"),  # empty offset
    tlv.encode(0x54, b"\x00\x00\x00\x00") + tlv.encode(0x53, b"x"),  # 4-byte offset
):
    CASES.append(("blank", False, (_CREATED,), _apdu("00D7C000", _body), 0x6A80))


@pytest.mark.parametrize(("kind", "verified", "before", "command", "sw"), CASES)
def test_each_refusal_has_its_status_word_and_changes_nothing(
    kind: str, verified: bool, before: tuple[CommandAPDU, ...], command: CommandAPDU, sw: int
) -> None:
    chip, t = _chip(kind, verified=verified)
    for c in before:
        t.transmit(c).check()
    image = chip.state.to_json()
    assert t.transmit(command) == ResponseAPDU(b"", sw)
    assert chip.state.to_json() == image


def test_raw_rsa_refuses_the_modulus_itself() -> None:
    """m must be < n: the modulus as input is refused, not signed (it would give 0)."""
    _, t = _chip("rsa", verified=True)
    t.transmit(_apdu("002241B6", _mse((0x80, b"\x12")))).check()
    modulus = _rsa_n().to_bytes(256, "big")
    assert t.transmit(_apdu("002A9E9A", modulus)) == ResponseAPDU(b"", 0x6A80)
    ok = t.transmit(_apdu("002A9E9A", (_rsa_n() - 1).to_bytes(256, "big"), ne=65536))
    assert ok.sw == 0x9000 and len(ok.data) == 256


# -- accepted variants -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ins", "data"),
    [
        (0x47, tlv.encode(0x84, b"\x01")),  # bare DOs, no algorithm: the default, P-256
        (0x46, _crt((0x84, b"\x01"))),
        (0x47, _crt((0x84, b"\x01"), template=0xA4)),
        (0x47, _crt((0x84, b"\x01"), template=0xAC)),
        (0x47, _crt((0x84, b"\x01"), (0x80, b"\x01"))),
    ],
)
def test_generate_accepts_each_template_and_defaults_to_p256(ins: int, data: bytes) -> None:
    chip, t = _chip("blank")
    response = t.transmit(CommandAPDU(0x00, ins, 0x00, 0x00, data, ne=256))
    assert response.sw == 0x9000
    public = decode_public_key(response.data)
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"
    key = chip.state.esign_key
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.public_key() == public


def test_mse_without_key_reference_and_initial_values_answer_nothing_but_9000() -> None:
    _, t = _chip("keyed")
    assert t.transmit(_apdu("002241B6", _mse((0x80, b"\x02")))) == ResponseAPDU(b"")
    assert t.transmit(_apdu("00240181", PINB)) == ResponseAPDU(b"")
    assert t.transmit(_apdu("00240182", PUKB)) == ResponseAPDU(b"")
    assert t.transmit(_apdu("00DA0071", bytes(24))) == ResponseAPDU(b"")
    assert t.transmit(_apdu("00200081", PINB)) == ResponseAPDU(b"")
    der = t.transmit(_apdu("002A9E9A", DIGEST, ne=256))  # DER, as the MSE without DO'84' chose
    assert der.sw == 0x9000 and der.data[0] == 0x30


@pytest.mark.parametrize("offset", [b"\x05", b"\x00\x05", b"\x00\x00\x05"])
def test_update_binary_takes_one_to_three_offset_bytes(offset: bytes) -> None:
    chip, t = _chip("blank")
    assert t.transmit(_CREATED) == ResponseAPDU(b"")
    body = tlv.encode(0x54, offset) + tlv.encode(0x53, b"abc")
    assert t.transmit(_apdu("00D7C000", body)) == ResponseAPDU(b"")
    assert chip.state.files["esign"][0xC000] == bytearray(b"\x00" * 5 + b"abc" + b"\x00" * 8)


def test_key_generation_wipes_the_unwritten_record_of_the_certificate_files() -> None:
    chip, t = _chip("blank")
    t.transmit(_CREATED).check()
    assert chip.state.unwritten["esign"] == {0xC000: [(0, 16)]}
    t.transmit(_apdu("00470000", _crt((0x84, b"\x01")), ne=256)).check()
    assert "esign" not in chip.state.unwritten and chip.state.files["esign"] == {}


# -- randomness and log --------------------------------------------------------------------------


def test_k_perso_is_written_in_the_clear_only() -> None:
    """Before the lock, PUT DATA 71 is refused over the personalization channel itself."""
    _, t = _chip("keyed")
    t.transmit(_apdu("00DA0071", bytes(16))).check()
    secure = ESignCard(t).open_personalization(bytes(16))
    response = secure.transport.transmit(_apdu("00DA0071", bytes(32)))
    assert response == ResponseAPDU(b"", 0x6982)


def test_the_challenge_comes_from_the_chips_rng() -> None:
    chip, _ = _chip("enrolled")
    counter = iter(range(1, 1000))
    seeded = VirtualChip(chip.state, rng=lambda n: bytes([next(counter)]) * n)
    t = ChipTransport(seeded)
    t.transmit(SELECT).check()
    assert t.transmit(_apdu("00840000", ne=16)).data == b"\x01" * 16


def test_log_lines_for_generation_and_a_blocked_puk(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="idcard.chip.esign_app")
    _, t = _chip("blank")
    t.transmit(_apdu("00470000", _crt((0x84, b"\x01"), (0x80, b"\x02")), ne=256)).check()
    assert [r.getMessage() for r in caplog.records] == ["e-sign key pair generated (ec-p384)"]
    caplog.clear()
    _, t = _chip("enrolled")
    wrong = pin_block("00000000", puk=True)
    answers = [t.transmit(_apdu("002C0181", wrong)).sw for _ in range(9)]
    assert answers == [0x63C0 | n for n in range(9, 0, -1)]
    assert caplog.records == []  # one try left: not blocked yet
    assert t.transmit(_apdu("002C0181", wrong)).sw == 0x6983
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "e-sign PUK blocked: signing ends for this card")]  # fmt: skip
