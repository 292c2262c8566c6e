"""A point's configuration (point.json) and its refusal notice, without a database."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.conftest import require_tool

from station.domain.application import PointKind
from station.errors import UsageError
from station.point.config import CONFIG_NAME, OperatorRole, PointConfig
from station.point.errors import UnknownOperator
from station.point.notice import RefusalNotice, render_refusal_notice

from .conftest import POINT


def test_point_json_round_trip(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text(json.dumps(POINT.to_json()), encoding="utf-8")
    assert PointConfig.load(tmp_path) == POINT
    assert POINT.to_json()["operators"] == {"aziza": "operator", "bobur": "operator",
                                            "dilnoza": "supervisor"}  # fmt: skip
    assert POINT.role("dilnoza") is OperatorRole.SUPERVISOR
    with pytest.raises(UnknownOperator) as caught:
        POINT.role("mallory", field="approved_by")
    assert str(caught.value) == "approved_by: 'mallory' is not an operator of point TAS-01"


@pytest.mark.parametrize(("text", "message"), [
    (None, "no point.json (run 'idkarta point init')"),
    ("{", "not JSON"),
    ("[]", "point: not a JSON object"),
    ('{"code": "TAS-01"}', "point.name: missing"),
    ('{"code": "TAS-01", "name": "N", "kind": "bank", "place_code": "262"}', "point: "),
    ('{"code": "t", "name": "N", "kind": "internal-affairs", "place_code": "262"}',
     "point.code: "),
    ('{"code": "TAS-01", "name": "N", "kind": "internal-affairs", "place_code": "26"}',
     "point.place_code: "),
    ('{"code": "TAS-01", "name": " ", "kind": "internal-affairs", "place_code": "262"}',
     "point.name: empty"),
    ('{"code": "TAS-01", "name": "N", "kind": "internal-affairs", "place_code": "262", '
     '"operators": {"A B": "operator"}}', "point.operators: "),
    ('{"code": "TAS-01", "name": "N", "kind": "internal-affairs", "place_code": "262", '
     '"operators": []}', "point.operators: not an object"),
])  # fmt: skip
def test_a_bad_point_json_is_named(tmp_path: Path, text: str | None, message: str) -> None:
    if text is not None:
        (tmp_path / CONFIG_NAME).write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        PointConfig.load(tmp_path)
    assert message in str(caught.value)


def test_a_point_code_fits_the_tables() -> None:
    PointConfig(code="A" * 16, name="N", kind=PointKind.INTERNAL_AFFAIRS, place_code="262")
    with pytest.raises(UsageError):
        PointConfig(code="A" * 17, name="N", kind=PointKind.INTERNAL_AFFAIRS, place_code="262")


NOTICE = RefusalNotice(
    refusal_id="TAS-01-R1", at=datetime(2026, 12, 4, 10, 30, tzinfo=UTC), point="TAS-01 (T)",
    operator="aziza", person="Gʻulomov Oʻtkir / Ғуломов Ўткир", birth_date="1990-03-15",
    ground="expired", reason_code="fingerprints-refused", reason_uz="Barmoq izlari.",
    reason_en="Fingerprints.", clause="scheme, line 216: «…»",
)  # fmt: skip


def test_the_notice_is_a_function_of_its_inputs(tmp_path: Path) -> None:
    # its SHA-256, kept with the refusal record, identifies the notice that was printed
    first = render_refusal_notice(NOTICE)
    assert first.startswith(b"%PDF-") and render_refusal_notice(NOTICE) == first
    assert render_refusal_notice(replace(NOTICE, operator="bobur")) != first
    pdftotext = require_tool("pdftotext")
    path = tmp_path / "n.pdf"
    path.write_bytes(first)
    text = subprocess.run([pdftotext, "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    for shown in ("TAS-01-R1", "2026-12-04T10:30", "Ғуломов Ўткир", "not saved", "aziza",
                  "Notice of refusal to issue an identification ID card"):  # fmt: skip
        assert shown in text, shown
