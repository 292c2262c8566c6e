"""`idkarta verify … --report DIR --report-pkcs11 MODULE --report-token LABEL --report-key-label L`:
report.pdf signed with a key on a PKCS#11 token (the real SoftHSM2), accepted by poppler's
pdfsig and by `idkarta validate`; the certificate from --report-cert or, without it, the one
the token keeps beside the key. report.json (checked against docs/audit-report.schema.json)
names the signer and where its key was, every trust anchor with its fingerprint (the CSCAs of a
master list and its signer, each CRL's issuer and dates) and each document's chain with
fingerprints; the PDF says the same, with the MRZ."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import PyKCS11
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.conftest import ROOT, require_tool
from tests.idcard.chip.cards import CAN, build_dump, ds_pki, make_card
from tests.idcard.verify.pa_pki import PKI, asn1, der, master_list
from tests.softhsm import SoftHSMToken

from idcard.reader.document import read_document
from pki.filestore import FileKeyStore
from pki.hsm import PKCS11Module
from pki.keys import KeySpec
from station.cli import main
from station.folders.esign import EsignFolder
from station.services import ServiceServer

SCHEMA = json.loads((ROOT / "docs" / "audit-report.schema.json").read_text())
AT = "2026-12-01"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UZ"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])  # fmt: skip


@dataclass(frozen=True)
class Token:
    hsm: SoftHSMToken
    key_label: str
    folder: Path  # auditor.pem (certificate, then the CA), ca.pem, ca.crl

    def options(self, *, cert: bool = True) -> list[str]:
        return ["--report-pkcs11", self.hsm.module, "--report-token", self.hsm.label,
                "--report-key-label", self.key_label,
                *(["--report-cert", str(self.folder / "auditor.pem")] if cert else [])]  # fmt: skip


@pytest.fixture(scope="module")
def token(softhsm_token: SoftHSMToken, tmp_path_factory: pytest.TempPathFactory
          ) -> Token:  # fmt: skip
    """A P-256 key generated on the SoftHSM2 token, its certificate by a test CA, also stored on
    the token as a certificate object with the key's CKA_ID (as a PIV card keeps it)."""
    d = tmp_path_factory.mktemp("auditor-token")
    label = f"auditor-{os.urandom(4).hex()}"
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca = (x509.CertificateBuilder().subject_name(_name("Audit CA")).issuer_name(_name("Audit CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now)
          .not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))  # fmt: skip
    module = PKCS11Module(softhsm_token.module)
    with module.token(softhsm_token.label).session(lambda: softhsm_token.pin) as session:
        key = session.generate_key(label, KeySpec("ec", curve="secp256r1"))
        public = key.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        ee = (x509.CertificateBuilder().subject_name(_name("Auditor Jasur Rahimov"))
              .issuer_name(ca.subject).public_key(public).serial_number(0x2A)
              .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365))
              .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                           False), critical=True)
              .sign(ca_key, hashes.SHA256()))  # fmt: skip
        ee_der = ee.public_bytes(serialization.Encoding.DER)
        session.raw.createObject([
            (PyKCS11.CKA_CLASS, PyKCS11.CKO_CERTIFICATE),
            (PyKCS11.CKA_CERTIFICATE_TYPE, PyKCS11.CKC_X_509),
            (PyKCS11.CKA_TOKEN, PyKCS11.CK_TRUE), (PyKCS11.CKA_LABEL, label),
            (PyKCS11.CKA_ID, key.key_id), (PyKCS11.CKA_VALUE, ee_der),
            (PyKCS11.CKA_SUBJECT, ee.subject.public_bytes()),
        ])  # fmt: skip
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject).last_update(now)
           .next_update(now + dt.timedelta(days=30)).sign(ca_key, hashes.SHA256()))  # fmt: skip
    pem = serialization.Encoding.PEM
    (d / "auditor.pem").write_bytes(ee.public_bytes(pem) + ca.public_bytes(pem))
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    (d / "ca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return Token(softhsm_token, label, d)


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """<d>/dumps/good (a read of the sample card), <d>/csca.der, <d>/ml.der (a master list of
    the CSCA and France's, <d>/fr.der, signed under the CSCA), <d>/csca.crl (empty, valid in
    2026)."""
    d = tmp_path_factory.mktemp("report-trust")
    dump, keys = build_dump()
    read_document(make_card(dump, keys).transport(), can=CAN).write(d / "dumps" / "good")
    pki = ds_pki()
    (d / "csca.der").write_bytes(der(pki.csca))
    france = PKI("FR", slot=3).csca
    (d / "fr.der").write_bytes(der(france))
    (d / "ml.der").write_bytes(master_list(pki, [pki.csca, france]))
    crl = (x509.CertificateRevocationListBuilder().issuer_name(pki.csca.subject)
           .last_update(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
           .next_update(dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
           .sign(pki.csca_key, hashes.SHA256()))  # fmt: skip
    (d / "csca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return d


def _run(*args: str, pin: str | None) -> tuple[int, str, str]:
    env = {"IDKARTA_PIN": pin} if pin is not None else {"IDKARTA_PIN": ""}
    result = CliRunner().invoke(main, list(args), env=env, input="")
    return result.exit_code, result.stdout, result.stderr


def _sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _entry(cert: x509.Certificate) -> dict[str, str]:
    """A certificate as report.json names it (asn1crypto's reading of the subject)."""
    return {"subject": asn1(cert).subject.human_friendly, "sha256": _sha256(cert)}


def _pdfsig(pdf: Path) -> str:
    done = subprocess.run([require_tool("pdfsig"), str(pdf)], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    return done.stdout


def test_report_signed_with_a_token_key_names_signer_anchors_and_chain(
    token: Token, trust: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    code, stdout, err = _run("verify", str(trust / "dumps" / "good"), "--csca",
                             str(trust / "csca.der"), "--master-list", str(trust / "ml.der"),
                             "--crl", str(trust / "csca.crl"), "--at", AT, "--report", str(out),
                             *token.options(), pin=token.hsm.pin)  # fmt: skip
    assert code == 0, stdout + err
    assert sorted(p.name for p in out.iterdir()) == ["doc-00000.html", "index.html",
                                                    "report.json", "report.pdf"]  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()
                                    ).validate(report)  # fmt: skip
    ee = x509.load_pem_x509_certificate((token.folder / "auditor.pem").read_bytes())
    assert report["signed_by"] == "Common Name: Auditor Jasur Rahimov, Country: UZ"
    assert report["signer"] == {
        "subject": "Common Name: Auditor Jasur Rahimov, Country: UZ",
        "issuer": "Common Name: Audit CA, Country: UZ", "serial_number": "2a",
        "sha256": _sha256(ee), "level": "B-B", "tsa": None,
        "key": f"PKCS#11 token {token.hsm.label!r} ({token.hsm.module})",
    }  # fmt: skip
    pki = ds_pki()
    csca, ml, crl = report["trust_material"]
    assert csca["certificates"] == [_entry(pki.csca)]
    assert csca["certificates"][0]["subject"].startswith("Common Name: CSCA UZ 0, ")
    assert ml["kind"] == "master_list"
    assert ml["sha256"] == hashlib.sha256((trust / "ml.der").read_bytes()).hexdigest()
    france = x509.load_der_x509_certificate((trust / "fr.der").read_bytes())
    assert sorted(ml["certificates"], key=lambda c: c["subject"]) == [_entry(france),
                                                                      _entry(pki.csca)]
    assert ml["signer"]["subject"].startswith("Common Name: ML signer, ")
    assert crl["crls"] == [{"issuer": csca["certificates"][0]["subject"],
                            "this_update": "2026-11-01T00:00:00Z",
                            "next_update": "2027-01-01T00:00:00Z"}]  # fmt: skip
    [doc] = report["documents"]
    assert doc["ok"]
    assert doc["trust_path"] == [_entry(pki.ds), _entry(pki.csca)]
    page = (out / "doc-00000.html").read_text()
    csca_name = _entry(pki.csca)["subject"]
    assert f"CSCA: {csca_name} — certificate SHA-256 {_sha256(pki.csca)}" in page
    assert "PKCS#11 token" in (out / "index.html").read_text()
    # the PDF: valid for pdfsig and `idkarta validate`, and it says what the JSON says
    checked = _pdfsig(out / "report.pdf")
    assert "Signature Validation: Signature is Valid." in checked, checked
    assert "Auditor Jasur Rahimov" in checked
    code, shown, err = _run("validate", str(out / "report.pdf"), "--trust",
                            str(token.folder / "ca.pem"), "--crl", str(token.folder / "ca.crl"),
                            "--json", pin=None)  # fmt: skip
    assert code == 0, shown + err
    [sig] = json.loads(shown)["signatures"]
    assert sig["intact"] and sig["valid"] and sig["trusted"]
    text = subprocess.run([require_tool("pdftotext"), "-layout", str(out / "report.pdf"), "-"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    flat = " ".join(text.split())
    assert f"DS: {_entry(pki.ds)['subject']} - certificate SHA-256 {_sha256(pki.ds)}" in flat
    assert f"certificate SHA-256 {_sha256(france)}" in flat
    assert "IUUZBAD1234567" in flat  # the MRZ's first line
    assert "report.pdf signed (PAdES B-B) by Common Name: Auditor Jasur Rahimov" in flat


def test_certificate_from_the_token_b_t_and_the_esign_ca_listed(
    token: Token, trust: Path, tmp_path: Path
) -> None:
    """No --report-cert: the token's certificate of the key; --report-tsa: PAdES B-T with the
    TSA of `idkarta esign serve`; --esign-ca: listed among the trust material."""
    ca_dir = tmp_path / "esign"
    env = {"IDKARTA_PASSPHRASE": "esign-passphrase"}
    assert CliRunner().invoke(main, ["esign", "init", "--dir", str(ca_dir)], env=env
                              ).exit_code == 0  # fmt: skip
    folder = EsignFolder(ca_dir)
    store = FileKeyStore(ca_dir / "keys", lambda: env["IDKARTA_PASSPHRASE"].encode())
    out = tmp_path / "report"
    with ServiceServer(folder.ca(store), tsa=folder.tsa(store)) as server:
        code, stdout, err = _run("verify", str(trust / "dumps" / "good"), "--csca",
                                 str(trust / "csca.der"), "--esign-ca", str(ca_dir / "ca.pem"),
                                 "--at", AT, "--report", str(out), *token.options(cert=False),
                                 "--report-tsa", f"{server.url}/tsa", pin=token.hsm.pin)
    assert code == 0, stdout + err
    report = json.loads((out / "report.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()
                                    ).validate(report)  # fmt: skip
    ee = x509.load_pem_x509_certificate((token.folder / "auditor.pem").read_bytes())
    assert report["signer"]["sha256"] == _sha256(ee)
    assert (report["signer"]["level"], report["signer"]["tsa"]) == ("B-T", f"{server.url}/tsa")
    esign_ca = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    [listed] = [m for m in report["trust_material"] if m["kind"] == "esign_ca"]
    assert listed["certificates"] == [_entry(esign_ca)]
    checked = _pdfsig(out / "report.pdf")
    assert "Signature Validation: Signature is Valid." in checked, checked
    code, shown, err = _run("validate", str(out / "report.pdf"), "--trust",
                            str(token.folder / "ca.pem"), "--crl", str(token.folder / "ca.crl"),
                            "--json", pin=None)  # fmt: skip
    assert code == 0, shown + err
    [sig] = json.loads(shown)["signatures"]
    assert sig["timestamped"] and sig["intact"] and sig["valid"]


def test_wrong_or_missing_pin_and_a_foreign_certificate_write_nothing(
    token: Token, trust: Path, tmp_path: Path
) -> None:
    base = ["verify", str(trust / "dumps" / "good"), "--csca", str(trust / "csca.der"),
            "--at", AT, "--report", str(tmp_path / "r")]  # fmt: skip
    code, stdout, err = _run(*base, *token.options(), pin="000000")
    assert (code, stdout) == (2, "")
    assert err == "error: C_Login failed: CKR_PIN_INCORRECT\n"  # the PIN never in it
    code, stdout, err = _run(*base, *token.options(), pin=None)  # no PIN, standard input empty
    assert (code, stdout) == (2, "")
    assert err.endswith("\nerror: no PIN: set IDKARTA_PIN or enter the token's PIN at the "
                        "prompt\n")  # after the prompt it showed  # fmt: skip
    assert err.startswith("Token user PIN: ")
    (tmp_path / "other.pem").write_bytes(
        x509.load_der_x509_certificate((trust / "csca.der").read_bytes()).public_bytes(
            serialization.Encoding.PEM))  # fmt: skip
    code, _, err = _run(*base[:-2], "--report", str(tmp_path / "r"), "--report-pkcs11",
                        token.hsm.module, "--report-token", token.hsm.label, "--report-key-label",
                        token.key_label, "--report-cert", str(tmp_path / "other.pem"),
                        pin=token.hsm.pin)  # fmt: skip
    assert code == 2
    assert err == (f"error: --report-cert: the first certificate is not of key "
                   f"{token.key_label!r}\n")  # fmt: skip
    code, _, err = _run(*base[:-2], "--report", str(tmp_path / "r"), "--report-pkcs11",
                        token.hsm.module, "--report-token", "no-such-token", "--report-key-label",
                        token.key_label, pin=token.hsm.pin)  # fmt: skip
    assert code == 2 and "no initialised token labelled 'no-such-token'" in err
    assert not (tmp_path / "r").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["other.pem"]  # no staging folder left


def test_token_options_are_checked(token: Token, trust: Path, tmp_path: Path) -> None:
    base = ["verify", str(trust / "dumps" / "good"), "--csca", str(trust / "csca.der")]
    code, _, err = _run(*base, *token.options(), pin=token.hsm.pin)
    assert code == 2
    assert err == ("error: --report-pkcs11, --report-token and --report-key-label go together, "
                   "with --report\n")  # fmt: skip
    code, _, err = _run(*base, "--report", str(tmp_path / "r"), "--report-pkcs11",
                        token.hsm.module, "--report-token", token.hsm.label, pin=token.hsm.pin)
    assert code == 2 and "go together, with --report" in err
    code, _, err = _run(*base, "--report", str(tmp_path / "r"), *token.options(),
                        "--report-key-store", str(tmp_path), "--report-key", "x",
                        pin=token.hsm.pin)  # fmt: skip
    assert code == 2
    assert err == ("error: the auditor's key is in a file key store (--report-key-store) or on "
                   "a PKCS#11 token (--report-pkcs11), not both\n")  # fmt: skip
    code, _, err = _run(*base, "--report", str(tmp_path / "r"), "--report-tsa",
                        "http://127.0.0.1:9/tsa", pin=None)  # fmt: skip
    assert code == 2
    assert err == "error: --report-tsa goes with --report-key or --report-pkcs11\n"
    assert not (tmp_path / "r").exists()
