"""A replacement or restoration retires the previous card and revokes its e-signature certificate
(issue 10, card registry): the status and the queued revocation in the new card's transaction,
applied to a real :class:`pki.esign.EsignCA` whose CRL and OCSP answer then say revoked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import crl
from sqlalchemy import select, update
from tests.station.center.kit import (
    ALISHER_PINFL,
    NOW,
    issue_esign,
    make_esign_ca,
    person,
    request,
    setup_center,
    sha256_hex,
)

from pki.esign import EsignCA
from pki.esign_register import IssuedCertificate
from pki.ocsp import OCSPResponder, parse_response, request_for
from station.api import create_app
from station.center import (
    CardNumbersExhausted,
    Conflict,
    apply_revocations,
    card_info,
    center_status,
    esign_revoker,
    receive_request,
    record_card_status,
    record_esign,
)
from station.client import CenterClient
from station.db import Database
from station.db.center_tables import CardSeries, Revocation
from station.domain.cards import CardStatus
from station.domain.errors import TransitionError
from station.domain.grounds import Ground
from station.domain.person import PersonName

LATER = NOW + dt.timedelta(days=40)


@pytest.fixture
def ca(tmp_path: Path) -> EsignCA:
    return make_esign_ca(tmp_path)


@pytest.fixture
def center(center_db: Database) -> Database:
    setup_center(center_db)
    return center_db


def _issued_card(db: Database, ca: EsignCA) -> tuple[str, IssuedCertificate]:
    """Alisher's first card, with its e-signature certificate (decree §5д), handed over."""
    answer = receive_request(db, request(person(pinfl=ALISHER_PINFL), ground=Ground.TURNED_16),
                             now=NOW)  # fmt: skip
    cert = issue_esign(ca, pinfl=answer.pinfl, card=answer.card, expiry=answer.expiry_date)
    record_esign(db, answer.card, serial=cert.serial, fingerprint=sha256_hex(cert.der))
    for status in (CardStatus.PERSONALIZED, CardStatus.VERIFIED, CardStatus.HANDED_OVER):
        record_card_status(db, answer.card, status, operator="op1", now=NOW)
    return answer.card, cert


def _crl_entries(ca: EsignCA) -> dict[int, str | None]:
    cert_list: crl.CertificateList = ca.issue_crl(now=LATER)
    return {
        int(e["user_certificate"].native): e.crl_reason_value.native if e.crl_reason_value else None
        for e in cert_list["tbs_cert_list"]["revoked_certificates"]
    }


def _ocsp(ca: EsignCA, cert: IssuedCertificate) -> tuple[str, str | None]:
    responder = OCSPResponder(ca, clock=lambda: LATER)
    der = responder.respond(request_for(cert.certificate, ca.certificate, b"n"))
    [single] = parse_response(der)
    assert single.serial == cert.serial
    return single.status, single.reason


def _pending(db: Database) -> list[Revocation]:
    with db.session(write=False) as s:
        return list(s.scalars(select(Revocation).where(Revocation.applied_at.is_(None))))


def test_lost_card_replacement_revokes_the_certificate(center: Database, ca: EsignCA) -> None:
    # scheme, lines 178-180 (stage 5): "ID-kartani tiklash yoki almashtirish uchun … ID-karta
    # yo‘qotib qo‘yilganda" — restoring a lost card; the lost card's key is compromised.
    old, cert = _issued_card(center, ca)
    assert _ocsp(ca, cert) == ("good", None)
    answer = receive_request(
        center, request(person(pinfl=ALISHER_PINFL), ground=Ground.LOST, previous_card=old),
        now=NOW,
    )
    assert (answer.previous_card, answer.previous_card_status) == (old, CardStatus.LOST)
    assert answer.card == "AD0000002"
    assert card_info(center, old).status is CardStatus.LOST
    assert card_info(center, answer.card).previous_card == old
    # committed with the new card, not yet at the CA
    [row] = _pending(center)
    assert (int(row.esign_serial), row.reason) == (cert.serial, "key_compromise")
    assert cert.serial not in _crl_entries(ca)
    assert apply_revocations(center, esign_revoker(ca), clock=lambda: LATER) == 1
    assert _crl_entries(ca) == {cert.serial: "key_compromise"}
    assert _ocsp(ca, cert) == ("revoked", "key_compromise")
    assert _pending(center) == []
    assert apply_revocations(center, esign_revoker(ca), clock=lambda: LATER) == 0  # idempotent


