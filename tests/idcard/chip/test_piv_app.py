"""The PIV face of the e-signature key (NIST SP 800-73-4), with exact APDUs: SELECT, GET DATA,
response and command chaining, one PIN and one retry counter shared with the e-signature
application, GENERAL AUTHENTICATE only after VERIFY in the same session."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from hypothesis import given
from hypothesis import strategies as st
from tests.idcard.chip.piv_kit import SELECT_PIV, PIVCard, apdu, piv_card
from tests.idcard.esign.esign_kit import PIN, PUK, enrolled_chip, open_card

from idcard import tlv
from idcard.chip.emrtd import EMRTD_AID, VirtualChip
from idcard.chip.piv_app import PIV_AID, application_property_template, fasc_n
from idcard.chip.state import ChipState, DurableChip
from idcard.esign import FID_CERTIFICATE, PINBlockedError, PINError
from idcard.esign.protocol import ESIGN_AID

DIGEST = hashlib.sha256(b"document").digest()
VERIFY = "00 20 00 80 08 " + (PIN.encode() + b"\xff\xff").hex()
WRONG = "00 20 00 80 08 " + (b"000000" + b"\xff\xff").hex()
GA_P256 = "00 87 11 9C 26 7C 24 82 00 81 20 " + DIGEST.hex() + " 00"
APT_P256 = bytes.fromhex(
    "6134 4F06000010000100 79074F05A000000308"
    "5019" + b"idkarta e-signature (PIV)".hex() + "AC06 800111 060100"
)
"""SP 800-73-4 Part 2 Table 3, with the one mechanism of a P-256 key (11)."""
DISCOVERY = bytes.fromhex("7E12 4F0BA0000003080000100001 00 5F2F024000".replace(" ", ""))
PIV_I_FASC_N = bytes.fromhex("D4E739DA739CED39CE739D836858210842108421C84210C3EB")
"""The FASC-N of a non-federal issuer (agency 9999, system 9999, credential 999999), as PIV-I
cards carry it (TIG SCEPACS v2.3 §6 coding)."""


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PIVCard]:
    folder = tmp_path_factory.mktemp("piv")
    card = piv_card(folder)
    card.chip.save(folder / "chip.json")
    return folder / "chip.json", card


@pytest.fixture
def chip(image: tuple[Path, PIVCard]) -> VirtualChip:
    """A fresh chip from the module's image (each test its own counters)."""
    return VirtualChip.load(image[0])


@pytest.fixture
def cert(image: tuple[Path, PIVCard]) -> x509.Certificate:
    return x509.load_der_x509_certificate(image[1].issued.der)


def _verify_der(c: x509.Certificate, signature: bytes, digest: bytes = DIGEST) -> None:
    key = c.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def _signature(answer: bytes) -> bytes:
    outer = tlv.decode_one(answer, expected_tag=0x7C, allow_padding=False).children()
    assert [i.tag for i in outer] == [0x82]
    return outer[0].value


# -- SELECT and data objects --------------------------------------------------------------------


@pytest.mark.parametrize("aid", [PIV_AID[:9], PIV_AID])
def test_select_answers_the_application_property_template(chip: VirtualChip, aid: bytes) -> None:
    assert application_property_template([0x11]) == APT_P256
    data, sw = apdu(chip, f"00 A4 04 00 {len(aid):02X} {aid.hex()} 00")
    assert (data, sw) == (APT_P256, 0x9000)
    assert apdu(chip, f"00 A4 04 0C {len(aid):02X} {aid.hex()}") == (b"", 0x9000)


def test_no_piv_face_without_an_e_signature_key() -> None:
    from tests.idcard.esign.esign_kit import personalized_chip

    assert apdu(personalized_chip(), SELECT_PIV.hex()) == (b"", 0x6A82)


