"""PACE, terminal side (ICAO 9303-11 §4.4) as a state machine without I/O — hazmat.

:class:`PACEProtocol` emits MSE:Set AT and the four GENERAL AUTHENTICATE commands and returns a
:class:`PACEResult`; run it with :func:`idcard.protocols.drive`. Randomness (the terminal's
private keys and the Integrated Mapping nonce t) is injected, so the ICAO 9303-11 Appendix G/H/I
worked examples replay byte for byte. Any failure raises
:class:`~idcard.errors.AuthenticationError` with ``protocol="PACE"`` and the failing step:
``MSE:Set AT``, ``encrypted nonce``, ``map nonce``, ``key agreement``, ``mutual
authentication`` (a wrong password ends here: the chip refuses the terminal's token) or
``chip authentication`` (PACE-CAM).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.crypto import Cipher
from idcard.errors import AuthenticationError, DecodeError, EncodeError
from idcard.protocols.pace.algorithms import (
    Mapping,
    PACEAlgorithm,
    PACEPassword,
    auth_token,
    decrypt_chip_authentication_data,
    key_length,
    pseudo_random,
    public_key_data_object,
)
from idcard.protocols.pace.messages import MSESetAT, general_authenticate, parse_dynamic_data
from idcard.protocols.params import DomainParameters, standardized
from idcard.sm import SecureChannel, SessionKeys, block_size, decrypt_cbc

__all__ = ["PACEInfoLike", "PACEProtocol", "PACEResult", "verify_chip_authentication"]

STEP_MSE = "MSE:Set AT"
STEP_NONCE = "encrypted nonce"
STEP_MAP = "map nonce"
STEP_KA = "key agreement"
STEP_MUTUAL = "mutual authentication"
STEP_CAM = "chip authentication"


@dataclass(frozen=True, slots=True)
class PACEResult:
    """What a successful PACE run establishes (both sides build the same one).

    ``chip_public_key`` is PK_DH,IC; Terminal Authentication signs ID_PICC = Comp(PK_DH,IC)
    (``id_picc``). For PACE-CAM ``chip_authentication_data`` is CA_IC and ``chip_authenticated``
    says whether PK_Map,IC = CA_IC · PK_IC held (None when no PK_IC was given to check against:
    call :func:`verify_chip_authentication` once EF.CardSecurity is read).
    """

    algorithm: PACEAlgorithm
    domain_parameters: DomainParameters
    password_ref: int
    ks_enc: bytes = field(repr=False)
    ks_mac: bytes = field(repr=False)
    terminal_public_key: bytes
    chip_public_key: bytes
    id_picc: bytes
    chip_mapping_public_key: bytes | None = None
    cars: tuple[bytes, ...] = ()
    chip_authentication_data: bytes | None = field(default=None, repr=False)
    chip_authenticated: bool | None = None

    @property
    def cipher(self) -> Cipher:
        return self.algorithm.cipher

    @property
    def mapping(self) -> Mapping:
        return self.algorithm.mapping

    @property
    def protocol_oid(self) -> str:
        return self.algorithm.oid

    def secure_channel(self) -> SecureChannel:
        """A fresh secure-messaging channel on the session keys, SSC 0 (9303-11 §9.8.2)."""
        return SecureChannel.from_keys(self.cipher, self.ks_enc, self.ks_mac)


def verify_chip_authentication(result: PACEResult, chip_public_key_ic: bytes) -> bool:
    """PACE-CAM check PK_Map,IC = KA(CA_IC, PK_IC) (9303-11 §4.4.3.5.2) for a result whose
    CA_IC was received; ``chip_public_key_ic`` is the encoded static CA public key."""
    if result.chip_authentication_data is None or result.chip_mapping_public_key is None:
        raise AuthenticationError("no chip authentication data", protocol="PACE", step=STEP_CAM)
    return _cam_holds(
        result.domain_parameters,
        result.chip_authentication_data,
        chip_public_key_ic,
        result.chip_mapping_public_key,
    )


def _cam_holds(domain: DomainParameters, ca_ic: bytes, pk_ic: bytes, pk_map_ic: bytes) -> bool:
    if len(ca_ic) != domain.order_length:
        return False
    ca = int.from_bytes(ca_ic, "big")
    if not 0 < ca < domain.order:
        return False
    try:
        return hmac.compare_digest(domain.multiply_encoded(ca, pk_ic), pk_map_ic)
    except DecodeError:
        return False


def resolve_domain(domain_parameters: int | DomainParameters) -> DomainParameters:
    if isinstance(domain_parameters, int):
        return standardized(domain_parameters)
    return domain_parameters


def check_combination(algorithm: PACEAlgorithm, domain: DomainParameters) -> None:
    """Raise EncodeError when the OID and the domain parameters do not go together."""
    if algorithm.agreement != domain.kind:
        raise EncodeError(f"{algorithm.name} needs {algorithm.agreement} domain parameters")
    if algorithm.mapping == "IM" and domain.kind == "ECDH" and domain.p % 4 != 3:
        raise EncodeError(f"ECDH Integrated Mapping is not defined for {domain.name}")


class PACEInfoLike(Protocol):
    """What PACE needs of a PACEInfo of EF.CardAccess (9303-11 §9.2.1)."""

    @property
    def protocol(self) -> str: ...

    @property
    def parameter_id(self) -> int | None: ...


class PACEProtocol:
    """Terminal side of PACE: ``start()`` → MSE:Set AT, ``receive()`` until a PACEResult.

    ``domain_parameters`` is a standardized parameter id (9303-11 §9.5.1) or explicit
    parameters; ``send_parameter_id`` adds tag 84 to MSE:Set AT (required when the chip offers
    several parameter sets for the OID). ``chat`` is a complete 7F4C object (asks the chip for its
    CARs, 9303-11 §4.4.5). ``chip_ca_public_key`` (PK_IC from EF.CardSecurity, encoded) lets a
    PACE-CAM run authenticate the chip at once. ``record=True`` keeps every intermediate value
    (secrets included) in :attr:`trace` for tests and debugging.
    """

    def __init__(
        self,
        password: PACEPassword,
        protocol_oid: str,
        domain_parameters: int | DomainParameters,
        *,
        send_parameter_id: bool = True,
        chat: bytes | None = None,
        chip_ca_public_key: bytes | None = None,
        rng: Callable[[int], bytes] = os.urandom,
        mapping_private_key: int | None = None,
        ephemeral_private_key: int | None = None,
        terminal_nonce: bytes | None = None,
        record: bool = False,
    ) -> None:
        self.algorithm = PACEAlgorithm.from_oid(protocol_oid)
        self.domain = resolve_domain(domain_parameters)
        check_combination(self.algorithm, self.domain)
        self._password = password
        self._send_parameter_id = send_parameter_id
        self._chat = chat
        self._pk_ic = chip_ca_public_key
        self._rng = rng
        self._map_sk = mapping_private_key
        self._eph_sk = ephemeral_private_key
        self._t = terminal_nonce
        self._record = record
        self.trace: dict[str, bytes] = {}
        self._step = 0
        self._kpi = b""
        self._s = b""
        self._map_pk = b""
        self._chip_map_pk: bytes | None = None
        self._generator = b""
        self._eph_pk = b""
        self._chip_eph_pk = b""
        self._ks_enc = b""
        self._ks_mac = b""

    @classmethod
    def from_pace_info(
        cls,
        password: PACEPassword,
        info: PACEInfoLike,
        domain_parameters: DomainParameters | None = None,
        **options: Any,
    ) -> PACEProtocol:
        """From a PACEInfo (e.g. ``idcard.lds.security_infos.PACEInfo``). Without a parameter id
        in it, pass the ``domain_parameters`` of the matching PACEDomainParameterInfo."""
        if info.parameter_id is not None and domain_parameters is None:
            return cls(password, info.protocol, info.parameter_id, **options)
        if domain_parameters is None:
            raise EncodeError("this PACEInfo has no parameterId: pass its domain parameters")
        return cls(password, info.protocol, domain_parameters, **options)

    # -- helpers ---------------------------------------------------------------------------

    def _fail(self, message: str, step: str) -> AuthenticationError:
        self._step = -1
        return AuthenticationError(message, protocol="PACE", step=step)

    def _note(self, name: str, value: bytes | int) -> None:
        if self._record:
            if isinstance(value, int):
                value = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
            self.trace[name] = value

    def _response(self, response: ResponseAPDU, step: str, required: tuple[int, ...],
                  optional: tuple[int, ...] = ()) -> dict[int, bytes]:
        if response.sw != 0x9000:
            raise self._fail(f"chip refused with status {response.sw:04X}", step)
        try:
            return parse_dynamic_data(response.data, required, optional)
        except DecodeError as exc:
            raise self._fail(f"malformed response: {exc.reason}", step) from None

    # -- the state machine -----------------------------------------------------------------

    def start(self) -> CommandAPDU:
        """MSE:Set AT selecting the protocol, the password and (optionally) the parameters."""
        if self._step != 0:
            raise self._fail("start() called twice", STEP_MSE)
        self._step = 1
        pid = self.domain.parameter_id if self._send_parameter_id else None
        return MSESetAT(self.algorithm.oid_bytes, self._password.ref, pid, self._chat).command()

    def receive(self, response: ResponseAPDU) -> CommandAPDU | PACEResult:
        step = self._step
        if step == 1:
            return self._after_mse(response)
        if step == 2:
            return self._after_nonce(response)
        if step == 3:
            return self._after_map(response)
        if step == 4:
            return self._after_key_agreement(response)
        if step == 5:
            return self._after_mutual(response)
        raise self._fail("protocol is not running", STEP_MSE)

    def _after_mse(self, response: ResponseAPDU) -> CommandAPDU:
        if response.sw != 0x9000:
            raise self._fail(f"chip refused with status {response.sw:04X}", STEP_MSE)
        self._step = 2
        return general_authenticate([], last=False)

    def _after_nonce(self, response: ResponseAPDU) -> CommandAPDU:
        cipher = self.algorithm.cipher
        z = self._response(response, STEP_NONCE, (0x80,))[0x80]
        if not z or len(z) % block_size(cipher):
            raise self._fail("encrypted nonce is not whole cipher blocks", STEP_NONCE)
        self._kpi = self._password.key(cipher)
        self._s = decrypt_cbc(cipher, self._kpi, z)
        self._note("k_pi", self._kpi)
        self._note("encrypted_nonce", z)
        self._note("nonce", self._s)
        self._step = 3
        if self.algorithm.mapping == "IM":
            t = self._t if self._t is not None else self._rng(key_length(cipher))
            self._t = t
            self._note("terminal_nonce", t)
            return general_authenticate([(0x81, t)], last=False)
        sk = self._map_sk if self._map_sk is not None else self.domain.random_private_key(self._rng)
        self._map_sk = sk
        self._map_pk = self.domain.public_key(sk)
        self._note("terminal_mapping_private_key", sk)
        self._note("terminal_mapping_public_key", self._map_pk)
        return general_authenticate([(0x81, self._map_pk)], last=False)

    def _after_map(self, response: ResponseAPDU) -> CommandAPDU:
        domain = self.domain
        s = int.from_bytes(self._s, "big")
        if self.algorithm.mapping == "IM":
            if response.sw == 0x9000 and response.data == b"":
                pass  # some chips answer the empty 82 with no data at all
            else:
                objects = self._response(response, STEP_MAP, (), (0x82,))
                if objects.get(0x82, b"") != b"":
                    raise self._fail("integrated mapping data must be empty", STEP_MAP)
            assert self._t is not None
            try:
                r = pseudo_random(self._s, self._t, self.algorithm.cipher, domain.p)
                self._note("pseudo_random", r)
                self._generator = domain.integrated_map(int.from_bytes(r, "big"))
            except (DecodeError, EncodeError) as exc:
                raise self._fail(f"nonce cannot be mapped: {exc}", STEP_MAP) from None
        else:
            chip_pk = self._response(response, STEP_MAP, (0x82,))[0x82]
            assert self._map_sk is not None
            try:
                if hmac.compare_digest(chip_pk, self._map_pk):
                    raise DecodeError("chip mapping key equals the terminal's")
                h = domain.agree_element(self._map_sk, chip_pk)
                self._generator = domain.generic_map(s, h)
            except DecodeError as exc:
                raise self._fail(f"bad chip mapping key: {exc.reason}", STEP_MAP) from None
            self._chip_map_pk = chip_pk
            self._note("chip_mapping_public_key", chip_pk)
            self._note("H", h)
        self._note("mapped_generator", self._generator)
        sk = self._eph_sk if self._eph_sk is not None else domain.random_private_key(self._rng)
        self._eph_sk = sk
        self._eph_pk = domain.public_key(sk, self._generator)
        self._note("terminal_ephemeral_private_key", sk)
        self._note("terminal_ephemeral_public_key", self._eph_pk)
        self._step = 4
        return general_authenticate([(0x83, self._eph_pk)], last=False)

    def _after_key_agreement(self, response: ResponseAPDU) -> CommandAPDU:
        domain = self.domain
        cipher = self.algorithm.cipher
        chip_pk = self._response(response, STEP_KA, (0x84,))[0x84]
        assert self._eph_sk is not None
        try:
            if hmac.compare_digest(chip_pk, self._eph_pk):
                raise DecodeError("chip ephemeral key equals the terminal's")
            k = domain.shared_secret(self._eph_sk, chip_pk)
        except DecodeError as exc:
            raise self._fail(f"bad chip ephemeral key: {exc.reason}", STEP_KA) from None
        self._chip_eph_pk = chip_pk
        keys = SessionKeys.derive(cipher, k)
        self._ks_enc, self._ks_mac = keys.ks_enc, keys.ks_mac
        tag = domain.public_key_tag
        t_ifd = auth_token(cipher, self._ks_mac, self.algorithm.oid, chip_pk, tag)
        self._note("chip_ephemeral_public_key", chip_pk)
        self._note("K", k)
        self._note("ks_enc", self._ks_enc)
        self._note("ks_mac", self._ks_mac)
        self._note("token_input_terminal", public_key_data_object(self.algorithm.oid, chip_pk, tag))
        self._note("T_IFD", t_ifd)
        self._step = 5
        return general_authenticate([(0x85, t_ifd)], last=True)

    def _after_mutual(self, response: ResponseAPDU) -> PACEResult:
        domain = self.domain
        algorithm = self.algorithm
        cam = algorithm.mapping == "CAM"
        optional = (0x87, 0x88, 0x8A) if cam else (0x87, 0x88)
        objects = self._response(response, STEP_MUTUAL, (0x86,), optional)
        tag = domain.public_key_tag
        expected = auth_token(algorithm.cipher, self._ks_mac, algorithm.oid, self._eph_pk, tag)
        self._note("token_input_chip", public_key_data_object(algorithm.oid, self._eph_pk, tag))
        self._note("T_IC", objects[0x86])
        if not hmac.compare_digest(objects[0x86], expected):
            raise self._fail("the chip's authentication token is wrong", STEP_MUTUAL)
        ca_ic = None
        authenticated = None
        if cam:
            if 0x8A not in objects:
                raise self._fail("encrypted chip authentication data missing", STEP_CAM)
            try:
                ca_ic = decrypt_chip_authentication_data(
                    algorithm.cipher, self._ks_enc, objects[0x8A]
                )
            except DecodeError as exc:
                raise self._fail(exc.reason, STEP_CAM) from None
            self._note("A_IC", objects[0x8A])
            self._note("CA_IC", ca_ic)
            if self._pk_ic is not None:
                assert self._chip_map_pk is not None
                if not _cam_holds(domain, ca_ic, self._pk_ic, self._chip_map_pk):
                    raise self._fail("chip authentication data do not match PK_IC", STEP_CAM)
                authenticated = True
        cars = tuple(objects[t] for t in (0x87, 0x88) if t in objects)
        self._step = 6
        return PACEResult(
            algorithm=algorithm,
            domain_parameters=domain,
            password_ref=self._password.ref,
            ks_enc=self._ks_enc,
            ks_mac=self._ks_mac,
            terminal_public_key=self._eph_pk,
            chip_public_key=self._chip_eph_pk,
            id_picc=domain.compressed(self._chip_eph_pk),
            chip_mapping_public_key=self._chip_map_pk,
            cars=cars,
            chip_authentication_data=ca_ic,
            chip_authenticated=authenticated,
        )
