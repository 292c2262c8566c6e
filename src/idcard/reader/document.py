"""Reading a whole document from a chip: access control, Chip/Terminal/Active Authentication and
every file, into memory first (ICAO 9303-11 §4, §6, §7; BSI TR-03110-1).

:func:`read_document` runs PACE when EF.CardAccess offers a PACEInfo this library supports
(the best one: CAM before GM before IM, then the strongest cipher), else BAC; Chip
Authentication when DG14 offers it (or verifies PACE-CAM against EF.CardSecurity); Terminal
Authentication before DG3/DG4 when terminal credentials are given (without them those groups are
skipped and the reason recorded); Active Authentication when DG15 is present. Files are read
with the largest length the card supports: extended length when the ATR or EF.ATR/INFO says so,
otherwise short reads (223 bytes of plaintext under AES secure messaging, 231 under 3DES), and
smaller ones (224/192/128) if the card refuses a length. Last, on request, the e-signature
application's certificate files (unprotected: readable by anyone; :data:`ESIGN_FILES`), so that
the dump keeps the holder's signing certificate for ``idkarta verify``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import cast

from cryptography.hazmat.primitives.asymmetric import ec

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.asn1 import oids
from idcard.cvc.certificate import CVCertificate, Signer, ecdsa_signer
from idcard.cvc.chat import Role
from idcard.errors import (
    AuthenticationError,
    CardStatusError,
    DecodeError,
    EncodeError,
)
from idcard.esign.card import ESignCard
from idcard.esign.protocol import FID_CA_CERTIFICATE, FID_CERTIFICATE
from idcard.lds import FILES, LDSFile
from idcard.lds.com import EFCOM
from idcard.lds.dg14 import DG14
from idcard.lds.dg15 import DG15
from idcard.lds.dump import Dump, decode_named
from idcard.lds.security_infos import (
    ActiveAuthenticationInfo,
    CardAccess,
    CardSecurity,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
)
from idcard.lds.sod import SOD
from idcard.mrz import MRZ
from idcard.protocols.aa import AAProtocol
from idcard.protocols.bac import BACProtocol, key_seed
from idcard.protocols.base import drive
from idcard.protocols.ca import CAProtocol
from idcard.protocols.pace import PACE_ALGORITHMS, PACEPassword, PACEProtocol
from idcard.protocols.pace.terminal import (
    PACEResult,
    check_combination,
    verify_chip_authentication,
)
from idcard.protocols.params import standardized
from idcard.protocols.ta import TAProtocol, id_picc_from_document_number
from idcard.reader.atr import extended_length_of
from idcard.reader.evidence import (
    EVIDENCE_FILE,
    AccessEvidence,
    ActiveAuthEvidence,
    ChipAuthEvidence,
    Evidence,
    RunEvidence,
    TerminalAuthEvidence,
)
from idcard.reader.pcsc import SHORT_READ_LENGTHS
from idcard.sm import SecureChannel, SecureTransport
from idcard.transport import Transport

__all__ = ["ESIGN_FILES", "ProtocolRun", "ReadResult", "TerminalCredentials", "read_document"]

ESIGN_FILES = {"EF.C.ESIGN": FID_CERTIFICATE, "EF.C.CA": FID_CA_CERTIFICATE}
"""The e-signature application's certificate files as a dump folder names them (beside the LDS
files, the exact bytes read): the holder's signing certificate and its CA's (DER)."""

EMRTD_AID = bytes.fromhex("A0000002471001")
_SM_SHORT = {"3DES": 231}
_SM_SHORT_AES = 223
_DEFAULT_EXTENDED = 2048


@dataclass(frozen=True, slots=True)
class TerminalCredentials:
    """An inspection system's Terminal Authentication credentials.

    ``chain``: its CV certificates from the CVCA (optional; a self-signed CVCA is not sent) over
    link CVCAs and the DV to the IS certificate; ``sign``: the IS key's signer (TR-03110-3
    plain signature).
    """

    chain: tuple[CVCertificate, ...]
    sign: Signer = field(repr=False)

    @classmethod
    def from_private_key(
        cls, chain: tuple[CVCertificate, ...], key: ec.EllipticCurvePrivateKey
    ) -> TerminalCredentials:
        """ECDSA with the hash of the IS certificate's key OID."""
        if not chain:
            raise EncodeError("empty certificate chain")
        return cls(tuple(chain), ecdsa_signer(key, chain[-1].public_key.hash_name))

    @property
    def presented(self) -> tuple[CVCertificate, ...]:
        """The certificates sent to the chip (a leading self-signed CVCA is left out)."""
        certs = list(self.chain)
        if certs and certs[0].chat.role is Role.CVCA and certs[0].car == certs[0].chr:
            certs = certs[1:]
        return tuple(certs)


