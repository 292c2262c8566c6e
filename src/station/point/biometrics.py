"""Biometrics at rest at the collection point (issue 11; decree §1г–д: biometrics are personal
data): each accepted capture is stored AES-256-GCM encrypted (NIST SP 800-38D; 96-bit random
nonce, 128-bit tag) under the point's **biometric data key**, bound by its associated data to
its application and slot, so a row copied to another application does not open.

The data key lives in the point's key store (``biometrics.json`` of the station folder says
which; none: the file key store):

- ``{"key": {"type": "file"}}`` (default): ``keys/biometrics.key.json``, the 32-byte data key
  wrapped with AES-256-GCM under a key derived from the key store passphrase
  (``IDKARTA_PASSPHRASE`` or the prompt) by scrypt (RFC 7914; the file records its salt and
  cost, :data:`pki.filestore.SCRYPT_DEFAULT` when made), written atomically with mode 0600;
- ``{"key": {"type": "pkcs11", "module": "...", "token": "...", "label": "..."}}``: an AES-256
  secret key generated ON the token (sensitive, never extractable, encrypt/decrypt only);
  encryption and decryption run on the token (``CKM_AES_GCM``), the key never leaves it.

``"retention_days"`` (default :data:`DEFAULT_RETENTION_DAYS`) is how long captures are kept
after the application ends (handed over, refused, cancelled) before ``idkarta point purge``
deletes them. Nothing here logs or raises with biometric bytes, keys or passphrases.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from idcard.errors import IdkartaError
from pki.filestore import SCRYPT_DEFAULT, ScryptCost, write_atomic
from station.errors import StationError, UsageError
from station.folders.keys import Ask, passphrase_once, pin_once

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_RETENTION_DAYS",
    "KEY_FILE",
    "NONCE_BYTES",
    "BiometricKey",
    "BiometricsConfig",
    "BiometricsError",
    "SoftwareBiometricKey",
    "TokenBiometricKey",
    "capture_aad",
    "create_file_key",
    "load_file_key",
    "open_biometric_key",
]

CONFIG_NAME = "biometrics.json"
KEY_FILE = Path("keys") / "biometrics.key.json"
DEFAULT_RETENTION_DAYS = 30
"""Local choice: a month after the handover for complaints about the card's data; the decree
asks for deletion when the purpose is met and names no number."""
NONCE_BYTES = 12
_FORMAT = "idkarta biometric data key 1"
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class BiometricsError(StationError):
    """The biometric data key cannot be made, found or used, or a capture does not decrypt
    (wrong key, or altered). Never holds a key, a passphrase or biometric bytes."""

    exit_code = 1


def capture_aad(application_id: str, position: int) -> bytes:
    """The associated data of a capture: its application and slot (0 face, 1…10 fingers)."""
    return f"idkarta capture 1|{application_id}|{position}".encode()


class BiometricKey(Protocol):
    """AES-256-GCM under the point's data key: ``seal`` gives nonce ‖ ciphertext ‖ tag."""

    @property
    def key_id(self) -> str: ...

    def seal(self, plaintext: bytes, aad: bytes) -> bytes: ...

    def open(self, sealed: bytes, aad: bytes) -> bytes: ...


class SoftwareBiometricKey:
    """The data key in memory (unwrapped from the file key store), through cryptography's
    AESGCM."""

    __slots__ = ("_aead", "_key_id")

    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) != 32:
            raise BiometricsError("the biometric data key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)
        self._key_id = key_id

    def __repr__(self) -> str:
        return f"SoftwareBiometricKey(key_id={self._key_id!r})"

    @property
    def key_id(self) -> str:
        return self._key_id

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):
            raise BiometricsError(
                "a capture does not decrypt: wrong data key, or the record was altered or moved"
            ) from None


# -- the file key store -----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _kek(passphrase: bytes, salt: bytes, cost: ScryptCost) -> AESGCM:
    if not passphrase:
        raise BiometricsError("an empty passphrase is not accepted")
    kdf = Scrypt(salt=salt, length=32, n=cost.n, r=cost.r, p=cost.p)
    return AESGCM(kdf.derive(passphrase))


