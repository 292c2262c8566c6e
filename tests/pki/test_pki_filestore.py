"""pki.filestore: encrypted PKCS#8 key files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pki.errors import KeyStoreError
from pki.filestore import FileKeyStore
from pki.keys import KeySpec, verify_signature


def test_generate_load_sign(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, lambda: b"correct horse")
    made = store.generate("ds-1", KeySpec.parse("ec-brainpoolP256r1"))
    loaded = store.load("ds-1")
    assert loaded.public_key() == made.public_key()
    sig = loaded.sign(b"data", loaded.algorithm)
    assert verify_signature(made.public_key(), sig, b"data", made.algorithm)
    assert store.labels() == ["ds-1"]
    assert "ds-1" in store and "ds-2" not in store


def test_file_is_encrypted_pkcs8_with_owner_only_mode(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, lambda: b"pw")
    store.generate("k", KeySpec.parse("ec-p256"))
    path = tmp_path / "k.key.pem"
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(pem, password=b"pw")
    assert key.public_key() == store.load("k").public_key()


def test_wrong_passphrase_is_keystore_error_without_secret(tmp_path: Path) -> None:
    FileKeyStore(tmp_path, lambda: b"right-one").generate("k", KeySpec.parse("ec-p256"))
    with pytest.raises(KeyStoreError) as err:
        FileKeyStore(tmp_path, lambda: b"wrong-one").load("k")
    assert "wrong-one" not in str(err.value) and "right-one" not in str(err.value)


def test_unknown_and_invalid_labels(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, lambda: b"pw")
    with pytest.raises(KeyStoreError, match="no key"):
        store.load("absent")
    with pytest.raises(KeyStoreError, match="invalid key label"):
        store.load("../etc/passwd")
    with pytest.raises(KeyStoreError):
        store.delete("absent")
    assert FileKeyStore(tmp_path / "none", lambda: b"pw").labels() == []


def test_existing_label_and_empty_passphrase(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, lambda: b"pw")
    store.generate("k", KeySpec.parse("ec-p256"))
    with pytest.raises(KeyStoreError, match="already exists"):
        store.generate("k", KeySpec.parse("ec-p256"))
    with pytest.raises(KeyStoreError, match="empty passphrase"):
        FileKeyStore(tmp_path, lambda: b"").generate("k2", KeySpec.parse("ec-p256"))
    store.delete("k")
    assert store.labels() == []
