"""The dump folder: one file per elementary file, as read from (or written to) a chip.

Files are named ``EF.COM``, ``EF.SOD``, ``EF.CardAccess``, ``EF.CardSecurity``, ``DG1`` …
``DG16`` (or the same with a ``.bin`` suffix, as :func:`idcard.verify.read_dump_folder` accepts)
and hold the exact bytes of the file (what passive authentication hashes). An optional
``manifest.json`` records the writing tool and each file's size and SHA-256; reading tolerates
its absence, and checks it when present.

Every writer of a dump folder goes through this module, so the manifest always lists every file:
:meth:`Dump.write` writes a whole folder (atomically: a temporary sibling folder is filled and
then renamed into place), :func:`update_folder` replaces or adds files in an existing folder
(EF.SOD after signing) and rewrites the manifest with them.

Durability: the files are written, then made durable together (one ``syncfs`` of their file
system on Linux; elsewhere, or if that fails, one ``fsync`` per file), then renamed into place,
and the folder holding the renamed entries is fsynced so the rename itself is durable.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import sys
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

__all__ = ["MANIFEST", "Dump", "decode_named", "manifest_problems", "update_folder"]

MANIFEST = "manifest.json"
_EVIDENCE = "evidence.json"
"""A read's evidence (idcard.reader.evidence.EVIDENCE_FILE; the LDS does not import the reader)."""


def _frozen(files: Mapping[str, bytes]) -> Mapping[str, bytes]:
    unknown = [name for name in files if name not in FILE_NAMES]
    if unknown:
        raise DecodeError(f"not LDS file names: {', '.join(sorted(unknown))}")
    ordered = {name: bytes(files[name]) for name in FILE_NAMES if name in files}
    return MappingProxyType(ordered)


@dataclass(frozen=True, slots=True)
class Dump:
    """The files of one document, by name (raw bytes; decoded on demand).

    ``manifest`` is the manifest read with the folder (None when there was none or it was
    unreadable); ``problems`` maps a file name (or ``manifest.json``) to how the folder and its
    manifest disagree, for a folder read with ``check_manifest=False`` (empty otherwise).
    """

    files: Mapping[str, bytes]
    manifest: Mapping[str, Any] | None = field(default=None, compare=False)
    problems: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", _frozen(self.files))
        object.__setattr__(self, "problems", MappingProxyType(dict(self.problems)))

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
    def read(cls, path: str | os.PathLike[str], *, check_manifest: bool = True) -> Dump:
        """Read every LDS file present in the folder ``path`` (other files are ignored).

        With ``check_manifest``, a manifest that disagrees with the files (a size or SHA-256, a
        listed file missing, a file not listed) or does not parse is a DecodeError naming the
        first file; without, the disagreements are in :attr:`problems`.
        """
        folder = Path(path)
        if not folder.is_dir():
            raise DecodeError(f"{folder}: not a dump folder")
        files = {name: p.read_bytes() for name, p in _file_paths(folder).items()}
        manifest: dict[str, Any] | None = None
        problems: dict[str, str] = {}
        if (folder / MANIFEST).is_file():
            try:
                manifest = _read_manifest(folder / MANIFEST)
            except DecodeError as exc:
                if check_manifest:
                    raise
                problems[MANIFEST] = exc.reason.removeprefix(f"{MANIFEST}: ")
            else:
                problems = manifest_problems(manifest, files)
                if problems and check_manifest:
                    name, reason = next(iter(problems.items()))
                    raise DecodeError(f"{name}: {reason}")
        return cls(files, manifest, problems)

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
            written = [*self.files.items(), (MANIFEST, self.manifest_bytes())]
            for name, data in written:
                _write_file(tmp / name, data)
            _make_durable(tmp, [tmp / name for name, _ in written])
            if target.exists():
                old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
                target.rename(old)
                tmp.rename(target)
                _fsync_folder(target.parent)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(target)
                _fsync_folder(target.parent)
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

    def manifest_bytes(self) -> bytes:
        """``manifest.json`` as every writer of a dump folder writes it (indented JSON)."""
        return (json.dumps(self.manifest_json(), indent=2) + "\n").encode()

    # -- decoding ------------------------------------------------------------------------------

    def decode(self, name: str) -> LDSFile:
        """Decode one file; any error is a DecodeError whose message starts with the file name."""
        if name not in self.files:
            raise DecodeError(f"{name}: not in the dump")
        return decode_named(name, self.files[name])

    def decode_all(self) -> dict[str, LDSFile]:
        """Every file decoded, by name, in reading order; the first failure raises."""
        return {name: self.decode(name) for name in self.files}

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __contains__(self, name: object) -> bool:
        return name in self.files