def test_discovery_ccc_and_chuid(chip: VirtualChip, cert: x509.Certificate) -> None:
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, "00 CB 3F FF 03 5C 01 7E 00") == (DISCOVERY, 0x9000)
    chuid, sw = apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 02 00")
    assert sw == 0x9000
    items = {i.tag: i.value for i in tlv.decode_one(chuid, expected_tag=0x53).children()}
    assert list(items) == [0x30, 0x34, 0x35, 0x3E, 0xFE]
    assert items[0x30] == PIV_I_FASC_N == fasc_n()
    public = chip.state.esign_key.public_key()  # type: ignore[union-attr]
    from idcard.esign.protocol import encode_public_key

    assert items[0x34] == hashlib.sha256(encode_public_key(public)).digest()[:16]
    assert items[0x35] == cert.not_valid_after_utc.strftime("%Y%m%d").encode()
    ccc, sw = apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 07 00")
    assert sw == 0x9000
    f0 = tlv.find(tlv.decode_one(ccc, expected_tag=0x53).children(), 0xF0)
    assert f0 is not None and f0.value == bytes.fromhex("A000000116FF02") + items[0x34][:14]


def test_the_9c_certificate_is_the_e_signature_certificate(
    chip: VirtualChip, image: tuple[Path, PIVCard]
) -> None:
    """Chained out: 256 bytes and 61xx, then GET RESPONSE (ISO/IEC 7816-4 §5.3.4)."""
    der = image[1].issued.der
    assert bytes(chip.state.files["esign"][FID_CERTIFICATE]) == der
    apdu(chip, SELECT_PIV.hex())
    expected = tlv.encode(0x53, tlv.encode(0x70, der) + bytes.fromhex("710100FE00"))
    first, sw = apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 0A 00")
    assert first == expected[:256] and sw == 0x6100  # 256 or more left
    got = first
    while sw != 0x9000:
        assert sw & 0xFF00 == 0x6100
        more, sw = apdu(chip, "00 C0 00 00 00")
        left = len(expected) - len(got) - len(more)
        assert sw == (0x9000 if left == 0 else 0x6100 | (left if left < 256 else 0))
        got += more
    assert got == expected
    assert apdu(chip, "00 C0 00 00 00") == (b"", 0x6985)  # nothing pending any more


def test_a_length_probe_gets_the_header_and_the_rest_on_request(chip: VirtualChip) -> None:
    """OpenSC asks for 8 bytes first to learn the length."""
    apdu(chip, SELECT_PIV.hex())
    head, sw = apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 0A 08")
    assert head[:2] == b"\x53\x82" and len(head) == 8 and sw == 0x6100
    assert apdu(chip, "00 CB 3F FF 03 5C 01 7E 00") == (DISCOVERY, 0x9000)  # drops the rest
    assert apdu(chip, "00 C0 00 00 00")[1] == 0x6985


def test_extended_le_gets_the_whole_object(chip: VirtualChip, image: tuple[Path, PIVCard]) -> None:
    apdu(chip, SELECT_PIV.hex())
    data, sw = apdu(chip, "00 CB 3F FF 00 00 05 5C 03 5F C1 0A 00 00")
    assert sw == 0x9000 and image[1].issued.der in data


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00 CB 3F FF 05 5C 03 5F C1 05 00", 0x6A82),  # PIV authentication certificate: absent
        ("00 CB 3F FF 05 5C 03 5F C1 09 00", 0x6A82),  # printed information: absent
        ("00 CB 3F 00 03 5C 01 7E 00", 0x6A86),
        ("00 CB 3F FF 03 5D 01 7E 00", 0x6A80),
        ("00 CB 3F FF 04 5C 01 7E 00 00", 0x6A80),
        ("00 B0 00 00 00", 0x6D00),
        ("00 CA 01 00 00", 0x6D00),
        ("80 CB 3F FF 03 5C 01 7E 00", 0x6E00),
        ("10 CB 3F FF 03 5C 01 7E", 0x6884),
        ("00 C0 00 00 00", 0x6985),
        ("00 C0 01 00 00", 0x6A86),
    ],
)
def test_refusals(chip: VirtualChip, command: str, sw: int) -> None:
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, command) == (b"", sw)


# -- signing ------------------------------------------------------------------------------------


def test_general_authenticate_signs_only_after_verify(chip: VirtualChip,
                                                      cert: x509.Certificate) -> None:  # fmt: skip
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, GA_P256) == (b"", 0x6982)
    assert apdu(chip, "00 20 00 80 00") == (b"", 0x63C3)
    assert apdu(chip, VERIFY) == (b"", 0x9000)
    assert apdu(chip, "00 20 00 80 00") == (b"", 0x9000)
    answer, sw = apdu(chip, GA_P256)
    assert sw == 0x9000
    _verify_der(cert, _signature(answer))
    answer, sw = apdu(chip, GA_P256)  # the status lasts for the session, as on the e-sign face
    assert sw == 0x9000
    assert apdu(chip, "00 20 FF 80") == (b"", 0x9000)  # reset the verified status
    assert apdu(chip, GA_P256) == (b"", 0x6982)


