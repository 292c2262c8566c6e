"""`idkarta master-list show|export FILE`: what a CSCA master list (ICAO 9303-12 §9) carries.

``show`` lists its countries with their certificate counts, validity and key algorithms (a table,
or JSON with ``--json``); with ``--csca`` the list is first verified against those anchors (its
signature, and that its signer was issued by one of them). ``export`` writes the certificates of
a verified list as PEM files, one per certificate, into a new folder, all or nothing.
Exit codes: 0 ok, 1 the list does not verify against ``--csca``, 2 unusable input.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from idcard.errors import DecodeError, IdkartaError
from idcard.verify import Status, load_certificates
from idcard.verify.masterlist import CertificateEntry, MasterList, verify_master_list
from idcard.verify.report import CheckResult
from station.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, echo_json, fail

__all__ = ["master_list", "run_export", "run_show", "summary"]

Echo = Callable[[str], None]


def _load(path: Path) -> MasterList:
    try:
        return MasterList.decode(path.read_bytes())
    except OSError as exc:
        raise DecodeError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except DecodeError as exc:
        raise DecodeError(f"{path}: not a CSCA master list ({exc})") from None


def _verification(ml: MasterList, csca: Path | None) -> CheckResult:
    if csca is None:
        return CheckResult("master_list", Status.NOT_CHECKED, "no --csca given to verify against")
    return verify_master_list(ml, load_certificates(csca))


def _countries(entries: Sequence[CertificateEntry]) -> list[dict[str, Any]]:
    out = []
    for country in sorted({e.country for e in entries}):
        mine = [e for e in entries if e.country == country]
        out.append(
            {
                "country": country,
                "certificates": len(mine),
                "self_signed": sum(e.self_signed for e in mine),
                "not_before": min(e.not_before for e in mine),
                "not_after": max(e.not_after for e in mine),
                "key_algorithms": dict(sorted(Counter(e.key_algorithm for e in mine).items())),
            }
        )
    return out


def summary(ml: MasterList, verification: CheckResult, countries: Sequence[str] = ()) -> dict[
    str, Any
]:  # fmt: skip
    """The JSON object of ``show``: the signer, the verification and one entry per country."""
    entries = [e for e in ml.entries() if not countries or e.country in countries]
    signer = ml.signer_certificate
    return {
        "signer": signer.subject.human_friendly if signer is not None else None,
        "signing_time": ml.signed.signing_time,
        "verification": {"status": verification.status.value, "reason": verification.reason},
        "certificates": len(entries),
        "countries": _countries(entries),
        "key_algorithms": dict(sorted(Counter(e.key_algorithm for e in entries).items())),
    }


def _table(info: dict[str, Any]) -> str:
    v = info["verification"]
    lines = [
        f"Master list signed by {info['signer'] or '-'}"
        + (f" at {info['signing_time']:%Y-%m-%d}" if info["signing_time"] else ""),
        f"Verification: {Status(v['status']).label.strip()} ({v['reason']})",
        f"{info['certificates']} certificates of {len(info['countries'])} countries",
        f"{'country':<8}{'certs':>6}  {'valid from':<11} {'valid until':<12}key algorithms",
    ]
    for c in info["countries"]:
        algs = ", ".join(f"{a} ×{n}" if n > 1 else a for a, n in c["key_algorithms"].items())
        lines.append(
            f"{c['country']:<8}{c['certificates']:>6}  {c['not_before']:%Y-%m-%d}  "
            f"{c['not_after']:%Y-%m-%d}  {algs}"
        )
    return "\n".join(lines)


def run_show(
    file: Path, csca: Path | None, countries: Sequence[str], as_json: bool,
    echo: Echo = click.echo,
) -> int:  # fmt: skip
    """The body of ``show``; unusable input raises :class:`IdkartaError`."""
    ml = _load(file)
    verification = _verification(ml, csca)
    info = summary(ml, verification, [c.upper() for c in countries])
    if as_json:
        echo_json(info)
    else:
        echo(_table(info))
    return EXIT_FAILED if verification.status is Status.FAIL else EXIT_OK


def _pem(der: bytes) -> bytes:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n".encode()


def run_export(
    file: Path, csca: Path, out: Path, countries: Sequence[str], as_json: bool,
    echo: Echo = click.echo,
) -> int:  # fmt: skip
    """The body of ``export``: the certificates of the verified list into the new folder ``out``
    (``<country>-<n>.pem``), written to a temporary folder beside it and renamed at the end."""
    ml = _load(file)
    verification = _verification(ml, csca)
    if verification.status is not Status.PASS:
        fail(f"{file}: the master list does not verify: {verification.reason}", EXIT_FAILED)
    if out.exists():
        raise DecodeError(f"{out}: already exists (export writes a new folder)")
    wanted = [c.upper() for c in countries]
    entries = [e for e in ml.entries() if not wanted or e.country in wanted]
    seen: Counter[str] = Counter()
    written = []
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for e in entries:
            seen[e.country] += 1
            name = f"{e.country}-{seen[e.country]:03d}.pem"
            (tmp / name).write_bytes(_pem(bytes(e.certificate.dump())))
            written.append({"file": name, "country": e.country, "subject": e.subject})
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if as_json:
        echo_json({"folder": str(out), "certificates": written})
    else:
        echo(f"{len(written)} certificates of {len(seen)} countries written to {out}")
    return EXIT_OK


@click.group(name="master-list")
def master_list() -> None:
    """Inspect and export CSCA master lists (ICAO 9303-12 §9)."""


_CSCA_HELP = "Anchor(s) the list's signer must be issued by: a PEM/DER file or a directory."
_COUNTRY_HELP = "Only this country (ISO 3166 alpha-2, the certificates' C); may be repeated."


def _run(body: Callable[[], int]) -> None:
    try:
        code = body()
    except IdkartaError as exc:
        fail(" ".join(str(exc).split()), EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot read or write: {exc}", EXIT_USAGE)
    raise SystemExit(code)


@master_list.command(name="show")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--csca", type=click.Path(path_type=Path), help=_CSCA_HELP)
@click.option("--country", "countries", multiple=True, metavar="CC", help=_COUNTRY_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(file: Path, csca: Path | None, countries: tuple[str, ...], as_json: bool) -> None:
    """List the countries, certificate counts, validity and key algorithms of FILE.

    With --csca the list is verified first; exit 1 when it does not verify.
    """
    _run(lambda: run_show(file, csca, countries, as_json))


@master_list.command(name="export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--csca", required=True, type=click.Path(path_type=Path), help=_CSCA_HELP)
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="New folder for the PEM files (must not exist).")  # fmt: skip
@click.option("--country", "countries", multiple=True, metavar="CC", help=_COUNTRY_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def export(
    file: Path, csca: Path, out: Path, countries: tuple[str, ...], as_json: bool
) -> None:
    """Write the CSCA certificates of FILE, once it verifies against --csca, as PEM files.

    Exit 1 when the list does not verify (nothing is written).
    """
    _run(lambda: run_export(file, csca, out, countries, as_json))
