"""Transliteration of names into the MRZ alphabet (ICAO Doc 9303 Part 3 §4.6 and §6).

The MRZ carries only ``A``-``Z``, ``0``-``9`` and the filler ``<``. Names printed in the visual
zone with national characters are mapped to it before they go into the name field:

- ``language="icao"`` (default): the tables Doc 9303 Part 3 §6 recommends — Latin letters with
  diacritics (multi-letter exceptions such as Ä→AE, Å→AA, Ø→OE, Ü→UE, ß→SS, Þ→TH; every other
  accented Latin letter loses its mark, as in the table) and the Cyrillic table (Ж→ZH, Х→KH,
  Ц→TS, Щ→SHCH, Ъ→IE, Ы→Y, Ь omitted, Ю→IU, Я→IA, Й→I, Ў→U, …).
- ``language="uz"``: Uzbek. Doc 9303 Part 3 §3.4 lets the issuing State use its national
  *transcription*; Uzbekistan's is its official Latin alphabet. Uzbek Latin text loses the
  apostrophe-like marks (Oʻ→O, Gʻ→G, the tutuq belgisi ʼ dropped; Sh, Ch stay SH, CH). Uzbek
  Cyrillic is first written in Uzbek Latin (Ў→Oʻ, Қ→Q, Ғ→Gʻ, Ҳ→H, Х→X, Ж→J, Й→Y, Ё→YO,
  Ю→YU, Я→YA, Ц→TS, Е→YE at the start of a word or after a vowel, else E; Ъ→ʼ, Ь dropped),
  then the same rule applies.

In both modes apostrophes are omitted and spaces, hyphens, commas and full stops separate name
components (Doc 9303 Part 3 §4.6: "hyphens … shall be represented by filler characters;
apostrophes … omitted"). The result is upper case with one space between components.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from idcard.errors import EncodeError

__all__ = ["APOSTROPHES", "CYRILLIC_ICAO", "CYRILLIC_UZ", "LATIN_EXCEPTIONS", "transliterate"]

Language = Literal["icao", "uz"]

#: Characters dropped from names: ASCII apostrophe, grave accent, U+02BB modifier letter turned
#: comma (the Uzbek oʻ/gʻ mark), U+02BC modifier letter apostrophe (tutuq belgisi), U+2018/U+2019
#: quotation marks and U+02B9/U+02BF/U+00B4 look-alikes used in practice.
APOSTROPHES = frozenset("'`\u02bb\u02bc\u2018\u2019\u02b9\u02bf\u00b4")

#: Separators between name components (become one space, later the filler '<').
_SEPARATORS = frozenset(" -,.\u2010\u2011\u2012\u2013\u2014\t")

#: Latin letters Doc 9303 Part 3 §6 maps to more than one letter (upper case; lower case is
#: folded before lookup). Every other Latin letter with a diacritic maps to its base letter.
LATIN_EXCEPTIONS: dict[str, str] = {
    "Ä": "AE",
    "Å": "AA",
    "Æ": "AE",
    "Ĳ": "IJ",
    "Ö": "OE",
    "Ø": "OE",
    "Œ": "OE",
    "Ü": "UE",
    "ß": "SS",
    "ẞ": "SS",
    "Þ": "TH",
    "Ð": "D",
    "Đ": "D",
    "Ħ": "H",
    "Ł": "L",
    "Ŀ": "L",
    "Ŧ": "T",
    "Ŋ": "N",
}

#: Doc 9303 Part 3 §6 transliteration of Cyrillic (upper case keys).
CYRILLIC_ICAO: dict[str, str] = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "E", "Ж": "ZH",
    "З": "Z", "И": "I", "Й": "I", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O",
    "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "KH", "Ц": "TS",
    "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU",
    "Я": "IA",
    # Other Slavic letters of the Part 3 table.
    "Ґ": "G", "Є": "IE", "І": "I", "Ї": "I", "Ў": "U", "Ђ": "D", "Ѓ": "G", "Ѕ": "DZ",
    "Ј": "J", "Љ": "LJ", "Њ": "NJ", "Ќ": "K", "Ћ": "C", "Џ": "DZ",
    # Letters of Uzbek/Kazakh/Tajik Cyrillic outside the Part 3 table: their base letter's
    # sound (library choice, documented in docs/guide/mrz.md). Use language="uz" for Uzbek.
    "Қ": "K", "Ғ": "G", "Ҳ": "H", "Ҷ": "J", "Ӣ": "I", "Ӯ": "U",
}  # fmt: skip

#: Uzbek Cyrillic → Uzbek Latin (already without the oʻ/gʻ/ʼ marks, which the MRZ drops);
#: Е is context dependent and handled in code.
CYRILLIC_UZ: dict[str, str] = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Ё": "YO", "Ж": "J", "З": "Z",
    "И": "I", "Й": "Y", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O", "П": "P",
    "Р": "R", "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "X", "Ц": "TS", "Ч": "CH",
    "Ш": "SH", "Щ": "SHCH", "Ъ": "", "Ы": "I", "Ь": "", "Э": "E", "Ю": "YU", "Я": "YA",
    "Ў": "O", "Қ": "Q", "Ғ": "G", "Ҳ": "H",
}  # fmt: skip

_UZ_VOWELS = frozenset("АЕЁИОУЭЮЯЎЪЬ")


def _latin(ch: str) -> str | None:
    """Map one Latin letter (upper case) to A-Z, or None when it is not a Latin letter."""
    if "A" <= ch <= "Z":
        return ch
    if ch in LATIN_EXCEPTIONS:
        return LATIN_EXCEPTIONS[ch]
    base = unicodedata.normalize("NFD", ch)[0]
    if "A" <= base <= "Z":
        return base
    return None


def _cyrillic_uz(text: str, i: int) -> str | None:
    ch = text[i]
    if ch == "Е":
        previous = text[i - 1] if i > 0 else " "
        start = previous in _SEPARATORS or previous in APOSTROPHES
        return "YE" if start or previous in _UZ_VOWELS else "E"
    return CYRILLIC_UZ.get(ch)


def transliterate(text: str, language: Language = "icao") -> str:
    """``text`` in the MRZ alphabet: upper case A-Z and digits, components separated by one space.

    Raises :class:`EncodeError` for a character with no transliteration (the message names the
    character by its code point, which is not a secret).
    """
    if language not in ("icao", "uz"):
        raise EncodeError(f"unknown transliteration {language!r}")
    upper = unicodedata.normalize("NFC", text).upper()
    out: list[str] = []
    for i, ch in enumerate(upper):
        if ch in APOSTROPHES:
            continue
        if ch in _SEPARATORS or ch == "<":
            out.append(" ")
            continue
        if "0" <= ch <= "9":
            out.append(ch)
            continue
        mapped: str | None
        if "\u0400" <= ch <= "\u04ff":
            mapped = _cyrillic_uz(upper, i) if language == "uz" else CYRILLIC_ICAO.get(ch)
        else:
            mapped = _latin(ch)
        if mapped is None:
            raise EncodeError(f"no MRZ transliteration for U+{ord(ch):04X}")
        out.append(mapped)
    return re.sub(" +", " ", "".join(out)).strip()
