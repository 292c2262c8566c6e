"""`idkarta point capture` and `idkarta point purge`: the applicant's biometrics at the point.

The images come from files (the file-backed capture device, the embedded default); accepted
captures are stored encrypted under the point's biometric data key (``biometrics.json`` of the
station folder; the file key store by default, its passphrase from IDKARTA_PASSPHRASE or a
hidden prompt). Nothing prints or logs an image. Exit 0: every capture accepted (or a recorded
exception) and a face on file; 1: a capture refused (each reason shown), or a refusal recorded;
2: unusable input.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from station.cli.center import run_errors
from station.cli.common import EXIT_FAILED, echo_json, prompt_secret
from station.errors import UsageError

__all__ = ["capture", "purge"]

_STATION = click.option("--station", type=click.Path(file_okay=False, path_type=Path),
                        default=Path("."), show_default=True,
                        help="The station folder: point.json, point.db, biometrics.json and "
                             "keys/.")  # fmt: skip
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _pairs(values: tuple[str, ...], option: str) -> dict[int, str]:
    """``POS=TEXT`` pairs; each position once, 1…10."""
    found: dict[int, str] = {}
    for value in values:
        position, sep, text = value.partition("=")
        if not sep or not position.strip().isdigit() or not text.strip():
            raise UsageError(f"{option} {value!r}: expected POS=VALUE (POS 1..10)")
        number = int(position)
        if not 1 <= number <= 10:
            raise UsageError(f"{option} {value!r}: finger position {number} is not 1..10")
        if number in found:
            raise UsageError(f"{option}: finger position {number} given twice")
        found[number] = text.strip()
    return found


def _ask(prompt: str, confirm: bool) -> str:
    return prompt_secret(prompt, confirm)


def _now() -> datetime:
    return datetime.now(UTC)


@click.command()
@click.argument("application")
@_STATION
@click.option("--operator", required=True, metavar="LOGIN",
              help="The operator doing this (one of the point's operators).")
@click.option("--face", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The face image (JPEG or PNG).")
@click.option("--finger", "fingers", multiple=True, metavar="POS=FILE",
              help="A finger image at ISO/IEC 19794-4 position POS (1 right thumb … 10 left "
                   "little). Repeatable.")  # fmt: skip
@click.option("--missing", multiple=True, metavar="POS=REASON",
              help="A finger that cannot be captured (missing, injured) and why: recorded, "
                   "not a refusal. Repeatable.")  # fmt: skip
@click.option("--min-score", type=click.IntRange(0, 100), default=None,
              help="Accept a finger at this local score or above (default 60).")
@click.option("--attempts", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Captures tried per face or finger before its refusal stands.")
@click.option("--refuse", "refusal", default=None,
              type=click.Choice(["fingerprints-refused", "glasses-or-headwear"]),
              help="The applicant refuses fingerprints, or insists on glasses or headwear: "
                   "record the refusal (scheme, line 216) instead of capturing.")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("refusal-notice.pdf"), show_default=True,
              help="With --refuse: where to write the printable refusal notice (PDF).")
@_JSON
@run_errors
def capture(application: str, station: Path, operator: str, face: Path | None,
            fingers: tuple[str, ...], missing: tuple[str, ...], min_score: int | None,
            attempts: int, refusal: str | None, out: Path, as_json: bool) -> None:  # fmt: skip
    """Capture APPLICATION's face and fingers through the quality gates, stored encrypted.

    Each image is checked (face: ICAO 9303-9 / ISO/IEC 19794-5 full frontal; fingers: the
    local score) and tried up to --attempts times; every reason of a refusal is shown. Exit 1
    when a capture is refused or the application has no face yet.
    """
    from dataclasses import replace

    from station.capture import FINGER_RULES, FileCaptureDevice
    from station.domain.refusals import RefusalReason
    from station.folders.station import open_point
    from station.point import capture as use_case
    from station.point.biometrics import open_biometric_key

    images = _pairs(fingers, "--finger")
    excepted = _pairs(missing, "--missing")
    if refusal is not None:
        if face or images or excepted:
            raise UsageError("--refuse records a refusal: give no --face, --finger or --missing")
        from pki.filestore import write_atomic

        with open_point(station) as (config, db):
            record = use_case.refuse(db, application, RefusalReason(refusal), operator=operator,
                                     point=config, now=_now())  # fmt: skip
        write_atomic(out, record.notice)
        if as_json:
            echo_json({**record.to_json(), "notice": str(out)})
        else:
            click.echo(f"Refused       {record.reason} (refusal {record.id})")
            click.echo(f"Notice        {out} (sha256 {record.notice_sha256[:16]}…)")
        sys.exit(EXIT_FAILED)
    if face is None and not images and not excepted:
        raise UsageError("nothing to capture: give --face, --finger or --missing")
    rules = replace(FINGER_RULES, attempts=attempts,
                    min_score=FINGER_RULES.min_score if min_score is None else min_score)
    device = FileCaptureDevice(face=face, fingers={p: Path(f) for p, f in images.items()})
    with open_point(station) as (config, db), \
            open_biometric_key(station, ask=_ask, create=True) as key:  # fmt: skip
        report = use_case.capture(db, application, device, key=key, operator=operator,
                                  point=config, now=_now(), face=face is not None,
                                  fingers=sorted(images), exceptions=excepted,
                                  finger_rules=rules, face_attempts=attempts)  # fmt: skip
    if as_json:
        echo_json(report.to_json())
    else:
        _print(report)
    if not report.complete:
        sys.exit(EXIT_FAILED)


def _print(report: Any) -> None:
    for slot in report.slots:
        name = "face" if slot.position == 0 else f"finger {slot.position}"
        if slot.status == "accepted":
            score = f", score {slot.score}" if slot.score is not None else ""
            click.echo(f"{name:<10} accepted (attempt {slot.attempts}{score})")
        elif slot.status == "exception":
            click.echo(f"{name:<10} exception: {slot.reason}")
        else:
            click.echo(f"{name:<10} REFUSED after {slot.attempts} attempt(s)")
            for reason, message in slot.problems:
                click.echo(f"{'':<10} {reason}: {message}")
    click.echo(f"DG3        {', '.join(f'finger {p}' for p in report.dg3) or 'none'}")
    click.echo(f"Face       {'on file' if report.has_face else 'MISSING'}")
    click.echo(f"Stored     encrypted (AES-256-GCM, key {report.key_id})")
    click.echo("Complete" if report.complete else "Incomplete: capture again what was refused")


@click.command()
@_STATION
@click.option("--retention-days", type=click.IntRange(0, None), default=None,
              help="Days captures are kept after the application ends (default: "
                   "biometrics.json's retention_days, else 30).")  # fmt: skip
@_JSON
@run_errors
def purge(station: Path, retention_days: int | None, as_json: bool) -> None:
    """Delete the biometrics of applications that ended (handed over, refused, cancelled)
    longer ago than the retention."""
    from datetime import timedelta

    from station.folders.station import open_point
    from station.point import capture as use_case
    from station.point.biometrics import BiometricsConfig

    retention = (BiometricsConfig.load(station).retention if retention_days is None
                 else timedelta(days=retention_days))  # fmt: skip
    with open_point(station) as (_, db):
        report = use_case.purge(db, now=_now(), retention=retention)
    if as_json:
        echo_json(report.to_json())
        return
    for app_id, count in sorted(report.purged.items()):
        click.echo(f"{app_id}  {count} capture(s) deleted")
    click.echo(f"Purged {report.captures} capture(s) of {len(report.purged)} application(s) "
               f"ended more than {retention.days} days ago")  # fmt: skip
