"""The persistent state of the virtual chip and its JSON image (docs/chip.md, "State image").

Everything personalization writes — the files of the MF and of the eMRTD application, the MRZ
key, PACE secrets, the CA and AA private keys, the CVCA certificate, the chip's date, options,
the lock, and the e-signature application's key pair, PIN/PUK reference data (salted
SHA-256, never the value), retry counters, personalization key and certificate files — and nothing
of a session (secure-messaging keys, authentication state); also which bytes of the created
files are not written yet (LOCK refuses an incomplete card). The image is
JSON with hex values, written atomically (temporary sibling, fsync, rename) with mode 0600 since
it holds private keys.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import ec

from idcard.chip.perso import (
    MRZKey,
    PrivateKey,
    decode_private_key,
    encode_private_key,
)
from idcard.chip.vpcd import CardHalted, CardSimulator
from idcard.cvc.certificate import CVCertificate
from idcard.errors import DecodeError

__all__ = [
    "APPLICATION",
    "EF_ATR_INFO",
    "ESIGN",
    "FORMAT",
    "MF",
    "ChipState",
    "DurableChip",
    "ImageWriteError",
]

FORMAT = "idkarta-virtual-chip"
VERSION = 1
MF = "mf"
APPLICATION = "application"
ESIGN = "esign"
"""The DF of the e-signature application (docs/chip.md, "E-signature on the card")."""
EF_ATR_INFO = 0x2F01


@dataclass(slots=True)
class ChipState:
    """The chip's persistent memory (mutable: personalization and TA's date update write it)."""

    files: dict[str, dict[int, bytearray]] = field(
        default_factory=lambda: {MF: {}, APPLICATION: {}, ESIGN: {}}
    )
    mrz: MRZKey | None = field(default=None, repr=False)
    pace_secrets: dict[int, bytes] = field(default_factory=dict, repr=False)
    ca_private_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    aa_private_key: PrivateKey | None = field(default=None, repr=False)
    aa_rsa_modulus: int | None = field(default=None, repr=False)
    cvca: CVCertificate | None = None
    current_date: datetime.date = datetime.date(2026, 1, 1)
    pace_required: bool = False
    extended_length: bool = True
    locked: bool = False
    esign_key: PrivateKey | None = field(default=None, repr=False)
    esign_pin: bytes | None = field(default=None, repr=False)
    """PIN reference data: 16-byte salt ‖ SHA-256(salt ‖ PIN digits); None = not set."""
    esign_puk: bytes | None = field(default=None, repr=False)
    esign_pin_tries: int = 3
    esign_puk_tries: int = 10
    esign_perso_key: bytes | None = field(default=None, repr=False)
    unwritten: dict[str, dict[int, list[tuple[int, int]]]] = field(default_factory=dict)
    """Per DF and EF, the byte ranges [start, end) that CREATE FILE made and UPDATE BINARY has not
    written yet (idcard.chip.perso.chip_create_file): LOCK needs every file complete."""

    def fingerprint(self) -> tuple[object, ...]:
        """A value that differs whenever anything the image holds differs (compared with ``==``;
        cheap: file contents are copied, keys and certificates compared as objects — they are
        replaced, never mutated). Used to save only after a command that changed the state."""
        files = tuple((df, tuple((fid, bytes(data)) for fid, data in sorted(f.items())))
                      for df, f in sorted(self.files.items()))  # fmt: skip
        return (
            files, self.mrz, tuple(sorted(self.pace_secrets.items())), self.ca_private_key,
            self.aa_private_key, self.aa_rsa_modulus, self.cvca, self.current_date,
            self.pace_required, self.extended_length, self.locked, self.esign_key, self.esign_pin,
            self.esign_puk, self.esign_pin_tries, self.esign_puk_tries, self.esign_perso_key,
        )  # fmt: skip

    # -- JSON image ----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        def key(k: PrivateKey | None) -> str | None:
            return None if k is None else encode_private_key(k).hex().upper()

        return {
            "format": FORMAT,
            "version": VERSION,
            "locked": self.locked,
            "files": {
                df: {f"{fid:04X}": bytes(data).hex().upper() for fid, data in sorted(f.items())}
                for df, f in self.files.items()
            },
            "mrz": None if self.mrz is None else {
                "document_number": self.mrz.document_number,
                "birth_date": self.mrz.birth_date,
                "expiry_date": self.mrz.expiry_date,
            },
            "pace_secrets": {str(r): s.hex().upper() for r, s in sorted(self.pace_secrets.items())},
            "ca_private_key": key(self.ca_private_key),
            "aa_private_key": key(self.aa_private_key),
            "cvca": None if self.cvca is None else self.cvca.encode().hex().upper(),
            "current_date": self.current_date.isoformat(),
            "pace_required": self.pace_required,
            "extended_length": self.extended_length,
            "esign": {
                "private_key": key(self.esign_key),
                "pin": None if self.esign_pin is None else self.esign_pin.hex().upper(),
                "puk": None if self.esign_puk is None else self.esign_puk.hex().upper(),
                "pin_tries": self.esign_pin_tries,
                "puk_tries": self.esign_puk_tries,
                "perso_key": None if self.esign_perso_key is None
                else self.esign_perso_key.hex().upper(),
            },
            "unwritten": {
                df: {f"{fid:04X}": [list(r) for r in gaps] for fid, gaps in sorted(f.items())}
                for df, f in self.unwritten.items()
            },
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> ChipState:
        """The state from a parsed image; any malformed value is a DecodeError naming it."""
        where = "chip image"
        try:
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise DecodeError(f"{where}: not an {FORMAT} image")
            if data.get("version") != VERSION:
                raise DecodeError(f"{where}: unsupported version {data.get('version')!r}")
            state = cls()
            for df in (MF, APPLICATION, ESIGN):
                for fid, hexdata in data["files"].get(df, {}).items():
                    state.files[df][int(fid, 16)] = bytearray(bytes.fromhex(hexdata))
            mrz = data.get("mrz")
            if mrz is not None:
                state.mrz = MRZKey(
                    str(mrz["document_number"]), str(mrz["birth_date"]), str(mrz["expiry_date"])
                )
            state.pace_secrets = {
                int(r): bytes.fromhex(s) for r, s in data.get("pace_secrets", {}).items()
            }
            if data.get("ca_private_key"):
                ca = decode_private_key(bytes.fromhex(data["ca_private_key"]))
                if not isinstance(ca, ec.EllipticCurvePrivateKey):
                    raise DecodeError(f"{where}: the CA key must be EC")
                state.ca_private_key = ca
            if data.get("aa_private_key"):
                state.aa_private_key = decode_private_key(bytes.fromhex(data["aa_private_key"]))
            if data.get("cvca"):
                state.cvca = CVCertificate.decode(bytes.fromhex(data["cvca"]))
            state.current_date = datetime.date.fromisoformat(data["current_date"])
            state.pace_required = bool(data.get("pace_required", False))
            state.extended_length = bool(data.get("extended_length", True))
            state.locked = bool(data["locked"])
            esign = data.get("esign") or {}
            if esign.get("private_key"):
                state.esign_key = decode_private_key(bytes.fromhex(esign["private_key"]))
            for name in ("pin", "puk", "perso_key"):
                if esign.get(name):
                    setattr(state, f"esign_{name}", bytes.fromhex(esign[name]))
            state.unwritten = {
                str(df): {int(fid, 16): [(int(a), int(b)) for a, b in gaps]
                          for fid, gaps in f.items()}
                for df, f in data.get("unwritten", {}).items()
            }  # fmt: skip
            state.esign_pin_tries = int(esign.get("pin_tries", 3))
            state.esign_puk_tries = int(esign.get("puk_tries", 10))
            if not 0 <= state.esign_pin_tries <= 3 or not 0 <= state.esign_puk_tries <= 10:
                raise DecodeError(f"{where}: e-sign retry counter out of range")
            return state
        except DecodeError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DecodeError(f"{where}: malformed ({type(exc).__name__}: {exc})") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the image atomically with mode 0600 (it holds private keys): a temporary
        sibling, fsync, rename over ``path``, fsync of the folder (the rename is durable too)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_json(), indent=2) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ChipState:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DecodeError(f"chip image: not valid JSON ({exc})") from None
        return cls.from_json(data)


class _Chip(CardSimulator, Protocol):
    """What :class:`DurableChip` needs: a card simulator with a persistent ``state``."""

    @property
    def state(self) -> ChipState: ...


class ImageWriteError(CardHalted):
    """The chip image could not be written: the answer that changed the state is withheld and
    the card stops (a retry counter must never be ahead on disk of what the terminal saw)."""


_SPENDS_A_TRY = frozenset({0x20, 0x24, 0x2C})
"""VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER (ISO/IEC 7816-4 §11.5.6, .7, .10)."""


class DurableChip:
    """A chip whose image is saved after every command that changed its persistent state, before
    the answer is returned (:class:`idcard.chip.vpcd.CardSimulator`; ``idkarta card serve``).

    A wrong PIN's decremented retry counter is therefore on disk before the terminal learns it
    was wrong: killing the process (SIGKILL, power loss) never gives back tries. Commands that
    change nothing (reads, a right PIN with a full counter) write nothing. ``saves`` counts the
    images written. A failed write raises :class:`ImageWriteError` instead of answering.

    A command that may spend a try (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER with
    data: INS ``20``, ``24``, ``2C``) reaches the chip only after the image was written once
    more: with a disk that refuses writes, right and wrong PINs alike get no answer, so a full
    disk is never a way to test PINs without spending tries.
    """

    def __init__(self, chip: _Chip, path: str | os.PathLike[str]) -> None:
        self.chip = chip
        self.path = Path(path)
        self.saves = 0
        self._saved = chip.state.fingerprint()

    @property
    def state(self) -> ChipState:
        return self.chip.state

    @property
    def atr(self) -> bytes:
        return self.chip.atr

    def power_on(self) -> None:
        self.chip.power_on()
        self.sync()

    def power_off(self) -> None:
        self.chip.power_off()
        self.sync()

    def reset(self) -> None:
        self.chip.reset()
        self.sync()

    def process(self, apdu: bytes) -> bytes:
        if len(apdu) > 5 and apdu[1] in _SPENDS_A_TRY:
            self._write(self.chip.state.fingerprint())
        answer = self.chip.process(apdu)
        self.sync()
        return answer

    def sync(self) -> bool:
        """Save the image if the state changed since the last save; True when it did."""
        now = self.chip.state.fingerprint()
        if now == self._saved:
            return False
        self._write(now)
        return True

    def _write(self, fingerprint: tuple[object, ...]) -> None:
        try:
            self.chip.state.save(self.path)
        except OSError as exc:
            raise ImageWriteError(f"cannot save the chip image {self.path}: "
                                  f"{exc.strerror or type(exc).__name__}") from None  # fmt: skip
        self._saved = fingerprint
        self.saves += 1