@dataclass(frozen=True, slots=True)
class ProtocolRun:
    """One protocol run while reading: ``protocol`` (BAC, PACE, PACE-CAM, CA, TA, AA), whether
    it succeeded (``ok``; for AA and PACE-CAM: the signature/check held) and a short detail."""

    protocol: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Everything read: the raw files (:attr:`dump`), the decoded ones (:attr:`objects`), the
    protocols run, files not read (``skipped``: name → reason), files that did not decode
    (``decode_errors``: name → reason), the :attr:`evidence` of the chip's authenticity
    (:mod:`idcard.reader.evidence`; None only for results made without :func:`read_document`)
    and the e-signature certificate files read (:data:`ESIGN_FILES`; ``skipped`` says why one
    is missing)."""

    dump: Dump
    objects: Mapping[str, LDSFile]
    protocols: tuple[ProtocolRun, ...]
    access: str
    skipped: Mapping[str, str] = field(default_factory=dict)
    decode_errors: Mapping[str, str] = field(default_factory=dict)
    evidence: Evidence | None = None
    esign_files: Mapping[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("objects", "skipped", "decode_errors", "esign_files"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def protocol(self, name: str) -> ProtocolRun | None:
        """The run of ``name`` (the last one), or None when it did not run."""
        runs = [r for r in self.protocols if r.protocol == name]
        return runs[-1] if runs else None

    def write(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the dump folder atomically (everything was read into memory first), with
        ``evidence.json`` and the e-signature certificate files beside the files when there are
        some: the folder appears complete, evidence included, or not at all."""
        if self.evidence is None and not self.esign_files:
            self.dump.write(folder, overwrite=overwrite)
            return
        target = Path(folder)
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} exists")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.read-", dir=target.parent))
        inner = staging / "dump"
        try:
            self.dump.write(inner)
            extra = dict(self.esign_files)
            if self.evidence is not None:
                extra[EVIDENCE_FILE] = self.evidence.to_bytes()
            for name, data in extra.items():
                path = inner / name
                path.write_bytes(data)
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            if target.exists():
                old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
                target.rename(old)
                inner.rename(target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                inner.rename(target)
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


class _Denied(Exception):
    def __init__(self, sw: int) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


def _header_length(data: bytes) -> int | None:
    """Total length of the one TLV the file holds, from its first bytes (None if too short)."""
    try:
        _item, end = tlv.read_tlv(data, 0)
    except DecodeError:
        pos = 1
        if not data:
            return None
        if data[0] & 0x1F == 0x1F:
            while pos < len(data) and data[pos] & 0x80:
                pos += 1
            pos += 1
        if pos >= len(data):
            return None
        first = data[pos]
        if first < 0x80:
            return pos + 1 + first
        n = first & 0x7F
        if pos + 1 + n > len(data):
            return None
        return pos + 1 + n + int.from_bytes(data[pos + 1 : pos + 1 + n], "big")
    return end


_NO_SFI = frozenset({
    StatusWord.FUNCTION_NOT_SUPPORTED, StatusWord.INCORRECT_P1P2, StatusWord.WRONG_P1P2,
    StatusWord.COMMAND_NOT_ALLOWED,
})  # fmt: skip
"""Answers of a card that does not take a short file identifier in READ BINARY's P1."""


class _NoSFI(Exception):
    pass


class _FileReader:
    """SELECT and READ BINARY over one transport with the chunk sizes the card allows.

    A file with a short file identifier is read by READ BINARY with the SFI in P1 (ISO/IEC
    7816-4 §11.2.3; 9303-10 §3.11.3.1), which selects it too: one command for a file that fits
    one answer. When the card refuses that (``sfi`` becomes False), SELECT then READ BINARY.
    """

    def __init__(self, transport: Transport, chunk: int, *, sfi: bool = True) -> None:
        self.transport = transport
        self.chunk = chunk
        self.sfi = sfi

    def _transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return self.transport.transmit(command)

    def select(self, command: CommandAPDU) -> int:
        return self._transmit(command).sw

    def select_mf(self) -> int:
        return self.select(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00"))

    def select_application(self) -> None:
        command = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)
        self._transmit(command).check(command)

    def read(self, fid: int, sfi: int | None = None, *, single_tlv: bool = True) -> bytes | None:
        """The file's bytes; None when it is not on the card; _Denied when access is refused.

        A file holding one TLV (every LDS file) is read up to its encoded length; otherwise
        (EF.ATR/INFO) until the card returns fewer bytes than asked for. ``sfi``: the file's
        short identifier in the current DF (see the class doc)."""
        first: bytes | None = None
        if sfi is not None and self.sfi:
            try:
                first = self._read_at(0, self.chunk, sfi=sfi)
            except _NoSFI:
                self.sfi = False
            except CardStatusError as exc:
                if exc.sw == StatusWord.FILE_NOT_FOUND:
                    return None
                raise
        if first is None:
            select = CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))
            sw = self.select(select)
            if sw == StatusWord.FILE_NOT_FOUND:
                return None
            if sw != 0x9000:
                raise CardStatusError(sw, select, f"SELECT {fid:04X} returned {sw:04X}")
        data = bytearray()
        total: int | None = None
        while total is None or len(data) < total:
            want = self.chunk if total is None else min(self.chunk, total - len(data))
            if first is not None:
                part, first = first, None
            else:
                part = self._read_at(len(data), want)
            if not part:
                break
            data += part
            if not single_tlv:
                if len(part) < want:
                    break
                continue
            if total is None:
                total = _header_length(bytes(data))
        return bytes(data if total is None else data[:total])

    def _read_at(self, offset: int, want: int, *, sfi: int | None = None) -> bytes:
        """``want`` bytes at ``offset`` of the current EF, or from offset 0 of the file
        ``sfi`` (_NoSFI when the card does not take it)."""
        while True:
            if sfi is not None:
                command = CommandAPDU(0x00, 0xB0, 0x80 | sfi, 0x00, ne=want)
            elif offset <= 0x7FFF:
                command = CommandAPDU(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=want)
            else:
                body = tlv.encode(0x54, offset.to_bytes(3, "big"))
                command = CommandAPDU(0x00, 0xB1, 0x00, 0x00, body, ne=min(want + 4, 65536))
            response = self._transmit(command)
            if response.sw in (StatusWord.WRONG_LENGTH,) or response.sw1 == 0x6C:
                smaller = [n for n in SHORT_READ_LENGTHS if n < want]
                if not smaller:
                    response.check(command)
                self.chunk = want = smaller[0]
                continue
            if response.sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED:
                raise _Denied(response.sw)
            if sfi is not None and response.sw in _NO_SFI:
                raise _NoSFI
            if response.sw not in (0x9000, StatusWord.END_OF_FILE):
                response.check(command)
            if command.ins == 0xB1:
                try:
                    return tlv.decode_one(response.data, expected_tag=0x53).value
                except DecodeError:
                    raise CardStatusError(response.sw, command, "READ BINARY (B1) answer is not "
                                          "DO'53'") from None  # fmt: skip
            return response.data


