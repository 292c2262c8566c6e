"""Personalization of a blank chip over APDUs (the command set of docs/chip.md).

:func:`personalize` writes the MF files (EF.CardAccess, EF.CardSecurity), the eMRTD application
files (EF.COM, EF.SOD, DG1–DG16), the MRZ key (from DG1), the CAN, the CA and AA private keys,
the CVCA certificate, the chip's date and options; then it *verifies* everything — the SHA-256 of
every file (GET DIGEST ``80 5A 00 00``) and the personalization status (``80 5A 01 00``) — and
only then locks the card (``00 DA DE AD``). A failure half way leaves the card unlocked and
incomplete (re-run :func:`personalize` on it: CREATE FILE replaces), never locked and wrong.
"""

from __future__ import annotations

import hashlib

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.chip import perso
from idcard.chip.perso import CardLockedError, ChipSecrets, MRZKey
from idcard.errors import CardError, CardStatusError, DecodeError, EncodeError
from idcard.esign.protocol import ESIGN_AID, put_perso_key
from idcard.lds import FILES
from idcard.lds.dg1 import DG1
from idcard.lds.dump import Dump
from idcard.reader.atr import extended_length_of
from idcard.reader.document import EMRTD_AID
from idcard.transport import Transport

__all__ = ["CardLockedError", "ChipSecrets", "PersonalizationError", "personalize"]

_SHORT_CHUNK = 255
_EXTENDED_CHUNK = 4096


class PersonalizationError(CardError):
    """Personalization could not be completed or verified; the card was not locked."""


def _send(transport: Transport, command: CommandAPDU, what: str) -> ResponseAPDU:
    response = transport.transmit(command)
    refused = (StatusWord.SECURITY_STATUS_NOT_SATISFIED, StatusWord.INS_NOT_SUPPORTED)
    perso_ins = (perso.CREATE_FILE, perso.PUT_DATA, perso.GET_DIGEST, 0xD6, 0xD7)
    if response.sw in refused and command.ins in perso_ins:
        raise CardLockedError(f"{what}: the card refuses personalization "
                              f"({response.sw:04X}); it is locked")  # fmt: skip
    if not response.ok:
        raise CardStatusError(response.sw, command, f"{what}: card returned {response.sw:04X}")
    return response


def _select_mf(transport: Transport) -> None:
    _send(transport, CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00"), "SELECT MF")


def _select_application(transport: Transport) -> None:
    _send(transport, CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID), "SELECT eMRTD application")


def _write_file(transport: Transport, name: str, fid: int, data: bytes, chunk: int) -> None:
    _send(transport, perso.create_file(fid, len(data)), f"CREATE FILE {name}")
    offset = 0
    while offset < len(data):
        size = chunk if offset <= 0x7FFF else chunk - 8  # room for DO'54' and DO'53' headers
        part = data[offset : offset + size]
        _send(transport, perso.update_binary(offset, part), f"UPDATE BINARY {name}")
        offset += len(part)


def _check_file(transport: Transport, name: str, fid: int, data: bytes) -> None:
    _send(transport, CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")),
          f"SELECT {name}")  # fmt: skip
    digest = _send(transport, CommandAPDU(0x80, perso.GET_DIGEST, 0, 0, ne=32), f"digest {name}")
    if digest.data != hashlib.sha256(data).digest():
        raise PersonalizationError(f"{name}: the card holds different content; not locked")


