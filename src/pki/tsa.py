"""RFC 3161 time-stamp authority: ``TimeStampReq`` in, ``TimeStampResp`` out.

The ``TSTInfo`` (RFC 3161 §2.4.2) is wrapped in CMS SignedData (RFC 5652) whose signed
attributes carry contentType ``id-ct-TSTInfo``, messageDigest, signingTime and the ESS
signingCertificateV2 (RFC 5816 §2.2.1), signed through the TSA's :class:`~pki.keys.Signer` (its
key may be on a token). The TSA certificate has extKeyUsage ``id-kp-timeStamping`` only,
critical (RFC 3161 §2.3; :meth:`pki.esign.EsignCA.issue_tsa`).

A request that does not parse, or with an unsupported hash, gets status ``rejection`` with the
failure bit (``badDataFormat``, ``badAlg``, ``unacceptedPolicy``) of §2.4.2.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from typing import Any

from asn1crypto import algos, cms, core, tsp, x509

from pki.ca import checked_signature
from pki.errors import PKIError
from pki.keys import SignatureAlgorithm, Signer

__all__ = [
    "ID_IDKARTA_TSA_POLICY",
    "TimeStampAuthority",
    "parse_response",
    "request_for",
    "response_status",
]

ID_IDKARTA_TSA_POLICY = "1.3.6.1.5.5.7.13.2"
"""PLACEHOLDER TSA policy: ``id-TEST-certPolicyTwo`` of RFC 7229 §2 (the IETF test arc)."""

_DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


class _RefusedResp(core.Sequence):  # type: ignore[misc]
    """``TimeStampResp`` whose token is OPTIONAL as in RFC 3161 §2.4.2 (asn1crypto's spec makes
    it mandatory, so refusals are written and read with this one)."""

    _fields = [  # noqa: RUF012 - asn1crypto spec
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def response_status(der: bytes) -> tuple[str, set[str]]:
    """The status and failure bits of a DER TimeStampResp, granted or not."""
    try:
        status = _RefusedResp.load(der)["status"]
        fail = status["fail_info"].native
        return str(status["status"].native), set(fail) if fail else set()
    except (ValueError, TypeError, KeyError) as exc:
        raise PKIError(f"not a time-stamp response: {exc}") from None


def _failure(status: str, failure: str, text: str) -> bytes:
    return bytes(
        _RefusedResp(
            {
                "status": {
                    "status": status,
                    "status_string": [text],
                    "fail_info": tsp.PKIFailureInfo({failure}),
                }
            }
        ).dump()
    )


class TimeStampAuthority:
    """Signs time-stamp tokens with one key and certificate; ``clock`` may be injected."""

    def __init__(
        self,
        certificate: x509.Certificate,
        signer: Signer,
        *,
        chain: tuple[x509.Certificate, ...] = (),
        policy: str = ID_IDKARTA_TSA_POLICY,
        algorithm: SignatureAlgorithm | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.certificate = certificate
        self.signer = signer
        self.chain = chain
        self.policy = policy
        self.algorithm = algorithm or signer.algorithm
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def respond(self, request_der: bytes) -> bytes:
        """DER TimeStampResp for DER TimeStampReq ``request_der`` (never raises on bad input)."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            imprint = request["message_imprint"]
            hash_name = imprint["hash_algorithm"]["algorithm"].native
            hashed = imprint["hashed_message"].native
            policy = request["req_policy"].native
            nonce = request["nonce"].native
            cert_req = bool(request["cert_req"].native)
            if request["version"].native != "v1":
                return _failure("rejection", "bad_data_format", "version must be 1")
        except (ValueError, TypeError, KeyError):
            return _failure("rejection", "bad_data_format", "malformed TimeStampReq")
        if hash_name not in _DIGEST_SIZES or len(hashed) != _DIGEST_SIZES[hash_name]:
            return _failure("rejection", "bad_alg", "unsupported message imprint")
        if policy is not None and policy != self.policy:
            return _failure("rejection", "unaccepted_policy", "unknown policy")
        try:
            token = self._token(request["message_imprint"], nonce, cert_req)
        except PKIError:
            return _failure("rejection", "system_failure", "the TSA could not sign")
        return bytes(
            tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()
        )

    def _token(
        self, imprint: tsp.MessageImprint, nonce: int | None, cert_req: bool
    ) -> cms.ContentInfo:
        now = self._clock().astimezone(dt.UTC).replace(microsecond=0)
        info: dict[str, Any] = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": imprint,
            "serial_number": int.from_bytes(os.urandom(16), "big") >> 1 or 1,
            "gen_time": now,
            "accuracy": {"seconds": 1},
            "tsa": x509.GeneralName(name="directory_name", value=self.certificate.subject),
        }
        if nonce is not None:
            info["nonce"] = nonce
        tst_der = bytes(tsp.TSTInfo(info).dump())
        alg = self.algorithm
        cert_der = bytes(self.certificate.dump())
        signed_attrs = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "signing_time", "values": [cms.Time(name="utc_time", value=now)]},
                {"type": "message_digest", "values": [alg.digest(tst_der)]},
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        {
                            "certs": [
                                {
                                    "hash_algorithm": {"algorithm": "sha256"},
                                    "cert_hash": hashlib.sha256(cert_der).digest(),
                                    "issuer_serial": {
                                        "issuer": [
                                            x509.GeneralName(
                                                name="directory_name",
                                                value=self.certificate.issuer,
                                            )
                                        ],
                                        "serial_number": self.certificate.serial_number,
                                    },
                                }
                            ]
                        }
                    ],
                },
            ]
        )
        to_sign = bytes(signed_attrs.dump())
        signature = checked_signature(to_sign, self.signer, alg)
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    name="issuer_and_serial_number",
                    value={
                        "issuer": self.certificate.issuer,
                        "serial_number": self.certificate.serial_number,
                    },
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": alg.hash_name}),
                "signed_attrs": cms.CMSAttributes.load(to_sign),
                "signature_algorithm": alg.signed_digest_algorithm(),
                "signature": signature,
            }
        )
        signed_data: dict[str, Any] = {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": alg.hash_name})],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": core.ParsableOctetString(tst_der),
            },
            "signer_infos": [signer_info],
        }
        if cert_req:
            signed_data["certificates"] = [self.certificate, *self.chain]
        return cms.ContentInfo({"content_type": "signed_data", "content": signed_data})


def request_for(data: bytes, *, nonce: int | None = None, cert_req: bool = True) -> bytes:
    """A DER TimeStampReq over SHA-256 of ``data`` (for tests and the CLI)."""
    req: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"},
            "hashed_message": hashlib.sha256(data).digest(),
        },
        "cert_req": cert_req,
    }
    if nonce is not None:
        req["nonce"] = nonce
    return bytes(tsp.TimeStampReq(req).dump())


def parse_response(der: bytes) -> tsp.TSTInfo:
    """The TSTInfo of a granted response; anything else raises PKIError (no signature check)."""
    try:
        response = tsp.TimeStampResp.load(der)
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise PKIError(f"time-stamp request refused: {status}")
        content = response["time_stamp_token"]["content"]["encap_content_info"]["content"]
        info = tsp.TSTInfo.load(content.contents)
        info.native  # noqa: B018 - parse fully
    except (ValueError, TypeError, KeyError) as exc:
        raise PKIError(f"not a time-stamp response: {exc}") from None
    return info