def _extended_limits(transport: Transport, reader: _FileReader) -> int | None:
    """The largest plaintext chunk when the card supports extended length, else None."""
    extended = extended_length_of(transport)
    max_ne: int | None = None
    if reader.select_mf() == 0x9000:
        try:
            info = reader.read(0x2F01, 0x01, single_tlv=False)
        except (_Denied, CardStatusError):
            info = None
        if info:
            try:
                items = tlv.decode_all(info)
            except DecodeError:
                items = []
            caps = tlv.find(items, 0x47)
            if caps is not None and len(caps.value) >= 3:
                extended = extended or bool(caps.value[2] & 0x40)
            lengths = tlv.find(items, 0x7F66)
            if lengths is not None:
                try:
                    ints = [int.from_bytes(i.value, "big") for i in lengths.children()]
                except DecodeError:
                    ints = []
                if len(ints) >= 2:
                    max_ne = ints[1]
    if not extended:
        return None
    return max(256, min(max_ne or _DEFAULT_EXTENDED, 65536) - 64)


_MAPPING_RANK = {"CAM": 3, "GM": 2, "IM": 1}
_CIPHER_RANK = {"AES-256": 4, "AES-192": 3, "AES-128": 2, "3DES": 1}


def _best_pace(card_access: bytes | CardAccess | None) -> PACEInfo | None:
    if card_access is None:
        return None
    try:
        if not isinstance(card_access, CardAccess):
            card_access = CardAccess.decode(card_access)
    except DecodeError:
        return None
    infos = card_access.security_infos.pace_infos
    usable = []
    for info in infos:
        algorithm = PACE_ALGORITHMS.get(info.protocol)
        if algorithm is None or info.parameter_id is None:
            continue
        try:
            check_combination(algorithm, standardized(info.parameter_id))
        except (EncodeError, DecodeError, KeyError):
            continue  # unknown parameters, or an algorithm that does not fit them
        rank = (_MAPPING_RANK[algorithm.mapping], _CIPHER_RANK[algorithm.cipher],
                algorithm.agreement == "ECDH")  # fmt: skip
        usable.append((rank, info))
    if not usable:
        return None
    return max(usable, key=lambda pair: pair[0])[1]


