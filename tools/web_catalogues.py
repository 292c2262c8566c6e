#!/usr/bin/env python3
"""The web application's gettext catalogues (src/station/web/locale): extract, update, compile.

    python tools/web_catalogues.py update   # extract the messages, merge them into each .po
                                            # (new ones untranslated), compile every .mo
    python tools/web_catalogues.py check    # exit 1 when a .po or .mo is not current

Messages are extracted from src/station/web (``_("…")`` in Python and in the Jinja2 templates,
``N_("…")`` in codes.py) with Babel. ``check`` is what tests/station/web/test_i18n.py runs.
"""

from __future__ import annotations

import gettext
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "station" / "web"
LOCALE = WEB / "locale"
LANGUAGES = ("uz", "ru", "en")
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
STAMP = datetime(2026, 12, 5, tzinfo=UTC)  # fixed: an update without new messages changes nothing
OPTIONS = {"templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}


def template() -> Catalog:
    """Every message of the sources (locations left out: the .po files stay stable)."""
    catalog = Catalog(project="idkarta", version="", fuzzy=False)
    for _file, _line, message, _comments, _context in extract_from_dir(
        WEB, METHODS, OPTIONS, keywords={"_": None, "N_": None}, strip_comment_tags=True
    ):
        if isinstance(message, str) and message:
            catalog.add(message)
    return catalog


def _po(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "messages.po"


def _read(lang: str) -> Catalog:
    path = _po(lang)
    if not path.exists():
        return Catalog(locale=lang, project="idkarta", fuzzy=False)
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, omit_header=False, sort_output=True, no_location=True,
             ignore_obsolete=True, width=100)  # fmt: skip
    return out.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def updated(lang: str) -> tuple[bytes, bytes]:
    """(.po, .mo) of ``lang`` as they should be: the .po merged with the sources' messages."""
    catalog = _read(lang)
    catalog.update(template(), no_fuzzy_matching=True)
    catalog.revision_date = catalog.creation_date = STAMP
    catalog.fuzzy = False
    po = _po_bytes(catalog)
    return po, _mo_bytes(read_po(io.BytesIO(po), locale=lang))


def _messages(catalog: Catalog) -> dict[str, str]:
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str)
            and isinstance(m.string, str) and m.string and not m.fuzzy}  # fmt: skip


def stale() -> list[str]:
    """What is not current: a .po whose messages are not the sources' (one missing, or one no
    longer used), a .mo that does not hold its .po's translations. Compared by content, so a
    newer Babel writing other headers is not a difference."""
    out = []
    wanted = {m.id for m in template() if m.id}
    for lang in LANGUAGES:
        po = _po(lang)
        if not po.exists():
            out.append(f"{po.relative_to(ROOT)} (missing)")
            continue
        catalog = _read(lang)
        have = {m.id for m in catalog if m.id}
        if have != wanted:
            news, gone = sorted(wanted - have), sorted(have - wanted)
            out.append(f"{po.relative_to(ROOT)} (new: {news[:3]}, unused: {gone[:3]})")
        mo = po.with_suffix(".mo")
        try:
            with mo.open("rb") as f:
                compiled = dict(gettext.GNUTranslations(f)._catalog)
        except OSError:
            compiled = {}
        compiled.pop("", None)
        if compiled != _messages(catalog):
            out.append(f"{mo.relative_to(ROOT)} (not compiled from its .po)")
    return out


def untranslated(lang: str) -> list[str]:
    """Messages of ``lang``'s .po without a translation (or marked fuzzy)."""
    catalog = _read(lang)
    done = _messages(catalog)
    return sorted(m.id for m in catalog if m.id and m.id not in done)


def main(argv: list[str]) -> int:
    if argv[1:] == ["check"]:
        found = stale()
        for path in found:
            print(f"not current: {path} (run: python tools/web_catalogues.py update)")
        return 1 if found else 0
    if argv[1:] == ["update"]:
        for lang in LANGUAGES:
            po, mo = updated(lang)
            _po(lang).parent.mkdir(parents=True, exist_ok=True)
            _po(lang).write_bytes(po)
            _po(lang).with_suffix(".mo").write_bytes(mo)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
