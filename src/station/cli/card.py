"""`idkarta card …`: virtual chip images, personalization, serving a chip to pcscd, reading cards.

* ``card new IMAGE`` — a blank chip image (docs/chip.md); ``card show IMAGE`` — what it holds.
* ``card prepare APPLICANT --dump DIR --secrets FILE [--pki DIR]`` — an applicant file becomes the
  chip's files (:func:`station.card_data.build_card_data`, EF.SOD signed by the PKI's Document
  Signer) and the chip secrets file (:meth:`station.card_data.CardKeys.to_secrets_file`).
* ``card personalize (--image IMAGE | --reader R) --dump DIR --secrets FILE`` — write a dump
  folder and the chip's secrets (:mod:`idcard.reader.personalize`), verify, lock.
* ``card serve IMAGE [--vpcd HOST:PORT] [--once]`` — plug the chip into pcscd's vpcd reader until
  SIGINT/SIGTERM; the image is saved after every command that changed the chip's persistent
  state (a retry counter, TA's date, a new CVCA), before the answer goes out.
* ``card read (--reader R | --image IMAGE) (--mrz TEXT | --can CAN) --out DIR`` — read the whole
  document (:func:`idcard.reader.read_document`) and write the dump folder atomically.
* ``card pin change|unblock|status (--reader R | --image IMAGE)`` — the holder's e-signature
  PIN (:class:`idcard.esign.ESignCard`): change it, unblock it with the PUK, tell the tries left.

Exit codes (STYLE.md §9): 0 ok; 1 checked and failed (a chip authentication — CA, PACE-CAM, AA —
or TA did not succeed; personalization refused by a locked card or not verified); 2 usage or
input error, wrong access data, or the card went away (one line, nothing written).

Secrets never come from arguments: the secrets file's keys are PKCS#8 PEM encrypted with the
passphrase of ``IDKARTA_PASSPHRASE`` (or a prompt), as is a terminal key; PINs and the PUK come
from ``IDKARTA_PIN``, ``IDKARTA_NEW_PIN``, ``IDKARTA_PUK`` or hidden prompts (as ``idkarta
sign``). The CAN and the MRZ are
access data printed on the card and may be given as options. Each command's body is a ``run_*``
function taking its transport or chip, so tests call it directly.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from idcard.apdu import CommandAPDU
from idcard.chip.perso import CardLockedError, ChipSecrets, PrivateKey
from idcard.chip.state import APPLICATION, EF_ATR_INFO, MF, DurableChip
from idcard.chip.transport import ChipTransport
from idcard.chip.vpcd import VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT, CardSimulator, VPCDClient
from idcard.cvc.certificate import CVCertificate
from idcard.cvc.chat import Role
from idcard.errors import CardStatusError, DecodeError
from idcard.esign.card import ESignCard, PINBlockedError, PINError, tries_left
from idcard.esign.protocol import PIN_TRIES, pin_block
from idcard.lds import by_fid
from idcard.lds.dump import Dump
from idcard.reader.document import ReadResult, TerminalCredentials, read_document
from idcard.reader.logging import LoggingTransport, Mask, SMTraceDecoder, default_mask
from idcard.reader.pcsc import PCSCTransport
from idcard.reader.personalize import PersonalizationError, personalize
from idcard.sm import SM_CLA
from idcard.text import count
from idcard.transport import Transport
from pki.cvca import EACFolder, load_certificate
from station.applicant import Applicant
from station.card_data import SECRETS_FORMAT, SECRETS_VERSION, CardKeys, build_card_data
from station.cli.common import EXIT_FAILED, EXIT_OK, echo_json, fail, handle_errors
from station.cli.pki import PKIFolder, open_store, run_sign_sod
from station.errors import UsageError

if TYPE_CHECKING:
    from idcard.chip.emrtd import VirtualChip

__all__ = [
    "card",
    "chip_summary",
    "load_secrets",
    "load_terminal",
    "run_personalize",
    "run_pin_change",
    "run_prepare",
    "run_pin_status",
    "run_pin_unblock",
    "run_read",
    "run_serve",
    "trace_mask",
]

PassphraseFunc = Callable[[], bytes]


def _passphrase(confirm: bool = False) -> bytes:
    value = os.environ.get("IDKARTA_PASSPHRASE")
    if value:
        return value.encode("utf-8")
    entered: str = click.prompt("Key passphrase", hide_input=True, err=True,
                                confirmation_prompt=confirm)  # fmt: skip
    return entered.encode("utf-8")


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


def _summary_text(summary: dict[str, Any]) -> list[str]:
    def yes(value: object) -> str:
        return "yes" if value else "no"

    lines = [f"state: {summary['state']}", "files:"]
    lines += [f"  {f['df']:<11} {f['fid']} {f['name']:<16} {f['size']:>7} bytes"
              for f in summary["files"]]  # fmt: skip
    lines += [
        f"MRZ key: {yes(summary['mrz_key'])}",
        f"CAN: {yes(summary['can'])}",
        f"Chip Authentication key: {summary['ca_key'] or 'no'}",
        f"Active Authentication key: {summary['aa_key'] or 'no'}",
        f"trust anchor (CVCA): {summary['cvca'] or 'none'}",
        f"chip date: {summary['current_date']}",
        f"PACE required: {yes(summary['pace_required'])}",
        f"extended length: {yes(summary['extended_length'])}",
    ]
    return lines


# -- tracing --------------------------------------------------------------------------------


def trace_mask(command: CommandAPDU) -> Mask:
    """The trace's mask: :func:`~idcard.reader.logging.default_mask`, and the data of plaintext
    READ BINARY answers (the file contents — personal data and the MRZ — go to the dump folder,
    not to a log; encrypted answers on the wire stay visible)."""
    mask = default_mask(command)
    if command.ins in (0xB0, 0xB1) and command.cla & SM_CLA != SM_CLA:
        return Mask(mask.command_data, True)
    return mask


# -- command bodies --------------------------------------------------------------------------


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
) -> dict[str, Any]:
    """The chip's files of ``applicant`` into ``dump_folder`` (EF.SOD signed by the newest
    Document Signer of ``pki_dir``, when given) and its secrets into ``secrets_file``: new CA and
    AA keys, the applicant's CAN, the trust anchor (``cvca``, else the PKI's current CVCA), the
    chip's first date (the day of issue). The dump folder is complete before it appears."""
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
            folder = PKIFolder.open(pki_dir)
            with open_store(pki_dir, folder.config.get("backend", {"type": "file"})) as store:
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


