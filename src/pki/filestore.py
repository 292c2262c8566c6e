"""Encrypted file key store: one PKCS#8 PEM per key, encrypted with a passphrase.

The embedded default for development and small deployments; production keys belong on a PKCS#11
token (:mod:`pki.hsm`). The passphrase comes from a callback (prompt, environment), is never stored
and never appears in a message. Files are written atomically with mode 0600.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pki.errors import KeyStoreError
from pki.keys import KeySpec, SignatureAlgorithm, SoftwareSigner, generate_private_key

__all__ = ["FileKeyStore", "PassphraseCallback", "write_atomic"]

PassphraseCallback = Callable[[], bytes]

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SUFFIX = ".key.pem"


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FileKeyStore:
    """Keys in ``directory``, each ``<label>.key.pem`` (encrypted PKCS#8, RFC 5958)."""

    def __init__(self, directory: str | os.PathLike[str], passphrase: PassphraseCallback) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase

    def __repr__(self) -> str:
        return f"FileKeyStore({str(self.directory)!r})"

    def _path(self, label: str) -> Path:
        if not _LABEL.fullmatch(label):
            raise KeyStoreError(f"invalid key label {label!r} (letters, digits, . _ -)")
        return self.directory / f"{label}{_SUFFIX}"

    def _secret(self) -> bytes:
        secret = self._passphrase()
        if not secret:
            raise KeyStoreError("an empty passphrase is not accepted")
        return secret

    def labels(self) -> list[str]:
        """Labels of the keys in the store, sorted."""
        if not self.directory.is_dir():
            return []
        return sorted(p.name[: -len(_SUFFIX)] for p in self.directory.glob(f"*{_SUFFIX}"))

    def __contains__(self, label: object) -> bool:
        return isinstance(label, str) and self._path(label).is_file()

    def generate(
        self, label: str, spec: KeySpec, algorithm: SignatureAlgorithm | None = None
    ) -> SoftwareSigner:
        """Create a new key pair under ``label``; an existing label raises KeyStoreError."""
        path = self._path(label)
        if path.exists():
            raise KeyStoreError(f"key {label!r} already exists in {self.directory}")
        key = generate_private_key(spec)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._secret()),
        )
        write_atomic(path, pem, 0o600)
        return SoftwareSigner(key, label, algorithm)

    def load(self, label: str, algorithm: SignatureAlgorithm | None = None) -> SoftwareSigner:
        """The signer of key ``label``; unknown label or wrong passphrase raise KeyStoreError."""
        path = self._path(label)
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"no key {label!r} in {self.directory}") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read key {label!r}: {exc.strerror}") from None
        try:
            key = serialization.load_pem_private_key(pem, password=self._secret())
        except (ValueError, TypeError):
            raise KeyStoreError(
                f"cannot decrypt key {label!r}: wrong passphrase or damaged file"
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyStoreError(f"key {label!r} is neither EC nor RSA")
        return SoftwareSigner(key, label, algorithm)

    def delete(self, label: str) -> None:
        """Remove key ``label``; unknown label raises KeyStoreError."""
        try:
            self._path(label).unlink()
        except FileNotFoundError:
            raise KeyStoreError(f"no key {label!r} in {self.directory}") from None
