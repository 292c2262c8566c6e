"""PKCS#11 tokens (HSMs) through PyKCS11, wrapped once in a small typed object model.

``PKCS11Module(path)`` → :meth:`~PKCS11Module.token` ``(label)`` → :meth:`~Token.session`
``(pin_callback)`` as a context manager → :class:`HSMKey` found by label or id. An :class:`HSMKey`
is a :class:`~pki.keys.Signer`. Keys generated here stay on the token: private, sensitive,
non-extractable, not modifiable, and only for signing — every usage attribute is stated, none left
to the token's defaults (PKCS#11 v2.40 §4.9). Hashing is done on the host and the token signs
the digest (``CKM_ECDSA``, ``CKM_RSA_PKCS`` over a DigestInfo, ``CKM_RSA_PKCS_PSS``): the portable
mechanisms every token, SoftHSM2 included, offers.

Every :class:`PyKCS11.PyKCS11Error` becomes :class:`~pki.errors.HSMError` naming the PKCS#11
function and the return code (``CKR_PIN_INCORRECT``…); the PIN is never in a message.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import PyKCS11
from asn1crypto import core
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pki.errors import HSMError, KeyStoreError
from pki.keys import (
    CURVES,
    KeySpec,
    PublicKey,
    SignatureAlgorithm,
    SignatureScheme,
    TokenSigner,
)

__all__ = ["HSMKey", "HSMSession", "PINCallback", "PKCS11Module", "Token", "TokenInfo", "open_key"]

PINCallback = Callable[[], str]
T = TypeVar("T")

_MGF = {
    "sha1": (PyKCS11.CKM_SHA_1, PyKCS11.CKG_MGF1_SHA1),
    "sha224": (PyKCS11.CKM_SHA224, PyKCS11.CKG_MGF1_SHA224),
    "sha256": (PyKCS11.CKM_SHA256, PyKCS11.CKG_MGF1_SHA256),
    "sha384": (PyKCS11.CKM_SHA384, PyKCS11.CKG_MGF1_SHA384),
    "sha512": (PyKCS11.CKM_SHA512, PyKCS11.CKG_MGF1_SHA512),
}


def _code_name(value: int) -> str:
    if value < 0:
        return "CKR_LIBRARY_LOAD_FAILED" if value == -1 else "CKR_TEMPLATE_INVALID"
    name = PyKCS11.CKR.get(value)
    return name if isinstance(name, str) else f"0x{value:08X}"


def _call(function: str, fn: Callable[..., T], *args: Any) -> T:
    """Run one PyKCS11 call; its PyKCS11Error becomes HSMError(function, CKR name)."""
    try:
        return fn(*args)
    except PyKCS11.PyKCS11Error as exc:
        raise HSMError(function, _code_name(int(exc.value))) from None


_GONE = frozenset({
    "CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED", "CKR_DEVICE_REMOVED",
    "CKR_TOKEN_NOT_PRESENT",
})  # fmt: skip
"""Return codes of a session that no longer exists on the token."""

_LOADED: dict[str, Any] = {}
_LOAD_LOCK = threading.Lock()


def _load(path: str) -> Any:
    """The process-wide PyKCS11Lib of ``path``, loaded (C_Initialize) once and kept.

    PyKCS11 finalises and unloads a library when its last PyKCS11Lib object is collected, and
    some modules (SoftHSM2 among them) do not come back cleanly after that in the same process;
    so one object per module path lives as long as the process.
    """
    with _LOAD_LOCK:
        lib = _LOADED.get(path)
        if lib is None:
            lib = PyKCS11.PyKCS11Lib()
            _call("C_Initialize", lib.load, path)
            _LOADED[path] = lib
        return lib


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a slot's token says about itself (no secret)."""

    slot: int
    label: str
    manufacturer: str
    model: str
    serial: str
    initialized: bool


