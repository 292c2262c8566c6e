"""Opening a folder's key store: a PKCS#11 token session or the encrypted file key store.

The token's PIN comes from ``IDKARTA_PIN``, the file key store's passphrase from
``IDKARTA_PASSPHRASE``; without them, from ``ask`` (the command line passes a hidden prompt).
Each is asked at most once, when first needed, never taken from an argument.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pki.filestore import FileKeyStore
from pki.keys import KeyStore
from station.errors import UsageError

__all__ = ["Ask", "open_store", "open_stores", "passphrase_once", "pin_once", "secret"]

Ask = Callable[[str, bool], str]
"""Asks the operator for a secret: ``ask(prompt, confirm)`` → the text entered (``confirm``:
asked twice, as for a new passphrase)."""


def secret(env: str, prompt: str, *, confirm: bool = False, ask: Ask | None = None) -> str:
    """The secret of the environment variable ``env``, else ``ask(prompt, confirm)``; a
    UsageError when neither gives one."""
    value = os.environ.get(env)
    if value:
        return value
    if ask is None:
        raise UsageError(f"{prompt} needed: set {env}")
    return ask(prompt, confirm)


def passphrase_once(new: bool, ask: Ask | None = None) -> Callable[[], bytes]:
    """The file key store's passphrase (``IDKARTA_PASSPHRASE`` or ``ask``), asked once when
    first needed; ``new``: asked with confirmation."""
    cache: list[bytes] = []

    def passphrase() -> bytes:
        if not cache:
            text = secret("IDKARTA_PASSPHRASE", "Key store passphrase", confirm=new, ask=ask)
            cache.append(text.encode("utf-8"))
        return cache[0]

    return passphrase


def pin_once(ask: Ask | None = None) -> Callable[[], str]:
    """The token's user PIN (``IDKARTA_PIN`` or ``ask``), asked once when first needed."""
    cache: list[str] = []

    def pin() -> str:
        if not cache:
            cache.append(secret("IDKARTA_PIN", "Token user PIN", ask=ask))
        return cache[0]

    return pin


@contextmanager
def _token_session(backend: dict[str, str], pin: Callable[[], str]) -> Iterator[KeyStore]:
    from pki.hsm import PKCS11Module

    token = PKCS11Module(backend["module"]).token(backend["token"])
    with token.session(pin) as session:
        yield session


@contextmanager
def open_stores(
    root: Path,
    backend: dict[str, str],
    *,
    new: bool = False,
    pin: Callable[[], str] | None = None,
    passphrase: Callable[[], bytes] | None = None,
    ask: Ask | None = None,
) -> Iterator[tuple[KeyStore, KeyStore]]:
    """The document PKI's and the EAC PKI's key stores of the folder ``root``: the same token
    session, or two file stores (``keys/`` and ``cvc/keys/``) sharing one passphrase. ``pin``
    and ``passphrase`` default to :func:`pin_once` / :func:`passphrase_once` with ``ask``."""
    if backend["type"] == "pkcs11":
        with _token_session(backend, pin or pin_once(ask)) as session:
            yield session, session
        return
    shared = passphrase or passphrase_once(new, ask)
    yield FileKeyStore(root / "keys", shared), FileKeyStore(root / "cvc" / "keys", shared)


@contextmanager
def open_store(
    root: Path,
    backend: dict[str, str],
    *,
    new: bool = False,
    pin: Callable[[], str] | None = None,
    passphrase: Callable[[], bytes] | None = None,
    ask: Ask | None = None,
) -> Iterator[KeyStore]:
    """The folder's (document PKI's) key store, as :func:`open_stores` opens it."""
    with open_stores(root, backend, new=new, pin=pin, passphrase=passphrase, ask=ask) as (
        store,
        _eac_store,
    ):
        yield store
