"""`idkarta dump …`: look at a dump folder (one file per elementary file, see idcard.lds.dump).

``idkarta dump show FOLDER [--json] [--extract DIR]`` shows every file of the folder with its own
status: decoded (and its fields), does not decode (with the offset), differs from the folder's
``manifest.json``, or listed there but missing. Exit 0 when every file decodes and agrees with the
manifest, 1 when any file is bad, 2 when FOLDER is not a dump folder. ``--extract`` writes the
face images of DG2, the finger images of DG3 and the signature images of DG7 as image files
(the bytes as stored, the extension of their format).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from idcard.errors import DecodeError
from idcard.lds import LDSFile
from idcard.lds.dg1 import DG1
from idcard.lds.dg3 import DG3
from idcard.lds.dg11 import DG11, DateValue, image_format
from idcard.lds.dg12 import DG12
from idcard.lds.dump import MANIFEST, Dump
from pki.filestore import write_atomic
from station.cli.common import EXIT_FAILED, EXIT_OK, echo_json, fail, handle_errors

__all__ = ["dump", "extract_images", "readable", "render_text", "run_show"]

IMAGE_EXTENSIONS = {"jpeg": "jpg", "jpeg2000": "jp2", "png": "png", "wsq": "wsq"}
"""File extension of each image format :func:`~idcard.lds.dg11.image_format` names; a JPEG 2000
codestream without the JP2 box is ``.j2c``, anything else ``.bin``."""


def _scalar(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex().upper()
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def render_text(value: Any, indent: int = 0) -> list[str]:
    """Nested JSON-like values as indented ``key: value`` lines."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(render_text(item, indent + 1))
            elif isinstance(item, dict | list):
                lines.append(f"{pad}{key}: (none)")
            elif "\n" in _scalar(item):
                lines.append(f"{pad}{key}:")
                lines.extend(f"{pad}  {part}" for part in _scalar(item).splitlines())
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}".rstrip())
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                lines.append(f"{pad}-")
                lines.extend(render_text(item, indent + 1))
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        for part in _scalar(value).splitlines() or [""]:
            lines.append(f"{pad}{part}")
    return lines


# -- readable fields ---------------------------------------------------------------------------


def iso_date_value(value: DateValue) -> str:
    """A DG11/DG12 date as an ISO date (``YYYY-MM-DD``), a date-time as ``YYYY-MM-DDTHH:MM:SS``;
    the text as stored when it is not a complete date (``19700000``)."""
    text = value.text
    for fmt, length in (("%Y%m%d%H%M%S", 14), ("%Y%m%d", 8)):
        if len(text) == length and text.isdigit():
            try:
                parsed = dt.datetime.strptime(text, fmt)
            except ValueError:
                break
            return parsed.isoformat() if length == 14 else parsed.date().isoformat()
    return text


def readable(obj: LDSFile, today: dt.date | None = None) -> dict[str, Any]:
    """The fields of a decoded file for people: its JSON form with dates as ISO dates.

    The MRZ dates of DG1 get their century (birth: the latest not after ``today``; expiry: within
    20 years of it); DG11's date of birth and DG12's dates are read as stored (YYYYMMDD,
    YYYYMMDDhhmmss).
    """
    fields: dict[str, Any] = dict(obj.to_json())
    if isinstance(obj, DG1):
        today = today or dt.datetime.now(dt.UTC).date()
        for key, iso in (("birth_date", obj.mrz.birth_date_iso(today)),
                         ("expiry_date", obj.mrz.expiry_date_iso(today))):  # fmt: skip
            if iso is not None:
                fields[key] = iso.isoformat()
    elif isinstance(obj, DG11) and obj.full_date_of_birth is not None:
        fields["full_date_of_birth"] = iso_date_value(obj.full_date_of_birth)
    elif isinstance(obj, DG12):
        for key in ("date_of_issue", "personalization_time"):
            value = getattr(obj, key)
            if value is not None:
                fields[key] = iso_date_value(value)
    return fields


# -- images ------------------------------------------------------------------------------------


def _extension(image: bytes) -> str:
    kind = image_format(image)
    if kind == "jpeg2000" and not image.startswith(b"\x00\x00\x00\x0cjP  "):
        return "j2c"  # a bare JPEG 2000 codestream (ISO/IEC 15444-1 Annex A)
    return IMAGE_EXTENSIONS.get(kind, "bin")


def _images(name: str, obj: LDSFile) -> list[tuple[str, bytes]]:
    """(file stem, image bytes) of the face, finger or signature images of one data group."""
    if isinstance(obj, DG3):
        out = []
        for b, block in enumerate(obj.fingers, start=1):
            for finger in block.record.fingers:
                stem = f"DG3-finger-{b}-position-{finger.position}-view-{finger.view_number}"
                out.append((stem, finger.image))
        return out
    kind = {"DG2": "face", "DG7": "signature"}.get(name)
    images: tuple[bytes, ...] = getattr(obj, "images", ())
    if kind is None:
        return []
    return [(f"{name}-{kind}-{i}", image) for i, image in enumerate(images, start=1)]


