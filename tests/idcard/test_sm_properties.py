"""Secure messaging as properties of the protocol (ICAO 9303-11 §9.8), for every cipher, random
keys and send sequence counters: wrap/unwrap round trips for any command and response; any
single change in a protected APDU is refused and ends the channel; arbitrary input gives only
SecureMessagingError or DecodeError; padding method 2 is undone exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.idcard.sm_forge import Forge

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.crypto import CIPHERS
from idcard.errors import DecodeError, SecureMessagingError
from idcard.sm import SecureChannel, SecureChipSession, pad, unpad

KEY_BYTES = {"3DES": 16, "AES-128": 16, "AES-192": 24, "AES-256": 32}


@st.composite
def pairs(draw: st.DrawFn) -> tuple[SecureChannel, SecureChannel, Forge]:
    """Terminal and chip channels with the same keys and SSC, and a forge for those keys."""
    cipher = draw(st.sampled_from(CIPHERS))
    n = KEY_BYTES[cipher]
    enc, mac = draw(st.binary(min_size=n, max_size=n)), draw(st.binary(min_size=n, max_size=n))
    if cipher == "3DES" and draw(st.booleans()):
        enc, mac = enc + enc[:8], mac + draw(st.binary(min_size=8, max_size=8))
    bits = 8 * (8 if cipher == "3DES" else 16)
    ssc = draw(st.one_of(st.integers(0, (1 << bits) - 1), st.just((1 << bits) - 1)))
    return (SecureChannel.from_keys(cipher, enc, mac, ssc),
            SecureChannel.from_keys(cipher, enc, mac, ssc), Forge(cipher, enc, mac))  # fmt: skip


commands = st.builds(
    CommandAPDU,
    cla=st.sampled_from([0x00, 0x01, 0x10, 0x13, 0x80, 0x90, 0xA0]),
    ins=st.integers(0, 255).filter(lambda i: i & 0xF0 not in (0x60, 0x90)),
    p1=st.integers(0, 255),
    p2=st.integers(0, 255),
    data=st.binary(max_size=300),
    ne=st.one_of(st.none(), st.integers(1, 65536)),
    extended=st.booleans(),
)


@given(pairs(), commands, st.binary(max_size=300), st.integers(0x6100, 0x9FFF))
def test_wrap_unwrap_round_trip_for_any_command(
    pair: tuple[SecureChannel, SecureChannel, Forge], cmd: CommandAPDU, data: bytes, sw: int
) -> None:
    terminal, chip, _ = pair
    ssc = terminal.ssc
    protected = terminal.wrap(cmd)
    assert protected.cla == cmd.cla | 0x0C and protected.ins == cmd.ins
    assert protected.ne == (65536 if protected.is_extended else 256)
    objects = tlv.decode_all(protected.data)
    tags = [o.tag for o in objects]
    expected = [0x85 if cmd.ins & 1 else 0x87] if cmd.data else []
    expected += [0x97] if cmd.ne is not None else []
    assert tags == [*expected, 0x8E] and len(objects[-1].value) == 8
    got = chip.unwrap_command(CommandAPDU.decode(protected.encode()))
    assert (got.cla, got.ins, got.p1, got.p2, got.data, got.ne) == (
        cmd.cla, cmd.ins, cmd.p1, cmd.p2, cmd.data, cmd.ne,
    )  # fmt: skip
    response = chip.wrap_response(ResponseAPDU(data, sw))
    if data:
        assert response.data[0] == (0x85 if cmd.ins & 1 else 0x87)
    assert terminal.unwrap(ResponseAPDU.decode(response.encode())) == ResponseAPDU(data, sw)
    assert terminal.ssc == chip.ssc == (ssc + 2) % (1 << (8 * len(terminal.ssc_bytes)))
    assert not terminal.closed and not chip.closed


@st.composite
def changes(draw: st.DrawFn, raw: bytes, header: int) -> bytes:
    """One change of a protected APDU after its first ``header`` bytes stay intact or not:
    a flipped bit, a changed byte, the APDU cut short or lengthened."""
    kind = draw(st.sampled_from(["bit", "byte", "cut", "grow"]))
    out = bytearray(raw)
    if kind == "bit":
        bit = draw(st.integers(0, 8 * len(raw) - 1))
        out[bit // 8] ^= 1 << (bit % 8)
    elif kind == "byte":
        i = draw(st.integers(0, len(raw) - 1))
        out[i] = draw(st.integers(0, 255).filter(lambda b: b != raw[i]))
    elif kind == "cut":
        out = out[: draw(st.integers(header, len(raw) - 1))]
    else:
        out += draw(st.binary(min_size=1, max_size=3))
    return bytes(out)


@given(pairs(), commands, st.data())
def test_any_change_in_a_protected_command_ends_the_channel(
    pair: tuple[SecureChannel, SecureChannel, Forge], cmd: CommandAPDU, data: st.DataObject
) -> None:
    terminal, chip, _ = pair
    raw = terminal.wrap(cmd).encode()
    bad = data.draw(changes(raw, 0))
    served: list[CommandAPDU] = []
    session = SecureChipSession(chip, lambda c: served.append(c) or ResponseAPDU(b"leak"))
    answer = session.handle(bad)
    assert answer.data == b"" and answer.sw in (0x6987, 0x6988) and served == []
    assert chip.closed and chip.failure_sw == answer.sw and not session.active
    assert session.handle(terminal.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=1))) == ResponseAPDU(
        b"", 0x6987
    )
    with pytest.raises(SecureMessagingError):
        chip.unwrap_command(raw)


@given(pairs(), st.binary(max_size=300), st.integers(0, 255), st.data())
def test_any_change_in_a_protected_response_ends_the_channel(
    pair: tuple[SecureChannel, SecureChannel, Forge], payload: bytes, ins: int,
    data: st.DataObject,
) -> None:  # fmt: skip
    terminal, chip, _ = pair
    chip.unwrap_command(terminal.wrap(CommandAPDU(0, ins, 0, 0, ne=256)))
    raw = chip.wrap_response(ResponseAPDU(payload)).encode()
    bad = data.draw(changes(raw, 0))
    with pytest.raises(SecureMessagingError):
        terminal.unwrap(bad)
    assert terminal.closed
    with pytest.raises(SecureMessagingError):
        terminal.unwrap(raw)


@given(pairs(), st.binary(max_size=80), st.booleans())
def test_random_bytes_give_only_secure_messaging_errors(
    pair: tuple[SecureChannel, SecureChannel, Forge], raw: bytes, decoded: bool
) -> None:
    terminal, chip, _ = pair
    terminal.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=1))
    try:
        chip.unwrap_command(CommandAPDU.decode(raw) if decoded else raw)
    except (SecureMessagingError, DecodeError):
        assert chip.closed or decoded
    try:
        terminal.unwrap(ResponseAPDU.decode(raw) if decoded else raw)
    except (SecureMessagingError, DecodeError):
        assert terminal.closed or decoded
    else:
        raise AssertionError("random bytes verified as a protected response")


objects = st.lists(
    st.tuples(st.sampled_from([0x85, 0x87, 0x97, 0x99, 0x8E, 0x01]), st.binary(max_size=40)),
    max_size=4,
).map(lambda items: b"".join(tlv.encode(t, v) for t, v in items))


@given(pairs(), objects, st.integers(0, 255), st.booleans())
def test_any_objects_under_a_valid_mac_give_a_command_or_secure_messaging_error(
    pair: tuple[SecureChannel, SecureChannel, Forge], body: bytes, ins: int, le: bool
) -> None:
    """Past the MAC, the chip either returns the command the objects describe or refuses with
    SecureMessagingError and a closed channel; nothing else escapes."""
    _, chip, forge = pair
    command = forge.command(chip.ssc + 1, bytes([0x0C, ins, 0, 0]), body, le=le)
    try:
        plain = chip.unwrap_command(command)
    except SecureMessagingError:
        assert chip.closed and chip.failure_sw in (0x6987, 0x6988)
    else:
        assert not chip.closed and plain.ins == ins and plain.cla == 0
        assert le


@given(pairs(), objects, st.integers(0x6100, 0x9FFF))
def test_any_objects_under_a_valid_response_mac(
    pair: tuple[SecureChannel, SecureChannel, Forge], body: bytes, sw: int
) -> None:
    terminal, _, forge = pair
    terminal.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=1))
    try:
        plain = terminal.unwrap(forge.response(terminal.ssc + 1, body, sw))
    except SecureMessagingError:
        assert terminal.closed
    else:
        assert plain.sw == sw and not terminal.closed


@given(st.binary(max_size=64), st.sampled_from([8, 16]))
def test_unpad_undoes_pad(data: bytes, block: int) -> None:
    padded = pad(data, block)
    assert len(padded) % block == 0 and len(data) < len(padded) <= len(data) + block
    assert unpad(padded, block) == data


@st.composite
def padded_like(draw: st.DrawFn, block: int) -> bytes:
    """Near misses of padding: pad() output with zero blocks added, bytes cut, bytes changed."""
    out = bytearray(pad(draw(st.binary(max_size=40)), block))
    out += bytes(block * draw(st.integers(0, 2)))
    if draw(st.booleans()) and out:
        out = out[: draw(st.integers(0, len(out)))]
    if draw(st.booleans()) and out:
        out[draw(st.integers(0, len(out) - 1))] = draw(st.sampled_from([0x00, 0x80, 0x01]))
    return bytes(out)


@given(st.data(), st.sampled_from([8, 16]))
def test_unpad_accepts_exactly_what_pad_makes(data: st.DataObject, block: int) -> None:
    """unpad(y) succeeds iff y == pad(x) for some x, and returns that x; otherwise it raises
    SecureMessagingError (the 80 byte must lie in the last block)."""
    y = data.draw(st.one_of(padded_like(block), st.binary(max_size=48)))
    stripped = y.rstrip(b"\x00")
    candidate = stripped[:-1] if stripped.endswith(b"\x80") else None
    if candidate is not None and pad(candidate, block) == y:
        assert unpad(y, block) == candidate
    else:
        with pytest.raises(SecureMessagingError):
            unpad(y, block)


@given(pairs(), st.lists(st.tuples(st.binary(min_size=1, max_size=100), st.binary(max_size=100)),
                         min_size=1, max_size=6))  # fmt: skip
def test_session_contexts_give_the_cryptograms_of_fresh_ones(
    pair: tuple[SecureChannel, SecureChannel, Forge], exchanges: list[tuple[bytes, bytes]]
) -> None:
    """The channel's CBC contexts live for the whole session (issue 15): every cryptogram, of
    either side and however many came before, is the one a fresh CBC context with the message's
    IV gives, and forged responses from fresh contexts decrypt."""
    terminal, chip, forge = pair
    for command_data, response_data in exchanges:
        ssc = terminal.ssc + 1
        protected = terminal.wrap(CommandAPDU(0x00, 0xD6, 0, 0, command_data))
        do87 = tlv.decode_all(protected.data)[0]
        assert do87.value == b"\x01" + forge.cryptogram(ssc, pad(command_data, forge.block))
        assert chip.unwrap_command(protected).data == command_data
        if response_data:
            wrapped = chip.wrap_response(ResponseAPDU(response_data))
            crypt = forge.cryptogram(ssc + 1, pad(response_data, forge.block))
            assert tlv.decode_all(wrapped.data)[0].value == b"\x01" + crypt
            chip_ssc = ssc + 1
        else:  # the terminal gets a response forged with fresh contexts
            chip_ssc = ssc + 1
            crypt = forge.cryptogram(chip_ssc, pad(b"\x5a" * 17, forge.block))
            objects = tlv.encode(0x87, b"\x01" + crypt) + tlv.encode(0x99, b"\x90\x00")
            wrapped = forge.response(chip_ssc, objects)
            chip.wrap_response(ResponseAPDU(b""))  # keep the chip's counter in step
            response_data = b"\x5a" * 17
        assert terminal.unwrap(wrapped).data == response_data
        assert terminal.ssc == chip.ssc == chip_ssc % (1 << (8 * forge.block))
