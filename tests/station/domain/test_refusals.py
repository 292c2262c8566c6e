"""Refusals (scheme, line 216: "... qo‘l barmoq izlari olinishidan bosh tortsa yoxud ko‘zoynakda
yoki bosh kiyimda suratga tushish istagidan qaytmasa, ... ID-karta rasmiylashtirishni rad
etadi")."""

from __future__ import annotations

import pytest

from station.domain.errors import DomainError
from station.domain.refusals import CLAUSE, RefusalReason, refusal_reason


def test_the_two_reasons_of_the_scheme() -> None:
    assert [r.value for r in RefusalReason] == ["fingerprints-refused", "glasses-or-headwear"]
    assert RefusalReason.FINGERPRINTS.words in CLAUSE
    assert RefusalReason.HEADWEAR.words in CLAUSE
    assert "barmoq izlari" in RefusalReason.FINGERPRINTS.words
    assert "bosh kiyimda" in RefusalReason.HEADWEAR.words
    assert all(r.clause == CLAUSE and CLAUSE.startswith("scheme, line 216: ")
               for r in RefusalReason)
    assert "fingerprints" in RefusalReason.FINGERPRINTS.description
    assert "headwear" in RefusalReason.HEADWEAR.description


def test_reason_codes() -> None:
    assert refusal_reason("glasses-or-headwear") is RefusalReason.HEADWEAR
    assert refusal_reason(RefusalReason.FINGERPRINTS) is RefusalReason.FINGERPRINTS
    with pytest.raises(DomainError) as info:
        refusal_reason("rude")  # not a reason the scheme gives
    assert info.value.field == "reason"
    assert info.value.reason == (
        "'rude' is not a reason to refuse (one of fingerprints-refused, glasses-or-headwear); "
        + CLAUSE)
