"""Every decision of passive authentication, asserted as the exact (status, reason) of every
check: the reasons are what ``idkarta verify`` prints, so they are part of the interface."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path

import pytest
from asn1crypto import crl as acrl
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.idcard.verify.pa_pki import (
    PKI,
    SIGNED_AT,
    UTC,
    VERIFY_AT,
    asn1,
    master_list,
    sample_files,
    sign_files,
    td1_mrz,
    write_dump,
)
from tests.idcard.verify.trust_pki import cert, make_sod, name

from idcard import tlv
from idcard.asn1.document_pki import DocumentTypeListSyntax
from idcard.errors import VerificationError
from idcard.verify import PassiveAuthReport, Status, TrustStore, verify_dump_folder, verify_passive
from idcard.verify.masterlist import MasterList

P, F, N = Status.PASS, Status.FAIL, Status.NOT_CHECKED
PKI0 = PKI(slot=400)
FILES = sign_files(sample_files(), PKI0)
DS_NAME = asn1(PKI0.ds).subject.human_friendly
CSCA_NAME = asn1(PKI0.csca).subject.human_friendly


def _crl(pki: PKI, revoked: tuple[int, ...] = ()) -> acrl.CertificateList:
    return acrl.CertificateList.load(pki.crl(revoked))


def _store(pki: PKI = PKI0, **kw: object) -> TrustStore:
    kw.setdefault("crls", [_crl(pki)])
    return TrustStore([asn1(pki.csca)], **kw)  # type: ignore[arg-type]


def _good(ds_name: str = DS_NAME, csca_name: str = CSCA_NAME) -> dict[str, tuple[Status, str]]:
    return {
        "DG1": (P, "sha256 of the bytes read matches the SOD"),
        "DG2": (P, "sha256 of the bytes read matches the SOD"),
        "DG14": (P, "sha256 of the bytes read matches the SOD"),
        "com_consistency": (P, "EF.COM and the SOD list DG 1, 2, 14"),
        "sod_signature": (P, f"sha256_ecdsa signature by {ds_name} verifies"),
        "chain": (P, f"issued by trusted CSCA {csca_name}"),
        "validity": (P, "DS and CSCA valid at signingTime 2025-01-01"),
        "key_usage": (P, "keyUsage digitalSignature (9303-12 §7.1.1)"),
        "document_type": (P, "document code 'I' in the DS list ['I', 'ID']"),
        "revocation": (P, "DS and CSCA not on the CSCA's CRL"),
        "country": (P, "issuing state UZB = CSCA country UZ"),
        "master_list": (N, "no master list given"),
    }


def _checks(report: PassiveAuthReport) -> dict[str, tuple[Status, str]]:
    return {c.name: (c.status, c.reason) for c in report.checks}


def test_a_good_document_every_reason_and_detail() -> None:
    report = verify_passive(FILES, _store(), at=VERIFY_AT)
    assert _checks(report) == _good()
    assert [c.name for c in report.checks][:3] == ["DG1", "DG2", "DG14"]
    for h in report.dg_hashes:
        digest = hashlib.sha256(FILES[f"DG{h.dg}"]).digest()
        assert (h.expected, h.actual) == (digest, digest)
    assert report.chain.path == (DS_NAME, CSCA_NAME)
    assert (report.ds_subject, report.hash_algorithm) == (DS_NAME, "sha256")
    v = report.validity
    assert (v.signing_time, v.verification_time, v.ds_valid_at_verification) == (
        SIGNED_AT, VERIFY_AT, True,
    )  # fmt: skip
    assert report.ok


def test_data_groups_changed_missing_or_unprotected() -> None:
    extra16 = tlv.encode(0x70, b"\x00")
    files = {**FILES, "DG2": FILES["DG2"][:-1] + b"\x00", "DG15": b"\x6f\x00", "DG16": extra16}
    del files["DG14"]
    report = verify_passive(files, _store(), at=VERIFY_AT)
    assert _checks(report) == {
        **_good(),
        "DG2": (F, "sha256 of the bytes read differs from SOD"),
        "DG14": (N, "listed in the SOD, absent from the dump"),
        "DG15": (F, "in the dump but not listed in the SOD (unprotected)"),
        "DG16": (F, "in the dump but not listed in the SOD (unprotected)"),
    }
    assert [h.dg for h in report.dg_hashes] == [1, 2, 14, 15, 16]
    by = {h.dg: h for h in report.dg_hashes}
    sha = {n: hashlib.sha256(raw).digest() for n, raw in files.items()}
    assert (by[2].expected, by[2].actual) == (hashlib.sha256(FILES["DG2"]).digest(), sha["DG2"])
    assert (by[14].expected, by[14].actual) == (hashlib.sha256(FILES["DG14"]).digest(), None)
    assert (by[15].expected, by[15].actual) == (None, sha["DG15"])
    assert not report.ok


def _com(*tags: int) -> bytes:
    return tlv.encode(0x60, [tlv.encode(0x5F01, b"0108"), tlv.encode(0x5C, bytes(tags))])


@pytest.mark.parametrize(
    ("com", "result"),
    [
        (_com(0x61, 0x75, 0x6E), (P, "EF.COM and the SOD list DG 1, 2, 14")),
        (_com(0x61, 0x75, 0x63, 0x6E), (F, "EF.COM only: DG 3")),
        (_com(0x61, 0x75), (F, "SOD only: DG 14")),
        (_com(0x61, 0x63, 0x6F, 0x6E), (F, "EF.COM only: DG 3, 15; SOD only: DG 2")),
        (_com(0x61, 0x99), (F, "EF.COM does not decode: unknown data-group tag 99 in EF.COM")),
    ],
)
def test_ef_com_and_the_sod_listing_different_data_groups(
    com: bytes, result: tuple[Status, str]
) -> None:
    report = verify_passive({**FILES, "EF.COM": com}, _store(), at=VERIFY_AT)
    assert _checks(report) == {**_good(), "com_consistency": result}


def test_an_ef_com_that_does_not_decode_fails() -> None:
    wrong_tag = tlv.encode(0x61, tlv.encode(0x5C, bytes([0x61, 0x75, 0x6E])))  # DG1's tag
    report = verify_passive({**FILES, "EF.COM": wrong_tag}, _store(), at=VERIFY_AT)
    status, reason = _checks(report)["com_consistency"]
    assert status is F and reason.startswith("EF.COM does not decode: ")
    no_list = tlv.encode(0x60, tlv.encode(0x5F01, b"0108"))
    assert _checks(verify_passive({**FILES, "EF.COM": no_list}, _store()))[
        "com_consistency"
    ] == (F, "EF.COM does not decode: EF.COM: mandatory tag 5C missing (at offset 0)")
    report = verify_passive({k: v for k, v in FILES.items() if k != "EF.COM"}, _store())
    assert _checks(report)["com_consistency"] == (N, "no EF.COM in the dump")


def _signed(
    ds: object, key: object, files: dict[str, bytes] | None = None, **kw: object
) -> dict[str, bytes]:
    """``files`` (default: the sample) with an EF.SOD made by :func:`make_sod`."""
    base = dict(files or sample_files())
    base.pop("EF.SOD", None)
    return {**base, "EF.SOD": make_sod(base, ds, key, **kw)}  # type: ignore[arg-type]


def _ds(**kw: object) -> object:
    """A DS certificate under PKI0's CSCA with the given keyUsage / documentTypeList."""
    return cert(
        PKI0.ds_key, PKI0.ds.subject, PKI0.csca_key, PKI0.csca.subject, ca=False,
        not_before=dt.datetime(2024, 1, 1, tzinfo=UTC),
        not_after=dt.datetime(2034, 1, 1, tzinfo=UTC), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _doc_types(*types: str) -> bytes:
    return DocumentTypeListSyntax({"version": 0, "doc_type_list": list(types)}).dump()


def test_key_usage_missing_or_without_digital_signature_fails() -> None:
    for usage, reason in (
        (None, "the DS certificate has no keyUsage extension"),
        (False, "the DS keyUsage lacks digitalSignature"),
    ):
        files = _signed(_ds(digital_signature=usage, doc_types=_doc_types("I", "ID")), PKI0.ds_key)
        report = verify_passive(files, _store(), at=VERIFY_AT)
        assert _checks(report) == {**_good(), "key_usage": (F, reason)}
        assert not report.ok


@pytest.mark.parametrize(
    ("code", "types", "result"),
    [
        ("I<", ("I",), (P, "document code 'I' in the DS list ['I']")),
        ("ID", ("I",), (P, "document code 'ID' in the DS list ['I']")),
        ("I<", ("ID",), (F, "document code 'I' not in the DS list ['ID']")),
        ("I<", ("", "P"), (F, "document code 'I' not in the DS list ['', 'P']")),
        ("AC", ("P", "AC"), (P, "document code 'AC' in the DS list ['P', 'AC']")),
    ],
)
def test_document_code_against_the_ds_document_type_list(
    code: str, types: tuple[str, ...], result: tuple[Status, str]
) -> None:
    files = _signed(_ds(doc_types=_doc_types(*types)), PKI0.ds_key, sample_files(code=code))
    report = verify_passive(files, _store(), at=VERIFY_AT)
    assert _checks(report) == {**_good(), "document_type": result}


def test_document_type_list_absent_or_undecodable() -> None:
    files = _signed(_ds(), PKI0.ds_key)
    assert _checks(verify_passive(files, _store(), at=VERIFY_AT)) == {
        **_good(), "document_type": (N, "the DS has no documentTypeList extension"),
    }  # fmt: skip


def test_without_a_readable_dg1_code_and_state_are_not_checked() -> None:
    mrz = td1_mrz().encode()
    for dg1 in (
        b"\x61\x03\x5f\x1e\x00",  # no MRZ inside
        tlv.encode(0x61, tlv.encode(0x5F1F, b"\xff" * 90)),  # not ASCII
        tlv.encode(0x62, tlv.encode(0x5F1F, mrz)),  # not a DG1 template
    ):
        files = _signed(asn1(PKI0.ds), PKI0.ds_key, {**sample_files(), "DG1": dg1})
        report = verify_passive(files, _store(), at=VERIFY_AT)
        assert _checks(report) == {
            **_good(),
            "document_type": (N, "no readable DG1 to take the document code"),
            "country": (N, "no readable DG1 for the issuing state"),
        }
    files = _signed(asn1(PKI0.ds), PKI0.ds_key)
    del files["DG1"]
    report = verify_passive(files, _store(), at=VERIFY_AT)
    assert _checks(report)["document_type"] == (N, "no readable DG1 to take the document code")


def test_an_sod_without_the_ds_certificate_checks_only_the_hashes() -> None:
    files = _signed(asn1(PKI0.ds), PKI0.ds_key, with_certificate=False)
    report = verify_passive(files, _store(), at=VERIFY_AT)
    assert _checks(report) == {
        **_good(),
        "sod_signature": (N, "the signer certificate is not included"),
        "chain": (N, "the SOD carries no DS certificate"),
        "validity": (N, "no DS certificate"),
        "key_usage": (N, "no DS certificate"),
        "document_type": (N, "no DS certificate"),
        "revocation": (N, "no trusted chain to check CRLs against"),
        "country": (N, "no trusted CSCA"),
    }
    assert report.ds_subject == "" and report.chain.path == ()
    assert report.validity.signing_time is None and not report.ok
    v = report.validity
    assert (v.verification_time, v.ds_valid_at_verification) == (VERIFY_AT, None)


def test_without_signing_time_validity_is_taken_at_the_ds_validity_start() -> None:
    files = _signed(asn1(PKI0.ds), PKI0.ds_key, signing_time=None)
    report = verify_passive(files, _store(), at=VERIFY_AT)
    assert _checks(report) == {
        **_good(),
        "validity": (P, "DS and CSCA valid at the DS validity start 2024-01-01 (no signingTime)"),
    }
    assert report.validity.signing_time is None
    # ... and with no trusted CSCA there is nothing to compare with
    report = verify_passive(files, TrustStore([asn1(PKI(slot=401).csca)]), at=VERIFY_AT)
    assert _checks(report)["validity"] == (
        N, "no signingTime and no trusted CSCA to compare with",
    )  # fmt: skip
    v = report.validity
    assert (v.signing_time, v.verification_time, v.ds_valid_at_verification) == (
        None, VERIFY_AT, True,
    )  # fmt: skip


def test_validity_limits_are_inclusive() -> None:
    start, end = dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2034, 1, 1, tzinfo=UTC)
    for when in (start, end):
        files = _signed(asn1(PKI0.ds), PKI0.ds_key, signing_time=when)
        report = verify_passive(files, _store(), at=when)
        assert report.validity.status is P and report.validity.ds_valid_at_verification is True
    for when in (start - dt.timedelta(seconds=1), end + dt.timedelta(seconds=1)):
        files = _signed(asn1(PKI0.ds), PKI0.ds_key, signing_time=when)
        report = verify_passive(files, _store(), at=VERIFY_AT)
        assert _checks(report)["validity"] == (
            F, f"the DS was not valid at signingTime {when:%Y-%m-%d}",
        )  # fmt: skip
        v = report.validity
        assert (v.signing_time, v.verification_time, v.ds_valid_at_verification) == (
            when, VERIFY_AT, True,
        )  # fmt: skip


