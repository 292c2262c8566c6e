"""The audit chain on SQLite and PostgreSQL: appended in the caller's transaction, and
``verify`` naming the first entry changed, removed, inserted or reordered when the rows are
tampered with in the database (and checkpoints catching what the chain alone cannot)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from tests.softhsm import SoftHSMToken
from tests.station.center.kit import setup_center

from pki.hsm import PKCS11Module
from pki.keys import KeySpec, SoftwareSigner, generate_private_key
from station.auditlog import (
    GENESIS,
    Actor,
    AuditLogError,
    append,
    checkpoint,
    entries,
    entry_hash,
    head,
    record_view,
    verify,
    verify_chain,
)
from station.db import Database
from station.db.center_tables import Point

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ALICE = Actor("aziza", "operator", "TAS01")


def _fill(db: Database, n: int = 6) -> None:
    for i in range(1, n + 1):
        with db.session() as s:
            append(s, ALICE, "application.accept", f"application/{i}",
                   state={"n": i}, now=NOW + timedelta(minutes=i))  # fmt: skip


def _sql(db: Database, *statements: str, **params: Any) -> None:
    """Tamper with the rows directly, as someone with write access to the database would."""
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)


def _row(db: Database, seq: int) -> dict[str, Any]:
    with db.engine.connect() as connection:
        found = connection.execute(text("SELECT * FROM audit_entries WHERE seq = :s"), {"s": seq})
        return dict(found.one()._mapping)


def _rehash(db: Database, seq: int, **changes: Any) -> str:
    """Rewrite entry ``seq`` with ``changes`` and a hash that fits them (a careful forger)."""
    with db.session(write=False) as s:
        entry = next(e for e in entries(s) if e.seq == seq)
    fields = entry.fields() | changes
    digest = entry_hash(**fields)
    _sql(db, "UPDATE audit_entries SET object = :o, prev_hash = :p, entry_hash = :h "
         "WHERE seq = :s", o=fields["object"], p=fields["prev_hash"], h=digest, s=seq)
    return digest


def _renumber(db: Database, seqs: list[int], delta: int) -> None:
    for seq in sorted(seqs, reverse=delta > 0):  # one row at a time: the key stays unique
        _sql(db, "UPDATE audit_entries SET seq = :n WHERE seq = :s", n=seq + delta, s=seq)


def _problem(db: Database) -> tuple[str, int] | None:
    report = verify(db, chain="center")
    return None if report.problem is None else (report.problem.kind, report.problem.seq)


def test_entries_form_a_chain_written_with_the_change(center_db: Database) -> None:
    _fill(center_db, 3)
    with center_db.session(write=False) as s:
        log = entries(s)
        assert head(s) == (3, log[-1].entry_hash)
    assert [e.seq for e in log] == [1, 2, 3]
    assert log[0].prev_hash == GENESIS
    assert [e.prev_hash for e in log[1:]] == [e.entry_hash for e in log[:-1]]
    assert all(entry_hash(**e.fields()) == e.entry_hash for e in log)
    assert log[0].at == NOW + timedelta(minutes=1) and log[0].point == "TAS01"
    report = verify(center_db, chain="center")
    assert report.intact and report.problem is None
    assert (report.chain, report.entries, report.head_seq) == ("center", 3, 3)
    # a use case that fails after appending leaves neither its change nor its entry
    setup_center(center_db)
    with center_db.session(write=False) as s:
        before = len(entries(s))
    with pytest.raises(RuntimeError):
        _failing_use_case(center_db)
    with center_db.session(write=False) as s:
        assert len(entries(s)) == before and s.get(Point, "NEW1") is None


def _failing_use_case(db: Database) -> None:
    with db.session() as s:
        s.add(Point(code="NEW1", name="x", kind="public_services", place_code="001",
                    created_at=NOW))  # fmt: skip
        append(s, ALICE, "point.register", "point/NEW1", now=NOW)
        raise RuntimeError("the use case fails after its entry")


def test_a_view_of_biometric_data_is_recorded(point_db: Database) -> None:
    seen = record_view(point_db, ALICE, "application/A-1/face", now=NOW)
    assert (seen.seq, seen.action, seen.object, seen.state_hash) == (
        1, "biometrics.view", "application/A-1/face", None)
    assert verify(point_db, chain="point:TAS01").intact


def test_bad_entries_are_refused(center_db: Database) -> None:
    with center_db.session() as s:
        for action, obj in (("Bad Action", "x"), ("ok", ""), ("ok", "x" * 201)):
            with pytest.raises(AuditLogError):
                append(s, ALICE, action, obj, now=NOW)
        with pytest.raises(AuditLogError, match="aware"):
            append(s, ALICE, "ok", "x", now=datetime(2026, 12, 5))


TAMPERING: dict[str, tuple[Callable[[Database], None], tuple[str, int]]] = {
    # a field of entry 3 changed, its hash left
    "changed": (lambda db: _sql(db, "UPDATE audit_entries SET who = 'mallory' WHERE seq = 3"),
                ("changed", 3)),
    # ... and its hash recomputed: entry 4 still records the old one
    "changed, hash recomputed": (lambda db: _rehash(db, 3, object="application/999"),
                                 ("changed", 3)),
    "changed time": (lambda db: _sql(db, "UPDATE audit_entries SET at = :t WHERE seq = 2",
                                     t=(NOW + timedelta(days=1)).replace(tzinfo=None)),
                     ("changed", 2)),
    # entry 3 deleted
    "removed": (lambda db: _sql(db, "DELETE FROM audit_entries WHERE seq = 3"), ("removed", 3)),
    # entries 3 and 4 deleted and the rest renumbered to close the gap
    "removed, renumbered": (lambda db: (_sql(db, "DELETE FROM audit_entries WHERE seq IN (3, 4)"),
                                        _renumber(db, [5, 6], -2)), ("removed", 3)),
    # the last entry deleted: the head row still counts it
    "removed last": (lambda db: _sql(db, "DELETE FROM audit_entries WHERE seq = 6"),
                     ("removed", 6)),
    # entries 1-4 deleted, 5 and 6 renumbered 1 and 2: the head row still says 6
    "removed most, renumbered": (lambda db: (_sql(db, "DELETE FROM audit_entries WHERE seq < 5"),
                                             _renumber(db, [5, 6], -4)), ("removed", 1)),
    # a forged entry inserted as 3, linked to entry 2 with a correct hash, the rest moved up
    "inserted": (lambda db: _insert_forged(db, 3), ("inserted", 3)),
    # ... with a hash that does not fit
    "inserted, bad hash": (lambda db: _insert_forged(db, 3, good_hash=False), ("inserted", 3)),
    # entries 3 and 4 swapped
    "reordered": (lambda db: (_renumber(db, [3], 100), _renumber(db, [4], -1),
                              _renumber(db, [103], -99)), ("reordered", 3)),
}  # fmt: skip


def _insert_forged(db: Database, seq: int, *, good_hash: bool = True) -> None:
    _renumber(db, list(range(seq, 7)), +1)
    prev = _row(db, seq - 1)["entry_hash"]
    fields = {"seq": seq, "at": NOW, "who": "mallory", "role": "operator", "point": "TAS01",
              "action": "application.accept", "object": "application/x", "state_hash": None,
              "prev_hash": prev}  # fmt: skip
    digest = entry_hash(**fields) if good_hash else "f" * 64
    _sql(db, "INSERT INTO audit_entries (seq, at, who, role, point, action, object, state_hash,"
         " prev_hash, entry_hash) VALUES (:seq, :at, :who, :role, :point, :action, :object,"
         " :state_hash, :prev_hash, :entry_hash)",
         **(fields | {"entry_hash": digest, "at": NOW.replace(tzinfo=None)}))  # fmt: skip


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_names_the_first_entry_tampered_with(center_db: Database, case: str) -> None:
    _fill(center_db)
    assert _problem(center_db) is None
    tamper, expected = TAMPERING[case]
    tamper(center_db)
    assert _problem(center_db) == expected
    assert not verify(center_db, chain="center").intact


def test_the_head_row_is_checked(center_db: Database) -> None:
    _fill(center_db, 3)
    _sql(center_db, "UPDATE audit_head SET entry_hash = :h", h="0" * 64)
    assert _problem(center_db) == ("changed", 3)
    problem = verify(center_db, chain="center").problem
    assert problem is not None and problem.detail == "the log's head does not record the last entry"
    _sql(center_db, "UPDATE audit_head SET seq = 2")  # the head moved back by one
    assert _problem(center_db) == ("changed", 3)
    _sql(center_db, "UPDATE audit_head SET seq = 3")
    _sql(center_db, "DELETE FROM audit_entries WHERE seq = 3")
    _sql(center_db, "UPDATE audit_head SET entry_hash = :h", h=_row(center_db, 2)["entry_hash"])
    problem = verify(center_db, chain="center").problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.detail) == (
        "removed", 3, "the log's head records 3 entries, 2 remain")
    _sql(center_db, "DELETE FROM audit_entries")
    _sql(center_db, "UPDATE audit_head SET seq = 0")  # an empty log, its head not the genesis
    assert _problem(center_db) == ("changed", 1)
    _sql(center_db, "DELETE FROM audit_head")
    with center_db.session() as s, pytest.raises(AuditLogError, match="head row"):
        append(s, ALICE, "x", "y", now=NOW)


def _signer(label: str = "audit") -> SoftwareSigner:
    return SoftwareSigner(generate_private_key(KeySpec.parse("ec-p256")), label)


def test_checkpoints_sign_the_head_and_verify_only_with_the_key(center_db: Database) -> None:
    signer = _signer()
    _fill(center_db, 2)
    first = checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    assert (first.seq, first.algorithm, first.by) == (2, "ecdsa-sha256", "root")
    _fill(center_db, 1)
    second = checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    assert second.seq == 3
    report = verify(center_db, chain="center", key=signer.public_key())
    assert report.intact and report.signatures_checked
    assert [(c.seq, c.at, c.head, c.signature) for c in report.checkpoints] == [
        (2, NOW, "matches", "valid"), (3, NOW, "matches", "valid")]
    with center_db.session(write=False) as s:
        direct = verify_chain(s, chain="center", key=None)
    assert {c.signature for c in direct.checkpoints} == {"not checked (no audit key given)"}
    unchecked = verify(center_db, chain="center")
    assert unchecked.intact and not unchecked.signatures_checked
    assert {c.signature for c in unchecked.checkpoints} == {"not checked (no audit key given)"}
    other = verify(center_db, chain="center", key=_signer().public_key())
    assert {c.signature for c in other.checkpoints} == {
        "not checked (signed with another key than the one given)"}
    assert verify(center_db, chain="point:TAS01").checkpoints == ()  # another chain's
    told = verify(center_db, chain="center", key_reason="the key file is missing")
    assert {c.signature for c in told.checkpoints} == {"not checked (the key file is missing)"}
    # a forged copy of the first checkpoint added last is reported in seq order, then as added
    _sql(center_db, "INSERT INTO audit_checkpoints (chain, seq, head_hash, at, by, key_sha256,"
         " algorithm, signature) SELECT chain, seq, head_hash, at, 'mallory', key_sha256,"
         " algorithm, signature FROM audit_checkpoints WHERE seq = 2")
    again = verify(center_db, chain="center", key=signer.public_key())
    assert [(c.seq, c.signature) for c in again.checkpoints] == [
        (2, "valid"), (2, "invalid"), (3, "valid")]
    assert not again.intact and again.problem is None


def test_a_forged_checkpoint_signature_is_invalid(center_db: Database) -> None:
    signer = _signer()
    _fill(center_db, 2)
    checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    _sql(center_db, "UPDATE audit_checkpoints SET at = :t", t=datetime(2027, 1, 1))
    report = verify(center_db, chain="center", key=signer.public_key())
    assert [c.signature for c in report.checkpoints] == ["invalid"]
    assert report.problem is None and not report.intact


def test_a_consistently_rewritten_chain_is_caught_by_a_checkpoint(center_db: Database) -> None:
    signer = _signer()
    _fill(center_db, 2)
    checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    _fill(center_db, 4)  # entries 3..6
    checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    prev = _row(center_db, 3)["prev_hash"]
    for seq in range(3, 7):  # entries 3..6 rewritten, every hash recomputed, the head too
        prev = _rehash(center_db, seq, object="application/forged", prev_hash=prev)
    _sql(center_db, "UPDATE audit_head SET entry_hash = :h", h=prev)
    report = verify(center_db, chain="center", key=signer.public_key())
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == ("changed", 3)  # between 3 and 6
    assert "between 3 and 6" in report.problem.detail
    assert [c.head for c in report.checkpoints] == ["matches", "differs"]


def test_the_last_entries_removed_with_the_head_are_caught_by_a_checkpoint(
    center_db: Database,
) -> None:
    signer = _signer()
    _fill(center_db, 4)
    checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    _sql(center_db, "DELETE FROM audit_entries WHERE seq = 4")
    _sql(center_db, "UPDATE audit_head SET seq = 3, entry_hash = :h",
         h=_row(center_db, 3)["entry_hash"])  # fmt: skip
    assert _problem(center_db) == ("removed", 4)
    problem = verify(center_db, chain="center").problem
    assert problem is not None and problem.detail == "checkpoint 4 signs entries that are gone"


def test_a_checkpoint_of_an_empty_chain_and_of_one_entry_gone(center_db: Database) -> None:
    signer = _signer()
    empty = checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    assert (empty.seq, empty.head_hash) == (0, GENESIS)
    report = verify(center_db, chain="center", key=signer.public_key())
    assert [(c.seq, c.head, c.signature) for c in report.checkpoints] == [(0, "matches", "valid")]
    assert report.intact
    _fill(center_db, 1)
    checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    _sql(center_db, "DELETE FROM audit_entries")
    _sql(center_db, "UPDATE audit_head SET seq = 0, entry_hash = :h", h=GENESIS)
    report = verify(center_db, chain="center", key=signer.public_key())
    assert [c.head for c in report.checkpoints] == ["matches", "missing"]
    assert report.problem is not None and (report.problem.kind, report.problem.seq) == (
        "removed", 1)


def test_a_rewrite_is_placed_after_the_last_checkpoint_that_vouches(center_db: Database) -> None:
    """Rewritten from entry 1: nothing vouches before checkpoint 4. A checkpoint with a bad
    signature vouches for nothing either, even when its head still matches."""
    signer = _signer()
    _fill(center_db, 2)
    checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    _fill(center_db, 2)
    checkpoint(center_db, signer, chain="center", by="root", now=NOW)
    _sql(center_db, "UPDATE audit_checkpoints SET by = 'mallory' WHERE seq = 2")  # signed too
    prev = _row(center_db, 3)["prev_hash"]
    for seq in range(3, 5):  # entries 3 and 4 rewritten, every hash recomputed
        prev = _rehash(center_db, seq, object="application/forged", prev_hash=prev)
    _sql(center_db, "UPDATE audit_head SET entry_hash = :h", h=prev)
    report = verify(center_db, chain="center", key=signer.public_key())
    assert [(c.head, c.signature) for c in report.checkpoints] == [
        ("matches", "invalid"), ("differs", "valid")]
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq, report.problem.detail) == (
        "changed", 1, "checkpoint 4 signs another head: the chain was rewritten from an entry "
        "between 1 and 4")


def test_a_checkpoint_signed_on_a_pkcs11_token(center_db: Database,
                                               softhsm_token: SoftHSMToken) -> None:  # fmt: skip
    token = PKCS11Module(softhsm_token.module).token(softhsm_token.label)
    _fill(center_db, 2)
    with token.session(lambda: softhsm_token.pin) as session:
        signer = session.generate(f"audit-{uuid.uuid4().hex[:8]}", KeySpec.parse("ec-p256"))
        made = checkpoint(center_db, signer, chain="center", by="root", now=NOW)
        key = signer.public_key()
    assert made.seq == 2
    report = verify(center_db, chain="center", key=key)
    assert report.intact and [c.signature for c in report.checkpoints] == ["valid"]


def test_concurrent_appenders_queue_on_the_head(center_db: Database) -> None:
    """Four threads appending at once: every entry is written, numbered 1..n without a gap or
    a fork, and the chain is intact (SELECT … FOR UPDATE on the head; SQLite's write lock)."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(8):
                with center_db.session() as s:
                    append(s, Actor(f"op{n}", "operator", "TAS01"), "application.accept",
                           f"application/{n}-{i}", now=NOW)  # fmt: skip
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with center_db.session(write=False) as s:
        log = entries(s)
    assert [e.seq for e in log] == list(range(1, 33))
    assert len({e.object for e in log}) == 32
    assert verify(center_db, chain="center").intact
