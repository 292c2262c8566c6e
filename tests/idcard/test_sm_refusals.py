"""Secure messaging refuses every malformed protected APDU (ICAO 9303-11 §9.8): each check after
a valid MAC is reached with objects built from the published primitives (tests/idcard/sm_forge.py),
and each refusal is :class:`SecureMessagingError` with its message, closes the channel and, on the
chip side, names the status word to answer (6987 objects missing, 6988 incorrect)."""

from __future__ import annotations

import warnings

import pytest
from cryptography.utils import CryptographyDeprecationWarning
from tests.idcard.sm_forge import Forge, exact

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import EncodeError, SecureMessagingError
from idcard.sm import (
    SecureChannel,
    SecureChipSession,
    SessionKeys,
    UnprotectedResponseError,
    block_size,
    decrypt_cbc,
    encrypt_cbc,
    pad,
    retail_mac,
    token_mac,
)

H = bytes.fromhex
KEYS = {
    "3DES": (H("979EC13B1CBFE9DCD01AB0FED307EAE5"), H("F1CB1F1FB5ADF208806B89DC579DC1F8")),
    "AES-128": (H("F5F0E35C0D7161EE6724EE513A0D9A7F"), H("FE251C7858B356B24514B3BD5F4297D1")),
    "AES-256": (bytes(range(32)), bytes(range(32, 64))),
}
SSC = 0x887022120C06C226
CIPHERS = list(KEYS)
CLOSED = exact("secure messaging channel is closed")
BLOCKS = exact("encrypted data is not a whole number of blocks")
INDICATOR = exact("DO'87' without padding-content indicator 01")
UNEXPECTED = exact("unexpected data objects in protected command")
NO_8E = exact("protected command without DO'8E'")


def forge(cipher: str) -> Forge:
    return Forge(cipher, *KEYS[cipher])


def channel(cipher: str) -> SecureChannel:
    return SecureChannel.from_keys(cipher, *KEYS[cipher], SSC)  # type: ignore[arg-type]


def do87(f: Forge, ssc: int, plain: bytes) -> bytes:
    return tlv.encode(0x87, b"\x01" + f.cryptogram(ssc, pad(plain, f.block)))


def refuse_command(
    chip: SecureChannel, command: CommandAPDU | bytes, message: str, sw: int
) -> None:
    with pytest.raises(SecureMessagingError, match=message) as info:
        chip.unwrap_command(command)
    assert type(info.value) is SecureMessagingError
    assert chip.closed and chip.failure_sw == sw
    with pytest.raises(SecureMessagingError, match=CLOSED):
        chip.wrap_response(ResponseAPDU(b"", 0x9000))


# -- chip side: unwrap_command -------------------------------------------------------------------


