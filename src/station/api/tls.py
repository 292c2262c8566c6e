"""The served Center's side of mutual TLS with the collection points (``center serve``).

The handshake (:func:`server_ssl_context`): the Center shows its server certificate; a client
certificate is asked for and, when one is shown, verified against the point CA and its CRL —
an unknown, expired or revoked certificate ends the handshake. It is optional at the handshake
(``CERT_OPTIONAL``) so that the operators' browsers reach the web application on the same
server; ``/v1`` itself requires one (:func:`station.api.auth.point_of_scope`, else HTTP 401).

The CRL is read again when its file changes: at each handshake the context is swapped
(``sni_callback``) for one built from the current file, so ``idkarta pki point-ca crl``
takes effect without a restart. A CRL past its nextUpdate fails every client handshake
(fail closed): issue the next one in time.

Getting the certificate to the application: uvicorn (0.55) does not yet put the peer
certificate into the ASGI scope (encode/uvicorn#1119, Kludex/uvicorn#3133 are open) and
hypercorn (0.18) does not either (pgjones/hypercorn#62). :class:`TLSPeerH11Protocol` is the
small hook: uvicorn's own h11 protocol, which after the handshake reads the verified peer
certificate from the connection's ``ssl_object`` and adds it to every request's scope as the
ASGI TLS extension defines it (``scope["extensions"]["tls"]["client_cert_chain"]``, PEM, leaf
first). Once uvicorn ships the extension this class goes and
:func:`station.api.auth.point_of_scope` stays.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from station.errors import UsageError

__all__ = ["CRLReloadingContext", "TLSPeerH11Protocol", "server_ssl_context"]

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def _tls_extension(transport: Any) -> dict[str, Any] | None:
    """The ASGI TLS extension of a connection (None without TLS): the verified client
    certificate alone (Python 3.11's ssl module gives the leaf, not the chain); the keys it
    cannot fill (the server's certificate, the cipher suite's number) are None."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return {"server_cert": None,
            "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
            "client_cert_name": None, "client_cert_error": None,
            "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
            "cipher_suite": None}  # fmt: skip


class TLSPeerH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that adds the ASGI TLS extension (the verified client
    certificate) to the scope of each request of a TLS connection (``uvicorn.Config(http=…)``)."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        tls = _tls_extension(transport)
        if tls is None:
            return
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})["tls"] = tls
            await inner(scope, receive, send)

        self.app = app


def _context(cert: Path, key: Path, client_ca: Path, crl: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"--tls-cert/--tls-key: not a usable certificate and key "
                         f"({exc})") from None
    try:
        ctx.load_verify_locations(cafile=client_ca)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"--client-ca: not a usable CA certificate ({exc})") from None
    try:
        ctx.load_verify_locations(cafile=crl)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"--crl: not a usable PEM CRL ({exc})") from None
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF | ssl.VERIFY_X509_STRICT
    return ctx


class CRLReloadingContext:
    """The server's SSL context, rebuilt when the CRL file changes (checked per handshake)."""

    def __init__(self, cert: Path, key: Path, client_ca: Path, crl: Path) -> None:
        self._files = (cert, key, client_ca, crl)
        self._stamp = self._crl_stamp()
        self.current = self._build()
        self.outer = self._build()  # the listening context; hands each handshake to current

    def _crl_stamp(self) -> tuple[int, int]:
        try:
            st = os.stat(self._files[3])
        except OSError as exc:
            raise UsageError(f"--crl: {exc.strerror}") from None
        return st.st_mtime_ns, st.st_size

    def _build(self) -> ssl.SSLContext:
        ctx = _context(*self._files)
        ctx.sni_callback = self._choose
        return ctx

    def _choose(self, sock: Any, _name: str | None, _ctx: ssl.SSLContext) -> None:
        try:
            stamp = self._crl_stamp()
            if stamp != self._stamp:
                self.current, self._stamp = self._build(), stamp
        except UsageError:
            pass  # an unreadable new CRL: keep the last good one (it expires, fail closed)
        sock.context = self.current


def server_ssl_context(
    cert: Path, key: Path, client_ca: Path, crl: Path
) -> Callable[..., ssl.SSLContext]:
    """A ``uvicorn.Config(ssl_context_factory=…)`` for the Center: checked now (a bad file is a
    :class:`~station.errors.UsageError` before the server starts)."""
    holder = CRLReloadingContext(cert, key, client_ca, crl)
    return lambda *_: holder.outer
