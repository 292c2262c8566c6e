"""Verifying a folder of dump folders: in worker processes, one result row per dump (a dump
that cannot be verified is a row with its ``error``, never the end of the batch), a summary
per check, JSON Lines and CSV, and reruns that skip what was already verified.

A dump's *fingerprint* is the SHA-256 over the names and SHA-256s of every file of its folder;
the *settings* fingerprint is the SHA-256 over the trust anchors, master lists, CRLs and
e-signature CAs given (their bytes), the verification date (today's without ``--at``, and with
``--online`` or ``--center``, whose answers are of the day), the Center's URL and the tool's
version. A
rerun with the JSON Lines file of an earlier run keeps that run's row of every dump whose
fingerprint and settings are unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idcard import __version__
from idcard.lds import FILE_NAMES
from idcard.verify import TrustStore
from idcard.verify.document import DocumentReport, ExtraCheck, load_evidence, verify_document
from idcard.verify.esign import EsignTrust, read_esign_files
from idcard.verify.holder import mrz_of
from idcard.verify.online import Fetcher
from idcard.verify.passive import read_dump_folder
from station.audit.rules import station_checks
from station.errors import UsageError

__all__ = [
    "BatchSettings",
    "Verifier",
    "check_jobs",
    "document_identity",
    "dump_folders",
    "fingerprint",
    "has_dump_files",
    "read_previous",
    "run_batch",
    "summarize",
    "write_csv",
    "write_jsonl",
    "write_text_atomic",
]

Row = dict[str, Any]


_NAMES = (*FILE_NAMES, *(f"{n}.bin" for n in FILE_NAMES))


def has_dump_files(folder: Path) -> bool:
    """``folder`` holds a file of a dump (EF.SOD, DG1, …): it is one dump, not a batch."""
    return any((folder / n).is_file() for n in _NAMES)


def dump_folders(root: Path) -> list[Path]:
    """The folders right under ``root`` that hold a file of a dump, sorted by name (a folder
    with LDS files but no EF.SOD is listed too: its verification fails, as a result)."""
    return sorted(p for p in root.iterdir() if p.is_dir() and has_dump_files(p))


def fingerprint(folder: Path) -> str:
    """SHA-256 over each file's name and SHA-256, in name order."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        h.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """What every worker needs to verify: the trust material's paths, the date, and what may be
    asked online (``online``: CRL distribution points and OCSP; ``center``: the Center's URL)."""

    csca: Path
    master_lists: tuple[Path, ...] = ()
    crls: tuple[Path, ...] = ()
    at: datetime | None = None
    esign_ca: Path | None = None
    online: bool = False
    center: str | None = None

    def fingerprint(self) -> str:
        """SHA-256 over the trust material's bytes, the date (without one, or when asking the
        network: today's, so a rerun on another day verifies again), the online settings and
        the tool's version."""
        h = hashlib.sha256()
        for path in [*_paths(self.csca), *self.master_lists, *self.crls,
                     *(_paths(self.esign_ca) if self.esign_ca else ())]:  # fmt: skip
            h.update(hashlib.sha256(path.read_bytes()).digest())
        when = self.at.isoformat() if self.at else "now"
        if self.at is None or self.online or self.center:
            when += f" {datetime.now(UTC).date().isoformat()}"
        h.update(f"{when} online={self.online} center={self.center} idkarta {__version__}".encode())
        return h.hexdigest()

    def trust(self) -> TrustStore:
        fetcher = Fetcher() if self.online else None
        return TrustStore.from_paths(self.csca, master_lists=self.master_lists, crls=self.crls,
                                     fetcher=fetcher)  # fmt: skip

    def esign_trust(self, fetcher: Fetcher | None = None) -> EsignTrust:
        """The e-signature CAs (``--esign-ca``), asking OCSP through ``fetcher`` when online."""
        return EsignTrust.from_path(self.esign_ca, fetcher if self.online else None)

    def checks(self) -> tuple[ExtraCheck, ...]:
        """The station's checks, with a client of the Center when one is given."""
        if self.center is None:
            return station_checks(None)
        from station.client import CenterClient

        return station_checks(CenterClient.over_http(self.center, timeout=10.0), self.center)


def _paths(path: Path) -> list[Path]:
    """A file, or the files under a folder in name order."""
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


@dataclass(frozen=True)
class Verifier:
    """Everything one worker verifies with, made once from :class:`BatchSettings`."""

    settings: BatchSettings
    trust: TrustStore
    esign: EsignTrust
    checks: tuple[ExtraCheck, ...]

    @classmethod
    def of(cls, settings: BatchSettings) -> Verifier:
        trust = settings.trust()
        return cls(settings, trust, settings.esign_trust(trust.fetcher), settings.checks())

    def verify(self, folder: Path) -> tuple[Mapping[str, bytes], DocumentReport]:
        """The files of the dump ``folder`` and its report."""
        files = read_dump_folder(folder)
        report = verify_document(
            files, self.trust, evidence=load_evidence(folder), at=self.settings.at,
            extra=self.checks, esign_files=read_esign_files(folder), esign=self.esign)  # fmt: skip
        return files, report


_WORKER: Verifier | None = None


def _init_worker(settings: BatchSettings) -> None:
    global _WORKER
    _WORKER = Verifier.of(settings)


def _verify_one(folder: str, settings_fp: str) -> Row:
    """One dump's row (the worker's entry point); any error is the row's ``error``."""
    assert _WORKER is not None
    path = Path(folder)
    row: Row = {"dump": path.name, "fingerprint": None, "settings": settings_fp, "ok": False,
                "error": None, "checks": {}, "reasons": {}}  # fmt: skip
    try:
        row["fingerprint"] = fingerprint(path)
        files, report = _WORKER.verify(path)
    except Exception as exc:  # a broken dump is a result, never the end of the batch
        row["error"] = " ".join(f"{type(exc).__name__}: {exc}".split())
        return row
    row["ok"] = report.ok
    row["checks"] = {c.name: c.status.value for c in report.checks}
    row["reasons"] = {c.name: c.reason for c in report.checks}
    row["document"] = document_identity(files)
    return row


def document_identity(files: Mapping[str, bytes]) -> dict[str, str] | None:
    """The document's number, holder, code and issuing state from its DG1 (None without one)."""
    mrz = mrz_of(files)
    if mrz is None or isinstance(mrz, str):
        return None
    return {"document_number": mrz.document_number, "surname": mrz.surname,
            "given_names": mrz.given_names, "document_code": mrz.document_code,
            "issuing_state": mrz.issuing_state}  # fmt: skip


def read_previous(path: Path | None) -> dict[str, Row]:
    """The rows of an earlier run's JSON Lines file by dump name (none when there is none;
    lines that do not parse are ignored: those dumps are verified again)."""
    if path is None or not path.is_file():
        return {}
    rows: dict[str, Row] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("dump"), str):
            rows[row["dump"]] = row
    return rows


