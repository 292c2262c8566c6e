"""Machine readable zone (ICAO Doc 9303 Parts 3, 4, 5, 6): TD1, TD2, TD3.

``MRZ.parse(text)`` checks every check digit and gives the fields; ``MRZ.build(...)`` makes an
MRZ from fields (names transliterated and truncated); ``encode()`` gives the text back.
"""

from idcard.mrz.check import check_digit
from idcard.mrz.model import FORMATS, MRZ, CheckDigitError
from idcard.mrz.translit import transliterate
from idcard.mrz.uzbek import build_uzbek_id_card, uzbek_profile_problems

__all__ = [
    "MRZ",
    "CheckDigitError",
    "FORMATS",
    "build_uzbek_id_card",
    "check_digit",
    "transliterate",
    "uzbek_profile_problems",
]
