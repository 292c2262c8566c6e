"""Loading trust anchors, CRLs and master lists from files: what is read, what is refused and
with which message (the CLI prints it after ``error:``)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from asn1crypto import crl as acrl
from tests.idcard.verify.pa_pki import PKI, VERIFY_AT, asn1, der, master_list, pem

from idcard.errors import VerificationError
from idcard.verify import Status, TrustStore, _signature, load_certificates, load_crls

PKI0, PKI1 = PKI(slot=300), PKI(slot=301)
CRL0, CRL1 = PKI0.crl((5,)), PKI1.crl()


def _pem(kind: str, data: bytes) -> bytes:
    body = base64.encodebytes(data).decode()
    return f"-----BEGIN {kind}-----\n{body}-----END {kind}-----\n".encode()


def _broken_signature(cert_der: bytes) -> bytes:
    """A certificate whose signatureValue is tagged OCTET STRING: it loads, its signature
    does not decode."""
    at = max(cert_der.rfind(bytes([0x03, n, 0x00, 0x30])) for n in (0x47, 0x48, 0x49))
    assert at > 0
    return cert_der[:at] + b"\x04" + cert_der[at + 1 :]


def _broken_revocation(crl_der: bytes) -> bytes:
    """A CRL whose revocation date of serial 5 is tagged OCTET STRING."""
    entry = bytes.fromhex("02010517")
    assert entry in crl_der
    return crl_der.replace(entry, entry[:3] + b"\x04")


def _error(path: Path) -> str:
    with pytest.raises(VerificationError) as info:
        load_certificates(path)
    return str(info.value)


def test_certificates_from_pem_der_and_directories(tmp_path: Path) -> None:
    a, b = der(PKI0.csca), der(PKI1.csca)
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(
        b"junk before\n" + pem(PKI0.csca) + _pem("PRIVATE KEY", b"\x00" * 8)
        + _pem("TRUSTED CERTIFICATE", b)
    )  # fmt: skip
    assert [c.dump() for c in load_certificates(bundle)] == [a, b]
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "b.der").write_bytes(b)
    (folder / "a.pem").write_bytes(pem(PKI0.csca))
    (folder / ".hidden").write_bytes(b"not a certificate")
    (folder / "sub").mkdir()
    assert [c.dump() for c in load_certificates(str(folder))] == [a, b]  # sorted by file name


def test_unusable_certificate_files_are_refused_by_name(tmp_path: Path) -> None:
    f = tmp_path / "x"
    assert _error(tmp_path / "missing") == f"{tmp_path / 'missing'}: no such file or directory"
    f.write_bytes(b"-----BEGIN CERTIFICATE-----\nAB*CD\n-----END CERTIFICATE-----\n")
    assert _error(f) == f"{f}: cannot read (a PEM block is not valid base64)"
    f.write_bytes(_pem("PUBLIC KEY", b"\x30\x00"))
    assert _error(f) == f"{f}: no certificate found"
    for data in (b"\x30\x03\x02\x01\x01", _broken_signature(der(PKI0.csca))):
        f.write_bytes(data)
        assert _error(f).startswith(f"{f}: not an X.509 certificate (")
    (tmp_path / "empty").mkdir()
    assert _error(tmp_path / "empty") == f"{tmp_path / 'empty'}: no certificate found"


def test_crls_from_pem_der_and_directories(tmp_path: Path) -> None:
    c0, c1 = CRL0, CRL1
    (tmp_path / "c0.pem").write_bytes(_pem("X509 CRL", c0) + pem(PKI0.csca))
    (tmp_path / "c1.der").write_bytes(c1)
    crls = load_crls([tmp_path / "c0.pem", str(tmp_path / "c1.der")])
    assert [c.dump() for c in crls] == [c0, c1]
    assert crls[0]["tbs_cert_list"]["revoked_certificates"][0]["user_certificate"].native == 5
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "c1.der").write_bytes(c1)
    assert [c.dump() for c in load_crls([folder])] == [c1]
    assert load_crls([]) == []


def test_unusable_crl_files_are_refused_by_name(tmp_path: Path) -> None:
    f = tmp_path / "x"
    cases = [
        (pem(PKI0.csca), "not a CRL (no X509 CRL block)"),
        (b"\x30\x00", "not a CRL ("),
        (_broken_revocation(CRL0), "not a CRL ("),
        (_pem("X509 CRL", b"\x30\x00"), "not a CRL ("),
    ]
    for data, message in cases:
        f.write_bytes(data)
        with pytest.raises(VerificationError) as info:
            load_crls([f])
        assert str(info.value).startswith(f"{f}: {message}")
    with pytest.raises(VerificationError, match=r"no such file or directory$"):
        load_crls([tmp_path / "missing"])


def test_a_trust_store_from_paths(tmp_path: Path) -> None:
    (tmp_path / "csca.pem").write_bytes(pem(PKI0.csca))
    (tmp_path / "ml.der").write_bytes(master_list(PKI0, [PKI0.csca, PKI1.csca]))
    (tmp_path / "crl.der").write_bytes(CRL1)
    store = TrustStore.from_paths(
        tmp_path / "csca.pem", master_lists=[tmp_path / "ml.der"], crls=[tmp_path / "crl.der"]
    )
    assert [r.status for r in store.master_list_results] == [Status.PASS]
    assert {c.dump() for c in store.trusted} == {der(PKI0.csca), der(PKI1.csca)}
    assert [c.dump() for c in store.crls] == [CRL1]
    chain = store.chain(asn1(PKI1.ds))
    assert chain.status is Status.PASS
    assert store.revocation(chain, VERIFY_AT).status is Status.PASS
    # without CSCA files the master list cannot be trusted, but is read
    store = TrustStore.from_paths(None, master_lists=[tmp_path / "ml.der"])
    assert [r.status for r in store.master_list_results] == [Status.FAIL]
    assert len(store.master_lists) == 1 and store.trusted == () and store.cscas == ()
    (tmp_path / "bad.ml").write_bytes(b"\x30\x00")
    with pytest.raises(VerificationError) as info:
        TrustStore.from_paths(None, master_lists=[tmp_path / "bad.ml"])
    assert str(info.value).startswith(f"{tmp_path / 'bad.ml'}: not a readable master list (")


def test_a_crl_is_verified_once_per_issuer(monkeypatch: pytest.MonkeyPatch) -> None:
    store = TrustStore([asn1(PKI0.csca)])
    c = acrl.CertificateList.load(CRL0)
    calls: list[int] = []
    real = _signature.verify

    def counting(*args: object, **kw: object) -> bool:
        calls.append(1)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_signature, "verify", counting)
    assert store.crl_verified(c, asn1(PKI0.csca)) is True
    assert store.crl_verified(acrl.CertificateList.load(CRL0), asn1(PKI0.csca)) is True
    assert len(calls) == 1