@pytest.mark.parametrize("cipher", CIPHERS)
def test_forged_commands_open_as_the_spec_says(cipher: str) -> None:
    """The reference construction is accepted: DO'87' for even INS, DO'85' for odd INS, DO'97'
    of one or two bytes (00 and 0000 mean 256 and 65536)."""
    f = forge(cipher)
    s = SSC + 1
    cases = [
        (b"\x0c\xd6\x00\x00", do87(f, s, b"data"), CommandAPDU(0, 0xD6, 0, 0, b"data")),
        (b"\x0c\xb1\x00\x00", tlv.encode(0x85, f.cryptogram(s, pad(b"\x54\x01\x00", f.block)))
         + tlv.encode(0x97, b"\x10"), CommandAPDU(0, 0xB1, 0, 0, b"\x54\x01\x00", ne=16)),
        (b"\x0c\xb0\x00\x00", tlv.encode(0x97, b"\x00"), CommandAPDU(0, 0xB0, 0, 0, ne=256)),
        (b"\x0c\xb0\x00\x00", tlv.encode(0x97, b"\x00\x00"), CommandAPDU(0, 0xB0, 0, 0, ne=65536)),
        (b"\x0c\xb0\x00\x00", tlv.encode(0x97, b"\x01\x01"), CommandAPDU(0, 0xB0, 0, 0, ne=257)),
        (b"\x0c\xb0\x00\x00", tlv.encode(0x97, b"\xff"), CommandAPDU(0, 0xB0, 0, 0, ne=255)),
        (b"\x0c\x84\x00\x00", b"", CommandAPDU(0, 0x84, 0, 0)),
        (b"\x1d\x2a\x9e\x9a", do87(f, s, b"x" * 40),
         CommandAPDU(0x11, 0x2A, 0x9E, 0x9A, b"x" * 40)),
    ]  # fmt: skip
    for header, objects, plain in cases:
        chip = channel(cipher)
        assert chip.unwrap_command(f.command(s, header, objects)) == plain
        assert chip.ssc == s and not chip.closed and chip.failure_sw is None


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"", INDICATOR),
        (b"\x02", INDICATOR),
        (b"\x01", BLOCKS),  # empty cryptogram
        (b"\x01" + bytes(7), BLOCKS),
        (b"\x01" + bytes(9), BLOCKS),
        (b"\x01" + bytes(17), BLOCKS),
    ],
)
def test_bad_do87_under_a_valid_mac(cipher: str, value: bytes, message: str) -> None:
    f = forge(cipher)
    command = f.command(SSC + 1, b"\x0c\xd6\x00\x00", tlv.encode(0x87, value))
    refuse_command(channel(cipher), command, message, 0x6988)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_do87_indicator_other_than_01_is_refused_even_with_good_cryptogram(cipher: str) -> None:
    f = forge(cipher)
    good = do87(f, SSC + 1, b"data")
    bad = good[:2] + b"\x02" + good[3:]
    refuse_command(channel(cipher), f.command(SSC + 1, b"\x0c\xd6\x00\x00", bad), INDICATOR, 0x6988)


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize("crypt", [b"", bytes(5), bytes(17)])
def test_bad_do85_under_a_valid_mac(cipher: str, crypt: bytes) -> None:
    f = forge(cipher)
    command = f.command(SSC + 1, b"\x0c\xb1\x00\x00", tlv.encode(0x85, crypt))
    refuse_command(channel(cipher), command, BLOCKS, 0x6988)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_do85_is_for_odd_ins_and_do87_for_even(cipher: str) -> None:
    f = forge(cipher)
    s = SSC + 1
    message = exact("DO'85' is for odd INS, DO'87' for even INS")
    do85 = tlv.encode(0x85, f.cryptogram(s, pad(b"\x54\x01\x00", f.block)))
    refuse_command(channel(cipher), f.command(s, b"\x0c\xb0\x00\x00", do85), message, 0x6988)
    refuse_command(channel(cipher), f.command(s, b"\x0c\xb1\x00\x00", do87(f, s, b"\x54\x01\x00")),
                   message, 0x6988)  # fmt: skip


@pytest.mark.parametrize("cipher", CIPHERS)
def test_bad_padding_under_a_valid_mac(cipher: str) -> None:
    f = forge(cipher)
    s = SSC + 1
    for plain in (b"data" + bytes(f.block - 4), b"data\x80\x01" + bytes(f.block - 6)):
        objects = tlv.encode(0x87, b"\x01" + f.cryptogram(s, plain))
        refuse_command(channel(cipher), f.command(s, b"\x0c\xd6\x00\x00", objects),
                       exact("invalid padding in decrypted data"), 0x6988)  # fmt: skip


@pytest.mark.parametrize("cipher", CIPHERS)
def test_data_objects_out_of_order_or_unknown(cipher: str) -> None:
    f = forge(cipher)
    s = SSC + 1
    d87 = do87(f, s, b"data")
    d97 = tlv.encode(0x97, b"\x00")
    for objects in (
        d97 + d87,
        d87 + d87,
        d97 + d97,
        d87 + d97 + tlv.encode(0x99, b"\x90\x00"),
        tlv.encode(0x81, b"data"),
        tlv.encode(0x85, b"") + d87,
        tlv.encode(0x5F01, b"\xaa"),  # a two-byte tag: 5F 01 is the tag, not 5F with length 1
    ):
        refuse_command(channel(cipher), f.command(s, b"\x0c\xd6\x00\x00", objects), UNEXPECTED,
                       0x6988)  # fmt: skip