def test_a_short_hash_is_left_padded_to_the_field(chip: VirtualChip,
                                                  cert: x509.Certificate) -> None:  # fmt: skip
    sha1 = hashlib.sha1(b"document").digest()  # noqa: S324 - a 20-byte hash, as OpenSC may send
    apdu(chip, SELECT_PIV.hex())
    apdu(chip, VERIFY)
    answer, sw = apdu(chip, "00 87 11 9C 1A 7C 18 82 00 81 14 " + sha1.hex() + " 00")
    assert sw == 0x9000
    _verify_der(cert, _signature(answer), sha1.rjust(32, b"\x00"))


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00 87 11 9A 26 7C 24 82 00 81 20 " + DIGEST.hex() + " 00", 0x6A88),  # not slot 9C
        ("00 87 14 9C 26 7C 24 82 00 81 20 " + DIGEST.hex() + " 00", 0x6A86),  # P-384: not this key
        ("00 87 07 9C 26 7C 24 82 00 81 20 " + DIGEST.hex() + " 00", 0x6A86),  # RSA: not this key
        ("00 87 11 9C 24 7C 22 81 20 " + DIGEST.hex() + " 00", 0x6A80),  # no 82 00
        ("00 87 11 9C 27 7C 25 82 01 00 81 20 " + DIGEST.hex() + " 00", 0x6A80),  # 82 not empty
        ("00 87 11 9C 27 7C 25 82 00 81 21 00" + DIGEST.hex() + " 00", 0x6A80),  # too long
        ("00 87 11 9C 04 7C 02 82 00 00", 0x6A80),  # no challenge
        ("00 87 11 9C 03 7D 01 00 00", 0x6A80),
    ],
)
def test_general_authenticate_refusals(chip: VirtualChip, command: str, sw: int) -> None:
    apdu(chip, SELECT_PIV.hex())
    apdu(chip, VERIFY)
    assert apdu(chip, command) == (b"", sw)


@pytest.mark.parametrize(("key_type", "alg"), [("ec-p384", 0x14), ("rsa-2048", 0x07)])
def test_other_keys_sign_with_their_mechanism(tmp_path: Path, key_type: str, alg: int) -> None:
    card = piv_card(tmp_path, key_type)
    chip = card.chip
    public = x509.load_der_x509_certificate(card.issued.der).public_key()
    data, _ = apdu(chip, SELECT_PIV.hex())
    mechanisms = tlv.find(tlv.decode_one(data).children(), 0xAC)
    assert mechanisms is not None and mechanisms.value[:3] == bytes([0x80, 1, alg])
    apdu(chip, VERIFY)
    if isinstance(public, ec.EllipticCurvePublicKey):
        digest = hashlib.sha384(b"document").digest()
        answer, sw = apdu(chip, f"00 87 14 9C 36 7C 34 82 00 81 30 {digest.hex()} 00")
        assert sw == 0x9000
        public.verify(_signature(answer), digest, ec.ECDSA(Prehashed(hashes.SHA384())))
        return
    assert isinstance(public, rsa.RSAPublicKey)
    # EMSA-PKCS1-v1_5 of a SHA-256 DigestInfo, padded by the host as OpenSC does for PIV
    info = bytes.fromhex("3031300d060960864801650304020105000420") + DIGEST
    block = b"\x00\x01" + b"\xff" * (256 - 3 - len(info)) + b"\x00" + info
    body = tlv.encode(0x7C, tlv.encode(0x82, b"") + tlv.encode(0x81, block))
    # command chaining (CLA 10) as OpenSC sends more than 255 bytes
    assert apdu(chip, f"10 87 07 9C FF {body[:255].hex()}") == (b"", 0x9000)
    rest = body[255:]
    answer, sw = apdu(chip, f"00 87 07 9C {len(rest):02X} {rest.hex()} 00")
    assert len(answer) == 256 and sw == 0x6108  # 7C 82 01 04 82 82 01 00 ‖ 256: 8 left
    while sw & 0xFF00 == 0x6100:
        more, sw = apdu(chip, "00 C0 00 00 00")
        answer += more
    assert sw == 0x9000
    public.verify(_signature(answer), DIGEST, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def test_chaining_is_broken_by_another_command(tmp_path: Path) -> None:
    chip = piv_card(tmp_path, "rsa-2048").chip
    apdu(chip, SELECT_PIV.hex())
    apdu(chip, VERIFY)
    assert apdu(chip, "10 87 07 9C 03 7C 82 01") == (b"", 0x9000)
    apdu(chip, "00 CB 3F FF 03 5C 01 7E 00")
    # the rest alone is not a template
    assert apdu(chip, "00 87 07 9C 02 04 82 00") == (b"", 0x6A80)


# -- one PIN, one counter, two faces -------------------------------------------------------------


def test_wrong_pins_through_either_face_spend_one_counter(chip: VirtualChip) -> None:
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, WRONG) == (b"", 0x63C2)
    esign = open_card(chip)  # SELECT of the e-sign application
    assert esign.pin_tries() == 2
    with pytest.raises(PINError) as exc:
        esign.verify_pin("111111")
    assert exc.value.tries_left == 1
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, "00 20 00 80 00") == (b"", 0x63C1)
    assert apdu(chip, WRONG) == (b"", 0x6983)
    assert apdu(chip, VERIFY) == (b"", 0x6983)  # blocked: the right PIN no longer helps
    assert apdu(chip, GA_P256) == (b"", 0x6983)
    with pytest.raises(PINBlockedError):
        open_card(chip).verify_pin(PIN)
    assert chip.state.esign_pin_tries == 0