def decode_named(name: str, data: bytes) -> LDSFile:
    """Decode the LDS file ``name`` from ``data``; any error is a DecodeError whose message
    starts with the file name (as :meth:`Dump.decode` gives it)."""
    try:
        return FILES[name].decode(data)
    except DecodeError as exc:
        named = exc.reason.startswith((f"{name} ", f"{name}: "))
        reason = exc.reason if named else f"{name}: {exc.reason}"
        raise DecodeError(reason, offset=exc.offset) from exc
    except ValueError as exc:  # a decoder that let a library error through
        raise DecodeError(f"{name}: {exc}") from exc


def _write_file(path: Path, data: bytes) -> None:
    """Write a new file (made durable afterwards with the others, by :func:`_make_durable`)."""
    path.write_bytes(data)


def _syncfs(folder: Path) -> bool:
    """Flush the file system holding ``folder`` (Linux ``syncfs(2)``): every file written there
    is durable in one call. False where it is unavailable or fails."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(folder, os.O_RDONLY)
    except (OSError, AttributeError):
        return False
    try:
        return bool(libc.syncfs(fd) == 0)
    except AttributeError:  # a libc without syncfs
        return False
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make the entries of ``folder`` (a rename into it) durable."""
    if os.name == "nt":  # directories cannot be opened for fsync there
        return
    _fsync_file(folder)


def _make_durable(folder: Path, paths: list[Path]) -> None:
    """``paths`` (written in ``folder``) and ``folder``'s entries on stable storage before
    anything is renamed: one syncfs, or an fsync of each file and of the folder."""
    if _syncfs(folder):
        return
    for path in paths:
        _fsync_file(path)
    _fsync_folder(folder)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError(f"{MANIFEST}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files", []), list):
        raise DecodeError(f"{MANIFEST}: not a manifest object")
    return manifest


def _file_paths(folder: Path) -> dict[str, Path]:
    """Where each LDS file of ``folder`` is: ``NAME`` or else ``NAME.bin``, in reading order."""
    found = {}
    for name in FILE_NAMES:
        path = next((p for p in (folder / name, folder / f"{name}.bin") if p.is_file()), None)
        if path is not None:
            found[name] = path
    return found


def manifest_problems(manifest: Mapping[str, Any], files: Mapping[str, bytes]) -> dict[str, str]:
    """How ``files`` disagree with ``manifest``: file name (or ``manifest.json`` for a malformed
    entry) → reason, in the manifest's order, then the files it does not list."""
    problems: dict[str, str] = {}
    listed = set()
    for entry in manifest.get("files", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.setdefault(MANIFEST, "malformed file entry")
            continue
        name = entry["name"]
        listed.add(name)
        if name not in files:
            problems[name] = f"listed in {MANIFEST} but missing"
            continue
        data = files[name]
        if "size" in entry and entry["size"] != len(data):
            problems[name] = f"{len(data)} bytes, {MANIFEST} says {entry['size']}"
        elif "sha256" in entry and str(entry["sha256"]).lower() != hashlib.sha256(data).hexdigest():
            problems[name] = f"SHA-256 differs from {MANIFEST}"
    for name in files:
        if name not in listed:
            problems[name] = f"not listed in {MANIFEST}"
    return problems


def update_folder(path: str | os.PathLike[str], files: Mapping[str, bytes]) -> Dump:
    """Replace or add ``files`` (name → bytes) in the dump folder ``path``; rewrite its manifest.

    The folder's other files are kept as they are; the manifest, when the folder has one (every
    folder :meth:`Dump.write` made), is rewritten to list every LDS file of the folder with its
    size and SHA-256; a folder without one (files copied by hand) stays without. Each file is
    written to a temporary sibling and renamed into place (never half-written); the manifest is
    renamed last. A read's ``evidence.json`` (:mod:`idcard.reader.evidence`) no longer describes
    a folder whose files were replaced: it is removed, last. Returns the folder as now written.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DecodeError(f"{folder}: not a dump folder")
    new = dict(Dump(files).files)  # checks the names
    paths = _file_paths(folder)
    current = {name: p.read_bytes() for name, p in paths.items() if name not in new}
    result = Dump({**current, **new})
    has_manifest = (folder / MANIFEST).exists()
    writes = [(paths.get(name, folder / name), data) for name, data in new.items()]
    if has_manifest:
        writes.append((folder / MANIFEST, result.manifest_bytes()))
    temps: list[tuple[Path, Path]] = []
    try:
        for target, data in writes:
            tmp = folder / f".{target.name}.{uuid.uuid4().hex}"
            temps.append((tmp, target))
            _write_file(tmp, data)
        _make_durable(folder, [tmp for tmp, _ in temps])
        for tmp_path, target in temps:
            tmp_path.replace(target)
        (folder / _EVIDENCE).unlink(missing_ok=True)
        _fsync_folder(folder)
    except BaseException:
        for tmp_path, _ in temps:
            tmp_path.unlink(missing_ok=True)
        raise
    return Dump(result.files, result.manifest_json() if has_manifest else None)