@pytest.mark.parametrize("cipher", CIPHERS)
def test_do97_longer_than_two_bytes(cipher: str) -> None:
    f = forge(cipher)
    command = f.command(SSC + 1, b"\x0c\xb0\x00\x00", tlv.encode(0x97, b"\x00\x01\x00"))
    refuse_command(channel(cipher), command, exact("DO'97' longer than 2 bytes"), 0x6988)


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize("mac_len", [0, 4, 7])
def test_short_do8e(cipher: str, mac_len: int) -> None:
    command = forge(cipher).command(SSC + 1, b"\x0c\xb0\x00\x00", b"", mac_len=mac_len)
    refuse_command(channel(cipher), command, exact("malformed DO'8E'"), 0x6988)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_long_do8e(cipher: str) -> None:
    f = forge(cipher)
    mac = f.mac(SSC + 1, pad(b"\x0c\xb0\x00\x00", f.block))
    command = CommandAPDU(0x0C, 0xB0, 0, 0, tlv.encode(0x8E, mac + b"\x00"), ne=256)
    refuse_command(channel(cipher), command, exact("malformed DO'8E'"), 0x6988)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_missing_do8e_is_6987(cipher: str) -> None:
    f = forge(cipher)
    s = SSC + 1
    valid = f.command(s, b"\x0c\xb0\x00\x00", tlv.encode(0x97, b"\x00"))
    for data in (b"", tlv.encode(0x97, b"\x00"), valid.data + tlv.encode(0x97, b"\x00")):
        refuse_command(channel(cipher), CommandAPDU(0x0C, 0xB0, 0, 0, data, ne=256), NO_8E, 0x6987)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_wrong_mac_in_command(cipher: str) -> None:
    f = forge(cipher)
    objects = tlv.encode(0x97, b"\x00")
    for ssc, header in ((SSC, b"\x0c\xb0\x00\x00"), (SSC + 2, b"\x0c\xb0\x00\x00"),
                        (SSC + 1, b"\x0c\xb0\x00\x01")):  # fmt: skip
        command = f.command(ssc, header, objects)
        command = CommandAPDU(0x0C, 0xB0, 0, 0, command.data, ne=256)
        refuse_command(channel(cipher), command, exact("command MAC does not verify"), 0x6988)


@pytest.mark.parametrize("cla", [0x00, 0x04, 0x08, 0x80, 0x10])
def test_command_without_sm_class_is_6987(cla: int) -> None:
    f = forge("AES-128")
    command = f.command(SSC + 1, bytes([cla, 0xB0, 0, 0]), tlv.encode(0x97, b"\x00"))
    refuse_command(channel("AES-128"), command, exact("command without secure messaging"), 0x6987)


def test_undecodable_command_bytes() -> None:
    for raw in (b"", b"\x0c\xb0\x00", b"\x0c\xb0\x00\x00\x05\x01", b"\x0c\xb0\x00\x00\x00\x00"):
        refuse_command(channel("3DES"), raw, exact("protected command does not decode"), 0x6988)


def test_objects_that_are_not_tlv() -> None:
    for data in (b"\x87\x05\x01", b"\x8e", b"\x97\x81"):
        message = exact("protected command is not a sequence of data objects")
        command = CommandAPDU(0x0C, 0xB0, 0, 0, data, ne=256)
        refuse_command(channel("3DES"), command, message, 0x6988)


# -- terminal side: unwrap -------------------------------------------------------------------------


def terminal(cipher: str) -> SecureChannel:
    t = channel(cipher)
    t.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=16))
    return t


def refuse_response(t: SecureChannel, response: ResponseAPDU | bytes, message: str) -> None:
    with pytest.raises(SecureMessagingError, match=message) as info:
        t.unwrap(response)
    assert type(info.value) is SecureMessagingError
    assert t.closed
    with pytest.raises(SecureMessagingError, match=CLOSED):
        t.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=1))


