"""`idkarta verify (SOURCE | --reader N) --csca FILE_OR_DIR …`: the auditors' verification.

SOURCE is a dump folder or a folder of them (a batch, :mod:`station.audit.batch`); ``--reader``
reads a card live. Runs ICAO 9303-11 §5.1 passive authentication (see
:mod:`idcard.verify.passive`), then the chip's authenticity from the dump's ``evidence.json``
and the holder's data against itself (:mod:`idcard.verify.document`) and the station's
issuance rules (:mod:`station.audit.rules`), and prints each check as PASS / FAIL / NOT
CHECKED with its reason, or JSON with ``--json``. Exit codes (STYLE.md §9): 0 every check
passed (``report.ok``), 1 a check failed or an essential one could not be performed, 2 unusable
input (one line on stderr, never a traceback). ``--report DIR`` writes the report
(:mod:`station.audit.report`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from idcard.errors import IdkartaError
from idcard.verify import PassiveAuthReport, Status, TrustStore
from idcard.verify.chip import describe_read
from idcard.verify.document import DocumentReport
from idcard.verify.trust import load_certificates
from station.audit.batch import BatchSettings, check_jobs, has_dump_files
from station.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, echo_json, fail, prompt_optional
from station.errors import UsageError

if TYPE_CHECKING:
    from station.audit.report import Auditor, AuditorKey

__all__ = ["format_report", "format_summary", "run_batch_command", "run_verify",
           "run_verify_live", "verify"]

Echo = Callable[[str], None]


def format_report(report: PassiveAuthReport | DocumentReport) -> str:
    """The readable report: one line per check, then the verdict."""
    width = max(len(c.name) for c in report.checks)
    lines = [f"Passive authentication (ICAO 9303-11 §5.1), DS: {report.ds_subject or '-'}"]
    if isinstance(report, DocumentReport):
        if report.evidence is not None:
            live = "read live: " if report.live else "read: "
            lines.append(f"Chip {live}{describe_read(report.evidence)}")
        else:
            lines.append("Chip read: not recorded (no usable evidence.json)")
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
    *,
    report_to: Path | None = None,
    auditor: AuditorKey | None = None,
    settings: BatchSettings | None = None,
) -> int:
    """The command body for one dump folder; returns the exit code. ``settings``: the trust
    material and online options (default: ``csca``, ``master_lists``, ``crls``, ``at``).

    Unusable input raises :class:`IdkartaError` (the caller turns it into exit 2).
    """
    from station.audit.batch import Verifier

    settings = settings or BatchSettings(csca, tuple(master_lists), tuple(crls), at)
    verifier = Verifier.of(settings)
    trust = verifier.trust
    report = verifier.verify(dump_folder)[1]
    if report_to is not None:
        from idcard.verify.passive import read_dump_folder

        _write_report(report_to, [(dump_folder.name, report, read_dump_folder(dump_folder))],
                      settings, trust, auditor)  # fmt: skip
    return _show(report, as_json, echo)


def _write_report(
    folder: Path,
    reports: Sequence[tuple[str, DocumentReport, Mapping[str, bytes]]],
    settings: BatchSettings,
    trust: TrustStore,
    auditor: AuditorKey | None,
) -> None:
    from station.audit.report import face_of, mrz_text, row_of, trust_path, write_report

    rows = [row_of(name, report, files) for name, report, files in reports]
    write_report(folder, rows, settings, faces=[face_of(f) for _, _, f in reports],
                 mrzs=[mrz_text(f) for _, _, f in reports],
                 paths=[trust_path(f, trust) for _, _, f in reports], auditor=auditor)


def _show(report: DocumentReport, as_json: bool, echo: Echo) -> int:
    if as_json:
        echo_json(report.to_dict())
    else:
        echo(format_report(report))
    return EXIT_OK if report.ok else EXIT_FAILED


def run_verify_live(
    reader: str,
    mrz: str | None,
    can: str | None,
    trust: TrustStore,
    at: datetime | None,
    as_json: bool,
    *,
    wait: float = 0,
    out: Path | None = None,
    echo: Echo = click.echo,
    report_to: Path | None = None,
    settings: BatchSettings | None = None,
    auditor: AuditorKey | None = None,
) -> int:
    """Read the card in PC/SC ``reader`` (a name's substring or an index) and verify it live:
    Active Authentication with the fresh challenge of this read, Chip Authentication as it ran
    now. ``out``: also write the dump folder (with its evidence)."""
    from idcard.reader.document import read_document
    from idcard.reader.pcsc import PCSCTransport
    from idcard.verify.document import verify_document
    from station.audit.batch import Verifier
    from station.audit.rules import STATION_CHECKS

    verifier = Verifier.of(settings) if settings is not None else None
    with PCSCTransport.connect(int(reader) if reader.isdigit() else reader,
                               wait=wait) as transport:  # fmt: skip
        result = read_document(transport, mrz=mrz, can=can, read_esign=True)
    if out is not None:
        result.write(out)
    report = verify_document(
        result.dump.files, trust, evidence=result.evidence, at=at, live=True,
        extra=verifier.checks if verifier else STATION_CHECKS, esign_files=result.esign_files,
        esign=verifier.esign if verifier else None)  # fmt: skip
    if report_to is not None and settings is not None:
        _write_report(report_to, [("live", report, result.dump.files)], settings, trust,
                      auditor)  # fmt: skip
    return _show(report, as_json, echo)


def format_summary(rows: Sequence[dict[str, Any]], skipped: int) -> str:
    """The batch's summary: dumps by verdict, then passed / failed / not checked per check."""
    from station.audit.batch import summarize

    per_check, verdicts = summarize(rows)
    lines = [f"{len(rows)} dumps: {verdicts['ok']} passed, {verdicts['failed']} failed, "
             f"{verdicts['error']} could not be verified ({skipped} verified before, "
             "skipped)"]  # fmt: skip
    width = max((len(n) for n in per_check), default=5)
    lines.append(f"  {'check':<{width}}  {'pass':>6}  {'fail':>6}  {'not checked':>11}")
    for name, counts in per_check.items():
        lines.append(f"  {name:<{width}}  {counts['pass']:>6}  {counts['fail']:>6}  "
                     f"{counts['not-checked']:>11}")  # fmt: skip
    for row in rows:
        if row.get("error"):
            lines.append(f"BROKEN {row['dump']}: {row['error']}")
        elif not row.get("ok"):
            failed = [n for n, st in row.get("checks", {}).items() if st == "fail"]
            what = ", ".join(failed) or "essential checks not performed"
            lines.append(f"FAIL   {row['dump']}: {what}")
    return "\n".join(lines)


def run_batch_command(
    root: Path,
    settings: BatchSettings,
    *,
    jobs: int,
    jsonl: Path | None,
    csv_path: Path | None,
    force: bool,
    as_json: bool,
    echo: Echo = click.echo,
    report_to: Path | None = None,
    auditor: AuditorKey | None = None,
) -> int:
    """Verify every dump folder under ``root`` (see :mod:`station.audit.batch`)."""
    from station.audit.batch import (
        dump_folders,
        read_previous,
        run_batch,
        write_csv,
        write_jsonl,
    )

    folders = dump_folders(root)
    if not folders:
        raise UsageError(f"{root}: neither a dump folder nor a folder of dump folders")
    previous = {} if force else read_previous(jsonl)
    if sys.stderr.isatty() and not as_json:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("verifying", total=len(folders))
            rows, skipped = run_batch(folders, settings, jobs=jobs, previous=previous,
                                      progress=lambda n: bar.advance(task, n))  # fmt: skip
    else:
        rows, skipped = run_batch(folders, settings, jobs=jobs, previous=previous)
    if jsonl is not None:
        write_jsonl(jsonl, rows)
    if csv_path is not None:
        write_csv(csv_path, rows)
    if report_to is not None:
        from idcard.verify.passive import read_dump_folder
        from station.audit.report import face_of, mrz_text, trust_path, write_report

        trust, faces, mrzs, paths = settings.trust(), [], [], []
        for folder in folders:
            try:
                files = read_dump_folder(folder)
            except IdkartaError:
                files = {}
            faces.append(face_of(files))
            mrzs.append(mrz_text(files))
            paths.append(trust_path(files, trust))
        write_report(report_to, rows, settings, faces=faces, mrzs=mrzs, paths=paths,
                     auditor=auditor)  # fmt: skip
    if as_json:
        from station.audit.batch import summarize

        per_check, verdicts = summarize(rows)
        echo_json({"ok": all(r.get("ok") for r in rows), "dumps": len(rows), "skipped": skipped,
                   "verdicts": dict(verdicts),
                   "checks": {n: dict(c) for n, c in per_check.items()},
                   "results": rows})  # fmt: skip
    else:
        echo(format_summary(rows, skipped))
    return EXIT_OK if all(r.get("ok") for r in rows) else EXIT_FAILED


def _auditor(store: Path, label: str, cert_path: Path, tsa_url: str | None) -> Auditor:
    """The auditor's key (file key store) and certificate with its chain."""
    from pki.filestore import FileKeyStore
    from station.audit.report import auditor_of
    from station.cli.common import prompt_secret
    from station.folders.keys import passphrase_once

    if not store.is_dir():
        raise UsageError(f"{store}: not a key store folder")
    certs = load_certificates(cert_path)
    signer = FileKeyStore(store, passphrase_once(False, ask=lambda p, c: prompt_secret(p, c))
                          ).load(label)  # fmt: skip
    return auditor_of(signer, certs, where=str(cert_path), tsa_url=tsa_url)


def _token_key(module: str, token: str, key_label: str, cert_path: Path | None,
               tsa_url: str | None) -> AuditorKey:  # fmt: skip
    """The auditor's key on a PKCS#11 token (PIN: IDKARTA_PIN or a hidden prompt, asked when
    the report is signed)."""
    from station.audit.report import TokenKey
    from station.folders.keys import pin_once

    def ask(prompt: str, confirm: bool) -> str:
        entered = prompt_optional(prompt)
        if not entered:
            raise UsageError("no PIN: set IDKARTA_PIN or enter the token's PIN at the prompt")
        return entered

    certs = tuple(load_certificates(cert_path)) if cert_path is not None else ()
    return TokenKey(module, token, key_label, pin_once(ask), certs, tsa_url)


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
@click.argument("source", required=False, type=click.Path(path_type=Path))
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
@click.option("--esign-ca", type=click.Path(path_type=Path),
              help="E-signature CA certificate(s) (PEM/DER file or directory): the trust "
              "anchors of the card's e-signature certificate (EF.C.ESIGN in the dump).")
@click.option("--online", is_flag=True,
              help="Ask the network: the CSCA's CRL from the DS certificate's CRL distribution "
              "point, and the e-signature certificate's OCSP responder.")  # fmt: skip
@click.option("--center", metavar="URL",
              help="The Center's URL: check the card's status in its registry (lost, stolen, "
              "cancelled or unknown: FAIL).")  # fmt: skip
@click.option("--at", "at_text", metavar="YYYY-MM-DD", help="Verification date (default: now).")
@click.option("--reader", help="Verify the card in this PC/SC reader (name substring or index) "
              "live, instead of SOURCE.")  # fmt: skip
@click.option("--can", help="With --reader: the six-digit Card Access Number.")
@click.option("--mrz", help="With --reader: the MRZ (lines joined, or separated by spaces).")
@click.option("--wait", type=click.FloatRange(0, 3600), default=0, show_default=True,
              help="With --reader: seconds to wait for a card.")  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="With --reader: also write the dump folder read (must not exist).")
