"""How many APDUs and parses a full read costs (issue 15 item 4): READ BINARY with a short file
identifier (one command per file that fits one answer), SELECT then READ BINARY when the chip
refuses SFIs, and every file decoded once by the reader."""

from __future__ import annotations

import traceback
from collections import Counter

import pytest
from tests.idcard.chip.cards import CAN, build_dump, make_card
from tests.idcard.cvc.test_cvc_certificate import make_pki

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.chip.transport import ChipTransport
from idcard.lds import FILES
from idcard.reader.document import ReadResult, TerminalCredentials, read_document

PROTOCOL_APDUS = 15  # PACE 5, CA 2, TA 6, AA 2 (MSE:Set AT and GENERAL AUTHENTICATE, ...)


class _Counting:
    """The chip's transport, counting SELECTs, READ BINARYs and the rest (INS in the header
    stays readable under secure messaging)."""

    def __init__(self, inner: ChipTransport) -> None:
        self.inner = inner
        self.atr = inner.atr
        self.ins: Counter[str] = Counter()

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        kind = {0xA4: "select", 0xB0: "read", 0xB1: "read"}.get(command.ins, "protocol")
        self.ins[kind] += 1
        return self.inner.transmit(command)


def _full_read(refuse_sfi: int | None = None) -> tuple[ReadResult, _Counting, list[bool]]:
    certs, is_key = make_pki()
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=certs[0])
    chip, sfi_reads = card.chip, []
    read_binary = chip._read_binary

    def refusing(command: CommandAPDU, protected: bool) -> ResponseAPDU:
        by_sfi = command.ins == 0xB0 and bool(command.p1 & 0x80)
        sfi_reads.append(by_sfi)
        if by_sfi and refuse_sfi is not None:
            return ResponseAPDU(b"", refuse_sfi)
        return read_binary(command, protected)

    chip._read_binary = refusing  # type: ignore[method-assign]
    counting = _Counting(ChipTransport(chip))
    terminal = TerminalCredentials.from_private_key(tuple(certs), is_key)
    result = read_document(counting, can=CAN, terminal=terminal)
    assert dict(result.dump.files) == dict(dump.files)
    assert [r.protocol for r in result.protocols] == ["PACE", "CA", "TA", "AA"]
    assert all(r.ok for r in result.protocols) and not result.decode_errors
    return result, counting, sfi_reads


def test_a_full_read_takes_one_read_binary_per_file() -> None:
    """11 files that each fit one extended-length answer: one READ BINARY with the SFI each,
    plus EF.ATR/INFO (the length limits) and EF.CardSecurity (absent here), one SELECT of the
    MF and one of the application: 30 APDUs for a minimum of 28 (protocols, the application's
    SELECT, EF.ATR/INFO and one READ BINARY per file)."""
    result, counting, sfi_reads = _full_read()
    files = len(result.dump.files)
    assert files == 11
    assert counting.ins == {"protocol": PROTOCOL_APDUS, "select": 2, "read": files + 2}
    assert all(sfi_reads)
    minimum = PROTOCOL_APDUS + 1 + 1 + files
    assert sum(counting.ins.values()) == 30 <= 1.1 * minimum


@pytest.mark.parametrize("sw", [0x6A81, 0x6A86])
def test_a_chip_that_refuses_sfi_is_read_with_select(sw: int) -> None:
    """The first READ BINARY with an SFI is refused: the reader SELECTs every file from then on
    (one wasted command) and reads the same files."""
    result, counting, sfi_reads = _full_read(refuse_sfi=sw)
    files = len(result.dump.files)
    assert sfi_reads[0] is True and not any(sfi_reads[1:])
    # SELECT MF and application, and one per file read (EF.ATR/INFO, the absent
    # EF.CardSecurity, the 11 files)
    assert counting.ins == {"protocol": PROTOCOL_APDUS, "select": 2 + 1 + 1 + files,
                            "read": 1 + 1 + files}  # fmt: skip


def test_the_reader_decodes_each_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """EF.CardAccess, EF.COM, EF.SOD, DG14 and DG15 are read for the protocols and returned
    decoded: one decode each (the chip's own decoding, in the same process, is not counted)."""
    calls: Counter[str] = Counter()
    for name in ("EF.CardAccess", "EF.COM", "EF.SOD", "DG14", "DG15"):
        cls = FILES[name].cls
        original = cls.decode

        def counting(data: bytes, _name: str = name, _original: object = original) -> object:
            if not any("/idcard/chip/" in f.filename for f in traceback.extract_stack()):
                calls[_name] += 1
            return _original(data)  # type: ignore[operator]

        monkeypatch.setattr(cls, "decode", counting)
    result, _, _ = _full_read()
    assert calls == {name: 1 for name in ("EF.CardAccess", "EF.COM", "EF.SOD", "DG14", "DG15")}
    assert set(result.objects) == set(result.dump.files)