@pytest.mark.parametrize("cipher", CIPHERS)
def test_forged_responses_open(cipher: str) -> None:
    f = forge(cipher)
    s = SSC + 2
    d99 = tlv.encode(0x99, b"\x62\x82")
    for objects, data in (
        (d99, b""),
        (do87(f, s, b"file") + d99, b"file"),
        (tlv.encode(0x85, f.cryptogram(s, pad(b"\x53\x01\x00", f.block))) + d99, b"\x53\x01\x00"),
    ):
        t = terminal(cipher)
        assert t.unwrap(f.response(s, objects, 0x6282)) == ResponseAPDU(data, 0x6282)
        assert t.ssc == s and not t.closed


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize(
    ("value", "message"),
    [(b"", INDICATOR), (b"\x00", INDICATOR), (b"\x01", BLOCKS), (b"\x01" + bytes(12), BLOCKS)],
)
def test_bad_do87_in_response(cipher: str, value: bytes, message: str) -> None:
    objects = tlv.encode(0x87, value) + tlv.encode(0x99, b"\x90\x00")
    refuse_response(terminal(cipher), forge(cipher).response(SSC + 2, objects), message)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_response_structure(cipher: str) -> None:
    f = forge(cipher)
    s = SSC + 2
    d99 = tlv.encode(0x99, b"\x90\x00")
    order = exact("protected response needs DO'99' then DO'8E'")
    for objects in (b"", do87(f, s, b"x"), d99 + d99, tlv.encode(0x97, b"\x00") + d99,
                    do87(f, s, b"x") + do87(f, s, b"x") + d99,
                    tlv.encode(0x5F01, b"\xaa") + d99):  # fmt: skip (a two-byte tag first)
        refuse_response(terminal(cipher), f.response(s, objects), order)
    mac = f.mac(s, d99)
    refuse_response(terminal(cipher), ResponseAPDU(tlv.encode(0x8E, mac) + d99, 0x9000), order)
    malformed = exact("malformed DO'99' or DO'8E'")
    for objects in (tlv.encode(0x99, b"\x90"), tlv.encode(0x99, b"\x90\x00\x00")):
        refuse_response(terminal(cipher), f.response(s, objects), malformed)
    for cut in (1, 8):
        short = f.response(s, d99)
        response = ResponseAPDU(d99 + tlv.encode(0x8E, short.data[-8:-cut]), 0x9000)
        refuse_response(terminal(cipher), response, malformed)
    long = ResponseAPDU(d99 + tlv.encode(0x8E, f.mac(s, d99) + b"\x00"), 0x9000)
    refuse_response(terminal(cipher), long, malformed)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_response_mac_and_status(cipher: str) -> None:
    f = forge(cipher)
    d99 = tlv.encode(0x99, b"\x90\x00")
    for ssc in (SSC + 1, SSC + 3):
        refuse_response(terminal(cipher), f.response(ssc, d99),
                        exact("response MAC does not verify"))  # fmt: skip
    refuse_response(terminal(cipher), f.response(SSC + 2, d99, 0x6282),
                    exact("status word differs from the authenticated DO'99'"))  # fmt: skip
    refuse_response(terminal(cipher), b"\x99\x02\x90\x00\x8e\x81\x90\x00",
                    exact("protected response is not a sequence of data objects"))  # fmt: skip
    for raw in (b"", b"\x90"):
        refuse_response(terminal(cipher), raw, exact("response shorter than a status word"))


@pytest.mark.parametrize("sw", [0x6987, 0x6988, 0x9000])
def test_unprotected_response_closes(sw: int) -> None:
    t = terminal("3DES")
    message = exact(f"unprotected response {sw:04X}: the card ended secure messaging")
    with pytest.raises(UnprotectedResponseError, match=message) as info:
        t.unwrap(sw.to_bytes(2, "big"))
    assert info.value.sw == sw and t.closed
    with pytest.raises(SecureMessagingError, match=CLOSED):
        t.unwrap(sw.to_bytes(2, "big"))


# -- state: close, SSC, keys ---------------------------------------------------------------------


