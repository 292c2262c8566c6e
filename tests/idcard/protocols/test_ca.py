"""Chip Authentication v1 (9303-11 §6.2): BSI worked examples (ECDH, DH), terminal ↔ chip for
every key kind × cipher under secure messaging, key switch with SSC reset."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.crypto import CIPHERS, Cipher, kdf
from idcard.errors import AuthenticationError, DecodeError, SecureMessagingError
from idcard.protocols.base import drive
from idcard.protocols.ca import (
    CA_OIDS,
    CAChip,
    CAProtocol,
    CAResult,
    DHGroup,
    DHPrivateKey,
    DHPublicKey,
    encode_public_key,
    load_public_key,
    shared_secret,
)
from idcard.sm import SecureChannel, SecureChipSession, SecureTransport

CA: dict[str, Any] = json.loads((VECTORS / "protocols" / "ca.json").read_text())
H = bytes.fromhex
RFC5114_1024 = CA["rfc5114_1024_160"]
DH_GROUP = DHGroup(
    int(RFC5114_1024["p"], 16), int(RFC5114_1024["g"], 16), int(RFC5114_1024["q"], 16)
)


def _ec_key(hex_value: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(hex_value, 16), ec.BrainpoolP256R1())


def _dh_key(hex_value: str) -> DHPrivateKey:
    return DHPrivateKey(DH_GROUP, int(hex_value, 16))


def test_bsi_ecdh_worked_example() -> None:
    v = CA["bsi_eac_worked_example_ecdh"]
    chip, term = _ec_key(v["chip_static_private_key"]), _ec_key(v["terminal_ephemeral_private_key"])
    assert encode_public_key(chip.public_key()) == H(v["chip_static_public_key"])
    assert encode_public_key(term.public_key()) == H(v["terminal_ephemeral_public_key"])
    k = H(v["shared_secret_K"])
    assert shared_secret(term, chip.public_key()) == k
    assert shared_secret(chip, term.public_key()) == k
    # the example is CA v2: the keys use K ‖ r; CA v1 (ours) uses K alone
    assert kdf(k + H(v["ca_nonce_r"]), 1, "AES-128") == H(v["ks_enc"])
    assert kdf(k + H(v["ca_nonce_r"]), 2, "AES-128") == H(v["ks_mac"])
    proto = CAProtocol(chip.public_key(), ephemeral_key=term, key_id=None)
    assert proto.oid == "0.4.0.127.0.7.2.2.3.2.2"
    first = proto.start()
    assert first.encode() == H("0022 41A4 0C 800A04007F00070202030202".replace(" ", ""))
    ga = proto.receive(ResponseAPDU(b""))
    assert isinstance(ga, CommandAPDU)
    assert ga.data == H("7C43 8041") + H(v["terminal_ephemeral_public_key"])
    result = proto.receive(ResponseAPDU(b"\x7c\x00"))
    assert isinstance(result, CAResult)
    assert result.channel.keys.ks_enc == kdf(k, 1, "AES-128")
    assert result.channel.keys.ks_mac == kdf(k, 2, "AES-128")
    assert result.channel.ssc == 0
    assert result.compressed_ephemeral_public_key == H(v["terminal_ephemeral_public_key"])[1:33]


def test_bsi_dh_worked_example() -> None:
    v = CA["bsi_eac_worked_example_dh"]
    chip, term = _dh_key(v["chip_static_private_key"]), _dh_key(v["terminal_ephemeral_private_key"])
    assert encode_public_key(chip.public_key()) == H(v["chip_static_public_key"])
    assert encode_public_key(term.public_key()) == H(v["terminal_ephemeral_public_key"])
    k = H(v["shared_secret_K"])
    assert shared_secret(term, chip.public_key()) == k
    assert shared_secret(chip, term.public_key()) == k
    assert kdf(k + H(v["ca_nonce_r"]), 1, "AES-128") == H(v["ks_enc"])
    assert kdf(k + H(v["ca_nonce_r"]), 2, "AES-128") == H(v["ks_mac"])
    # 3DES variant (MSE:Set KAT) with key id, and the chip's answer over the same keys
    proto = CAProtocol(chip.public_key(), ephemeral_key=term, cipher="3DES", key_id=1)
    kat = proto.start()
    assert kat.encode()[:4] == H("002241A6")
    assert kat.data == H("918180") + H(v["terminal_ephemeral_public_key"]) + H("840101")
    chip_side = CAChip(chip, cipher="3DES", key_id=1)
    assert chip_side.handle(kat) == ResponseAPDU(b"")
    result = proto.receive(ResponseAPDU(b""))
    assert isinstance(result, CAResult)
    assert chip_side.result is not None
    assert result.channel.keys == chip_side.result.channel.keys
    assert result.channel.keys.ks_enc == kdf(k, 1, "3DES")
    assert (
        result.compressed_ephemeral_public_key
        == hashlib.sha1(H(v["terminal_ephemeral_public_key"])).digest()  # noqa: S324
    )


P256 = {  # FIPS 186-4 D.1.2.3 (curve P-256); G is checked against cryptography below
    "p": "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF",
    "a": "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC",
    "b": "5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B",
    "n": "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
    "gx": "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296",
    "gy": "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5",
}


def _explicit_spki(point: bytes) -> bytes:
    params = asn1_keys.SpecifiedECDomain(
        {
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": int(P256["p"], 16)},
            "curve": {"a": H(P256["a"]), "b": H(P256["b"])},
            "base": b"\x04" + H(P256["gx"]) + H(P256["gy"]),
            "order": int(P256["n"], 16),
            "cofactor": 1,
        }
    )
    return asn1_keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": asn1_keys.ECDomainParameters("specified", params),
            },
            "public_key": point,
        }
    ).dump()


def test_load_public_key_named_and_explicit() -> None:
    key = ec.derive_private_key(0x01F00D, ec.SECP256R1()).public_key()
    g = ec.derive_private_key(1, ec.SECP256R1()).public_key().public_numbers()
    assert (g.x, g.y) == (int(P256["gx"], 16), int(P256["gy"], 16))
    named = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert load_public_key(named) == key
    assert load_public_key(_explicit_spki(encode_public_key(key))) == key
    with pytest.raises(DecodeError):
        load_public_key(b"\x30\x03\x02\x01\x00")
    # X9.42 DH SubjectPublicKeyInfo (dhpublicnumber with p, g, q)
    dh_key = _dh_key("0123456789ABCDEF").public_key()
    dh_spki = asn1_keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "dh",
                "parameters": {"p": DH_GROUP.p, "g": DH_GROUP.g, "q": DH_GROUP.q},
            },
            "public_key": dh_key.y,
        }
    ).dump()
    assert load_public_key(dh_spki) == dh_key
    with pytest.raises(DecodeError):
        DHPublicKey(DH_GROUP, 1)
    with pytest.raises(DecodeError):
        DHPublicKey(DH_GROUP, 2)  # 2 is not in the order-q subgroup


def test_bsi_dg14_brainpool_p224_is_refused_cleanly() -> None:
    """The BSI TR-03105 reference DG14 uses brainpoolP224r1 (explicit parameters), which
    ``cryptography`` does not offer: a DecodeError, not a crash."""
    dg14 = (VECTORS / "protocols" / "dg14_bsi_tr03105.bin").read_bytes()
    spki = dg14[
        0x17 : 0x17 + 4 + 0x113
    ]  # ChipAuthenticationPublicKeyInfo.chipAuthenticationPublicKey
    assert asn1_keys.PublicKeyInfo.load(spki)["algorithm"]["algorithm"].native == "ec"
    with pytest.raises(DecodeError, match="unsupported curve"):
        load_public_key(spki)


def _pair(kind: str) -> ec.EllipticCurvePrivateKey | DHPrivateKey:
    if kind == "ECDH":
        return ec.generate_private_key(ec.SECP256R1())
    return _dh_key("0123456789ABCDEF0123456789ABCDEF01234567")


@settings(max_examples=16)
@given(
    st.sampled_from(["ECDH", "DH"]), st.sampled_from(CIPHERS), st.sampled_from(["3DES", "AES-128"])
)
def test_terminal_and_chip_under_sm(kind: str, cipher: Cipher, old: Cipher) -> None:
    """CA runs inside an existing channel; the answer to the last command uses the old keys,
    then both sides continue with the new keys and SSC 0."""
    n = 16
    t_old = SecureChannel.from_keys(old, b"\x01" * n, b"\x02" * n, 5)
    c_old = SecureChannel.from_keys(old, b"\x01" * n, b"\x02" * n, 5)
    key = _pair(kind)
    chip = CAChip(key, cipher=cipher, key_id=7)
    session = SecureChipSession(c_old, lambda c: ResponseAPDU(b"hello"))

    def handler(command: CommandAPDU) -> ResponseAPDU:
        if command.ins in (0x22, 0x86):
            answer = chip.handle(command)
            if chip.result is not None:
                session.next_channel = chip.result.channel
            return answer
        return ResponseAPDU(b"file")

    session.handler = handler

    class Wire:
        def transmit(self, command: CommandAPDU) -> ResponseAPDU:
            return session.handle(command.encode())

    transport = SecureTransport(Wire(), t_old)
    result = drive(CAProtocol(key.public_key(), cipher=cipher, key_id=7), transport)
    assert result.channel.ssc == 0
    transport.channel = result.channel
    assert transport.transmit(CommandAPDU(0, 0xB0, 0, 0, ne=4)).data == b"file"
    assert result.channel.ssc == 2
    assert CA_OIDS[result.oid] == (kind, cipher)
    # the old channel no longer works at the chip
    with pytest.raises(SecureMessagingError):
        SecureTransport(Wire(), t_old).transmit(CommandAPDU(0, 0xB0, 0, 0, ne=4))


def test_chip_refuses_wrong_key_id_and_bad_point() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    chip = CAChip(key, cipher="AES-128", key_id=1)
    proto = CAProtocol(key.public_key(), cipher="AES-128", key_id=2)
    answer = chip.handle(proto.start())
    assert answer.sw == 0x6984
    with pytest.raises(AuthenticationError) as info:
        proto.receive(answer)
    assert info.value.step == "MSE:Set AT"
    chip2 = CAChip(key, cipher="AES-128")
    chip2.handle(CAProtocol(key.public_key()).start())
    bad = CommandAPDU(0, 0x86, 0, 0, H("7C458043") + b"\x04" + b"\x01" * 64, ne=256)
    assert chip2.handle(bad).sw == 0x6A80
    assert not chip2.done
