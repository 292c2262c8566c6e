"""pki.sod: EF.SOD signed through the file store and SoftHSM2, read back by idcard's reader and
checked by idcard's passive authentication."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from tests.softhsm import SoftHSMToken

from idcard import tlv
from idcard.lds.sod import SOD
from idcard.verify.passive import verify_passive
from idcard.verify.report import Status
from idcard.verify.trust import TrustStore
from pki.ca import CertificateAuthority
from pki.errors import IssuanceError
from pki.filestore import FileKeyStore
from pki.hsm import PKCS11Module
from pki.keys import KeySpec, SignatureAlgorithm, Signer, verify_signature
from pki.sod import SODBuilder

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
MRZ = (
    "I<UZBAA12345674<<<<<<<<<<<<<<<"
    "9001017M3001012UZB<<<<<<<<<<<4"
    "TESTOV<<TEST<<<<<<<<<<<<<<<<<<"
)
FILES = {
    1: tlv.encode(0x61, tlv.encode(0x5F1F, MRZ.encode())),
    2: tlv.encode(0x75, b"\x7f\x61\x03\x02\x01\x01" + bytes(range(200))),
}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[CertificateAuthority, FileKeyStore]:
    folder = tmp_path_factory.mktemp("sod")
    store = FileKeyStore(folder / "keys", lambda: b"pw")
    authority = CertificateAuthority.create_csca(
        store.generate("csca", KeySpec.parse("ec-brainpoolP256r1")), folder / "state.json",
        country="UZ", common_name="CSCA UZ", now=NOW,
    )
    return authority, store


def _check(sod: SOD, signer: Signer, csca: CertificateAuthority, hash_name: str) -> None:
    back = SOD.decode(sod.encode())
    assert back.content_info == sod.content_info
    assert back.hash_algorithm == hash_name
    assert back.data_group_hashes == {
        n: hashlib.new(hash_name, raw).digest() for n, raw in FILES.items()
    }
    alg = SignatureAlgorithm.from_signed_digest_algorithm(
        back.signer_info["signature_algorithm"]
    )
    signed = back.signed_attrs_der
    assert signed is not None
    assert verify_signature(signer.public_key(), back.signature, signed, alg)
    files = {f"DG{n}": raw for n, raw in FILES.items()} | {"EF.SOD": sod.encode()}
    report = verify_passive(files, TrustStore([csca.certificate]))
    statuses = report.statuses
    assert statuses["sod_signature"] is Status.PASS, report.sod_signature
    assert statuses["chain"] is Status.PASS
    assert statuses["key_usage"] is Status.PASS
    assert statuses["DG1"] is Status.PASS and statuses["DG2"] is Status.PASS


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_sod_from_file_store(
    ca: tuple[CertificateAuthority, FileKeyStore], hash_name: str
) -> None:
    authority, store = ca
    label = f"ds-{hash_name}"
    signer = store.generate(label, KeySpec.parse("ec-p256"))
    cert = authority.issue_document_signer(signer.public_key(), common_name="DS", now=NOW)
    data = (
        SODBuilder().data_groups(FILES).hash_algorithm(hash_name).signing_time(NOW)
        .sign(signer, cert)
    )
    sod = SOD.decode(data)
    _check(sod, signer, authority, hash_name)
    assert sod.version == 0 and sod.lds_version is None
    assert cx509.load_der_x509_certificate(sod.signer_certificate.dump()).serial_number == (
        cert.serial_number
    )


def test_sod_v1_on_the_hsm(
    ca: tuple[CertificateAuthority, FileKeyStore], fresh_softhsm_token: SoftHSMToken
) -> None:
    authority, _ = ca
    token = fresh_softhsm_token  # its own token: the fixed key label is free on every run
    module = PKCS11Module(token.module)
    with module.token(token.label).session(lambda: token.pin) as session:
        key = session.generate_key("sod-ds-rsa", KeySpec.parse("rsa-2048"))
        cert = authority.issue_document_signer(key.public_key(), common_name="DS HSM", now=NOW)
        builder = SODBuilder().data_groups(FILES).lds_version("0108", "040000")
        sod = SOD.decode(builder.sign(key, cert.dump(), SignatureAlgorithm.rsa_pss("sha256")))
    assert sod.version == 1 and sod.lds_version == "0108"
    _check(sod, key, authority, "sha256")


_TWICE = """
import sys, pytest
node, base = sys.argv[1:]
codes = [pytest.main(["-q", "-p", "no:cacheprovider", f"--basetemp={base}/{n}", node])
         for n in range(2)]
