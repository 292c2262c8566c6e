"""LoggingTransport: a readable trace, with PINs, keys and authentication payloads masked."""

from __future__ import annotations

import logging

import pytest

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import TransportError
from idcard.reader.logging import NO_MASK, LoggingTransport, Mask, default_mask
from idcard.reader.replay import ReplayTransport

PIN = bytes.fromhex("313337424242")
KEY = bytes.fromhex("8A9B2C3D4E5F60718293A4B5C6D7E8F9")
EIFD = bytes.fromhex("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
NONCE = bytes.fromhex("7C12801095A3A016522EE98D01E76CB6B98B42C3")

EXCHANGES = [
    (CommandAPDU(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("A0000002471001")), b"\x90\x00"),
    (CommandAPDU(0x00, 0x20, 0x00, 0x81, PIN), b"\x90\x00"),
    (CommandAPDU(0x00, 0xDA, 0x01, 0x02, KEY), b"\x90\x00"),
    (CommandAPDU(0x00, 0x82, 0x00, 0x00, EIFD, ne=40), EIFD[::-1] + KEY[:8] + b"\x90\x00"),
    (CommandAPDU(0x10, 0x86, 0x00, 0x00, bytes.fromhex("7C00"), ne=256), NONCE[:10] + b"\x61\x0a"),
    (CommandAPDU(0x00, 0xC0, 0x00, 0x00, ne=10), NONCE[10:] + b"\x90\x00"),
]


def trace(caplog: pytest.LogCaptureFixture, **kwargs: object) -> str:
    replay = ReplayTransport([(c.encode(), r) for c, r in EXCHANGES])
    transport = LoggingTransport(replay, **kwargs)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="idcard.apdu"):
        for command, response in EXCHANGES:
            assert transport.transmit(command) == ResponseAPDU.decode(response)
    replay.assert_complete()
    return caplog.text


def test_secrets_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    text = trace(caplog)
    lowered = text.lower()
    for secret in (PIN, KEY, EIFD, EIFD[::-1], KEY[:8], NONCE[:10], NONCE[10:]):
        assert secret.hex() not in lowered
    assert PIN.decode() not in text
    assert "00 A4 04 0C Lc=7 A0000002471001 Le=-" in text
    assert "00 20 00 81 Lc=6 <6 bytes masked>" in text
    assert "00 DA 01 02 Lc=16 <16 bytes masked>" in text
    assert "<40 bytes masked>" in text  # the MUTUAL AUTHENTICATE response
    assert "610A (10 response bytes still available) 10 bytes <10 bytes masked>" in text
    assert "9000 (success) 10 bytes <10 bytes masked>" in text  # its GET RESPONSE
    assert len(caplog.records) == 2 * len(EXCHANGES)


def test_no_mask_shows_everything(caplog: pytest.LogCaptureFixture) -> None:
    text = trace(caplog, mask=lambda _c: NO_MASK)
    assert PIN.hex().upper() in text and KEY.hex().upper() in text


def test_default_mask_rules() -> None:
    assert default_mask(CommandAPDU(0, 0x24, 0, 0x81, b"12")) == Mask(command_data=True)
    assert default_mask(CommandAPDU(0, 0xB0, 0, 0, ne=256)) == NO_MASK
    assert default_mask(CommandAPDU(0, 0x87, 0, 0, b"\x7c\x00")) == Mask(True, True)


def test_unwrap_hook_logs_the_plain_exchange(caplog: pytest.LogCaptureFixture) -> None:
    plain_verify = CommandAPDU(0x00, 0x20, 0x00, 0x81, PIN)

    def unwrap(command: CommandAPDU, response: ResponseAPDU) -> tuple[CommandAPDU, ResponseAPDU]:
        return plain_verify, response

    text = trace(caplog, unwrap=unwrap)
    assert "  > 00 20 00 81 Lc=6 <6 bytes masked>" in text
    assert PIN.hex() not in text.lower()


def test_errors_are_logged_and_raised(caplog: pytest.LogCaptureFixture) -> None:
    transport = LoggingTransport(ReplayTransport([]))
    with caplog.at_level(logging.DEBUG, logger="idcard.apdu"), pytest.raises(TransportError):
        transport.transmit(CommandAPDU(0x00, 0x20, 0x00, 0x81, PIN))
    assert "! ReplayMismatch" in caplog.text and PIN.hex() not in caplog.text.lower()