def test_unblock_and_change_through_either_face_are_seen_by_the_other(chip: VirtualChip) -> None:
    apdu(chip, SELECT_PIV.hex())
    for _ in range(3):
        apdu(chip, WRONG)
    assert chip.state.esign_pin_tries == 0
    esign = open_card(chip)
    esign.unblock_pin(PUK, "24681357")
    apdu(chip, SELECT_PIV.hex())
    new = b"24681357".hex()
    assert apdu(chip, f"00 20 00 80 08 {new}") == (b"", 0x9000)
    # CHANGE REFERENCE DATA of the PIN through the PIV face: old ‖ new
    assert apdu(chip, f"00 24 00 80 10 {new} {(b'135790' + bytes([255, 255])).hex()}") == (
        b"", 0x9000)  # fmt: skip
    open_card(chip).verify_pin("135790")
    # RESET RETRY COUNTER through the PIV face: PUK ‖ new PIN
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, f"00 2C 00 80 10 {PUK.encode().hex()} {new}") == (b"", 0x9000)
    open_card(chip).verify_pin("24681357")
    # CHANGE REFERENCE DATA of the PUK (PIV reference 81) through the PIV face
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, f"00 24 00 81 10 {PUK.encode().hex()} {b'11223344'.hex()}") == (
        b"", 0x9000)  # fmt: skip
    with pytest.raises(PINError):
        open_card(chip).unblock_pin(PUK)
    open_card(chip).unblock_pin("11223344")


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00 20 00 81 08 " + (PIN.encode() + b"\xff\xff").hex(), 0x6A88),  # global PIN: none
        ("00 20 01 80 08 " + (PIN.encode() + b"\xff\xff").hex(), 0x6A86),
        ("00 24 01 80 08 " + (PIN.encode() + b"\xff\xff").hex(), 0x6A86),  # no initial PIN here
        ("00 2C 00 81 10 " + PUK.encode().hex() * 2, 0x6A88),
        ("00 20 00 80 06 " + PIN.encode().hex(), 0x6A80),
    ],
)
def test_pin_command_refusals_spend_nothing(chip: VirtualChip, command: str, sw: int) -> None:
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, command) == (b"", sw)
    assert chip.state.esign_pin_tries == 3


@pytest.mark.parametrize(
    "end", ["reset", "power", "select-esign", "select-emrtd", "select-mf", "select-piv-again"]
)
def test_the_verified_status_ends_with_the_session(chip: VirtualChip, end: str) -> None:
    apdu(chip, SELECT_PIV.hex())
    apdu(chip, VERIFY)
    if end == "reset":
        chip.reset()
    elif end == "power":
        chip.power_off()
        chip.power_on()
    elif end == "select-esign":
        apdu(chip, f"00 A4 04 0C {len(ESIGN_AID):02X} {ESIGN_AID.hex()}")
    elif end == "select-emrtd":
        apdu(chip, f"00 A4 04 0C 07 {EMRTD_AID.hex()}")
    elif end == "select-mf":
        apdu(chip, "00 A4 00 0C 02 3F 00")
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, GA_P256) == (b"", 0x6982)