def test_unusable_card_replacement_supersedes_the_certificate(
    center: Database, ca: EsignCA
) -> None:
    # scheme, line 182: "ID-karta yoki chip yaroqsiz holga kelganda" → the old card is replaced
    old, cert = _issued_card(center, ca)
    answer = receive_request(
        center, request(person(pinfl=ALISHER_PINFL), ground=Ground.UNUSABLE, previous_card=old),
        now=NOW,
    )
    assert answer.previous_card_status is CardStatus.REPLACED
    apply_revocations(center, esign_revoker(ca))
    assert _ocsp(ca, cert) == ("revoked", "superseded")


def test_the_previous_card_and_the_new_one_are_one_transaction(
    center: Database, ca: EsignCA
) -> None:
    old, _ = _issued_card(center, ca)
    with center.session() as s:  # no card number left: the new card cannot be allocated
        s.execute(update(CardSeries).values(active=False))
    lost = request(person(pinfl=ALISHER_PINFL), ground=Ground.LOST, previous_card=old)
    with pytest.raises(CardNumbersExhausted):
        receive_request(center, lost, now=NOW)
    assert card_info(center, old).status is CardStatus.HANDED_OVER
    assert _pending(center) == []


def test_a_crash_between_commit_and_apply_leaves_it_pending(center: Database, ca: EsignCA) -> None:
    old, cert = _issued_card(center, ca)
    receive_request(
        center, request(person(pinfl=ALISHER_PINFL), ground=Ground.LOST, previous_card=old),
        now=NOW,
    )  # committed; the process "dies" before applying
    assert center_status(center).pending_revocations == 1

    def ca_down(serial: int, reason: str) -> None:
        raise OSError("e-signature CA unreachable")

    assert apply_revocations(center, ca_down) == 0
    [row] = _pending(center)
    assert row.last_error == "OSError: e-signature CA unreachable"
    assert _ocsp(ca, cert) == ("good", None)

    real = esign_revoker(ca)

    def revoked_then_crash(serial: int, reason: str) -> None:
        real(serial, reason)  # the CA revoked it …
        raise KeyboardInterrupt  # … and the Center died before recording that

    with pytest.raises(KeyboardInterrupt):
        apply_revocations(center, revoked_then_crash)
    assert len(_pending(center)) == 1
    assert _ocsp(ca, cert) == ("revoked", "key_compromise")
    assert apply_revocations(center, real) == 1  # the next call applies it again, harmlessly
    assert _pending(center) == [] and center_status(center).pending_revocations == 0


def test_a_card_reported_lost_queues_its_revocation(center: Database, ca: EsignCA) -> None:
    card, cert = _issued_card(center, ca)
    record_card_status(center, card, CardStatus.STOLEN, operator="op1", reason="police report",
                       now=NOW)  # fmt: skip
    apply_revocations(center, esign_revoker(ca))
    assert _ocsp(ca, cert) == ("revoked", "key_compromise")
    with pytest.raises(TransitionError):  # stolen is final
        record_card_status(center, card, CardStatus.HANDED_OVER, operator="op1", now=NOW)


def test_replacing_someone_elses_or_a_retired_card_is_refused(
    center: Database, ca: EsignCA
) -> None:
    old, _ = _issued_card(center, ca)
    stranger = person(given_name=PersonName("Bobur", ""))
    with pytest.raises(Conflict) as info:
        receive_request(center, request(stranger, ground=Ground.LOST, previous_card=old), now=NOW)
    assert info.value.field == "previous_card"
    receive_request(center, request(person(pinfl=ALISHER_PINFL), ground=Ground.LOST,
                                    previous_card=old), now=NOW)  # fmt: skip
    with pytest.raises(TransitionError) as refused:  # a lost card cannot be replaced again
        receive_request(center, request(person(pinfl=ALISHER_PINFL), ground=Ground.UNUSABLE,
                                        previous_card=old), now=NOW)  # fmt: skip
    assert refused.value.field == "previous_card"


