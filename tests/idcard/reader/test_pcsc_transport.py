"""PCSCTransport against the real pcscd with the vpcd driver and the simulated card."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from tests.idcard.chip.sim_card import ATR_T0, ATR_T1, LDS1_AID
from tests.pcsc_harness import PCSCD, READERS

from idcard.apdu import CommandAPDU
from idcard.errors import TransportError
from idcard.reader.pcsc import (
    PCSC_EXTRA_MESSAGE,
    SHORT_READ_LENGTHS,
    PCSCTransport,
    list_readers,
)

pytestmark = pytest.mark.pcsc

SELECT = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, LDS1_AID)


def long_command(size: int, ne: int | None, *, extended: bool = False) -> CommandAPDU:
    return CommandAPDU(0x80, 0xCA, size >> 8, size & 0xFF, ne=ne, extended=extended)


def pattern(size: int) -> bytes:
    return bytes(i & 0xFF for i in range(size))


def test_lists_both_vpcd_readers(pcscd: PCSCD) -> None:
    assert list_readers() == list(READERS)


def test_connect_by_name_and_index_gives_our_atr(pcscd: PCSCD) -> None:
    with pcscd.card() as (card, _client):
        with PCSCTransport.connect("VPCD 00 00") as by_name:
            assert by_name.reader == READERS[0]
            assert by_name.atr == ATR_T1 == card.atr
            assert by_name.protocol == "T1"
            assert by_name.extended_length
        with PCSCTransport.connect(0) as by_index:
            assert by_index.reader == READERS[0]
            assert by_index.transmit(SELECT).sw == 0x9000


def test_unknown_reader_and_bad_index(pcscd: PCSCD) -> None:
    with pytest.raises(TransportError, match="no reader matches 'nonesuch'"):
        PCSCTransport.connect("nonesuch")
    with pytest.raises(TransportError, match="index 7 out of range"):
        PCSCTransport.connect(7)


def test_empty_reader_is_transport_error(pcscd: PCSCD) -> None:
    with pytest.raises(TransportError, match="no card in"):
        PCSCTransport.connect(READERS[1], wait=0.3)
    with pytest.raises(TransportError, match="cannot connect"):
        PCSCTransport.connect(READERS[1])


def test_apdus_reach_the_card_and_back(pcscd: PCSCD) -> None:
    with pcscd.card() as (card, _client), PCSCTransport.connect(0) as t:
        before = card.apdus
        assert t.transmit(SELECT).sw == 0x9000
        wrong = t.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, b"\xa0\x00"))
        assert wrong.sw == 0x6A82 and wrong.data == b""
        c1 = t.transmit(CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8))
        c2 = t.transmit(CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8))
        assert c1.ok and len(c1.data) == 8 and c1.data != c2.data
        echo = t.transmit(CommandAPDU(0x80, 0xEE, 0x00, 0x00, b"\x01\x02\x03", ne=256))
        assert echo.data == b"\x01\x02\x03" and echo.ok
        assert card.apdus == before + 5


def test_extended_length_response(pcscd: PCSCD) -> None:
    with pcscd.card() as (_card, _client), PCSCTransport.connect(0) as t:
        assert t.read_length == 65536
        r = t.transmit(long_command(1000, 65536))
        assert r.ok and r.data == pattern(1000)
        big = bytes(range(256)) * 4
        echo = t.transmit(CommandAPDU(0x80, 0xEE, 0, 0, big, ne=65536))
        assert echo.ok and echo.data == big


def test_61xx_is_followed_by_get_response(pcscd: PCSCD) -> None:
    with pcscd.card() as (card, _client), PCSCTransport.connect(0) as t:
        before = card.apdus
        r = t.transmit(long_command(700, 256))
        assert r.ok and r.data == pattern(700)
        assert card.apdus == before + 3  # 256 + GET RESPONSE 256 + GET RESPONSE 188
    with pcscd.card(), PCSCTransport.connect(0, auto_get_response=False) as raw:
        first = raw.transmit(long_command(700, 256))
        assert first.sw == 0x6100 and first.data == pattern(256)


def test_t0_card_get_response_and_6cxx(pcscd: PCSCD) -> None:
    with pcscd.card_process(slot=1, variant="t0"), PCSCTransport.connect(1) as t:
        assert t.protocol == "T0" and t.atr == ATR_T0
        assert not t.extended_length and t.read_length == 256
        echo = t.transmit(CommandAPDU(0x80, 0xEE, 0, 0, b"hello", ne=256))
        assert echo.ok and echo.data == b"hello"
        wrong_le = t.transmit(long_command(20, 256))  # card: 6C14, then re-sent with Le=20
        assert wrong_le.ok and wrong_le.data == pattern(20)


def test_warm_and_cold_reset(pcscd: PCSCD) -> None:
    with pcscd.card() as (card, _client), PCSCTransport.connect(0) as t:
        card.events.clear()
        assert t.reset() == ATR_T1
        assert card.events == ["reset"]
        card.events.clear()
        assert t.reset(cold=True) == ATR_T1
        assert card.events[:2] == ["off", "on"]
        assert t.transmit(SELECT).ok


def test_card_removed_gives_transport_error(pcscd: PCSCD) -> None:
    with pcscd.card() as (_card, client):
        t = PCSCTransport.connect(0)
        assert t.transmit(SELECT).ok
        client.stop()
        client.connected.clear()
        error = None
        for _ in range(100):
            try:
                t.transmit(SELECT)
            except TransportError as exc:
                error = exc
                break
            time.sleep(0.05)
        assert error is not None, "transmit kept working after the card was removed"
        t.close()


def test_killed_card_process_gives_transport_error_not_a_hang(pcscd: PCSCD) -> None:
    with pcscd.card_process(slot=1) as proc, PCSCTransport.connect(1) as t:
        assert t.transmit(SELECT).ok
        proc.kill()
        proc.wait(5)
        outcome: list[BaseException | None] = []

        def send() -> None:
            try:
                t.transmit(SELECT)
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=send, daemon=True)
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), "transmit hung after the card died"
        assert isinstance(outcome[0], TransportError)


def test_without_pyscard_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "smartcard", None)
    monkeypatch.setitem(sys.modules, "smartcard.scard", None)
    with pytest.raises(TransportError) as info:
        list_readers()
    assert str(info.value) == PCSC_EXTRA_MESSAGE
    with pytest.raises(TransportError, match="idkarta\\[pcsc\\]"):
        PCSCTransport.connect()


def test_read_length_fallbacks() -> None:
    t = PCSCTransport()
    t._extended = True
    assert t.read_length == 65536
    t.mark_extended_refused()
    assert not t.extended_length
    assert [t.read_length] + [t.reduce_read_length() for _ in range(3)] == list(
        SHORT_READ_LENGTHS
    )
    with pytest.raises(TransportError, match="128"):
        t.reduce_read_length()
    with pytest.raises(TransportError, match="not connected"):
        t.transmit(SELECT)
