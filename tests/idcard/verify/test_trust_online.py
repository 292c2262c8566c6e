"""``verify --online``: the CSCA's CRL fetched from the DS certificate's CRL distribution point
(served on 127.0.0.1), fetched once per URL, and every way it can fail to be had giving
revocation NOT CHECKED with the reason, never a pass."""

from __future__ import annotations

import datetime as dt

import pytest
from asn1crypto import crl
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.idcard.verify.online_kit import Site, closed_url, serving
from tests.idcard.verify.pa_pki import PKI, VERIFY_AT, asn1, sample_files, sign_files

from idcard.verify import TrustStore, verify_passive
from idcard.verify.online import MAX_BYTES, Fetcher, FetchError


def _pki_with_cdp(url: str, *, slot: int = 5) -> PKI:
    """A PKI whose DS certificate names ``url`` as its CRL distribution point."""
    pki = PKI(slot=slot)
    point = x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)
    ds = pki.ds
    builder = (x509.CertificateBuilder().subject_name(ds.subject).issuer_name(ds.issuer)
               .public_key(ds.public_key()).serial_number(ds.serial_number)
               .not_valid_before(ds.not_valid_before_utc).not_valid_after(ds.not_valid_after_utc))
    for ext in ds.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    pki.ds = builder.sign(pki.csca_key, hashes.SHA256())  # type: ignore[arg-type]
    return pki


def _revocation(
    pki: PKI, *, fetcher: Fetcher | None, crls: tuple[bytes, ...] = ()
) -> tuple[str, str]:
    trust = TrustStore([asn1(pki.csca)], crls=[crl.CertificateList.load(c) for c in crls],
                       fetcher=fetcher)  # fmt: skip
    report = verify_passive(sign_files(sample_files(), pki), trust, at=VERIFY_AT)
    return report.revocation.status.value, report.revocation.reason


def test_the_crl_is_fetched_from_the_distribution_point_once() -> None:
    with serving(Site()) as site:
        url = f"{site.url}/csca.crl"
        pki = _pki_with_cdp(url)
        site.routes["/csca.crl"] = pki.crl()
        fetcher = Fetcher(timeout=5)
        assert _revocation(pki, fetcher=fetcher) == (
            "pass", f"DS and CSCA not on the CSCA's CRL (CRL fetched from {url})")
        assert _revocation(pki, fetcher=fetcher)[0] == "pass"  # a new store, the same fetcher
        assert site.hits["/csca.crl"] == 1
        # without --online the distribution point is not asked
        assert _revocation(pki, fetcher=None) == ("not-checked", "no CRL given")
        assert site.hits["/csca.crl"] == 1


def test_a_fetched_crl_that_revokes_the_ds_fails() -> None:
    with serving(Site()) as site:
        pki = _pki_with_cdp(f"{site.url}/csca.crl", slot=6)
        site.routes["/csca.crl"] = pki.crl(revoked=(pki.ds.serial_number,))
        status, reason = _revocation(pki, fetcher=Fetcher(timeout=5))
    assert status == "fail"
    assert reason.startswith("DS certificate ") and reason.endswith(
        f"serial {pki.ds.serial_number} revoked on 2024-06-01")


def test_a_fetched_crl_signed_by_another_key_fails() -> None:
    with serving(Site()) as site:
        pki = _pki_with_cdp(f"{site.url}/csca.crl", slot=7)
        site.routes["/csca.crl"] = pki.crl(signer_key=PKI(slot=8).csca_key)
        status, reason = _revocation(pki, fetcher=Fetcher(timeout=5))
    assert status == "fail" and reason.endswith("does not verify with the CSCA")


NO_CRL = "no CRL from the DS certificate's issuer"


def test_an_unreachable_distribution_point_is_not_checked() -> None:
    url = closed_url("/csca.crl")
    status, reason = _revocation(_pki_with_cdp(url), fetcher=Fetcher(timeout=5))
    assert status == "not-checked"
    assert reason.startswith(f"{NO_CRL} (the CRL at {url}: unreachable (")


@pytest.mark.parametrize(("answer", "why"), [
    (404, "HTTP 404 Not Found"),
    (b"not a CRL", "does not parse ("),
])  # fmt: skip
def test_a_distribution_point_without_a_crl_is_not_checked(answer: object, why: str) -> None:
    with serving(Site({"/csca.crl": answer})) as site:  # type: ignore[dict-item]
        status, reason = _revocation(_pki_with_cdp(f"{site.url}/csca.crl"),
                                     fetcher=Fetcher(timeout=5))  # fmt: skip
    assert status == "not-checked" and reason.startswith(f"{NO_CRL} (the CRL at {site.url}/")
    assert why in reason


def test_a_slow_distribution_point_times_out() -> None:
    site = Site(delay=2.0)
    with serving(site) as site:
        site.routes["/csca.crl"] = b""
        status, reason = _revocation(_pki_with_cdp(f"{site.url}/csca.crl"),
                                     fetcher=Fetcher(timeout=0.3))  # fmt: skip
    assert (status, reason) == ("not-checked", f"{NO_CRL} (the CRL at {site.url}/csca.crl: no "
                                "answer within 0.3 s)")