sys.exit(max(int(c) for c in codes))
"""


def test_sod_v1_on_the_hsm_runs_twice_in_one_process(tmp_path: Path) -> None:
    """Issue 18: a second run in the same process (SoftHSM2 loaded once, its token directory
    read once) used to find the first run's key on the shared token ("already exists")."""
    root = Path(__file__).resolve().parents[2]
    node = f"{Path(__file__).resolve()}::test_sod_v1_on_the_hsm"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root / "src"), str(root), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", _TWICE, node, str(tmp_path)], cwd=root, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert run.stdout.count("1 passed") == 2


def test_builder_refuses_bad_input(
    ca: tuple[CertificateAuthority, FileKeyStore], tmp_path: Path
) -> None:
    authority, store = ca
    signer = store.generate("ds-bad", KeySpec.parse("ec-p256"))
    cert = authority.issue_document_signer(signer.public_key(), common_name="DS", now=NOW)
    builder = SODBuilder().data_groups(FILES)
    with pytest.raises(IssuanceError):
        builder.sign(store.load("csca"), cert)  # key does not match the certificate
    with pytest.raises(IssuanceError):
        builder.sign(store.load("csca"), authority.certificate)  # no digitalSignature
    with pytest.raises(IssuanceError):
        builder.sign(signer, b"not a certificate")
    with pytest.raises(IssuanceError):
        SODBuilder().data_group(1, FILES[1]).sign(signer, cert)  # fewer than two data groups
    with pytest.raises(IssuanceError):
        builder.signing_time(NOW.replace(tzinfo=None))


def test_signing_time_after_2049_is_generalized_time() -> None:
    """RFC 5652 §11.3: UTCTime only for 1950-2049."""
    import datetime as _dt

    from pki.cms import signed_attributes

    for year, kind in ((2049, "utc_time"), (2050, "generalized_time")):
        when = _dt.datetime(year, 6, 1, 12, tzinfo=_dt.UTC)
        attrs = signed_attributes("2.23.136.1.1.1", bytes(32), when)
        time = attrs[2]["values"][0]
        assert time.name == kind
        assert time.native == when


def test_document_code_and_refusals(ca: tuple[CertificateAuthority, FileKeyStore]) -> None:
    from pki.sod import document_code, document_signer_refusal

    assert document_code(FILES[1]) == "I"
    assert document_code(tlv.encode(0x61, tlv.encode(0x5F1F, b"IU" + MRZ[2:].encode()))) == "IU"
    for bad in (b"", tlv.encode(0x61, tlv.encode(0x5F1F, b"\xff" * 90)),
                tlv.encode(0x61, tlv.encode(0x5F1F, b"<<UZB" + b"<" * 85))):
        with pytest.raises(IssuanceError):
            document_code(bad)
    authority, store = ca
    when = NOW + dt.timedelta(minutes=5)
    assert document_signer_refusal(authority.certificate, code="I", now=when, revoked={}) == (
        "does not allow digitalSignature")
    ds = authority.issue_document_signer(
        store.generate("ds-refusal", KeySpec.parse("ec-p256")).public_key(),
        common_name="DS", doc_types=("I",), now=NOW)
    assert document_signer_refusal(ds, code="IU", now=when, revoked={}) is None
    assert document_signer_refusal(ds, code="P", now=when, revoked={}) == (
        "is not allowed for document code 'P' (documentTypeList: I)")
    assert document_signer_refusal(ds, code="IU", now=when,
                                   revoked={int(ds.serial_number): "key-compromise"}) == (
        "is revoked (key-compromise)")
