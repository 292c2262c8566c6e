"""pki.hsm on a real SoftHSM2 token: key generation, protection flags, signing, errors."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import PyKCS11
import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tests.softhsm import SoftHSMToken

from pki.errors import HSMError, KeyStoreError
from pki.hsm import HSMSession, PKCS11Module
from pki.keys import KeySpec, SignatureAlgorithm, Signer, verify_signature

pytestmark = pytest.mark.hsm

EC_SPECS = [
    "ec-p256",
    "ec-p384",
    "ec-p521",
    "ec-brainpoolP256r1",
    "ec-brainpoolP384r1",
    "ec-brainpoolP512r1",
]
RSA_SPECS = ["rsa-2048", "rsa-3072", "rsa-4096"]


@pytest.fixture(scope="module")
def module_token(new_softhsm_token: Callable[[], SoftHSMToken]) -> SoftHSMToken:
    """This module's own token: its fixed key labels are free on every run."""
    return new_softhsm_token()


@pytest.fixture
def session(module_token: SoftHSMToken) -> Iterator[HSMSession]:
    token = PKCS11Module(module_token.module).token(module_token.label)
    with token.session(lambda: module_token.pin) as s:
        yield s


@pytest.fixture(scope="module")
def generated(module_token: SoftHSMToken) -> list[str]:
    """Generate one key of every supported type once for this module."""
    token = PKCS11Module(module_token.module).token(module_token.label)
    with token.session(lambda: module_token.pin) as s:
        for spec in EC_SPECS + RSA_SPECS:
            s.generate_key(f"hsmtest-{spec}", KeySpec.parse(spec))
    return EC_SPECS + RSA_SPECS


def test_token_is_found(softhsm_token: SoftHSMToken) -> None:
    module = PKCS11Module(softhsm_token.module)
    labels = [t.label for t in module.tokens() if t.initialized]
    assert softhsm_token.label in labels
    assert module.token(softhsm_token.label).info.model.startswith("SoftHSM")


@pytest.mark.parametrize("spec", EC_SPECS + RSA_SPECS)
def test_generated_keys_are_sensitive_and_not_extractable(
    session: HSMSession, generated: list[str], spec: str
) -> None:
    key = session.key(f"hsmtest-{spec}")
    assert key.key_spec == KeySpec.parse(spec)
    attrs = key.attributes()
    assert attrs["CKA_EXTRACTABLE"] is False
    assert attrs["CKA_SENSITIVE"] is True
    assert attrs["CKA_PRIVATE"] is True
    assert attrs["CKA_TOKEN"] is True
    assert attrs["CKA_NEVER_EXTRACTABLE"] is True
    with pytest.raises(HSMError) as err:
        key.export_private_value()
    assert err.value.code == "CKR_ATTRIBUTE_SENSITIVE"
    assert err.value.function == "C_GetAttributeValue"


@pytest.mark.parametrize("spec", EC_SPECS)
@pytest.mark.parametrize("hash_name", ["sha1", "sha256", "sha384", "sha512"])
def test_ecdsa_signatures_verify_with_cryptography(
    session: HSMSession, generated: list[str], spec: str, hash_name: str
) -> None:
    key = session.key(f"hsmtest-{spec}")
    assert isinstance(key, Signer)
    alg = SignatureAlgorithm.ecdsa(hash_name)  # type: ignore[arg-type]
    data = f"ICAO 9303 {spec} {hash_name}".encode()
    sig = key.sign(data, alg)
    assert verify_signature(key.public_key(), sig, data, alg)
    assert not verify_signature(key.public_key(), sig, data + b"!", alg)


@pytest.mark.parametrize("spec", RSA_SPECS)
@pytest.mark.parametrize(
    "alg",
    [
        SignatureAlgorithm.rsa_pss("sha256"),
        SignatureAlgorithm.rsa_pss("sha512"),
        SignatureAlgorithm.rsa_pkcs1v15("sha256"),
        SignatureAlgorithm.rsa_pkcs1v15("sha384"),
    ],
    ids=str,
)
def test_rsa_signatures_verify_with_cryptography(
    session: HSMSession, generated: list[str], spec: str, alg: SignatureAlgorithm
) -> None:
    key = session.key(f"hsmtest-{spec}")
    sig = key.sign(b"document security object", alg)
    assert len(sig) == key.key_spec.bits // 8
    assert verify_signature(key.public_key(), sig, b"document security object", alg)
    assert not verify_signature(key.public_key(), sig, b"document security objecT", alg)


