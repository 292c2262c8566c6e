"""Chip data and cards, below any front end: the chip's files and secrets of an applicant
(``idkarta card prepare``), personalization, reading a card into a dump folder, serving a chip
image to pcscd's vpcd reader, the holder's e-signature PIN.

Secrets never come from arguments: a secrets file's keys are PKCS#8 PEM encrypted with a
passphrase the caller supplies (a callable, asked when first needed), as is a terminal key.
Errors are :class:`~station.errors.UsageError` (input that cannot be used) or the card's own
errors (:mod:`idcard.errors`, :mod:`idcard.esign.card`, :mod:`idcard.reader.personalize`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from idcard.apdu import CommandAPDU
from idcard.chip.perso import ChipSecrets, PrivateKey
from idcard.chip.state import APPLICATION, EF_ATR_INFO, MF, DurableChip
from idcard.chip.vpcd import CardSimulator, VPCDClient
from idcard.cvc.certificate import CVCertificate
from idcard.cvc.chat import Role
from idcard.errors import DecodeError
from idcard.esign.card import ESignCard
from idcard.esign.protocol import PIN_TRIES, pin_block
from idcard.lds import by_fid
from idcard.lds.dump import Dump
from idcard.reader.document import ReadResult, TerminalCredentials, read_document
from idcard.reader.logging import LoggingTransport, Mask, SMTraceDecoder, default_mask
from idcard.reader.personalize import personalize
from idcard.sm import SM_CLA
from idcard.transport import Transport
from pki.cvca import EACFolder, load_certificate
from station.applicant import Applicant
from station.card_data import SECRETS_FORMAT, SECRETS_VERSION, CardKeys, build_card_data
from station.errors import UsageError
from station.folders.keys import Ask
from station.folders.pki import open_pki_stores, run_sign_sod

if TYPE_CHECKING:
    from idcard.chip.emrtd import VirtualChip

__all__ = [
    "PassphraseFunc",
    "chip_summary",
    "load_chip",
    "load_secrets",
    "load_terminal",
    "run_personalize",
    "run_pin_change",
    "run_pin_status",
    "run_pin_unblock",
    "run_prepare",
    "run_read",
    "run_serve",
    "trace_mask",
]

PassphraseFunc = Callable[[], bytes]
"""Gives the passphrase of an encrypted key when first needed."""


def _load_key(data: bytes, what: str, passphrase: PassphraseFunc) -> PrivateKey:
    """A PKCS#8/traditional private key, PEM or DER, encrypted or not (the message names only
    ``what``, never the key or the passphrase)."""
    loader = (serialization.load_pem_private_key if data.lstrip().startswith(b"-----")
              else serialization.load_der_private_key)  # fmt: skip
    try:
        try:
            key = loader(data, password=None)
        except TypeError:  # encrypted: a passphrase is needed
            key = loader(data, password=passphrase())
    except (ValueError, TypeError):
        raise UsageError(f"{what}: not a private key, or the passphrase is wrong") from None
    except Exception:  # cryptography's UnsupportedAlgorithm
        raise UsageError(f"{what}: unsupported private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise UsageError(f"{what}: the key must be EC or RSA")
    return key


# -- secrets file -------------------------------------------------------------------------------


def load_secrets(
    path: Path, passphrase: PassphraseFunc, *, cvca: CVCertificate | None = None
) -> ChipSecrets:
    """The chip secrets of a secrets file (:meth:`station.card_data.CardKeys.to_secrets_file`).

    ``cvca`` replaces the file's trust anchor. Any problem is a UsageError naming the field.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: not a readable secrets file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != SECRETS_FORMAT:
        raise UsageError(f"{path}: not an {SECRETS_FORMAT} file")
    if data.get("version") != SECRETS_VERSION:
        raise UsageError(f"{path}: unsupported version {data.get('version')!r}")

    def key(name: str) -> PrivateKey | None:
        text = data.get(name)
        if not text:
            return None
        if not isinstance(text, str):
            raise UsageError(f"{path}: {name} must be PEM text")
        return _load_key(text.encode("ascii", "replace"), f"{path}: {name}", passphrase)

    ca_key = key("ca_private_key")
    if ca_key is not None and not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise UsageError(f"{path}: ca_private_key must be an EC key")
    can = data.get("can")
    if can is not None and (not isinstance(can, str) or not can.isdigit() or len(can) != 6):
        raise UsageError(f"{path}: can must be six digits")
    try:
        if cvca is None and data.get("cvca"):
            cvca = CVCertificate.decode(bytes.fromhex(str(data["cvca"])))
        date = data.get("current_date")
        current = dt.date.fromisoformat(date) if date else None
    except (ValueError, DecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    return ChipSecrets(
        ca_private_key=ca_key,
        aa_private_key=key("aa_private_key"),
        can=can,
        cvca=cvca,
        current_date=current,
        pace_required=bool(data.get("pace_required", False)),
    )


# -- terminal credentials -----------------------------------------------------------------------


def load_terminal(folder: Path, key_file: Path, passphrase: PassphraseFunc) -> TerminalCredentials:
    """The inspection system of ``folder`` (CV certificates ``*.cvcert``, as ``idkarta pki``
    and OpenPACE's ``cvc-create`` write them) whose public key is ``key_file``'s, with its chain
    up to a CVCA (TR-03110-3 §2.2)."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder of CV certificates")
    key = _load_key(key_file.read_bytes() if key_file.is_file() else b"", str(key_file),
                    passphrase)  # fmt: skip
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UsageError(f"{key_file}: Terminal Authentication here needs an EC key")
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    paths = sorted(p for p in folder.glob("*.cvcert") if not p.name.startswith("link-"))
    certs = [load_certificate(p) for p in paths]
    by_chr = {c.chr: c for c in certs}
    terminals = [c for c in certs
                 if c.chat.role is Role.TERMINAL and c.public_key.get(0x86) == point]  # fmt: skip
    if not terminals:
        raise UsageError(f"{folder}: no terminal certificate for the key in {key_file}")
    chain = [terminals[0]]
    while chain[0].car != chain[0].chr and chain[0].car in by_chr and len(chain) < 8:
        chain.insert(0, by_chr[chain[0].car])
    return TerminalCredentials.from_private_key(tuple(chain), key)


# -- image description ------------------------------------------------------------------------


def _key_text(key: PrivateKey | None) -> str | None:
    if key is None:
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    return f"RSA {key.key_size}"


def _file_name(fid: int, in_mf: bool) -> str:
    if in_mf and fid == EF_ATR_INFO:
        return "EF.ATR/INFO"
    try:
        return by_fid(fid, in_mf=in_mf).name
    except DecodeError:
        return f"EF {fid:04X}"


def chip_summary(chip: VirtualChip) -> dict[str, Any]:
    """What ``card show`` reports: state, files and sizes, which secrets are present (never
    their values), the trust anchor and options."""
    state = chip.state
    personal = any((state.files[APPLICATION], set(state.files[MF]) - {EF_ATR_INFO}, state.mrz,
                    state.pace_secrets, state.ca_private_key, state.aa_private_key))  # fmt: skip
    status = "locked" if state.locked else ("in personalization" if personal else "blank")
    files = [
        {"df": df, "fid": f"{fid:04X}", "name": _file_name(fid, df == MF), "size": len(data)}
        for df in (MF, APPLICATION)
        for fid, data in sorted(state.files[df].items())
    ]
    return {
        "state": status,
        "files": files,
        "mrz_key": state.mrz is not None,
        "can": 2 in state.pace_secrets,
        "pin": 3 in state.pace_secrets,
        "ca_key": _key_text(state.ca_private_key),
        "aa_key": _key_text(state.aa_private_key)
        or ("RSA (modulus only)" if state.aa_rsa_modulus is not None else None),
        "cvca": None if state.cvca is None else state.cvca.chr,
        "current_date": state.current_date.isoformat(),
        "pace_required": state.pace_required,
        "extended_length": state.extended_length,
    }  # fmt: skip


# -- tracing --------------------------------------------------------------------------------


def trace_mask(command: CommandAPDU) -> Mask:
    """The trace's mask: :func:`~idcard.reader.logging.default_mask`, and the data of plaintext
    READ BINARY answers (the file contents — personal data and the MRZ — go to the dump folder,
    not to a log; encrypted answers on the wire stay visible)."""
    mask = default_mask(command)
    if command.ins in (0xB0, 0xB1) and command.cla & SM_CLA != SM_CLA:
        return Mask(mask.command_data, True)
    return mask


# -- cards and their data --------------------------------------------------------------------------


def run_prepare(
    applicant: Applicant,
    dump_folder: Path,
    secrets_file: Path,
    passphrase: bytes,
    *,
    pki_dir: Path | None = None,
    cvca: CVCertificate | None = None,
    pace_required: bool = False,
    overwrite: bool = False,
    ask: Ask | None = None,
) -> dict[str, Any]:
    """The chip's files of ``applicant`` into ``dump_folder`` (EF.SOD signed by the newest
    Document Signer of ``pki_dir``, when given) and its secrets into ``secrets_file``: new CA and
    AA keys, the applicant's CAN, the trust anchor (``cvca``, else the PKI's current CVCA), the
    chip's first date (the day of issue). The dump folder is complete before it appears.

    The PKI's key store is opened with ``IDKARTA_PIN`` / ``IDKARTA_PASSPHRASE`` or ``ask``
    (:mod:`station.folders.keys`); ``passphrase`` encrypts the secrets file's keys."""
    for path in (dump_folder, secrets_file):
        if path.exists() and not overwrite:
            raise UsageError(f"{path} exists (use --force to replace it)")
    can = applicant.can
    if not (len(can) == 6 and can.isascii() and can.isdigit()):
        raise UsageError("the applicant's CAN must be six digits")
    keys = CardKeys.generate()
    signed_by = None
    staging = dump_folder.with_name(f".{dump_folder.name}.prepare-{os.getpid()}")
    had_secrets = secrets_file.exists()
    try:
        build_card_data(applicant, keys).write(staging, overwrite=True)
        if pki_dir is not None:
            with open_pki_stores(pki_dir, ask=ask) as (store, _eac_store):
                signed_by = run_sign_sod(pki_dir, store, staging)["ds"]
            if cvca is None and (pki_dir / "cvc" / "state.json").is_file():
                eac = EACFolder.open(pki_dir / "cvc")
                cvca = eac.certificate(eac.state.cvca)
        dump = Dump.read(staging)
        keys.to_secrets_file(secrets_file, passphrase, can=can, cvca=cvca,
                             current_date=applicant.document.issue_date,
                             pace_required=pace_required)  # fmt: skip
        try:
            dump.write(dump_folder, overwrite=overwrite)  # its manifest lists EF.SOD too
        except BaseException:
            if not had_secrets:
                secrets_file.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename or dump_folder}: "
                         f"{exc.strerror or type(exc).__name__}") from None  # fmt: skip
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "dump": str(dump_folder),
        "files": {name: len(data) for name, data in dump.files.items()},
        "sod_signed_by": signed_by,
        "secrets": str(secrets_file),
        "can": can,
        "cvca": None if cvca is None else cvca.chr,
        "current_date": applicant.document.issue_date.isoformat(),
    }