def test_a_pin_verified_on_the_e_sign_face_does_not_sign_on_the_piv_face(chip: VirtualChip) -> None:
    open_card(chip).verify_pin(PIN)
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, GA_P256) == (b"", 0x6982)


def test_a_wrong_piv_pin_is_on_disk_before_the_answer(chip: VirtualChip, tmp_path: Path) -> None:
    path = tmp_path / "chip.json"
    durable = DurableChip(chip, path)
    durable.process(SELECT_PIV)
    assert durable.process(bytes.fromhex(WRONG.replace(" ", ""))) == bytes.fromhex("63C2")
    assert ChipState.load(path).esign_pin_tries == 2


@given(st.binary(min_size=4, max_size=300))
def test_any_command_gets_a_status_word_never_a_chip_error(data: bytes) -> None:
    chip = _FUZZ_CHIP
    chip.reset()
    chip.process(SELECT_PIV)
    answer = chip.process(data)
    assert len(answer) >= 2 and answer[-2:] != b"\x6f\x00"


_FUZZ_CHIP = enrolled_chip()


def test_before_the_certificate_is_written_there_is_no_9c_object() -> None:
    """Enrolled key, no certificate yet (or one not completely written): 6A82, and the CHUID
    says no expiry of its own."""
    chip = enrolled_chip()
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 0A 00") == (b"", 0x6A82)
    chuid, _ = apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 02 00")
    items = {i.tag: i.value for i in tlv.decode_one(chuid, expected_tag=0x53).children()}
    assert items[0x35] == b"99991231"
    chip.state.files["esign"][FID_CERTIFICATE] = bytearray(b"\x30\x03\x02\x01\x00")
    chip.state.unwritten["esign"] = {FID_CERTIFICATE: [(2, 5)]}
    assert apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 0A 00") == (b"", 0x6A82)
    chip.state.unwritten["esign"] = {FID_CERTIFICATE: []}
    data, sw = apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 0A 00")
    assert (data, sw) == (bytes.fromhex("530C 7005 3003020100 710100 FE00"), 0x9000)
    chuid, _ = apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 02 00")  # not a certificate: no expiry
    items = {i.tag: i.value for i in tlv.decode_one(chuid, expected_tag=0x53).children()}
    assert items[0x35] == b"99991231"


def test_the_piv_face_has_no_files(chip: VirtualChip) -> None:
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, "00 A4 02 0C 02 C0 00") == (b"", 0x6A82)
    assert apdu(chip, "00 A4 00 0C 02 3F 00") == (b"", 0x9000)  # back to the MF
    assert apdu(chip, "00 CB 3F FF 03 5C 01 7E 00") == (b"", 0x6D00)  # not the PIV face now


def test_ccc_and_chuid_are_exact(chip: VirtualChip, cert: x509.Certificate) -> None:
    apdu(chip, SELECT_PIV.hex())
    public = chip.state.esign_key.public_key()  # type: ignore[union-attr]
    from idcard.esign.protocol import encode_public_key

    guid = hashlib.sha256(encode_public_key(public)).digest()[:16]
    ccc = (bytes.fromhex("F015 A000000116FF02") + guid[:14]
           + bytes.fromhex("F10121 F20121 F300 F40100 F50110 F600 F700 FA00 FB00 FC00 FD00 FE00"))
    assert apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 07 00") == (tlv.encode(0x53, ccc), 0x9000)
    expiry = cert.not_valid_after_utc.strftime("%Y%m%d").encode()
    chuid = (tlv.encode(0x30, PIV_I_FASC_N) + tlv.encode(0x34, guid) + tlv.encode(0x35, expiry)
             + bytes.fromhex("3E00 FE00"))  # fmt: skip
    assert apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 02 00") == (tlv.encode(0x53, chuid), 0x9000)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"agency": "99a9"}, "FASC-N fields are decimal digits"),
        ({"person": "٠٠٠٠٠٠٠٠٠٠"}, "FASC-N fields are decimal digits"),  # digits, not ASCII
        ({"credential": "12345"}, "FASC-N field lengths are 4, 4, 6, 1, 1, 10, 1, 4, 1"),
    ],
)
def test_fasc_n_refuses_what_it_cannot_code(fields: dict[str, str], message: str) -> None:
    from idcard.errors import EncodeError

    with pytest.raises(EncodeError, match=f"^{message}$"):
        fasc_n(**fields)


