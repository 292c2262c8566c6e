"""The Center's HTTP API, versioned under ``/v1`` (FastAPI).

A front: it parses (pydantic), calls one :mod:`station.center` use case per route and returns
its dataclass as JSON. It never touches the database itself. After a use case that may queue an
e-signature revocation (a replacement, a card lost), the pending revocations are applied through
``revoke`` when one is given; a failure leaves them pending for the next call.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Request

from station.api.auth import check_own, point_of_scope
from station.api.errors import install_error_handlers
from station.api.schemas import (
    AnswerOut,
    CardOut,
    ErrorOut,
    EsignIn,
    PersonIn,
    PointIn,
    PointOut,
    RequestIn,
    SODIn,
    SODOut,
    StatusChangeIn,
    StatusOut,
)
from station.center import service
from station.center import sod as sod_service
from station.center.errors import SignerUnavailable
from station.center.models import CenterRequest, PointInfo
from station.db import Database

__all__ = ["API_VERSION", "create_app", "openapi_document"]

API_VERSION = "1"
log = logging.getLogger(__name__)

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "a served Center: no point client certificate"},
    403: {"model": ErrorOut, "description": "another point's request, card or registration"},
    404: {"model": ErrorOut, "description": "unknown card, person, point or route"},
    409: {"model": ErrorOut, "description": "conflicts with the registry"},
    422: {"model": ErrorOut, "description": "invalid input; `field` names it"},
    503: {"model": ErrorOut, "description": "the database is not reachable"},
}
_CARD = Path(pattern=r"^[A-Z]{2}[0-9]{7}$", description="series and number, AD1234567")
_PINFL = Path(pattern=r"^[0-9]{14}$")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _caller(request: Request) -> str | None:
    """The point whose TLS client certificate the request came with (401 without one), or
    None in process, where the Center is embedded and requires none."""
    return point_of_scope(request.scope) if request.app.state.client_certificates else None


Caller = Annotated[str | None, Depends(_caller)]


def create_app(
    db: Database,
    *,
    revoke: Callable[[int, str], None] | None = None,
    clock: Callable[[], datetime] = _utcnow,
    sod_signer: sod_service.DocumentSigning | None = None,
    client_certificates: bool = False,
) -> FastAPI:
    """The Center's ASGI application over ``db``; ``revoke(serial, reason)`` is the e-signature
    CA's revocation (see :func:`station.center.esign_revoker`), None to leave revocations
    queued for ``idkarta center`` to apply; ``sod_signer`` the Document Signer that signs the
    cards' EF.SOD (:class:`station.folders.pki.PKIDocumentSigner`), None: the route answers 503.

    With ``client_certificates`` (a served Center, :mod:`station.api.auth`) every ``/v1`` route
    requires a point's TLS client certificate (else 401) and a point changes only its own data:
    its requests and registration, the cards issued through it (else 403, nothing changed). It
    reads any card or person: a replacement may be applied for at any point."""
    app = FastAPI(
        title="idkarta Center",
        summary="The State Personalization Center's API for the data-collection points",
        version=API_VERSION,
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.state.client_certificates = client_certificates
    v1 = APIRouter(prefix="/v1", responses=_ERRORS, dependencies=[Depends(_caller)])

    def _apply_revocations() -> None:
        if revoke is None:
            return
        try:
            service.apply_revocations(db, revoke, clock=clock)
        except Exception as exc:
            log.warning("revocations left pending: %s", type(exc).__name__)

    @v1.post("/requests", response_model=AnswerOut, summary="Request a card (scheme, stage 3)")
    def post_request(body: RequestIn, point: Caller) -> dict[str, Any]:
        request = CenterRequest.from_json(body.model_dump(mode="json"))
        check_own(point, request.point, "point")
        answer = service.receive_request(db, request, now=clock())
        _apply_revocations()
        return answer.to_json()

    @v1.get("/cards/{card}", response_model=CardOut, summary="A card of the registry")
    def get_card(card: Annotated[str, _CARD]) -> dict[str, Any]:
        return service.card_info(db, card).to_json()

    @v1.post("/cards/{card}/status", response_model=CardOut, summary="Record a card's status")
    def post_card_status(
        card: Annotated[str, _CARD], body: StatusChangeIn, point: Caller
    ) -> dict[str, Any]:
        if point is not None:
            check_own(point, service.card_info(db, card).point, "card")
        info = service.record_card_status(
            db, card, body.status, operator=body.operator, reason=body.reason, now=clock()
        )
        _apply_revocations()
        return info.to_json()

    @v1.post("/cards/{card}/esign", response_model=CardOut, summary="Record the e-signature")
    def post_card_esign(
        card: Annotated[str, _CARD], body: EsignIn, point: Caller
    ) -> dict[str, Any]:
        if point is not None:
            check_own(point, service.card_info(db, card).point, "card")
        info = service.record_esign(
            db,
            card,
            serial=int(body.serial),
            fingerprint=body.fingerprint,
            oneid_event_id=body.oneid_event_id,
        )
        return info.to_json()

    @v1.post("/cards/{card}/sod", response_model=SODOut, summary="Sign the card's EF.SOD")
    def post_card_sod(card: Annotated[str, _CARD], body: SODIn, point: Caller) -> dict[str, Any]:
        check_own(point, body.point, "point")  # the card's own point is checked by sign_sod
        if sod_signer is None:
            raise SignerUnavailable("no Document Signer is configured at this Center")
        record = sod_service.sign_sod(
            db, card, point=body.point, algorithm=body.algorithm,
            hashes={int(n): bytes.fromhex(h) for n, h in body.hashes.items()},
            signer=sod_signer, now=clock(),
        )  # fmt: skip
        return {"card": record.card, "point": record.point, "algorithm": record.hash_algorithm,
                "ds_serial": str(record.ds_serial), "signed_at": record.signed_at.isoformat(),
                "sod": base64.b64encode(record.sod).decode("ascii")}  # fmt: skip

    @v1.get("/persons/{pinfl}", response_model=PersonIn, summary="A person by PINFL")
    def get_person(pinfl: Annotated[str, _PINFL]) -> dict[str, Any]:
        return service.person_by_pinfl(db, pinfl).to_json()

    @v1.post("/points", response_model=PointOut, status_code=201, summary="Register a point")
    def post_point(body: Annotated[PointIn, Body()], caller_point: Caller) -> dict[str, Any]:
        point = PointInfo.from_json(body.model_dump(mode="json"))
        check_own(caller_point, point.code, "code")
        return service.register_point(
            db, code=point.code, name=point.name, kind=point.kind, place_code=point.place_code,
            now=clock(),
        ).to_json()

    @v1.get("/status", response_model=StatusOut, summary="Counts of the registry")
    def get_status() -> dict[str, Any]:
        return service.center_status(db).to_json()

    app.include_router(v1)
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the ``/v1`` API (``docs/api/center-v1.openapi.json``); the routes
    and schemas do not depend on the database, so none is opened."""
    return create_app(cast(Database, None)).openapi()
