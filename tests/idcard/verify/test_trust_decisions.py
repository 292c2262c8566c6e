"""Every decision of the trust store, as properties: what becomes an anchor, which chain passes,
which CRL counts, and that nothing verified before changes a later verdict."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from asn1crypto import crl as acrl
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.idcard.verify.pa_pki import PKI, VERIFY_AT, asn1, key, link
from tests.idcard.verify.trust_pki import (
    NEXT_UPDATE,
    cert,
    crl_der,
    crl_of,
    link_cert,
    name,
    rogue_key,
    unsupported_algorithm,
)

from idcard.verify import Status, TrustStore
from idcard.verify.trust import Chain

P, F, N = Status.PASS, Status.FAIL, Status.NOT_CHECKED
# slots apart from every other test: pa_pki.key gives slot s the keys 10+s, 20+s, 30+s
OLD, MID, NEW = PKI(slot=500), PKI(slot=501), PKI(slot=502)
OTHER = PKI(slot=503)
ROGUE = rogue_key(0)
LINK = asn1(link(OLD, NEW))


def _ds_of(pki: PKI) -> object:
    return asn1(pki.ds)


# -- anchors and chains ----------------------------------------------------------------------


def test_a_self_issued_certificate_whose_signature_fails_is_no_anchor() -> None:
    """Named as its own issuer, but signed by another key: not trusted, nothing chains to it."""
    fake = cert(OLD.csca_key, OLD.csca.subject, ROGUE, OLD.csca.subject, ca=True)
    store = TrustStore([fake])
    assert store.trusted == ()
    chain = store.chain(_ds_of(OLD))  # the DS really is signed by the key in ``fake``
    assert (chain.status, chain.reason) == (N, "no trusted CSCA certificate was given")
    assert chain.csca is None
    # next to a genuine anchor, it stays untrusted
    store = TrustStore([asn1(OTHER.csca), fake])
    assert [c.dump() for c in store.trusted] == [asn1(OTHER.csca).dump()]
    assert store.chain(_ds_of(OLD)).status is F


def test_a_certificate_is_trusted_only_under_a_trusted_name_and_key() -> None:
    anchor = asn1(OLD.csca)
    k = key("p256", 5060)
    good = cert(k, name("CSCA link 60"), OLD.csca_key, OLD.csca.subject, ca=True)
    other_name = cert(k, name("CSCA link 61"), OLD.csca_key, name("not the anchor"), ca=True)
    other_key = cert(k, name("CSCA link 62"), ROGUE, OLD.csca.subject, ca=True)
    other_aki = cert(
        k, name("CSCA link 63"), OLD.csca_key, OLD.csca.subject, ca=True, aki=b"\x01" * 20
    )
    store = TrustStore([anchor, other_name, other_key, other_aki, good])
    assert {c.subject.human_friendly for c in store.trusted} == {
        anchor.subject.human_friendly,
        good.subject.human_friendly,
    }


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_rollover_of_any_length_and_order_is_followed_to_the_anchor(
    order: tuple[int, ...],
) -> None:
    """OLD → MID → NEW by link certificates, given in any order: NEW's DS chains to OLD."""
    links = [asn1(OLD.csca), link_cert(OLD, MID), link_cert(MID, NEW)]
    store = TrustStore([links[i] for i in order])
    chain = store.chain(_ds_of(NEW))
    assert chain.status is P
    assert [c.dump() for c in chain.path] == [
        asn1(NEW.ds).dump(), links[2].dump(), links[1].dump(), links[0].dump()
    ]  # fmt: skip
    assert chain.csca is not None and chain.csca.dump() == links[0].dump()
    assert chain.reason == f"issued by trusted CSCA {links[2].subject.human_friendly}"


def test_a_ds_chains_by_its_issuer_name_and_key_identifier() -> None:
    csca = asn1(OLD.csca)
    store = TrustStore([csca])
    issuer = OLD.csca.subject
    k = key("p256", 5064)
    cases = {
        # right name, right key, no authority key identifier: chains
        "no aki": (cert(k, name("DS a"), OLD.csca_key, issuer, ca=False, aki=None), P, None),
        # right key, another issuer name: not chained
        "other name": (
            cert(k, name("DS b"), OLD.csca_key, name("CSCA elsewhere"), ca=False),
            F,
            "no trusted CSCA is named Common Name: CSCA elsewhere, Organization: idkarta test, "
            "Country: UZ (issuer of the DS)",
        ),
        # right key, key identifier of another key: not chained
        "other aki": (
            cert(k, name("DS c"), OLD.csca_key, issuer, ca=False, aki=b"\x02" * 20),
            F,
            f"no trusted CSCA is named {csca.subject.human_friendly} (issuer of the DS)",
        ),
        # right name and key identifier, signed by another key
        "forged": (
            cert(k, name("DS d"), ROGUE, issuer, ca=False, aki=csca.key_identifier),
            F,
            f"the DS signature does not verify with the trusted CSCA "
            f"{csca.subject.human_friendly} (key identifier matched 1 certificate(s))",
        ),
    }
    for what, (ds, status, reason) in cases.items():
        chain = store.chain(ds)
        assert chain.status is status, what
        if reason is not None:
            assert chain.reason == reason, what
            assert chain.path == () and chain.csca is None, what