def test_close_ends_every_use() -> None:
    t, c = channel("AES-128"), channel("AES-128")
    assert repr(t) == "SecureChannel(AES-128, ssc=0000000000000000887022120C06C226, open)"
    wrapped = t.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=4))
    t.close()
    c.close()
    assert t.closed and c.closed and c.failure_sw is None
    assert repr(t).endswith(", closed)")
    for call in (
        lambda: t.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=4)),
        lambda: t.unwrap(b"\x90\x00"),
        lambda: c.unwrap_command(wrapped),
        lambda: c.wrap_response(ResponseAPDU(b"", 0x9000)),
    ):
        with pytest.raises(SecureMessagingError, match=CLOSED):
            call()
    assert t.ssc == SSC + 1 and c.ssc == SSC


def test_closed_chip_session_answers_6987_in_the_clear() -> None:
    f = forge("3DES")
    served: list[CommandAPDU] = []

    def handler(command: CommandAPDU) -> ResponseAPDU:
        served.append(command)
        return ResponseAPDU(b"secret", 0x9000)

    chip = channel("3DES")
    session = SecureChipSession(chip, handler)
    chip.close()
    good = f.command(SSC + 1, b"\x0c\xb0\x00\x00", tlv.encode(0x97, b"\x00"))
    assert session.handle(good) == ResponseAPDU(b"", 0x6987) and not session.active
    # after a refused command (6988) every later one gets 6987: the session is gone
    session = SecureChipSession(channel("3DES"), handler)
    bad = CommandAPDU(0x0C, 0xB0, 0, 0, good.data[:-1] + b"\x00", ne=256)
    assert session.handle(bad) == ResponseAPDU(b"", 0x6988) and not session.active
    assert session.handle(good) == ResponseAPDU(b"", 0x6987)
    assert session.handle(good.encode()) == ResponseAPDU(b"", 0x6987)
    assert served == []


def test_chip_session_switches_to_the_next_channel_after_the_response() -> None:
    old_t, old_c = channel("3DES"), channel("3DES")
    keys = KEYS["AES-128"]
    new_t, new_c = (SecureChannel.from_keys("AES-128", *keys) for _ in range(2))

    def handler(command: CommandAPDU) -> ResponseAPDU:
        session.next_channel = new_c
        return ResponseAPDU(b"ok", 0x9000)

    session = SecureChipSession(old_c, handler)
    response = session.handle(old_t.wrap(CommandAPDU(0, 0x22, 0x41, 0xA4, b"\x80\x01\x01")))
    assert old_t.unwrap(response) == ResponseAPDU(b"ok", 0x9000)  # protected with the old keys
    assert session.channel is new_c and session.next_channel is None and session.active
    session.handler = lambda c: ResponseAPDU(c.data, 0x9000)
    answer = session.handle(new_t.wrap(CommandAPDU(0, 0xD6, 0, 0, b"new")).encode())
    assert new_t.unwrap(answer) == ResponseAPDU(b"new", 0x9000)


@pytest.mark.parametrize("cla", [0x04, 0x08, 0x0C, 0x0D])
def test_wrap_refuses_sm_class_bits(cla: int) -> None:
    t = channel("3DES")
    message = exact("command already carries secure-messaging CLA bits")
    with pytest.raises(EncodeError, match=message):
        t.wrap(CommandAPDU(cla, 0xB0, 0, 0, ne=1))
    assert t.ssc == SSC and not t.closed


def test_wrap_le_and_length_forms() -> None:
    t = SecureChannel.from_keys("3DES", *KEYS["3DES"])
    for ne, do97 in ((1, "970101"), (256, "970100"), (257, "97020101"), (65536, "97020000")):
        protected = t.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=ne))
        assert protected.data.startswith(H(do97)) and len(protected.data) == len(H(do97)) + 10
        assert protected.ne == (256 if ne <= 256 else 65536)
        assert protected.is_extended == (ne > 256)
    assert t.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=4, extended=True)).encode()[-2:] == b"\x00\x00"
    assert not t.wrap(CommandAPDU(0, 0xD6, 0, 0, bytes(230))).is_extended  # 243-byte body
    assert t.wrap(CommandAPDU(0, 0xD6, 0, 0, bytes(240))).is_extended  # 259-byte body
    assert t.wrap(CommandAPDU(0, 0x84, 0, 0)).data[:2] == b"\x8e\x08"  # no data, no Le
    assert t.ssc == 8


