"""The auditors' report (``idkarta verify … --report DIR``): ``report.json`` (schema:
``docs/audit-report.schema.json``), HTML (``index.html``, the overview, and one page per
document with its face image from DG2, the MRZ and every check with its reason) and
``report.pdf``, signed (:func:`pki.pdf.sign_pdf`) when the auditor's key is given: a key of a
file key store (:class:`Auditor`) or a key on a PKCS#11 token (:class:`TokenKey`) — an HSM, or
the auditor's own ID card through OpenSC's PKCS#11 module and the card's PIV face. PAdES B-T
with a time-stamp authority, else B-B.

The report names the tool and its version, the time of verification, the trust material used
(each file's SHA-256; each CSCA's and e-signature CA's certificate's, each master list's
CSCAs' and signer's subject and SHA-256 fingerprint; each CRL's issuer and dates), per
document its identity (document number, holder's name) and the certificates its chain ran
through (DS up to the trust anchor, with fingerprints), and the signer (certificate subject,
issuer, fingerprint, where the key was, the PAdES level). The report is made in a temporary
sibling folder and renamed into place whole; an earlier report there is replaced, any other
folder is refused.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from asn1crypto import x509

from idcard import __version__
from idcard.errors import DecodeError
from idcard.lds.dg2 import DG2
from idcard.verify import TrustStore
from idcard.verify.document import DocumentReport
from idcard.verify.holder import mrz_of
from idcard.verify.trust import load_certificates, load_crls
from pki.filestore import write_atomic
from pki.keys import Signer
from station.audit.batch import (
    BatchSettings,
    Row,
    document_identity,
    summarize,
    write_text_atomic,
)
from station.errors import UsageError

__all__ = ["REPORT_FORMAT", "Auditor", "AuditorKey", "TokenKey", "auditor_of",
           "check_report_target", "face_of", "mrz_text", "row_of", "trust_material", "trust_path",
           "write_report"]

REPORT_FORMAT = "idkarta-audit-report"


@dataclass(frozen=True)
class Auditor:
    """The auditor's signing key and certificate (with its chain) for the PDF."""

    signer: Signer
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    tsa_url: str | None = None
    """An RFC 3161 time-stamp authority: the signature is then PAdES B-T, else B-B."""
    key: str = "file key store"
    """Where the key is, as the report names it."""

    def open(self) -> AbstractContextManager[Auditor]:
        """This auditor (the :class:`AuditorKey` of a key already at hand)."""
        return nullcontext(self)


class AuditorKey(Protocol):
    """The auditor's key, opened only when the report is signed (after every verification)."""

    def open(self) -> AbstractContextManager[Auditor]: ...


def _spki(signer: Signer) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return signer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def auditor_of(signer: Signer, certificates: Sequence[x509.Certificate], *, where: str,
               tsa_url: str | None = None, key: str = "file key store") -> Auditor:  # fmt: skip
    """The auditor of ``signer`` and its certificate (``certificates[0]``, then its chain);
    a UsageError, naming ``where`` the certificates came from, when it is another key's."""
    if not certificates or certificates[0].public_key.dump() != _spki(signer):
        raise UsageError(f"{where}: the first certificate is not of key {signer.label!r}")
    return Auditor(signer, certificates[0], tuple(certificates[1:]), tsa_url, key)


@dataclass(frozen=True)
class TokenKey:
    """The auditor's key on a PKCS#11 token: an HSM (SoftHSM2 in the tests) or the auditor's own
    ID card through OpenSC's PKCS#11 module and the card's PIV face (token label: the holder's
    name; key label ``SIGN key``). The token is opened by :meth:`open` only when the report is
    signed, after verification: never in a batch's worker processes nor during a live read.

    ``certificates``: the auditor's certificate, then its chain; empty: the certificate the
    token keeps beside the key (same CKA_ID), as a PIV card does. ``pin`` is called at login."""

    module: str
    token: str
    key_label: str
    pin: Callable[[], str]
    certificates: tuple[x509.Certificate, ...] = ()
    tsa_url: str | None = None

    @contextmanager
    def open(self) -> Iterator[Auditor]:
        """A logged-in read-only session; the auditor of its key while it is open."""
        from pki.hsm import PKCS11Module

        token = PKCS11Module(self.module).token(self.token)
        with token.session(self.pin, rw=False) as session:
            key = session.key(self.key_label)
            certs, where = list(self.certificates), "--report-cert"
            if not certs:
                where = f"token {self.token!r}"
                ders = session.certificates(key.key_id)
                if not ders:
                    raise UsageError(f"token {self.token!r} holds no certificate of key "
                                     f"{self.key_label!r}: give --report-cert")  # fmt: skip
                try:
                    certs = [x509.Certificate.load(ders[0])]
                    certs[0].native  # noqa: B018 - parse fully
                except ValueError as exc:
                    raise UsageError(f"{where}: the key's certificate does not parse "
                                     f"({exc})") from None  # fmt: skip
            yield auditor_of(key, certs, where=where, tsa_url=self.tsa_url,
                             key=f"PKCS#11 token {self.token!r} ({self.module})")  # fmt: skip