def test_a_ds_without_distribution_point_is_not_checked_online() -> None:
    assert _revocation(PKI(slot=9), fetcher=Fetcher(timeout=5)) == (
        "not-checked", f"{NO_CRL} (the DS certificate names no http(s) CRL distribution point)")


def test_a_given_crl_still_counts_when_the_distribution_point_fails() -> None:
    pki = _pki_with_cdp(closed_url("/csca.crl"), slot=10)
    status, reason = _revocation(pki, fetcher=Fetcher(timeout=5), crls=(pki.crl(),))
    assert (status, reason) == ("pass", "DS and CSCA not on the CSCA's CRL")


def test_the_fetcher_refuses_other_schemes_and_remembers_failures() -> None:
    fetcher = Fetcher(timeout=5)
    with pytest.raises(FetchError) as bad:
        fetcher.get("ldap://directory.example/cn=CSCA")
    assert bad.value.reason == "only http and https URLs are fetched"
    assert str(bad.value) == ("ldap://directory.example/cn=CSCA: only http and https URLs are "
                              "fetched")
    with serving(Site({"/x": 503})) as site:
        for _ in range(3):
            with pytest.raises(FetchError, match="HTTP 503"):
                fetcher.get(f"{site.url}/x")
        assert site.hits["/x"] == 1
        with pytest.raises(FetchError, match="HTTP 503"):
            fetcher.post(f"{site.url}/x", b"q", "application/ocsp-request")
        assert site.hits["/x"] == 2  # a POST is never remembered


def test_the_fetcher_refuses_an_answer_too_large() -> None:
    with serving(Site({"/big": b"\0" * (MAX_BYTES + 1)})) as site, pytest.raises(
            FetchError) as big:  # fmt: skip
        Fetcher(timeout=30).get(f"{site.url}/big")
    assert big.value.reason == f"the answer is larger than {MAX_BYTES} bytes"


def test_dates_in_reasons_are_the_crls() -> None:
    """The nextUpdate note still comes with a fetched CRL (it is past at a later date)."""
    with serving(Site()) as site:
        url = f"{site.url}/csca.crl"
        pki = _pki_with_cdp(url, slot=11)
        site.routes["/csca.crl"] = pki.crl()
        trust = TrustStore([asn1(pki.csca)], fetcher=Fetcher(timeout=5))
        files = sign_files(sample_files(), pki)
        late = verify_passive(files, trust, at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert late.revocation.reason == ("DS and CSCA not on the CSCA's CRL (CRL past its "
                                      f"nextUpdate 2025-12-01; CRL fetched from {url})")


@settings(max_examples=25, deadline=None)
@given(flip=st.integers(min_value=0))
def test_a_fetched_crl_with_any_byte_changed_gives_a_result(flip: int) -> None:
    """A CRL comes from the network: one byte changed, revocation is a result, never an
    exception (and never a pass unless the change left the CRL's signature valid)."""
    with serving(Site()) as site:
        pki = _pki_with_cdp(f"{site.url}/csca.crl", slot=12)
        good = bytearray(pki.crl())
        good[flip % len(good)] ^= 0x5A
        site.routes["/csca.crl"] = bytes(good)
        status, _ = _revocation(pki, fetcher=Fetcher(timeout=5))
    assert status in ("fail", "not-checked")


def test_the_fetcher_gets_and_posts_and_names_the_url() -> None:
    with serving(Site({"/crl": b"crl", "/ocsp": lambda body: body[::-1]})) as site:
        fetcher = Fetcher(timeout=5)
        assert fetcher.get(f"{site.url}/crl") == b"crl"
        assert fetcher.post(f"{site.url}/ocsp", b"abc", "application/ocsp-request") == b"cba"
        assert site.requests == [("GET", "/crl", None),
                                 ("POST", "/ocsp", "application/ocsp-request")]  # fmt: skip
        with pytest.raises(FetchError) as gone:
            fetcher.get(f"{site.url}/none")
    assert (gone.value.url, gone.value.reason) == (f"{site.url}/none", "HTTP 404 Not Found")


def test_the_fetcher_tries_https_and_refuses_a_broken_url() -> None:
    https = closed_url("/x").replace("http://", "HTTPS://")
    with pytest.raises(FetchError) as refused:
        Fetcher(timeout=5).get(https)
    assert (refused.value.url, refused.value.reason) == (
        https, "unreachable ([Errno 111] Connection refused)")
    with pytest.raises(FetchError) as broken:
        Fetcher(timeout=5).get("http://[bad/crl")
    assert (broken.value.url, broken.value.reason) == ("http://[bad/crl",
                                                       "unreachable (Invalid IPv6 URL)")


def test_the_fetcher_names_a_timeout() -> None:
    site = Site(delay=2.0)
    with serving(site) as site:
        site.routes["/slow"] = b"late"
        with pytest.raises(FetchError) as slow:
            Fetcher(timeout=0.3).get(f"{site.url}/slow")
    assert (slow.value.url, slow.value.reason) == (f"{site.url}/slow", "no answer within 0.3 s")


def test_the_fetcher_takes_an_answer_of_the_largest_size() -> None:
    with serving(Site({"/max": b"\0" * MAX_BYTES})) as site:
        assert len(Fetcher(timeout=30).get(f"{site.url}/max")) == MAX_BYTES
