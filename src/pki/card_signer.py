"""A :class:`~pki.keys.Signer` whose key is the e-signature key on the ID card (STYLE.md §5).

:class:`CardSigner` hashes on the host and has the card sign the hash through
:class:`idcard.esign.ESignCard`: ECDSA (the card's plain ``r ‖ s`` converted to DER once, by
:func:`pki.keys.ecdsa_raw_to_der`), RSA PKCS#1 v1.5 (the card pads a DigestInfo) or RSA-PSS (salt
= hash length). The PIN comes from a callback, asked once per signer when the card first needs it
(again if the card dropped the verification, e.g. after a reset); it is never stored here.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec

from idcard.errors import CardStatusError
from idcard.esign import ESignCard
from idcard.esign.protocol import ALG_ECDSA_PLAIN, ALG_RSA_PKCS1, ALG_RSA_PSS
from pki.errors import KeyStoreError
from pki.keys import (
    KeySpec,
    PublicKey,
    SignatureAlgorithm,
    SignatureScheme,
    default_algorithm,
    ecdsa_raw_to_der,
    key_spec_of,
)

__all__ = ["CardSigner"]


class CardSigner:
    """Signs with the card's e-signature key; ``pin`` is called when a PIN is needed.

    ``algorithm`` defaults to ECDSA with the curve's hash, or RSA-PSS/SHA-256
    (:func:`pki.keys.default_algorithm`).
    """

    def __init__(
        self,
        card: ESignCard,
        pin: Callable[[], str],
        *,
        label: str = "card",
        algorithm: SignatureAlgorithm | None = None,
        public_key: PublicKey | None = None,
    ) -> None:
        self.card = card
        self._pin = pin
        self._label = label
        self._public = public_key or card.public_key()
        self._spec = key_spec_of(self._public)
        self._algorithm = algorithm or default_algorithm(self._spec)
        self._algorithm.check_key(self._spec)
        self._verified = False

    def __repr__(self) -> str:
        return f"CardSigner(label={self._label!r}, key={self._spec})"

    @property
    def label(self) -> str:
        return self._label

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return self._algorithm

    @property
    def key_spec(self) -> KeySpec:
        return self._spec

    def public_key(self) -> PublicKey:
        return self._public

    def _card_input(self, data: bytes, algorithm: SignatureAlgorithm) -> tuple[bytes, int]:
        digest = algorithm.digest(data)
        if algorithm.scheme is SignatureScheme.ECDSA:
            return digest, ALG_ECDSA_PLAIN
        if algorithm.scheme is SignatureScheme.RSA_PKCS1V15:
            return algorithm.digest_info(digest), ALG_RSA_PKCS1
        if algorithm.effective_salt_length != algorithm.digest_size:
            raise KeyStoreError("the card's RSA-PSS uses a salt as long as the hash")
        return digest, ALG_RSA_PSS

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """The signature in X.509/CMS form; a wrong or blocked PIN raises
        :class:`idcard.esign.PINError` / :class:`idcard.esign.PINBlockedError`."""
        algorithm.check_key(self._spec)
        card_input, card_algorithm = self._card_input(data, algorithm)
        for attempt in (1, 2):
            if not self._verified:
                self.card.verify_pin(self._pin())
                self._verified = True
            try:
                signature = self.card.sign(card_input, card_algorithm)
                break
            except CardStatusError as exc:
                if exc.sw != 0x6982 or attempt == 2:
                    raise
                self._verified = False  # the card forgot the PIN (reset, other SELECT)
        if isinstance(self._public, ec.EllipticCurvePublicKey):
            return ecdsa_raw_to_der(signature)
        return signature
