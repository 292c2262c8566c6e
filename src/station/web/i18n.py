"""The web application's languages: gettext catalogues compiled by Babel, dates as dd.mm.yyyy.

Uzbek (Latin) is the default; Russian and English follow. The messages are written in English in
the sources (``_("…")`` in Python and templates); ``locale/<lang>/LC_MESSAGES/messages.po`` holds
each translation and ``messages.mo`` its compiled form, both shipped in the package
(``tools/web_catalogues.py`` extracts, updates and compiles them; a test checks they are current).
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from station.domain.calendar import TASHKENT

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LOCALE_DIR",
    "format_date",
    "format_datetime",
    "language",
    "translations",
]

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
LANGUAGES: dict[str, str] = {"uz": "Oʻzbekcha", "ru": "Русский", "en": "English"}
"""Language code → its own name (as the switch shows it)."""
DEFAULT_LANGUAGE = "uz"


def language(code: str | None) -> str:
    """``code`` when it is one of :data:`LANGUAGES`, else the default (Uzbek)."""
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``code`` (read once); English falls back to the message ids."""
    lang = language(code)
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as f:
        return gettext.GNUTranslations(f)


def gettext_for(code: str) -> Callable[[str], str]:
    """The ``_`` of language ``code``."""
    return translations(code).gettext


def format_date(value: date | datetime | None) -> str:
    """``dd.mm.yyyy`` (an aware time is taken in Tashkent first); empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(TASHKENT).date() if value.tzinfo else value.date()
    return value.strftime("%d.%m.%Y")


def format_datetime(value: datetime | None) -> str:
    """``dd.mm.yyyy HH:MM`` in Tashkent; empty for None."""
    if value is None:
        return ""
    local = value.astimezone(TASHKENT) if value.tzinfo else value
    return local.strftime("%d.%m.%Y %H:%M")