def extract_images(decoded: dict[str, LDSFile], out: Path) -> list[Path]:
    """Write the DG2 face, DG3 finger and DG7 signature images into ``out`` (created when
    missing) as stored, named like ``DG2-face-1.jp2``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("DG2", "DG3", "DG7"):
        if name in decoded:
            for stem, image in _images(name, decoded[name]):
                path = out / f"{stem}.{_extension(image)}"
                write_atomic(path, image, 0o600)  # biometric data: the owner's eyes only
                written.append(path)
    return written


# -- the command -------------------------------------------------------------------------------


def _reason(name: str, exc: DecodeError) -> str:
    """The decoder's reason without the file name the line starts with anyway."""
    reason = exc.reason
    for prefix in (f"{name}: ", f"{name} "):
        reason = reason.removeprefix(prefix)
    return reason


def _entries(found: Dump) -> tuple[dict[str, dict[str, Any]], dict[str, LDSFile]]:
    """The status of every file (and of the manifest), and the files that decoded."""
    entries: dict[str, dict[str, Any]] = {}
    decoded: dict[str, LDSFile] = {}
    for name, data in found.files.items():
        entry: dict[str, Any] = {"size": len(data)}
        try:
            decoded[name] = found.decode(name)
        except DecodeError as exc:
            entry.update(status="does-not-decode", error=_reason(name, exc), offset=exc.offset)
        else:
            entry["status"] = "decoded"
        if name in found.problems:
            entry["status"] = entry["status"] if name not in decoded else "differs-from-manifest"
            entry["manifest"] = found.problems[name]
        entries[name] = entry
    for name, reason in found.problems.items():
        if name not in entries:
            status = "malformed" if name == MANIFEST else "missing"
            entries[name] = {"status": status, "manifest": reason}
    return entries, decoded


def _status_text(entry: dict[str, Any]) -> str:
    parts = []
    if entry["status"] == "does-not-decode":
        where = f" at offset {entry['offset']}" if entry.get("offset") is not None else ""
        parts.append(f"does not decode{where}: {entry['error']}")
    elif entry["status"] in ("decoded", "differs-from-manifest"):
        parts.append("decoded")
    if "manifest" in entry:
        parts.append(entry["manifest"])  # "SHA-256 differs from manifest.json", …
    return "; ".join(parts)


def run_show(
    folder: Path,
    as_json: bool,
    echo: Callable[[str], None],
    *,
    extract: Path | None = None,
    today: dt.date | None = None,
) -> int:
    """Show every file of the dump in ``folder`` with its status; the exit code.

    A folder without any LDS file (nor a manifest naming one) raises DecodeError (exit 2).
    """
    found = Dump.read(folder, check_manifest=False)
    if not found.files and not found.problems:
        raise DecodeError(f"{folder}: not a dump folder (no EF.COM, EF.SOD, DG1 … DG16 files)")
    entries, decoded = _entries(found)
    ok = all(e["status"] == "decoded" for e in entries.values())
    fields = {name: readable(obj, today) for name, obj in decoded.items()}
    extracted = extract_images(decoded, extract) if extract is not None else []
    if as_json:
        for name, obj_fields in fields.items():
            entries[name]["fields"] = obj_fields
        result: dict[str, Any] = {"folder": str(folder), "ok": ok, "files": entries}
        if extract is not None:
            result["extracted"] = [str(p) for p in extracted]
        echo_json(result)
    else:
        for name, entry in entries.items():
            size = f" ({entry['size']} bytes)" if "size" in entry else ""
            echo(f"{name}{size}: {_status_text(entry)}")
            if name in fields:
                for line in render_text(fields[name], 1):
                    echo(line)
        for path in extracted:
            echo(f"extracted {path}")
    return EXIT_OK if ok else EXIT_FAILED


@click.group(name="dump")
def dump() -> None:
    """Dump folders: one file per elementary file (EF.COM, EF.SOD, DG1 … DG16)."""


@dump.command(name="show")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--extract", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Write the DG2 face, DG3 finger and DG7 signature images into this folder.",
)  # fmt: skip
@handle_errors
def show(folder: Path, as_json: bool, extract: Path | None) -> None:
    """Show every file in FOLDER: decoded (its fields), does not decode, or differs from the
    manifest.

    Exit 0 when every file decodes and agrees with the manifest, 1 when one does not, 2 when
    FOLDER is not a dump folder.
    """
    try:
        code = run_show(folder, as_json, click.echo, extract=extract)
    except OSError as exc:
        fail(f"{exc.filename or folder}: {exc.strerror or exc}")
    raise SystemExit(code)
