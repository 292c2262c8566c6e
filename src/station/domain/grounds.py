"""Grounds for issuing a card, per scheme (citizens' 9, residents' 4), and which stage they are.

Scheme, lines 15-24 (citizens) and the second scheme (foreign citizens and stateless persons
with permanent residence). Stage 1-4 grounds are handed over within one working day after all
documents were accepted; stage 5-6 grounds (restoration or replacement) within five working
days of the application.
"""

from __future__ import annotations

import enum


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
