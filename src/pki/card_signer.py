"""A :class:`~pki.keys.Signer` whose key is the e-signature key on the ID card (STYLE.md §5).

:class:`CardSigner` hashes on the host and has the card sign the hash through
:class:`idcard.esign.ESignCard`: ECDSA (the card's plain ``r ‖ s`` converted to DER once, by
:func:`pki.keys.ecdsa_raw_to_der`), RSA PKCS#1 v1.5 (the card pads a DigestInfo) or RSA-PSS (salt
= hash length). The PIN comes from a callback, asked once per signer when the card first needs it
(again if the card dropped the verification, e.g. after a reset); it is never stored here.
"""

from __future__ import annotations

from collections.abc import Callable

from idcard.errors import CardStatusError
from idcard.esign import ESignCard
from idcard.esign.protocol import ALG_ECDSA_PLAIN, ALG_RSA_PKCS1, ALG_RSA_PSS
from pki.errors import KeyStoreError
from pki.keys import PublicKey, SignatureAlgorithm, SignatureScheme, TokenSigner

__all__ = ["CardSigner"]


class CardSigner(TokenSigner):
    """Signs with the card's e-signature key; ``pin`` is called when a PIN is needed.

    ``algorithm`` defaults to ECDSA with the curve's hash, or RSA-PSS/SHA-256
    (:func:`pki.keys.default_algorithm`). :meth:`sign` returns the signature in X.509/CMS form;
    a wrong or blocked PIN raises :class:`idcard.esign.PINError` /
    :class:`idcard.esign.PINBlockedError`.
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
        self._verified = False
        super().__init__(public_key or card.public_key(), label, algorithm)

    @staticmethod
    def _card_algorithm(algorithm: SignatureAlgorithm) -> int:
        if algorithm.scheme is SignatureScheme.ECDSA:
            return ALG_ECDSA_PLAIN
        if algorithm.scheme is SignatureScheme.RSA_PKCS1V15:
            return ALG_RSA_PKCS1
        if algorithm.effective_salt_length != algorithm.digest_size:
            raise KeyStoreError("the card's RSA-PSS uses a salt as long as the hash")
        return ALG_RSA_PSS

    def _sign_on_device(self, payload: bytes, algorithm: SignatureAlgorithm) -> bytes:
        card_algorithm = self._card_algorithm(algorithm)
        for attempt in (1, 2):
            if not self._verified:
                self.card.verify_pin(self._pin())
                self._verified = True
            try:
                return self.card.sign(payload, card_algorithm)
            except CardStatusError as exc:
                if exc.sw != 0x6982 or attempt == 2:
                    raise
                self._verified = False  # the card forgot the PIN (reset, other SELECT)
        raise AssertionError("unreachable")
