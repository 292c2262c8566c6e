"""Errors of the pki package, rooted in :class:`idcard.errors.IdkartaError`."""

from __future__ import annotations

from idcard.errors import IdkartaError


class PKIError(IdkartaError):
    """Root of the pki package's errors."""


class KeyStoreError(PKIError):
    """A key store (file or token) cannot find, open or use a key."""


class HSMError(KeyStoreError):
    """A PKCS#11 call failed; names the function and the return code (CKR_…), never the PIN."""

    def __init__(self, function: str, code: str, message: str | None = None) -> None:
        self.function = function
        self.code = code
        super().__init__(message or f"{function} failed: {code}")


class IssuanceError(PKIError):
    """A certificate, CRL, master list or SOD could not be issued (profile or input problem)."""


__all__ = ["HSMError", "IssuanceError", "KeyStoreError", "PKIError"]