def run_batch(
    folders: Sequence[Path],
    settings: BatchSettings,
    *,
    jobs: int,
    previous: dict[str, Row] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Row], int]:
    """Verify ``folders`` in ``jobs`` worker processes (1: in this process); the rows in the
    order of ``folders`` and how many were skipped as verified before (``previous`` rows with
    the same fingerprint and settings). ``progress`` hears each finished dump."""
    settings.trust()  # unusable trust material is a UsageError/IdkartaError before any work
    settings.esign_trust()
    settings_fp = settings.fingerprint()
    previous = previous or {}
    rows: dict[Path, Row] = {}
    todo = []
    for folder in folders:
        old = previous.get(folder.name)
        if (old is not None and old.get("settings") == settings_fp and old.get("error") is None
                and old.get("fingerprint") == _safe_fingerprint(folder)):  # fmt: skip
            rows[folder] = old
            if progress is not None:
                progress(1)
        else:
            todo.append(folder)
    skipped = len(rows)
    if jobs <= 1 or len(todo) <= 1:
        _init_worker(settings)
        for folder in todo:
            rows[folder] = _verify_one(str(folder), settings_fp)
            if progress is not None:
                progress(1)
    else:
        with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(settings,)) as pool:
            futures = {pool.submit(_verify_one, str(f), settings_fp): f for f in todo}
            for future in as_completed(futures):
                rows[futures[future]] = future.result()
                if progress is not None:
                    progress(1)
    return [rows[f] for f in folders], skipped


def _safe_fingerprint(folder: Path) -> str | None:
    try:
        return fingerprint(folder)
    except OSError:
        return None


def summarize(rows: Iterable[Row]) -> tuple[dict[str, Counter[str]], Counter[str]]:
    """Per check: how many dumps passed / failed / were not checked; per verdict: how many
    dumps are ``ok``, ``failed`` or had an ``error``."""
    per_check: dict[str, Counter[str]] = {}
    verdicts: Counter[str] = Counter()
    for row in rows:
        verdicts["error" if row.get("error") else "ok" if row.get("ok") else "failed"] += 1
        for name, status in row.get("checks", {}).items():
            per_check.setdefault(name, Counter())[status] += 1
    return per_check, verdicts


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary sibling, make it durable, rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: Path, rows: Iterable[Row]) -> None:
    """One JSON object per dump and line, written atomically."""
    write_text_atomic(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def _check_names(rows: Sequence[Row]) -> Iterator[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for name in row.get("checks", {}):
            seen.setdefault(name, None)
    return iter(seen)


def write_csv(path: Path, rows: Sequence[Row]) -> None:
    """One line per dump: ``dump``, ``ok``, ``error``, then each check's status, written
    atomically."""
    names = list(_check_names(rows))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["dump", "ok", "error", *names])
    for row in rows:
        checks = row.get("checks", {})
        writer.writerow([row["dump"], "true" if row.get("ok") else "false", row.get("error") or "",
                         *(checks.get(n, "") for n in names)])  # fmt: skip
    write_text_atomic(path, out.getvalue())


def check_jobs(jobs: int | None) -> int:
    """``--jobs``: default the machine's cores."""
    if jobs is None:
        return os.cpu_count() or 1
    if jobs < 1:
        raise UsageError("--jobs must be at least 1")
    return jobs