def row_of(name: str, report: DocumentReport, files: Mapping[str, bytes]) -> Row:
    """One document's row (as :mod:`station.audit.batch` writes them) of a report in memory."""
    return {"dump": name, "ok": report.ok, "error": None, "live": report.live,
            "checks": {c.name: c.status.value for c in report.checks},
            "reasons": {c.name: c.reason for c in report.checks},
            "document": document_identity(files),
            "evidence": None if report.evidence is None else report.evidence.to_json()}  # fmt: skip


def mrz_text(files: Mapping[str, bytes]) -> str | None:
    """DG1's MRZ as its printed lines."""
    mrz = mrz_of(files)
    return None if mrz is None or isinstance(mrz, str) else "\n".join(mrz.lines())


def face_of(files: Mapping[str, bytes]) -> bytes | None:
    """The first portrait of DG2 (JPEG or JPEG 2000), None without a readable one."""
    raw = files.get("DG2")
    if raw is None:
        return None
    try:
        images = DG2.decode(raw).images
    except (DecodeError, ValueError):
        return None
    return images[0] if images else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _certificate(cert: x509.Certificate) -> dict[str, str]:
    return {"subject": cert.subject.human_friendly, "sha256": _sha256(cert.dump())}


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def trust_material(settings: BatchSettings) -> list[dict[str, Any]]:
    """Each trust file used: kind, path, SHA-256; for CSCA and e-signature CA files each
    certificate's subject and SHA-256 fingerprint; for master lists each CSCA's and the
    signer's; for CRLs each CRL's issuer and dates."""
    from idcard.verify.masterlist import MasterList

    out: list[dict[str, Any]] = []
    anchors = [("csca", settings.csca)]
    if settings.esign_ca is not None:
        anchors.append(("esign_ca", settings.esign_ca))
    for kind, given in anchors:
        files = [given] if given.is_file() else sorted(p for p in given.rglob("*") if p.is_file())
        out += [{"kind": kind, "path": str(path), "sha256": _sha256(path.read_bytes()),
                 "certificates": [_certificate(c) for c in load_certificates(path)]}
                for path in files]  # fmt: skip
    for path in settings.master_lists:
        data = path.read_bytes()
        ml = MasterList.decode(data)
        signer = ml.signer_certificate
        out.append({"kind": "master_list", "path": str(path), "sha256": _sha256(data),
                    "signer": None if signer is None else _certificate(signer),
                    "certificates": [_certificate(c) for c in ml.certificates]})  # fmt: skip
    for path in settings.crls:
        crls = [{"issuer": c.issuer.human_friendly, "this_update": _time(c["tbs_cert_list"][
                    "this_update"].native), "next_update": _time(c["tbs_cert_list"][
                    "next_update"].native)} for c in load_crls([path])]  # fmt: skip
        out.append({"kind": "crl", "path": str(path), "sha256": _sha256(path.read_bytes()),
                    "crls": crls})  # fmt: skip
    return out


def trust_path(files: Mapping[str, bytes], trust: TrustStore) -> list[dict[str, str]] | None:
    """The certificates the document's chain ran through — its DS certificate up to the trust
    anchor, each subject and SHA-256 fingerprint — or None when no chain to a trusted CSCA
    was found (the ``chain`` check says why)."""
    from idcard.lds.sod import SOD

    try:
        ds = SOD.decode(files["EF.SOD"]).signer_certificate
    except (KeyError, DecodeError, ValueError):
        return None
    if ds is None:
        return None
    chain = trust.chain(ds)
    return [_certificate(c) for c in chain.path] if chain.csca is not None else None