def create_file_key(path: Path, passphrase: bytes, *,
                    cost: ScryptCost = SCRYPT_DEFAULT) -> SoftwareBiometricKey:  # fmt: skip
    """Make a new random data key and write it wrapped to ``path`` (never over an existing
    one: the captures sealed under it would be lost)."""
    if path.exists():
        raise BiometricsError(f"{path} exists: the point already has a biometric data key")
    key, salt, nonce = os.urandom(32), os.urandom(16), os.urandom(NONCE_BYTES)
    key_id = f"file:{os.urandom(8).hex()}"
    wrapped = nonce + _kek(passphrase, salt, cost).encrypt(nonce, key, key_id.encode())
    document = {"format": _FORMAT, "key_id": key_id,
                "kdf": {"name": "scrypt", "n": cost.n, "r": cost.r, "p": cost.p,
                        "salt": _b64(salt)},
                "wrapped": _b64(wrapped)}  # fmt: skip
    write_atomic(path, (json.dumps(document, indent=2) + "\n").encode(), 0o600)
    return SoftwareBiometricKey(key, key_id)


def load_file_key(path: Path, passphrase: bytes) -> SoftwareBiometricKey:
    """The data key of ``path`` unwrapped with ``passphrase``."""
    try:
        document = json.loads(path.read_bytes())
        if document.get("format") != _FORMAT or document["kdf"]["name"] != "scrypt":
            raise ValueError
        kdf = document["kdf"]
        cost = ScryptCost(int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        salt = base64.b64decode(kdf["salt"], validate=True)
        wrapped = base64.b64decode(document["wrapped"], validate=True)
        key_id = str(document["key_id"])
    except FileNotFoundError:
        raise BiometricsError(f"no biometric data key at {path}") from None
    except OSError as exc:
        raise BiometricsError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError, IdkartaError):
        raise BiometricsError(f"{path} is not a biometric data key file") from None
    try:
        key = _kek(passphrase, salt, cost).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], key_id.encode()
        )
    except (InvalidTag, ValueError):
        raise BiometricsError(
            f"cannot unwrap {path.name}: wrong passphrase or damaged file"
        ) from None
    return SoftwareBiometricKey(key, key_id)


# -- a PKCS#11 token --------------------------------------------------------------------------


class TokenBiometricKey:
    """An AES-256 key generated on a PKCS#11 token; AES-GCM runs on the token."""

    def __init__(self, session: Any, label: str) -> None:
        """``session``: an open :class:`pki.hsm.HSMSession` (logged in)."""
        import PyKCS11

        if not _LABEL.fullmatch(label):
            raise UsageError(f"biometrics key label {label!r}: letters, digits, . _ -")
        self._session, self._label = session, label
        found = session.raw.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY),
                                         (PyKCS11.CKA_LABEL, label)])  # fmt: skip
        if len(found) != 1:
            raise BiometricsError(f"{len(found)} secret keys {label!r} on token "
                                  f"{session.token.label!r} (one expected)")  # fmt: skip
        self._handle = found[0]

    @classmethod
    def generate(cls, session: Any, label: str) -> TokenBiometricKey:
        """Generate the data key on the token: sensitive, not extractable, encrypt/decrypt
        only (no wrap, unwrap, sign or derive)."""
        import PyKCS11

        t, f = PyKCS11.CK_TRUE, PyKCS11.CK_FALSE
        template = [
            (PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY), (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_AES),
            (PyKCS11.CKA_VALUE_LEN, 32), (PyKCS11.CKA_LABEL, label), (PyKCS11.CKA_TOKEN, t),
            (PyKCS11.CKA_PRIVATE, t), (PyKCS11.CKA_SENSITIVE, t), (PyKCS11.CKA_EXTRACTABLE, f),
            (PyKCS11.CKA_ENCRYPT, t), (PyKCS11.CKA_DECRYPT, t), (PyKCS11.CKA_WRAP, f),
            (PyKCS11.CKA_UNWRAP, f), (PyKCS11.CKA_SIGN, f), (PyKCS11.CKA_VERIFY, f),
            (PyKCS11.CKA_DERIVE, f), (PyKCS11.CKA_MODIFIABLE, f),
        ]  # fmt: skip
        existing = session.raw.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY),
                                            (PyKCS11.CKA_LABEL, label)])  # fmt: skip
        if existing:
            raise BiometricsError(f"a secret key {label!r} is already on the token")
        try:
            session.raw.generateKey(template, PyKCS11.MechanismAESGENERATEKEY)
        except PyKCS11.PyKCS11Error as exc:
            raise BiometricsError(f"the token refused to make the data key: {exc}") from None
        return cls(session, label)

    def __repr__(self) -> str:
        return f"TokenBiometricKey(key_id={self.key_id!r})"

    @property
    def key_id(self) -> str:
        return f"pkcs11:{self._session.token.label}/{self._label}"

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        import PyKCS11

        nonce = os.urandom(NONCE_BYTES)
        mechanism = PyKCS11.AES_GCM_Mechanism(nonce, aad, 128)
        try:
            return nonce + bytes(self._session.raw.encrypt(self._handle, plaintext, mechanism))
        except PyKCS11.PyKCS11Error as exc:
            raise BiometricsError(f"the token did not encrypt: {exc}") from None

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        import PyKCS11

        mechanism = PyKCS11.AES_GCM_Mechanism(sealed[:NONCE_BYTES], aad, 128)
        try:
            return bytes(self._session.raw.decrypt(self._handle, sealed[NONCE_BYTES:],
                                                   mechanism))  # fmt: skip
        except PyKCS11.PyKCS11Error:
            raise BiometricsError(
                "a capture does not decrypt: wrong data key, or the record was altered or moved"
            ) from None


