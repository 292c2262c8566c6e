"""`idkarta verify DUMP_FOLDER --csca FILE_OR_DIR …`: the auditors' passive authentication.

Runs ICAO 9303-11 §5.1 passive authentication (see :mod:`idcard.verify.passive`) over a dump
folder and prints each check as PASS / FAIL / NOT CHECKED with its reason, or JSON with
``--json``. Exit codes (STYLE.md §9): 0 every check passed (``report.ok``), 1 a check failed or an
essential one could not be performed, 2 unusable input (one line on stderr, never a traceback).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from idcard.errors import IdkartaError
from idcard.verify import PassiveAuthReport, Status, TrustStore, verify_dump_folder
from station.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, echo_json, fail

__all__ = ["format_report", "run_verify", "verify"]

Echo = Callable[[str], None]


def format_report(report: PassiveAuthReport) -> str:
    """The readable report: one line per check, then the verdict."""
    width = max(len(c.name) for c in report.checks)
    lines = [f"Passive authentication (ICAO 9303-11 §5.1), DS: {report.ds_subject or '-'}"]
    for c in report.checks:
        lines.append(f"  {c.status.label:<12} {c.name:<{width}}  {c.reason}")
    if report.ok:
        lines.append("RESULT: PASS (every check performed passed)")
    elif report.failed:
        lines.append(f"RESULT: FAIL ({', '.join(c.name for c in report.failed)})")
    else:
        missing = [
            c.name for c in report.checks if c.status is Status.NOT_CHECKED and c.name in (
                "sod_signature", "chain", "validity")
        ]  # fmt: skip
        lines.append(f"RESULT: FAIL (essential checks not performed: {', '.join(missing)})")
    return "\n".join(lines)


def run_verify(
    dump_folder: Path,
    csca: Path,
    master_lists: Sequence[Path],
    crls: Sequence[Path],
    at: datetime | None,
    as_json: bool,
    echo: Echo = click.echo,
) -> int:
    """The command body with its dependencies as arguments; returns the exit code.

    Unusable input raises :class:`IdkartaError` (the caller turns it into exit 2).
    """
    trust = TrustStore.from_paths(csca, master_lists=master_lists, crls=crls)
    report = verify_dump_folder(dump_folder, trust, at=at)
    if as_json:
        echo_json(report.to_dict())
    else:
        echo(format_report(report))
    return EXIT_OK if report.ok else EXIT_FAILED


def _one_line(text: str) -> str:
    """Messages of asn1crypto span lines; the CLI prints one."""
    return " ".join(text.split())


def _parse_date(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        fail(f"--at {text!r} is not a date YYYY-MM-DD", EXIT_USAGE)


@click.command(name="verify")
@click.argument("dump_folder", type=click.Path(path_type=Path))
@click.option(
    "--csca", required=True, type=click.Path(path_type=Path),
    help="CSCA certificate(s): a PEM/DER file or a directory of them (trust anchors).",
)  # fmt: skip
@click.option(
    "--master-list", "master_lists", multiple=True, type=click.Path(path_type=Path),
    help="A CSCA master list (CMS, DER); may be repeated. Its signer must be issued by a "
    "--csca; its CSCAs are then trusted for their own country only.",
)  # fmt: skip
@click.option(
    "--crl", "crls", multiple=True, type=click.Path(path_type=Path),
    help="A CRL (PEM or DER) of a CSCA; may be repeated.",
)  # fmt: skip
@click.option("--at", "at_text", metavar="YYYY-MM-DD", help="Verification date (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify(
    dump_folder: Path,
    csca: Path,
    master_lists: tuple[Path, ...],
    crls: tuple[Path, ...],
    at_text: str | None,
    as_json: bool,
) -> None:
    """Passive authentication of DUMP_FOLDER (EF.SOD, EF.COM, DG1..DG16 files).

    Exit 0 when every check passes, 1 when one fails, 2 on unusable input.
    """
    at = _parse_date(at_text)
    try:
        code = run_verify(dump_folder, csca, master_lists, crls, at, as_json)
    except IdkartaError as exc:
        fail(_one_line(str(exc)), EXIT_USAGE)
    except OSError as exc:
        fail(_one_line(f"cannot read input: {exc}"), EXIT_USAGE)
    raise SystemExit(code)
