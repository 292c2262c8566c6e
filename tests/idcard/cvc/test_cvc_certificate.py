"""CV certificates (TR-03110-3 App. C): build CVCA → DV → IS with the builder, round trips,
chain validation and effective CHAT, requests, and cross-checks with OpenPACE's tools."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import require_tool

from idcard import tlv
from idcard.cvc import (
    CHAT,
    ID_IS,
    CVCertificate,
    CVCertificateBody,
    CVPublicKey,
    CVRequest,
    Role,
    ecdsa_signer,
    rsa_signer,
    validate_chain,
)
from idcard.cvc.curves import check_table
from idcard.errors import DecodeError

ECDSA_SHA256 = "0.4.0.127.0.7.2.2.2.2.3"
RSA_V15_SHA256 = "0.4.0.127.0.7.2.2.2.1.2"
TODAY = datetime.date(2026, 1, 15)


def make_pki(
    *, is_chat: CHAT | None = None, is_expiry: datetime.date | None = None,
    curve: ec.EllipticCurve | None = None,
) -> tuple[list[CVCertificate], ec.EllipticCurvePrivateKey]:  # fmt: skip
    """CVCA (with domain parameters) → DV → IS, all made through the builder."""
    curve = curve or ec.BrainpoolP256R1()
    cvca_key, dv_key, is_key = (ec.generate_private_key(curve) for _ in range(3))
    start = datetime.date(2026, 1, 1)
    cvca = CVCertificateBody(
        car="UZCVCA00001",
        public_key=CVPublicKey.from_key(
            cvca_key.public_key(), ECDSA_SHA256, domain_parameters=True
        ),
        chr="UZCVCA00001",
        chat=CHAT.inspection_system(Role.CVCA, dg3=True, dg4=True),
        effective_date=start,
        expiration_date=datetime.date(2029, 1, 1),
    ).sign(ecdsa_signer(cvca_key))
    dv = CVCertificateBody(
        car=cvca.chr,
        public_key=CVPublicKey.from_key(dv_key.public_key(), ECDSA_SHA256),
        chr="UZDVIS00001",
        chat=CHAT.inspection_system(Role.DV_DOMESTIC, dg3=True, dg4=True),
        effective_date=start,
        expiration_date=datetime.date(2027, 1, 1),
    ).sign(ecdsa_signer(cvca_key))
    inspection = CVCertificateBody(
        car=dv.chr,
        public_key=CVPublicKey.from_key(is_key.public_key(), ECDSA_SHA256),
        chr="UZISTEST00001",
        chat=is_chat or CHAT.inspection_system(Role.TERMINAL, dg3=True, dg4=False),
        effective_date=start,
        expiration_date=is_expiry or datetime.date(2026, 3, 1),
    ).sign(ecdsa_signer(dv_key))
    return [cvca, dv, inspection], is_key


def test_domain_parameter_table() -> None:
    check_table()


def test_structure_and_round_trip() -> None:
    (cvca, dv, inspection), _ = make_pki()
    raw = inspection.encode()
    outer = tlv.decode_one(raw, expected_tag=0x7F21)
    body, sig = outer.children()
    assert (body.tag, sig.tag) == (0x7F4E, 0x5F37)
    assert [i.tag for i in body.children()] == [
        0x5F29,
        0x42,
        0x7F49,
        0x5F20,
        0x7F4C,
        0x5F25,
        0x5F24,
    ]
    assert tlv.find(body.children(), 0x5F25).value == bytes([2, 6, 0, 1, 0, 1])  # type: ignore[union-attr]
    assert len(sig.value) == 64  # plain r ‖ s
    back = CVCertificate.decode(raw)
    assert back == inspection and back.raw == raw and back.tbs == body.encode()
    assert [t for t, _ in cvca.public_key.fields] == [0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87]
    assert [t for t, _ in dv.public_key.fields] == [0x86]
    assert CHAT.decode(inspection.chat.encode()) == inspection.chat
    assert inspection.chat.encode() == bytes.fromhex("7F4C0E060904007F000703010201530101")


def test_chain_accepted_with_effective_chat() -> None:
    (cvca, dv, inspection), _ = make_pki()
    result = validate_chain(cvca, [dv, inspection], TODAY)
    assert result.valid and result.effective_chat is not None
    assert result.effective_chat.read_dg3 and not result.effective_chat.read_dg4
    assert result.effective_chat.role is Role.TERMINAL


def test_chain_effective_chat_is_and_of_chain() -> None:
    (cvca, dv, inspection), _ = make_pki(is_chat=CHAT.inspection_system(Role.TERMINAL, dg4=True))
    result = validate_chain(cvca, [dv, inspection], TODAY)
    assert result.valid and result.effective_chat is not None
    assert not result.effective_chat.read_dg3 and result.effective_chat.read_dg4


def test_wrong_signature_expired_and_wrong_order_refused() -> None:
    (cvca, dv, inspection), _ = make_pki()
    bad_sig = bytearray(inspection.signature)
    bad_sig[5] ^= 1
    forged = CVCertificate(inspection.body, bytes(bad_sig))
    result = validate_chain(cvca, [dv, forged], TODAY)
    assert not result.valid and result.failed_chr == inspection.chr
    assert result.reason == "signature does not verify"
    expired = validate_chain(cvca, [dv, inspection], datetime.date(2026, 3, 2))
    assert not expired.valid and "expired" in (expired.reason or "")
    skipped = validate_chain(cvca, [inspection], TODAY)
    assert not skipped.valid and "CAR" in (skipped.reason or "")
    (other_cvca, _, _), _ = make_pki()
    assert not validate_chain(other_cvca, [dv, inspection], TODAY).valid


def test_rsa_certificate_round_trip() -> None:
    key = rsa.generate_private_key(65537, 2048)
    cert = CVCertificateBody(
        car="UZCVCARSA0001", public_key=CVPublicKey.from_key(key.public_key(), RSA_V15_SHA256),
        chr="UZCVCARSA0001", chat=CHAT.inspection_system(Role.CVCA, dg3=True),
        effective_date=TODAY, expiration_date=TODAY,
    ).sign(rsa_signer(key))  # fmt: skip
    back = CVCertificate.decode(cert.encode())
    assert back.verify(back.public_key)
    assert validate_chain(back, [], TODAY).valid


def test_requests_plain_and_authenticated() -> None:
    (_, dv, _), _ = make_pki()
    new_key = ec.generate_private_key(ec.BrainpoolP256R1())
    pk = CVPublicKey.from_key(new_key.public_key(), ECDSA_SHA256, domain_parameters=True)
    plain = CVRequest.create(pk, "UZISTEST00002", ecdsa_signer(new_key), car=dv.chr)
    assert plain.encode()[:2] == b"\x7f\x21"
    back = CVRequest.decode(plain.encode())
    assert back.verify_inner() and back.chr == "UZISTEST00002" and back.car == dv.chr
    old_key = ec.generate_private_key(ec.BrainpoolP256R1())
    old_pk = CVPublicKey.from_key(old_key.public_key(), ECDSA_SHA256, domain_parameters=True)
    auth = CVRequest.create(pk, "UZISTEST00002", ecdsa_signer(new_key), outer_car="UZISTEST00001",
                            outer_sign=ecdsa_signer(old_key))  # fmt: skip
    raw = auth.encode()
    assert raw[:1] == b"\x67"
    back = CVRequest.decode(raw)
    assert back.verify_inner() and back.verify_outer(old_pk)
    assert not back.verify_outer(pk)
    assert back.encode() == raw


@given(st.binary(max_size=200))
def test_random_bytes_only_decode_error(data: bytes) -> None:
    for decoder in (CVCertificate.decode, CVRequest.decode, CHAT.decode):
        try:
            decoder(data)
        except DecodeError:
            pass


@given(st.data())
def test_mutated_certificate_only_decode_error(data: st.DataObject) -> None:
    raw = bytearray(_SAMPLE)
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] = data.draw(st.integers(0, 255))
    try:
        CVCertificate.decode(bytes(raw))
    except DecodeError:
        pass


_SAMPLE = make_pki()[0][2].encode()


# -- OpenPACE cross-checks ----------------------------------------------------------------------


@pytest.mark.tool
def test_cvc_print_reads_our_certificates(tmp_path: Path) -> None:
    tool = require_tool("cvc-print")
    certs, _ = make_pki()
    for cert in certs:
        path = tmp_path / f"{cert.chr}.cvcert"
        path.write_bytes(cert.encode())
        out = subprocess.run(
            [tool, "--cvc", str(path)], capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stderr
        assert cert.chr in out.stdout and cert.car in out.stdout


@pytest.mark.tool
def test_cvc_create_certificates_decode_and_verify(tmp_path: Path) -> None:
    tool = require_tool("cvc-create")
    key = ec.generate_private_key(ec.BrainpoolP256R1())
    key_path = tmp_path / "cvca.pkcs8"
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_path.write_bytes(der)

    def run(*args: str) -> None:
        out = subprocess.run(
            [tool, *args], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stderr + out.stdout

    run(
        "--role=cvca",
        "--type=is",
        "--chr=UZCVCA00009",
        "--expires=301231",
        "--issued=260101",
        f"--sign-with={key_path}",
        "--scheme=ECDSA_SHA_256",
        "--read-finger",
        "--read-iris",
    )
    run("--role=dv_domestic", "--chr=UZDVCA00009", "--expires=281231", "--issued=260101",
        f"--sign-with={key_path}", "--sign-as=UZCVCA00009.cvcert", "--scheme=ECDSA_SHA_256",
        "--read-finger", "--read-iris")  # fmt: skip
    run("--role=terminal", "--chr=UZISXX00009", "--expires=271231", "--issued=260101",
        "--sign-with=UZDVCA00009.pkcs8", "--sign-as=UZDVCA00009.cvcert",
        "--scheme=ECDSA_SHA_256", "--read-finger")  # fmt: skip
    cvca = CVCertificate.decode((tmp_path / "UZCVCA00009.cvcert").read_bytes())
    dv = CVCertificate.decode((tmp_path / "UZDVCA00009.cvcert").read_bytes())
    inspection = CVCertificate.decode((tmp_path / "UZISXX00009.cvcert").read_bytes())
    assert cvca.chat.oid == ID_IS and cvca.chat.role is Role.CVCA
    assert cvca.verify(cvca.public_key)
    assert cvca.public_key.to_cryptography() == key.public_key()
    result = validate_chain(cvca, [dv, inspection], datetime.date(2026, 6, 1))
    assert result.valid, result.reason
    assert result.effective_chat is not None and result.effective_chat.read_dg3
    assert not result.effective_chat.read_dg4
    assert inspection.encode() == (tmp_path / "UZISXX00009.cvcert").read_bytes()