class PKCS11Module:
    """A loaded PKCS#11 library (e.g. ``/usr/lib/softhsm/libsofthsm2.so``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        if not Path(self.path).is_file():
            raise HSMError(
                "C_Initialize", "CKR_LIBRARY_LOAD_FAILED", f"no PKCS#11 module at {path}"
            )
        self._lib = _load(self.path)

    def __repr__(self) -> str:
        return f"PKCS11Module({self.path!r})"

    def tokens(self) -> list[TokenInfo]:
        """The tokens present in the module's slots."""
        out = []
        for slot in _call("C_GetSlotList", self._lib.getSlotList, True):
            info = _call("C_GetTokenInfo", self._lib.getTokenInfo, slot)
            out.append(
                TokenInfo(
                    slot=int(slot),
                    label=str(info.label).strip(),
                    manufacturer=str(info.manufacturerID).strip(),
                    model=str(info.model).strip(),
                    serial=str(info.serialNumber).strip(),
                    initialized=bool(info.flags & PyKCS11.CKF_TOKEN_INITIALIZED),
                )
            )
        return out

    def token(self, label: str) -> Token:
        """The token labelled ``label``; none, or more than one, raises KeyStoreError."""
        found = [t for t in self.tokens() if t.label == label and t.initialized]
        if not found:
            raise KeyStoreError(f"no initialised token labelled {label!r} in {self.path}")
        if len(found) > 1:
            raise KeyStoreError(f"{len(found)} tokens are labelled {label!r}")
        return Token(self, found[0])


class Token:
    """One token; open sessions on it with :meth:`session`."""

    def __init__(self, module: PKCS11Module, info: TokenInfo) -> None:
        self.module = module
        self.info = info

    def __repr__(self) -> str:
        return f"Token({self.info.label!r}, slot={self.info.slot})"

    @property
    def label(self) -> str:
        return self.info.label

    def session(self, pin: PINCallback | None, *, rw: bool = True) -> HSMSession:
        """A session (use ``with``); logged in as the user when ``pin`` is given."""
        return HSMSession(self, pin, rw=rw)


