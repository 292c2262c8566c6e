"""Verifying an audit chain: the first entry changed, removed, inserted or reordered, and the
signed checkpoints.

The walk goes up ``seq`` from 1. Every entry's hash is recomputed from its fields (its ``seq``
included) and its ``prev_hash`` compared with the entry before. At the first break the stored
hashes tell what happened, since an entry's stored hash still names the ``seq`` it was written
at:

- a gap in ``seq``, or an entry whose hash fits a LATER ``seq`` (renumbered down to close the
  gap): entries were **removed** — the first missing ``seq`` is named;
- an entry whose hash fits an EARLIER ``seq`` (renumbered up to make room), or an entry whose
  successor's hash fits this entry's ``seq``: an entry was **inserted** at that ``seq``;
- an entry whose ``seq`` is held by another entry's hash further on: entries were
  **reordered** — the first ``seq`` out of place is named;
- otherwise the entry at that ``seq`` was **changed** (its fields, or the hash recorded for the
  entry before it when an attacker rewrote hashes to match).

Entries removed at the end leave no break: the head row and the checkpoints still record the
longer chain. A chain rewritten consistently from some entry on (every hash recomputed) is caught
by a checkpoint whose signed head no longer matches, and only then: checkpoints are what make
the log tamper-evident against someone who can write the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from pki.keys import PublicKey
from station.auditlog.chain import GENESIS, Entry, entries, entry_hash, head
from station.auditlog.checkpoint import CHECKPOINTS, Checkpoint, key_sha256, verify_checkpoint
from station.db import Database

__all__ = [
    "NO_KEY",
    "ChainReport",
    "CheckpointCheck",
    "Problem",
    "verify",
    "verify_chain",
]

Kind = Literal["changed", "removed", "inserted", "reordered"]
NO_KEY = "no audit key given"
"""Why checkpoint signatures are "not checked" when no key is given."""


@dataclass(frozen=True, slots=True)
class Problem:
    """The first break of the chain: ``seq`` of the first entry changed, removed, inserted or
    reordered (``kind``), and what was seen (``detail``)."""

    kind: Kind
    seq: int
    detail: str

    def __str__(self) -> str:
        return f"entry {self.seq} {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class CheckpointCheck:
    """One checkpoint checked: ``head`` says whether the chain still has its signed head
    ("matches", "differs", "missing": the entry is gone); ``signature`` is "valid", "invalid",
    or "not checked (…)" when no audit key was given or the key differs."""

    seq: int
    at: datetime
    head: Literal["matches", "differs", "missing"]
    signature: str

    @property
    def ok(self) -> bool:
        return self.head == "matches" and self.signature == "valid"


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The verdict on one chain (``chain``: "center" or "point:<code>")."""

    chain: str
    entries: int
    head_seq: int
    problem: Problem | None
    checkpoints: tuple[CheckpointCheck, ...] = field(default=())

    @property
    def intact(self) -> bool:
        """No entry changed, removed, inserted or reordered, and no checkpoint contradicts
        the chain or carries a bad signature (unchecked signatures are not failures)."""
        return self.problem is None and all(
            c.head == "matches" and c.signature != "invalid" for c in self.checkpoints
        )

    @property
    def signatures_checked(self) -> bool:
        """Every checkpoint's signature was checked (and there is at least one)."""
        return bool(self.checkpoints) and all(
            c.signature in ("valid", "invalid") for c in self.checkpoints
        )


def _fits(entry: Entry, seq: int) -> bool:
    """Whether ``entry``'s stored hash is the hash of its fields written at ``seq``."""
    fields = entry.fields() | {"seq": seq}
    return entry_hash(**fields) == entry.entry_hash


def _first_problem(chain: Sequence[Entry], *, horizon: int = 0) -> Problem | None:
    """The first break of ``chain`` (in ``seq`` order). ``horizon``: the highest ``seq`` known
    to have been written (the head row's, a checkpoint's): how far back a renumbered entry's
    original place is searched (a removal beyond it is reported as a change)."""
    prev = GENESIS
    for i, entry in enumerate(chain):
        expected = i + 1
        if entry.seq != expected:
            return Problem("removed", expected, f"no entry {expected}; the next is {entry.seq}")
        own = _fits(entry, entry.seq)
        if own and entry.prev_hash == prev:
            prev = entry.entry_hash
            continue
        return _classify(chain, i, own=own, horizon=horizon)
    return None


def _written_at(entry: Entry, bound: int) -> int | None:
    """The ``seq`` (1..bound) ``entry``'s stored hash was computed with, if any."""
    return next((seq for seq in range(1, bound + 1) if _fits(entry, seq)), None)


