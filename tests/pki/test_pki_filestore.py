"""pki.filestore: encrypted PKCS#8 key files."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from tests.conftest import require_tool

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


OLD_STORE = Path(__file__).parent / "data" / "filestore-main"


def test_new_keys_use_scrypt_at_the_default_cost(tmp_path: Path, full_scrypt_cost: None) -> None:
    """Issue 9 item 7: the passphrase is stretched with scrypt N=2^17, r=8, p=1 (was PBKDF2 with
    2048 iterations); the file records it, read here by openssl and by our parser."""
    openssl = require_tool("openssl")
    store = FileKeyStore(tmp_path, lambda: b"pw")
    store.generate("k", KeySpec.parse("ec-p256"))
    parsed = subprocess.run([openssl, "asn1parse", "-in", str(tmp_path / "k.key.pem")],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert ":scrypt" in parsed and "PBKDF2" not in parsed and ":aes-256-cbc" in parsed
    assert ":020000" in parsed  # N = 2^17 (INTEGER 0x020000)
    from pki.filestore import SCRYPT_DEFAULT, ScryptCost

    assert store.kdf("k") == {"kdf": "scrypt", "n": 2**17, "r": 8, "p": 1}
    assert ScryptCost(n=2**17, r=8, p=1) == SCRYPT_DEFAULT


def test_scrypt_key_file_is_standard_pkcs8(tmp_path: Path) -> None:
    """openssl decrypts it (its scrypt memory cap of 32 MiB needs the test-only cost here)."""
    from pki.filestore import ScryptCost

    openssl = require_tool("openssl")
    cheap = ScryptCost(n=2**10)
    store = FileKeyStore(tmp_path, lambda: b"open sesame", test_only_scrypt_cost=cheap)
    made = store.generate("k", KeySpec.parse("ec-brainpoolP256r1"))
    assert store.kdf("k") == {"kdf": "scrypt", "n": 1024, "r": 8, "p": 1}
    out = subprocess.run([openssl, "pkey", "-in", str(tmp_path / "k.key.pem"), "-passin",
                          "pass:open sesame", "-pubout"], capture_output=True, check=True).stdout
    assert serialization.load_pem_public_key(out) == made.public_key()
    with pytest.raises(KeyStoreError, match="wrong passphrase"):
        FileKeyStore(tmp_path, lambda: b"open sesame!").load("k")


def test_store_written_by_the_previous_version_still_opens(tmp_path: Path) -> None:
    for name in ("ds-old.key.pem", "ds-old.pub.pem"):
        (tmp_path / name).write_bytes((OLD_STORE / name).read_bytes())
    store = FileKeyStore(tmp_path, lambda: b"written by idkarta 3ffcfad")
    key = store.load("ds-old")
    assert key.public_key() == serialization.load_pem_public_key(
        (tmp_path / "ds-old.pub.pem").read_bytes())
    assert verify_signature(key.public_key(), key.sign(b"x", key.algorithm), b"x", key.algorithm)
    with pytest.raises(KeyStoreError, match="wrong passphrase"):
        FileKeyStore(tmp_path, lambda: b"written by idkarta").load("ds-old")
    assert store.kdf("ds-old") == {"kdf": "pbkdf2", "iterations": 2048, "prf": "sha256"}
    store.generate("ds-new", KeySpec.parse("ec-p256"))  # the same store, new keys with scrypt
    assert store.kdf("ds-new")["kdf"] == "scrypt"
    assert store.labels() == ["ds-new", "ds-old"]


def test_scrypt_cost_and_kdf_errors(tmp_path: Path) -> None:
    from pki.filestore import ScryptCost, key_file_kdf

    for bad in ({"n": 1000}, {"n": 1}, {"n": 1024, "r": 0}, {"n": 1024, "p": 0}):
        with pytest.raises(KeyStoreError):
            ScryptCost(**bad)
    with pytest.raises(KeyStoreError, match="not an encrypted PKCS#8"):
        key_file_kdf(b"nonsense")
