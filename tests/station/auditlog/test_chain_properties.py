"""Properties of the chain walk (no database): whatever the chain's length and wherever one
entry is changed, removed, inserted or moved, ``verify`` names that kind and that entry."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from station.auditlog import GENESIS, Entry, entry_hash
from station.auditlog.verify import Problem, _first_problem

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def chain(n: int) -> list[Entry]:
    made: list[Entry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        fields = {"seq": seq, "at": T0 + timedelta(seconds=seq), "who": f"op{seq % 3}",
                  "role": "operator", "point": "TAS-01", "action": "application.accept",
                  "object": f"application/{seq}", "state_hash": None, "prev_hash": prev}
        prev = entry_hash(**fields)
        made.append(Entry(**fields, entry_hash=prev))  # type: ignore[arg-type]
    return made


def renumbered(entries: list[Entry]) -> list[Entry]:
    """The rows given consecutive ``seq`` from 1, their stored hashes kept (what an attacker
    closing a gap or making room does)."""
    return [dataclasses.replace(e, seq=i) for i, e in enumerate(entries, 1)]


sizes = st.integers(min_value=3, max_value=12)


@given(sizes, st.data())
def test_an_intact_chain_has_no_problem(n: int, data: st.DataObject) -> None:
    assert _first_problem(chain(n)) is None


@given(sizes, st.data(), st.sampled_from(["who", "object", "action", "at", "entry_hash",
                                          "prev_hash"]))
def test_a_changed_entry_is_named(n: int, data: st.DataObject, field: str) -> None:
    k = data.draw(st.integers(1, n), label="k")
    entries = chain(n)
    old = getattr(entries[k - 1], field)
    new = old + timedelta(seconds=1) if field == "at" else (
        "f" * 64 if field.endswith("hash") else f"{old}x")  # fmt: skip
    entries[k - 1] = dataclasses.replace(entries[k - 1], **{field: new})
    problem = _first_problem(entries)
    assert problem == Problem("changed", k, "its fields no longer give its recorded hash")


@given(sizes, st.data())
def test_a_changed_entry_with_its_hash_recomputed_is_named(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, n), label="k")
    entries = chain(n)
    prev = "1" * 64 if k == 1 else entries[k - 1].prev_hash  # the first: another start
    fields = entries[k - 1].fields() | {"object": "application/forged", "prev_hash": prev}
    entries[k - 1] = Entry(**fields, entry_hash=entry_hash(**fields))
    problem = _first_problem(entries)
    if k == 1:
        assert problem == Problem("changed", 1, "the first entry does not start the chain")
    elif k == n:  # nothing after it records its hash: the head row and checkpoints tell
        assert problem is None
    else:
        assert problem == Problem("changed", k, f"entry {k + 1} records another hash for it")


@given(sizes, st.data(), st.booleans())
def test_removed_entries_are_named(n: int, data: st.DataObject, renumber: bool) -> None:
    k = data.draw(st.integers(1, n - 1), label="k")  # the last one: the head row tells
    m = data.draw(st.integers(1, n - k), label="m")  # entries k .. k+m-1 removed
    entries = chain(n)
    del entries[k - 1:k - 1 + m]
    if renumber:
        entries = renumbered(entries)
    problem = _first_problem(entries, horizon=n)  # the head row still says n
    detail = (f"the entry here was written as {k + m}: {_entries(m)} removed, the rest "
              "renumbered") if renumber else f"no entry {k}; the next is {k + m}"
    assert problem == Problem("removed", k, detail)


def _entries(m: int) -> str:
    return "1 entry" if m == 1 else f"{m} entries"


@given(sizes, st.data(), st.booleans())
def test_inserted_entries_are_named(n: int, data: st.DataObject, linked: bool) -> None:
    k = data.draw(st.integers(1, n), label="k")
    m = data.draw(st.integers(1, 3), label="m")  # forged entries k .. k+m-1, the rest moved up
    entries = chain(n)
    prev = entries[k - 2].entry_hash if k > 1 else GENESIS
    forged = []
    for i in range(m):
        fields = {"seq": k + i, "at": T0, "who": "mallory", "role": "operator",
                  "point": "TAS-01", "action": "application.accept",
                  "object": f"application/forged-{i}", "state_hash": None, "prev_hash": prev}
        prev = entry_hash(**fields) if linked else "0" * 64
        forged.append(Entry(**fields, entry_hash=prev))  # type: ignore[arg-type]
    entries = renumbered([*entries[: k - 1], *forged, *entries[k - 1:]])
    problem = _first_problem(entries)
    detail = (f"entry {k + m} was written as {k}: {_entries(m)} inserted before it" if linked
              else f"the entry after it was written as {k}" if m == 1
              else "its fields no longer give its recorded hash")  # fmt: skip
    assert problem == Problem("inserted" if linked or m == 1 else "changed", k, detail)


@given(sizes, st.data())
def test_moved_entries_are_named(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, n - 1), label="k")
    to = data.draw(st.integers(k + 1, n), label="to")
    entries = chain(n)
    moved = entries.pop(k - 1)  # entry k moved further on, the rows renumbered
    entries.insert(to - 1, moved)
    problem = _first_problem(renumbered(entries))
    assert problem == Problem("reordered", k, f"the entry here was written as {k + 1}; entry {k} "
                              "stands further on")
