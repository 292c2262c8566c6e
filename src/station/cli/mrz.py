"""`idkarta mrz parse|build`: read and make machine readable zones (ICAO Doc 9303 Parts 3-6).

Exit codes (STYLE.md §9): 0 the MRZ is valid; 1 it is an MRZ but a check digit fails, or a UZB
document breaks the Uzbek profile (:func:`idcard.mrz.uzbek_profile_problems`); 2 the text is not
an MRZ at all (or a usage error).
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from idcard.errors import EncodeError, MRZError, PINFLError
from idcard.mrz import MRZ, CheckDigitError
from idcard.pinfl import PINFL, pinfl_of
from station.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, echo_json, fail

__all__ = ["mrz", "mrz_fields", "run_build", "run_parse"]

Echo = Callable[..., None]


def mrz_fields(m: MRZ, reference: date) -> dict[str, Any]:
    """The fields of ``m`` for output; dates ISO when the century can be decided, else YYMMDD."""
    birth = m.birth_date_iso(reference)
    expiry = m.expiry_date_iso(reference)
    out: dict[str, Any] = {
        "format": m.format,
        "document_code": m.document_code,
        "issuing_state": m.issuing_state,
        "document_number": m.document_number,
        "surname": m.surname,
        "given_names": m.given_names,
        "nationality": m.nationality,
        "birth_date": birth.isoformat() if birth else m.birth_date,
        "sex": m.sex,
        "expiry_date": expiry.isoformat() if expiry else m.expiry_date,
        "optional_data": m.optional_data,
    }
    if m.format == "TD1":
        out["optional_data_2"] = m.optional_data_2
    if m.format == "TD3":
        out["blank_optional_check"] = m.blank_optional_check
    if "UZB" in (m.issuing_state, m.nationality):
        uzbek: dict[str, Any] = {"pinfl": pinfl_of(m)}
        try:
            pinfl = PINFL.parse(uzbek["pinfl"] or "")
            uzbek["pinfl_birth_date"] = pinfl.birth_date.isoformat()
            uzbek["pinfl_sex"] = pinfl.sex
        except PINFLError:
            pass
        uzbek["profile_problems"] = m.uzbek_profile_problems()
        out["uzbek"] = uzbek
    return out


def _report_error(exc: MRZError, as_json: bool, echo: Echo, code: int) -> None:
    if as_json:
        echo(json.dumps({"error": exc.reason, "field": exc.field, "exit": code}))
    echo(f"error: {exc}", err=True)


def run_parse(text: str, *, as_json: bool, reference: date, echo: Echo = click.echo) -> int:
    """Body of ``idkarta mrz parse``; returns the exit code."""
    try:
        m = MRZ.parse(text)
    except CheckDigitError as exc:
        _report_error(exc, as_json, echo, EXIT_FAILED)
        return EXIT_FAILED
    except MRZError as exc:
        _report_error(exc, as_json, echo, EXIT_USAGE)
        return EXIT_USAGE
    fields = mrz_fields(m, reference)
    if as_json:
        echo_json(fields)
    else:
        for key, value in fields.items():
            if isinstance(value, dict):
                for sub, item in value.items():
                    shown = "; ".join(item) if isinstance(item, list) else item
                    echo(f"{key}.{sub}: {shown if shown else '-'}")
            else:
                echo(f"{key}: {value}")
    problems = fields.get("uzbek", {}).get("profile_problems")
    if problems:
        echo(f"error: not the Uzbek document profile: {'; '.join(problems)}", err=True)
        return EXIT_FAILED
    return EXIT_OK


_BUILD_KEYS = frozenset(inspect.signature(MRZ.build).parameters)


def build_arguments(spec: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``MRZ.build`` in ``spec`` (what ``mrz parse --json`` prints is
    accepted: other keys are ignored, ISO dates ``YYYY-MM-DD`` become dates)."""
    kwargs = {k: v for k, v in spec.items() if k in _BUILD_KEYS}
    for name, value in kwargs.items():
        if not isinstance(value, str):
            raise EncodeError(f"{name}: must be a JSON string")
    for name in ("birth_date", "expiry_date"):
        value = kwargs.get(name)
        if isinstance(value, str) and len(value) == 10 and value[4] == "-":
            try:
                kwargs[name] = date.fromisoformat(value)
            except ValueError:
                raise EncodeError(f"{name}: {value!r} is not a date YYYY-MM-DD") from None
    return kwargs


def run_build(spec: dict[str, Any], *, echo: Echo = click.echo) -> int:
    """Body of ``idkarta mrz build``: ``spec`` holds the keyword arguments of ``MRZ.build``
    (see :func:`build_arguments`)."""
    try:
        m = MRZ.build(**build_arguments(spec))
    except (EncodeError, TypeError) as exc:
        echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    echo(m.encode())
    return EXIT_OK


@click.group(name="mrz")
def mrz() -> None:
    """Machine readable zones (ICAO Doc 9303): parse and check, or build."""


@mrz.command(name="parse")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as JSON.")
@click.option(
    "--reference-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date (YYYY-MM-DD) that decides the century of the dates; default today.",
)
def parse_command(text: str, as_json: bool, reference_date: datetime | None) -> None:
    """Parse TEXT (lines joined by newlines, or one string; '-' reads stdin) and check it.

    Exit 0 valid, 1 a check digit fails (the field is named) or a UZB document breaks the
    Uzbek profile (the problems are listed), 2 not an MRZ.
    """
    if text == "-":
        text = sys.stdin.read()
    reference = reference_date.date() if reference_date else date.today()
    sys.exit(run_parse(text, as_json=as_json, reference=reference))


@mrz.command(name="build")
@click.option(
    "--json-input",
    "json_input",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    required=True,
    help="JSON object with the fields (keyword arguments of idcard.mrz.MRZ.build, or what "
    "`mrz parse --json` prints; other keys ignored, ISO dates accepted); '-' reads stdin.",
)
def build_command(json_input: Path) -> None:
    """Print the MRZ built from the fields in a JSON file, every check digit computed."""
    try:
        text = sys.stdin.read() if str(json_input) == "-" else json_input.read_text("utf-8")
        spec = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"cannot read {json_input}: {exc}")
    if not isinstance(spec, dict):
        fail("the JSON input must be an object")
    sys.exit(run_build(spec))