def _document(row: Row, path: list[dict[str, str]] | None) -> dict[str, Any]:
    reasons = row.get("reasons", {})
    return {
        "dump": row["dump"], "ok": bool(row.get("ok")), "error": row.get("error"),
        "live": bool(row.get("live", False)), "document": row.get("document"),
        "trust_path": path,
        "checks": [{"name": n, "status": s, "reason": reasons.get(n, "")}
                   for n, s in row.get("checks", {}).items()],
        "evidence": row.get("evidence"),
    }  # fmt: skip


def _page_name(index: int) -> str:
    return f"doc-{index:05d}.html"


_CSS = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}"
        ".pass{color:#060}.fail{color:#b00;font-weight:bold}.not-checked{color:#850}"
        "img{max-height:240px}pre{font-size:1.1em}")  # fmt: skip


def _html(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(title)}</title><style>{_CSS}</style></head><body>\n{body}\n"
            "</body></html>\n")  # fmt: skip


def _who(doc: Mapping[str, Any]) -> tuple[str, str]:
    ident = doc.get("document") or {}
    holder = f"{ident.get('surname', '')}, {ident.get('given_names', '')}".strip(", ")
    return ident.get("document_number", "?"), holder or "?"


def _verdict(doc: Mapping[str, Any]) -> str:
    return "BROKEN" if doc.get("error") else "PASS" if doc["ok"] else "FAIL"


def _document_page(doc: Mapping[str, Any], face: bytes | None, mrz: str | None,
                   header: str) -> str:  # fmt: skip
    e = html.escape
    number, holder = _who(doc)
    parts = [f"<h1>{e(number)} — {e(holder)}: {_verdict(doc)}</h1>", header]
    if face is not None:
        mime = "image/jpeg" if face[:2] == b"\xff\xd8" else "image/jp2"
        parts.append(f"<p><img alt=\"face image (DG2)\" src=\"data:{mime};base64,"
                     f"{base64.b64encode(face).decode()}\"></p>")  # fmt: skip
    if mrz:
        parts.append(f"<h2>MRZ (DG1)</h2><pre>{e(mrz)}</pre>")
    parts.append("<h2>Certificates of the chain</h2><ul>"
                 + "".join(f"<li>{e(line)}</li>" for line in _path_lines(doc)) + "</ul>")
    if doc.get("error"):
        parts.append(f"<p class=\"fail\">Could not be verified: {e(doc['error'])}</p>")
    rows = "".join(f"<tr><td>{e(c['name'])}</td><td class=\"{e(c['status'])}\">"
                   f"{e(c['status'].replace('-', ' ').upper())}</td><td>{e(c['reason'])}</td></tr>"
                   for c in doc["checks"])  # fmt: skip
    parts.append(f"<h2>Checks</h2><table><tr><th>check</th><th>status</th><th>reason</th></tr>"
                 f"{rows}</table>")  # fmt: skip
    if doc.get("evidence") is not None:
        parts.append("<h2>Evidence of the read</h2><pre>"
                     f"{e(json.dumps(doc['evidence'], indent=2))}</pre>")  # fmt: skip
    parts.append("<p><a href=\"index.html\">overview</a></p>")
    return _html(f"{number} — {holder}", "\n".join(parts))


