"""The e-signature application of the virtual chip: PIN/PUK counters, signing rules, key
generation and certificate writing under the personalization channel, no key export."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st
from tests.idcard.esign.esign_kit import (
    K_PERSO,
    MRZ,
    PIN,
    PUK,
    enrolled_chip,
    open_card,
)

from idcard.apdu import CommandAPDU
from idcard.chip.emrtd import EMRTD_AID, VirtualChip
from idcard.chip.transport import ChipTransport
from idcard.errors import AuthenticationError, CardStatusError
from idcard.esign import FID_CERTIFICATE, ESignCard, PINBlockedError, PINError
from idcard.esign.protocol import ALG_ECDSA_DER, ALG_RSA_PKCS1, ALG_RSA_PSS, ALG_RSA_RAW
from idcard.protocols.bac import BACProtocol, key_seed
from idcard.protocols.base import drive
from idcard.sm import SecureTransport

DIGEST = hashlib.sha256(b"document").digest()


def _sw(exc: pytest.ExceptionInfo[CardStatusError]) -> int:
    return exc.value.sw


def _reload(chip: VirtualChip, tmp_path: Path) -> VirtualChip:
    chip.save(tmp_path / "card.json")
    return VirtualChip.load(tmp_path / "card.json")


def _verify_ecdsa(chip: VirtualChip, raw: bytes, digest: bytes = DIGEST) -> None:
    key = chip.state.esign_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    half = len(raw) // 2
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    key.public_key().verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


# -- PIN ----------------------------------------------------------------------------------------


def test_signature_after_pin_verifies() -> None:
    chip = enrolled_chip()
    card = open_card(chip)
    assert card.pin_tries() == 3
    card.verify_pin(PIN)
    assert card.pin_tries() is None
    _verify_ecdsa(chip, card.sign(DIGEST))


def test_signing_without_pin_is_refused() -> None:
    card = open_card(enrolled_chip())
    with pytest.raises(CardStatusError) as exc:
        card.sign(DIGEST)
    assert _sw(exc) == 0x6982


@pytest.mark.parametrize("drop", ["reset", "power", "select-emrtd", "select-esign-again", "mf"])
def test_pin_verification_ends_with_the_session(drop: str) -> None:
    chip = enrolled_chip()
    card = open_card(chip)
    card.verify_pin(PIN)
    t = card.transport
    if drop == "reset":
        chip.reset()
    elif drop == "power":
        chip.power_off()
        chip.power_on()
    elif drop == "select-emrtd":
        t.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).check()
    elif drop == "mf":
        t.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")).check()
    card.select()
    with pytest.raises(CardStatusError) as exc:
        card.sign(DIGEST)
    assert _sw(exc) == 0x6982


MSE_PLAIN = bytes.fromhex("002241B606840101800101")
PSO_PLAIN = bytes.fromhex("002A9E9A20") + DIGEST


def _secure_card(chip: VirtualChip, channel: str) -> ESignCard:
    """The e-sign application over BAC secure messaging, or over the K_perso channel."""
    t = ChipTransport(chip)
    if channel == "perso":
        plain = ESignCard(t)
        plain.select()
        return plain.open_personalization(K_PERSO)
    t.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).check()
    seed = key_seed(MRZ.document_number, MRZ.birth_date, MRZ.expiry_date)
    card = ESignCard(SecureTransport(t, drive(BACProtocol(seed), t).channel))
    card.select()
    return card


@pytest.mark.parametrize("channel", ["bac", "perso"])
@pytest.mark.parametrize("end", ["mac-failure", "plain-command", "sm-without-session"])
def test_pin_verification_ends_with_its_secure_messaging_channel(channel: str, end: str) -> None:
    """Issue 9 item 1 (ISO/IEC 7816-4 §5.4 security status): a PIN verified under secure
    messaging is no longer verified once that channel ends; plain MSE + PSO get 6982."""
    chip = enrolled_chip()
    card = _secure_card(chip, channel)
    card.verify_pin(PIN)
    transport = card.transport
    assert isinstance(transport, SecureTransport)
    if end == "mac-failure":
        wrapped = bytearray(transport.channel.wrap(CommandAPDU(0x00, 0x20, 0x00, 0x81)).encode())
        wrapped[-3] ^= 0x01  # inside DO'8E'
        assert chip.process(bytes(wrapped)) == bytes.fromhex("6988")
    elif end == "sm-without-session":
        assert chip.process(bytes.fromhex("0C20008100")) == bytes.fromhex("6987")
        assert chip.process(bytes.fromhex("0C20008100")) == bytes.fromhex("6987")
    assert chip.process(MSE_PLAIN) == bytes.fromhex("9000")  # (plain-command: ends SM here)
    assert not chip.authenticated and chip.access is None
    assert chip.process(PSO_PLAIN) == bytes.fromhex("6982")
    assert chip.process(bytes.fromhex("0020008100")) == bytes.fromhex("63C3")  # not verified
    # verified again in the clear, the PIN serves plain commands (the channel it was verified in)
    assert chip.process(bytes.fromhex("0020008108") + PIN.encode() + b"\xff\xff") == b"\x90\x00"
    response = chip.process(PSO_PLAIN + b"\x00")
    assert response[-2:] == b"\x90\x00" and len(response) == 66
    _verify_ecdsa(chip, response[:-2])


def test_a_pin_verified_in_the_clear_does_not_carry_into_secure_messaging() -> None:
    chip = enrolled_chip()
    plain = open_card(chip)
    plain.verify_pin(PIN)
    secure = plain.open_personalization(K_PERSO)
    with pytest.raises(CardStatusError) as exc:
        secure.sign(DIGEST)
    assert _sw(exc) == 0x6982


def test_three_wrong_pins_block_and_the_puk_unblocks_with_a_new_pin() -> None:
    chip = enrolled_chip()
    card = open_card(chip)
    for left in (2, 1):
        with pytest.raises(PINError) as exc:
            card.verify_pin("000000")
        assert exc.value.sw == 0x63C0 | left and exc.value.tries_left == left
    with pytest.raises(PINBlockedError):
        card.verify_pin("000000")
    with pytest.raises(PINBlockedError):
        card.verify_pin(PIN)  # the right PIN no longer helps
    with pytest.raises(PINBlockedError):
        card.sign(DIGEST)
    card.unblock_pin(PUK, "24681357")
    with pytest.raises(PINError):
        card.verify_pin(PIN)  # the old PIN is gone
    card.verify_pin("24681357")
    _verify_ecdsa(chip, card.sign(DIGEST))


def test_a_right_pin_resets_the_counter() -> None:
    chip = enrolled_chip()
    card = open_card(chip)
    with pytest.raises(PINError):
        card.verify_pin("000000")
    card.verify_pin(PIN)
    assert chip.state.esign_pin_tries == 3


def test_pin_counter_survives_save_and_load(tmp_path: Path) -> None:
    chip = enrolled_chip()
    card = open_card(chip)
    for _ in range(2):
        with pytest.raises(PINError):
            card.verify_pin("000000")
    again = open_card(_reload(chip, tmp_path))
    assert again.pin_tries() == 1
    with pytest.raises(PINBlockedError):
        again.verify_pin("999999")
    blocked = open_card(_reload(again.transport.chip, tmp_path))  # type: ignore[attr-defined]
    assert blocked.pin_tries() == 0


def test_ten_wrong_puks_end_signing_for_good(tmp_path: Path) -> None:
    chip = enrolled_chip()
    card = open_card(chip)
    for left in range(9, 0, -1):
        with pytest.raises(PINError) as exc:
            card.unblock_pin("11111111", "654321")
        assert exc.value.tries_left == left
    with pytest.raises(PINBlockedError):
        card.unblock_pin("11111111", "654321")
    reloaded = _reload(chip, tmp_path)
    again = open_card(reloaded)
    for attempt in (lambda: again.verify_pin(PIN), lambda: again.unblock_pin(PUK, "654321"),
                    lambda: again.sign(DIGEST)):  # fmt: skip
        with pytest.raises(PINBlockedError):
            attempt()
    # not even the personalization channel brings it back: no new key, no new PIN
    secure = again.open_personalization(K_PERSO)
    with pytest.raises(CardStatusError) as exc:
        secure.generate_key()
    assert _sw(exc) == 0x6983
    assert reloaded.state.esign_puk_tries == 0


def test_change_pin_needs_the_old_one() -> None:
    chip = enrolled_chip()
    card = open_card(chip)
    with pytest.raises(PINError) as exc:
        card.change_pin("000000", "111111")
    assert exc.value.tries_left == 2
    card.change_pin(PIN, "11112222")
    card.select()
    with pytest.raises(PINError):
        card.verify_pin(PIN)
    card.verify_pin("11112222")
    assert chip.state.esign_pin_tries == 3
    card.change_puk(PUK, "12121212")
    with pytest.raises(PINError):
        card.unblock_pin(PUK)
    card.unblock_pin("12121212")


def test_pin_reference_data_is_salted_hash(tmp_path: Path) -> None:
    chip = enrolled_chip()
    chip.save(tmp_path / "card.json")
    text = (tmp_path / "card.json").read_text()
    assert PIN.encode().hex().upper() not in text and PUK.encode().hex().upper() not in text
    assert chip.state.esign_pin is not None and len(chip.state.esign_pin) == 48


@pytest.mark.parametrize("pin", ["12345", "123456789", "12a456"])
def test_pin_format_is_six_to_eight_digits(pin: str) -> None:
    card = open_card(enrolled_chip())
    block = pin.encode().ljust(8, b"\xff")
    raw = card.transport.transmit(CommandAPDU(0x00, 0x20, 0x00, 0x81, block))
    assert raw.sw in (0x6A80, 0x6700)
    assert card.pin_tries() == 3  # a malformed PIN does not cost a try


# -- personalization channel ---------------------------------------------------------------------


def test_after_the_lock_generation_and_certificates_need_the_perso_channel() -> None:
    chip = enrolled_chip()
    card = open_card(chip)
    card.verify_pin(PIN)  # even a verified PIN gives no personalization right
    for action in (lambda: card.generate_key(), lambda: card.write_file(b"\x30\x00"),
                   lambda: card.set_initial_pin("111111")):  # fmt: skip
        with pytest.raises(CardStatusError) as exc:
            action()
        assert _sw(exc) == 0x6982
    with pytest.raises(CardStatusError) as exc:
        card.put_perso_key(bytes(32))
    assert _sw(exc) == 0x6982


def test_bac_secure_messaging_is_not_the_perso_channel() -> None:
    chip = enrolled_chip()
    t = ChipTransport(chip)
    t.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).check()
    seed = key_seed(MRZ.document_number, MRZ.birth_date, MRZ.expiry_date)
    card = ESignCard(SecureTransport(t, drive(BACProtocol(seed), t).channel))
    card.select()
    with pytest.raises(CardStatusError) as exc:
        card.generate_key()
    assert _sw(exc) == 0x6982
    card.verify_pin(PIN)  # signing under any secure messaging is fine
    _verify_ecdsa(chip, card.sign(DIGEST))


def test_wrong_perso_key_is_refused() -> None:
    card = open_card(enrolled_chip())
    with pytest.raises(AuthenticationError):
        card.open_personalization(bytes(32))


def test_perso_channel_generates_writes_and_wipes_the_old_secrets() -> None:
    chip = enrolled_chip()
    old = chip.state.esign_key
    card = open_card(chip)
    secure = card.open_personalization(K_PERSO)
    with pytest.raises(CardStatusError) as exc:
        secure.set_initial_pin("111111")  # a PIN is set: K_perso cannot replace it
    assert _sw(exc) == 0x6985
    public = secure.generate_key("ec-p384")
    assert chip.state.esign_key is not old and chip.state.esign_pin is None
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp384r1"
    secure.set_initial_pin("55556666")
    secure.set_initial_puk("12345678")
    certificate = bytes(range(256)) * 3
    secure.write_file(certificate)
    chip.reset()
    plain = open_card(chip)  # certificates are readable by anyone, in the clear
    assert plain.read_file(FID_CERTIFICATE) == certificate
    assert plain.read_file(0xC001) is None
    assert plain.public_key() == public


def test_before_the_lock_personalization_needs_no_channel() -> None:
    chip = VirtualChip.new()
    card = ESignCard(ChipTransport(chip))
    card.select()
    card.generate_key()
    card.set_initial_pin(PIN)
    card.write_file(b"cert")
    card.verify_pin(PIN)
    _verify_ecdsa(chip, card.sign(DIGEST))


# -- algorithms ------------------------------------------------------------------------------------


def test_ecdsa_der_output() -> None:
    chip = enrolled_chip()
    card = open_card(chip)
    card.verify_pin(PIN)
    der = card.sign(DIGEST, ALG_ECDSA_DER)
    key = chip.state.esign_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    key.public_key().verify(der, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))


@pytest.mark.parametrize("key_type", ["rsa-2048", "rsa-3072"])
def test_rsa_keys_sign_pkcs1_pss_and_raw(key_type: str) -> None:
    from asn1crypto import algos

    chip = enrolled_chip(key_type)
    card = open_card(chip)
    card.verify_pin(PIN)
    public = card.public_key()
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == int(key_type[4:])
    info = algos.DigestInfo({"digest_algorithm": {"algorithm": "sha256"}, "digest": DIGEST}).dump()
    public.verify(card.sign(info, ALG_RSA_PKCS1), DIGEST, padding.PKCS1v15(),
                  Prehashed(hashes.SHA256()))  # fmt: skip
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    public.verify(card.sign(DIGEST, ALG_RSA_PSS), DIGEST, pss, Prehashed(hashes.SHA256()))
    k = public.key_size // 8
    block = b"\x00\x01" + b"\xff" * (k - 3 - len(info)) + b"\x00" + info
    assert card.sign(block, ALG_RSA_RAW) == card.sign(info, ALG_RSA_PKCS1)
    with pytest.raises(CardStatusError):
        card.sign(DIGEST, 0x01)  # ECDSA with an RSA key


# -- no export -------------------------------------------------------------------------------------

_CHIP = enrolled_chip()
_KEY = _CHIP.state.esign_key
assert isinstance(_KEY, ec.EllipticCurvePrivateKey)
_SCALAR = _KEY.private_numbers().private_value.to_bytes(32, "big")
_PKCS8 = _KEY.private_bytes(
    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
_INS = [0x20, 0x22, 0x24, 0x2A, 0x2C, 0x46, 0x47, 0x82, 0x84, 0x88, 0xA4, 0xB0, 0xB1, 0xCA,
        0xCB, 0xDA, 0xDB, 0xE0, 0xD6, 0xD7]  # fmt: skip


@given(
    commands=st.lists(
        st.tuples(
            st.sampled_from([0x00, 0x80, 0x0C]),
            st.one_of(st.sampled_from(_INS), st.integers(0, 255)),
            st.integers(0, 255),
            st.integers(0, 255),
            st.binary(max_size=40),
            st.one_of(st.none(), st.integers(1, 256)),
        ),
        max_size=12,
    ),
    perso=st.booleans(),
)
def test_no_command_returns_the_private_key(
    commands: list[tuple[int, int, int, int, bytes, int | None]], perso: bool
) -> None:
    """Random APDUs to the application — with the PIN verified, and optionally over the
    personalization channel — never answer with the private scalar or its PKCS#8 form."""
    _CHIP.reset()
    _CHIP.state.esign_pin_tries, _CHIP.state.esign_puk_tries = 3, 10
    card = open_card(_CHIP)
    card.verify_pin(PIN)
    transport = card.open_personalization(K_PERSO).transport if perso else card.transport
    for cla, ins, p1, p2, data, ne in commands:
        if ins in (0x46, 0x47) and p1 == 0:  # a new key would only hide the old one
            continue
        try:
            command = CommandAPDU(cla, ins, p1, p2, data, ne)
        except ValueError:
            continue
        try:
            response = transport.transmit(command)
        except Exception:
            response = None
        raw = _CHIP.process(command.encode())
        for blob in (raw, response.data if response is not None else b""):
            assert _SCALAR not in blob and _PKCS8 not in blob
    assert _CHIP.state.esign_key is _KEY
