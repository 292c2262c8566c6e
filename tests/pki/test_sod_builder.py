"""SODBuilder and sign_dump_folder (ICAO 9303-10 §4.6.2), cross-checked with OpenSSL."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
from tests.conftest import require_tool
from tests.idcard.verify.pa_pki import PKI, SIGNED_AT, VERIFY_AT, asn1, der, pem, sample_files

from idcard.lds.sod import SOD
from idcard.verify import Status, TrustStore, verify_dump_folder
from pki.errors import IssuanceError
from pki.sod import SODBuilder, sign_dump_folder


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(slot=40)


def _builder() -> SODBuilder:
    files = sample_files()
    return (
        SODBuilder()
        .data_group(1, files["DG1"])
        .data_group(2, files["DG2"])
        .data_group(14, files["DG14"])
        .signing_time(SIGNED_AT)
    )


def test_builder_is_immutable_and_refuses_setting_twice() -> None:
    empty = SODBuilder()
    one = empty.data_group(1, b"\x61\x00")
    assert empty != one and empty._data_groups == ()
    with pytest.raises(IssuanceError, match="DG1 is already set"):
        one.data_group(1, b"\x61\x00")
    with pytest.raises(IssuanceError, match="already set"):
        empty.hash_algorithm("sha256").hash_algorithm("sha384")
    with pytest.raises(IssuanceError, match="already set"):
        empty.signing_time(SIGNED_AT).signing_time(SIGNED_AT)
    with pytest.raises(IssuanceError, match="already set"):
        empty.lds_version("0108", "040000").lds_version("0108", "040000")
    with pytest.raises(IssuanceError, match="unsupported hash"):
        empty.hash_algorithm("md5")
    with pytest.raises(IssuanceError, match="outside"):
        empty.data_group(17, b"x")


def test_sign_checks_completeness_and_key(pki: PKI) -> None:
    with pytest.raises(IssuanceError, match="at least two"):
        SODBuilder().data_group(1, b"\x61\x00").sign(pki.signer(), der(pki.ds))
    other = PKI(slot=41)
    with pytest.raises(IssuanceError, match="not the DS certificate's key"):
        _builder().sign(other.signer(), der(pki.ds))


def test_built_sod_decodes_with_exact_hashes(pki: PKI) -> None:
    files = sample_files()
    data = _builder().hash_algorithm("sha384").lds_version("0108", "040000").sign(
        pki.signer(), asn1(pki.ds)
    )
    assert data[0] == 0x77
    sod = SOD.decode(data)
    assert sod.hash_algorithm == "sha384"
    assert sod.lds_version == "0108" and sod.unicode_version == "040000"
    assert sod.data_group_hashes == {
        n: hashlib.sha384(files[f"DG{n}"]).digest() for n in (1, 2, 14)
    }
    cert = sod.signer_certificate
    assert cert is not None and cert.dump() == der(pki.ds)
    sd = sod.signed_data
    assert sd["version"].native == "v3"
    si = sd["signer_infos"][0]
    assert si["sid"].name == "issuer_and_serial_number"
    attrs = {a["type"].native: a["values"][0] for a in si["signed_attrs"]}
    assert attrs["content_type"].dotted == "2.23.136.1.1.1"
    assert attrs["signing_time"].native == SIGNED_AT
    assert attrs["message_digest"].native == hashlib.sha256(sod.encapsulated_content).digest()


@pytest.mark.tool
def test_openssl_cms_verify_accepts_our_sod(pki: PKI, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    sod = SOD.decode(_builder().sign(pki.signer(), der(pki.ds)))
    (tmp_path / "sod.der").write_bytes(sod.content_info)
    (tmp_path / "csca.pem").write_bytes(pem(pki.csca))
    out = subprocess.run(
        [openssl, "cms", "-verify", "-inform", "DER", "-in", tmp_path / "sod.der",
         "-CAfile", tmp_path / "csca.pem", "-purpose", "any", "-binary",
         "-out", tmp_path / "content.der"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Verification successful" in out.stderr
    assert (tmp_path / "content.der").read_bytes() == sod.encapsulated_content
    # the same SOD fails under a CSCA that did not issue the DS
    (tmp_path / "other.pem").write_bytes(pem(PKI(slot=41).csca))
    bad = subprocess.run(
        [openssl, "cms", "-verify", "-inform", "DER", "-in", tmp_path / "sod.der",
         "-CAfile", tmp_path / "other.pem", "-purpose", "any", "-binary", "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode != 0


@pytest.mark.tool
def test_openssl_asn1parse_reads_the_same_hashes(pki: PKI, tmp_path: Path) -> None:
    """An independent parse (openssl asn1parse) of our eContent gives hashlib's hashes."""
    openssl = require_tool("openssl")
    files = sample_files()
    sod = SOD.decode(_builder().hash_algorithm("sha512").sign(pki.signer(), der(pki.ds)))
    (tmp_path / "sod.der").write_bytes(sod.content_info)
    top = subprocess.run(
        [openssl, "asn1parse", "-inform", "DER", "-in", tmp_path / "sod.der"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = top.splitlines()
    at = next(i for i, line in enumerate(lines) if ":2.23.136.1.1.1" in line)
    offset = next(
        int(line.split(":")[0]) for line in lines[at:] if "OCTET STRING" in line
    )
    inner = subprocess.run(
        [openssl, "asn1parse", "-inform", "DER", "-in", tmp_path / "sod.der",
         "-strparse", str(offset)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert ":sha512" in inner
    numbers = [int(m, 16) for m in re.findall(r"INTEGER\s+:([0-9A-F]+)", inner)][1:]
    values = re.findall(r"OCTET STRING\s+\[HEX DUMP\]:([0-9A-F]+)", inner)
    parsed = dict(zip(numbers, values, strict=True))
    assert parsed == {n: hashlib.sha512(files[f"DG{n}"]).hexdigest().upper() for n in (1, 2, 14)}


def test_sign_dump_folder_writes_a_verifying_sod(pki: PKI, tmp_path: Path) -> None:
    for name, raw in sample_files().items():
        (tmp_path / name).write_bytes(raw)
    path = sign_dump_folder(tmp_path, pki.signer(), der(pki.ds), "sha224", signing_time=SIGNED_AT)
    assert path == tmp_path / "EF.SOD"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DG1", "DG14", "DG2", "EF.COM", "EF.SOD"]
    report = verify_dump_folder(tmp_path, TrustStore([asn1(pki.csca)]), at=VERIFY_AT)
    assert report.hash_algorithm == "sha224"
    assert report.sod_signature.status is Status.PASS and report.chain.status is Status.PASS
    assert report.ok
    with pytest.raises(IssuanceError):
        sign_dump_folder(tmp_path / "missing", pki.signer(), der(pki.ds))