def _material_lines(report: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The trust material and the signer as indented lines (HTML and PDF say the same)."""
    lines: list[tuple[int, str]] = []
    for a in report["trust_material"]:
        lines.append((0, f"{a['kind']} {a['path']} (SHA-256 {a['sha256']})"))
        if a.get("signer"):
            lines.append((1, f"signed by {a['signer']['subject']} — certificate SHA-256 "
                             f"{a['signer']['sha256']}"))  # fmt: skip
        lines += [(1, f"{c['subject']} — certificate SHA-256 {c['sha256']}")
                  for c in a.get("certificates", [])]  # fmt: skip
        lines += [(1, f"CRL of {c['issuer']}, this update {c['this_update']}, next update "
                      f"{c['next_update'] or '-'}") for c in a.get("crls", [])]  # fmt: skip
    return lines


def _signer_line(report: Mapping[str, Any]) -> str:
    s = report.get("signer")
    if not s:
        return "report.pdf not signed (no auditor's key given)"
    return (f"report.pdf signed (PAdES {s['level']}) by {s['subject']}, issued by {s['issuer']}, "
            f"certificate SHA-256 {s['sha256']}; key: {s['key']}")


def _path_lines(doc: Mapping[str, Any]) -> list[str]:
    path = doc.get("trust_path")
    if not path:
        return ["Chain: no path to a trusted CSCA (see the chain check)"]
    return [f"{'DS' if i == 0 else 'CSCA' if i == len(path) - 1 else 'link'}: {c['subject']} — "
            f"certificate SHA-256 {c['sha256']}" for i, c in enumerate(path)]


def _header(report: Mapping[str, Any]) -> str:
    e = html.escape
    items, depth = [], 0
    for level, text in _material_lines(report):
        if level == 0:
            items.append(("</ul></li>" if depth else "") + f"<li>{e(text)}<ul>")
            depth = 1
        else:
            items.append(f"<li>{e(text)}</li>")
    anchors = "".join(items) + ("</ul></li>" if depth else "")
    return (f"<p>idkarta {e(report['tool']['version'])}; verified at "
            f"{e(report['verified_at'])} (verification date {e(report['verification_date'])})"
            f"</p><p>{e(_signer_line(report))}</p><h2>Trust material</h2><ul>{anchors}</ul>")


def _pdf(report: Mapping[str, Any], faces: Sequence[bytes | None],
         mrzs: Sequence[str | None]) -> bytes:  # fmt: skip
    from fpdf import FPDF

    def t(text: object) -> str:  # the core fonts are Latin-1
        return str(text).replace("—", "-").encode("latin-1", "replace").decode("latin-1")

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, t("idkarta verification report"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    s = report["summary"]
    lines = [f"idkarta {report['tool']['version']}; verified at {report['verified_at']} "
             f"(verification date {report['verification_date']})",
             f"{s['documents']} documents: {s['passed']} passed, {s['failed']} failed, "
             f"{s['broken']} could not be verified", _signer_line(report),
             "Trust material:"]  # fmt: skip
    lines += ["  " * (level + 1) + text for level, text in _material_lines(report)]
    for line in lines:
        pdf.multi_cell(0, 5, t(line), new_x="LMARGIN", new_y="NEXT")
    for doc, face, mrz in zip(report["documents"], faces, mrzs, strict=True):
        pdf.add_page()
        number, holder = _who(doc)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, t(f"{number} - {holder}: {_verdict(doc)}"), new_x="LMARGIN",
                       new_y="NEXT")  # fmt: skip
        if face is not None and face[:2] == b"\xff\xd8":
            from io import BytesIO

            pdf.image(BytesIO(face), h=40)
        if mrz:
            pdf.set_font("Courier", "", 9)
            pdf.multi_cell(0, 4, t(mrz), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)
        for line in _path_lines(doc):
            pdf.multi_cell(0, 4, t(line), new_x="LMARGIN", new_y="NEXT")
        if doc.get("error"):
            pdf.multi_cell(0, 4, t(f"Could not be verified: {doc['error']}"), new_x="LMARGIN",
                           new_y="NEXT")  # fmt: skip
        for c in doc["checks"]:
            label = c["status"].replace("-", " ").upper()
            pdf.multi_cell(0, 4, t(f"{label:<12} {c['name']}: {c['reason']}"),
                           new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    return bytes(pdf.output())


def write_report(
    folder: Path,
    rows: Sequence[Row],
    settings: BatchSettings,
    *,
    faces: Sequence[bytes | None],
    mrzs: Sequence[str | None],
    paths: Sequence[list[dict[str, str]] | None] | None = None,
    auditor: AuditorKey | None = None,
    verified_at: datetime | None = None,
) -> dict[str, Path]:
    """Write the report of ``rows`` (with each document's face image, MRZ text and
    :func:`trust_path`, in the same order) into ``folder``; the paths written by kind
    (``json``, ``html``, ``pdf`` — the PDF only with an ``auditor`` to sign it, opened here,
    once, after every verification)."""
    check_report_target(folder)
    with nullcontext(None) if auditor is None else auditor.open() as signer:
        return _write_report(folder, rows, settings, faces, mrzs,
                             paths if paths is not None else [None] * len(rows), signer,
                             verified_at)  # fmt: skip


def _signer(auditor: Auditor) -> dict[str, Any]:
    cert = auditor.certificate
    return {"subject": cert.subject.human_friendly, "issuer": cert.issuer.human_friendly,
            "serial_number": format(cert.serial_number, "x"), "sha256": _sha256(cert.dump()),
            "key": auditor.key, "level": "B-T" if auditor.tsa_url else "B-B",
            "tsa": auditor.tsa_url}  # fmt: skip


def _write_report(
    folder: Path,
    rows: Sequence[Row],
    settings: BatchSettings,
    faces: Sequence[bytes | None],
    mrzs: Sequence[str | None],
    paths: Sequence[list[dict[str, str]] | None],
    auditor: Auditor | None,
    verified_at: datetime | None,
) -> dict[str, Path]:
    now = (verified_at or datetime.now(UTC)).replace(microsecond=0)
    _per_check, verdicts = summarize(rows)
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "version": 1,
        "tool": {"name": "idkarta", "version": __version__},
        "verified_at": now.isoformat().replace("+00:00", "Z"),
        "verification_date": settings.at.date().isoformat() if settings.at else "now",
        "trust_material": trust_material(settings),
        "summary": {
            "documents": len(rows),
            "passed": verdicts["ok"],
            "failed": verdicts["failed"],
            "broken": verdicts["error"],
        },
        "documents": [_document(r, p) for r, p in zip(rows, paths, strict=True)],
        "signed_by": None if auditor is None else auditor.certificate.subject.human_friendly,
        "signer": None if auditor is None else _signer(auditor),
    }
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.report-", dir=folder.parent))
    try:
        _write_all(stage, report, faces, mrzs, auditor)
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex}")
            folder.rename(old)
            stage.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            stage.rename(folder)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    kinds = {"json": "report.json", "html": "index.html", "pdf": "report.pdf"}
    return {k: folder / name for k, name in kinds.items() if (folder / name).is_file()}


_OURS = re.compile(r"report\.json|report\.pdf|index\.html|doc-\d{5}\.html")


def check_report_target(folder: Path) -> None:
    """``folder`` may receive a report: it does not exist, or holds an earlier report (only
    its files), which is then replaced; anything else is a UsageError (nothing of the
    auditor's is ever deleted)."""
    if not folder.exists():
        return
    if not folder.is_dir() or not (folder / "report.json").is_file() or any(
            not _OURS.fullmatch(p.name) for p in folder.iterdir()):  # fmt: skip
        raise UsageError(f"{folder} exists and is not an idkarta report; not replacing it")


def _write_all(
    folder: Path,
    report: dict[str, Any],
    faces: Sequence[bytes | None],
    mrzs: Sequence[str | None],
    auditor: Auditor | None,
) -> None:
    written = {"json": folder / "report.json", "html": folder / "index.html"}
    write_text_atomic(written["json"], json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    header = _header(report)
    e = html.escape
    lines = []
    for i, (doc, face, mrz) in enumerate(zip(report["documents"], faces, mrzs, strict=True)):
        write_text_atomic(folder / _page_name(i), _document_page(doc, face, mrz, header))
        number, holder = _who(doc)
        failed = ", ".join(c["name"] for c in doc["checks"] if c["status"] == "fail")
        verdict = _verdict(doc)
        lines.append(f"<tr><td><a href=\"{_page_name(i)}\">{e(doc['dump'])}</a></td>"
                     f"<td>{e(number)}</td><td>{e(holder)}</td><td class=\"{verdict.lower()}\">"
                     f"{verdict}</td><td>{e(doc.get('error') or failed)}</td></tr>")  # fmt: skip
    s = report["summary"]
    overview = (f"<h1>Verification report</h1>{header}<p>{s['documents']} documents: "
                f"{s['passed']} passed, {s['failed']} failed, {s['broken']} could not be "
                "verified</p><table><tr><th>dump</th><th>document</th><th>holder</th>"
                f"<th>verdict</th><th>failed checks / error</th></tr>{''.join(lines)}</table>")
    write_text_atomic(written["html"], _html("Verification report", overview))
    if auditor is not None:
        from pki.pdf import HTTPTimeStamper, PAdESLevel, PdfSigner, sign_pdf

        tsa = auditor.tsa_url
        signed = sign_pdf(_pdf(report, faces, mrzs),
                          PdfSigner(auditor.signer, auditor.certificate, list(auditor.chain)),
                          level=PAdESLevel.B_T if tsa else PAdESLevel.B_B,
                          timestamper=HTTPTimeStamper(tsa) if tsa else None,
                          reason="idkarta verification report")  # fmt: skip
        write_atomic(folder / "report.pdf", signed)
