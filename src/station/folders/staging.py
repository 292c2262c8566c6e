"""All-or-nothing creation of a key-holding folder (``idkarta pki init``).

The folder is built in a staging folder beside its place and moved there at the end; on a token,
each key is noted (label and a fresh random CKA_ID) before the token is asked to make it, so a
failed run destroys exactly the keys it made, in a new session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from pki.errors import PKIError
from pki.keys import KeySpec, KeyStore, Signer

__all__ = ["LAST", "StoresOpener", "build_staged"]

LAST = "pki.json"
"""Moved last into an existing folder: its presence marks a finished PKI folder."""

StoresOpener = Callable[[Path], AbstractContextManager[tuple[KeyStore, KeyStore]]]
"""Opens the document PKI's and the EAC PKI's key stores for a folder
(see :func:`station.folders.keys.open_stores`)."""


class _TokenRun:
    """A token session that notes each key it is asked to make (label and a fresh random
    CKA_ID, noted before the token is asked), so a failed run can destroy exactly those."""

    def __init__(self, session: Any, made: list[tuple[str, bytes]]) -> None:
        self._session = session
        self._made = made

    def generate(self, label: str, spec: KeySpec) -> Signer:
        key_id = os.urandom(16)
        self._made.append((label, key_id))
        signer: Signer = self._session.generate_key(label, spec, key_id=key_id)
        return signer

    def load(self, label: str) -> Signer:
        signer: Signer = self._session.load(label)
        return signer

    def labels(self) -> list[str]:
        labels: list[str] = self._session.labels()
        return labels


def _rollback_token(
    open_at: StoresOpener, staging: Path, made: list[tuple[str, bytes]]
) -> str | None:
    """Destroy the keys of ``made`` in a new session; a reason when that fails, else None."""
    try:
        with open_at(staging) as (session, _):
            for label, key_id in reversed(made):
                session.destroy_key(label, key_id=key_id, missing_ok=True)  # type: ignore[attr-defined]
    except PKIError as exc:
        return str(exc)
    return None


def _move_into_place(staging: Path, root: Path) -> None:
    """Rename the staged folder to ``root`` (absent or empty); into an existing folder, move
    its entries, :data:`LAST` last (a folder is a PKI once it has its ``pki.json``)."""
    try:
        os.rename(staging, root)
        return
    except OSError as exc:
        if not root.is_dir():
            raise PKIError(f"cannot put the new folder at {root}: {exc.strerror}") from None
    names = sorted((p.name for p in staging.iterdir()), key=lambda n: n == LAST)
    taken = [n for n in names if (root / n).exists()]
    if taken:
        raise PKIError(f"{root} already holds {', '.join(taken)}; init needs them absent")
    try:
        for name in names:
            os.replace(staging / name, root / name)
        staging.rmdir()
    except OSError as exc:
        raise PKIError(f"cannot move the new folder into {root}: {exc.strerror}") from None


def _relocated(value: Any, staging: Path, root: Path) -> Any:
    """``value`` with paths under ``staging`` given under ``root``."""
    if isinstance(value, dict):
        return {k: _relocated(v, staging, root) for k, v in value.items()}
    if isinstance(value, str) and value.startswith(str(staging)):
        return str(root) + value[len(str(staging)):]
    return value


def build_staged(
    root: Path,
    backend: dict[str, str],
    open_at: StoresOpener,
    build: Callable[[Path, KeyStore, KeyStore], dict[str, Any]],
) -> dict[str, Any]:
    """``build(folder, store, eac_store)`` all or nothing: the folder is made in a staging
    folder beside ``root`` and moved into place at the end. On any failure the staging folder
    is removed and, on a token, the keys made in this run are destroyed (in a new session: the
    old one may be gone); the original error is raised, so a rerun starts clean.
    """
    staging = root.parent / f".{root.name}.init-{os.urandom(6).hex()}"
    try:
        staging.mkdir(parents=True)  # as mkdir makes root itself (mode from the umask)
    except OSError as exc:
        raise PKIError(f"cannot make a folder beside {root}: {exc.strerror}") from None
    made: list[tuple[str, bytes]] = []
    try:
        with open_at(staging) as (store, eac_store):
            if backend["type"] == "pkcs11":  # one session serves both (open_stores)
                store = eac_store = _TokenRun(store, made)
            result = build(staging, store, eac_store)
        _move_into_place(staging, root)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        failed = _rollback_token(open_at, staging, made) if made else None
        if failed is not None and isinstance(exc, PKIError):
            labels = ", ".join(label for label, _ in made)
            raise PKIError(f"{exc}; the keys made on the token ({labels}) could not be "
                           f"destroyed: {failed}") from None  # fmt: skip
        raise
    return _relocated(result, staging, root)  # type: ignore[no-any-return]