@click.option("--jobs", type=int, help="Batch: worker processes (default: the cores).")
@click.option("--jsonl", type=click.Path(dir_okay=False, path_type=Path),
              help="Batch: write one JSON line per dump; an earlier run's file lets a rerun "
              "skip dumps verified before (same files, same trust and date).")  # fmt: skip
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Batch: write one CSV line per dump (each check's status).")
@click.option("--force", is_flag=True, help="Batch: verify again what --jsonl says was verified.")
@click.option("--report", "report_to", type=click.Path(file_okay=False, path_type=Path),
              help="Write the report into this folder: report.json, HTML, and report.pdf signed "
              "with --report-key or --report-pkcs11.")  # fmt: skip
@click.option("--report-key-store", type=click.Path(file_okay=False, path_type=Path),
              help="The auditor's file key store (passphrase: IDKARTA_PASSPHRASE or prompt).")
@click.option("--report-key", metavar="LABEL", help="The auditor's key in --report-key-store.")
@click.option("--report-cert", type=click.Path(dir_okay=False, path_type=Path),
              help="The auditor's certificate (PEM/DER), then its chain, for the PDF signature.")
@click.option("--report-tsa", metavar="URL",
              help="An RFC 3161 time-stamp authority: report.pdf is then PAdES B-T (else B-B).")
@click.option("--report-pkcs11", metavar="MODULE", type=click.Path(exists=True, dir_okay=False),
              help="The auditor's key on a PKCS#11 token instead: the token's module (an HSM's, "
              "or OpenSC's opensc-pkcs11.so for the auditor's own ID card); PIN: IDKARTA_PIN "
              "or prompt.")  # fmt: skip
@click.option("--report-token", metavar="LABEL",
              help="With --report-pkcs11: the token's label (an ID card's: the holder's name).")
@click.option("--report-key-label", metavar="LABEL",
              help="With --report-pkcs11: the key's label (an ID card's: 'SIGN key'). Without "
              "--report-cert, the certificate the token keeps beside the key is used.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify(
    source: Path | None,
    csca: Path,
    master_lists: tuple[Path, ...],
    crls: tuple[Path, ...],
    esign_ca: Path | None,
    online: bool,
    center: str | None,
    at_text: str | None,
    reader: str | None,
    can: str | None,
    mrz: str | None,
    wait: float,
    out: Path | None,
    jobs: int | None,
    jsonl: Path | None,
    csv_path: Path | None,
    force: bool,
    report_to: Path | None,
    report_key_store: Path | None,
    report_key: str | None,
    report_cert: Path | None,
    report_tsa: str | None,
    report_pkcs11: str | None,
    report_token: str | None,
    report_key_label: str | None,
    as_json: bool,
) -> None:
    """Verify a dump folder, a folder of dump folders or a card (--reader): every check,
    each PASS, FAIL or NOT CHECKED with its reason.

    SOURCE is a dump folder (EF.SOD, EF.COM, DG1..DG16, evidence.json) or a folder of them
    (batch, in worker processes). The checks: passive authentication; Active Authentication
    re-verified and Chip Authentication as recorded in evidence.json (or run live with
    --reader and --can/--mrz); DG1 against DG11; the PINFL against the MRZ; the validity
    period against the age rule; the card's e-signature certificate (chain to --esign-ca,
    the holder's PINFL, validity, key usage, OCSP with --online); the card's status in the
    Center's registry (--center).

    Exit 0 when every document passes, 1 when one fails, 2 on unusable input.
    """
    at = _parse_date(at_text)
    if (source is None) == (reader is None):
        fail("give exactly one of SOURCE and --reader")
    if reader is not None and (can is None) == (mrz is None):
        fail("--reader needs exactly one of --can and --mrz")
    if reader is None and (can, mrz, out) != (None, None, None):
        fail("--can, --mrz and --out go with --reader")
    if out is not None and out.exists():
        fail(f"{out} exists")
    file_key, token_key = (report_key_store, report_key), (report_pkcs11, report_token,
                                                           report_key_label)  # fmt: skip
    if any(o is not None for o in file_key) and any(o is not None for o in token_key):
        fail("the auditor's key is in a file key store (--report-key-store) or on a PKCS#11 "
             "token (--report-pkcs11), not both")  # fmt: skip
    if any(o is not None for o in token_key):
        if report_to is None or any(o is None for o in token_key):
            fail("--report-pkcs11, --report-token and --report-key-label go together, with "
                 "--report")  # fmt: skip
    elif any(o is not None for o in (*file_key, report_cert)) and (
            report_to is None or any(o is None for o in (*file_key, report_cert))):  # fmt: skip
        fail("--report-key-store, --report-key and --report-cert go together, with --report")
    if report_tsa is not None and report_key is None and report_pkcs11 is None:
        fail("--report-tsa goes with --report-key or --report-pkcs11")
    if center is not None and not center.lower().startswith(("http://", "https://")):
        fail(f"--center {center!r} is not an http(s) URL")
    settings = BatchSettings(csca, master_lists, crls, at, esign_ca, online, center)
    if report_to is not None:
        from station.audit.report import check_report_target

        try:
            check_report_target(report_to)
        except UsageError as exc:
            fail(str(exc))
    batch = source is not None and source.is_dir() and not has_dump_files(source)
    if not batch and ((jobs, jsonl, csv_path) != (None, None, None) or force):
        fail("--jobs, --jsonl, --csv and --force go with a folder of dump folders")
    try:
        auditor: AuditorKey | None = None
        if report_key_store is not None and report_key is not None and report_cert is not None:
            auditor = _auditor(report_key_store, report_key, report_cert, report_tsa)
        elif report_pkcs11 is not None and report_token is not None and report_key_label:
            auditor = _token_key(report_pkcs11, report_token, report_key_label, report_cert,
                                 report_tsa)  # fmt: skip
        if reader is not None:
            trust = settings.trust()
            code = run_verify_live(reader, mrz, can, trust, at, as_json, wait=wait, out=out,
                                   report_to=report_to, settings=settings,
                                   auditor=auditor)  # fmt: skip
        elif batch:
            assert source is not None
            code = run_batch_command(source, settings, jobs=check_jobs(jobs), jsonl=jsonl,
                                     csv_path=csv_path, force=force, as_json=as_json,
                                     report_to=report_to, auditor=auditor)  # fmt: skip
        else:
            assert source is not None
            code = run_verify(source, csca, master_lists, crls, at, as_json,
                              report_to=report_to, auditor=auditor,
                              settings=settings)  # fmt: skip
    except IdkartaError as exc:
        fail(_one_line(str(exc)), EXIT_USAGE)
    except OSError as exc:
        fail(_one_line(f"cannot read input: {exc}"), EXIT_USAGE)
    raise SystemExit(code)
