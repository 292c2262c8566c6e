"""The trust store's caches: bounded whatever the verification times, names compared by their
DER bytes, and the same decisions as RFC 5280 name matching where the bytes differ (issue 15)."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import pytest
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from tests.idcard.verify.pa_pki import PKI, VERIFY_AT, asn1, master_list, sample_files, sign_files
from tests.idcard.verify.trust_pki import cert, crl_der, crl_of

from idcard import tlv
from idcard.verify import Status, TrustStore, verify_passive
from idcard.verify.masterlist import MasterList

PKI_ = PKI(slot=520)


def _dumps(count: int) -> list[dict[str, bytes]]:
    out = []
    for i in range(count):
        dg1 = tlv.encode(0x61, tlv.encode(0x5F1F, f"I<UZB{i:085d}".encode()))
        out.append(sign_files({**sample_files(), "DG1": dg1}, PKI_))
    return out


def _store() -> TrustStore:
    ml = MasterList.decode(master_list(PKI_, [PKI_.csca]))
    return TrustStore([asn1(PKI_.csca)], master_lists=[ml], crls=[crl_of(PKI_)])


def test_caches_stay_one_entry_per_ds_whatever_the_verification_time() -> None:
    """Verifying at ever later times (as the CLI does with "now") neither grows the store's
    caches nor the memory held: the revocation verdict is cached apart from the time."""
    dumps, store = _dumps(20), _store()
    at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    for i in range(3000):  # also fills the interpreter's free lists before tracing starts
        at += dt.timedelta(hours=1)
        verify_passive(dumps[i % len(dumps)], store, at=at)
    sizes = {"chains": 1, "memo": 2, "crl_verified": 1, "revocation": 1}
    assert store.cache_sizes() == sizes
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2000):
            at += dt.timedelta(hours=1)
            report = verify_passive(dumps[i % len(dumps)], store, at=at)
            assert report.revocation.status is Status.PASS
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert store.cache_sizes() == sizes
    assert growth < 64 * 1024, growth  # under 32 bytes per verification (main: ~300)
    # the time still counts where it should: the CRL's nextUpdate (2025-12-01) is passed
    assert report.revocation.reason == (
        "DS and CSCA not on the CSCA's CRL (CRL past its nextUpdate 2025-12-01)"
    )


def test_names_are_compared_by_der_once_the_chain_is_known(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the first document of a DS, no asn1crypto name comparison runs (it cost a quarter
    of a verification); the bytes decide."""
    dumps, store = _dumps(3), _store()
    assert verify_passive(dumps[0], store).ok
    calls = []
    original = ax509.Name.__eq__

    def counting(self: ax509.Name, other: object) -> bool:
        calls.append(1)
        return bool(original(self, other))

    monkeypatch.setattr(ax509.Name, "__eq__", counting)
    for d in dumps[1:]:
        report = verify_passive(d, store)
        assert report.ok and report.revocation.status is Status.PASS
    assert calls == []


def _name(cn: str, kind: _ASN1Type) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UZ", _type=_ASN1Type.PrintableString),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idkarta test", _type=kind),
            x509.NameAttribute(NameOID.COMMON_NAME, cn, _type=kind),
        ]
    )


def test_names_with_other_bytes_still_match_as_rfc_5280_says() -> None:
    """A DS and a CRL that name the CSCA in another string type and case still match it
    (RFC 5280 §7.1): comparing bytes first changes no decision."""
    k = PKI_.csca_key
    subject = _name("CSCA Encodings", _ASN1Type.PrintableString)
    csca = cert(k, subject, k, subject, ca=True)
    issuer = _name("csca  ENCODINGS", _ASN1Type.UTF8String)
    ds = cert(PKI_.ds_key, _name("DS Encodings", _ASN1Type.UTF8String), k, issuer, ca=False)
    assert ds.issuer.dump() != csca.subject.dump() and ds.issuer == csca.subject
    crl = crl_of(PKI_)
    crl = type(crl).load(crl_der(_name("CSCA ENCODINGS", _ASN1Type.UTF8String), k))
    store = TrustStore([csca], crls=[crl])
    chain = store.chain(ds)
    assert (chain.status, chain.reason) == (
        Status.PASS, f"issued by trusted CSCA {csca.subject.human_friendly}"
    )  # fmt: skip
    assert store.crl_verified(crl, csca) is True
    result = store.revocation(chain, VERIFY_AT)
    assert (result.status, result.reason) == (Status.PASS, "DS and CSCA not on the CSCA's CRL")


def test_revocation_is_worked_out_once_per_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CRLs are searched and verified once per chain; later calls only compare the
    verification time with each CRL's nextUpdate."""
    store = _store()
    chain = store.chain(asn1(PKI_.ds))
    assert store.revocation(chain, VERIFY_AT) == store.revocation(chain, VERIFY_AT)

    def searched_again(*_: object) -> bool:
        raise AssertionError("the CRLs were searched again")

    monkeypatch.setattr(store, "crl_verified", searched_again)
    result = store.revocation(chain, VERIFY_AT)
    assert (result.status, result.reason) == (Status.PASS, "DS and CSCA not on the CSCA's CRL")
    result = store.revocation(store.chain(asn1(PKI_.ds)), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert (result.status, result.reason) == (
        Status.PASS, "DS and CSCA not on the CSCA's CRL (CRL past its nextUpdate 2025-12-01)"
    )  # fmt: skip