def _prepare_text(r: dict[str, Any]) -> list[str]:
    files = ", ".join(f"{name} ({size})" for name, size in r["files"].items())
    sod = (f"EF.SOD signed by {r['sod_signed_by']}" if r["sod_signed_by"] else
           f"EF.SOD not signed yet: idkarta pki sign-sod --dir PKI {r['dump']}")  # fmt: skip
    anchor = r["cvca"] or "none (give --cvca to card personalize)"
    return [
        f"chip files written to {r['dump']}: {files}",
        sod,
        f"chip secrets written to {r['secrets']}: CAN {r['can']}, trust anchor {anchor}, "
        f"chip date {r['current_date']}",
    ]


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
) -> tuple[ReadResult, int]:
    """Read the document and write the dump folder ``out``; the result and the exit code
    (1 when a chip or terminal authentication did not succeed)."""
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
            on_channel=decoder.learn if trace is not None else None,
        )
    finally:
        if handler is not None:
            logger.removeHandler(handler)
            handler.close()
    result.write(out, overwrite=overwrite)
    failed = any(not run.ok for run in result.protocols)
    return result, EXIT_FAILED if failed else EXIT_OK


def _read_json(result: ReadResult, out: Path) -> dict[str, Any]:
    return {
        "ok": all(run.ok for run in result.protocols),
        "access": result.access,
        "protocols": [
            {"protocol": r.protocol, "ok": r.ok, "detail": r.detail} for r in result.protocols
        ],
        "files": {name: len(data) for name, data in result.dump.files.items()},
        "skipped": dict(result.skipped),
        "decode_errors": dict(result.decode_errors),
        "out": str(out),
    }


def _read_text(summary: dict[str, Any]) -> list[str]:
    lines = [f"access: {summary['access']}"]
    lines += [f"{r['protocol']}: {'ok' if r['ok'] else 'FAILED'}" + (f" ({r['detail']})"
              if r["detail"] else "") for r in summary["protocols"]]  # fmt: skip
    lines.append(f"read {count(len(summary['files']), 'file')} into {summary['out']}: "
                 + ", ".join(f"{n} ({s})" for n, s in summary["files"].items()))  # fmt: skip
    lines += [f"skipped {name}: {why}" for name, why in summary["skipped"].items()]
    lines += [f"does not decode: {name}: {why}" for name, why in summary["decode_errors"].items()]
    return lines


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


