"""`idkarta verify … --report DIR`: report.json (checked against docs/audit-report.schema.json by
jsonschema), HTML (overview, one page per document with the face image, the MRZ and every
check), and report.pdf signed with the auditor's file-key-store key, accepted by poppler's
pdfsig and by `idkarta validate`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.conftest import ROOT, require_tool
from tests.idcard.chip.cards import CAN, build_dump, ds_pki, make_card
from tests.idcard.verify.pa_pki import der

from idcard.reader.document import read_document
from pki.filestore import FileKeyStore, ScryptCost
from pki.keys import KeySpec
from station.cli import main
from station.folders.esign import EsignFolder
from station.services import ServiceServer

PASS = "auditor-passphrase"
SCHEMA = json.loads((ROOT / "docs" / "audit-report.schema.json").read_text())


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"IDKARTA_PASSPHRASE": PASS})
    return result.exit_code, result.stdout, result.stderr


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UZ"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])  # fmt: skip


@pytest.fixture(scope="module")
def auditor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """<d>/keys (file key store with key "auditor"), <d>/auditor.pem (its certificate, then the
    CA's), <d>/ca.pem, <d>/ca.crl."""
    d = tmp_path_factory.mktemp("auditor")
    store = FileKeyStore(d / "keys", lambda: PASS.encode(), test_only_scrypt_cost=ScryptCost(2))
    signer = store.generate("auditor", KeySpec("ec", curve="secp256r1"))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca = (x509.CertificateBuilder().subject_name(_name("Audit CA")).issuer_name(_name("Audit CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now)
          .not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))  # fmt: skip
    public = signer.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    ee = (x509.CertificateBuilder().subject_name(_name("Auditor Dilnoza Karimova"))
          .issuer_name(ca.subject).public_key(public).serial_number(2).not_valid_before(now)
          .not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))  # fmt: skip
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject).last_update(now)
           .next_update(now + dt.timedelta(days=30)).sign(ca_key, hashes.SHA256()))  # fmt: skip
    pem = serialization.Encoding.PEM
    (d / "auditor.pem").write_bytes(ee.public_bytes(pem) + ca.public_bytes(pem))
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    (d / "ca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return d


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """<d>/dumps/{good,bad} (bad: AA's recorded challenge changed) and <d>/csca.der."""
    d = tmp_path_factory.mktemp("report")
    dump, keys = build_dump()
    read_document(make_card(dump, keys).transport(), can=CAN).write(d / "dumps" / "good")
    shutil.copytree(d / "dumps" / "good", d / "dumps" / "bad")
    evidence = json.loads((d / "dumps" / "bad" / "evidence.json").read_text())
    evidence["active_authentication"]["challenge"] = "11" * 8
    (d / "dumps" / "bad" / "evidence.json").write_text(json.dumps(evidence))
    (d / "csca.der").write_bytes(der(ds_pki().csca))
    return d


def _keys(auditor: Path) -> list[str]:
    return ["--report-key-store", str(auditor / "keys"), "--report-key", "auditor",
            "--report-cert", str(auditor / "auditor.pem")]  # fmt: skip


def test_batch_report_json_html_and_signed_pdf(dumps: Path, auditor: Path, tmp_path: Path
                                               ) -> None:  # fmt: skip
    out = tmp_path / "report"
    code, stdout, err = _run("verify", str(dumps / "dumps"), "--csca", str(dumps / "csca.der"),
                             "--at", "2026-12-01", "--jobs", "1", "--report", str(out),
                             *_keys(auditor))  # fmt: skip
    assert code == 1, stdout + err  # "bad" fails
    report = json.loads((out / "report.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()
                                    ).validate(report)  # fmt: skip
    assert report["tool"] == {"name": "idkarta", "version": "0.1.0"}
    assert report["verification_date"] == "2026-12-01"
    [anchor] = report["trust_material"]
    csca = (dumps / "csca.der").read_bytes()
    assert anchor["sha256"] == hashlib.sha256(csca).hexdigest()
    assert anchor["certificates"][0]["sha256"] == hashlib.sha256(csca).hexdigest()
    assert report["summary"] == {"documents": 2, "passed": 1, "failed": 1, "broken": 0}
    assert report["signed_by"] == "Common Name: Auditor Dilnoza Karimova, Country: UZ"
    bad, good = report["documents"]
    assert (bad["dump"], bad["ok"], good["dump"], good["ok"]) == ("bad", False, "good", True)
    assert good["document"]["document_number"] == "AD1234567"
    assert good["document"]["surname"] == "GULOMOV"
    aa = {c["name"]: c for c in bad["checks"]}["active_authentication"]
    assert aa["status"] == "fail" and "1111111111111111 does not verify" in aa["reason"]
    # HTML: the overview, and a page per document with the face, the MRZ and every check
    index = (out / "index.html").read_text()
    assert "doc-00000.html" in index and "GULOMOV, OTKIR" in index and ">FAIL<" in index
    page = (out / "doc-00001.html").read_text()
    assert 'src="data:image/jpeg;base64,' in page
    assert "IUUZBAD1234567" in page  # the MRZ's first line
    assert all(c["name"] in page for c in good["checks"])
    # the PDF: signed by the auditor, valid for pdfsig and for `idkarta validate`
    pdf = out / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    pdfsig = require_tool("pdfsig")
    checked = subprocess.run([pdfsig, str(pdf)], capture_output=True, text=True, timeout=60,
                             check=False)  # fmt: skip
    assert "Signature Validation: Signature is Valid." in checked.stdout, checked.stdout
    assert "Auditor Dilnoza Karimova" in checked.stdout
    code, shown, err = _run("validate", str(pdf), "--trust", str(auditor / "ca.pem"),
                            "--crl", str(auditor / "ca.crl"), "--json")  # fmt: skip
    assert code == 0, shown + err
    [sig] = json.loads(shown)["signatures"]
    assert sig["intact"] and sig["valid"] and sig["trusted"]


def test_tampered_pdf_is_refused_by_validate(dumps: Path, auditor: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert _run("verify", str(dumps / "dumps" / "good"), "--csca", str(dumps / "csca.der"),
                "--at", "2026-12-01", "--report", str(out), *_keys(auditor))[0] == 0
    data = bytearray((out / "report.pdf").read_bytes())
    at = bytes(data).index(b"/CreationDate (D:") + len(b"/CreationDate (D:")
    data[at] = ord("1") if data[at] != ord("1") else ord("2")  # the date, in the signed range
    (tmp_path / "t.pdf").write_bytes(bytes(data))
    code, _, _ = _run("validate", str(tmp_path / "t.pdf"), "--trust", str(auditor / "ca.pem"),
                      "--crl", str(auditor / "ca.crl"))  # fmt: skip
    assert code == 1


def test_report_of_one_dump_without_a_key_has_no_pdf(dumps: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    code, _, err = _run("verify", str(dumps / "dumps" / "good"), "--csca",
                        str(dumps / "csca.der"), "--at", "2026-12-01", "--report", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["doc-00000.html", "index.html",
                                                    "report.json"]  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert report["signed_by"] is None
    [doc] = report["documents"]
    assert doc["evidence"]["access"]["protocol"] == "PACE"  # one dump: its evidence is kept


def test_report_key_options_are_checked(dumps: Path, auditor: Path, tmp_path: Path) -> None:
    base = ["verify", str(dumps / "dumps" / "good"), "--csca", str(dumps / "csca.der")]
    code, _, err = _run(*base, *_keys(auditor))
    assert code == 2 and "go together, with --report" in err
    (tmp_path / "other.pem").write_bytes((auditor / "ca.pem").read_bytes())
    code, _, err = _run(*base, "--report", str(tmp_path / "r"), "--report-key-store",
                        str(auditor / "keys"), "--report-key", "auditor", "--report-cert",
                        str(tmp_path / "other.pem"))  # fmt: skip
    assert code == 2 and "the first certificate is not of key 'auditor'" in err
    assert not (tmp_path / "r").exists()


def test_report_pdf_b_t_with_a_time_stamp_authority(dumps: Path, auditor: Path,
                                                    tmp_path: Path) -> None:  # fmt: skip
    """--report-tsa: the TSA of `idkarta esign serve` (ServiceServer) time-stamps the signature."""
    ca_dir = tmp_path / "esign"
    assert _run("esign", "init", "--dir", str(ca_dir))[0] == 0
    folder = EsignFolder(ca_dir)
    store = FileKeyStore(ca_dir / "keys", lambda: PASS.encode())
    with ServiceServer(folder.ca(store), tsa=folder.tsa(store)) as server:
        out = tmp_path / "report"
        code, _, err = _run("verify", str(dumps / "dumps" / "good"), "--csca",
                            str(dumps / "csca.der"), "--at", "2026-12-01", "--report", str(out),
                            *_keys(auditor), "--report-tsa", f"{server.url}/tsa")  # fmt: skip
        assert code == 0, err
    code, shown, err = _run("validate", str(out / "report.pdf"), "--trust", str(auditor / "ca.pem"),
                            "--crl", str(auditor / "ca.crl"), "--json")  # fmt: skip
    assert code == 0, shown + err
    [sig] = json.loads(shown)["signatures"]
    assert sig["timestamped"] and sig["intact"] and sig["valid"]
    pdfsig = require_tool("pdfsig")
    checked = subprocess.run([pdfsig, str(out / "report.pdf")], capture_output=True, text=True,
                             timeout=60, check=False)  # fmt: skip
    assert "Signature Validation: Signature is Valid." in checked.stdout, checked.stdout
    code, _, err = _run("verify", str(dumps / "dumps" / "good"), "--csca",
                        str(dumps / "csca.der"), "--report", str(tmp_path / "r2"),
                        "--report-tsa", "http://127.0.0.1:9/tsa")  # fmt: skip
    assert code == 2 and "--report-tsa goes with --report-key" in err


def test_report_folder_is_replaced_whole_or_refused(dumps: Path, tmp_path: Path) -> None:
    base = ["verify", str(dumps / "dumps" / "good"), "--csca", str(dumps / "csca.der"),
            "--at", "2026-12-01", "--report"]  # fmt: skip
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the auditor's own")
    code, out, err = _run(*base, str(mine))
    assert code == 2 and out == ""
    assert err == f"error: {mine} exists and is not an idkarta report; not replacing it\n"
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    out_dir = tmp_path / "r"
    assert _run(*base, str(out_dir))[0] == 0
    (out_dir / "doc-00001.html").write_text("left from a batch")  # an earlier, larger report
    assert _run(*base, str(out_dir))[0] == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["doc-00000.html", "index.html",
                                                        "report.json"]  # fmt: skip
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
