"""Encrypted file key store: one PKCS#8 PEM per key, encrypted with a passphrase.

The embedded default for development and small deployments; production keys belong on a PKCS#11
token (:mod:`pki.hsm`). The passphrase comes from a callback (prompt, environment), is never stored
and never appears in a message. Files are written atomically with mode 0600.

Each file is an ``EncryptedPrivateKeyInfo`` (RFC 5958 §3) that records its own KDF and
parameters: keys are written with PBES2 (RFC 8018 §6.2) = scrypt (RFC 7914 §7; N = 2^17, r = 8,
p = 1 by default, 128 MiB and about half a second) + AES-256-CBC. Files written before (PBES2 with
PBKDF2-HMAC-SHA256 at 2048 iterations, what ``BestAvailableEncryption`` gives) still open: the
KDF is read from each file. :meth:`FileKeyStore.kdf` says which one a key file uses.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import algos, core, keys, pem
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from pki.errors import KeyStoreError
from pki.keys import KeySpec, SignatureAlgorithm, SoftwareSigner, generate_private_key

__all__ = [
    "SCRYPT_DEFAULT",
    "FileKeyStore",
    "PassphraseCallback",
    "ScryptCost",
    "encrypt_private_key",
    "key_file_kdf",
    "test_only_scrypt_cost",
    "write_atomic",
]

PassphraseCallback = Callable[[], bytes]

ID_SCRYPT = "1.3.6.1.4.1.11591.4.11"
"""id-scrypt (RFC 7914 §7)."""


@dataclass(frozen=True, slots=True)
class ScryptCost:
    """scrypt's cost parameters (RFC 7914 §2): CPU/memory cost ``n`` (a power of 2), block size
    ``r``, parallelization ``p``."""

    n: int
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if self.n < 2 or self.n & (self.n - 1) or self.r < 1 or self.p < 1:
            raise KeyStoreError("scrypt needs n a power of 2 above 1, r and p at least 1")


SCRYPT_DEFAULT = ScryptCost(n=2**17, r=8, p=1)
"""What new key files use (the OWASP password storage minimum for scrypt)."""

_TEST_ONLY_COST: ContextVar[ScryptCost | None] = ContextVar("_TEST_ONLY_COST", default=None)


@contextmanager
def test_only_scrypt_cost(cost: ScryptCost | None) -> Iterator[None]:
    """Within this block, stores made without an explicit cost write keys with ``cost`` (None:
    the default again): for test suites that drive whole commands (which make their own
    stores), never for real keys."""
    token = _TEST_ONLY_COST.set(cost)
    try:
        yield
    finally:
        _TEST_ONLY_COST.reset(token)


class _ScryptParams(core.Sequence):  # type: ignore[misc]
    """scrypt-params (RFC 7914 §7.1); private to the key files (asn1crypto has no scrypt)."""

    _fields = [  # noqa: RUF012 - asn1crypto's declarative spec
        ("salt", core.OctetString),
        ("cost_parameter", core.Integer),
        ("block_size", core.Integer),
        ("parallelization_parameter", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
    ]


def encrypt_private_key(der: bytes, passphrase: bytes, cost: ScryptCost = SCRYPT_DEFAULT) -> bytes:
    """The PEM ``ENCRYPTED PRIVATE KEY`` of a PKCS#8 ``der``: PBES2 with scrypt and
    AES-256-CBC (RFC 8018 §6.2, RFC 7914 §7), salt and IV fresh from os.urandom."""
    salt, iv = os.urandom(16), os.urandom(16)
    try:
        key = Scrypt(salt=salt, length=32, n=cost.n, r=cost.r, p=cost.p).derive(passphrase)
    except MemoryError:
        need = 128 * cost.r * cost.n // 2**20
        raise KeyStoreError(f"not enough memory for scrypt ({need} MiB)") from None
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    data = encryptor.update(padder.update(der) + padder.finalize()) + encryptor.finalize()
    kdf = algos.KdfAlgorithm({
        "algorithm": ID_SCRYPT,
        "parameters": _ScryptParams({"salt": salt, "cost_parameter": cost.n,
                                     "block_size": cost.r, "parallelization_parameter": cost.p,
                                     "key_length": 32}),
    })  # fmt: skip
    info = keys.EncryptedPrivateKeyInfo({
        "encryption_algorithm": algos.EncryptionAlgorithm({
            "algorithm": "pbes2",
            "parameters": algos.Pbes2Params({
                "key_derivation_func": kdf,
                "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
            }),
        }),
        "encrypted_data": data,
    })  # fmt: skip
    armored: bytes = pem.armor("ENCRYPTED PRIVATE KEY", info.dump())
    return armored


def key_file_kdf(data: bytes) -> dict[str, Any]:
    """The KDF an encrypted PKCS#8 file records: ``{"kdf": "scrypt", "n", "r", "p"}``,
    ``{"kdf": "pbkdf2", "iterations", "prf"}`` or ``{"kdf": <scheme or OID>}``."""
    try:
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        scheme = keys.EncryptedPrivateKeyInfo.load(data)["encryption_algorithm"]
        if scheme["algorithm"].native != "pbes2":
            return {"kdf": str(scheme["algorithm"].native)}
        kdf = scheme["parameters"]["key_derivation_func"]
        if kdf["algorithm"].dotted == ID_SCRYPT:
            params = _ScryptParams.load(kdf["parameters"].dump())
            return {"kdf": "scrypt", "n": params["cost_parameter"].native,
                    "r": params["block_size"].native,
                    "p": params["parallelization_parameter"].native}  # fmt: skip
        if kdf["algorithm"].native == "pbkdf2":
            params = kdf["parameters"]
            return {"kdf": "pbkdf2", "iterations": params["iteration_count"].native,
                    "prf": str(params["prf"]["algorithm"].native)}  # fmt: skip
        return {"kdf": str(kdf["algorithm"].dotted)}
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyStoreError(f"not an encrypted PKCS#8 key file: {exc}") from None

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

    def __init__(
        self,
        directory: str | os.PathLike[str],
        passphrase: PassphraseCallback,
        *,
        test_only_scrypt_cost: ScryptCost | None = None,
    ) -> None:
        """``test_only_scrypt_cost`` (or :func:`test_only_scrypt_cost` around the call) lowers
        scrypt's cost for keys written by this object: for test suites only, never for real
        keys (they get :data:`SCRYPT_DEFAULT`)."""
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._cost = test_only_scrypt_cost or _TEST_ONLY_COST.get() or SCRYPT_DEFAULT

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
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_atomic(path, encrypt_private_key(der, self._secret(), self._cost), 0o600)
        return SoftwareSigner(key, label, algorithm)

    def kdf(self, label: str) -> dict[str, Any]:
        """The KDF and its parameters that key ``label``'s file records (see
        :func:`key_file_kdf`)."""
        return key_file_kdf(self._read(label))

    def _read(self, label: str) -> bytes:
        path = self._path(label)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"no key {label!r} in {self.directory}") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read key {label!r}: {exc.strerror}") from None

    def load(self, label: str, algorithm: SignatureAlgorithm | None = None) -> SoftwareSigner:
        """The signer of key ``label``; unknown label or wrong passphrase raise KeyStoreError."""
        data = self._read(label)
        try:  # the file names its KDF: scrypt (written now) or PBKDF2 (written before)
            key = serialization.load_pem_private_key(data, password=self._secret())
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