def test_a_csca_without_key_identifier_is_matched_by_name() -> None:
    k = key("p256", 5065)
    csca = cert(k, name("CSCA no ski"), k, name("CSCA no ski"), ca=True, ski=False, aki=None)
    ds = cert(key("p256", 5066), name("DS of no ski"), k, name("CSCA no ski"), ca=False)
    assert ds.authority_key_identifier is not None and csca.key_identifier is None
    assert TrustStore([csca]).chain(ds).status is P


def test_the_chain_of_a_ds_is_built_once_and_reused() -> None:
    store = TrustStore([asn1(OLD.csca)])
    first = store.chain(_ds_of(OLD))
    assert store.chain(_ds_of(OLD)) is first
    assert store.chain(_ds_of(OTHER)) is not first


@settings(max_examples=30)
@given(st.lists(st.sampled_from([OLD, MID, NEW, OTHER]), min_size=1, max_size=8))
def test_no_verdict_leaks_from_one_ds_to_another(order: list[PKI]) -> None:
    """A TrustStore never passes a DS that does not chain to one of its anchors, and never
    fails one that does, whatever it verified before."""
    store = TrustStore([asn1(OLD.csca), asn1(MID.csca)])
    for pki in order:
        chain = store.chain(_ds_of(pki))
        assert (chain.status is P) == (pki in (OLD, MID)), pki.slot


def test_the_path_is_capped_at_16_certificates() -> None:
    """A guard against loops: 17 successive CSCA keys give a path of 16 CA certificates."""
    pkis = [PKI(slot=1000 + 3 * i) for i in range(18)]  # keys of distinct slots
    links = [asn1(pkis[0].csca)] + [link_cert(a, b) for a, b in itertools.pairwise(pkis)]
    chain = TrustStore(links).chain(_ds_of(pkis[-1]))
    assert chain.status is P
    assert len(chain.path) == 17  # the DS and 16 CSCA certificates
    assert chain.path[-1].dump() == links[-16].dump()


# -- CRLs ------------------------------------------------------------------------------------


def _link_store(*crls: acrl.CertificateList) -> tuple[TrustStore, Chain]:
    store = TrustStore([asn1(OLD.csca), LINK], crls=crls)
    chain = store.chain(_ds_of(NEW))
    assert chain.status is P and len(chain.path) == 3
    return store, chain


def test_the_crl_of_the_ds_issuer_is_checked_with_the_key_that_issued_the_ds() -> None:
    """DS under NEW, NEW linked from OLD: NEW's CRL verifies with NEW's key (the link)."""
    store, chain = _link_store(crl_of(OTHER), crl_of(NEW))
    assert store.revocation(chain, VERIFY_AT) == _result(P, "DS and CSCA not on the CSCA's CRL")
    store, chain = _link_store(crl_of(NEW, signing_key=OLD.csca_key))
    assert store.revocation(chain, VERIFY_AT) == _result(
        F, f"the CRL of {_name(NEW)} does not verify with the CSCA"
    )


def test_no_crl_from_the_ds_issuer_is_not_checked_whatever_else_is_given() -> None:
    store, chain = _link_store(crl_of(OLD), crl_of(OTHER))
    assert store.revocation(chain, VERIFY_AT) == _result(
        N, "no CRL from the DS certificate's issuer"
    )
    store = TrustStore([asn1(OLD.csca)], crls=[crl_of(OTHER)])
    assert store.revocation(store.chain(_ds_of(OLD)), VERIFY_AT) == _result(
        N, "no CRL from the DS certificate's issuer"
    )


def test_a_forged_crl_of_the_ds_issuer_fails_and_of_a_higher_csca_is_skipped() -> None:
    forged_new = crl_of(NEW, signing_key=ROGUE)
    store, chain = _link_store(forged_new, crl_of(NEW))
    assert store.revocation(chain, VERIFY_AT) == _result(
        F, f"the CRL of {_name(NEW)} does not verify with the CSCA"
    )
    # OLD's forged CRL is skipped; OLD's genuine one, listed after it, still revokes the link
    link_serial = LINK.serial_number
    forged_old = crl_of(OLD, (), signing_key=ROGUE)
    revoking = crl_of(OLD, (link_serial,))
    store, chain = _link_store(crl_of(NEW), forged_old, revoking)
    subject = chain.path[1].subject.human_friendly
    assert store.revocation(chain, VERIFY_AT) == _result(
        F, f"CSCA certificate {subject} serial {link_serial} revoked on 2024-06-01"
    )