def test_a_csca_not_valid_at_signing_fails_validity() -> None:
    k = PKI0.csca_key
    late = cert(
        k, PKI0.csca.subject, k, PKI0.csca.subject, ca=True,
        not_before=dt.datetime(2025, 6, 1, tzinfo=UTC),
        not_after=dt.datetime(2040, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    report = verify_passive(FILES, TrustStore([late], crls=[_crl(PKI0)]), at=VERIFY_AT)
    assert _checks(report)["validity"] == (
        F, f"CSCA {CSCA_NAME} was not valid at signingTime 2025-01-01",
    )  # fmt: skip
    v = report.validity
    assert (v.signing_time, v.verification_time, v.ds_valid_at_verification) == (
        SIGNED_AT, VERIFY_AT, True,
    )  # fmt: skip
    no_time = _signed(asn1(PKI0.ds), PKI0.ds_key, signing_time=None)
    report = verify_passive(no_time, TrustStore([late], crls=[_crl(PKI0)]), at=VERIFY_AT)
    assert _checks(report)["validity"] == (
        F, f"CSCA {CSCA_NAME} was not valid at the DS validity start 2024-01-01 (no signingTime)",
    )  # fmt: skip


def test_an_untrusted_ds_is_checked_for_validity_alone() -> None:
    report = verify_passive(FILES, TrustStore([asn1(PKI(slot=401).csca)]), at=VERIFY_AT)
    assert _checks(report)["validity"] == (
        N, "DS (no trusted CSCA) valid at signingTime 2025-01-01",
    )  # fmt: skip
    later = dt.datetime(2034, 6, 1, tzinfo=UTC)
    report = verify_passive(FILES, TrustStore([asn1(PKI(slot=401).csca)]), at=later)
    assert _checks(report)["validity"] == (
        N,
        "DS (no trusted CSCA) valid at signingTime 2025-01-01; "
        "the DS has expired at verification time (informational)",
    )


def test_country_decisions() -> None:
    kz_ds = cert(
        PKI0.ds_key, name("DS KZ", "KZ"), PKI0.csca_key, PKI0.csca.subject, ca=False,
        doc_types=_doc_types("I"),
        not_before=dt.datetime(2024, 1, 1, tzinfo=UTC),
        not_after=dt.datetime(2034, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    report = verify_passive(_signed(kz_ds, PKI0.ds_key), _store(), at=VERIFY_AT)
    assert _checks(report)["country"] == (F, "DS country 'KZ' differs from CSCA country 'UZ'")
    for state, reason in (
        ("UTO", "issuing state 'UTO' has no ISO 3166 code (Utopia, the specimen state of ICAO "
                "Doc 9303)"),
        ("ZZZ", "issuing state 'ZZZ' has no ISO 3166 code (unknown code)"),
    ):  # fmt: skip
        files = _signed(asn1(PKI0.ds), PKI0.ds_key, sample_files(state))
        assert _checks(verify_passive(files, _store(), at=VERIFY_AT))["country"] == (N, reason)
    files = _signed(asn1(PKI0.ds), PKI0.ds_key, sample_files("KAZ"))
    assert _checks(verify_passive(files, _store(), at=VERIFY_AT))["country"] == (
        F, "issuing state KAZ (KZ) but the CSCA is of 'UZ'",
    )  # fmt: skip
    de = PKI(country="DE", slot=402)
    files = sign_files(sample_files("D<<"), de)
    assert _checks(verify_passive(files, _store(de), at=VERIFY_AT))["country"] == (
        P, "issuing state D = CSCA country DE",
    )  # fmt: skip


def test_master_list_result_is_the_worst_of_all_given() -> None:
    listed = [PKI0.csca, REVOKED.csca]
    good = MasterList.decode(master_list(PKI0, listed))
    bad = MasterList.decode(master_list(PKI0, listed, tamper=True))
    signer = "Common Name: ML signer, Organization: idkarta test, Country: UZ"
    ok = (P, f"signed by {signer}, issued by trusted CSCA {CSCA_NAME}; 2 certificates")
    for lists, result in (
        ([good], ok),
        ([good, bad], (F, "master list signature: the signature does not verify with the "
                          "signer key")),
        ([bad, good], (F, "master list signature: the signature does not verify with the "
                          "signer key")),
    ):  # fmt: skip
        report = verify_passive(FILES, _store(master_lists=lists), at=VERIFY_AT)
        assert _checks(report) == {**_good(), "master_list": result}


@settings(max_examples=20)
@given(st.lists(st.sampled_from(["good", "rogue", "revoked"]), min_size=1, max_size=6))
def test_one_store_gives_each_document_its_own_verdict(order: list[str]) -> None:
    """A TrustStore never returns PASS for a DS that does not chain to one of its anchors (nor
    revocation PASS for a revoked DS), whatever was verified with it before."""
    revoked, rogue = REVOKED, ROGUE
    store = TrustStore(
        [asn1(PKI0.csca), asn1(revoked.csca)],
        crls=[_crl(PKI0), _crl(revoked, (revoked.ds.serial_number,))],
    )
    docs = {"good": FILES, "rogue": _files_of(rogue), "revoked": _files_of(revoked)}
    for which in order:
        s = verify_passive(docs[which], store, at=VERIFY_AT).statuses
        assert (s["chain"], s["revocation"]) == {
            "good": (P, P), "rogue": (F, N), "revoked": (P, F),
        }[which], which  # fmt: skip


REVOKED, ROGUE = PKI(slot=403), PKI(slot=404)
_CACHE: dict[int, dict[str, bytes]] = {}


def _files_of(pki: PKI) -> dict[str, bytes]:
    if pki.slot not in _CACHE:
        _CACHE[pki.slot] = sign_files(sample_files(), pki)
    return _CACHE[pki.slot]


def test_verification_time_default_and_naive_times() -> None:
    naive = VERIFY_AT.replace(tzinfo=None)
    report = verify_passive(FILES, _store(), at=naive)
    assert report.validity.verification_time == VERIFY_AT
    before = dt.datetime.now(UTC)
    report = verify_passive(FILES, _store())
    after = dt.datetime.now(UTC)
    t = report.validity.verification_time
    assert t is not None and before <= t <= after


def test_a_hash_algorithm_this_python_lacks_cannot_be_checked() -> None:
    files = _signed(asn1(PKI0.ds), PKI0.ds_key, declared_hash="shake128")
    with pytest.raises(VerificationError) as info:
        verify_passive(files, _store(), at=VERIFY_AT)
    assert str(info.value) == "EF.SOD hash algorithm shake128 is not supported"


def test_the_default_verification_time_is_now_in_utc_whatever_the_local_zone() -> None:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tashkent"  # UTC+5, no daylight saving
    time.tzset()
    try:
        before = dt.datetime.now(UTC)
        t = verify_passive(FILES, _store()).validity.verification_time
        after = dt.datetime.now(UTC)
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()
    assert t is not None and before <= t <= after


def test_unusable_input_raises_with_its_reason(tmp_path: Path) -> None:
    with pytest.raises(VerificationError, match=r"^the dump has no EF\.SOD$"):
        verify_passive({"DG1": FILES["DG1"]}, _store())
    with pytest.raises(VerificationError, match=r"^EF\.SOD is unreadable: "):
        verify_passive({**FILES, "EF.SOD": b"\x77\x03\x30\x01\x00"}, _store())
    with pytest.raises(VerificationError, match=rf"^{tmp_path / 'nope'}: not a directory$"):
        verify_dump_folder(tmp_path / "nope", _store())
    folder = write_dump(tmp_path / "d", {"EF.SOD": FILES["EF.SOD"]})
    (folder / "DG1").mkdir()
    report = verify_dump_folder(folder, _store(), at=VERIFY_AT)  # a directory is not read
    assert report.dg_hashes[0].reason == "listed in the SOD, absent from the dump"



def test_only_data_groups_1_to_16_are_hashed() -> None:
    files = {**FILES, "DG0": b"\x00", "DG17": b"\x00"}
    report = verify_passive(files, _store(), at=VERIFY_AT)
    assert [h.dg for h in report.dg_hashes] == [1, 2, 14]


def test_a_dump_folder_is_verified_at_the_given_time(tmp_path: Path) -> None:
    folder = write_dump(tmp_path / "dump", FILES)
    report = verify_dump_folder(folder, _store(), at=VERIFY_AT)
    assert _checks(report) == _good()
    assert report.validity.verification_time == VERIFY_AT


def test_an_unreadable_dump_folder_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_dump(tmp_path / "dump", FILES)

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(VerificationError) as info:
        verify_dump_folder(folder, _store())
    assert str(info.value) == f"{folder}: cannot read the dump ([Errno 13] Permission denied)"


def test_a_document_type_list_that_does_not_decode_fails() -> None:
    """Defensive: the EF.SOD reader already refuses such a DS certificate, so the list is
    checked on a certificate loaded without that reader."""
    from asn1crypto import x509 as ax509

    from idcard.verify.passive import _doc_types

    ds = ax509.Certificate.load(_ds(doc_types=b"\x30\x03\x02\x01\x00").dump())
    result = _doc_types(ds)
    assert not isinstance(result, list)
    assert (result.name, result.status) == ("document_type", F)
    assert result.reason.startswith("documentTypeList does not decode: ")
