"""The virtual eMRTD chip: an ISO/IEC 7816-4 card with the LDS1 application (docs/chip.md).

:class:`VirtualChip` implements :class:`idcard.chip.vpcd.CardSimulator` (``atr``, ``power_on``,
``power_off``, ``reset``, ``process``). It answers SELECT (by AID, by FID; P2 0C, 00, 04), READ
BINARY (B0 with offset or SFI, odd B1 with DO'54'), GET CHALLENGE and the chip sides of BAC, PACE
(GM/IM/CAM), Chip Authentication, Terminal Authentication and Active Authentication, from the
state machines of :mod:`idcard.protocols`, and enforces ICAO 9303-11 / TR-03110 access control:

* before the lock the chip is "in personalization": SELECT, GET CHALLENGE, the personalization
  commands (:mod:`idcard.chip.perso`) and READ of EF.ATR/INFO only;
* after it: EF.ATR/INFO and EF.CardAccess in the clear; everything else only under secure
  messaging after BAC or PACE (6982 otherwise); DG3/DG4 only after Terminal Authentication whose
  effective CHAT grants them; BAC refused (6982) when the profile requires PACE;
* an unprotected command ends the SM session, as does any SM failure (6987/6988), a malformed
  protected APDU (a wrong Lc) included: the chip is then unauthenticated again, and a PIN
  verified in the session is no longer verified (a PIN verified in the clear does not carry into
  a new session either). Chip Authentication switches the SM keys; TA needs CA first.

The chip's date (TR-03110-3 §2.5) is persistent state, advanced by the effective date of
accepted CVCA, DV and domestic terminal certificates; an accepted CVCA link certificate becomes
the new trust anchor.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.chip import perso
from idcard.chip.esign_app import ESIGN_PERSO, ESignApplication
from idcard.chip.piv_app import PIV_AID, PIV_AID_SHORT, PIVApplication
from idcard.chip.state import APPLICATION, EF_ATR_INFO, ESIGN, MF, ChipState
from idcard.cvc.certificate import CVCertificate
from idcard.cvc.chat import CHAT, Role
from idcard.errors import DecodeError, EncodeError
from idcard.esign.protocol import ESIGN_AID, FID_CERTIFICATE
from idcard.lds.dg14 import DG14
from idcard.lds.security_infos import (
    ActiveAuthenticationInfo,
    CardAccess,
    ChipAuthenticationInfo,
)
from idcard.protocols.aa import AAChip
from idcard.protocols.bac import BACChip, key_seed
from idcard.protocols.ca import CAChip, compressed
from idcard.protocols.pace import CAN, PIN, PUK, PACEAlgorithm, PACEChip, PACEPassword
from idcard.protocols.pace.terminal import check_combination
from idcard.protocols.params import standardized
from idcard.protocols.ta import TAChip, id_picc_from_document_number
from idcard.sm import SM_CLA, SecureChannel, SecureChipSession

__all__ = ["ATR", "EF_ATR_INFO_CONTENT", "EMRTD_AID", "VirtualChip", "ef_atr_info", "make_atr"]

log = logging.getLogger(__name__)

EMRTD_AID = bytes.fromhex("A0000002471001")
"""The LDS1 eMRTD application (9303-10 §4.2)."""


def _historical(extended: bool) -> bytes:
    """Category 80, card capabilities (ISO/IEC 7816-4 §8.1.1.2.7): selection by DF name, FID
    and SFI (94); data coding 21; third table 40 = extended Lc and Le fields (or 00)."""
    return bytes([0x80, 0x73, 0x94, 0x21, 0x40 if extended else 0x00])


def _with_tck(atr: bytes) -> bytes:
    tck = 0
    for b in atr[1:]:
        tck ^= b
    return atr + bytes([tck])


def make_atr(extended: bool = True) -> bytes:
    """3B 85 80 01 ‹historical› TCK: T=0/T=1 as contactless readers map them (PC/SC part 3)."""
    hist = _historical(extended)
    return _with_tck(bytes([0x3B, 0x80 | len(hist), 0x80, 0x01]) + hist)


def ef_atr_info(extended: bool = True) -> bytes:
    """EF.ATR/INFO (ISO/IEC 7816-4 §8.2.1.1): card capabilities (DO'47') and, with extended
    length, the extended length information (DO'7F66': maximum command and response length,
    65 535 each)."""
    caps = tlv.encode(0x47, _historical(extended)[2:])
    if not extended:
        return caps
    limit = tlv.encode(0x02, b"\x00\xff\xff")
    return caps + tlv.encode(0x7F66, limit + limit)


ATR = make_atr(True)
EF_ATR_INFO_CONTENT = ef_atr_info(True)

_FID_COM, _FID_SOD, _FID_DG1 = 0x011E, 0x011D, 0x0101
_FID_CARD_ACCESS, _FID_CARD_SECURITY = 0x011C, 0x011D
_FID_DG3, _FID_DG4, _FID_DG14, _FID_DG15 = 0x0103, 0x0104, 0x010E, 0x010F
_SM_SHORT_MAX = {"3DES": 231, "AES-128": 223, "AES-192": 223, "AES-256": 223}
"""Largest plaintext whose protected response fits a short Le (256 bytes with DO'87'/'99'/'8E')."""

_PIV = "piv"
"""``_df`` while the PIV application is selected (it has no files)."""

Rng = Callable[[int], bytes]


def _sw(sw: int) -> ResponseAPDU:
    return ResponseAPDU(b"", sw)


class VirtualChip:
    """The eMRTD chip. ``state`` is its persistent memory; ``rng`` its randomness."""

    def __init__(self, state: ChipState, *, rng: Rng = os.urandom) -> None:
        self.state = state
        self._rng = rng
        self._esign = ESignApplication(state, open_session=self._open_esign_perso, rng=rng)
        self._piv = PIVApplication(  # the PIV face of the same key and PIN (docs/chip.md)
            state, pin=lambda c: self._esign.handle(c, protected=False, perso_channel=False),
            pin_verified=lambda: self._esign.pin_verified,
        )
        self._reset_session()

    # -- construction and persistence ------------------------------------------------------------

    @classmethod
    def new(cls, *, extended_length: bool = True, rng: Rng = os.urandom) -> VirtualChip:
        """A blank chip in personalization state: an MF with EF.ATR/INFO and an empty eMRTD
        application. ``extended_length=False`` makes a short-length-only card (ATR, EF.ATR/INFO
        and 6700 for extended APDUs)."""
        state = ChipState(extended_length=extended_length)
        state.files[MF][EF_ATR_INFO] = bytearray(ef_atr_info(extended_length))
        return cls(state, rng=rng)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, rng: Rng = os.urandom) -> VirtualChip:
        """A chip from its JSON image (:meth:`save`); no session state is restored."""
        return cls(ChipState.load(path), rng=rng)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the persistent state as a JSON image, atomically, mode 0600."""
        self.state.save(Path(path))

    @property
    def locked(self) -> bool:
        return self.state.locked

    # -- CardSimulator -------------------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        return make_atr(self.state.extended_length)

    def power_on(self) -> None:
        self._reset_session()

    def power_off(self) -> None:
        self._reset_session()

    def reset(self) -> None:
        self._reset_session()

    def process(self, apdu: bytes) -> bytes:
        """One command APDU in, the response APDU (data and SW) out; never raises."""
        try:
            command = CommandAPDU.decode(bytes(apdu))
        except DecodeError:
            return self._malformed(bytes(apdu)).encode()
        if command.is_extended and not self.state.extended_length:
            return self._malformed(bytes(apdu)).encode()
        try:
            response = self._process(command)
        except Exception as exc:  # a bug must not take the card (and the vpcd bridge) down
            log.error("chip error on INS %02X: %s", command.ins, type(exc).__name__)
            self._reset_session()
            response = _sw(StatusWord.NO_PRECISE_DIAGNOSIS)
        return response.encode()

    # -- session -------------------------------------------------------------------------------

    def _reset_session(self) -> None:
        self._df = MF
        self._piv.deselect()
        self._ef: int | None = None
        self._end_session()

    def _end_session(self) -> None:
        """Secure messaging ends (or starts anew): the security status obtained in it ends with
        it (ISO/IEC 7816-4 §5.4), the e-sign PIN included."""
        self._esign.deselect()
        self._sm: SecureChipSession | None = None
        self.access: str | None = None
        """"BAC" or "PACE" while a secure-messaging session is open."""
        self._bac: BACChip | None = None
        self._pace: PACEChip | None = None
        self._ca: CAChip | None = None
        self._ta: TAChip | None = None
        self._ta_known: dict[str, CVCertificate] = {}
        self._ca_comp: bytes | None = None
        self._id_picc = b""
        self.granted: CHAT | None = None
        self._short_outer = False
        self._cipher = "3DES"

    def _start_session(self, session: SecureChipSession, access: str, id_picc: bytes) -> None:
        self._end_session()
        self._sm = session
        self.access = access
        self._id_picc = id_picc
        self._cipher = session.channel.cipher

    def _open_esign_perso(self, channel: SecureChannel) -> None:
        """The e-sign application's personalization channel (docs/chip.md)."""
        self._start_session(SecureChipSession(channel, self._protected), ESIGN_PERSO, b"")

    @property
    def authenticated(self) -> bool:
        """True while a BAC or PACE secure-messaging session is open."""
        return self._sm is not None and self._sm.active

    def _process(self, command: CommandAPDU) -> ResponseAPDU:
        if command.cla & SM_CLA:
            if command.cla & SM_CLA != SM_CLA or self._sm is None or not self._sm.active:
                self._end_session()
                return _sw(StatusWord.SM_DATA_OBJECTS_MISSING)
            self._short_outer = not command.is_extended
            response = self._sm.handle(command)
            if not self._sm.active:
                self._end_session()
            return response
        if self._sm is not None:
            self._end_session()  # an unprotected command ends secure messaging
        return self._dispatch(command, protected=False)

    def _malformed(self, apdu: bytes) -> ResponseAPDU:
        """A command APDU this chip cannot take (6700). In a session it ends secure messaging:
        with the SM CLA bits it is a failed protected command, answered 6988 as a MAC failure
        is (9303-11 §9.8); with some of them 6987, as in :meth:`_process`."""
        if self._sm is None:
            return _sw(StatusWord.WRONG_LENGTH)
        sm_bits = apdu[0] & SM_CLA if apdu else 0
        self._end_session()
        if sm_bits == SM_CLA:
            return _sw(StatusWord.SM_DATA_OBJECTS_INCORRECT)
        if sm_bits:
            return _sw(StatusWord.SM_DATA_OBJECTS_MISSING)
        return _sw(StatusWord.WRONG_LENGTH)

    def _protected(self, command: CommandAPDU) -> ResponseAPDU:
        return self._dispatch(command, protected=True)

    # -- dispatch ------------------------------------------------------------------------------

    def _dispatch(self, command: CommandAPDU, *, protected: bool) -> ResponseAPDU:
        ins, cla = command.ins, command.cla
        if self._df == _PIV and ins != 0xA4:
            return self._piv.handle(command)
        if self._df == ESIGN and ins not in (0xA4, 0xB0, 0xB1):
            perso_channel = protected and self.access == ESIGN_PERSO
            return self._esign.handle(command, protected=protected, perso_channel=perso_channel)
        if cla == 0x80:
            if ins == perso.GET_DIGEST and not self.state.locked and not protected:
                return self._get_digest(command)
            return _sw(StatusWord.INS_NOT_SUPPORTED)
        if cla not in (0x00, 0x10):
            return _sw(StatusWord.CLA_NOT_SUPPORTED)
        if cla == 0x10 and ins != 0x86:
            return _sw(0x6884)  # command chaining not supported
        if ins == 0xA4:
            return self._select(command)
        if ins in (perso.CREATE_FILE, 0xD6, 0xD7, perso.PUT_DATA):
            if self.state.locked or protected:
                return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
            return self._personalize(command)
        if ins in (0xB0, 0xB1):
            return self._read_binary(command, protected)
        if not self.state.locked:
            if ins == 0x84 and command.ne == 8 and not protected:
                return ResponseAPDU(self._rng(8))
            return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
        if protected:
            return self._issued_protected(command)
        return self._issued_plain(command)

    # -- files ---------------------------------------------------------------------------------

    def _files(self) -> dict[int, bytearray]:
        return self.state.files.get(self._df, {})  # the PIV face has no files

    def _select(self, command: CommandAPDU) -> ResponseAPDU:
        p1, p2, data = command.p1, command.p2, command.data
        if p2 not in (0x00, 0x04, 0x0C):
            return _sw(StatusWord.INCORRECT_P1P2)
        fci = b""
        if p1 == 0x04 and data in (PIV_AID, PIV_AID_SHORT) and self._piv.available:
            self._esign.deselect()  # another application: the e-sign PIN status ends
            self._df, self._ef = _PIV, None
            answer = self._piv.select()
            return ResponseAPDU(b"") if p2 == 0x0C else answer
        if p1 == 0x04:
            if data not in (EMRTD_AID, ESIGN_AID):
                return _sw(StatusWord.FILE_NOT_FOUND)
            self._esign.deselect()  # any SELECT of an application drops the e-sign PIN
            self._df, self._ef = (APPLICATION if data == EMRTD_AID else ESIGN), None
            fci = tlv.encode(0x84, data)
        elif p1 in (0x00, 0x02):
            if p1 == 0x00 and data in (b"", b"\x3f\x00"):
                self._esign.deselect()
                self._df, self._ef = MF, None
                fci = tlv.encode(0x83, b"\x3f\x00")
            elif len(data) != 2:
                return _sw(StatusWord.WRONG_LENGTH)
            else:
                fid = int.from_bytes(data, "big")
                if fid not in self._files():
                    return _sw(StatusWord.FILE_NOT_FOUND)
                self._ef = fid
                size = len(self._files()[fid]).to_bytes(2, "big")
                fci = tlv.encode(0x80, size) + tlv.encode(0x82, b"\x01") + tlv.encode(0x83, data)
        else:
            return _sw(StatusWord.INCORRECT_P1P2)
        if p2 == 0x0C:
            return ResponseAPDU(b"")
        return ResponseAPDU(tlv.encode(0x6F if p2 == 0x00 else 0x62, fci))

    def _by_sfi(self, sfi: int) -> int | None:
        for fid in self._files():
            if fid & 0xFF == sfi:
                return fid
        return None

    def _may_read(self, fid: int, protected: bool) -> bool:
        if (self._df == MF and fid == EF_ATR_INFO) or self._df == ESIGN:
            return True  # EF.ATR/INFO, and the e-sign certificate files: readable by anyone
        if not self.state.locked:
            return False
        if self._df == MF and fid == _FID_CARD_ACCESS:
            return True
        if not protected:
            return False
        if self._df == APPLICATION and fid == _FID_DG3:
            return self.granted is not None and self.granted.read_dg3
        if self._df == APPLICATION and fid == _FID_DG4:
            return self.granted is not None and self.granted.read_dg4
        return True

    def _read_binary(self, command: CommandAPDU, protected: bool) -> ResponseAPDU:
        p1, p2 = command.p1, command.p2
        fid: int | None
        if command.ins == 0xB0:
            if command.data:
                return _sw(StatusWord.WRONG_LENGTH)
            if p1 & 0x80:
                if p1 & 0x60:
                    return _sw(StatusWord.INCORRECT_P1P2)
                fid = self._by_sfi(p1 & 0x1F)
                if fid is None:
                    return _sw(StatusWord.FILE_NOT_FOUND)
                offset = p2
            else:
                fid, offset = self._ef, (p1 << 8) | p2
        else:
            try:
                items = tlv.decode_all(command.data)
            except DecodeError:
                return _sw(StatusWord.WRONG_DATA)
            do54 = tlv.find(items, 0x54)
            if do54 is None or not 1 <= len(do54.value) <= 3 or len(items) != 1:
                return _sw(StatusWord.WRONG_DATA)
            offset = int.from_bytes(do54.value, "big")
            if (p1, p2) == (0, 0):
                fid = self._ef
            elif p1 == 0 and 1 <= p2 <= 0x1E:
                fid = self._by_sfi(p2)
                if fid is None:
                    return _sw(StatusWord.FILE_NOT_FOUND)
            else:
                fid = (p1 << 8) | p2
        if fid is None:
            return _sw(StatusWord.COMMAND_NOT_ALLOWED)
        content = self._files().get(fid)
        if content is None:
            return _sw(StatusWord.FILE_NOT_FOUND)
        if not self._may_read(fid, protected):
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        self._ef = fid
        if command.ne is None:
            return _sw(StatusWord.WRONG_LENGTH)
        if offset > len(content):
            return _sw(StatusWord.WRONG_P1P2)
        n = command.ne
        if protected and self._short_outer:
            n = min(n, _SM_SHORT_MAX.get(self._cipher, 223))
        if command.ins == 0xB1:
            n -= 4  # room for the DO'53' header
        chunk = bytes(content[offset : offset + max(n, 0)])
        if command.ins == 0xB1:
            chunk = tlv.encode(0x53, chunk)
        return ResponseAPDU(chunk, 0x9000 if offset < len(content) else StatusWord.END_OF_FILE)

    # -- personalization -----------------------------------------------------------------------

    def _personalize(self, command: CommandAPDU) -> ResponseAPDU:
        try:
            return self._personalize_command(command)
        except (DecodeError, EncodeError):
            return _sw(StatusWord.WRONG_DATA)

    def _personalize_command(self, command: CommandAPDU) -> ResponseAPDU:
        ins, p1, p2, data = command.ins, command.p1, command.p2, command.data
        if ins == perso.CREATE_FILE:
            size, fid = perso.decode_create_file(data)
            if fid in (0x3F00, 0xFFFF, 0x0000):
                return _sw(StatusWord.WRONG_DATA)
            perso.chip_create_file(self.state, self._df, fid, size)  # re-creating replaces
            self._ef = fid
            return ResponseAPDU(b"")
        if ins in (0xD6, 0xD7):
            if ins == 0xD6:
                if p1 & 0x80:
                    return _sw(StatusWord.INCORRECT_P1P2)
                offset = (p1 << 8) | p2
            else:
                items = tlv.decode_all(data)
                do54, do53 = tlv.find(items, 0x54), tlv.find(items, 0x53)
                if do54 is None or do53 is None or (p1, p2) != (0, 0):
                    return _sw(StatusWord.WRONG_DATA)
                offset, data = int.from_bytes(do54.value, "big"), do53.value
            if self._ef is None or self._ef not in self._files():
                return _sw(StatusWord.COMMAND_NOT_ALLOWED)
            if not perso.chip_update_binary(self.state, self._df, self._ef, offset, data):
                return _sw(StatusWord.NOT_ENOUGH_MEMORY)
            return ResponseAPDU(b"")
        if (p1, p2) == (0xDE, 0xAD):
            return self._lock()
        return self._put_data(p1, p2, data)

    def _put_data(self, p1: int, p2: int, data: bytes) -> ResponseAPDU:
        state = self.state
        if p1 != 0 and p2 != perso.TAG_CVCA:
            return _sw(StatusWord.INCORRECT_P1P2)
        if p2 == perso.TAG_MRZ:
            state.mrz = perso.decode_mrz(data)
        elif p2 == perso.TAG_AA_RSA_MODULUS:
            state.aa_rsa_modulus = perso.decode_rsa_part(data, p2)
        elif p2 == perso.TAG_AA_RSA_EXPONENT:
            if state.aa_rsa_modulus is None:
                return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
            state.aa_private_key = _rsa_from_n_d(
                state.aa_rsa_modulus, perso.decode_rsa_part(data, p2)
            )
        elif p2 == perso.TAG_CA_KEY:
            state.ca_private_key = perso.decode_ec_key(data)
        elif p2 == perso.TAG_CVCA:
            cert = CVCertificate.decode(data)
            if cert.chat.role is not Role.CVCA:
                return _sw(StatusWord.WRONG_DATA)
            state.cvca = cert
        elif p2 == perso.TAG_PACE_SECRETS:
            state.pace_secrets.update(perso.decode_pace_secrets(data))
        elif p2 == perso.TAG_CURRENT_DATE:
            state.current_date = perso.decode_date(data)
        elif p2 == perso.TAG_AA_KEY:
            state.aa_private_key = perso.decode_private_key(data)
        elif p2 == perso.TAG_OPTIONS:
            if len(data) != 1:
                return _sw(StatusWord.WRONG_LENGTH)
            state.pace_required = bool(data[0] & perso.OPTION_PACE_REQUIRED)
        else:
            return _sw(StatusWord.INCORRECT_P1P2)
        return ResponseAPDU(b"")

    def _lock(self) -> ResponseAPDU:
        reason = incomplete(self.state)
        if reason is not None:
            log.warning("LOCK refused: %s", reason)
            return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
        self.state.locked = True
        self.state.aa_rsa_modulus = None
        self._reset_session()
        return ResponseAPDU(b"")

    def _get_digest(self, command: CommandAPDU) -> ResponseAPDU:
        """80 5A 00 00: SHA-256 of the current EF; 80 5A 01 00: personalization status."""
        if (command.p1, command.p2) == (0x00, 0x00):
            if self._ef is None or self._ef not in self._files():
                return _sw(StatusWord.COMMAND_NOT_ALLOWED)
            return ResponseAPDU(hashlib.sha256(bytes(self._files()[self._ef])).digest())
        if (command.p1, command.p2) == (0x01, 0x00):
            return ResponseAPDU(personalization_status(self.state))
        return _sw(StatusWord.INCORRECT_P1P2)

    # -- issued state --------------------------------------------------------------------------

    def _issued_plain(self, command: CommandAPDU) -> ResponseAPDU:
        ins, state = command.ins, self.state
        if ins == 0x84:
            if state.pace_required or state.mrz is None:
                return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
            mrz = state.mrz
            seed = key_seed(mrz.document_number, mrz.birth_date, mrz.expiry_date)
            self._bac = BACChip(seed, rng=self._rng)
            return self._bac.handle(command)
        if ins == 0x82:
            if state.pace_required:
                return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
            if self._bac is None:
                return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
            bac, response = self._bac, self._bac.handle(command)
            if bac.result is not None and state.mrz is not None:
                id_picc = id_picc_from_document_number(state.mrz.document_number)
                self._start_session(SecureChipSession(bac.result.channel, self._protected),
                                    "BAC", id_picc)  # fmt: skip
            return response
        if ins == 0x22 and (command.p1, command.p2) == (0xC1, 0xA4):
            self._pace = self._pace_chip()
            if self._pace is None:
                return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
            return self._pace.handle(command)
        if ins == 0x86:
            pace = self._pace
            if pace is None:
                return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
            response = pace.handle(command)
            result = pace.result
            if result is not None:
                self._start_session(SecureChipSession(result.secure_channel(), self._protected),
                                    "PACE", result.id_picc)  # fmt: skip
                if result.mapping == "CAM":
                    self._ca_comp = compressed(result.terminal_public_key)
            elif pace.error is not None:
                self._pace = None
            return response
        if ins in (0x22, 0x2A, 0x88):
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)
        return _sw(StatusWord.INS_NOT_SUPPORTED)

    def _pace_chip(self) -> PACEChip | None:
        state = self.state
        access = state.files[MF].get(_FID_CARD_ACCESS)
        if access is None:
            return None
        try:
            infos = CardAccess.decode(bytes(access)).security_infos.pace_infos
        except DecodeError:
            return None
        passwords = [PACEPassword(ref, s) for ref, s in state.pace_secrets.items()
                     if ref in (CAN, PIN, PUK)]  # fmt: skip
        if state.mrz is not None:
            m = state.mrz
            passwords.append(PACEPassword.from_mrz(m.document_number, m.birth_date, m.expiry_date))
        ca_key = state.ca_private_key
        sk_ic = ca_key.private_numbers().private_value if ca_key is not None else None
        supported: list[tuple[str, int]] = []
        for info in infos:
            try:
                algorithm = PACEAlgorithm.from_oid(info.protocol)
                if info.parameter_id is not None:  # an entry that cannot run is not offered
                    check_combination(algorithm, standardized(info.parameter_id))
            except (DecodeError, EncodeError):
                continue
            cam = algorithm.mapping == "CAM"
            if info.parameter_id is not None and (sk_ic is not None or not cam):
                supported.append((info.protocol, info.parameter_id))
        try:
            return PACEChip(passwords, supported, ca_private_key=sk_ic, rng=self._rng)
        except (EncodeError, DecodeError):
            return None

    def _dg14(self) -> DG14 | None:
        raw = self.state.files[APPLICATION].get(_FID_DG14)
        if raw is None:
            return None
        try:
            return DG14.decode(bytes(raw))
        except DecodeError:
            return None

    def _issued_protected(self, command: CommandAPDU) -> ResponseAPDU:
        ins, p1p2 = command.ins, (command.p1, command.p2)
        if ins == 0x22 and p1p2 in ((0x41, 0xA4), (0x41, 0xA6)):
            key = self.state.ca_private_key
            if key is None:
                return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
            dg14 = self._dg14()
            infos = dg14.security_infos.of_type(ChipAuthenticationInfo) if dg14 else ()
            try:
                if infos:
                    self._ca = CAChip(key, oid=infos[0].protocol, key_id=infos[0].key_id)
                else:
                    self._ca = CAChip(key)
            except EncodeError:
                return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
            return self._ca_step(command)
        if ins == 0x86:
            if self._ca is None or self._ca.done:
                return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
            return self._ca_step(command)
        if ins == 0x88:
            return self._active_authentication(command)
        if ins in (0x22, 0x2A, 0x84, 0x82):
            if ins == 0x22 and p1p2 not in ((0x81, 0xB6), (0x81, 0xA4)):
                return _sw(StatusWord.INCORRECT_P1P2)
            return self._terminal_authentication(command)
        return _sw(StatusWord.INS_NOT_SUPPORTED)

    def _ca_step(self, command: CommandAPDU) -> ResponseAPDU:
        assert self._ca is not None and self._sm is not None
        response = self._ca.handle(command)
        result = self._ca.result
        if result is not None:
            self._sm.next_channel = result.channel
            self._cipher = result.channel.cipher
            self._ca_comp = result.compressed_ephemeral_public_key
            self._ta, self._ta_known, self.granted = None, {}, None
        return response

    def _active_authentication(self, command: CommandAPDU) -> ResponseAPDU:
        key = self.state.aa_private_key
        if key is None:
            return _sw(StatusWord.INS_NOT_SUPPORTED)
        dg14 = self._dg14()
        infos = dg14.security_infos.of_type(ActiveAuthenticationInfo) if dg14 else ()
        hash_alg = infos[0].signature_algorithm if infos else None
        try:
            return AAChip(key, hash_alg=hash_alg, rng=self._rng).handle(command)
        except (EncodeError, DecodeError, ValueError):
            return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)

    def _terminal_authentication(self, command: CommandAPDU) -> ResponseAPDU:
        cvca = self.state.cvca
        if self._ca_comp is None:
            return _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED)  # EAC order: CA before TA
        if cvca is None:
            return _sw(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if self.granted is not None:
            return _sw(StatusWord.CONDITIONS_NOT_SATISFIED)
        if self._ta is None:
            self._ta = TAChip(cvca, self.state.current_date, id_picc=self._id_picc,
                              ephemeral_public_key_comp=self._ca_comp, rng=self._rng)  # fmt: skip
            self._ta_known = {cvca.chr: cvca}
        response = self._ta.handle(command)
        if command.ins == 0x2A and response.ok:
            self._certificate_accepted(CVCertificate.decode_body_and_signature(command.data))
        if command.ins == 0x82 and self._ta.granted is not None:
            self.granted = self._ta.granted
        return response

    def _certificate_accepted(self, cert: CVCertificate) -> None:
        """TR-03110-3 §2.5: advance the date; a CVCA link certificate becomes the anchor."""
        issuer = self._ta_known.get(cert.car)
        self._ta_known[cert.chr] = cert
        role = cert.chat.role
        domestic_terminal = (
            role is Role.TERMINAL and issuer is not None and issuer.chat.role is Role.DV_DOMESTIC
        )
        if role is not Role.TERMINAL or domestic_terminal:
            effective = cert.body.effective_date
            if effective > self.state.current_date:
                self.state.current_date = effective
        if role is Role.CVCA:
            self.state.cvca = cert


def incomplete(state: ChipState) -> str | None:
    """Why LOCK must refuse this card (docs/chip.md, "Personalization"), or None: EF.COM,
    EF.SOD, DG1 or the MRZ key missing; a created file not written to its declared size; a
    secret that the card's own EF.CardAccess, DG14 or DG15 advertise missing
    (:func:`~idcard.chip.perso.advertised_secrets`); an e-signature application in use (files,
    key, PIN or PUK) without its K_perso, or a holder certificate without its key pair. The
    reason names files and secrets, never a value."""
    app, mf = state.files[APPLICATION], state.files[MF]
    if state.mrz is None or not all(f in app for f in (_FID_COM, _FID_SOD, _FID_DG1)):
        return "EF.COM, EF.SOD, DG1 and the MRZ key are needed"
    for df, gaps in state.unwritten.items():
        short = sorted(fid for fid, ranges in gaps.items() if ranges)
        if short:
            return f"{df} file {short[0]:04X} is not written to its declared size"
    try:
        advertised = perso.advertised_secrets(
            _bytes(mf.get(_FID_CARD_ACCESS)), _bytes(app.get(_FID_DG14)), _bytes(app.get(_FID_DG15))
        )
    except DecodeError:
        return "EF.CardAccess or DG14 does not decode"
    missing = perso.missing_secrets(
        advertised,
        can=CAN in state.pace_secrets,
        ca_key=state.ca_private_key is not None,
        aa_key=state.aa_private_key is not None,
        cvca=state.cvca is not None,
    )
    if missing:
        return f"advertised but missing: {', '.join(missing)}"
    esign = state.files[ESIGN]
    held = (state.esign_key, state.esign_pin, state.esign_puk)
    if (esign or any(x is not None for x in held)) and state.esign_perso_key is None:
        return "the e-signature application has no K_perso"
    if FID_CERTIFICATE in esign and state.esign_key is None:
        return "the e-signature certificate has no key pair"
    return None


def _bytes(content: bytearray | None) -> bytes | None:
    return None if content is None else bytes(content)


def personalization_status(state: ChipState) -> bytes:
    """The answer to ``80 5A 01 00`` (docs/chip.md): DO'80' flags, DO'81'/'82' SHA-256 of the CA
    and AA public keys (SubjectPublicKeyInfo), DO'83' the CVCA CHR, DO'84' the date, DO'85' the
    SHA-256 of the MRZ payload of PUT DATA 62, DO'86' of the PACE secrets payload of 65."""
    flags = (
        (state.mrz is not None) * 0x01
        | bool(state.pace_secrets) * 0x02
        | (state.ca_private_key is not None) * 0x04
        | (state.aa_private_key is not None) * 0x08
        | (state.cvca is not None) * 0x10
        | state.pace_required * 0x20
    )
    out = [tlv.encode(0x80, bytes([flags]))]
    for tag, key in ((0x81, state.ca_private_key), (0x82, state.aa_private_key)):
        if key is not None:
            out.append(tlv.encode(tag, perso.public_key_digest(key)))
    if state.cvca is not None:
        out.append(tlv.encode(0x83, state.cvca.chr.encode("latin-1")))
    out.append(tlv.encode(0x84, perso.encode_date(state.current_date)))
    if state.mrz is not None:
        out.append(tlv.encode(0x85, hashlib.sha256(perso.encode_mrz(state.mrz)).digest()))
    if state.pace_secrets:
        payload = perso.encode_pace_secrets(dict(sorted(state.pace_secrets.items())))
        out.append(tlv.encode(0x86, hashlib.sha256(payload).digest()))
    return b"".join(out)


def _rsa_from_n_d(n: int, d: int) -> rsa.RSAPrivateKey:
    """The RSA key from modulus and private exponent (JMRTD P2 60/61), whose public exponent
    must be one of 65537, 3, 17: the factors are recovered from (n, e, d)."""
    for e in (65537, 3, 17):
        try:
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
        except ValueError:
            continue
        if p * q != n:
            continue
        numbers = rsa.RSAPrivateNumbers(
            p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
            rsa.RSAPublicNumbers(e, n),
        )  # fmt: skip
        try:
            return numbers.private_key()
        except ValueError:
            continue
    raise DecodeError("RSA key: public exponent not 65537, 3 or 17, or inconsistent values")
