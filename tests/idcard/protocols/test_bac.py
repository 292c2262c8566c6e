"""BAC (ICAO 9303-11 §4.3): Appendix D.2/D.3 every value, terminal ↔ chip, wrong MRZ."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.crypto import kdf
from idcard.errors import AuthenticationError, EncodeError
from idcard.protocols.bac import (
    BACChip,
    BACProtocol,
    BACResult,
    cryptogram,
    derive_keys,
    key_seed,
    mrz_information,
    open_cryptogram,
    session_channel,
)
from idcard.protocols.base import drive
from idcard.sm import (
    SecureChipSession,
    SecureTransport,
    SessionKeys,
    cmac8,
    decrypt_cbc,
    encrypt_cbc,
    pad,
    retail_mac,
)

BAC: dict[str, Any] = json.loads((VECTORS / "protocols" / "bac.json").read_text())
H = bytes.fromhex


def _rng(*values: str) -> Callable[[int], bytes]:
    queue = [H(v) for v in values]

    def rng(n: int) -> bytes:
        value = queue.pop(0)
        assert len(value) == n
        return value

    return rng


def test_key_seed_and_keys_d2() -> None:
    doc, dob, doe = BAC["document_number"], BAC["date_of_birth"], BAC["date_of_expiry"]
    assert mrz_information(doc, dob, doe) == BAC["mrz_info"]
    assert mrz_information("L898902C", dob, doe) == BAC["mrz_info"]  # '<' filled in
    assert key_seed(doc, dob, doe) == H(BAC["kseed"])
    assert H(BAC["sha1_mrz_info"])[:16] == H(BAC["kseed"])
    keys = derive_keys(H(BAC["kseed"]))
    assert keys.k_enc == H(BAC["kenc"])
    assert keys.k_mac == H(BAC["kmac"])
    assert "AB94" not in repr(keys)


def test_long_document_number_d2() -> None:
    ex = BAC["extended_document_number_example"]
    assert mrz_information(ex["document_number"], "340712", "950712") == ex["mrz_info"]
    assert key_seed(ex["document_number"], "340712", "950712") == H(ex["kseed"])


def test_bad_dates_rejected() -> None:
    with pytest.raises(EncodeError):
        key_seed("L898902C", "69086", "940623")
    with pytest.raises(EncodeError):
        key_seed("", "690806", "940623")


def test_terminal_replays_d3_byte_for_byte() -> None:
    apdus = BAC["apdus"]
    proto = BACProtocol(H(BAC["kseed"]), rng=_rng(BAC["rnd_ifd"], BAC["k_ifd"]))
    assert proto.start().encode() == H(apdus["get_challenge_cmd"])
    ext = proto.receive(ResponseAPDU.decode(H(apdus["get_challenge_rsp"])))
    assert isinstance(ext, CommandAPDU)
    assert ext.encode() == H(apdus["external_authenticate_cmd"])
    # intermediates: S, E_IFD, M_IFD
    s = H(BAC["rnd_ifd"]) + H(BAC["rnd_icc"]) + H(BAC["k_ifd"])
    assert s == H(BAC["s"])
    assert encrypt_cbc("3DES", H(BAC["kenc"]), s) == H(BAC["e_ifd"])
    assert retail_mac(H(BAC["kmac"]), pad(H(BAC["e_ifd"]), 8)) == H(BAC["m_ifd"])
    assert ext.data == H(BAC["cmd_data"])
    result = proto.receive(ResponseAPDU.decode(H(apdus["external_authenticate_rsp"])))
    assert isinstance(result, BACResult)
    # intermediates of the chip's answer: R, K_IC, K_seed, KS_enc/KS_mac, SSC
    assert H(BAC["resp_data"]) == H(BAC["e_icc"]) + H(BAC["m_icc"])
    r = decrypt_cbc("3DES", H(BAC["kenc"]), H(BAC["e_icc"]))
    assert r == H(BAC["r"]) and r[16:] == H(BAC["k_icc"])
    seed = bytes(a ^ b for a, b in zip(H(BAC["k_ifd"]), H(BAC["k_icc"]), strict=True))
    assert seed == H(BAC["kseed_session"])
    assert kdf(seed, 1, "3DES") == H(BAC["ks_enc"])
    assert result.keys.ks_enc == H(BAC["ks_enc"])
    assert result.keys.ks_mac == H(BAC["ks_mac"])
    assert result.channel.ssc_bytes == H(BAC["ssc"])


def test_building_blocks_d3_and_aes() -> None:
    """The public pieces reproduce Appendix D.3 with 3DES and take the AES shape (CMAC over E,
    16-byte nonces) that the e-signature personalization uses."""
    d3 = SessionKeys("3DES", H(BAC["kenc"]), H(BAC["kmac"]))
    assert cryptogram(d3, H(BAC["s"])) == H(BAC["cmd_data"])
    assert open_cryptogram(d3, H(BAC["resp_data"]), 32) == H(BAC["r"])
    channel = session_channel(
        "3DES", H(BAC["k_ifd"]), H(BAC["k_icc"]), H(BAC["rnd_icc"]), H(BAC["rnd_ifd"])
    )
    assert channel.keys.ks_enc == H(BAC["ks_enc"]) and channel.ssc_bytes == H(BAC["ssc"])

    keys = SessionKeys("AES-256", bytes(range(32)), bytes(range(32, 64)))
    plain = bytes(range(64))
    sealed = cryptogram(keys, plain)
    e = encrypt_cbc("AES-256", keys.ks_enc, plain)
    assert sealed == e + cmac8(keys.ks_mac, e)
    assert open_cryptogram(keys, sealed, 64) == plain
    assert open_cryptogram(keys, sealed[:-1] + bytes([sealed[-1] ^ 1]), 64) is None
    assert open_cryptogram(keys, sealed, 48) is None
    rnd_ic, rnd_ifd = bytes(range(16)), bytes(range(16, 32))
    aes = session_channel("AES-256", bytes(32), bytes([1]) * 32, rnd_ic, rnd_ifd)
    assert aes.ssc_bytes == rnd_ic[8:] + rnd_ifd[8:]
    assert aes.keys == SessionKeys.derive("AES-256", bytes([1]) * 32)
    assert aes.keys.ks_enc == kdf(bytes([1]) * 32, 1, "AES-256")


def test_chip_replays_d3_byte_for_byte() -> None:
    apdus = BAC["apdus"]
    chip = BACChip(H(BAC["kseed"]), rng=_rng(BAC["rnd_icc"], BAC["k_icc"]))
    assert chip.handle(CommandAPDU.decode(H(apdus["get_challenge_cmd"]))).encode() == H(
        apdus["get_challenge_rsp"]
    )
    assert not chip.done
    answer = chip.handle(CommandAPDU.decode(H(apdus["external_authenticate_cmd"])))
    assert answer.encode() == H(apdus["external_authenticate_rsp"])
    assert chip.result is not None
    assert chip.result.channel.ssc_bytes == H(BAC["ssc"])
    assert chip.result.keys.ks_mac == H(BAC["ks_mac"])


class _Wire:
    def __init__(self, handler: Callable[[CommandAPDU], ResponseAPDU]) -> None:
        self.handler = handler

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return ResponseAPDU.decode(self.handler(CommandAPDU.decode(command.encode())).encode())


mrz_fields = st.tuples(
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=12),
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.from_regex(r"\A[0-9]{6}\Z"),
)


@given(mrz_fields, st.binary(min_size=8, max_size=8))
def test_terminal_and_chip_agree(fields: tuple[str, str, str], payload: bytes) -> None:
    seed = key_seed(*fields)
    chip = BACChip(seed)
    result = drive(BACProtocol(seed), _Wire(chip.handle))
    assert chip.result is not None
    assert result.keys == chip.result.keys
    assert result.channel.ssc == chip.result.channel.ssc
    session = SecureChipSession(chip.result.channel, lambda c: ResponseAPDU(payload))
    transport = SecureTransport(_Wire(session.handle), result.channel)
    assert transport.transmit(CommandAPDU(0, 0xB0, 0, 0, ne=8)).data == payload


@given(mrz_fields, st.integers(0, 2))
def test_wrong_mrz_fails_at_external_authenticate(fields: tuple[str, str, str], which: int) -> None:
    wrong = list(fields)
    wrong[which] = "999999" if which and fields[which] != "999999" else (
        "X" + fields[0] if which == 0 else "000000"
    )  # fmt: skip
    chip = BACChip(key_seed(*fields))
    with pytest.raises(AuthenticationError) as info:
        drive(BACProtocol(key_seed(*wrong)), _Wire(chip.handle))
    assert info.value.protocol == "BAC"
    assert info.value.step == "EXTERNAL AUTHENTICATE"
    assert not chip.done


def test_tampered_chip_answer_fails() -> None:
    apdus = BAC["apdus"]
    proto = BACProtocol(H(BAC["kseed"]), rng=_rng(BAC["rnd_ifd"], BAC["k_ifd"]))
    proto.start()
    proto.receive(ResponseAPDU.decode(H(apdus["get_challenge_rsp"])))
    bad = bytearray(H(apdus["external_authenticate_rsp"]))
    bad[3] ^= 1
    with pytest.raises(AuthenticationError, match="MAC"):
        proto.receive(ResponseAPDU.decode(bytes(bad)))


def test_chip_refuses_authenticate_without_challenge() -> None:
    chip = BACChip(H(BAC["kseed"]))
    answer = chip.handle(CommandAPDU.decode(H(BAC["apdus"]["external_authenticate_cmd"])))
    assert answer.sw == 0x6985 and not chip.done
