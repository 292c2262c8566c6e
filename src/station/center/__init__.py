"""The State Personalization Center's services (scheme, stage 3; decree of 19 January 2026 §6б).

Use cases in :mod:`station.center.service` (one transaction each, keyword-only dependencies),
the request and answer dataclasses in :mod:`station.center.models`, refusals in
:mod:`station.center.errors`. No HTTP here: :mod:`station.api` serves them under ``/v1``.
"""

from station.center.errors import (
    CardNumbersExhausted,
    CenterError,
    CenterUnavailable,
    Conflict,
    NotFound,
    PersonMismatch,
    PINFLExhausted,
    RequestConflict,
    SignerUnavailable,
)
from station.center.models import (
    CardEvent,
    CardInfo,
    CenterAnswer,
    CenterRequest,
    CenterStatus,
    PointInfo,
)
from station.center.service import (
    add_operator,
    apply_revocations,
    card_info,
    center_status,
    esign_revoker,
    open_series,
    person_by_pinfl,
    receive_request,
    record_card_status,
    record_esign,
    register_point,
)
from station.center.sod import DocumentSigning, SignedSOD, SODRecord, card_sod, sign_sod

__all__ = [
    "CardEvent",
    "CardInfo",
    "CardNumbersExhausted",
    "CenterAnswer",
    "CenterError",
    "CenterRequest",
    "CenterStatus",
    "CenterUnavailable",
    "Conflict",
    "DocumentSigning",
    "NotFound",
    "PINFLExhausted",
    "PersonMismatch",
    "PointInfo",
    "RequestConflict",
    "SODRecord",
    "SignedSOD",
    "SignerUnavailable",
    "add_operator",
    "apply_revocations",
    "card_info",
    "card_sod",
    "center_status",
    "esign_revoker",
    "open_series",
    "person_by_pinfl",
    "receive_request",
    "record_card_status",
    "record_esign",
    "register_point",
    "sign_sod",
]
