"""The point's biometric data key (station.point.biometrics): AES-256-GCM with known answers, the
file key store's wrapped key, and an AES key generated on a real SoftHSM2 token."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.softhsm import SoftHSMToken, fresh_softhsm_token, new_softhsm_token

from pki.errors import HSMError
from pki.filestore import ScryptCost
from station.errors import UsageError
from station.point.biometrics import (
    KEY_FILE,
    BiometricsConfig,
    BiometricsError,
    SoftwareBiometricKey,
    TokenBiometricKey,
    capture_aad,
    create_file_key,
    load_file_key,
    open_biometric_key,
)

__all__ = ["fresh_softhsm_token", "new_softhsm_token"]  # the SoftHSM2 fixtures used here

CHEAP = ScryptCost(n=2**10)
KEY = SoftwareBiometricKey(bytes(range(32)), "file:test")


def test_a_sealed_capture_is_aes_256_gcm_with_the_nonce_in_front() -> None:
    aad = capture_aad("app-1", 2)
    assert aad == b"idkarta capture 1|app-1|2"
    sealed = KEY.seal(b"fingerprint image", aad)
    nonce, body = sealed[:12], sealed[12:]
    # An independent AES-GCM (cryptography's own, fresh object) opens it.
    assert AESGCM(bytes(range(32))).decrypt(nonce, body, aad) == b"fingerprint image"
    assert len(body) == len(b"fingerprint image") + 16
    assert KEY.seal(b"fingerprint image", aad)[:12] != nonce  # a fresh nonce each time
    with pytest.raises(BiometricsError):
        KEY.open(sealed, capture_aad("app-1", 3))
    with pytest.raises(BiometricsError):
        KEY.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), aad)
    with pytest.raises(BiometricsError):
        SoftwareBiometricKey(bytes(16), "short")
    assert "key_id='file:test'" in repr(KEY) and "00010203" not in repr(KEY)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000), st.text(max_size=36), st.integers(0, 10))
def test_open_undoes_seal(data: bytes, app: str, position: int) -> None:
    assert KEY.open(KEY.seal(data, capture_aad(app, position)), capture_aad(app, position)) == data


def test_the_file_key_is_wrapped_under_the_passphrase(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    made = create_file_key(path, b"correct horse", cost=CHEAP)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["kdf"] == {"name": "scrypt", "n": 1024, "r": 8, "p": 1,
                               "salt": document["kdf"]["salt"]}  # fmt: skip
    loaded = load_file_key(path, b"correct horse")
    assert loaded.key_id == made.key_id == document["key_id"]
    assert loaded.open(made.seal(b"face", b"a"), b"a") == b"face"
    with pytest.raises(BiometricsError, match="wrong passphrase") as caught:
        load_file_key(path, b"wrong")
    assert "wrong" not in str(caught.value).replace("wrong passphrase", "")
    with pytest.raises(BiometricsError, match="exists"):
        create_file_key(path, b"correct horse", cost=CHEAP)
    with pytest.raises(BiometricsError, match="empty passphrase"):
        create_file_key(tmp_path / "other.json", b"", cost=CHEAP)
    path.write_text(json.dumps({**document, "kdf": {**document["kdf"], "n": 3}}))
    with pytest.raises(BiometricsError, match="not a biometric data key file"):
        load_file_key(path, b"correct horse")
    with pytest.raises(BiometricsError, match="no biometric data key"):
        load_file_key(tmp_path / "absent.json", b"x")


def test_the_point_folder_opens_its_file_key(tmp_path: Path) -> None:
    with pytest.raises(BiometricsError, match="no biometric data key yet"), \
            open_biometric_key(tmp_path, passphrase=lambda: b"pp"):  # fmt: skip
        pass
    create_file_key(tmp_path / KEY_FILE, b"pp", cost=CHEAP)
    with open_biometric_key(tmp_path, passphrase=lambda: b"pp") as key:
        assert key.key_id.startswith("file:")
    assert BiometricsConfig.load(tmp_path).retention_days == 30


def test_the_configuration_is_checked(tmp_path: Path) -> None:
    (tmp_path / "biometrics.json").write_text('{"key": {"type": "pkcs11"}, "retention_days": 7}')
    with pytest.raises(UsageError, match=r"key\.module missing"):
        BiometricsConfig.load(tmp_path)
    (tmp_path / "biometrics.json").write_text('{"retention_days": -1}')
    with pytest.raises(UsageError, match="retention_days"):
        BiometricsConfig.load(tmp_path)
    (tmp_path / "biometrics.json").write_text('{"retention_days": 0}')
    assert BiometricsConfig.load(tmp_path).retention.days == 0
    (tmp_path / "biometrics.json").write_text("[")
    with pytest.raises(UsageError, match="not a usable biometrics configuration"):
        BiometricsConfig.load(tmp_path)


@pytest.mark.hsm
def test_the_data_key_on_a_token_never_leaves_it(
    fresh_softhsm_token: SoftHSMToken, tmp_path: Path
) -> None:
    import PyKCS11

    token = fresh_softhsm_token
    (tmp_path / "biometrics.json").write_text(json.dumps({"key": {
        "type": "pkcs11", "module": token.module, "token": token.label,
        "label": "point-biometrics"}}))  # fmt: skip
    with pytest.raises(BiometricsError, match="0 secret keys"), \
            open_biometric_key(tmp_path, pin=lambda: token.pin):  # fmt: skip
        pass
    with open_biometric_key(tmp_path, pin=lambda: token.pin, create=True) as key:
        assert isinstance(key, TokenBiometricKey)
        assert key.key_id == f"pkcs11:{token.label}/point-biometrics"
        sealed = key.seal(b"portrait bytes", capture_aad("app", 0))
        assert key.open(sealed, capture_aad("app", 0)) == b"portrait bytes"
        with pytest.raises(BiometricsError, match="does not decrypt"):
            key.open(sealed, capture_aad("app", 1))
        with pytest.raises(BiometricsError, match="already on the token"):
            TokenBiometricKey.generate(key._session, "point-biometrics")
        # The token refuses to give the key's value; it is sensitive and not extractable.
        raw = key._session.raw
        handle = key._handle
        sensitive, extractable, wrap = raw.getAttributeValue(
            handle, [PyKCS11.CKA_SENSITIVE, PyKCS11.CKA_EXTRACTABLE, PyKCS11.CKA_WRAP])
        assert (sensitive, extractable, wrap) == (True, False, False)
        with pytest.raises(HSMError, match="CKR_ATTRIBUTE_SENSITIVE"):
            key._session._attr_strict(handle, PyKCS11.CKA_VALUE)
    # Opened again (a new session): the same key opens what was sealed.
    with open_biometric_key(tmp_path, pin=lambda: token.pin) as again:
        assert again.open(sealed, capture_aad("app", 0)) == b"portrait bytes"
        # An independent AES-GCM with a wrong key cannot: the value is on the token only.
        with pytest.raises(Exception):  # noqa: B017, PT011 - cryptography's InvalidTag
            AESGCM(bytes(32)).decrypt(sealed[:12], sealed[12:], capture_aad("app", 0))


def test_the_key_file_is_checked_field_by_field(tmp_path: Path) -> None:
    """Known layout: 16-byte salt, an 8-byte random key id, the cost as made (p = 2 here), a
    readable indented JSON; anything else in the file is refused, never guessed around."""
    import base64
    import re

    path = tmp_path / KEY_FILE
    made = create_file_key(path, b"pp", cost=ScryptCost(2**10, r=8, p=2))
    text = path.read_text()
    assert text.startswith('{\n  "format": "idkarta biometric data key 1",\n')
    document = json.loads(text)
    assert re.fullmatch(r"file:[0-9a-f]{16}", made.key_id)
    assert len(base64.b64decode(document["kdf"]["salt"])) == 16
    assert document["kdf"]["p"] == 2
    assert load_file_key(path, b"pp").key_id == made.key_id  # p = 2 is used to unwrap
    bad = {
        "format": {**document, "format": "something else"},
        "kdf name": {**document, "kdf": {**document["kdf"], "name": "pbkdf2"}},
        "salt not base64": {**document, "kdf": {**document["kdf"], "salt": "@@@@"}},
        "wrapped not base64": {**document, "wrapped": document["wrapped"][:-4] + "@@@@"},
    }
    for name, content in bad.items():
        path.write_text(json.dumps(content))
        with pytest.raises(BiometricsError) as caught:
            load_file_key(path, b"pp")
        assert str(caught.value) == f"{path} is not a biometric data key file", name
    with pytest.raises(BiometricsError) as caught:
        load_file_key(tmp_path, b"pp")  # a folder: unreadable as a file
    assert str(caught.value).startswith(f"cannot read {tmp_path}: ")
    with pytest.raises(BiometricsError) as caught:
        create_file_key(tmp_path / "x.json", b"", cost=CHEAP)
    assert str(caught.value) == "an empty passphrase is not accepted"


def test_the_errors_say_what_happened_without_secrets() -> None:
    with pytest.raises(BiometricsError) as caught:
        SoftwareBiometricKey(bytes(16), "short")
    assert str(caught.value) == "the biometric data key must be 32 bytes (AES-256)"
    with pytest.raises(BiometricsError) as caught:
        KEY.open(KEY.seal(b"x", b"a"), b"b")
    assert str(caught.value) == ("a capture does not decrypt: wrong data key, or the record was "
                                 "altered or moved")  # fmt: skip
