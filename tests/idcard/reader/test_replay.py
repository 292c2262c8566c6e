"""ReplayTransport and Recorder: transcripts replay exactly and deviations fail loudly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.idcard.chip.sim_card import LDS1_AID, SimCard

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import DecodeError, TransportError
from idcard.protocols.base import drive
from idcard.reader.replay import (
    Recorder,
    ReplayMismatch,
    ReplayTransport,
    transcript_from_json,
)

SELECT = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, LDS1_AID)
CHALLENGE = CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8)
PIN = b"123456"
VERIFY = CommandAPDU(0x00, 0x20, 0x00, 0x81, PIN)


class SimTransport:
    """The simulated card as an in-process transport."""

    def __init__(self) -> None:
        self.card = SimCard()

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return ResponseAPDU.decode(self.card.process(command.encode()))


class SelectThenChallenge:
    """A two-step terminal protocol, to replay through :func:`drive`."""

    def start(self) -> CommandAPDU:
        return SELECT

    def receive(self, response: ResponseAPDU) -> CommandAPDU | bytes:
        response.check()
        return CHALLENGE if not response.data else response.data


def recorded() -> Recorder:
    recorder = Recorder(SimTransport())
    assert drive(SelectThenChallenge(), recorder) == (1).to_bytes(8, "big")
    return recorder


def test_record_then_replay_gives_the_same_result() -> None:
    recorder = recorded()
    assert recorder.transcript == [
        (SELECT.encode(), b"\x90\x00"),
        (CHALLENGE.encode(), (1).to_bytes(8, "big") + b"\x90\x00"),
    ]
    replay = ReplayTransport.from_json(recorder.to_json())
    assert drive(SelectThenChallenge(), replay) == (1).to_bytes(8, "big")
    replay.assert_complete()


def test_deviation_names_index_and_both_commands() -> None:
    replay = ReplayTransport(recorded().transcript)
    replay.transmit(SELECT)
    other = CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=16)
    with pytest.raises(ReplayMismatch) as info:
        replay.transmit(other)
    err = info.value
    assert isinstance(err, TransportError)
    assert err.index == 1 and err.expected == CHALLENGE.encode() and err.actual == other.encode()
    assert "command #1" in str(err) and "byte 4" in str(err)
    assert "Le=8" in str(err) and "Le=16" in str(err)


def test_past_the_end_and_incomplete() -> None:
    replay = ReplayTransport([(SELECT.encode(), b"\x90\x00")])
    with pytest.raises(TransportError, match="1 of 1 exchanges not replayed"):
        replay.assert_complete()
    replay.transmit(SELECT)
    with pytest.raises(ReplayMismatch, match="past the end") as info:
        replay.transmit(SELECT)
    assert info.value.index == 1 and info.value.expected is None


def test_mismatch_message_masks_pins() -> None:
    replay = ReplayTransport([(VERIFY.encode(), b"\x90\x00")])
    wrong = CommandAPDU(0x00, 0x20, 0x00, 0x81, b"654321")
    with pytest.raises(ReplayMismatch) as info:
        replay.transmit(wrong)
    text = str(info.value)
    assert "<6 bytes masked>" in text
    for secret in (PIN, b"654321"):
        assert secret.hex() not in text.lower() and secret.decode() not in text


@given(st.data())
def test_any_changed_byte_is_caught(data: st.DataObject) -> None:
    raw = bytearray(SELECT.encode())
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 255))
    try:
        changed = CommandAPDU.decode(bytes(raw))
    except DecodeError:
        return  # not a command any caller could send
    replay = ReplayTransport([(SELECT.encode(), b"\x90\x00")])
    with pytest.raises(ReplayMismatch) as info:
        replay.transmit(changed)
    assert info.value.index == 0


@pytest.mark.parametrize("text", ["[{]", '[{"command": "zz", "response": "9000"}]', "[1]"])
def test_bad_transcript_json_is_decode_error(text: str) -> None:
    with pytest.raises(DecodeError):
        transcript_from_json(text)
