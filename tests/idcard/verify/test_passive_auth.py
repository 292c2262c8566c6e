"""Passive authentication (ICAO 9303-11 §5.1): full status vectors for good and tampered dumps."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS
from tests.idcard.verify.pa_pki import (
    KEY_TYPES,
    PKI,
    SIGNED_AT,
    UTC,
    VERIFY_AT,
    asn1,
    der,
    link,
    master_list,
    pem,
    sample_files,
    sign_files,
)

from idcard.errors import VerificationError
from idcard.verify import Status, TrustStore, verify_dump_folder, verify_passive
from idcard.verify.countries import alpha2_of
from idcard.verify.masterlist import MasterList
from pki.keys import SignatureAlgorithm

P, F, N = Status.PASS, Status.FAIL, Status.NOT_CHECKED
BSI = VECTORS / "verify" / "bsi-tr03105"

GOOD = {
    "DG1": P, "DG2": P, "DG14": P, "com_consistency": P, "sod_signature": P, "chain": P,
    "validity": P, "key_usage": P, "document_type": P, "revocation": P, "country": P,
    "master_list": N,
}  # fmt: skip


def _crl(pki: PKI, revoked: tuple[int, ...] = ()) -> object:
    from asn1crypto import crl

    return crl.CertificateList.load(pki.crl(revoked))


def _store(pki: PKI, **kw: object) -> TrustStore:
    crls = kw.pop("crls", [_crl(pki)])
    return TrustStore([asn1(pki.csca)], crls=crls, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI()


@pytest.fixture(scope="module")
def files(pki: PKI) -> dict[str, bytes]:
    return sign_files(sample_files(), pki)


def test_good_document_passes_every_check(pki: PKI, files: dict[str, bytes]) -> None:
    report = verify_passive(files, _store(pki), at=VERIFY_AT)
    assert report.statuses == GOOD
    assert report.ok
    assert report.validity.signing_time == SIGNED_AT
    assert report.validity.ds_valid_at_verification is True
    assert len(report.chain.path) == 2
    assert json.loads(json.dumps(report.to_dict()))["ok"] is True


@pytest.mark.parametrize("dg", ["DG1", "DG2", "DG14"])
@pytest.mark.parametrize("where", [0, -1])
def test_changed_byte_in_a_data_group_fails_only_its_hash(
    pki: PKI, files: dict[str, bytes], dg: str, where: int
) -> None:
    tampered = dict(files)
    raw = bytearray(tampered[dg])
    pos = where if where == -1 else len(raw) // 2
    raw[pos] ^= 0x01
    tampered[dg] = bytes(raw)
    report = verify_passive(tampered, _store(pki), at=VERIFY_AT)
    assert report.statuses == {**GOOD, dg: F}
    assert not report.ok


def test_sod_signed_by_an_untrusted_ds_fails_only_the_chain(files: dict[str, bytes]) -> None:
    rogue = PKI(slot=1)  # same country, another CSCA that is not in the trust store
    trusted = PKI()
    report = verify_passive(sign_files(sample_files(), rogue), _store(trusted), at=VERIFY_AT)
    assert report.statuses == {
        **GOOD, "chain": F, "validity": N, "revocation": N, "country": N,
    }  # fmt: skip
    assert "no trusted CSCA is named" in report.chain.reason


def test_ds_expired_at_signing_fails_only_validity() -> None:
    pki = PKI(
        slot=2,
        ds_not_before=dt.datetime(2023, 1, 1, tzinfo=UTC),
        ds_not_after=dt.datetime(2024, 1, 1, tzinfo=UTC),
    )
    report = verify_passive(sign_files(sample_files(), pki), _store(pki), at=VERIFY_AT)
    assert report.statuses == {**GOOD, "validity": F}
    assert report.validity.ds_valid_at_verification is False


def test_ds_expired_only_at_verification_is_informational(
    pki: PKI, files: dict[str, bytes]
) -> None:
    later = dt.datetime(2034, 6, 1, tzinfo=UTC)  # DS expired 2034-01-01, CSCA still valid
    report = verify_passive(files, _store(pki, crls=[]), at=later)
    assert report.statuses == {**GOOD, "revocation": N}
    assert report.ok
    assert report.validity.ds_valid_at_verification is False
    assert "informational" in report.validity.reason


def test_revoked_ds_fails_only_revocation(pki: PKI, files: dict[str, bytes]) -> None:
    store = _store(pki, crls=[_crl(pki, (pki.ds.serial_number,))])
    report = verify_passive(files, store, at=VERIFY_AT)
    assert report.statuses == {**GOOD, "revocation": F}
    assert "revoked" in report.revocation.reason


def test_revoked_csca_fails_only_revocation(pki: PKI, files: dict[str, bytes]) -> None:
    store = _store(pki, crls=[_crl(pki, (pki.csca.serial_number,))])
    assert verify_passive(files, store, at=VERIFY_AT).statuses == {**GOOD, "revocation": F}


def test_crl_with_a_bad_signature_fails_revocation(pki: PKI, files: dict[str, bytes]) -> None:
    from asn1crypto import crl

    forged = crl.CertificateList.load(pki.crl(signer_key=PKI(slot=1).csca_key))
    report = verify_passive(files, _store(pki, crls=[forged]), at=VERIFY_AT)
    assert report.statuses == {**GOOD, "revocation": F}


def test_csca_from_the_wrong_country_fails_only_country() -> None:
    kz = PKI(country="KZ", slot=3)
    report = verify_passive(sign_files(sample_files("UZB"), kz), _store(kz), at=VERIFY_AT)
    assert report.statuses == {**GOOD, "country": F}
    assert "UZB" in report.country.reason and "KZ" in report.country.reason


def test_master_list_with_a_bad_signature_fails_only_master_list(
    pki: PKI, files: dict[str, bytes]
) -> None:
    ml = MasterList.decode(master_list(pki, [pki.csca], tamper=True))
    report = verify_passive(files, _store(pki, master_lists=[ml]), at=VERIFY_AT)
    assert report.statuses == {**GOOD, "master_list": F}


def test_csca_from_a_master_list_is_trusted() -> None:
    home, other = PKI(slot=4), PKI(country="DE", slot=5)
    ml = MasterList.decode(master_list(home, [home.csca, other.csca]))
    store = TrustStore([asn1(home.csca)], master_lists=[ml], crls=[_crl(other)])
    report = verify_passive(sign_files(sample_files("D<<"), other), store, at=VERIFY_AT)
    assert report.statuses == {**GOOD, "master_list": P}
    # the same CSCA from a master list whose signature is broken is not trusted
    bad = MasterList.decode(master_list(home, [home.csca, other.csca], tamper=True))
    store = TrustStore([asn1(home.csca)], master_lists=[bad], crls=[_crl(other)])
    report = verify_passive(sign_files(sample_files("D<<"), other), store, at=VERIFY_AT)
    assert report.statuses["master_list"] is F and report.statuses["chain"] is F


def test_link_certificate_makes_the_new_csca_key_trusted(tmp_path: Path) -> None:
    old, new = PKI(slot=6), PKI(slot=7)
    files = sign_files(sample_files(), new)
    (tmp_path / "old.pem").write_bytes(pem(old.csca))
    (tmp_path / "link.der").write_bytes(der(link(old, new)))
    store = TrustStore.from_paths(tmp_path)
    report = verify_passive(files, store, at=VERIFY_AT)
    assert report.statuses == {**GOOD, "revocation": N}
    assert len(report.chain.path) == 3
    # without the link certificate the new CSCA is unknown
    (tmp_path / "link.der").unlink()
    report = verify_passive(files, TrustStore.from_paths(tmp_path), at=VERIFY_AT)
    assert report.statuses["chain"] is F


def test_ds_without_digital_signature_or_with_other_document_types() -> None:
    pki = PKI(slot=8, doc_types=("P",))
    report = verify_passive(sign_files(sample_files(), pki), _store(pki), at=VERIFY_AT)
    assert report.statuses == {**GOOD, "document_type": F}
    none = PKI(slot=9, doc_types=None)
    report = verify_passive(sign_files(sample_files(), none), _store(none), at=VERIFY_AT)
    assert report.statuses == {**GOOD, "document_type": N}


def test_dg_in_dump_but_not_in_sod_and_com_mismatch(pki: PKI, files: dict[str, bytes]) -> None:
    extra = {**files, "DG15": b"\x6f\x02\x30\x00"}
    assert verify_passive(extra, _store(pki), at=VERIFY_AT).statuses == {**GOOD, "DG15": F}
    missing = {k: v for k, v in files.items() if k != "DG14"}
    assert verify_passive(missing, _store(pki), at=VERIFY_AT).statuses == {**GOOD, "DG14": N}
    no_com = {k: v for k, v in files.items() if k != "EF.COM"}
    assert verify_passive(no_com, _store(pki), at=VERIFY_AT).statuses == {
        **GOOD, "com_consistency": N,
    }  # fmt: skip


def test_unusable_input_raises(pki: PKI, files: dict[str, bytes], tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match=r"no EF\.SOD"):
        verify_passive({"DG1": files["DG1"]}, _store(pki))
    with pytest.raises(VerificationError, match="unreadable"):
        verify_passive({**files, "EF.SOD": b"\x77\x03\x30\x01\x00"}, _store(pki))
    with pytest.raises(VerificationError):
        verify_dump_folder(tmp_path / "nope", _store(pki))
    (tmp_path / "x.pem").write_bytes(b"not a certificate")
    with pytest.raises(VerificationError):
        TrustStore.from_paths(tmp_path / "x.pem")


@given(
    junk=st.binary(min_size=0, max_size=64),
    cut=st.integers(min_value=1, max_value=400),
)
def test_damaged_sod_raises_only_verification_error(
    pki: PKI, files: dict[str, bytes], junk: bytes, cut: int
) -> None:
    sod = files["EF.SOD"]
    for broken in (junk, sod[:cut], b"\x77" + junk):
        try:
            verify_passive({**files, "EF.SOD": broken}, _store(pki), at=VERIFY_AT)
        except VerificationError:
            pass


@given(
    hash_algorithm=st.sampled_from(["sha1", "sha224", "sha256", "sha384", "sha512"]),
    kind=st.sampled_from(KEY_TYPES),
    pkcs1=st.booleans(),
)
def test_any_hash_and_key_type_builds_and_verifies(
    hash_algorithm: str, kind: str, pkcs1: bool
) -> None:
    pki = _pool(kind)
    alg = SignatureAlgorithm.rsa_pkcs1v15("sha256") if pkcs1 and kind == "rsa2048" else None
    files = sign_files(sample_files(), pki, hash_algorithm=hash_algorithm, algorithm=alg)
    report = verify_passive(files, _store(pki), at=VERIFY_AT)
    assert report.statuses == GOOD
    assert report.hash_algorithm == hash_algorithm


_PKIS: dict[str, PKI] = {}


def _pool(kind: str) -> PKI:
    if kind not in _PKIS:
        _PKIS[kind] = PKI(kind=kind, slot=20)
    return _PKIS[kind]


def test_bsi_reference_sod_hashes_and_signature_pass_chain_not_checked() -> None:
    """BSI TR-03105-5 reference EF.SOD with its DG1, DG14 and EF.COM (vectors/verify/)."""
    sources = json.loads((BSI / "SOURCES.json").read_text())
    assert set(sources) >= {"EF.SOD", "DG1", "DG14", "EF.COM"}
    at = dt.datetime(2014, 6, 1, tzinfo=UTC)  # inside the DS validity
    report = verify_dump_folder(BSI, TrustStore(), at=at)
    expected = {
        "DG1": P, "DG2": N, "DG3": N, "DG4": N, "DG14": P, "com_consistency": P,
        "sod_signature": P, "chain": N, "validity": N, "key_usage": P, "document_type": N,
        "revocation": N, "country": N, "master_list": N,
    }  # fmt: skip
    assert report.statuses == expected
    assert not report.ok  # the chain could not be checked without HJP's CSCA
    assert report.chain.reason == "no trusted CSCA certificate was given"
    assert report.sod_signature.reason.startswith("rsassa_pss signature")
    dg1 = report.dg_hashes[0]
    assert dg1.expected == bytes.fromhex(sources["DG1_sha256"])
    # with an unrelated (our) CSCA as trust anchor the chain is checked and fails
    report = verify_dump_folder(BSI, TrustStore([asn1(PKI().csca)]), at=at)
    assert report.statuses == {**expected, "chain": F}


def test_bsi_reference_with_a_foreign_dg15_fails_that_dg(tmp_path: Path) -> None:
    """The shared refset's DG15 is not listed in its SOD: present but unprotected → FAIL."""
    folder = shutil.copytree(BSI, tmp_path / "bsi")
    (folder / "DG15").write_bytes(b"\x6f\x03\x30\x01\x00")
    report = verify_dump_folder(folder, TrustStore(), at=dt.datetime(2014, 6, 1, tzinfo=UTC))
    assert report.statuses["DG15"] is F


def test_country_codes() -> None:
    assert alpha2_of("UZB") == "UZ"
    assert alpha2_of("D<<") == "DE"
    assert alpha2_of("UTO") is None
    assert alpha2_of("GBD") == "GB"


def test_report_dataclasses_are_frozen(pki: PKI, files: dict[str, bytes]) -> None:
    report = verify_passive(files, _store(pki), at=VERIFY_AT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.chain.status = F  # type: ignore[misc]
