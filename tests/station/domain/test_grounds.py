"""Grounds of issue and their rules (scheme, lines 14-23, 178-188, 207-208, 251-259)."""

from __future__ import annotations

import re

import pytest

from station.domain.errors import DomainError
from station.domain.grounds import GROUND_RULES, Ground, Scheme, rule


def test_thirteen_grounds_nine_citizens_four_residents() -> None:
    # scheme, lines 15-23 (nine "… hollarda"), lines 253-259 (the residents' four)
    assert set(GROUND_RULES) == set(Ground)
    assert len(Ground) == 13
    by_scheme = {s: {g for g, r in GROUND_RULES.items() if r.scheme is s} for s in Scheme}
    assert len(by_scheme[Scheme.CITIZEN]) == 9
    assert by_scheme[Scheme.RESIDENT] == {
        Ground.RESIDENT_PARENTS_WISH, Ground.RESIDENT_TURNED_16, Ground.CITIZENSHIP_ENDED,
        Ground.PERMIT_EXPIRED,
    }
    assert all(r.ground is g for g, r in GROUND_RULES.items())


def test_restoration_grounds_are_stage_5_with_five_working_days() -> None:
    # scheme, lines 178-184: "ID-kartani tiklash yoki almashtirish uchun ... ID-karta yo‘qotib
    # qo‘yilganda; ID-karta yoki chip yaroqsiz holga kelganda; ... o‘zgarganda yoki ...
    # noaniqliklar mavjudligi aniqlanganda"; lines 207-208 "besh ish kuni ichida"; line 162
    # "bir ish kuni mobaynida" for the others.
    restoration = {g for g, r in GROUND_RULES.items() if r.restoration}
    assert restoration == {Ground.LOST, Ground.UNUSABLE, Ground.DATA_CHANGED, Ground.DATA_ERROR}
    for g, r in GROUND_RULES.items():
        assert r.working_days == (5 if g in restoration else 1)


def test_restoration_grounds_belong_to_both_schemes() -> None:
    # scheme, lines 369-375: the residents' stage 5 lists the same restoration grounds
    for g, r in GROUND_RULES.items():
        expected = set(Scheme) if r.restoration else {r.scheme}
        assert r.schemes == expected, g


def test_grounds_that_replace_a_card() -> None:
    assert {g for g, r in GROUND_RULES.items() if r.replaces_card} == {
        Ground.EXPIRED, Ground.DATA_CHANGED, Ground.DATA_ERROR, Ground.UNUSABLE, Ground.SEIZED,
        Ground.LOST, Ground.PERMIT_EXPIRED,
    }


@pytest.mark.parametrize(
    ("ground", "age", "ok"),
    [
        # scheme, line 15: "bola tug‘ilgandan boshlab 16 yoshga to‘lguniga qadar"
        (Ground.PARENTS_WISH, 0, True),
        (Ground.PARENTS_WISH, 15, True),
        (Ground.PARENTS_WISH, 16, False),
        (Ground.RESIDENT_PARENTS_WISH, 15, True),
        (Ground.RESIDENT_PARENTS_WISH, 16, False),
        # scheme, line 16: "fuqaro 16 yoshga to‘lganda"
        (Ground.TURNED_16, 15, False),
        (Ground.TURNED_16, 16, True),
        (Ground.TURNED_16, 40, True),
        (Ground.RESIDENT_TURNED_16, 15, False),
        (Ground.RESIDENT_TURNED_16, 16, True),
        (Ground.LOST, 0, True),
        (Ground.EXPIRED, 90, True),
    ],
)
def test_age_rules(ground: Ground, age: int, ok: bool) -> None:
    problem = rule(ground).age_problem(age)
    assert (problem is None) is ok
    if not ok:
        assert problem is not None and str(age) in problem and ground.value in problem


def test_age_limits() -> None:
    assert (rule(Ground.PARENTS_WISH).min_age, rule(Ground.PARENTS_WISH).max_age) == (None, 16)
    assert (rule(Ground.TURNED_16).min_age, rule(Ground.TURNED_16).max_age) == (16, None)
    others = set(Ground) - {Ground.PARENTS_WISH, Ground.TURNED_16, Ground.RESIDENT_PARENTS_WISH,
                            Ground.RESIDENT_TURNED_16}
    assert all(rule(g).min_age is None and rule(g).max_age is None for g in others)


def test_every_rule_cites_its_clause() -> None:
    for r in GROUND_RULES.values():
        assert re.match(r'scheme, lines? [0-9, -]+: "[^"]+"$', r.clause), r.clause


def test_rule_by_code_and_unknown_code() -> None:
    assert rule("lost") is GROUND_RULES[Ground.LOST]
    with pytest.raises(DomainError) as info:
        rule("stolen")
    assert info.value.field == "ground"
    assert info.value.reason == "unknown ground 'stolen' (one of " + ", ".join(
        g.value for g in Ground) + ")"
