"""The point's blank stock: batches in, every blank issued, spoiled (with reason) or still at the
point, and a daily report that balances (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idcard.chip import VirtualChip
from idcard.chip.emrtd import make_atr
from station.db import Database, Role, open_database, sqlite_url
from station.point.errors import PointError
from station.point.stock import (
    BlankSpec,
    BlankStatus,
    OutOfStock,
    daily_report,
    end_blank,
    historical_bytes,
    list_blanks,
    make_virtual_blanks,
    receive,
    take_blank,
)

DAY1 = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)  # 10:00 in Tashkent, Friday 4 December
HIST = bytes.fromhex("80739421 40".replace(" ", ""))


def specs(prefix: str, n: int) -> list[BlankSpec]:
    return [BlankSpec(f"{prefix}-{i}", HIST) for i in range(n)]


def test_historical_bytes_of_the_virtual_chips_atr() -> None:
    assert historical_bytes(make_atr(True)) == bytes.fromhex("8073942140")
    assert historical_bytes(make_atr(False)) == bytes.fromhex("8073942100")
    # a T=0 ATR without interface bytes and without TCK: 3B 02 + 2 historical bytes
    assert historical_bytes(bytes.fromhex("3B021234")) == bytes.fromhex("1234")


def test_a_truncated_atr_is_refused() -> None:
    with pytest.raises(PointError, match="shorter than"):
        historical_bytes(make_atr(True)[:-3])


def test_receive_and_list(point_db: Database) -> None:
    got = receive(point_db, batch="B1", blanks=specs("S", 3), now=DAY1)
    assert [b.serial for b in got] == ["S-0", "S-1", "S-2"]
    listed = list_blanks(point_db, status=BlankStatus.IN_STOCK)
    assert [(b.serial, b.batch, b.historical) for b in listed] == [(f"S-{i}", "B1", HIST)
                                                                   for i in range(3)]
    assert listed[0].to_json()["historical"] == "8073942140"


def test_a_serial_already_in_stock_refuses_the_whole_batch(point_db: Database) -> None:
    receive(point_db, batch="B1", blanks=specs("S", 2), now=DAY1)
    with pytest.raises(PointError, match="already in the stock"):
        receive(point_db, batch="B2", blanks=[BlankSpec("T-0", HIST), BlankSpec("S-1", HIST)],
                now=DAY1)
    assert [b.serial for b in list_blanks(point_db)] == ["S-0", "S-1"]  # T-0 not taken in


@pytest.mark.parametrize(("batch", "serial", "field"), [("", "S", "batch"), ("B 1", "S", "batch"),
                                                        ("B1", "a/b", "serial")])
def test_bad_batch_or_serial(point_db: Database, batch: str, serial: str, field: str) -> None:
    with pytest.raises(PointError) as info:
        receive(point_db, batch=batch, blanks=[BlankSpec(serial, HIST)], now=DAY1)
    assert info.value.field == field


def test_take_the_oldest_then_out_of_stock(point_db: Database) -> None:
    receive(point_db, batch="B1", blanks=specs("S", 2), now=DAY1)
    with point_db.session() as s:
        first = take_blank(s, job="j1", card="AD0000001").serial
    with point_db.session() as s:
        second = take_blank(s, job="j2", card="AD0000002").serial
    assert (first, second) == ("S-0", "S-1")
    with pytest.raises(OutOfStock, match="no blank is left"), point_db.session() as s:
        take_blank(s, job="j3", card="AD0000003")
    in_use = list_blanks(point_db, status=BlankStatus.IN_USE)
    assert [(b.job, b.card) for b in in_use] == [("j1", "AD0000001"), ("j2", "AD0000002")]


def test_a_spoiled_blank_needs_its_reason_and_ends_once(point_db: Database) -> None:
    receive(point_db, batch="B1", blanks=specs("S", 1), now=DAY1)
    with point_db.session() as s:
        blank = take_blank(s, job="j1", card="AD0000001").id
    with pytest.raises(PointError, match="needs its reason"), point_db.session() as s:
        end_blank(s, blank, BlankStatus.SPOILED, now=DAY1, reason=" ")
    with point_db.session() as s:
        end_blank(s, blank, BlankStatus.SPOILED, now=DAY1, reason="gate: AA failed")
    with pytest.raises(PointError, match="not in use"), point_db.session() as s:
        end_blank(s, blank, BlankStatus.ISSUED, now=DAY1)
    (row,) = list_blanks(point_db)
    assert (row.status, row.reason) == (BlankStatus.SPOILED, "gate: AA failed")


def test_the_daily_report_balances_over_two_days(point_db: Database) -> None:
    receive(point_db, batch="B1", blanks=specs("S", 5), now=DAY1)
    ids = []
    for i in range(4):
        with point_db.session() as s:
            ids.append(take_blank(s, job=f"j{i}", card=f"AD000000{i + 1}").id)
    with point_db.session() as s:
        end_blank(s, ids[0], BlankStatus.ISSUED, now=DAY1 + timedelta(hours=1))
        end_blank(s, ids[1], BlankStatus.SPOILED, now=DAY1 + timedelta(hours=2),
                  reason="personalize: interrupted")
    day2 = DAY1 + timedelta(days=1)
    receive(point_db, batch="B2", blanks=specs("T", 2), now=day2)
    with point_db.session() as s:
        end_blank(s, ids[2], BlankStatus.ISSUED, now=day2 + timedelta(hours=1))
        end_blank(s, ids[3], BlankStatus.SPOILED, now=day2 + timedelta(hours=1),
                  reason="personalize: interrupted")
    one = daily_report(point_db, date(2026, 12, 4))
    two = daily_report(point_db, date(2026, 12, 5))
    assert (one.opening, one.received, one.issued, one.spoiled, one.closing) == (0, 5, 1, 1, 3)
    assert (two.opening, two.received, two.issued, two.spoiled, two.closing) == (3, 2, 1, 1, 3)
    assert one.balanced and two.balanced
    assert two.to_json()["spoiled_reasons"] == {"personalize: interrupted": 1}


def test_an_ending_without_its_record_would_not_balance(point_db: Database) -> None:
    """The report counts the closing stock from the blanks: a blank that vanished is seen."""
    receive(point_db, batch="B1", blanks=specs("S", 2), now=DAY1)
    with point_db.session() as s:
        s.execute(__import__("sqlalchemy").text(
            "UPDATE blanks SET ended_at = :t WHERE serial = 'S-0'"), {"t": DAY1})
    report = daily_report(point_db, date(2026, 12, 4))
    assert (report.received, report.issued, report.spoiled, report.closing) == (2, 0, 0, 1)
    assert not report.balanced


def test_virtual_blanks_are_blank_chips(tmp_path: Path) -> None:
    made = make_virtual_blanks(tmp_path, batch="V1", count=2)
    assert [b.serial for b in made] == ["V1-00001", "V1-00002"]
    chip = VirtualChip.load(tmp_path / "blanks" / "V1-00001.json")
    assert not chip.locked and made[0].historical == historical_bytes(chip.atr)
    with pytest.raises(PointError, match="was made already"):
        make_virtual_blanks(tmp_path, batch="V1", count=1)


_OPS = st.lists(st.tuples(st.sampled_from(["receive", "take", "issue", "spoil"]),
                          st.integers(0, 2), st.integers(1, 3)), max_size=25)  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_OPS)
def test_any_day_balances_and_days_chain(ops: list[tuple[str, int, int]]) -> None:
    """Whatever happens over three days (batches in, blanks taken, issued, spoiled, in time
    order), each day balances, a day's closing stock is the next day's opening, and the last
    closing stock is the blanks still at the point."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(sqlite_url(Path(tmp) / "p.db"), Role.POINT)
        try:
            serials = iter(range(10**6))
            in_use: list[int] = []
            for i, (op, day, n) in enumerate(sorted(ops, key=lambda o: o[1])):
                when = DAY1 + timedelta(days=day, minutes=i)
                if op == "receive":
                    receive(db, batch=f"B{i}", blanks=[BlankSpec(f"S{next(serials)}", HIST)
                                                       for _ in range(n)], now=when)
                elif op == "take":
                    with contextlib.suppress(OutOfStock), db.session() as s:
                        in_use.append(take_blank(s, job=f"j{i}", card="AD0000001").id)
                elif in_use:
                    with db.session() as s:
                        end_blank(s, in_use.pop(0), BlankStatus(
                            "issued" if op == "issue" else "spoiled"), now=when, reason="x")
            reports = [daily_report(db, date(2026, 12, 4) + timedelta(days=d)) for d in range(3)]
            assert all(r.balanced for r in reports)
            assert [r.closing for r in reports[:-1]] == [r.opening for r in reports[1:]]
            still = [b for b in list_blanks(db)
                     if b.status in (BlankStatus.IN_STOCK, BlankStatus.IN_USE)]  # fmt: skip
            assert reports[-1].closing == len(still)
            assert sum(r.received for r in reports) == len(list_blanks(db))
        finally:
            db.close()
