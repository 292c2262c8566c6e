"""Card verifiable certificates for Terminal Authentication (BSI TR-03110-3 Appendix C).

The codec (:class:`CVCertificate`, :class:`CVRequest`), the CHAT and its roles
(:class:`CHAT`, :class:`Role`), and chain validation CVCA → DV → terminal
(:func:`validate_chain`). The CA side (issuing from an HSM) lives in :mod:`pki`.
"""

from idcard.cvc.certificate import (
    TA_ALGORITHMS,
    CVCertificate,
    CVCertificateBody,
    CVPublicKey,
    CVRequest,
    Signer,
    ecdsa_signer,
    rsa_signer,
    verify_signature,
)
from idcard.cvc.chain import ChainValidation, validate_chain
from idcard.cvc.chat import CHAT, ID_AT, ID_IS, ID_ST, Role

__all__ = [
    "CHAT",
    "ID_AT",
    "ID_IS",
    "ID_ST",
    "TA_ALGORITHMS",
    "CVCertificate",
    "CVCertificateBody",
    "CVPublicKey",
    "CVRequest",
    "ChainValidation",
    "Role",
    "Signer",
    "ecdsa_signer",
    "rsa_signer",
    "validate_chain",
    "verify_signature",
]