# -- the point's configuration ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BiometricsConfig:
    """``biometrics.json`` of a station folder (absent: the defaults)."""

    key: dict[str, str] = field(default_factory=lambda: {"type": "file"})
    retention_days: int = DEFAULT_RETENTION_DAYS

    def __post_init__(self) -> None:
        kind = self.key.get("type")
        if kind == "pkcs11":
            missing = [k for k in ("module", "token", "label") if not self.key.get(k)]
            if missing:
                raise UsageError(f"{CONFIG_NAME}: key.{missing[0]} missing for pkcs11")
        elif kind != "file":
            raise UsageError(f"{CONFIG_NAME}: key.type must be 'file' or 'pkcs11'")
        if isinstance(self.retention_days, bool) or not isinstance(self.retention_days, int) \
                or self.retention_days < 0:  # fmt: skip
            raise UsageError(f"{CONFIG_NAME}: retention_days must be a whole number ≥ 0")

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)

    @classmethod
    def load(cls, folder: Path) -> BiometricsConfig:
        path = folder / CONFIG_NAME
        if not path.is_file():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            key = data.get("key", {"type": "file"})
            if not isinstance(key, dict):
                raise UsageError(f"{CONFIG_NAME}: key must be an object")
            return cls({str(k): str(v) for k, v in key.items()},
                       data.get("retention_days", DEFAULT_RETENTION_DAYS))  # fmt: skip
        except (OSError, ValueError, AttributeError):
            raise UsageError(f"{path}: not a usable biometrics configuration") from None


@contextlib.contextmanager
def open_biometric_key(folder: Path, *, ask: Ask | None = None, create: bool = False,
                       passphrase: Callable[[], bytes] | None = None,
                       pin: Callable[[], str] | None = None) -> Iterator[BiometricKey]:  # fmt: skip
    """The data key of the point in ``folder`` as its ``biometrics.json`` says; ``create``: make
    it when the point has none yet (the first capture). The passphrase (file) or PIN (token)
    comes from IDKARTA_PASSPHRASE / IDKARTA_PIN or ``ask``, never from an argument."""
    config = BiometricsConfig.load(folder)
    if config.key["type"] == "file":
        path = folder / KEY_FILE
        if not path.exists():
            if not create:
                raise BiometricsError(f"{folder}: no biometric data key yet (nothing captured)")
            secret = (passphrase or passphrase_once(True, ask))()
            yield create_file_key(path, secret)
            return
        yield load_file_key(path, (passphrase or passphrase_once(False, ask))())
        return
    from pki.hsm import PKCS11Module

    token = PKCS11Module(config.key["module"]).token(config.key["token"])
    with token.session(pin or pin_once(ask)) as session:
        key: TokenBiometricKey
        try:
            key = TokenBiometricKey(session, config.key["label"])
        except BiometricsError:
            if not create:
                raise
            key = TokenBiometricKey.generate(session, config.key["label"])
        yield key
