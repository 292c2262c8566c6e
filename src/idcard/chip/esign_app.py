"""The e-signature application of the virtual chip (docs/chip.md, "E-signature on the card").

A second application next to the eMRTD one, selected by :data:`~idcard.esign.protocol.ESIGN_AID`.
It holds one signature key pair generated on the chip (ISO/IEC 7816-8 GENERATE ASYMMETRIC KEY
PAIR), a PIN and a PUK with persistent retry counters (ISO/IEC 7816-4 §11.5: VERIFY, CHANGE
REFERENCE DATA, RESET RETRY COUNTER), and signs hashes with PSO: COMPUTE DIGITAL SIGNATURE
(ISO/IEC 7816-8 §11.2) only after the PIN was verified in the current session. The private key
never leaves the chip: no command returns it.

After the lock, key generation, the initial PIN/PUK and the certificate files are reachable only
under the personalization secure channel (:class:`~idcard.esign.protocol.PersoAuthChip`, keyed
with the card's own K_perso written at personalization). Generation wipes the PIN, PUK and
certificates, and an initial PIN can only be set while none is set, so K_perso never gives its
holder the use of an existing signing key. A blocked PUK ends signing on this card for good.

:class:`ESignApplication` is driven by :class:`~idcard.chip.emrtd.VirtualChip`: it is handed every
command except SELECT and READ BINARY while its DF is selected.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Callable

from asn1crypto import algos
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.chip.perso import chip_create_file, chip_update_binary, decode_create_file
from idcard.chip.state import ESIGN, ChipState
from idcard.errors import DecodeError, EncodeError
from idcard.esign.protocol import (
    ALG_ECDSA_DER,
    ALG_ECDSA_PLAIN,
    ALG_RSA_PKCS1,
    ALG_RSA_PSS,
    ALG_RSA_RAW,
    CERTIFICATE_FIDS,
    KEY_REF,
    KEY_TYPES,
    PERSO_KEY_LENGTHS,
    PIN_REF,
    PIN_TRIES,
    PUK_REF,
    PUK_TRIES,
    TAG_PERSO_KEY,
    PersoAuthChip,
    encode_public_key,
    parse_pin_block,
)
from idcard.sm import SecureChannel

__all__ = ["ESIGN_PERSO", "ESignApplication"]

log = logging.getLogger(__name__)

ESIGN_PERSO = "ESIGN-PERSO"
"""``VirtualChip.access`` while the personalization secure channel is open."""

Rng = Callable[[int], bytes]

_HASH_BY_SIZE: dict[int, type[hashes.HashAlgorithm]] = {
    20: hashes.SHA1, 28: hashes.SHA224, 32: hashes.SHA256, 48: hashes.SHA384, 64: hashes.SHA512,
}  # fmt: skip


def _sw(sw: int) -> ResponseAPDU:
    return ResponseAPDU(b"", sw)


def _tries(n: int) -> ResponseAPDU:
    return _sw(0x63C0 | n if n else StatusWord.AUTH_METHOD_BLOCKED)


def reference_data(digits: bytes, salt: bytes) -> bytes:
    """What the chip keeps of a PIN or PUK: salt ‖ SHA-256(salt ‖ digits)."""
    return salt + hashlib.sha256(salt + digits).digest()


def _matches(stored: bytes, digits: bytes) -> bool:
    return hmac.compare_digest(reference_data(digits, stored[:16]), stored)


class ESignApplication:
    """The application's commands over the chip's persistent ``state`` (see module doc)."""

    def __init__(
        self,
        state: ChipState,
        *,
        open_session: Callable[[SecureChannel], None],
        rng: Rng = os.urandom,
    ) -> None:
        self.state = state
        self._open_session = open_session
        self._rng = rng
        self.deselect()

    def deselect(self) -> None:
        """Power cycle, reset, another SELECT, or the end (or start) of secure messaging: the
        PIN is no longer verified (ISO/IEC 7816-4 §5.4: the security status ends with the
        channel it was obtained in)."""
        self.pin_verified = False
        self._algorithm: int | None = None
        self._auth: PersoAuthChip | None = None

    # -- dispatch ------------------------------------------------------------------------------

    def handle(self, command: CommandAPDU, *, protected: bool, perso_channel: bool) -> ResponseAPDU:
        """One command (already unwrapped when it came under secure messaging)."""
        if command.cla != 0x00:
            return _sw(StatusWord.CLA_NOT_SUPPORTED)
        ins = command.ins
        try:
            if ins in (0x84, 0x82):
                return self._mutual_authentication(command, protected)
            if ins == 0x20:
                return self._verify(command)
            if ins == 0x24:
                return self._change(command, protected, perso_channel)
            if ins == 0x2C:
                return self._reset_retry_counter(command)
            if ins == 0x22:
                return self._manage_security_environment(command)
            if ins == 0x2A:
                return self._sign(command)
            if ins in (0x46, 0x47):
                return self._generate(command, protected, perso_channel)
            if ins == 0xDA:
                return self._put_data(command, protected)
            if ins in (0xE0, 0xD7):
                return self._write_file(command, protected, perso_channel)
        except (DecodeError, EncodeError):
            return _sw(StatusWord.WRONG_DATA)
        return _sw(StatusWord.INS_NOT_SUPPORTED)

    def _may_personalize(self, protected: bool, perso_channel: bool) -> bool:
        return perso_channel or (not self.state.locked and not protected)

    @property
    def terminated(self) -> bool:
        """A blocked PUK: signing is over for this card."""
        return self.state.esign_puk is not None and self.state.esign_puk_tries == 0

    # -- personalization channel ---------------------------------------------------------------

    def _mutual_authentication(self, command: CommandAPDU, protected: bool) -> ResponseAPDU:
        key = self.state.esign_perso_key
        if protected:
            return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
        if key is None:
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if command.ins == 0x84:
            self._auth = PersoAuthChip(key, rng=self._rng)
        if self._auth is None:
            return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
        response = self._auth.handle(command)
        channel = self._auth.channel
        if command.ins == 0x82:
            self._auth = None
        if channel is not None:
            self._open_session(channel)
        return response

    def _put_data(self, command: CommandAPDU, protected: bool) -> ResponseAPDU:
        if self.state.locked or protected:
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        if (command.p1, command.p2) != (0x00, TAG_PERSO_KEY):
            return _sw(StatusWord.INCORRECT_P1P2)
        if len(command.data) not in PERSO_KEY_LENGTHS:
            return _sw(StatusWord.WRONG_DATA)
        self.state.esign_perso_key = bytes(command.data)
        return ResponseAPDU(b"")

    def _write_file(self, command: CommandAPDU, protected: bool, perso: bool) -> ResponseAPDU:
        """CREATE FILE ``63 04 size fid`` and UPDATE BINARY ``00 D7 fid(P1-P2)`` with DO'54'
        offset and DO'53' data, for the certificate files only."""
        if not self._may_personalize(protected, perso):
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        files = self.state.files[ESIGN]
        if command.ins == 0xE0:
            size, fid = decode_create_file(command.data)
            if fid not in CERTIFICATE_FIDS:
                return _sw(StatusWord.WRONG_DATA)
            chip_create_file(self.state, ESIGN, fid, size)
            return ResponseAPDU(b"")
        fid = (command.p1 << 8) | command.p2
        items = tlv.decode_all(command.data)
        do54, do53 = tlv.find(items, 0x54), tlv.find(items, 0x53)
        if do54 is None or do53 is None or not 1 <= len(do54.value) <= 3:
            return _sw(StatusWord.WRONG_DATA)
        if fid not in files:
            return _sw(StatusWord.FILE_NOT_FOUND)
        offset = int.from_bytes(do54.value, "big")
        if not chip_update_binary(self.state, ESIGN, fid, offset, do53.value):
            return _sw(StatusWord.NOT_ENOUGH_MEMORY)
        return ResponseAPDU(b"")

    # -- key generation ------------------------------------------------------------------------

    def _generate(self, command: CommandAPDU, protected: bool, perso: bool) -> ResponseAPDU:
        state = self.state
        if command.p1 == 0x81 and command.p2 == 0x00:  # read the public key: anyone
            if state.esign_key is None:
                return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
            return ResponseAPDU(encode_public_key(state.esign_key.public_key()))
        if (command.p1, command.p2) != (0x00, 0x00):
            return _sw(StatusWord.INCORRECT_P1P2)
        if not self._may_personalize(protected, perso):
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        if self.terminated:
            return _sw(StatusWord.AUTH_METHOD_BLOCKED)
        items = tlv.decode_all(command.data)
        if len(items) == 1 and items[0].tag in (0xB6, 0xA4, 0xAC):
            items = items[0].children()
        ref, alg = tlv.find(items, 0x84), tlv.find(items, 0x80)
        if ref is None or ref.value != bytes([KEY_REF]):
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        key_type = KEY_TYPES.get(alg.value[0] if alg is not None and len(alg.value) == 1 else 1)
        if alg is not None and (len(alg.value) != 1 or key_type is None):
            return _sw(StatusWord.FUNCTION_NOT_SUPPORTED)
        assert key_type is not None
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if key_type.kind == "ec":
            curve = ec.SECP256R1() if key_type.bits == 256 else ec.SECP384R1()
            key = ec.generate_private_key(curve)
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=key_type.bits)
        state.esign_key = key
        state.esign_pin = state.esign_puk = None
        state.esign_pin_tries, state.esign_puk_tries = PIN_TRIES, PUK_TRIES
        state.files[ESIGN].clear()
        state.unwritten.pop(ESIGN, None)
        self.deselect()
        log.info("e-sign key pair generated (%s)", key_type.name)
        return ResponseAPDU(encode_public_key(key.public_key()))

    # -- PIN and PUK ---------------------------------------------------------------------------

    def _verify(self, command: CommandAPDU) -> ResponseAPDU:
        state = self.state
        if command.p2 != PIN_REF:
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if command.p1 == 0xFF and not command.data:  # reset the verification status
            self.pin_verified = False
            return ResponseAPDU(b"")
        if command.p1 != 0x00:
            return _sw(StatusWord.INCORRECT_P1P2)
        if state.esign_pin is None:
            return _sw(StatusWord.REFERENCE_DATA_NOT_USABLE)
        if self.terminated or state.esign_pin_tries == 0:
            return _sw(StatusWord.AUTH_METHOD_BLOCKED)
        if not command.data:
            return ResponseAPDU(b"") if self.pin_verified else _tries(state.esign_pin_tries)
        digits = parse_pin_block(command.data)
        if digits is None:
            return _sw(StatusWord.WRONG_DATA)
        if not _matches(state.esign_pin, digits):
            self.pin_verified = False
            state.esign_pin_tries -= 1
            return _tries(state.esign_pin_tries)
        state.esign_pin_tries = PIN_TRIES
        self.pin_verified = True
        return ResponseAPDU(b"")

    def _change(self, command: CommandAPDU, protected: bool, perso: bool) -> ResponseAPDU:
        """P1 00: old ‖ new (PIN 81 or PUK 82); P1 01: the initial value only, allowed while
        none is set and only to personalization (before the lock, or over its channel)."""
        state, ref, data = self.state, command.p2, command.data
        if ref not in (PIN_REF, PUK_REF):
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        puk = ref == PUK_REF
        stored = state.esign_puk if puk else state.esign_pin
        if command.p1 == 0x01:
            if not self._may_personalize(protected, perso):
                return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
            if stored is not None:
                return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
            if state.esign_key is None:
                return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
            new = parse_pin_block(data, puk=puk)
            if new is None:
                return _sw(StatusWord.WRONG_DATA)
            self._set(puk, new)
            return ResponseAPDU(b"")
        if command.p1 != 0x00:
            return _sw(StatusWord.INCORRECT_P1P2)
        if stored is None:
            return _sw(StatusWord.REFERENCE_DATA_NOT_USABLE)
        tries = state.esign_puk_tries if puk else state.esign_pin_tries
        if self.terminated or tries == 0:
            return _sw(StatusWord.AUTH_METHOD_BLOCKED)
        old, new = parse_pin_block(data[:8], puk=puk), parse_pin_block(data[8:], puk=puk)
        if len(data) != 16 or old is None or new is None:
            return _sw(StatusWord.WRONG_DATA)
        if not _matches(stored, old):
            return self._wrong(puk)
        self._set(puk, new)
        if not puk:
            self.pin_verified = True
        return ResponseAPDU(b"")

    def _reset_retry_counter(self, command: CommandAPDU) -> ResponseAPDU:
        """P1 00: PUK ‖ new PIN; P1 01: PUK only (unblock, keep the PIN). P2 = the PIN's ref."""
        state, data = self.state, command.data
        if command.p2 != PIN_REF:
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if command.p1 not in (0x00, 0x01):
            return _sw(StatusWord.INCORRECT_P1P2)
        if state.esign_puk is None or state.esign_pin is None:
            return _sw(StatusWord.REFERENCE_DATA_NOT_USABLE)
        if self.terminated:
            return _sw(StatusWord.AUTH_METHOD_BLOCKED)
        want = 16 if command.p1 == 0x00 else 8
        puk = parse_pin_block(data[:8], puk=True)
        new = parse_pin_block(data[8:]) if command.p1 == 0x00 else b""
        if len(data) != want or puk is None or new is None:
            return _sw(StatusWord.WRONG_DATA)
        if not _matches(state.esign_puk, puk):
            return self._wrong(True)
        state.esign_puk_tries = PUK_TRIES
        if new:
            self._set(False, new)
        state.esign_pin_tries = PIN_TRIES
        self.pin_verified = False
        return ResponseAPDU(b"")

    def _set(self, puk: bool, digits: bytes) -> None:
        value = reference_data(digits, self._rng(16))
        if puk:
            self.state.esign_puk, self.state.esign_puk_tries = value, PUK_TRIES
        else:
            self.state.esign_pin, self.state.esign_pin_tries = value, PIN_TRIES

    def _wrong(self, puk: bool) -> ResponseAPDU:
        state = self.state
        if puk:
            state.esign_puk_tries = max(state.esign_puk_tries - 1, 0)
            if state.esign_puk_tries == 0:
                log.warning("e-sign PUK blocked: signing ends for this card")
            return _tries(state.esign_puk_tries)
        self.pin_verified = False
        state.esign_pin_tries = max(state.esign_pin_tries - 1, 0)
        return _tries(state.esign_pin_tries)

    # -- signing -------------------------------------------------------------------------------

    def _manage_security_environment(self, command: CommandAPDU) -> ResponseAPDU:
        """MSE:SET DST ``00 22 41 B6``: DO'84' key reference 01, DO'80' algorithm reference."""
        if (command.p1, command.p2) != (0x41, 0xB6):
            return _sw(StatusWord.INCORRECT_P1P2)
        items = tlv.decode_all(command.data)
        ref, alg = tlv.find(items, 0x84), tlv.find(items, 0x80)
        if ref is not None and ref.value != bytes([KEY_REF]):
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        key = self.state.esign_key
        if alg is None or len(alg.value) != 1 or key is None:
            return _sw(StatusWord.WRONG_DATA)
        ec_algs = (ALG_ECDSA_PLAIN, ALG_ECDSA_DER)
        rsa_algs = (ALG_RSA_PKCS1, ALG_RSA_RAW, ALG_RSA_PSS)
        allowed = ec_algs if isinstance(key, ec.EllipticCurvePrivateKey) else rsa_algs
        if alg.value[0] not in allowed:
            return _sw(StatusWord.FUNCTION_NOT_SUPPORTED)
        self._algorithm = alg.value[0]
        return ResponseAPDU(b"")

    def _sign(self, command: CommandAPDU) -> ResponseAPDU:
        if (command.p1, command.p2) != (0x9E, 0x9A):
            return _sw(StatusWord.INCORRECT_P1P2)
        key = self.state.esign_key
        if key is None:
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if self.terminated or self.state.esign_pin_tries == 0:
            return _sw(StatusWord.AUTH_METHOD_BLOCKED)
        if not self.pin_verified:
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        data = bytes(command.data)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            algorithm = self._algorithm or ALG_ECDSA_PLAIN
            hash_type = _HASH_BY_SIZE.get(len(data))
            if hash_type is None:
                return _sw(StatusWord.WRONG_DATA)
            der = key.sign(data, ec.ECDSA(Prehashed(hash_type())))
            if algorithm == ALG_ECDSA_DER:
                return ResponseAPDU(der)
            size = (key.curve.key_size + 7) // 8
            r, s = decode_dss_signature(der)
            return ResponseAPDU(r.to_bytes(size, "big") + s.to_bytes(size, "big"))
        return self._sign_rsa(key, self._algorithm or ALG_RSA_PKCS1, data)

    @staticmethod
    def _sign_rsa(key: rsa.RSAPrivateKey, algorithm: int, data: bytes) -> ResponseAPDU:
        k = (key.key_size + 7) // 8
        if algorithm == ALG_RSA_RAW:
            m = int.from_bytes(data, "big")
            n = key.public_key().public_numbers().n
            if len(data) != k or m >= n:
                return _sw(StatusWord.WRONG_DATA)
            return ResponseAPDU(pow(m, key.private_numbers().d, n).to_bytes(k, "big"))
        if algorithm == ALG_RSA_PSS:
            hash_type = _HASH_BY_SIZE.get(len(data))
            if hash_type is None:
                return _sw(StatusWord.WRONG_DATA)
            h = hash_type()
            pss = padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
            return ResponseAPDU(key.sign(data, pss, Prehashed(h)))
        try:
            info = algos.DigestInfo.load(data)
            name = info["digest_algorithm"]["algorithm"].native
            digest = bytes(info["digest"].native)
        except (ValueError, TypeError, KeyError):
            return _sw(StatusWord.WRONG_DATA)
        hash_type = _HASH_BY_SIZE.get(len(digest))
        if hash_type is None or hash_type.name != name or info.dump() != data:
            return _sw(StatusWord.WRONG_DATA)
        return ResponseAPDU(key.sign(digest, padding.PKCS1v15(), Prehashed(hash_type())))
