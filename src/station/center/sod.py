"""The Center signs a card's EF.SOD (issue 11; STATION.md: "Document Signer (HSM): signs EF.SOD").

A collection point builds every file of the chip but EF.SOD (:func:`station.point.lds.build_lds`)
and sends only the data group hashes: never the data groups, never the biometrics, and it never
holds the Document Signer's key. :func:`sign_sod` checks the card in the registry (known, of that
point, not yet verified with other hashes, not handed over or ended), has the hashes signed by a
Document Signer valid now for the ID card's document code (:class:`DocumentSigning`: the PKI
folder's DS, its key in the HSM or the file key store) and records the SOD in the registry, all
in one transaction. The same hashes again return the stored SOD (a retried call, a resumed job);
new hashes for a card still being personalized (a new blank, new chip keys) are signed anew.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from idcard.errors import IdkartaError
from idcard.lds.sod import SODParts
from pki.sod import DATA_GROUP_HASHES
from station.center.errors import Conflict, NotFound, SignerUnavailable
from station.db import Database
from station.db.center_tables import Card, CardSOD
from station.domain.cards import CardStatus, format_card_number, parse_card_number
from station.domain.errors import DomainError
from station.errors import StationError

__all__ = [
    "DOCUMENT_CODE",
    "MANDATORY_GROUPS",
    "DocumentSigning",
    "SODRecord",
    "SignedSOD",
    "card_sod",
    "check_hashes",
    "hashes_digest",
    "sign_sod",
]

DOCUMENT_CODE = "IU"
"""The MRZ document code of the Uzbek ID card (idcard.mrz.uzbek): the Document Signer must list
it (or a prefix of it) in its documentTypeList (9303-12 §7.1.1.3)."""

MANDATORY_GROUPS = (1, 2)
"""DG1 (MRZ) and DG2 (face) are mandatory in every eMRTD (ICAO 9303-10 §4.6, Table 3)."""

_SIGNABLE = frozenset({CardStatus.ALLOCATED, CardStatus.PERSONALIZED})
"""A card in these statuses may get a SOD over new hashes (a new blank after a spoiled one)."""
_REPEATABLE = _SIGNABLE | {CardStatus.VERIFIED}
"""…and in these the SOD already signed for the same hashes is returned again."""


@dataclass(frozen=True, slots=True)
class SignedSOD:
    """What a Document Signer returns: the EF.SOD file and its certificate's serial."""

    sod: bytes = field(repr=False)
    ds_serial: int


class DocumentSigning(Protocol):
    """The Center's Document Signer: signs data group hashes into an EF.SOD.

    ``sign`` chooses a DS valid at ``now`` for ``document_code`` (not revoked, within its
    certificate's and key's usage periods) or raises an :class:`~idcard.errors.IdkartaError`
    saying why none may sign."""

    def sign(
        self, hashes: Mapping[int, bytes], algorithm: str, *, document_code: str, now: datetime
    ) -> SignedSOD: ...


@dataclass(frozen=True, slots=True)
class SODRecord:
    """A card's EF.SOD as the registry holds it."""

    card: str
    point: str
    hash_algorithm: str
    hashes: Mapping[int, bytes]
    sod: bytes = field(repr=False)
    ds_serial: int
    signed_at: datetime


def check_hashes(algorithm: str, hashes: Mapping[int, bytes]) -> dict[int, bytes]:
    """``hashes`` as a plain dict if they can be signed, else :class:`DomainError` naming each
    bad one (``algorithm``, ``hashes``, ``hashes.N``): a hash algorithm of 9303-12 §5, data group
    numbers 1–16 with DG1 and DG2 present, each digest exactly the algorithm's length."""
    if algorithm not in DATA_GROUP_HASHES:
        known = ", ".join(DATA_GROUP_HASHES)
        raise DomainError("algorithm", f"{algorithm!r} is not one of {known}")
    size = hashlib.new(algorithm).digest_size
    problems: list[tuple[str, str]] = []
    out: dict[int, bytes] = {}
    for number, digest in hashes.items():
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 16:
            problems.append((f"hashes.{number}", "a data group number is 1 to 16"))
        elif not isinstance(digest, bytes) or len(digest) != size:
            problems.append((f"hashes.{number}", f"not a {algorithm} digest ({size} bytes)"))
        else:
            out[number] = digest
    for number in MANDATORY_GROUPS:
        if number not in hashes:
            problems.append((f"hashes.{number}", f"DG{number} is mandatory (ICAO 9303-10 §4.6)"))
    if problems:
        raise DomainError.from_problems(problems)
    return dict(sorted(out.items()))