def personalize(transport: Transport, dump: Dump, secrets: ChipSecrets) -> None:
    """Write ``dump`` and ``secrets`` to a blank (unlocked) chip, verify, then lock it.

    Raises :class:`CardLockedError` for a card that is already locked, ``EncodeError`` when a
    secret that the dump's EF.CardAccess, DG14 or DG15 advertise is not in ``secrets`` (nothing
    written), and :class:`PersonalizationError` when the read-back differs (the card stays
    unlocked).
    """
    for needed in ("EF.COM", "EF.SOD", "DG1"):
        if needed not in dump:
            raise EncodeError(f"a card needs {needed}")
    try:
        mrz = DG1.decode(dump.files["DG1"]).mrz
    except DecodeError as exc:
        raise EncodeError(f"DG1: {exc.reason}") from None
    mrz_key = MRZKey(mrz.document_number, mrz.birth_date, mrz.expiry_date)
    chunk = _EXTENDED_CHUNK if extended_length_of(transport) else _SHORT_CHUNK

    # the lock state first: a locked card refuses the status command
    _select_mf(transport)
    _send(transport, CommandAPDU(0x80, perso.GET_DIGEST, 0x01, 0x00, ne=256), "status")

    _check_secrets(dump, secrets)

    mf = [n for n in dump if FILES[n].in_mf]
    app = [n for n in dump if not FILES[n].in_mf]
    for name in mf:
        _write_file(transport, name, FILES[name].fid, dump.files[name], chunk)
    _select_application(transport)
    for name in app:
        _write_file(transport, name, FILES[name].fid, dump.files[name], chunk)

    items: list[tuple[int, bytes, str]] = [(perso.TAG_MRZ, perso.encode_mrz(mrz_key), "MRZ")]
    pace_secrets: dict[int, bytes] = {}
    if secrets.can is not None:
        pace_secrets[2] = secrets.can.encode("latin-1")
        items.append((perso.TAG_PACE_SECRETS, perso.encode_pace_secrets(pace_secrets), "CAN"))
    if secrets.ca_private_key is not None:
        key_der = perso.encode_private_key(secrets.ca_private_key)
        items.append((perso.TAG_CA_KEY, key_der, "CA key"))
    if secrets.aa_private_key is not None:
        key_der = perso.encode_private_key(secrets.aa_private_key)
        items.append((perso.TAG_AA_KEY, key_der, "AA key"))
    if secrets.cvca is not None:
        items.append((perso.TAG_CVCA, secrets.cvca.encode(), "CVCA"))
    if secrets.current_date is not None:
        items.append((perso.TAG_CURRENT_DATE, perso.encode_date(secrets.current_date), "date"))
    options = perso.OPTION_PACE_REQUIRED if secrets.pace_required else 0
    items.append((perso.TAG_OPTIONS, bytes([options]), "options"))
    for tag, payload, what in items:
        _send(transport, perso.put_data(tag, payload), f"PUT DATA {what}")
    if secrets.esign_perso_key is not None:
        _send(transport, CommandAPDU(0x00, 0xA4, 0x04, 0x0C, ESIGN_AID), "SELECT e-sign")
        _send(transport, put_perso_key(secrets.esign_perso_key), "PUT DATA K_perso")

    # verify everything before the lock
    _select_mf(transport)
    for name in mf:
        _check_file(transport, name, FILES[name].fid, dump.files[name])
    _select_application(transport)
    for name in app:
        _check_file(transport, name, FILES[name].fid, dump.files[name])
    status = _send(transport, CommandAPDU(0x80, perso.GET_DIGEST, 0x01, 0x00, ne=256), "status")
    _check_status(status.data, mrz_key, pace_secrets, secrets)

    _send(transport, perso.lock(), "LOCK")


def _check_secrets(dump: Dump, secrets: ChipSecrets) -> None:
    """The secrets the dump's EF.CardAccess, DG14 and DG15 advertise must all be given (the
    chip refuses LOCK otherwise): refused before anything is written."""
    try:
        advertised = perso.advertised_secrets(*(dump.files.get(n) for n in
                                                ("EF.CardAccess", "DG14", "DG15")))  # fmt: skip
    except DecodeError as exc:
        raise EncodeError(f"EF.CardAccess or DG14: {exc.reason}") from None
    missing = perso.missing_secrets(
        advertised,
        can=secrets.can is not None,
        ca_key=secrets.ca_private_key is not None,
        aa_key=secrets.aa_private_key is not None,
        cvca=secrets.cvca is not None,
    )
    if missing:
        raise EncodeError(f"the card's files advertise {', '.join(missing)}, "
                          "not among the secrets; not personalized")  # fmt: skip


def _check_status(
    data: bytes, mrz_key: MRZKey, pace_secrets: dict[int, bytes], secrets: ChipSecrets
) -> None:
    try:
        got = {item.tag: item.value for item in tlv.decode_all(data)}
    except DecodeError:
        raise PersonalizationError("malformed personalization status; not locked") from None
    expected: dict[int, bytes] = {
        0x85: hashlib.sha256(perso.encode_mrz(mrz_key)).digest(),
    }
    if pace_secrets:
        expected[0x86] = hashlib.sha256(perso.encode_pace_secrets(pace_secrets)).digest()
    if secrets.ca_private_key is not None:
        expected[0x81] = perso.public_key_digest(secrets.ca_private_key)
    if secrets.aa_private_key is not None:
        expected[0x82] = perso.public_key_digest(secrets.aa_private_key)
    if secrets.cvca is not None:
        expected[0x83] = secrets.cvca.chr.encode("latin-1")
    if secrets.current_date is not None:
        expected[0x84] = perso.encode_date(secrets.current_date)
    flags = got.get(0x80, b"\x00")[0]
    if bool(flags & 0x20) != secrets.pace_required:
        raise PersonalizationError("the PACE-required option did not stick; not locked")
    for tag, value in expected.items():
        if got.get(tag) != value:
            raise PersonalizationError(f"personalization status item {tag:02X} differs; "
                                       "not locked")  # fmt: skip
