"""Enrollment of the holder's e-signature key: a PKCS#10 request signed by that key, then issuance.

The holder's key lives on the card (later) or, in tests, in software or a PKCS#11 token; it is
only ever reached through a :class:`~pki.keys.Signer`, so the request is assembled here with
asn1crypto (RFC 2986 §4.1 ``CertificationRequestInfo``) and only its signature comes from the
signer — the signature is the proof of possession the CA checks (RFC 2986 §3, step 3).
"""

from __future__ import annotations

import datetime as dt

from asn1crypto import csr

from pki.ca import checked_signature, public_key_info
from pki.esign import (
    DEFAULT_VALIDITY,
    EsignCA,
    HolderRecord,
    IssuedCertificate,
    OnRecord,
    natural_person_name,
)
from pki.keys import SignatureAlgorithm, Signer

__all__ = ["build_request", "enroll"]


def build_request(
    signer: Signer, record: HolderRecord, *, algorithm: SignatureAlgorithm | None = None
) -> bytes:
    """DER PKCS#10 request for the holder of ``record``, signed through ``signer``.

    The subject is the certificate's subject (:func:`pki.esign.natural_person_name`); the
    attributes set is empty. The signature is checked before the request is returned.
    """
    alg = algorithm or signer.algorithm
    info = csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": natural_person_name(record),
            "subject_pk_info": public_key_info(signer.public_key()),
            "attributes": [],
        }
    )
    signature = checked_signature(bytes(info.dump()), signer, alg)
    request = csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": alg.signed_digest_algorithm(),
            "signature": signature,
        }
    )
    return bytes(request.dump())


def enroll(
    signer: Signer,
    record: HolderRecord,
    ca: EsignCA,
    *,
    validity: dt.timedelta = DEFAULT_VALIDITY,
    now: dt.datetime | None = None,
    on_record: OnRecord | None = None,
) -> IssuedCertificate:
    """End to end: request signed by the holder's key, submitted to ``ca``, certificate recorded.

    ``on_record`` runs inside the CA's issuing transaction (see :meth:`EsignCA.issue`).
    """
    request = build_request(signer, record)
    return ca.issue(request, record, validity=validity, now=now, on_record=on_record)