def test_ssc_forms_and_wrap_around() -> None:
    for cipher, size in (("3DES", 8), ("AES-128", 16)):
        with pytest.raises(EncodeError, match=exact(f"SSC must be {size} bytes for {cipher}")):
            SecureChannel.from_keys(cipher, *KEYS[cipher], bytes(size - 1))  # type: ignore[arg-type]
        with pytest.raises(EncodeError, match=exact(f"SSC must be {size} bytes for {cipher}")):
            SecureChannel.from_keys(cipher, *KEYS[cipher], bytes(size + 1))  # type: ignore[arg-type]
        for bad in (-1, 1 << (8 * size)):
            with pytest.raises(EncodeError, match=exact("SSC out of range")):
                SecureChannel.from_keys(cipher, *KEYS[cipher], bad)  # type: ignore[arg-type]
        top = (1 << (8 * size)) - 1
        t = SecureChannel.from_keys(cipher, *KEYS[cipher], b"\xff" * size)  # type: ignore[arg-type]
        c = SecureChannel.from_keys(cipher, *KEYS[cipher], bytearray(b"\xff" * size))  # type: ignore[arg-type]
        assert t.ssc == c.ssc == top and t.ssc_bytes == b"\xff" * size
        assert c.unwrap_command(t.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=1))).ne == 1
        assert t.ssc == c.ssc == 0 and t.ssc_bytes == bytes(size)
        assert t.unwrap(c.wrap_response(ResponseAPDU(b"z"))) == ResponseAPDU(b"z")
        assert t.ssc == 1 and t.cipher == cipher and t.keys.cipher == cipher


def test_session_key_derivation_vectors() -> None:
    """9303-11 Appendix D.3 (BAC, 3DES) and G.1 (PACE, AES-128): KS_enc, KS_mac from K."""
    bac = SessionKeys.derive("3DES", H("0036D272F5C350ACAC50C3F572D23600"))
    assert (bac.ks_enc, bac.ks_mac) == KEYS["3DES"]
    pace = SessionKeys.derive(
        "AES-128", H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
    )
    assert (pace.ks_enc, pace.ks_mac) == KEYS["AES-128"] and pace.cipher == "AES-128"


def test_key_and_cipher_errors() -> None:
    unknown = exact("unknown cipher 'DES'; expected one of 3DES, AES-128, AES-192, AES-256")
    for call in (lambda: block_size("DES"), lambda: token_mac("DES", bytes(16), b"x"),
                 lambda: encrypt_cbc("DES", bytes(16), bytes(8))):  # type: ignore[arg-type]  # fmt: skip
        with pytest.raises(EncodeError, match=unknown):
            call()
    assert [block_size(c) for c in ("3DES", "AES-128", "AES-192", "AES-256")] == [8, 16, 16, 16]
    with pytest.raises(EncodeError, match=exact("3DES key must be 16 or 24 bytes, got 8")):
        SessionKeys("3DES", bytes(16), bytes(8))
    with pytest.raises(EncodeError, match=exact("3DES key must be 16 or 24 bytes, got 32")):
        SessionKeys("3DES", bytes(32), bytes(16))
    with pytest.raises(EncodeError, match=exact("AES-128 key must be 16 bytes, got 15")):
        SessionKeys("AES-128", bytes(16), bytes(15))
    with pytest.raises(EncodeError, match=exact("AES-192 key must be 24 bytes, got 16")):
        SessionKeys("AES-192", bytes(16), bytes(24))
    SessionKeys("AES-192", bytes(24), bytes(24))
    SessionKeys("3DES", bytes(24), bytes(24))
    for data in (b"", bytes(7), bytes(9)):
        with pytest.raises(EncodeError, match=exact(
            "retail MAC input must be a non-empty multiple of 8 bytes")):  # fmt: skip
            retail_mac(bytes(16), data)
    with pytest.raises(EncodeError, match=exact("3DES key must be 16 or 24 bytes, got 8")):
        retail_mac(bytes(8), bytes(8))