def test_a_crl_whose_algorithm_cannot_be_checked_is_never_counted_as_verified() -> None:
    pki = OLD
    odd = unsupported_algorithm(crl_of(pki))
    store = TrustStore([asn1(pki.csca)], crls=[odd])
    assert store.crl_verified(odd, asn1(pki.csca)) is False
    assert store.revocation(store.chain(_ds_of(pki)), VERIFY_AT) == _result(
        F, f"the CRL of {_name(pki)} does not verify with the CSCA"
    )


def test_revocation_of_ds_or_csca_names_the_role_and_serial() -> None:
    pki, csca = OLD, asn1(OLD.csca)
    ds = _ds_of(pki)
    for revoked, role, who in ((ds, "DS", ds), (csca, "CSCA", csca)):
        store = TrustStore([csca], crls=[crl_of(pki, (revoked.serial_number,))])  # type: ignore[attr-defined]
        assert store.revocation(store.chain(ds), VERIFY_AT) == _result(
            F,
            f"{role} certificate {who.subject.human_friendly} serial "  # type: ignore[attr-defined]
            f"{who.serial_number} revoked on 2024-06-01",  # type: ignore[attr-defined]
        )
    other_serial = TrustStore([csca], crls=[crl_of(pki, (12345,))])
    assert other_serial.revocation(other_serial.chain(ds), VERIFY_AT) == _result(
        P, "DS and CSCA not on the CSCA's CRL"
    )


def test_a_crl_past_its_next_update_passes_with_a_note() -> None:
    pki, csca = OLD, asn1(OLD.csca)
    store = TrustStore([csca], crls=[crl_of(pki), crl_of(pki)])
    chain = store.chain(_ds_of(pki))
    assert store.revocation(chain, NEXT_UPDATE) == _result(
        P, "DS and CSCA not on the CSCA's CRL"
    )
    later = NEXT_UPDATE + dt.timedelta(seconds=1)
    assert store.revocation(chain, later) == _result(
        P, "DS and CSCA not on the CSCA's CRL (CRL past its nextUpdate 2025-12-01)"
    )
    earlier = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    older = acrl.CertificateList.load(crl_der(pki.csca.subject, pki.csca_key, next_update=earlier))
    store = TrustStore([csca], crls=[crl_of(pki), older])
    assert store.revocation(store.chain(_ds_of(pki)), later) == _result(
        P,
        "DS and CSCA not on the CSCA's CRL (CRL past its nextUpdate 2025-11-01; "
        "CRL past its nextUpdate 2025-12-01)",
    )


def test_revocation_without_crls_or_trusted_chain_is_not_checked() -> None:
    store = TrustStore([asn1(OLD.csca)])
    assert store.revocation(store.chain(_ds_of(OLD)), VERIFY_AT) == _result(N, "no CRL given")
    store = TrustStore([asn1(OLD.csca)], crls=[crl_of(OTHER)])
    assert store.revocation(store.chain(_ds_of(OTHER)), VERIFY_AT) == _result(
        N, "no trusted chain to check CRLs against"
    )


@settings(max_examples=25)
@given(st.lists(st.tuples(st.sampled_from("gfo"), st.sampled_from([0, 1])), max_size=12))
def test_crl_verified_answers_for_this_crl_and_this_issuer_only(
    calls: list[tuple[str, int]],
) -> None:
    """Genuine, forged (same issuer name, another key) and other CSCAs' CRLs, freshly loaded
    each time and asked about in any order: each answer is that CRL's own."""
    cscas = [asn1(OLD.csca), asn1(OTHER.csca)]
    raw = {
        "g": crl_der(OLD.csca.subject, OLD.csca_key),
        "f": crl_der(OLD.csca.subject, ROGUE),
        "o": crl_der(OTHER.csca.subject, OTHER.csca_key),
    }
    store = TrustStore(cscas)
    kept = {k: acrl.CertificateList.load(v) for k, v in raw.items()}
    for which, issuer in calls:
        expected = (which, issuer) in (("g", 0), ("o", 1))
        assert store.crl_verified(kept[which], cscas[issuer]) is expected
        fresh = acrl.CertificateList.load(raw[which])
        assert store.crl_verified(fresh, cscas[issuer]) is expected


def _result(status: Status, reason: str) -> object:
    from idcard.verify.report import CheckResult

    return CheckResult("revocation", status, reason)


def _name(pki: PKI) -> str:
    return str(asn1(pki.csca).subject.human_friendly)
