"""Passive authentication of an eMRTD / eID dump (ICAO Doc 9303-11 §5.1).

Steps of 9303-11 §5.1 and the checks that carry them out:

1. read EF.SOD; verify its signature with the DS certificate inside (``sod_signature``);
2. build the DS certificate's chain to a trusted CSCA (``chain``), check validity at signing
   (``validity``), revocation (``revocation``), the DS key usage and document types
   (``key_usage``, ``document_type``, 9303-12 §7.1.1) and the CSCA's country against the MRZ
   issuing state (``country``);
3. hash every data group as read and compare with the SOD (``DG<n>``), and EF.COM's list with the
   SOD's (``com_consistency``).

Validity rule applied (9303-11 §5.1; 9303-12 §7.1.1 key usage periods): the DS and its CSCA(s)
must have been valid when the SOD was signed (its signingTime, or failing that the start of the
DS validity); a DS that has expired at verification time is reported for information only,
since documents outlive the DS private-key usage period.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import x509

from idcard import tlv
from idcard.errors import DecodeError, VerificationError
from idcard.verify._asn1 import (
    OID_DOCUMENT_TYPE_LIST,
    OID_LDS_SECURITY_OBJECT,
    DocumentTypeListSyntax,
)
from idcard.verify._cms import check_signed_parts
from idcard.verify._sod import SODView, parse_sod
from idcard.verify.countries import NO_ALPHA2, alpha2_of
from idcard.verify.report import (
    ChainResult,
    CheckResult,
    DGHashResult,
    PassiveAuthReport,
    Status,
    ValidityResult,
)
from idcard.verify.trust import Chain, TrustStore

__all__ = ["DG_TAGS", "DUMP_FILES", "read_dump_folder", "verify_dump_folder", "verify_passive"]

DG_TAGS: dict[int, int] = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}  # fmt: skip
"""Data-group number → tag of its template (9303-10 §4.6.1, Table 34)."""
_TAG_DGS = {t: n for n, t in DG_TAGS.items()}

DUMP_FILES = ("EF.COM", "EF.SOD", *(f"DG{n}" for n in range(1, 17)))
"""File names of a dump folder that passive authentication reads."""


def read_dump_folder(folder: str | Path) -> dict[str, bytes]:
    """The raw files of a dump folder by name (``EF.SOD``, ``DG1``, …; a ``.bin`` suffix is
    accepted too). A missing folder raises :class:`VerificationError`."""
    root = Path(folder)
    if not root.is_dir():
        raise VerificationError(f"{root}: not a directory")
    out: dict[str, bytes] = {}
    for name in DUMP_FILES:
        for candidate in (root / name, root / f"{name}.bin"):
            if candidate.is_file():
                try:
                    out[name] = candidate.read_bytes()
                except OSError as exc:
                    raise VerificationError(f"{candidate}: cannot read ({exc})") from None
                break
    return out


def _hash_checks(sod: SODView, files: Mapping[str, bytes]) -> list[DGHashResult]:
    results = []
    present = {n for n in range(1, 17) if f"DG{n}" in files}
    for n in sorted(set(sod.data_group_hashes) | present):
        name = f"DG{n}"
        expected = sod.data_group_hashes.get(n)
        if n not in present:
            results.append(
                DGHashResult(
                    name, Status.NOT_CHECKED, "listed in the SOD, absent from the dump",
                    dg=n, expected=expected,
                )
            )  # fmt: skip
            continue
        actual = hashlib.new(sod.hash_algorithm, files[name]).digest()
        if expected is None:
            results.append(
                DGHashResult(
                    name, Status.FAIL, "in the dump but not listed in the SOD (unprotected)",
                    dg=n, actual=actual,
                )
            )  # fmt: skip
        elif actual == expected:
            results.append(
                DGHashResult(
                    name, Status.PASS, f"{sod.hash_algorithm} of the bytes read matches the SOD",
                    dg=n, expected=expected, actual=actual,
                )
            )  # fmt: skip
        else:
            results.append(
                DGHashResult(
                    name, Status.FAIL, f"{sod.hash_algorithm} of the bytes read differs from SOD",
                    dg=n, expected=expected, actual=actual,
                )
            )  # fmt: skip
    return results


def _com_check(sod: SODView, com: bytes | None) -> CheckResult:
    name = "com_consistency"
    if com is None:
        return CheckResult(name, Status.NOT_CHECKED, "no EF.COM in the dump")
    try:
        top = tlv.decode_one(com, expected_tag=0x60)
        tag_list = tlv.require(top.children(), 0x5C, "EF.COM").value
        listed = set()
        for t in tag_list:
            if t not in _TAG_DGS:
                raise DecodeError(f"unknown data-group tag {t:02X} in EF.COM")
            listed.add(_TAG_DGS[t])
    except DecodeError as exc:
        return CheckResult(name, Status.FAIL, f"EF.COM does not decode: {exc}")
    in_sod = set(sod.data_group_hashes)
    if listed == in_sod:
        return CheckResult(name, Status.PASS, f"EF.COM and the SOD list DG {_fmt(listed)}")
    parts = []
    if listed - in_sod:
        parts.append(f"EF.COM only: DG {_fmt(listed - in_sod)}")
    if in_sod - listed:
        parts.append(f"SOD only: DG {_fmt(in_sod - listed)}")
    return CheckResult(name, Status.FAIL, "; ".join(parts))


def _fmt(numbers: set[int]) -> str:
    return ", ".join(str(n) for n in sorted(numbers))


def _mrz(files: Mapping[str, bytes]) -> str | None:
    """The MRZ text of DG1 (tag 61 → 5F1F, 9303-10 §4.7.1), or None when absent/unreadable."""
    raw = files.get("DG1")
    if raw is None:
        return None
    try:
        top = tlv.decode_one(raw, expected_tag=0x61)
        return tlv.require(top.children(), 0x5F1F, "DG1").value.decode("ascii")
    except (DecodeError, UnicodeDecodeError):
        return None


def _extension(cert: x509.Certificate, oid: str) -> bytes | None:
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].dotted == oid:
            return bytes(ext["extn_value"])
    return None


def _key_usage(ds: x509.Certificate | None) -> CheckResult:
    name = "key_usage"
    if ds is None:
        return CheckResult(name, Status.NOT_CHECKED, "no DS certificate")
    usage = ds.key_usage_value
    if usage is None:
        return CheckResult(name, Status.FAIL, "the DS certificate has no keyUsage extension")
    if "digital_signature" not in usage.native:
        return CheckResult(name, Status.FAIL, "the DS keyUsage lacks digitalSignature")
    return CheckResult(name, Status.PASS, "keyUsage digitalSignature (9303-12 §7.1.1)")


def _doc_types(ds: x509.Certificate | None) -> list[str] | CheckResult:
    """The DS documentTypeList (9303-12 §7.1.1.3), or the result when there is none to use."""
    name = "document_type"
    if ds is None:
        return CheckResult(name, Status.NOT_CHECKED, "no DS certificate")
    der = _extension(ds, OID_DOCUMENT_TYPE_LIST)
    if der is None:
        return CheckResult(name, Status.NOT_CHECKED, "the DS has no documentTypeList extension")
    try:
        return [str(t.native) for t in DocumentTypeListSyntax.load(der)["doc_type_list"]]
    except (ValueError, TypeError, KeyError) as exc:
        return CheckResult(name, Status.FAIL, f"documentTypeList does not decode: {exc}")


def _document_type(types: list[str] | CheckResult, mrz: str | None) -> CheckResult:
    name = "document_type"
    if isinstance(types, CheckResult):
        return types
    if mrz is None:
        return CheckResult(name, Status.NOT_CHECKED, "no readable DG1 to take the document code")
    code = mrz[:2].replace("<", "")
    if any(code.startswith(t) for t in types if t):
        return CheckResult(name, Status.PASS, f"document code {code!r} in the DS list {types}")
    return CheckResult(name, Status.FAIL, f"document code {code!r} not in the DS list {types}")


@dataclass(frozen=True, slots=True)
class _DSFacts:
    """What a DS certificate contributes to every document it signed (computed once per DS)."""

    chain: ChainResult
    key_usage: CheckResult
    doc_types: list[str] | CheckResult
    ds_subject: str
    ds_country: str | None
    csca_country: str | None

    @classmethod
    def of(cls, ds: x509.Certificate | None, chain: Chain) -> _DSFacts:
        csca = chain.csca
        return cls(
            chain=ChainResult(
                "chain",
                chain.status,
                chain.reason,
                path=tuple(c.subject.human_friendly for c in chain.path),
            ),
            key_usage=_key_usage(ds),
            doc_types=_doc_types(ds),
            ds_subject=ds.subject.human_friendly if ds is not None else "",
            ds_country=ds.subject.native.get("country_name") if ds is not None else None,
            csca_country=csca.subject.native.get("country_name") if csca is not None else None,
        )


def _valid_at(cert: x509.Certificate, when: datetime) -> bool:
    v = cert["tbs_certificate"]["validity"]
    return bool(v["not_before"].native <= when <= v["not_after"].native)


def _validity(
    ds: x509.Certificate | None, chain: Chain, signing_time: datetime | None, at: datetime
) -> ValidityResult:
    name = "validity"
    if ds is None:
        return ValidityResult(name, Status.NOT_CHECKED, "no DS certificate", verification_time=at)
    now_ok = _valid_at(ds, at)
    info = "" if now_ok else "; the DS has expired at verification time (informational)"
    extra = {"signing_time": signing_time, "verification_time": at}
    cas = chain.path[1:] if chain.status is Status.PASS else ()
    if signing_time is not None:
        if not _valid_at(ds, signing_time):
            return ValidityResult(
                name, Status.FAIL, f"the DS was not valid at signingTime {signing_time:%Y-%m-%d}",
                ds_valid_at_verification=now_ok, **extra,
            )  # fmt: skip
        when, what = signing_time, f"signingTime {signing_time:%Y-%m-%d}"
    else:
        if not cas:
            return ValidityResult(
                name, Status.NOT_CHECKED, "no signingTime and no trusted CSCA to compare with",
                ds_valid_at_verification=now_ok, **extra,
            )  # fmt: skip
        when = ds["tbs_certificate"]["validity"]["not_before"].native
        what = f"the DS validity start {when:%Y-%m-%d} (no signingTime)"
    for ca in cas:
        if not _valid_at(ca, when):
            return ValidityResult(
                name, Status.FAIL, f"CSCA {ca.subject.human_friendly} was not valid at {what}",
                ds_valid_at_verification=now_ok, **extra,
            )  # fmt: skip
    scope = "DS and CSCA" if cas else "DS (no trusted CSCA)"
    status = Status.PASS if cas else Status.NOT_CHECKED
    return ValidityResult(
        name, status, f"{scope} valid at {what}{info}", ds_valid_at_verification=now_ok, **extra
    )


def _country(facts: _DSFacts, mrz: str | None) -> CheckResult:
    name = "country"
    if facts.chain.status is not Status.PASS:
        return CheckResult(name, Status.NOT_CHECKED, "no trusted CSCA")
    if mrz is None:
        return CheckResult(name, Status.NOT_CHECKED, "no readable DG1 for the issuing state")
    state = mrz[2:5].replace("<", "")
    c_csca, c_ds = facts.csca_country, facts.ds_country
    if c_ds != c_csca:
        return CheckResult(
            name, Status.FAIL, f"DS country {c_ds!r} differs from CSCA country {c_csca!r}"
        )
    alpha2 = alpha2_of(state)
    if alpha2 is None:
        why = NO_ALPHA2.get(state, "unknown code")
        return CheckResult(
            name, Status.NOT_CHECKED, f"issuing state {state!r} has no ISO 3166 code ({why})"
        )
    if alpha2 != c_csca:
        return CheckResult(
            name, Status.FAIL, f"issuing state {state} ({alpha2}) but the CSCA is of {c_csca!r}"
        )
    return CheckResult(name, Status.PASS, f"issuing state {state} = CSCA country {c_csca}")


def verify_passive(
    files: Mapping[str, bytes], trust: TrustStore, *, at: datetime | None = None
) -> PassiveAuthReport:
    """Passive authentication of the raw files of one document (9303-11 §5.1).

    ``files`` maps ``EF.SOD``, ``EF.COM``, ``DG1``…``DG16`` to the bytes read; ``at`` is the
    verification time (default now, UTC). A missing or undecodable EF.SOD raises
    :class:`VerificationError`; everything else is a check result.
    """
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    raw_sod = files.get("EF.SOD")
    if raw_sod is None:
        raise VerificationError("the dump has no EF.SOD")
    try:
        sod = parse_sod(raw_sod)
    except DecodeError as exc:
        raise VerificationError(f"EF.SOD is unreadable: {exc}") from None
    if sod.hash_algorithm not in hashlib.algorithms_available:
        raise VerificationError(f"EF.SOD hash algorithm {sod.hash_algorithm} is not supported")
    mrz = _mrz(files)
    ds = sod.signed.signer_certificate
    signature = check_signed_parts(sod.signed, "sod_signature", OID_LDS_SECURITY_OBJECT)
    if ds is None:
        chain = Chain(Status.NOT_CHECKED, "the SOD carries no DS certificate")
        facts = _DSFacts.of(None, chain)
    else:
        chain = trust.chain(ds)
        facts = trust.memo(("ds", bytes(ds.dump())), lambda: _DSFacts.of(ds, chain))
    ml = trust.master_list_results
    if not ml:
        ml_result = CheckResult("master_list", Status.NOT_CHECKED, "no master list given")
    else:
        worst = next((r for r in ml if r.status is not Status.PASS), ml[0])
        ml_result = CheckResult("master_list", worst.status, worst.reason)
    return PassiveAuthReport(
        dg_hashes=tuple(_hash_checks(sod, files)),
        com_consistency=_com_check(sod, files.get("EF.COM")),
        sod_signature=signature,
        chain=facts.chain,
        validity=_validity(ds, chain, sod.signed.signing_time, when),
        key_usage=facts.key_usage,
        document_type=_document_type(facts.doc_types, mrz),
        revocation=trust.memo(("crl", id(chain), when), lambda: trust.revocation(chain, when)),
        country=_country(facts, mrz),
        master_list=ml_result,
        hash_algorithm=sod.hash_algorithm,
        ds_subject=facts.ds_subject,
    )


def verify_dump_folder(
    folder: str | Path, trust: TrustStore, *, at: datetime | None = None
) -> PassiveAuthReport:
    """:func:`verify_passive` over the files of a dump folder (see :func:`read_dump_folder`)."""
    return verify_passive(read_dump_folder(folder), trust, at=at)
