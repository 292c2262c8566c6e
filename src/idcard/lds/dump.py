"""The dump folder: one file per elementary file, as read from (or written to) a chip.

Files are named ``EF.COM``, ``EF.SOD``, ``EF.CardAccess``, ``EF.CardSecurity``, ``DG1`` …
``DG16`` and hold the exact bytes of the file (what passive authentication hashes). An optional
``manifest.json`` records the writing tool and each file's size and SHA-256; reading tolerates
its absence, and checks it when present. Writing is atomic: a temporary sibling folder is filled
and then renamed into place, so a dump is never left half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from idcard import __version__
from idcard.errors import DecodeError
from idcard.lds import FILE_NAMES, FILES, LDSFile

__all__ = ["MANIFEST", "Dump"]

MANIFEST = "manifest.json"


def _frozen(files: Mapping[str, bytes]) -> Mapping[str, bytes]:
    unknown = [name for name in files if name not in FILE_NAMES]
    if unknown:
        raise DecodeError(f"not LDS file names: {', '.join(sorted(unknown))}")
    ordered = {name: bytes(files[name]) for name in FILE_NAMES if name in files}
    return MappingProxyType(ordered)


@dataclass(frozen=True, slots=True)
class Dump:
    """The files of one document, by name (raw bytes; decoded on demand).

    ``manifest`` is the manifest read with the folder (None when there was none).
    """

    files: Mapping[str, bytes]
    manifest: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", _frozen(self.files))

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def from_objects(cls, objects: Iterable[LDSFile]) -> Dump:
        """A dump of decoded or built files: each one's ``raw`` bytes, else its encoding."""
        files: dict[str, bytes] = {}
        for obj in objects:
            if obj.NAME in files:
                raise DecodeError(f"{obj.NAME} given twice")
            files[obj.NAME] = obj.raw or obj.encode()
        return cls(files)

    # -- folder I/O ----------------------------------------------------------------------------

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Dump:
        """Read every LDS file present in the folder ``path`` (other files are ignored).

        A manifest that disagrees with a file's size or SHA-256 is a DecodeError naming it.
        """
        folder = Path(path)
        if not folder.is_dir():
            raise DecodeError(f"{folder}: not a dump folder")
        files = {name: (folder / name).read_bytes() for name in FILE_NAMES
                 if (folder / name).is_file()}  # fmt: skip
        manifest = None
        if (folder / MANIFEST).is_file():
            manifest = _read_manifest(folder / MANIFEST)
            _check_manifest(manifest, files)
        return cls(files, manifest)

    def write(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the folder atomically (temporary sibling, then rename), with a manifest.

        An existing folder is replaced only with ``overwrite``; otherwise FileExistsError.
        """
        target = Path(path)
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} exists")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            for name, data in self.files.items():
                _write_synced(tmp / name, data)
            manifest = json.dumps(self.manifest_json(), indent=2) + "\n"
            _write_synced(tmp / MANIFEST, manifest.encode())
            if target.exists():
                old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
                target.rename(old)
                tmp.rename(target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def manifest_json(self) -> dict[str, Any]:
        """The manifest content: tool, version and each file's name, size and SHA-256."""
        return {
            "tool": "idkarta",
            "version": __version__,
            "files": [
                {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                for name, data in self.files.items()
            ],
        }

    # -- decoding ------------------------------------------------------------------------------

    def decode(self, name: str) -> LDSFile:
        """Decode one file; any error is a DecodeError whose message starts with the file name."""
        if name not in self.files:
            raise DecodeError(f"{name}: not in the dump")
        try:
            return FILES[name].decode(self.files[name])
        except DecodeError as exc:
            reason = exc.reason if exc.reason.startswith(f"{name} ") else f"{name}: {exc.reason}"
            raise DecodeError(reason, offset=exc.offset) from exc
        except ValueError as exc:  # a decoder that let a library error through
            raise DecodeError(f"{name}: {exc}") from exc

    def decode_all(self) -> dict[str, LDSFile]:
        """Every file decoded, by name, in reading order; the first failure raises."""
        return {name: self.decode(name) for name in self.files}

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __contains__(self, name: object) -> bool:
        return name in self.files


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError(f"{MANIFEST}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files", []), list):
        raise DecodeError(f"{MANIFEST}: not a manifest object")
    return manifest


def _check_manifest(manifest: Mapping[str, Any], files: Mapping[str, bytes]) -> None:
    for entry in manifest.get("files", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise DecodeError(f"{MANIFEST}: malformed file entry")
        name = entry["name"]
        if name not in files:
            raise DecodeError(f"{name}: listed in {MANIFEST} but missing")
        data = files[name]
        if "size" in entry and entry["size"] != len(data):
            raise DecodeError(f"{name}: {len(data)} bytes, {MANIFEST} says {entry['size']}")
        if "sha256" in entry and str(entry["sha256"]).lower() != hashlib.sha256(data).hexdigest():
            raise DecodeError(f"{name}: SHA-256 differs from {MANIFEST}")