def _classify(chain: Sequence[Entry], i: int, *, own: bool, horizon: int) -> Problem:
    """What the first break at ``chain[i]`` is (every entry before it is intact and linked)."""
    entry = chain[i]
    seq = entry.seq
    later = chain[i + 1:]
    if not own:
        written = _written_at(entry, max(horizon, chain[-1].seq) + len(chain))
        if written is not None and written < seq:  # its own place holds another entry
            n = seq - written
            return Problem("inserted", written, f"entry {seq} was written as {written}: "
                           f"{n} entr{'y' if n == 1 else 'ies'} inserted before it")
        if written is not None:  # written further on
            if any(_fits(other, seq) for other in later):
                return Problem("reordered", seq, f"the entry here was written as {written}; "
                               f"entry {seq} stands further on")
            n = written - seq
            return Problem("removed", seq, f"the entry here was written as {written}: "
                           f"{n} entr{'y' if n == 1 else 'ies'} removed, the rest renumbered")
        if later and _fits(later[0], seq):
            return Problem("inserted", seq, f"the entry after it was written as {seq}")
        return Problem("changed", seq, "its fields no longer give its recorded hash")
    # the entry is what was written at its seq, but not after the entry before it
    if i == 0:
        return Problem("changed", seq, "the first entry does not start the chain")
    return Problem("changed", seq - 1, f"entry {seq} records another hash for it")


def verify_chain(
    session: Session,
    *,
    chain: str,
    key: PublicKey | None,
    key_reason: str = NO_KEY,
) -> ChainReport:
    """Verify the audit chain of ``session``'s database. ``key``: the audit public key the
    checkpoints must be signed with (None: their signatures are "not checked (key_reason)")."""
    log = entries(session)
    head_seq, head_hash = head(session)
    signed = checkpoints(session, chain)
    problem = _first_problem(log, horizon=max([head_seq, *(c.seq for c in signed)]))
    last = (log[-1].seq, log[-1].entry_hash) if log else (0, GENESIS)
    if problem is None:
        if head_seq > len(log):
            problem = Problem("removed", len(log) + 1,
                              f"the log's head records {head_seq} entries, {len(log)} remain")
        elif (head_seq, head_hash) != last:
            problem = Problem("changed", max(len(log), 1),
                              "the log's head does not record the last entry")
    by_seq = {e.seq: e for e in log}
    checks = tuple(_check(c, by_seq, key, key_reason) for c in signed)
    if problem is None:
        problem = _against_checkpoints(checks, len(log))
    return ChainReport(chain=chain, entries=len(log), head_seq=head_seq, problem=problem,
                       checkpoints=checks)  # fmt: skip


def _against_checkpoints(checks: Sequence[CheckpointCheck], count: int) -> Problem | None:
    """A chain without a break that a checkpoint contradicts: removed at the end, or rewritten
    (every hash recomputed) somewhere after the last checkpoint that still matches."""
    good = 0
    for check in sorted(checks, key=lambda c: c.seq):
        if check.head == "missing":
            return Problem("removed", count + 1,
                           f"checkpoint {check.seq} signs entries that are gone")
        if check.head == "differs":
            return Problem("changed", good + 1,
                           f"checkpoint {check.seq} signs another head: the chain was rewritten "
                           f"from an entry between {good + 1} and {check.seq}")
        if check.signature != "invalid":
            good = check.seq
    return None


def checkpoints(session: Session, chain: str) -> list[Checkpoint]:
    """The checkpoints of ``chain`` in ``seq`` order."""
    rows = session.execute(select(CHECKPOINTS).where(CHECKPOINTS.c.chain == chain)
                           .order_by(CHECKPOINTS.c.seq, CHECKPOINTS.c.id))  # fmt: skip
    return [Checkpoint(**{k: v for k, v in r._mapping.items() if k != "id"}) for r in rows]


def _check(point: Checkpoint, by_seq: dict[int, Entry], key: PublicKey | None,
           key_reason: str) -> CheckpointCheck:  # fmt: skip
    entry = by_seq.get(point.seq)
    state: Literal["matches", "differs", "missing"] = (
        "missing" if entry is None and point.seq > 0
        else "matches" if (entry.entry_hash if entry else GENESIS) == point.head_hash
        else "differs"
    )
    if key is None:
        signature = f"not checked ({key_reason})"
    elif key_sha256(key) != point.key_sha256:
        signature = "not checked (signed with another key than the one given)"
    else:
        signature = "valid" if verify_checkpoint(point, key) else "invalid"
    return CheckpointCheck(seq=point.seq, at=point.at, head=state, signature=signature)



def verify(db: Database, *, chain: str, key: PublicKey | None = None,
           key_reason: str = NO_KEY) -> ChainReport:  # fmt: skip
    """:func:`verify_chain` in one read transaction of ``db``."""
    with db.session(write=False) as session:
        return verify_chain(session, chain=chain, key=key, key_reason=key_reason)