@pytest.fixture
def api_ca(center: Database, ca: EsignCA) -> Iterator[tuple[CenterClient, list[str]]]:
    """A client of the API with the CA's revocation wired in; ``failures`` makes it fail."""
    failures: list[str] = []
    real = esign_revoker(ca)

    def revoke(serial: int, reason: str) -> None:
        if failures:
            raise OSError(failures.pop())
        real(serial, reason)

    with CenterClient.in_process(create_app(center, revoke=revoke, clock=lambda: NOW)) as c:
        yield c, failures


def test_the_api_applies_revocations_and_retries_on_the_next_call(
    center: Database, ca: EsignCA, api_ca: tuple[CenterClient, list[str]]
) -> None:
    client, failures = api_ca
    old, cert = _issued_card(center, ca)
    failures.append("CA down")
    answer = client.send_request(
        request(person(pinfl=ALISHER_PINFL), ground=Ground.LOST, previous_card=old)
    )
    assert answer.previous_card_status is CardStatus.LOST  # answered although the CA failed
    assert _ocsp(ca, cert) == ("good", None)
    assert client.center_status().pending_revocations == 1
    client.record_card_status(answer.card, CardStatus.PERSONALIZED, operator="op1")
    assert _ocsp(ca, cert) == ("revoked", "key_compromise")
    assert client.center_status().pending_revocations == 0


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (CardStatus.LOST, "key_compromise"),
        (CardStatus.STOLEN, "key_compromise"),
        (CardStatus.SEIZED, "key_compromise"),
        (CardStatus.REPLACED, "superseded"),
        (CardStatus.CANCELLED, "cessation_of_operation"),
        (CardStatus.EXPIRED, None),  # the certificate ends with the card: nothing to revoke
    ],
)
def test_which_end_of_a_card_revokes_its_certificate(
    center: Database, ca: EsignCA, status: CardStatus, reason: str | None
) -> None:
    card, cert = _issued_card(center, ca)
    info = record_card_status(center, card, status, operator="op2", reason="report 7", now=NOW)
    assert (info.history[-1].status, info.history[-1].by, info.history[-1].reason) == (
        status, "op2", "report 7"
    )
    pending = _pending(center)
    assert [(int(r.esign_serial), r.reason) for r in pending] == (
        [] if reason is None else [(cert.serial, reason)]
    )
    assert apply_revocations(center, esign_revoker(ca)) == len(pending)
    assert _ocsp(ca, cert) == (("good", None) if reason is None else ("revoked", reason))


def test_a_serial_the_ca_never_issued_stays_pending_with_the_error(
    center: Database, ca: EsignCA
) -> None:
    answer = receive_request(center, request(person(), ground=Ground.TURNED_16), now=NOW)
    record_esign(center, answer.card, serial=424242, fingerprint="0a" * 32)
    for status in (CardStatus.PERSONALIZED, CardStatus.VERIFIED, CardStatus.HANDED_OVER,
                   CardStatus.LOST):  # fmt: skip
        record_card_status(center, answer.card, status, operator="op1", now=NOW)
    assert apply_revocations(center, esign_revoker(ca)) == 0
    [row] = _pending(center)
    assert row.last_error is not None and row.last_error.startswith("IssuanceError: ")
    assert "67932" in row.last_error  # the serial in hex, as the CA names it
    real = _issued_card(center, ca)[1].serial
    with center.session() as s:  # a serial the CA knows (say, corrected by an operator): applied
        s.execute(update(Revocation).values(esign_serial=str(real)))
    assert apply_revocations(center, esign_revoker(ca), clock=lambda: LATER) == 1
    with center.session(write=False) as s:
        done = s.scalars(select(Revocation)).all()
    assert [(r.applied_at, r.last_error) for r in done] == [(LATER, None)]