def test_cbc_known_answers() -> None:
    """FIPS-197 C.1 (AES-128, one block: CBC with zero IV is the block cipher) and 9303-11 D.4's
    READ BINARY response DO'87' (3DES, zero IV)."""
    key, block = H("000102030405060708090a0b0c0d0e0f"), H("00112233445566778899aabbccddeeff")
    out = H("69c4e0d86a7b0430d8cdb78070b4c55a")
    assert encrypt_cbc("AES-128", key, block) == out
    assert encrypt_cbc("AES-128", key, block, bytes(16)) == out
    assert decrypt_cbc("AES-128", key, out) == block
    iv = bytes(range(16))
    assert encrypt_cbc("AES-128", key, bytes(a ^ b for a, b in zip(block, iv, strict=True)),
                       ) == encrypt_cbc("AES-128", key, block, iv)  # fmt: skip
    xored = bytes(a ^ b for a, b in zip(block, iv, strict=True))
    assert decrypt_cbc("AES-128", key, out, iv) == xored
    assert decrypt_cbc("3DES", KEYS["3DES"][0], H("9FF0EC34F9922651")) == pad(H("60145F01"), 8)
    assert encrypt_cbc("3DES", KEYS["3DES"][0], pad(H("60145F01"), 8)) == H("9FF0EC34F9922651")
    # a 24-byte K1 K2 K1 key is the same two-key 3DES; retail MAC uses K1 and K2 only
    k = KEYS["3DES"][1]
    assert encrypt_cbc("3DES", k + k[:8], bytes(8)) == encrypt_cbc("3DES", k, bytes(8))
    assert retail_mac(k + bytes(8), bytes(16)) == retail_mac(k, bytes(16))


def test_retail_mac_of_one_block_is_two_key_3des() -> None:
    """ISO/IEC 9797-1 MAC algorithm 3 on a single block: E_K1(D_K2(E_K1(x))), i.e. 3DES."""
    k = KEYS["3DES"][1]
    for block in (bytes(8), b"\x80" + bytes(7), bytes(range(8))):
        assert retail_mac(k, block) == encrypt_cbc("3DES", k, block)
    assert token_mac("3DES", k, b"") == encrypt_cbc("3DES", k, b"\x80" + bytes(7))


def test_channel_starts_at_ssc_zero() -> None:
    keys = SessionKeys("AES-192", bytes(24), bytes(range(24)))
    t = SecureChannel(keys)
    assert t.ssc == 0 and t.ssc_bytes == bytes(16) and t.keys is keys
    assert t.closed is False and t.failure_sw is None
    c = SecureChannel(keys)
    assert c.unwrap_command(t.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=2))) == CommandAPDU(
        0, 0xB0, 0, 0, ne=2
    )
    assert t.ssc == c.ssc == 1


def test_chip_session_serves_command_after_command() -> None:
    t = channel("AES-256")
    session = SecureChipSession(channel("AES-256"), lambda c: ResponseAPDU(c.data[::-1], 0x9000))
    assert session.next_channel is None
    for data in (b"one", b"two", b"three"):
        answer = session.handle(t.wrap(CommandAPDU(0, 0xD6, 0, 0, data)))
        assert t.unwrap(answer) == ResponseAPDU(data[::-1], 0x9000) and session.active
    assert t.ssc == session.channel.ssc == SSC + 6


def test_3des_never_uses_the_deprecated_short_keying_options() -> None:
    """cryptography deprecates 8- and 16-byte TripleDES keys; every 3DES use here expands the
    key to 24 bytes (K1 K1 K1, K1 K2 K1), so it keeps working when they are removed."""
    k = KEYS["3DES"][1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CryptographyDeprecationWarning)
        retail_mac(k, bytes(24))
        encrypt_cbc("3DES", k, bytes(8))
        decrypt_cbc("3DES", k, bytes(8))
        t, c = channel("3DES"), channel("3DES")
        c.unwrap_command(t.wrap(CommandAPDU(0, 0xD6, 0, 0, b"data")))
        t.unwrap(c.wrap_response(ResponseAPDU(b"data")))