def test_fasc_n_codes_each_field() -> None:
    """Another value decodes back to its fields: 5-bit characters, LSB first, odd parity."""
    value = fasc_n(agency="1234", system="5678", credential="901234", person="1111122222")
    bits = "".join(f"{b:08b}" for b in value)
    chars = [bits[i : i + 5] for i in range(0, 200, 5)]
    assert all(c.count("1") % 2 == 1 for c in chars)
    digits = [int(c[3::-1], 2) for c in chars]
    assert digits[:6] == [0xB, 1, 2, 3, 4, 0xD] and digits[6:11] == [5, 6, 7, 8, 0xD]
    assert digits[11:17] == [9, 0, 1, 2, 3, 4] and digits[22:32] == [1] * 5 + [2] * 5
    assert digits[38] == 0xF
    lrc = 0
    for d in digits[:39]:
        lrc ^= d
    assert digits[39] == lrc


def test_exact_length_answers_and_short_get_response(chip: VirtualChip) -> None:
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, "00 CB 3F FF 03 5C 01 7E 14") == (DISCOVERY, 0x9000)  # Le = 20 = all
    assert apdu(chip, "00 CB 3F FF 03 5C 01 7E 10") == (DISCOVERY[:16], 0x6104)
    assert apdu(chip, "00 C0 00 00 02") == (DISCOVERY[16:18], 0x6102)
    assert apdu(chip, "00 C0 00 00 00") == (DISCOVERY[18:], 0x9000)


def test_the_certificate_needs_no_unwritten_record(chip: VirtualChip) -> None:
    chip.state.unwritten.pop("esign", None)
    apdu(chip, SELECT_PIV.hex())
    assert apdu(chip, "00 CB 3F FF 05 5C 03 5F C1 0A 00")[1] == 0x6100


@pytest.mark.parametrize(
    "template",
    [
        "7D 24 82 00 81 20 " + DIGEST.hex(),  # another tag
        "7C 24 82 00 81 20 " + DIGEST.hex() + " 00",  # trailing byte
    ],
)
def test_general_authenticate_takes_exactly_one_7c_template(chip: VirtualChip,
                                                            template: str) -> None:  # fmt: skip
    body = bytes.fromhex(template.replace(" ", ""))
    apdu(chip, SELECT_PIV.hex())
    apdu(chip, VERIFY)
    assert apdu(chip, f"00 87 11 9C {len(body):02X} {body.hex()} 00") == (b"", 0x6A80)


def test_a_one_byte_challenge_is_signed(chip: VirtualChip, cert: x509.Certificate) -> None:
    apdu(chip, SELECT_PIV.hex())
    apdu(chip, VERIFY)
    answer, sw = apdu(chip, "00 87 11 9C 07 7C 05 82 00 81 01 2A 00")
    assert sw == 0x9000
    _verify_der(cert, _signature(answer), b"\x2a".rjust(32, b"\x00"))
    assert apdu(chip, "00 87 11 9C 06 7C 04 82 00 81 00 00") == (b"", 0x6A80)


def test_rsa_blocks_outside_the_modulus_are_refused(tmp_path: Path) -> None:
    chip = piv_card(tmp_path, "rsa-2048").chip
    key = chip.state.esign_key
    assert isinstance(key, rsa.RSAPrivateKey)
    n = key.public_key().public_numbers().n
    apdu(chip, SELECT_PIV.hex())
    apdu(chip, VERIFY)
    for block in (n.to_bytes(256, "big"), b"\xff" * 256, b"\x00\x01" * 127):
        body = tlv.encode(0x7C, tlv.encode(0x82, b"") + tlv.encode(0x81, block))
        assert apdu(chip, f"10 87 07 9C FF {body[:255].hex()}") == (b"", 0x9000)
        rest = body[255:]
        assert apdu(chip, f"00 87 07 9C {len(rest):02X} {rest.hex()} 00") == (b"", 0x6A80)


def test_an_rsa_3072_key_offers_mechanism_05(chip: VirtualChip) -> None:
    chip.state.esign_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    data, sw = apdu(chip, SELECT_PIV.hex())
    assert sw == 0x9000 and data.endswith(bytes.fromhex("AC06 800105 060100"))


