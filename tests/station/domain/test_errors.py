"""The domain's errors: a field, a reason, every problem, and a JSON form a client rebuilds."""

from __future__ import annotations

import pytest

from idcard.errors import IdkartaError
from station.applicant import ApplicantError
from station.domain.errors import (
    DeadlineError,
    DomainError,
    MissingDocuments,
    TransitionError,
    error_from_json,
)
from station.errors import StationError


def test_field_reason_problems() -> None:
    err = DomainError("person.sex", "must be 'M' or 'F'", problems=[
        ("person.sex", "must be 'M' or 'F'"), ("person.birth_date", "not a date")])
    assert isinstance(err, ApplicantError | StationError | IdkartaError)
    assert (err.field, err.reason) == ("person.sex", "must be 'M' or 'F'")
    assert err.problems == (("person.sex", "must be 'M' or 'F'"),
                            ("person.birth_date", "not a date"))
    assert str(err) == "person.sex: must be 'M' or 'F' (and 1 more problem(s))"
    assert str(DomainError("ground", "unknown")) == "ground: unknown"


def test_from_problems() -> None:
    err = TransitionError.from_problems([("status", "a"), ("card", "b")])
    assert type(err) is TransitionError and err.field == "status" and len(err.problems) == 2
    with pytest.raises(ValueError, match=r"^no problems to raise$"):
        DomainError.from_problems([])


@pytest.mark.parametrize("cls", [DomainError, TransitionError, DeadlineError])
def test_json_round_trip(cls: type[DomainError]) -> None:
    err = cls("f", "r", problems=[("g", "s")])
    data = err.to_json()
    assert data == {"type": cls.__name__, "field": "f", "message": "r",
                    "problems": [["f", "r"], ["g", "s"]]}
    back = error_from_json(data)
    assert type(back) is cls and back.problems == err.problems


def test_missing_documents_json() -> None:
    err = MissingDocuments("documents", "missing: fee-receipt", missing=["fee-receipt"])
    data = err.to_json()
    assert data["missing"] == ["fee-receipt"] and data["type"] == "MissingDocuments"
    back = error_from_json(data)
    assert isinstance(back, MissingDocuments) and back.missing == ("fee-receipt",)
    assert back.field == "documents" and back.reason == "missing: fee-receipt"


def test_rebuild_from_poor_json() -> None:
    back = error_from_json({"type": "Nonsense", "field": "x", "message": "y",
                            "problems": [["x", "y"], "junk", [1]]})
    assert type(back) is DomainError and back.problems == (("x", "y"),)
    bare = error_from_json({"type": "MissingDocuments", "field": "documents", "message": "m"})
    assert isinstance(bare, MissingDocuments) and bare.missing == ()


def test_rebuild_keeps_missing_documents_problems_and_defaults() -> None:
    err = MissingDocuments("documents", "missing: fee-receipt", missing=["fee-receipt"],
                           problems=[("ground", "x")])
    back = error_from_json(err.to_json())
    assert back.problems == (("documents", "missing: fee-receipt"), ("ground", "x"))
    empty = error_from_json({})
    assert type(empty) is DomainError and (empty.field, empty.reason) == ("", "")
