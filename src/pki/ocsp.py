"""OCSP responder logic of the e-signature CA (RFC 6960).

The CA key may be on a PKCS#11 token, and cryptography's ``OCSPResponseBuilder.sign`` needs a
private key object, so the ``BasicOCSPResponse`` is assembled with asn1crypto and only the
signature over ``ResponseData`` comes from the CA's :class:`~pki.keys.Signer` (STYLE.md §5).
The CA signs its own responses (RFC 6960 §4.2.2.2: the CA that issued the certificate); the
responder is named by key hash. Statuses: ``good``, ``revoked`` (time and reason), ``unknown``
for serials the CA never issued or a CertID naming another issuer. A request nonce
(RFC 8954 / RFC 6960 §4.4.1) is echoed. A request that does not parse gets
``malformedRequest``; an internal failure gets ``internalError`` (§4.2.1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asn1crypto import core, ocsp, x509

from pki.ca import checked_signature
from pki.errors import PKIError
from pki.esign import CertificateStatus, EsignCA

__all__ = ["OCSPResponder", "SingleStatus", "error_response", "parse_response"]

_HASHES = ("sha1", "sha256", "sha384", "sha512")


def error_response(status: str) -> bytes:
    """An unsigned OCSPResponse with only ``responseStatus`` (RFC 6960 §4.2.1)."""
    return bytes(ocsp.OCSPResponse({"response_status": status}).dump())


@dataclass(frozen=True, slots=True)
class SingleStatus:
    """One answer of a parsed response (for tests and clients)."""

    serial: int
    status: str
    revoked_at: dt.datetime | None = None
    reason: str | None = None


class OCSPResponder:
    """Answers OCSP requests about the certificates of one :class:`EsignCA`."""

    def __init__(
        self,
        ca: EsignCA,
        *,
        validity: dt.timedelta = dt.timedelta(hours=12),
        clock: Callable[[], dt.datetime] | None = None,
        include_certificate: bool = True,
    ) -> None:
        self.ca = ca
        self.validity = validity
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.include_certificate = include_certificate
        tbs = ca.certificate["tbs_certificate"]
        self._issuer_name = bytes(tbs["subject"].dump())
        self._issuer_key = bytes(tbs["subject_public_key_info"]["public_key"].contents[1:])

    def _matches_issuer(self, cert_id: ocsp.CertId) -> bool:
        name = cert_id["hash_algorithm"]["algorithm"].native
        if name not in _HASHES:
            return False
        return bool(
            cert_id["issuer_name_hash"].native == hashlib.new(name, self._issuer_name).digest()
            and cert_id["issuer_key_hash"].native
            == hashlib.new(name, self._issuer_key).digest()
        )

    def _status(self, cert_id: ocsp.CertId) -> CertificateStatus:
        if not self._matches_issuer(cert_id):
            return CertificateStatus("unknown")
        found = self.ca.register.get(int(cert_id["serial_number"].native))
        if found is None or found.kind == "ca":
            return CertificateStatus("unknown")
        if found.revoked_at is not None:
            return CertificateStatus("revoked", found.revoked_at, found.reason)
        return CertificateStatus("good")

    def respond(self, request_der: bytes) -> bytes:
        """DER OCSPResponse for DER OCSPRequest ``request_der`` (never raises on bad input)."""
        try:
            request = ocsp.OCSPRequest.load(request_der)
            tbs = request["tbs_request"]
            cert_ids = [r["req_cert"] for r in tbs["request_list"]]
            for cid in cert_ids:
                cid.native  # noqa: B018 - parse fully now
            nonce = request.nonce_value
            if not cert_ids:
                return error_response("malformed_request")
        except (ValueError, TypeError, KeyError):
            return error_response("malformed_request")
        try:
            return self._sign([(cid, self._status(cid)) for cid in cert_ids], nonce)
        except PKIError:
            return error_response("internal_error")

    def _sign(
        self,
        answers: list[tuple[ocsp.CertId, CertificateStatus]],
        nonce: core.OctetString | None,
    ) -> bytes:
        now = self._clock().astimezone(dt.UTC).replace(microsecond=0)
        singles = []
        for cid, st in answers:
            status: Any
            if st.status == "good":
                status = ocsp.CertStatus(name="good", value=core.Null())
            elif st.status == "revoked":
                assert st.revoked_at is not None
                info: dict[str, Any] = {"revocation_time": st.revoked_at}
                if st.reason and st.reason != "unspecified":
                    info["revocation_reason"] = st.reason
                status = ocsp.CertStatus(name="revoked", value=ocsp.RevokedInfo(info))
            else:
                status = ocsp.CertStatus(name="unknown", value=core.Null())
            singles.append(
                {
                    "cert_id": cid,
                    "cert_status": status,
                    "this_update": now,
                    "next_update": now + self.validity,
                }
            )
        data: dict[str, Any] = {
            "responder_id": ocsp.ResponderId(name="by_key", value=self.ca.key_id),
            "produced_at": now,
            "responses": singles,
        }
        if nonce is not None:
            data["response_extensions"] = [
                {"extn_id": "nonce", "critical": False, "extn_value": nonce}
            ]
        response_data = ocsp.ResponseData(data)
        tbs = bytes(response_data.dump())
        alg = self.ca.algorithm
        signature = checked_signature(tbs, self.ca.signer, alg)
        basic: dict[str, Any] = {
            "tbs_response_data": response_data,
            "signature_algorithm": alg.signed_digest_algorithm(),
            "signature": signature,
        }
        if self.include_certificate:
            basic["certs"] = [self.ca.certificate]
        return bytes(
            ocsp.OCSPResponse(
                {
                    "response_status": "successful",
                    "response_bytes": {
                        "response_type": "basic_ocsp_response",
                        "response": ocsp.BasicOCSPResponse(basic),
                    },
                }
            ).dump()
        )


def parse_response(der: bytes) -> list[SingleStatus]:
    """The statuses of a DER OCSPResponse (no signature check; for tests and tooling)."""
    response = ocsp.OCSPResponse.load(der)
    if response["response_status"].native != "successful":
        raise PKIError(f"OCSP response status {response['response_status'].native}")
    basic = response.basic_ocsp_response
    out = []
    for single in basic["tbs_response_data"]["responses"]:
        status = single["cert_status"]
        serial = int(single["cert_id"]["serial_number"].native)
        if status.name == "revoked":
            out.append(
                SingleStatus(
                    serial,
                    "revoked",
                    status.chosen["revocation_time"].native,
                    status.chosen["revocation_reason"].native,
                )
            )
        else:
            out.append(SingleStatus(serial, status.name))
    return out


def request_for(certificate: x509.Certificate, issuer: x509.Certificate, nonce: bytes) -> bytes:
    """A DER OCSPRequest (SHA-1 CertID, as most clients send) with ``nonce``; for tests."""
    cid = {
        "hash_algorithm": {"algorithm": "sha1"},
        # SHA-1 CertID: RFC 6960 §4.1.1 / RFC 5019 §2.1.1 (an identifier, not a signature)
        "issuer_name_hash": hashlib.sha1(issuer.subject.dump()).digest(),  # noqa: S324
        "issuer_key_hash": hashlib.sha1(  # noqa: S324
            issuer.public_key["public_key"].contents[1:]
        ).digest(),
        "serial_number": certificate.serial_number,
    }
    return bytes(
        ocsp.OCSPRequest(
            {
                "tbs_request": {
                    "request_list": [{"req_cert": cid}],
                    "request_extensions": [
                        {"extn_id": "nonce", "critical": False, "extn_value": nonce}
                    ],
                }
            }
        ).dump()
    )