def test_enrollment_writes_the_certificate_both_faces_show(tmp_path: Path) -> None:
    """station.enrollment.enroll_card, the first-issue flow, unchanged: the PIV face serves
    what it wrote into the e-signature application."""
    from tests.idcard.esign.esign_kit import K_PERSO, personalized_chip
    from tests.pki.test_esign_kit import ALISHER, make_ca

    from idcard.chip.transport import ChipTransport
    from station.enrollment import enroll_card

    chip = personalized_chip()
    result = enroll_card(ChipTransport(chip), k_perso=K_PERSO, record=ALISHER,
                         ca=make_ca(tmp_path), pin=lambda: PIN, puk=PUK)  # fmt: skip
    assert open_card(chip).read_file(FID_CERTIFICATE) == result.issued.der
    apdu(chip, SELECT_PIV.hex())
    data, sw = apdu(chip, "00 CB 3F FF 00 00 05 5C 03 5F C1 0A 00 00")
    assert sw == 0x9000
    cert_object = tlv.encode(0x70, result.issued.der) + bytes.fromhex("710100FE00")
    assert data == tlv.encode(0x53, cert_object)
    assert apdu(chip, VERIFY) == (b"", 0x9000)  # the PIN the holder chose at enrollment


_ESIGN_SELECT = f"00 A4 04 0C {len(ESIGN_AID):02X} {ESIGN_AID.hex()}"
_FACES = {"piv": (SELECT_PIV.hex(), 0x80), "esign": (_ESIGN_SELECT, 0x81)}


@given(st.lists(st.tuples(st.sampled_from(sorted(_FACES)), st.booleans()), max_size=12))
def test_one_counter_whatever_face_the_pins_come_through(tries: list[tuple[str, bool]]) -> None:
    """Any sequence of right and wrong PINs through either face: the counter is the one model
    counter, a right PIN refills it unless it reached 0, and both faces report the same status."""
    chip = _COUNTER_CHIP
    chip.state.esign_pin_tries = 3
    left = 3
    for face, right in tries:
        select, ref = _FACES[face]
        apdu(chip, select)
        block = (PIN.encode() if right else b"000000") + b"\xff\xff"
        _, sw = apdu(chip, f"00 20 00 {ref:02X} 08 {block.hex()}")
        if left == 0:
            assert sw == 0x6983
        elif right:
            left = 3
            assert sw == 0x9000
        else:
            left -= 1
            assert sw == (0x63C0 | left if left else 0x6983)
        assert chip.state.esign_pin_tries == left
    for select, ref in _FACES.values():
        apdu(chip, select)
        assert apdu(chip, f"00 20 00 {ref:02X}")[1] == (0x63C0 | left if left else 0x6983)


_COUNTER_CHIP = enrolled_chip()


def test_a_pin_verified_under_secure_messaging_ends_with_it(chip: VirtualChip) -> None:
    """Issue 9 item 1 on this face: VERIFY under BAC secure messaging, then a plain command ends
    the channel and the verification with it."""
    from tests.idcard.esign.esign_kit import MRZ

    from idcard.apdu import CommandAPDU
    from idcard.chip.transport import ChipTransport
    from idcard.protocols.bac import BACProtocol, key_seed
    from idcard.protocols.base import drive
    from idcard.sm import SecureTransport

    plain = ChipTransport(chip)
    plain.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).check()
    seed = key_seed(MRZ.document_number, MRZ.birth_date, MRZ.expiry_date)
    secure = SecureTransport(plain, drive(BACProtocol(seed), plain).channel)
    secure.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x00, PIV_AID[:9], ne=256)).check()
    block = PIN.encode() + b"\xff\xff"
    assert secure.transmit(CommandAPDU(0x00, 0x20, 0x00, 0x80, block)).sw == 0x9000
    ga = CommandAPDU(0x00, 0x87, 0x11, 0x9C, bytes.fromhex(GA_P256.replace(" ", ""))[5:-1], ne=256)
    assert secure.transmit(ga).sw == 0x9000  # in its channel the PIN signs
    assert chip.authenticated
    assert apdu(chip, GA_P256) == (b"", 0x6982)  # plain: SM ends, and the PIN status with it
    assert not chip.authenticated
