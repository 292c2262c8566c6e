"""The fast EF.SOD read path (idcard.lds.sod.SODParts) against the asn1crypto model (SOD)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.idcard.verify.pa_pki import KEY_TYPES, PKI, SIGNED_AT, sample_files, sign_files

from idcard.errors import DecodeError
from idcard.lds.sod import SOD, SODParts, read_signed_parts
from idcard.verify.passive import read_dump_folder
from pki.keys import SignatureAlgorithm
from pki.sod import SODBuilder

BSI_SOD = "verify/bsi-tr03105/EF.SOD"


def assert_same(raw: bytes) -> SODParts:
    """SODParts.decode(raw) holds what SOD.decode(raw) holds, value for value."""
    model = SOD.decode(raw)
    fast = SODParts.decode(raw)
    assert fast.hash_algorithm == model.hash_algorithm
    assert fast.data_group_hashes == model.data_group_hashes
    assert fast.lds_version == model.lds_version
    signed = fast.signed
    assert signed.e_content_type == SOD.CONTENT_TYPE
    assert signed.e_content == model.encapsulated_content
    assert signed.digest_algorithm == model.digest_algorithm
    assert signed.signed_attrs_der == model.signed_attrs_der
    assert signed.message_digest == model.message_digest
    assert signed.signature == model.signature
    assert signed.signature_algorithm["algorithm"].native == model.signature_algorithm
    model_signer = model.signer_certificate
    assert signed.signer_certificate_der == (None if model_signer is None else model_signer.dump())
    assert [c.dump() for c in signed.certificates] == [c.dump() for c in model.certificates]
    attrs = model.signed_attributes
    assert attrs is not None
    times = [a["values"][0].native for a in attrs if a["type"].native == "signing_time"]
    assert signed.signing_time == (times[0] if times else None)
    return fast


def test_bsi_reference_sod_reads_the_same() -> None:
    from tests.conftest import VECTORS

    fast = assert_same((VECTORS / BSI_SOD).read_bytes())
    assert fast.signed.signer_certificate is not None
    assert fast.signed.signing_time is None
    assert set(fast.data_group_hashes) == {1, 2, 3, 4, 14}
    assert fast.signed.signature_algorithm["algorithm"].native == "rsassa_pss"


@pytest.mark.parametrize("kind", KEY_TYPES)
@pytest.mark.parametrize("hash_algorithm", ["sha1", "sha256", "sha512"])
def test_our_sods_read_the_same(kind: str, hash_algorithm: str) -> None:
    pki = _pool(kind)
    fast = assert_same(sign_files(sample_files(), pki, hash_algorithm=hash_algorithm)["EF.SOD"])
    assert fast.signed.signing_time == SIGNED_AT
    assert fast.signed.signer_certificate_der == _der(pki)
    assert fast.hash_algorithm == hash_algorithm


def test_lds_v1_and_pkcs1_sod_reads_the_same() -> None:
    pki = _pool("rsa2048")
    groups = {1: b"\x61\x03\x5f\x1f\x00", 2: b"\x75\x00"}
    raw = (
        SODBuilder()
        .data_groups(groups)
        .lds_version("0108", "040000")
        .signature_algorithm(SignatureAlgorithm.rsa_pkcs1v15("sha256"))
        .sign(pki.signer(), _der(pki))
    )
    fast = assert_same(raw)
    assert fast.lds_version == "0108"
    # the bare ContentInfo (no tag 77) reads the same
    assert SODParts.decode(SOD.decode(raw).content_info).data_group_hashes == {
        n: fast.data_group_hashes[n] for n in (1, 2)
    }


def test_wrong_content_type_and_signer_count_are_decode_errors() -> None:
    pki = _pool("p256")
    raw = sign_files(sample_files(), pki)["EF.SOD"]
    info = SOD.decode(raw).content_info
    with pytest.raises(DecodeError, match=r"^EF\.SOD"):
        SODParts.decode(b"\x77\x03\x30\x01\x00")
    with pytest.raises(DecodeError, match="after the ContentInfo"):
        read_signed_parts(info + b"\x00")
    assert read_signed_parts(info).signer_index == 0


@given(data=st.binary(max_size=200))
def test_random_bytes_give_only_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        SODParts.decode(data)
    with pytest.raises(DecodeError):
        SODParts.decode(b"\x77" + data)


@given(pos=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7), cut=st.booleans())
def test_damaged_sod_reads_as_the_model_does(pos: int, bit: int, cut: bool) -> None:
    """A flipped bit or a cut: only DecodeError, and whatever the model accepts reads the same."""
    raw = bytearray(_sample_sod())
    pos %= len(raw)
    if cut:
        raw = raw[:pos]
    else:
        raw[pos] ^= 1 << bit
    try:
        SOD.decode(bytes(raw))
    except DecodeError:
        try:
            SODParts.decode(bytes(raw))
        except DecodeError:
            pass
        return
    assert_same(bytes(raw))


def test_dump_folder_takes_bin_names_and_ignores_other_files(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "DG1.bin").write_bytes(b"\x61\x00")
    (folder / "EF.SOD").write_bytes(b"\x77\x00")
    (folder / "notes.txt").write_text("x")
    assert read_dump_folder(folder) == {"EF.SOD": b"\x77\x00", "DG1": b"\x61\x00"}


_PKIS: dict[str, PKI] = {}


def _pool(kind: str) -> PKI:
    if kind not in _PKIS:
        _PKIS[kind] = PKI(kind=kind, slot=21)
    return _PKIS[kind]


def _der(pki: PKI) -> bytes:
    from tests.idcard.verify.pa_pki import der

    return der(pki.ds)


_SOD: list[bytes] = []


def _sample_sod() -> bytes:
    if not _SOD:
        _SOD.append(sign_files(sample_files(), _pool("p256"))["EF.SOD"])
    return _SOD[0]