def hashes_digest(algorithm: str, hashes: Mapping[int, bytes]) -> str:
    """SHA-256 (hex) of the algorithm and the sorted (number, digest) pairs: equal for the same
    hashes sent in any order."""
    text = algorithm + "".join(f";{n}={d.hex()}" for n, d in sorted(hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _record(card: Card, row: CardSOD) -> SODRecord:
    return SODRecord(
        card=format_card_number(card.series, card.number),
        point=row.point_code,
        hash_algorithm=row.hash_algorithm,
        hashes={int(n): bytes.fromhex(h) for n, h in json.loads(row.hashes).items()},
        sod=bytes(row.sod),
        ds_serial=int(row.ds_serial),
        signed_at=row.signed_at,
    )


def _card(s: Session, card: str, *, lock: bool) -> Card:
    series, number = parse_card_number(card)
    found = select(Card).where(Card.series == series, Card.number == number)
    row = s.scalars(found.with_for_update() if lock else found).one_or_none()
    if row is None:
        raise NotFound("card", f"card {card} is not in the registry")
    return row


def _signed_hashes(sod: bytes) -> tuple[str, dict[int, bytes]]:
    parts = SODParts.decode(sod)
    return parts.hash_algorithm, dict(parts.data_group_hashes)


def sign_sod(
    db: Database,
    card: str,
    *,
    point: str,
    algorithm: str,
    hashes: Mapping[int, bytes],
    signer: DocumentSigning,
    now: datetime,
) -> SODRecord:
    """Sign ``card``'s EF.SOD over the data group ``hashes`` (``algorithm``: sha256, …) for
    ``point`` and record it in the registry.

    Refused: an unknown card (:class:`NotFound`), another point's card, a card handed over or
    ended, or a verified card with other hashes (:class:`Conflict`), bad hashes
    (:class:`DomainError`); no Document Signer may sign now (:class:`SignerUnavailable`). The
    same hashes again give the stored SOD: the card's row is locked for the transaction, so
    concurrent calls for one card sign one after the other (one row per card and hashes)."""
    if now.tzinfo is None:
        raise StationError("the Center's clock must give an aware datetime (UTC)")
    checked = check_hashes(algorithm, hashes)
    digest = hashes_digest(algorithm, checked)
    with db.session() as s:
        row = _card(s, card, lock=True)
        if row.point_code != point:
            raise Conflict("point", f"card {card} is not a card of point {point}")
        status = CardStatus(row.status)
        known = s.scalars(
            select(CardSOD).where(CardSOD.card_id == row.id,
                                  CardSOD.hashes_digest == digest)
        ).one_or_none()  # fmt: skip
        if known is not None and status in _REPEATABLE:
            return _record(row, known)
        if status not in _SIGNABLE:
            raise Conflict("card", f"card {card} is {status.value}: no EF.SOD is "
                           "signed for it now")  # fmt: skip
        try:
            signed = signer.sign(checked, algorithm, document_code=DOCUMENT_CODE, now=now)
            got_algorithm, got = _signed_hashes(signed.sod)
        except IdkartaError as exc:
            raise SignerUnavailable(f"no EF.SOD signed for card {card}: {exc}") from None
        if (got_algorithm, got) != (algorithm, checked):
            raise SignerUnavailable("the Document Signer's EF.SOD holds other hashes")
        sod_row = CardSOD(
            card_id=row.id, point_code=point, hash_algorithm=algorithm,
            hashes_digest=digest,
            hashes=json.dumps({str(n): d.hex() for n, d in checked.items()}),
            sod=signed.sod, ds_serial=str(signed.ds_serial), signed_at=now,
        )  # fmt: skip
        s.add(sod_row)
        s.flush()
        return _record(row, sod_row)


def card_sod(db: Database, card: str) -> SODRecord | None:
    """The card's newest EF.SOD, or None when none was signed (:class:`NotFound`: no card)."""
    with db.session(write=False) as s:
        row = _card(s, card, lock=False)
        latest = s.scalars(
            select(CardSOD).where(CardSOD.card_id == row.id).order_by(CardSOD.id.desc()).limit(1)
        ).one_or_none()
        return None if latest is None else _record(row, latest)