class HSMSession:
    """An open, logged-in session; a context manager that closes itself."""

    def __init__(self, token: Token, pin: PINCallback | None, *, rw: bool = True) -> None:
        self.token = token
        self._pin = pin
        self._rw = rw
        self._session: Any = None

    def __enter__(self) -> HSMSession:
        lib = self.token.module._lib
        flags = PyKCS11.CKF_SERIAL_SESSION | (PyKCS11.CKF_RW_SESSION if self._rw else 0)
        self._session = _call("C_OpenSession", lib.openSession, self.token.info.slot, flags)
        if self._pin is not None:
            try:
                self._session.login(self._pin())
            except PyKCS11.PyKCS11Error as exc:
                code = int(exc.value)
                if code != PyKCS11.CKR_USER_ALREADY_LOGGED_IN:
                    self.close()
                    raise HSMError("C_Login", _code_name(code)) from None
            except BaseException:  # no PIN given (the callback raised): no session left open,
                self.close()  # else it would keep a later login alive after its session ended
                raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        try:  # the error that ended the block is the one to report, not the close's
            self.close()
        except HSMError:
            pass

    def close(self) -> None:
        """Close the session (closing the last one logs the application out).

        A session the token has already dropped (``CKR_SESSION_HANDLE_INVALID``, ``…_CLOSED``,
        device removed) counts as closed.
        """
        if self._session is not None:
            session, self._session = self._session, None
            try:
                _call("C_CloseSession", session.closeSession)
            except HSMError as err:
                if err.code not in _GONE:
                    raise

    @property
    def raw(self) -> Any:
        """The PyKCS11 session (hazmat; for benchmarks and tests of the wrapper itself)."""
        if self._session is None:
            raise HSMError("C_OpenSession", "CKR_SESSION_CLOSED", "the session is not open")
        return self._session

    # -- finding -------------------------------------------------------------------------------

    def _find(self, template: list[tuple[int, Any]]) -> list[Any]:
        return list(_call("C_FindObjects", self.raw.findObjects, template))

    def _attrs(self, handle: Any, attrs: list[int]) -> list[Any]:
        return list(_call("C_GetAttributeValue", self.raw.getAttributeValue, handle, attrs))

    def _attr_strict(self, handle: Any, attr: int) -> bytes:
        """One attribute's bytes, or HSMError with the token's own refusal (e.g. sensitive)."""
        session = self.raw
        tmpl = PyKCS11.LowLevel.ckattrlist(1)
        tmpl[0].SetType(attr)
        for _ in range(2):  # size, then value
            rv = session.lib.C_GetAttributeValue(session.session, handle, tmpl)
            if rv != PyKCS11.CKR_OK:
                raise HSMError("C_GetAttributeValue", _code_name(int(rv)))
        return bytes(tmpl[0].GetBin())

    def labels(self) -> list[str]:
        """Labels of the private keys visible in this session, sorted."""
        handles = self._find([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)])
        names = [str(self._attrs(h, [PyKCS11.CKA_LABEL])[0]) for h in handles]
        return sorted(names)

    def key(
        self,
        label: str | None = None,
        *,
        key_id: bytes | None = None,
        algorithm: SignatureAlgorithm | None = None,
    ) -> HSMKey:
        """The private key with ``label`` and/or ``key_id``; none or several → KeyStoreError."""
        if label is None and key_id is None:
            raise KeyStoreError("give a key label or id")
        template: list[tuple[int, Any]] = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)]
        if label is not None:
            template.append((PyKCS11.CKA_LABEL, label))
        if key_id is not None:
            template.append((PyKCS11.CKA_ID, key_id))
        found = self._find(template)
        what = repr(label) if label is not None else f"id {key_id.hex() if key_id else ''}"
        if not found:
            raise KeyStoreError(f"no private key {what} on token {self.token.label!r}")
        if len(found) > 1:
            raise KeyStoreError(f"{len(found)} private keys match {what}")
        return self._key_from_handle(found[0], algorithm)

    def certificates(self, key_id: bytes) -> list[bytes]:
        """The DER of each X.509 certificate object on the token with CKA_ID ``key_id`` (the
        key's own certificate, as a PIV card or an HSM keeps it beside the key)."""
        found = self._find([(PyKCS11.CKA_CLASS, PyKCS11.CKO_CERTIFICATE),
                            (PyKCS11.CKA_CERTIFICATE_TYPE, PyKCS11.CKC_X_509),
                            (PyKCS11.CKA_ID, key_id)])  # fmt: skip
        return [self._attr_strict(h, PyKCS11.CKA_VALUE) for h in found]

    def _key_from_handle(self, handle: Any, algorithm: SignatureAlgorithm | None) -> HSMKey:
        label, key_id, key_type = self._attrs(
            handle, [PyKCS11.CKA_LABEL, PyKCS11.CKA_ID, PyKCS11.CKA_KEY_TYPE]
        )
        key_id = bytes(key_id)
        pubs = self._find(
            [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY), (PyKCS11.CKA_ID, key_id)]
        )
        if not pubs:
            raise KeyStoreError(f"the public key of {label!r} is not on the token")
        public = self._public_key(pubs[0], int(key_type))
        return HSMKey(self, handle, str(label), key_id, public, algorithm)

    def _public_key(self, handle: Any, key_type: int) -> PublicKey:
        if key_type == PyKCS11.CKK_EC:
            params, point = (self._attr_strict(handle, a) for a in (
                PyKCS11.CKA_EC_PARAMS, PyKCS11.CKA_EC_POINT))
            try:
                oid = core.ObjectIdentifier.load(params).dotted
                raw_point = core.OctetString.load(point).native
            except ValueError:
                raise KeyStoreError("the token returned a malformed EC public key") from None
            curve = next((c for c in CURVES.values() if c.oid == oid), None)
            if curve is None:
                raise KeyStoreError(f"unsupported curve {oid} on the token")
            try:
                return ec.EllipticCurvePublicKey.from_encoded_point(curve.curve(), raw_point)
            except ValueError:
                raise KeyStoreError("the token returned an invalid EC point") from None
        if key_type == PyKCS11.CKK_RSA:
            n = int.from_bytes(self._attr_strict(handle, PyKCS11.CKA_MODULUS), "big")
            e = int.from_bytes(self._attr_strict(handle, PyKCS11.CKA_PUBLIC_EXPONENT), "big")
            return rsa.RSAPublicNumbers(e, n).public_key()
        raise KeyStoreError(f"unsupported key type {PyKCS11.CKK.get(key_type, key_type)}")

    # -- generating ----------------------------------------------------------------------------

    def generate_key(
        self,
        label: str,
        spec: KeySpec,
        *,
        key_id: bytes | None = None,
        algorithm: SignatureAlgorithm | None = None,
    ) -> HSMKey:
        """Generate a key pair on the token: private, sensitive, never extractable, not
        modifiable, and usable only to sign (no decrypt, unwrap, derive or sign-recover).

        An existing label raises KeyStoreError; the token's refusal (e.g. an unsupported curve,
        ``CKR_CURVE_NOT_SUPPORTED``) raises HSMError.
        """
        if self._find([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_LABEL, label)]):
            raise KeyStoreError(f"key {label!r} already exists on token {self.token.label!r}")
        key_id = key_id if key_id is not None else os.urandom(16)
        t, f = PyKCS11.CK_TRUE, PyKCS11.CK_FALSE
        common: list[tuple[int, Any]] = [
            (PyKCS11.CKA_TOKEN, t),
            (PyKCS11.CKA_LABEL, label),
            (PyKCS11.CKA_ID, key_id),
        ]
        # Every usage is stated, none left to the token's defaults (SoftHSM2 defaults
        # CKA_UNWRAP, CKA_SIGN_RECOVER and CKA_MODIFIABLE to true): a signing key only signs.
        public: list[tuple[int, Any]] = [
            *common,
            (PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY),
            (PyKCS11.CKA_PRIVATE, f),
            (PyKCS11.CKA_MODIFIABLE, f),
            (PyKCS11.CKA_VERIFY, t),
            (PyKCS11.CKA_VERIFY_RECOVER, f),
            (PyKCS11.CKA_ENCRYPT, f),
            (PyKCS11.CKA_WRAP, f),
            (PyKCS11.CKA_DERIVE, f),
        ]
        private: list[tuple[int, Any]] = [
            *common,
            (PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY),
            (PyKCS11.CKA_PRIVATE, t),
            (PyKCS11.CKA_MODIFIABLE, f),
            (PyKCS11.CKA_SENSITIVE, t),
            (PyKCS11.CKA_EXTRACTABLE, f),
            (PyKCS11.CKA_SIGN, t),
            (PyKCS11.CKA_SIGN_RECOVER, f),
            (PyKCS11.CKA_DECRYPT, f),
            (PyKCS11.CKA_UNWRAP, f),
            (PyKCS11.CKA_DERIVE, f),
        ]
        if spec.kind == "ec":
            ec_params = core.ObjectIdentifier(spec.curve_oid).dump()
            public += [(PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_EC), (PyKCS11.CKA_EC_PARAMS, ec_params)]
            private.append((PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_EC))
            mechanism = PyKCS11.MechanismECGENERATEKEYPAIR
        else:
            public += [
                (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_RSA),
                (PyKCS11.CKA_MODULUS_BITS, spec.bits),
                (PyKCS11.CKA_PUBLIC_EXPONENT, b"\x01\x00\x01"),
            ]
            private.append((PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_RSA))
            mechanism = PyKCS11.MechanismRSAGENERATEKEYPAIR
        _pub, priv = _call(
            "C_GenerateKeyPair", self.raw.generateKeyPair, public, private, mechanism
        )
        return self._key_from_handle(priv, algorithm)

    def generate(self, label: str, spec: KeySpec) -> HSMKey:
        """:class:`~pki.keys.KeyStore` form of :meth:`generate_key`."""
        return self.generate_key(label, spec)

    def load(self, label: str) -> HSMKey:
        """:class:`~pki.keys.KeyStore` form of :meth:`key`."""
        return self.key(label)

    def destroy_key(
        self, label: str, *, key_id: bytes | None = None, missing_ok: bool = False
    ) -> None:
        """Destroy the private and public key objects labelled ``label`` (and, with ``key_id``,
        carrying that CKA_ID: only a key made with a known id, e.g. to undo a failed run).

        No such key raises KeyStoreError, or does nothing with ``missing_ok``.
        """
        template: list[tuple[int, Any]] = [(PyKCS11.CKA_LABEL, label)]
        if key_id is None:
            try:
                key_id = self.key(label).key_id
            except KeyStoreError:
                if missing_ok:
                    return
                raise
            template = []  # the private key's id: its public key may carry no label
        found = self._find([*template, (PyKCS11.CKA_ID, key_id)])
        if not found and not missing_ok:
            raise KeyStoreError(f"no key {label!r} with id {key_id.hex()} on the token")
        for h in found:
            _call("C_DestroyObject", self.raw.destroyObject, h)