# -- click ------------------------------------------------------------------------------------


def _reader_arg(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def _load_chip(image: Path) -> VirtualChip:
    from idcard.chip.emrtd import VirtualChip  # the chip emulator: only for --image

    if not image.is_file():
        raise UsageError(f"{image}: no such chip image")
    return VirtualChip.load(image)


def _vpcd_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--vpcd {value!r}: expected HOST:PORT")
    return host or VPCD_DEFAULT_HOST, int(port)


@click.group(name="card")
def card() -> None:
    """Virtual chip images, personalization, serving a chip to pcscd, reading cards."""


@card.command("new")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pace-required", is_flag=True, help="The chip refuses BAC (PACE only).")
@click.option("--short-length", is_flag=True, help="No extended-length APDUs (ATR, EF.ATR/INFO).")
@click.option("--force", is_flag=True, help="Replace an existing image.")
@handle_errors
def new_command(image: Path, pace_required: bool, short_length: bool, force: bool) -> None:
    """Write a blank (unpersonalized) chip image to IMAGE."""
    from idcard.chip.emrtd import VirtualChip

    if image.exists() and not force:
        fail(f"{image} exists (use --force to replace it)")
    chip = VirtualChip.new(extended_length=not short_length)
    chip.state.pace_required = pace_required
    chip.save(image)
    click.echo(f"blank chip written to {image}")


@card.command("show")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def show_command(image: Path, as_json: bool) -> None:
    """Describe the chip image IMAGE (never its secrets)."""
    summary = chip_summary(_load_chip(image))
    if as_json:
        echo_json(summary)
    else:
        click.echo("\n".join(_summary_text(summary)))


@card.command("prepare")
@click.argument("applicant_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dump", "dump_folder", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="The dump folder to write.")
@click.option("--secrets", "secrets_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The chip secrets file to write (keys encrypted with IDKARTA_PASSPHRASE).")
@click.option("--pki", "pki_dir", type=click.Path(file_okay=False, path_type=Path),
              help="A PKI folder (idkarta pki init): its Document Signer signs EF.SOD, its "
                   "CVCA becomes the trust anchor.")
@click.option("--cvca", "cvca_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The Terminal Authentication trust anchor (instead of the PKI's CVCA).")
@click.option("--pace-required", is_flag=True, help="The chip will refuse BAC (PACE only).")
@click.option("--force", is_flag=True, help="Replace an existing dump folder and secrets file.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def prepare_command(
    applicant_file: Path, dump_folder: Path, secrets_file: Path, pki_dir: Path | None,
    cvca_file: Path | None, pace_required: bool, force: bool, as_json: bool,
) -> None:  # fmt: skip
    """Turn an APPLICANT file into the chip's files (a dump folder) and its secrets file."""
    applicant = Applicant.load(applicant_file)
    cvca = load_certificate(cvca_file) if cvca_file is not None else None
    result = run_prepare(applicant, dump_folder, secrets_file, _passphrase(confirm=True),
                         pki_dir=pki_dir, cvca=cvca, pace_required=pace_required,
                         overwrite=force)  # fmt: skip
    if as_json:
        echo_json(result)
    else:
        click.echo("\n".join(_prepare_text(result)))


@card.command("personalize")
@click.option("--image", type=click.Path(dir_okay=False, path_type=Path), help="A chip image.")
@click.option("--reader", help="A PC/SC reader: name (substring) or index.")
@click.option("--dump", "dump_folder", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The dump folder whose files go onto the card.")
@click.option("--secrets", "secrets_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The secrets file (keys encrypted with IDKARTA_PASSPHRASE).")
@click.option("--cvca", "cvca_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The Terminal Authentication trust anchor (replaces the secrets file's).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def personalize_command(
    image: Path | None, reader: str | None, dump_folder: Path, secrets_file: Path,
    cvca_file: Path | None, as_json: bool,
) -> None:  # fmt: skip
    """Write a dump folder and the chip's secrets to a blank card, verify, lock it."""
    if (image is None) == (reader is None):
        fail("give exactly one of --image and --reader")
    dump = Dump.read(dump_folder)
    cvca = load_certificate(cvca_file) if cvca_file is not None else None
    secrets = load_secrets(secrets_file, _passphrase, cvca=cvca)
    try:
        if image is not None:
            chip = _load_chip(image)
            if chip.state.pace_required and not secrets.pace_required:
                secrets = replace(secrets, pace_required=True)
            result = run_personalize(ChipTransport(chip), dump, secrets)
            chip.save(image)
        else:
            assert reader is not None
            with PCSCTransport.connect(_reader_arg(reader)) as transport:
                result = run_personalize(transport, dump, secrets)
    except (CardLockedError, PersonalizationError) as exc:
        fail(str(exc), EXIT_FAILED)
    if as_json:
        echo_json(result)
    else:
        click.echo(f"personalized and locked: {count(len(result['files']), 'file')}")


@card.command("serve")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--vpcd", "address", default=f"{VPCD_DEFAULT_HOST}:{VPCD_DEFAULT_PORT}",
              show_default=True, help="Where vpcd listens.")
@click.option("--once", is_flag=True,
              help="Connect once, no retry (exit 2 if vpcd is not listening); stop when vpcd "
                   "closes the connection.")
@handle_errors
def serve_command(image: Path, address: str, once: bool) -> None:
    """Plug the chip IMAGE into pcscd's vpcd reader until interrupted (SIGINT/SIGTERM).

    The image is saved after every command that changed the chip (a PIN retry counter, the
    date), before the answer is sent."""
    host, port = _vpcd_address(address)
    chip = _load_chip(image)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        saved = run_serve(chip, host, port, stop, image, once=once,
                          report=lambda line: click.echo(f"{image}: {line}", err=True))  # fmt: skip
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    click.echo(f"stopped; {'image saved' if saved else 'image unchanged'}", err=True)


@card.command("read")
@click.option("--reader", help="A PC/SC reader: name (substring) or index.")
@click.option("--image", type=click.Path(dir_okay=False, path_type=Path),
              help="Read a chip image in process instead.")
@click.option("--mrz", help="The MRZ (lines joined, or separated by spaces).")
@click.option("--can", help="The six-digit Card Access Number.")
@click.option("--terminal", "terminal_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of CV certificates (CVCA, DV, IS) for Terminal Authentication.")
@click.option("--terminal-key", type=click.Path(dir_okay=False, path_type=Path),
              help="The inspection system's private key (PEM/DER, maybe encrypted).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The dump folder to write (must not exist unless --force).")
@click.option("--trace", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the APDU trace (secure messaging decrypted, secrets masked).")
@click.option("--force", is_flag=True, help="Replace an existing dump folder.")
@click.option("--wait", type=click.FloatRange(0, 3600), default=0, show_default=True,
              help="Seconds to wait for a card in the reader.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def read_command(
    reader: str | None, image: Path | None, mrz: str | None, can: str | None,
    terminal_dir: Path | None, terminal_key: Path | None, out: Path, trace: Path | None,
    force: bool, wait: float, as_json: bool,
) -> None:  # fmt: skip
    """Read a card (access control, CA/TA/AA, every file) into the dump folder OUT."""
    if reader is not None and image is not None:
        fail("give at most one of --reader and --image")
    if (mrz is None) == (can is None):
        fail("give exactly one of --mrz and --can")
    if (terminal_dir is None) != (terminal_key is None):
        fail("--terminal and --terminal-key go together")
    if out.exists():
        if not force:
            fail(f"{out} exists (use --force to replace it)")
        if not (out / "manifest.json").is_file():
            fail(f"{out} is not a dump folder; not replacing it")
    terminal = None
    if terminal_dir is not None and terminal_key is not None:
        terminal = load_terminal(terminal_dir, terminal_key, _passphrase)
    if image is not None:  # TA's date and CVCA changes are saved before the answers
        result, code = run_read(ChipTransport(DurableChip(_load_chip(image), image)), mrz=mrz,
                                can=can, terminal=terminal, out=out, trace=trace,
                                overwrite=force)  # fmt: skip
    else:
        with PCSCTransport.connect(_reader_arg(reader) if reader else None,
                                   wait=wait) as transport:  # fmt: skip
            result, code = run_read(transport, mrz=mrz, can=can, terminal=terminal, out=out,
                                    trace=trace, overwrite=force)  # fmt: skip
    summary = _read_json(result, out)
    if as_json:
        echo_json(summary)
    else:
        click.echo("\n".join(_read_text(summary)))
    raise SystemExit(code)



# -- the holder's PIN -------------------------------------------------------------------------


def _secret_input(env: str, prompt: str, *, confirm: bool = False) -> str:
    """A PIN or PUK from ``env`` or a hidden prompt (never an argument)."""
    value = os.environ.get(env)
    if value:
        return value
    entered: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return entered


@contextmanager
def _pin_card(image: Path | None, reader: str | None) -> Iterator[Transport]:
    """The card of ``--image`` (every change of its counters saved before the answer) or
    ``--reader``, with the card's PIN and status errors as one line and exit 1."""
    if (image is None) == (reader is None):
        fail("give exactly one of --image and --reader")
    try:
        if image is not None:
            yield ChipTransport(DurableChip(_load_chip(image), image))
        else:
            with PCSCTransport.connect(_reader_arg(str(reader))) as transport:
                yield transport
    except PINBlockedError as exc:
        if exc.what == "PUK":
            fail("the PUK is blocked: this card can no longer sign", EXIT_FAILED)
        fail("the PIN is blocked; unblock it with the PUK (idkarta card pin unblock)",
             EXIT_FAILED)  # fmt: skip
    except PINError as exc:
        fail(f"wrong {exc.what}: {tries_left(exc.tries_left)}", EXIT_FAILED)
    except CardStatusError as exc:
        if exc.sw == 0x6984:
            fail("this card has no PIN (the e-signature is not enrolled)", EXIT_FAILED)
        if exc.sw == 0x6A82:
            fail("this card has no e-signature application", EXIT_FAILED)
        raise


_pin_target = [
    click.option("--image", type=click.Path(dir_okay=False, path_type=Path),
                 help="A chip image (saved after every change)."),
    click.option("--reader", help="A PC/SC reader: name (substring) or index."),
]  # fmt: skip


def _with_target(func: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(_pin_target):
        func = option(func)
    return func


@card.group("pin")
def pin_group() -> None:
    """The holder's e-signature PIN: change it, unblock it with the PUK, tries left.

    PINs come from IDKARTA_PIN (the current PIN), IDKARTA_NEW_PIN and IDKARTA_PUK, or from
    hidden prompts; never from arguments."""


@pin_group.command("change")
@_with_target
@handle_errors
def pin_change_command(image: Path | None, reader: str | None) -> None:
    """Change the PIN (the current one from IDKARTA_PIN, the new one from IDKARTA_NEW_PIN)."""
    with _pin_card(image, reader) as transport:
        old = _secret_input("IDKARTA_PIN", "Current PIN")
        new = _secret_input("IDKARTA_NEW_PIN", "New PIN", confirm=True)
        run_pin_change(transport, old, new)
    click.echo("PIN changed")


@pin_group.command("unblock")
@_with_target
@click.option("--keep-pin", is_flag=True, help="Keep the current PIN; only reset its tries.")
@handle_errors
def pin_unblock_command(image: Path | None, reader: str | None, keep_pin: bool) -> None:
    """Unblock the PIN with the PUK (IDKARTA_PUK) and set a new one (IDKARTA_NEW_PIN)."""
    with _pin_card(image, reader) as transport:
        puk = _secret_input("IDKARTA_PUK", "PUK")
        new = None if keep_pin else _secret_input("IDKARTA_NEW_PIN", "New PIN", confirm=True)
        run_pin_unblock(transport, puk, new)
    click.echo(f"PIN unblocked{'' if keep_pin else ' and changed'}: {tries_left(PIN_TRIES)}")


@pin_group.command("status")
@_with_target
@handle_errors
def pin_status_command(image: Path | None, reader: str | None) -> None:
    """Tell how many tries the PIN has left (spends none); exit 1 when it is blocked."""
    with _pin_card(image, reader) as transport:
        tries = run_pin_status(transport)
    click.echo(f"PIN: {tries_left(tries)}" if tries else "PIN: blocked")
    if not tries:
        raise SystemExit(EXIT_FAILED)