def test_wrong_pin_is_hsm_error_without_the_pin(softhsm_token: SoftHSMToken) -> None:
    token = PKCS11Module(softhsm_token.module).token(softhsm_token.label)
    with pytest.raises(HSMError) as err, token.session(lambda: "98765432"):
        pass
    assert err.value.function == "C_Login"
    assert err.value.code == "CKR_PIN_INCORRECT"
    assert "98765432" not in str(err.value) and softhsm_token.pin not in str(err.value)


def test_a_pin_callback_that_raises_leaves_no_session_open(softhsm_token: SoftHSMToken) -> None:
    """A session left open by a failed PIN callback would keep the next login alive after its
    own session closed (login is per application), and a wrong PIN would then pass unseen."""
    token = PKCS11Module(softhsm_token.module).token(softhsm_token.label)

    def no_pin() -> str:
        raise KeyStoreError("no PIN given")

    with pytest.raises(KeyStoreError, match="no PIN given"), token.session(no_pin):
        pass
    with token.session(lambda: softhsm_token.pin):
        pass  # logged in, then closed: the application is logged out again
    with pytest.raises(HSMError) as err, token.session(lambda: "98765432"):
        pass
    assert err.value.code == "CKR_PIN_INCORRECT"


def test_unknown_key_token_and_module(session: HSMSession, softhsm_token: SoftHSMToken) -> None:
    with pytest.raises(KeyStoreError, match="no private key"):
        session.key("no-such-key")
    with pytest.raises(KeyStoreError, match="no private key"):
        session.key(key_id=b"\x00\x01")
    with pytest.raises(KeyStoreError, match="no initialised token"):
        PKCS11Module(softhsm_token.module).token("no-such-token")
    with pytest.raises(HSMError) as err:
        PKCS11Module("/nonexistent/libpkcs11.so")
    assert err.value.code == "CKR_LIBRARY_LOAD_FAILED"


def test_generate_duplicate_label_and_wrong_scheme(session: HSMSession) -> None:
    key = session.generate_key("hsmtest-dup", KeySpec.parse("ec-p256"))
    assert "hsmtest-dup" in session.labels()
    with pytest.raises(KeyStoreError, match="already exists"):
        session.generate_key("hsmtest-dup", KeySpec.parse("ec-p256"))
    with pytest.raises(KeyStoreError):
        key.sign(b"x", SignatureAlgorithm.rsa_pss())
    found = session.key(key_id=key.key_id)
    assert found.public_key() == key.public_key()
    session.destroy_key("hsmtest-dup")
    with pytest.raises(KeyStoreError):
        session.key("hsmtest-dup")


def test_key_unusable_after_session_closes(module_token: SoftHSMToken) -> None:
    token = PKCS11Module(module_token.module).token(module_token.label)
    with token.session(lambda: module_token.pin) as s:
        key = s.generate_key("hsmtest-closed", KeySpec.parse("ec-p256"))
    with pytest.raises(HSMError):
        key.sign(b"x", key.algorithm)


def test_without_login_private_keys_are_invisible(module_token: SoftHSMToken) -> None:
    token = PKCS11Module(module_token.module).token(module_token.label)
    with token.session(lambda: module_token.pin) as s:
        s.generate_key("hsmtest-private", KeySpec.parse("ec-p256"))
    with token.session(None) as anonymous, pytest.raises(KeyStoreError):
        anonymous.key("hsmtest-private")


_USAGES = {
    "CKA_SIGN": True,
    "CKA_DECRYPT": False,
    "CKA_UNWRAP": False,
    "CKA_DERIVE": False,
    "CKA_SIGN_RECOVER": False,
    "CKA_MODIFIABLE": False,
    "CKA_EXTRACTABLE": False,
    "CKA_SENSITIVE": True,
}