_FLAGS = {
    "CKA_TOKEN": PyKCS11.CKA_TOKEN,
    "CKA_PRIVATE": PyKCS11.CKA_PRIVATE,
    "CKA_SENSITIVE": PyKCS11.CKA_SENSITIVE,
    "CKA_EXTRACTABLE": PyKCS11.CKA_EXTRACTABLE,
    "CKA_ALWAYS_SENSITIVE": PyKCS11.CKA_ALWAYS_SENSITIVE,
    "CKA_NEVER_EXTRACTABLE": PyKCS11.CKA_NEVER_EXTRACTABLE,
    "CKA_SIGN": PyKCS11.CKA_SIGN,
    "CKA_SIGN_RECOVER": PyKCS11.CKA_SIGN_RECOVER,
    "CKA_DECRYPT": PyKCS11.CKA_DECRYPT,
    "CKA_UNWRAP": PyKCS11.CKA_UNWRAP,
    "CKA_DERIVE": PyKCS11.CKA_DERIVE,
    "CKA_MODIFIABLE": PyKCS11.CKA_MODIFIABLE,
}


class HSMKey(TokenSigner):
    """A private key on a token, usable while its session is open; a :class:`Signer`."""

    def __init__(
        self,
        session: HSMSession,
        handle: Any,
        label: str,
        key_id: bytes,
        public: PublicKey,
        algorithm: SignatureAlgorithm | None = None,
    ) -> None:
        self._session = session
        self._handle = handle
        self.key_id = key_id
        super().__init__(public, label, algorithm)

    def __repr__(self) -> str:
        return f"HSMKey(label={self._label!r}, key={self._spec}, id={self.key_id.hex()})"

    @property
    def handle(self) -> Any:
        """The PyKCS11 object handle (hazmat)."""
        return self._handle

    def attributes(self) -> dict[str, bool]:
        """The key's protection flags as the token reports them (CKA_SENSITIVE, …)."""
        values = self._session._attrs(self._handle, list(_FLAGS.values()))
        return {name: bool(v) for name, v in zip(_FLAGS, values, strict=True)}

    def export_private_value(self) -> bytes:
        """Try to read the private value; a sensitive key makes the token refuse (HSMError).

        Exists to prove, in tests and audits, that the token keeps its keys: expect
        ``CKR_ATTRIBUTE_SENSITIVE``.
        """
        attr = PyKCS11.CKA_VALUE if self._spec.kind == "ec" else PyKCS11.CKA_PRIVATE_EXPONENT
        return self._session._attr_strict(self._handle, attr)

    def mechanism(self, algorithm: SignatureAlgorithm) -> Any:
        """The PyKCS11 mechanism signing a host-computed digest with ``algorithm``."""
        if algorithm.scheme is SignatureScheme.ECDSA:
            return PyKCS11.Mechanism(PyKCS11.CKM_ECDSA, None)
        if algorithm.scheme is SignatureScheme.RSA_PKCS1V15:
            return PyKCS11.Mechanism(PyKCS11.CKM_RSA_PKCS, None)
        hash_mech, mgf = _MGF[algorithm.hash_name]
        return PyKCS11.RSA_PSS_Mechanism(
            PyKCS11.CKM_RSA_PKCS_PSS, hash_mech, mgf, algorithm.effective_salt_length
        )

    def _sign_on_device(self, payload: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """C_Sign of the host-computed digest (or DigestInfo) with :meth:`mechanism`."""
        return bytes(
            _call(
                "C_Sign",
                self._session.raw.sign,
                self._handle,
                payload,
                self.mechanism(algorithm),
            )
        )


@contextmanager
def open_key(
    module_path: str, token_label: str, key_label: str, pin: PINCallback
) -> Iterator[HSMKey]:
    """Shortcut: load the module, open a logged-in session, yield the key, close."""
    with PKCS11Module(module_path).token(token_label).session(pin) as session:
        yield session.key(key_label)
