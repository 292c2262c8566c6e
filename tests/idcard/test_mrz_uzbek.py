"""The Uzbek ID card (TD1) and passport (TD3) MRZ profiles (vectors/mrz/uzbek-samples.json)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from mrz.generator.td1 import TD1CodeGenerator
from tests.conftest import VECTORS

from idcard.mrz import MRZ, build_uzbek_id_card, uzbek_profile_problems

UZ = json.loads((VECTORS / "mrz" / "uzbek-samples.json").read_text(encoding="utf-8"))
CARD = UZ["id_card"]


def _card() -> MRZ:
    f = CARD["fields"]
    return build_uzbek_id_card(
        document_number=f["document_number"], pinfl=f["pinfl"],
        birth_date=date.fromisoformat(f["birth_date"]), sex=f["sex"],
        expiry_date=date.fromisoformat(f["expiry_date"]), surname=f["surname"],
        given_names=f["given_names"],
    )  # fmt: skip


def test_build_id_card_matches_vector_and_mrz_package() -> None:
    m = _card()
    assert list(m.lines()) == CARD["lines"]
    independent = TD1CodeGenerator(
        "IU", "UZB", "AD1234567", "900115", "M", "340114", "UZB", "ORINBOYEV", "GAYRATJON",
        CARD["pinfl"]["value"], "UZB", force=True,
    )  # fmt: skip
    assert str(independent) == m.encode()


def test_id_card_layout_positions() -> None:
    line1, line2, _ = CARD["lines"]
    assert line1[0:2] == "IU" and line1[2:5] == "UZB"
    assert line1[15:29] == CARD["pinfl"]["value"]  # positions 16-29 (1-based)
    assert line2[15:18] == "UZB" and line2[18:21] == "UZB"


def test_profile_accepts_samples() -> None:
    card = MRZ.parse("\n".join(CARD["lines"]))
    assert card.uzbek_profile_problems() == []
    assert uzbek_profile_problems(card) == []
    passport = MRZ.parse("\n".join(UZ["passport_td3"]["lines"]))
    assert passport.uzbek_profile_problems() == []
    f = UZ["passport_td3"]["fields"]
    rebuilt = MRZ.build(
        format="TD3", document_code="P", issuing_state="UZB", document_number=f["document_number"],
        birth_date=f["birth_date"], sex=f["sex"], expiry_date=f["expiry_date"],
        nationality="UZB", surname=f["surname"], given_names=f["given_names"],
        optional_data=f["pinfl"], transliteration="uz",
    )  # fmt: skip
    assert rebuilt == passport


def test_profile_accepts_i_filler_code() -> None:
    card = MRZ.parse("\n".join(CARD["lines"]))
    assert _replace(card, document_code="I").uzbek_profile_problems() == []


def _replace(m: MRZ, **changes: Any) -> MRZ:
    fields = {name: getattr(m, name) for name in m.__dataclass_fields__}
    return MRZ(**{**fields, **changes})


def test_profile_reports_every_problem() -> None:
    card = MRZ.parse("\n".join(CARD["lines"]))
    bad = _replace(
        card, document_code="ID", issuing_state="UTO", nationality="D", document_number="A1234567",
        optional_data_2="", optional_data="123",
    )  # fmt: skip
    problems = bad.uzbek_profile_problems()
    text = "\n".join(problems)
    for needle in ("document code", "line 2 optional data", "issuing state", "nationality",
                   "document number", "PINFL"):  # fmt: skip
        assert needle in text, needle
    assert len(problems) == 6


def test_profile_rejects_td2_and_sex_mismatch() -> None:
    td2 = MRZ.build(
        format="TD2", document_code="I", issuing_state="UZB", document_number="AD1234567",
        birth_date="900115", sex="M", expiry_date="340114", nationality="UZB", surname="A",
    )  # fmt: skip
    assert "TD2" in uzbek_profile_problems(td2)[0]
    card = MRZ.parse("\n".join(CARD["lines"]))
    assert uzbek_profile_problems(_replace(card, sex="F")) == [
        "PINFL sex M does not match MRZ sex F"
    ]