def run_personalize(transport: Transport, dump: Dump, secrets: ChipSecrets) -> dict[str, Any]:
    """Personalize and lock the card behind ``transport``; what was written."""
    personalize(transport, dump, secrets)
    return {"files": {name: len(data) for name, data in dump.files.items()}, "locked": True}


def run_read(
    transport: Transport,
    *,
    mrz: str | None,
    can: str | None,
    terminal: TerminalCredentials | None,
    out: Path,
    trace: Path | None = None,
    overwrite: bool = False,
) -> ReadResult:
    """Read the document (and the e-signature certificate files, when the card has them) and
    write the dump folder ``out``; the result (its ``protocols`` tell whether each chip and
    terminal authentication succeeded)."""
    decoder = SMTraceDecoder()
    handler: logging.Handler | None = None
    logger = logging.getLogger("idkarta.card.trace")
    if trace is not None:
        handler = logging.FileHandler(trace, mode="w", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        transport = LoggingTransport(transport, logger, mask=trace_mask, unwrap=decoder)
    try:
        result = read_document(
            transport, mrz=mrz, can=can, terminal=terminal,
            on_channel=decoder.learn if trace is not None else None, read_esign=True,
        )
    finally:
        if handler is not None:
            logger.removeHandler(handler)
            handler.close()
    result.write(out, overwrite=overwrite)
    return result

def run_serve(
    chip: VirtualChip,
    host: str,
    port: int,
    stop: threading.Event,
    image: Path | None = None,
    *,
    once: bool = False,
    report: Callable[[str], None] | None = None,
) -> bool:
    """Serve ``chip`` to vpcd until ``stop``; True when its persistent state changed.

    With ``image`` the chip is a :class:`~idcard.chip.state.DurableChip`: every change is saved
    to the image before the answer is sent. ``once``: one connection, no retry (a vpcd that is
    not listening raises :class:`~idcard.errors.TransportError`). ``report`` hears the
    connection's changes (:class:`~idcard.chip.vpcd.VPCDClient`).
    """
    before = chip.state.fingerprint()
    card: CardSimulator = chip if image is None else DurableChip(chip, image)
    VPCDClient(card, host, port, reconnect=not once, retry=not once, report=report).serve(stop)
    return chip.state.fingerprint() != before


def _esign_card(transport: Transport) -> ESignCard:
    card = ESignCard(transport)
    card.select()
    return card


def run_pin_change(transport: Transport, old: str, new: str) -> None:
    """CHANGE REFERENCE DATA of the e-signature PIN (:class:`PINError` with the tries left)."""
    pin_block(new)  # a malformed new PIN is refused before the card is asked (it costs no try)
    _esign_card(transport).change_pin(old, new)


def run_pin_unblock(transport: Transport, puk: str, new_pin: str | None) -> None:
    """RESET RETRY COUNTER with the PUK: the PIN's tries back to 3, with ``new_pin`` if given."""
    if new_pin is not None:
        pin_block(new_pin)
    _esign_card(transport).unblock_pin(puk, new_pin)


def run_pin_status(transport: Transport) -> int:
    """The PIN's tries left (0: blocked), without spending one."""
    tries = _esign_card(transport).pin_tries()
    return PIN_TRIES if tries is None else tries  # None: verified, so the counter is full


def load_chip(image: Path) -> VirtualChip:
    """The virtual chip saved in the image file ``image`` (the chip emulator is imported here,
    only when an image is used)."""
    from idcard.chip.emrtd import VirtualChip

    if not image.is_file():
        raise UsageError(f"{image}: no such chip image")
    return VirtualChip.load(image)
