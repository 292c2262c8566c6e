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
function of :mod:`station.folders.card` taking its transport or chip; these commands parse, call
it and print.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import click

from idcard.chip.perso import CardLockedError
from idcard.chip.state import DurableChip
from idcard.chip.transport import ChipTransport
from idcard.chip.vpcd import VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT
from idcard.errors import CardStatusError
from idcard.esign.card import PINBlockedError, PINError, tries_left
from idcard.esign.protocol import PIN_TRIES
from idcard.lds.dump import Dump
from idcard.reader.document import ReadResult
from idcard.reader.pcsc import PCSCTransport
from idcard.reader.personalize import PersonalizationError
from idcard.text import count
from idcard.transport import Transport
from pki.cvca import load_certificate
from station.applicant import Applicant
from station.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    echo_json,
    fail,
    handle_errors,
    prompt_secret,
)
from station.errors import UsageError
from station.folders.card import (
    chip_summary,
    load_chip,
    load_secrets,
    load_terminal,
    run_personalize,
    run_pin_change,
    run_pin_status,
    run_pin_unblock,
    run_prepare,
    run_read,
    run_serve,
)
from station.folders.keys import secret

__all__ = ["card"]


def _secret_input(env: str, prompt: str, *, confirm: bool = False) -> str:
    """A PIN, PUK or passphrase from ``env`` or a hidden prompt (never an argument)."""
    return secret(env, prompt, confirm=confirm, ask=prompt_secret)


def _passphrase(confirm: bool = False) -> bytes:
    return _secret_input("IDKARTA_PASSPHRASE", "Key passphrase", confirm=confirm).encode("utf-8")


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


def _read_json(result: ReadResult, out: Path) -> dict[str, Any]:
    return {
        "ok": all(run.ok for run in result.protocols),
        "access": result.access,
        "protocols": [
            {"protocol": r.protocol, "ok": r.ok, "detail": r.detail} for r in result.protocols
        ],
        "files": {name: len(data) for name, data in result.dump.files.items()},
        "esign_files": {name: len(data) for name, data in result.esign_files.items()},
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
    if summary["esign_files"]:
        lines.append("e-signature certificates: " + ", ".join(
            f"{n} ({s})" for n, s in summary["esign_files"].items()))  # fmt: skip
    lines += [f"skipped {name}: {why}" for name, why in summary["skipped"].items()]
    lines += [f"does not decode: {name}: {why}" for name, why in summary["decode_errors"].items()]
    return lines



# -- click ------------------------------------------------------------------------------------


def _reader_arg(value: str) -> str | int:
    return int(value) if value.isdigit() else value


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
    summary = chip_summary(load_chip(image))
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
                         overwrite=force, ask=prompt_secret)  # fmt: skip
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
            chip = load_chip(image)
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
    chip = load_chip(image)
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
        result = run_read(ChipTransport(DurableChip(load_chip(image), image)), mrz=mrz, can=can,
                          terminal=terminal, out=out, trace=trace, overwrite=force)  # fmt: skip
    else:
        with PCSCTransport.connect(_reader_arg(reader) if reader else None,
                                   wait=wait) as transport:  # fmt: skip
            result = run_read(transport, mrz=mrz, can=can, terminal=terminal, out=out,
                              trace=trace, overwrite=force)  # fmt: skip
    summary = _read_json(result, out)
    code = EXIT_OK if all(run.ok for run in result.protocols) else EXIT_FAILED
    if as_json:
        echo_json(summary)
    else:
        click.echo("\n".join(_read_text(summary)))
    raise SystemExit(code)



# -- the holder's PIN -------------------------------------------------------------------------


@contextmanager
def _pin_card(image: Path | None, reader: str | None) -> Iterator[Transport]:
    """The card of ``--image`` (every change of its counters saved before the answer) or
    ``--reader``, with the card's PIN and status errors as one line and exit 1."""
    if (image is None) == (reader is None):
        fail("give exactly one of --image and --reader")
    try:
        if image is not None:
            yield ChipTransport(DurableChip(load_chip(image), image))
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