@pytest.mark.parametrize("spec", ["rsa-2048", "ec-brainpoolP256r1"])
def test_signing_key_template_states_every_usage(
    fresh_softhsm_token: SoftHSMToken, spec: str
) -> None:
    """Issue 9 item 5: read back from the token itself, not from our template."""
    t = fresh_softhsm_token
    with PKCS11Module(t.module).token(t.label).session(lambda: t.pin) as s:
        key = s.generate_key("ds-1", KeySpec.parse(spec))
        names = list(_USAGES)
        raw = s.raw.getAttributeValue(key.handle, [getattr(PyKCS11, n) for n in names])
        assert {n: bool(v) for n, v in zip(names, raw, strict=True)} == _USAGES
        assert {n: key.attributes()[n] for n in names} == _USAGES
        pub = s.raw.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY),
                                 (PyKCS11.CKA_ID, key.key_id)])[0]  # fmt: skip
        pub_names = ["CKA_VERIFY", "CKA_ENCRYPT", "CKA_WRAP", "CKA_VERIFY_RECOVER",
                     "CKA_DERIVE", "CKA_MODIFIABLE"]  # fmt: skip
        pub_raw = s.raw.getAttributeValue(pub, [getattr(PyKCS11, n) for n in pub_names])
        assert [bool(v) for v in pub_raw] == [True, False, False, False, False, False]


def test_unwrap_and_decrypt_with_a_ds_key_are_refused(fresh_softhsm_token: SoftHSMToken) -> None:
    t = fresh_softhsm_token
    with PKCS11Module(t.module).token(t.label).session(lambda: t.pin) as s:
        key = s.generate_key("ds-1", KeySpec.parse("rsa-2048"))
        public = key.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        wrapped = public.encrypt(os.urandom(32), padding.PKCS1v15())
        template = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY),
                    (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_AES), (PyKCS11.CKA_TOKEN, False)]
        mechanism = PyKCS11.Mechanism(PyKCS11.CKM_RSA_PKCS, None)
        with pytest.raises(PyKCS11.PyKCS11Error) as err:
            s.raw.unwrapKey(key.handle, wrapped, template, mechanism)
        assert err.value.value == PyKCS11.CKR_KEY_FUNCTION_NOT_PERMITTED
        with pytest.raises(PyKCS11.PyKCS11Error) as err:
            s.raw.decrypt(key.handle, wrapped, mechanism)
        assert err.value.value == PyKCS11.CKR_KEY_FUNCTION_NOT_PERMITTED
        with pytest.raises(PyKCS11.PyKCS11Error) as err:  # not modifiable: usages stay as made
            s.raw.setAttributeValue(key.handle, [(PyKCS11.CKA_UNWRAP, PyKCS11.CK_TRUE)])
        assert err.value.value in (PyKCS11.CKR_ATTRIBUTE_READ_ONLY, PyKCS11.CKR_ACTION_PROHIBITED)


class _Boom(Exception):
    pass


def test_an_error_in_a_lost_session_is_not_replaced_by_the_close(
    module_token: SoftHSMToken,
) -> None:
    """Closing a session the token has dropped reports nothing of its own (issue 9 item 6)."""
    module = PKCS11Module(module_token.module)
    token = module.token(module_token.label)

    def lose_then(action: Callable[[HSMSession], object]) -> None:
        with token.session(lambda: module_token.pin) as s:
            module._lib.closeAllSessions(token.info.slot)
            action(s)

    def boom(_: HSMSession) -> None:
        raise _Boom

    with pytest.raises(_Boom):
        lose_then(boom)
    with pytest.raises(HSMError) as err:
        lose_then(lambda s: s.labels())
    assert (err.value.function, err.value.code) == ("C_FindObjects", "CKR_SESSION_HANDLE_INVALID")
    s = token.session(lambda: module_token.pin).__enter__()
    module._lib.closeAllSessions(token.info.slot)
    s.close()  # already gone: closed, no error
    with pytest.raises(HSMError, match="not open"):
        s.labels()
