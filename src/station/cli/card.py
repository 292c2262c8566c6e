"""`idkarta card …`: virtual chip images, personalization, serving a chip to pcscd, reading cards.

* ``card new IMAGE`` — a blank chip image (docs/chip.md); ``card show IMAGE`` — what it holds.
* ``card personalize (--image IMAGE | --reader R) --dump DIR --secrets FILE`` — write a dump
  folder and the chip's secrets (:mod:`idcard.reader.personalize`), verify, lock.
* ``card serve IMAGE [--vpcd HOST:PORT]`` — plug the chip into pcscd's vpcd reader until
  SIGINT/SIGTERM; the image is saved when the chip's state changed (TA's date, a new CVCA).
* ``card read (--reader R | --image IMAGE) (--mrz TEXT | --can CAN) --out DIR`` — read the whole
  document (:func:`idcard.reader.read_document`) and write the dump folder atomically.

Exit codes (STYLE.md §9): 0 ok; 1 checked and failed (a chip authentication — CA, PACE-CAM, AA —
or TA did not succeed; personalization refused by a locked card or not verified); 2 usage or
input error, wrong access data, or the card went away (one line, nothing written).

Secrets never come from arguments: the secrets file's keys are PKCS#8 PEM encrypted with the
passphrase of ``IDKARTA_PASSPHRASE`` (or a prompt), as is a terminal key. The CAN and the MRZ are
access data printed on the card and may be given as options. Each command's body is a ``run_*``
function taking its transport or chip, so tests call it directly.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from idcard.apdu import CommandAPDU
from idcard.chip.emrtd import VirtualChip
from idcard.chip.perso import CardLockedError, ChipSecrets, PrivateKey
from idcard.chip.state import APPLICATION, EF_ATR_INFO, MF
from idcard.chip.transport import ChipTransport
from idcard.chip.vpcd import VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT, VPCDClient
from idcard.cvc.certificate import CVCertificate
from idcard.cvc.chat import Role
from idcard.errors import DecodeError
from idcard.lds import by_fid
from idcard.lds.dump import Dump
from idcard.reader.document import ReadResult, TerminalCredentials, read_document
from idcard.reader.logging import LoggingTransport, Mask, SMTraceDecoder, default_mask
from idcard.reader.pcsc import PCSCTransport
from idcard.reader.personalize import PersonalizationError, personalize
from idcard.sm import SM_CLA
from idcard.text import count
from idcard.transport import Transport
from pki.cvca import load_certificate
from station.card_data import SECRETS_FORMAT, SECRETS_VERSION
from station.cli.common import EXIT_FAILED, EXIT_OK, echo_json, fail, handle_errors
from station.errors import UsageError

__all__ = [
    "card",
    "chip_summary",
    "load_secrets",
    "load_terminal",
    "run_personalize",
    "run_read",
    "run_serve",
    "trace_mask",
]

PassphraseFunc = Callable[[], bytes]


def _passphrase() -> bytes:
    value = os.environ.get("IDKARTA_PASSPHRASE")
    if value:
        return value.encode("utf-8")
    entered: str = click.prompt("Key passphrase", hide_input=True, err=True)
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
    chip: VirtualChip, host: str, port: int, stop: threading.Event, image: Path | None = None
) -> bool:
    """Serve ``chip`` to vpcd until ``stop``; save it to ``image`` when its state changed.
    True when it was saved."""
    before = chip.state.to_json()
    try:
        VPCDClient(chip, host, port).serve(stop)
    finally:
        changed = chip.state.to_json() != before
        if changed and image is not None:
            chip.save(image)
    return changed


# -- click ------------------------------------------------------------------------------------


def _reader_arg(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def _load_chip(image: Path) -> VirtualChip:
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


@card.command("personalize")
@click.option("--image", type=click.Path(dir_okay=False, path_type=Path), help="A chip image.")
@click.option("--reader", help="A PC/SC reader: name (substring) or index.")
@click.option("--dump", "dump_folder", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="The dump folder to write.")
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
@handle_errors
def serve_command(image: Path, address: str) -> None:
    """Plug the chip IMAGE into pcscd's vpcd reader until interrupted (SIGINT/SIGTERM)."""
    host, port = _vpcd_address(address)
    chip = _load_chip(image)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        click.echo(f"serving {image} to vpcd at {host}:{port}", err=True)
        saved = run_serve(chip, host, port, stop, image)
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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def read_command(
    reader: str | None, image: Path | None, mrz: str | None, can: str | None,
    terminal_dir: Path | None, terminal_key: Path | None, out: Path, trace: Path | None,
    force: bool, as_json: bool,
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
    if image is not None:
        chip = _load_chip(image)
        before = chip.state.to_json()
        result, code = run_read(ChipTransport(chip), mrz=mrz, can=can, terminal=terminal,
                                out=out, trace=trace, overwrite=force)  # fmt: skip
        if chip.state.to_json() != before:
            chip.save(image)
    else:
        with PCSCTransport.connect(_reader_arg(reader) if reader else None) as transport:
            result, code = run_read(transport, mrz=mrz, can=can, terminal=terminal, out=out,
                                    trace=trace, overwrite=force)  # fmt: skip
    summary = _read_json(result, out)
    if as_json:
        echo_json(summary)
    else:
        click.echo("\n".join(_read_text(summary)))
    raise SystemExit(code)