def _parse_mrz(mrz: MRZ | str | None) -> MRZ | None:
    if mrz is None or isinstance(mrz, MRZ):
        return mrz
    return MRZ.parse(mrz)


def _chip_key_for_cam(card_security: LDSFile | None) -> bytes | None:
    if not isinstance(card_security, CardSecurity):
        return None
    keys = card_security.security_infos.of_type(ChipAuthenticationPublicKeyInfo)
    return keys[0].public_point if keys else None


def read_document(
    transport: Transport,
    *,
    mrz: MRZ | str | None = None,
    can: str | None = None,
    terminal: TerminalCredentials | None = None,
    read_biometrics: bool = True,
    chunk_size: int | None = None,
    on_channel: Callable[[SecureChannel], None] | None = None,
    reader_name: str | None = None,
    read_esign: bool = False,
) -> ReadResult:
    """Read every file of the document on ``transport`` (see the module doc).

    ``on_channel`` is told each secure channel (after BAC/PACE, and again after Chip
    Authentication) before its first command, e.g. to decrypt an APDU trace. ``reader_name``
    goes into the evidence (default: the PC/SC reader's name, else the transport's kind).
    ``read_esign``: read the e-signature application's certificate files too, last.

    ``mrz`` (an :class:`~idcard.mrz.MRZ` or its text) or ``can`` is the access key; ``terminal``
    opens DG3/DG4 through Terminal Authentication; ``read_biometrics=False`` skips DG2–DG4;
    ``chunk_size`` caps the read length (default: the largest the card supports). Raises
    :class:`~idcard.errors.AuthenticationError` when BAC/PACE fails (naming the step) and
    :class:`~idcard.errors.TransportError` when the card goes away; nothing is returned (or
    written) half way.
    """
    the_mrz = _parse_mrz(mrz)
    if the_mrz is None and can is None:
        raise EncodeError("read_document needs the MRZ or the CAN")
    runs: list[ProtocolRun] = []
    decoded: dict[str, LDSFile | DecodeError] = {}

    def decode_once(name: str, data: bytes) -> LDSFile:
        """The file decoded, once per read; a DecodeError (the same each time) when it fails."""
        found = decoded.get(name)
        if found is None:
            try:
                found = decode_named(name, data)
            except DecodeError as exc:
                found = exc
            decoded[name] = found
        if isinstance(found, DecodeError):
            raise found
        return found

    def decode(name: str, data: bytes) -> LDSFile | None:
        try:
            return decode_once(name, data)
        except DecodeError:
            return None

    plain = _FileReader(transport, 256)
    ext_chunk = _extended_limits(transport, plain)  # leaves the MF the current DF
    try:
        card_access = plain.read(0x011C, 0x1C)
    except (_Denied, CardStatusError):
        card_access = None  # no (readable) EF.CardAccess: a BAC-only document
    access_file = decode("EF.CardAccess", card_access) if card_access is not None else None
    pace_info = _best_pace(access_file if isinstance(access_file, CardAccess) else None)

    pace_result: PACEResult | None = None
    if pace_info is not None and pace_info.parameter_id is not None:
        if can is not None:
            password, kind = PACEPassword.can(can), "CAN"
        else:
            assert the_mrz is not None
            password = PACEPassword.from_mrz(
                the_mrz.document_number, the_mrz.birth_date, the_mrz.expiry_date
            )
            kind = "MRZ"
        protocol = PACEProtocol(password, pace_info.protocol, pace_info.parameter_id)
        pace_result = drive(protocol, transport)
        runs.append(ProtocolRun("PACE", True, f"{protocol.algorithm.name}, parameter id "
                                f"{pace_info.parameter_id}, {kind}"))  # fmt: skip
        access_evidence = AccessEvidence(
            "PACE", protocol.algorithm.cipher, oid=pace_info.protocol,
            mapping=protocol.algorithm.mapping, parameter_id=pace_info.parameter_id,
            password=kind,
        )  # fmt: skip
        channel = pace_result.secure_channel()
        id_picc = pace_result.id_picc
        access = "PACE"
    else:
        if the_mrz is None:
            raise AuthenticationError("the card offers no PACE and BAC needs the MRZ",
                                      protocol="BAC", step="key")  # fmt: skip
        plain.select_application()
        seed = key_seed(the_mrz.document_number, the_mrz.birth_date, the_mrz.expiry_date)
        channel = drive(BACProtocol(seed), transport).channel
        runs.append(ProtocolRun("BAC", True, "3DES"))
        access_evidence = AccessEvidence("BAC", "3DES", password="MRZ")  # noqa: S106 - its kind
        id_picc = id_picc_from_document_number(the_mrz.document_number)
        access = "BAC"

    def chunk_for(cipher: str) -> int:
        size = ext_chunk if ext_chunk is not None else _SM_SHORT.get(cipher, _SM_SHORT_AES)
        return min(size, chunk_size) if chunk_size is not None else size

    def protected(channel: SecureChannel, sfi: bool) -> _FileReader:
        if on_channel is not None:
            on_channel(channel)
        transport_ = SecureTransport(transport, channel)
        return _FileReader(transport_, chunk_for(channel.cipher), sfi=sfi)

    reader = protected(channel, plain.sfi)
    files: dict[str, bytes] = {}
    skipped: dict[str, str] = {}
    if card_access is not None:
        files["EF.CardAccess"] = card_access

    def read_into(name: str) -> bytes | None:
        try:
            data = reader.read(FILES[name].fid, FILES[name].sfi)
        except _Denied as denied:
            skipped[name] = f"access denied ({denied.sw:04X})"
            return None
        if data is None:
            skipped[name] = "not on the card"
            return None
        files[name] = data
        return data

    card_security = None
    # PACE leaves the MF the current DF; BAC selected the application first
    if access == "PACE" or reader.select_mf() == 0x9000:
        try:
            card_security = read_into("EF.CardSecurity")
        except CardStatusError:
            card_security = None
        skipped.pop("EF.CardSecurity", None)  # optional for eMRTDs: its absence is no news
    cam_done = False
    cam_evidence: RunEvidence | None = None
    ca_evidence: ChipAuthEvidence | None = None
    ta_evidence: TerminalAuthEvidence | None = None
    aa_evidence: ActiveAuthEvidence | None = None
    if pace_result is not None and pace_result.mapping == "CAM":
        security = decode("EF.CardSecurity", card_security) if card_security else None
        pk_ic = _chip_key_for_cam(security)
        if pk_ic is None:
            runs.append(ProtocolRun("PACE-CAM", False, "no chip key in EF.CardSecurity"))
            cam_evidence = RunEvidence("error", "no chip key in EF.CardSecurity")
        else:
            cam_done = verify_chip_authentication(pace_result, pk_ic)
            runs.append(ProtocolRun("PACE-CAM", cam_done, "PK_Map = CA_IC · PK_IC"))
            cam_evidence = RunEvidence("pass" if cam_done else "fail", "PK_Map = CA_IC · PK_IC")

    reader.select_application()
    com = read_into("EF.COM")
    sod = read_into("EF.SOD")
    names: set[str] = set()
    if com is not None and isinstance(com_file := decode("EF.COM", com), EFCOM):
        names.update(n for n in com_file.data_groups if n in FILES)
    if sod is not None and isinstance(sod_file := decode("EF.SOD", sod), SOD):
        names.update(f"DG{n}" for n in sod_file.data_group_hashes)
    order = sorted(names, key=lambda n: int(n[2:]))

    dg14 = None
    if "DG14" in order and (raw14 := read_into("DG14")) is not None:
        found14 = decode("DG14", raw14)
        dg14 = found14 if isinstance(found14, DG14) else None
    ca_comp: bytes | None = None
    ca_infos = dg14.security_infos.of_type(ChipAuthenticationInfo) if dg14 else ()
    ca_keys = dg14.security_infos.of_type(ChipAuthenticationPublicKeyInfo) if dg14 else ()
    if ca_infos and ca_keys and (not cam_done or terminal is not None):
        info = ca_infos[0]
        key = next((k for k in ca_keys if k.key_id == info.key_id), ca_keys[0])
        key_hash = hashlib.sha256(key.public_key_info).digest()
        try:
            ca = drive(CAProtocol(key.public_key_info, oid=info.protocol, key_id=info.key_id),
                       reader.transport)  # fmt: skip
        except AuthenticationError as exc:
            runs.append(ProtocolRun("CA", False, str(exc)))
            ca_evidence = ChipAuthEvidence(info.protocol, "error", key_id=info.key_id,
                                           chip_key_sha256=key_hash, detail=str(exc))  # fmt: skip
        else:
            runs.append(ProtocolRun("CA", True, oids.name(info.protocol)))
            ca_evidence = ChipAuthEvidence(
                info.protocol, "pass", key_id=info.key_id, chip_key_sha256=key_hash,
                ephemeral_public_key=ca.ephemeral_public_key,
                detail="the chip's answers verified under the keys agreed with DG14's key",
            )  # fmt: skip
            ca_comp = ca.compressed_ephemeral_public_key
            channel = ca.channel  # the new keys protect the next command on
            reader = protected(channel, reader.sfi)

    biometric = {"DG2", "DG3", "DG4"}
    eac_groups = [n for n in order if n in ("DG3", "DG4")]
    if not read_biometrics:
        for name in order:
            if name in biometric:
                skipped[name] = "not requested (read_biometrics=False)"
    elif eac_groups:
        reason = None
        if terminal is None:
            reason = "needs Terminal Authentication: no terminal credentials given"
        elif ca_comp is None:
            reason = "needs Terminal Authentication, which needs Chip Authentication first"
        else:
            proto = TAProtocol(terminal.presented, terminal.sign, id_picc=id_picc,
                               ephemeral_public_key_comp=ca_comp)  # fmt: skip
            refs = tuple((c.car, c.chr) for c in terminal.presented)
            try:
                drive(proto, reader.transport)
            except AuthenticationError as exc:
                runs.append(ProtocolRun("TA", False, str(exc)))
                reason = f"Terminal Authentication failed ({exc})"
                ta_evidence = TerminalAuthEvidence(refs, "error", str(exc))
            else:
                runs.append(ProtocolRun("TA", True, terminal.presented[-1].chr))
                ta_evidence = TerminalAuthEvidence(refs, "pass", "the chip accepted the chain "
                                                   "and the terminal's signature")  # fmt: skip
        if reason is not None:
            for name in eac_groups:
                skipped[name] = reason

    for name in order:
        if name in files or name in skipped:
            continue
        read_into(name)

    if "DG15" in files:
        aa_infos = dg14.security_infos.of_type(ActiveAuthenticationInfo) if dg14 else ()
        hash_alg = aa_infos[0].signature_algorithm if aa_infos else None
        try:
            dg15 = cast(DG15, decode_once("DG15", files["DG15"]))
            result = drive(AAProtocol(dg15.public_key, hash_alg=hash_alg), reader.transport)
        except (DecodeError, AuthenticationError) as exc:
            runs.append(ProtocolRun("AA", False, str(exc)))
            aa_evidence = ActiveAuthEvidence("error", algorithm=hash_alg, detail=str(exc))
        else:
            detail = "signature verified" if result.valid else "signature does not verify"
            runs.append(ProtocolRun("AA", result.valid, detail))
            aa_evidence = ActiveAuthEvidence(
                "pass" if result.valid else "fail", challenge=result.challenge,
                signature=result.signature, algorithm=hash_alg, detail=detail,
            )  # fmt: skip

    esign_files = _read_esign(transport) if read_esign else {}
    dump = Dump(files)
    objects: dict[str, LDSFile] = {}
    errors: dict[str, str] = {}
    for name, data in dump.files.items():
        try:
            objects[name] = decode_once(name, data)
        except DecodeError as exc:
            errors[name] = str(exc)
    evidence = Evidence(
        access=access_evidence, files=Evidence.hashes(dump.files),
        chip_authentication=ca_evidence, pace_cam=cam_evidence,
        active_authentication=aa_evidence, terminal_authentication=ta_evidence,
        reader=reader_name if reader_name is not None else _reader_of(transport),
    )  # fmt: skip
    return ReadResult(dump, objects, tuple(runs), access, skipped, errors, evidence, esign_files)


def _read_esign(transport: Transport) -> dict[str, bytes]:
    """The certificate files of the e-signature application (:data:`ESIGN_FILES`) that are on
    the card; read after everything else: its unprotected SELECT ends the eMRTD's secure
    messaging. A card without the application (any other passport) or without a certificate
    yet gives none; the card going away still raises."""
    card = ESignCard(transport)
    out: dict[str, bytes] = {}
    try:
        card.select()
    except CardStatusError:
        return out
    for name, fid in ESIGN_FILES.items():
        try:
            data = card.read_file(fid)
        except CardStatusError:
            continue
        if data:
            out[name] = data
    return out


def _reader_of(transport: Transport) -> str:
    """The PC/SC reader's name, else what kind of transport it is."""
    name = getattr(transport, "reader", None)
    if isinstance(name, str) and name:
        return name
    inner = getattr(transport, "inner", None) or getattr(transport, "transport", None)
    if inner is not None and inner is not transport:
        return _reader_of(inner)
    return type(transport).__name__
