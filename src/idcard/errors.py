"""The exception tree of idkarta.

Every error the library raises on purpose derives from :class:`IdkartaError`, so callers can
catch one root. "Could not check" raises; "checked, and it is bad" is a result object, never an
exception (STYLE.md §6). Messages never carry secrets (keys, PINs, MRZ key seeds).
"""

from __future__ import annotations


class IdkartaError(Exception):
    """Root of every error raised by idcard, pki and station."""


class DecodeError(IdkartaError, ValueError):
    """Bytes or text that do not decode as the structure they claim to be.

    ``offset`` is the byte (or character) offset in the input where decoding failed, when known.
    """

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        self.offset = offset
        self.reason = message
        super().__init__(message if offset is None else f"{message} (at offset {offset})")


class EncodeError(IdkartaError, ValueError):
    """Field values that cannot be encoded (too long, outside the alphabet, missing)."""


class MRZError(DecodeError):
    """An MRZ that does not parse or whose check digit fails; ``field`` names the field."""

    def __init__(self, message: str, *, field: str | None = None, offset: int | None = None):
        self.field = field
        super().__init__(message if field is None else f"{field}: {message}", offset=offset)


class PINFLError(DecodeError):
    """A PINFL (personal identification number of a natural person) that is not valid."""


class CardError(IdkartaError):
    """Something went wrong talking to a card."""


class TransportError(CardError):
    """The transport (reader, socket, replay) failed: card removed, reader gone, unexpected APDU."""


class CardStatusError(CardError):
    """The card answered with a status word other than success.

    Carries the status word and the command that caused it (the command's data is not kept in
    the message, since it may be a protected or secret value).
    """

    def __init__(self, sw: int, command: object | None = None, message: str | None = None):
        self.sw = sw
        self.command = command
        text = message or f"card returned status {sw:04X}"
        super().__init__(text)


class SecureMessagingError(CardError):
    """A secure-messaging MAC, padding or structure check failed; the channel is closed."""


class AuthenticationError(IdkartaError):
    """An access or authentication protocol (BAC, PACE, CA, TA, AA) failed at ``step``."""

    def __init__(self, message: str, *, protocol: str | None = None, step: str | None = None):
        self.protocol = protocol
        self.step = step
        where = "/".join(p for p in (protocol, step) if p)
        super().__init__(f"{where}: {message}" if where else message)


class VerificationError(IdkartaError):
    """A verification could not be carried out at all (missing or unusable input)."""


__all__ = [
    "AuthenticationError",
    "CardError",
    "CardStatusError",
    "DecodeError",
    "EncodeError",
    "IdkartaError",
    "MRZError",
    "PINFLError",
    "SecureMessagingError",
    "TransportError",
    "VerificationError",
]
