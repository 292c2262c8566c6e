"""Grounds for issuing a card, per scheme (citizens' 9, residents' 4), and which stage they are.

Scheme, lines 15-24 (citizens) and the second scheme (foreign citizens and stateless persons
with permanent residence). Stage 1-4 grounds are handed over within one working day after all
documents were accepted; stage 5-6 grounds (restoration or replacement) within five working
days of the application.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from station.domain.errors import DomainError

__all__ = ["GROUND_RULES", "Ground", "GroundRule", "Scheme", "rule"]


class Scheme(enum.StrEnum):
    CITIZEN = "citizen"
    RESIDENT = "resident"  # foreign citizens and stateless persons with permanent residence


class Ground(enum.StrEnum):
    """The codes used in the API, the CLI and the database."""

    # Citizens (scheme, lines 15-24)
    PARENTS_WISH = "parents-wish"  # from birth until 16, at the parents'/guardians' wish
    TURNED_16 = "turned-16"
    CITIZENSHIP_ACQUIRED = "citizenship-acquired"  # admitted to or recognised as a citizen
    EXPIRED = "expired"  # the card's validity ended
    DATA_CHANGED = "data-changed"  # surname, given name, patronymic, nationality, birth date, sex
    DATA_ERROR = "data-error"  # inaccuracies, errors, technical defects on the card or chip
    UNUSABLE = "unusable"  # the card or the chip became unusable
    SEIZED = "seized"  # taken as material evidence
    LOST = "lost"
    # Residents (second scheme)
    RESIDENT_PARENTS_WISH = "resident-parents-wish"
    RESIDENT_TURNED_16 = "resident-turned-16"
    CITIZENSHIP_ENDED = "citizenship-ended"  # left or lost Uzbek citizenship
    PERMIT_EXPIRED = "permit-expired"  # the residence permit or the ID card expired


@dataclass(frozen=True, slots=True)
class GroundRule:
    """What the scheme says of one ground.

    ``restoration``: stage 5-6 (restoring or replacing a card: handed over within five working
    days of the application; else stage 4: one working day after all documents were accepted).
    ``min_age``/``max_age``: the holder's full years on the day of application (``max_age`` is
    the first age that is too old). ``replaces_card``: the ground ends a card the holder has
    (its series and number are given unless it is the holder's first ID card).
    """

    ground: Ground
    scheme: Scheme
    restoration: bool
    min_age: int | None
    max_age: int | None
    clause: str
    replaces_card: bool = False

    @property
    def schemes(self) -> frozenset[Scheme]:
        """Schemes the ground belongs to: restoration grounds are in both (citizens' stage 5,
        lines 178-184; residents' stage 5, lines 369-375)."""
        if self.restoration:
            return frozenset(Scheme)
        return frozenset({self.scheme})

    @property
    def working_days(self) -> int:
        """Working days the point has to hand the card over (stage 4 or stage 6)."""
        # scheme, line 162: "Hujjatlar to‘liq qabul qilib olingandan so‘ng bir ish kuni mobaynida"
        # scheme, lines 207-208: "tiklash yoki almashtirish uchun ariza berilgan kundan boshlab
        # besh ish kuni ichida"
        return 5 if self.restoration else 1

    def age_problem(self, age: int) -> str | None:
        """Why a holder of ``age`` full years cannot apply on this ground, or None."""
        if self.min_age is not None and age < self.min_age:
            return f"{self.ground} is for a holder of {self.min_age} or more; the holder is {age}"
        if self.max_age is not None and age >= self.max_age:
            return f"{self.ground} is for a holder under {self.max_age}; the holder is {age}"
        return None


def _rule(ground: Ground, scheme: Scheme, clause: str, *, restoration: bool = False,
          min_age: int | None = None, max_age: int | None = None,
          replaces_card: bool = False) -> GroundRule:
    return GroundRule(ground, scheme, restoration, min_age, max_age, clause, replaces_card)


_C, _R = Scheme.CITIZEN, Scheme.RESIDENT
GROUND_RULES: Mapping[Ground, GroundRule] = MappingProxyType({
    r.ground: r
    for r in (
        # Citizens: scheme, lines 14-23 and the scheme's stage 1 (lines 58-66).
        _rule(Ground.PARENTS_WISH, _C, 'scheme, lines 10-11, 15: "ota-onalar, vasiylarning '
              '(homiylarning) ixtiyoriga ko‘ra — bola tug‘ilgandan boshlab 16 yoshga to‘lguniga '
              'qadar"', max_age=16),
        _rule(Ground.TURNED_16, _C, 'scheme, line 16: "fuqaro 16 yoshga to‘lganda"', min_age=16),
        _rule(Ground.CITIZENSHIP_ACQUIRED, _C, 'scheme, line 17: "O‘zbekiston Respublikasi '
              'fuqaroligiga qabul qilinganda yoki O‘zbekiston Respublikasi fuqarosi sifatida tan '
              'olinganda"'),
        _rule(Ground.EXPIRED, _C, 'scheme, lines 18, 66: "biometrik pasporti yoki ID-kartaning '
              'amal qilish muddati tugaganda"', replaces_card=True),
        _rule(Ground.DATA_CHANGED, _C, 'scheme, lines 19, 184: "familiyasi, ismi, otasining ismi, '
              'millati, tug‘ilgan sanasi, jinsi o‘zgarganda"', restoration=True,
              replaces_card=True),
        _rule(Ground.DATA_ERROR, _C, 'scheme, lines 20, 184: "ma’lumotlarda noaniqliklar, xatolar '
              'va texnik nuqsonlar mavjudligi aniqlanganda"', restoration=True,
              replaces_card=True),
        _rule(Ground.UNUSABLE, _C, 'scheme, lines 21, 182: "ID-karta yoki chip yaroqsiz holga '
              'kelganda"', restoration=True, replaces_card=True),
        _rule(Ground.SEIZED, _C, 'scheme, line 22: "ID-karta ashyoviy dalil sifatida olib '
              'qo‘yilganida"', replaces_card=True),
        _rule(Ground.LOST, _C, 'scheme, lines 23, 180: "ID-karta yo‘qotib qo‘yilganda"',
              restoration=True, replaces_card=True),
        # Residents: the second scheme's stage 1 (lines 251-259).
        _rule(Ground.RESIDENT_PARENTS_WISH, _R, 'scheme, line 253: "ota-onalar, vasiylarning '
              '(homiylarning) ixtiyoriga ko‘ra — bola tug‘ilgandan 16 yoshigacha"', max_age=16),
        _rule(Ground.RESIDENT_TURNED_16, _R, 'scheme, line 255: "16 yoshga to‘lganda"',
              min_age=16),
        _rule(Ground.CITIZENSHIP_ENDED, _R, 'scheme, line 257: "O‘zbekiston Respublikasi '
              'fuqaroligidan chiqqanda yoki fuqarolikni yo‘qotganda"'),
        _rule(Ground.PERMIT_EXPIRED, _R, 'scheme, line 259: "yashash guvohnomasi yoki '
              'ID-kartaning amal qilish muddati tugaganda"', replaces_card=True),
    )
})
"""The rule of every ground (all 13 codes)."""


def rule(ground: Ground | str) -> GroundRule:
    """The rule of ``ground`` (a :class:`Ground` or its code); :class:`DomainError` naming the
    field ``ground`` for an unknown code."""
    try:
        return GROUND_RULES[Ground(ground)]
    except ValueError:
        known = ", ".join(g.value for g in Ground)
        raise DomainError("ground", f"unknown ground {ground!r} (one of {known})") from None
