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
from idcard.asn1.document_pki import ID_ICAO_DOCUMENT_TYPE_LIST, DocumentTypeListSyntax
from idcard.errors import DecodeError, VerificationError
from idcard.lds import DG_TAGS, FILE_NAMES
from idcard.lds.dump import Dump
from idcard.lds.sod import SOD, SODParts
from idcard.verify._signature import check_signed_parts
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

__all__ = ["read_dump_folder", "verify_dump_folder", "verify_passive"]

_TAG_DGS = {tag: int(name[2:]) for name, tag in DG_TAGS.items()}
"""Tag of a data group's template → its number (9303-10 §4.6.1, Table 34)."""


def read_dump_folder(folder: str | Path) -> dict[str, bytes]:
    """The raw files of a dump folder by name (``EF.SOD``, ``DG1``, …; the names of
    :class:`~idcard.lds.dump.Dump`, or the same with a ``.bin`` suffix).

    Unlike :meth:`Dump.read <idcard.lds.dump.Dump.read>`, a ``manifest.json`` that disagrees
    with a file is not an error here: a data group changed after dumping is exactly what passive
    authentication reports, as a failed hash. An unusable folder raises
    :class:`VerificationError`.
    """
    root = Path(folder)
    if not root.is_dir():
        raise VerificationError(f"{root}: not a directory")
    files: dict[str, bytes] = {}
    try:
        present = {p.name for p in root.iterdir()}
        for name in FILE_NAMES:
            for candidate in (name, f"{name}.bin"):
                if candidate in present and (root / candidate).is_file():
                    files[name] = (root / candidate).read_bytes()
                    break
    except OSError as exc:
        raise VerificationError(f"{root}: cannot read the dump ({exc})") from None
    return dict(Dump(files).files)


def _hash_checks(sod: SODParts, files: Mapping[str, bytes]) -> list[DGHashResult]:
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


def _com_check(sod: SODParts, com: bytes | None) -> CheckResult:
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
    der = _extension(ds, ID_ICAO_DOCUMENT_TYPE_LIST)
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


_Period = tuple[datetime, datetime]


def _period(cert: x509.Certificate) -> _Period:
    v = cert["tbs_certificate"]["validity"]
    return v["not_before"].native, v["not_after"].native


def _within(period: _Period, when: datetime) -> bool:
    return period[0] <= when <= period[1]


@dataclass(frozen=True, slots=True)
class _DSFacts:
    """What a DS certificate contributes to every document it signed (computed once per DS)."""

    chain: Chain
    chain_result: ChainResult
    key_usage: CheckResult
    doc_types: list[str] | CheckResult
    ds_subject: str
    ds_country: str | None
    csca_country: str | None
    ds_period: _Period | None
    ca_periods: tuple[tuple[str, _Period], ...]
    """Subject and validity of each CSCA on a trusted chain (none when not trusted)."""

    @classmethod
    def of(cls, ds: x509.Certificate | None, chain: Chain) -> _DSFacts:
        csca = chain.csca
        cas = chain.path[1:] if chain.status is Status.PASS else ()
        return cls(
            chain=chain,
            chain_result=ChainResult(
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
            ds_period=_period(ds) if ds is not None else None,
            ca_periods=tuple((c.subject.human_friendly, _period(c)) for c in cas),
        )


def _validity(facts: _DSFacts, signing_time: datetime | None, at: datetime) -> ValidityResult:
    name = "validity"
    ds = facts.ds_period
    if ds is None:
        return ValidityResult(name, Status.NOT_CHECKED, "no DS certificate", verification_time=at)
    now_ok = _within(ds, at)
    info = "" if now_ok else "; the DS has expired at verification time (informational)"
    extra = {"signing_time": signing_time, "verification_time": at}
    cas = facts.ca_periods
    if signing_time is not None:
        if not _within(ds, signing_time):
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
        when = ds[0]
        what = f"the DS validity start {when:%Y-%m-%d} (no signingTime)"
    for subject, period in cas:
        if not _within(period, when):
            return ValidityResult(
                name, Status.FAIL, f"CSCA {subject} was not valid at {what}",
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
        sod = SODParts.decode(raw_sod)
    except DecodeError as exc:
        raise VerificationError(f"EF.SOD is unreadable: {exc}") from None
    if sod.hash_algorithm not in hashlib.algorithms_available:
        raise VerificationError(f"EF.SOD hash algorithm {sod.hash_algorithm} is not supported")
    mrz = _mrz(files)
    signature = check_signed_parts(sod.signed, "sod_signature", SOD.CONTENT_TYPE)
    ds_der = sod.signed.signer_certificate_der
    if ds_der is None:
        facts = _DSFacts.of(None, Chain(Status.NOT_CHECKED, "the SOD carries no DS certificate"))
    else:
        ds = sod.signed.signer_certificate
        facts = trust.memo(("ds", ds_der), lambda: _DSFacts.of(ds, trust.chain(ds)))
    chain = facts.chain
    return PassiveAuthReport(
        dg_hashes=tuple(_hash_checks(sod, files)),
        com_consistency=_com_check(sod, files.get("EF.COM")),
        sod_signature=signature,
        chain=facts.chain_result,
        validity=_validity(facts, sod.signed.signing_time, when),
        key_usage=facts.key_usage,
        document_type=_document_type(facts.doc_types, mrz),
        revocation=trust.revocation(chain, when),
        country=_country(facts, mrz),
        master_list=trust.memo(("master_list",), lambda: _master_list(trust)),
        hash_algorithm=sod.hash_algorithm,
        ds_subject=facts.ds_subject,
    )


def _master_list(trust: TrustStore) -> CheckResult:
    """The worst master-list result of the trust store (NOT_CHECKED when there is none)."""
    ml = trust.master_list_results
    if not ml:
        return CheckResult("master_list", Status.NOT_CHECKED, "no master list given")
    worst = next((r for r in ml if r.status is not Status.PASS), ml[0])
    return CheckResult("master_list", worst.status, worst.reason)


def verify_dump_folder(
    folder: str | Path, trust: TrustStore, *, at: datetime | None = None
) -> PassiveAuthReport:
    """:func:`verify_passive` over the files of a dump folder (see :func:`read_dump_folder`)."""
    return verify_passive(read_dump_folder(folder), trust, at=at)
