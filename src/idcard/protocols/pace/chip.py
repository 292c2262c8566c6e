"""PACE, chip side (ICAO 9303-11 §4.4) — hazmat; used by the virtual chip and the tests.

:class:`PACEChip` answers MSE:Set AT and the four GENERAL AUTHENTICATE commands for every
mapping (GM, IM, CAM), cipher suite and standardized domain parameter set it is configured with.
It is strict on purpose: wrong CLA (10 for the chained steps 1–3, 00 for step 4), P1-P2, Le
other than "as many as available", unknown or duplicated data objects, keys off the curve or
outside the subgroup, equal public keys and a wrong terminal token are all refused; any refusal
aborts the run (a new MSE:Set AT is needed) and is kept in :attr:`PACEChip.error`.

Status words: 6A80 bad data, 6A88 unknown password or parameters, 6985 command out of sequence,
6300 authentication failed (wrong token, i.e. wrong password), 6D00/6E00/6A86/6700 for a wrong
INS/CLA/P1-P2/Le.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import AuthenticationError, DecodeError, EncodeError
from idcard.protocols.pace.algorithms import (
    PACEAlgorithm,
    PACEPassword,
    auth_token,
    encrypt_chip_authentication_data,
    key_length,
    nonce_length,
    pseudo_random,
)
from idcard.protocols.pace.messages import (
    CHAINING_CLA,
    GA_INS,
    MSE_INS,
    MSE_SET_AT_P1P2,
    MSESetAT,
    parse_dynamic_data,
)
from idcard.protocols.pace.terminal import (
    STEP_KA,
    STEP_MAP,
    STEP_MSE,
    STEP_MUTUAL,
    STEP_NONCE,
    PACEResult,
    check_combination,
    resolve_domain,
)
from idcard.protocols.params import DomainParameters
from idcard.sm import SessionKeys, encrypt_cbc

__all__ = ["PACEChip"]

_SW_OK = 0x9000
_SW_AUTH_FAILED = 0x6300
_SW_WRONG_LENGTH = 0x6700
_SW_NOT_ALLOWED = 0x6985
_SW_WRONG_DATA = 0x6A80
_SW_P1P2 = 0x6A86
_SW_NOT_FOUND = 0x6A88
_SW_INS = 0x6D00
_SW_CLA = 0x6E00


class _Refusal(Exception):
    def __init__(self, sw: int, step: str, message: str) -> None:
        super().__init__(message)
        self.sw = sw
        self.step = step
        self.message = message


@dataclass(frozen=True, slots=True)
class _Selected:
    algorithm: PACEAlgorithm
    domain: DomainParameters
    password: PACEPassword
    chat: bool


class PACEChip:
    """Chip side of PACE. ``supported`` lists (protocol OID, parameter id or parameters) pairs
    the chip offers (as its EF.CardAccess would); ``passwords`` the passwords it knows.
    ``ca_private_key`` is SK_IC for PACE-CAM; ``cars`` the CARs returned (tags 87, 88) when the
    terminal sent a CHAT. ``nonce``, ``mapping_private_key`` and ``ephemeral_private_key`` fix
    the chip's random values (worked examples); otherwise they come from ``rng``.
    """

    def __init__(
        self,
        passwords: Iterable[PACEPassword],
        supported: Iterable[tuple[str, int | DomainParameters]],
        *,
        ca_private_key: int | None = None,
        cars: tuple[bytes, ...] = (),
        rng: Callable[[int], bytes] = os.urandom,
        nonce: bytes | None = None,
        mapping_private_key: int | None = None,
        ephemeral_private_key: int | None = None,
        record: bool = False,
    ) -> None:
        self._passwords = {p.ref: p for p in passwords}
        self._supported: list[tuple[PACEAlgorithm, DomainParameters]] = []
        for oid, params in supported:
            algorithm = PACEAlgorithm.from_oid(oid)
            domain = resolve_domain(params)
            check_combination(algorithm, domain)
            if algorithm.mapping == "CAM" and ca_private_key is None:
                raise EncodeError("PACE-CAM needs the chip's static private key SK_IC")
            self._supported.append((algorithm, domain))
        self._sk_ic = ca_private_key
        self._cars = cars[:2]
        self._rng = rng
        self._fixed_nonce = nonce
        self._fixed_map_sk = mapping_private_key
        self._fixed_eph_sk = ephemeral_private_key
        self._record = record
        self.trace: dict[str, bytes] = {}
        self.error: AuthenticationError | None = None
        self.result: PACEResult | None = None
        self._reset()

    def _reset(self) -> None:
        self._selected: _Selected | None = None
        self._step = 0
        self._s = b""
        self._map_sk = 0
        self._map_pk: bytes | None = None
        self._terminal_map_pk = b""
        self._generator = b""
        self._eph_sk = 0
        self._eph_pk = b""
        self._terminal_eph_pk = b""
        self._ks_enc = b""
        self._ks_mac = b""

    @property
    def done(self) -> bool:
        """True once PACE completed successfully (the session keys are in :attr:`result`)."""
        return self.result is not None

    def _note(self, name: str, value: bytes | int) -> None:
        if self._record:
            if isinstance(value, int):
                value = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
            self.trace[name] = value

    # -- dispatch --------------------------------------------------------------------------

    def handle(self, command: CommandAPDU) -> ResponseAPDU:
        try:
            data = self._dispatch(command)
        except _Refusal as refusal:
            self._reset()
            self.error = AuthenticationError(refusal.message, protocol="PACE", step=refusal.step)
            return ResponseAPDU(b"", refusal.sw)
        return ResponseAPDU(data, _SW_OK)

    def _dispatch(self, command: CommandAPDU) -> bytes:
        if command.ins == MSE_INS:
            return self._mse(command)
        if command.ins != GA_INS:
            raise _Refusal(_SW_INS, STEP_MSE, "instruction not supported")
        step_names = (STEP_NONCE, STEP_MAP, STEP_KA, STEP_MUTUAL)
        if self.result is not None or self._selected is None or not 1 <= self._step <= 4:
            raise _Refusal(_SW_NOT_ALLOWED, STEP_MSE, "GENERAL AUTHENTICATE out of sequence")
        step = step_names[self._step - 1]
        expected_cla = 0x00 if self._step == 4 else CHAINING_CLA
        if command.cla != expected_cla:
            raise _Refusal(_SW_CLA, step, f"CLA {command.cla:02X} where {expected_cla:02X} is due")
        if (command.p1, command.p2) != (0, 0):
            raise _Refusal(_SW_P1P2, step, "P1-P2 must be 00 00")
        if command.ne not in (256, 65536):
            raise _Refusal(_SW_WRONG_LENGTH, step, "Le must ask for all available bytes")
        try:
            if self._step == 1:
                return self._encrypted_nonce(command.data)
            if self._step == 2:
                return self._map_nonce(command.data)
            if self._step == 3:
                return self._key_agreement(command.data)
            return self._mutual_authentication(command.data)
        except DecodeError as exc:
            raise _Refusal(_SW_WRONG_DATA, step, exc.reason) from None
        except EncodeError as exc:  # a nonce the point encoding cannot map (negligible)
            raise _Refusal(_SW_WRONG_DATA, step, str(exc)) from None

    # -- MSE:Set AT ------------------------------------------------------------------------

    def _mse(self, command: CommandAPDU) -> bytes:
        self._reset()
        self.result = None
        if command.cla != 0x00 or (command.p1, command.p2) != MSE_SET_AT_P1P2:
            raise _Refusal(_SW_P1P2, STEP_MSE, "not MSE:Set AT for mutual authentication")
        try:
            mse = MSESetAT.decode(command.data)
            algorithm = PACEAlgorithm.from_oid_bytes(mse.oid_bytes)
        except DecodeError as exc:
            raise _Refusal(_SW_WRONG_DATA, STEP_MSE, exc.reason) from None
        candidates = [d for a, d in self._supported if a == algorithm]
        if not candidates:
            raise _Refusal(_SW_WRONG_DATA, STEP_MSE, "protocol not supported")
        if mse.parameter_id is not None:
            candidates = [d for d in candidates if d.parameter_id == mse.parameter_id]
        if len(candidates) != 1:
            raise _Refusal(_SW_NOT_FOUND, STEP_MSE, "domain parameters not available")
        password = self._passwords.get(mse.password_ref)
        if password is None:
            raise _Refusal(_SW_NOT_FOUND, STEP_MSE, "password not available")
        self._selected = _Selected(algorithm, candidates[0], password, mse.chat is not None)
        self._step = 1
        self.error = None
        return b""

    # -- the four steps --------------------------------------------------------------------

    def _sel(self) -> _Selected:
        assert self._selected is not None
        return self._selected

    def _encrypted_nonce(self, data: bytes) -> bytes:
        parse_dynamic_data(data, ())
        sel = self._sel()
        cipher = sel.algorithm.cipher
        s = self._fixed_nonce if self._fixed_nonce is not None else self._rng(nonce_length(cipher))
        self._s = s
        k_pi = sel.password.key(cipher)
        z = encrypt_cbc(cipher, k_pi, s)
        self._note("nonce", s)
        self._note("k_pi", k_pi)
        self._note("encrypted_nonce", z)
        self._step = 2
        return tlv.encode(0x7C, tlv.encode(0x80, z))

    def _map_nonce(self, data: bytes) -> bytes:
        sel = self._sel()
        domain = sel.domain
        mapping_data = parse_dynamic_data(data, (0x81,))[0x81]
        if sel.algorithm.mapping == "IM":
            if len(mapping_data) != key_length(sel.algorithm.cipher):
                raise DecodeError("terminal nonce t has the wrong length")
            r = pseudo_random(self._s, mapping_data, sel.algorithm.cipher, domain.p)
            self._note("terminal_nonce", mapping_data)
            self._note("pseudo_random", r)
            self._generator = domain.integrated_map(int.from_bytes(r, "big"))
            self._note("mapped_generator", self._generator)
            self._step = 3
            return tlv.encode(0x7C, tlv.encode(0x82, b""))
        domain.validate_public_key(mapping_data)
        sk = self._fixed_map_sk
        if sk is None:
            sk = domain.random_private_key(self._rng)
        pk = domain.public_key(sk)
        if hmac.compare_digest(pk, mapping_data):
            raise DecodeError("terminal mapping key equals the chip's")
        h = domain.agree_element(sk, mapping_data)
        self._map_sk, self._map_pk = sk, pk
        self._terminal_map_pk = mapping_data
        self._generator = domain.generic_map(int.from_bytes(self._s, "big"), h)
        self._note("terminal_mapping_public_key", mapping_data)
        self._note("chip_mapping_public_key", pk)
        self._note("H", h)
        self._note("mapped_generator", self._generator)
        self._step = 3
        return tlv.encode(0x7C, tlv.encode(0x82, pk))

    def _key_agreement(self, data: bytes) -> bytes:
        sel = self._sel()
        domain = sel.domain
        cipher = sel.algorithm.cipher
        terminal_pk = parse_dynamic_data(data, (0x83,))[0x83]
        domain.validate_public_key(terminal_pk)
        sk = self._fixed_eph_sk
        if sk is None:
            sk = domain.random_private_key(self._rng)
        pk = domain.public_key(sk, self._generator)
        if hmac.compare_digest(pk, terminal_pk):
            raise DecodeError("terminal ephemeral key equals the chip's")
        k = domain.shared_secret(sk, terminal_pk)
        self._eph_sk, self._eph_pk, self._terminal_eph_pk = sk, pk, terminal_pk
        keys = SessionKeys.derive(cipher, k)
        self._ks_enc, self._ks_mac = keys.ks_enc, keys.ks_mac
        self._note("terminal_ephemeral_public_key", terminal_pk)
        self._note("chip_ephemeral_public_key", pk)
        self._note("K", k)
        self._note("ks_enc", self._ks_enc)
        self._note("ks_mac", self._ks_mac)
        self._step = 4
        return tlv.encode(0x7C, tlv.encode(0x84, pk))

    def _mutual_authentication(self, data: bytes) -> bytes:
        sel = self._sel()
        algorithm, domain = sel.algorithm, sel.domain
        t_ifd = parse_dynamic_data(data, (0x85,))[0x85]
        tag = domain.public_key_tag
        expected = auth_token(algorithm.cipher, self._ks_mac, algorithm.oid, self._eph_pk, tag)
        if not hmac.compare_digest(t_ifd, expected):
            raise _Refusal(_SW_AUTH_FAILED, STEP_MUTUAL, "the terminal's token is wrong")
        t_ic = auth_token(algorithm.cipher, self._ks_mac, algorithm.oid, self._terminal_eph_pk, tag)
        self._note("T_IFD", t_ifd)
        self._note("T_IC", t_ic)
        parts = [tlv.encode(0x86, t_ic)]
        if sel.chat:
            cars = zip((0x87, 0x88), self._cars, strict=False)
            parts.extend(tlv.encode(t, car) for t, car in cars)
        ca_ic = None
        if algorithm.mapping == "CAM":
            assert self._sk_ic is not None
            ca = pow(self._sk_ic, -1, domain.order) * self._map_sk % domain.order
            ca_ic = ca.to_bytes(domain.order_length, "big")
            a_ic = encrypt_chip_authentication_data(algorithm.cipher, self._ks_enc, ca_ic)
            self._note("CA_IC", ca_ic)
            self._note("A_IC", a_ic)
            parts.append(tlv.encode(0x8A, a_ic))
        self.result = PACEResult(
            algorithm=algorithm,
            domain_parameters=domain,
            password_ref=sel.password.ref,
            ks_enc=self._ks_enc,
            ks_mac=self._ks_mac,
            terminal_public_key=self._terminal_eph_pk,
            chip_public_key=self._eph_pk,
            id_picc=domain.compressed(self._eph_pk),
            chip_mapping_public_key=self._map_pk,
            cars=tuple(self._cars) if sel.chat else (),
            chip_authentication_data=ca_ic,
            chip_authenticated=None,
        )
        self._step = 5
        return tlv.encode(0x7C, parts)
