"""The e-signature CA folder of ``idkarta esign init``.

The folder holds ``esign.json`` (service base URL, key backend and labels), ``esign.sqlite``
(the register: CA certificate, issued certificates, revocations, outbox), ``ca.pem``,
``tsa.pem`` and, with the file key store, ``keys/``. Keys live on a PKCS#11 token or in the
encrypted file key store (:mod:`station.folders.keys` opens them).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem

from pki.ca import pem_certificate
from pki.errors import PKIError
from pki.esign import EsignCA, EsignRegister, HolderRecord, ServiceURLs
from pki.filestore import write_atomic
from pki.keys import KeySpec, KeyStore
from pki.tsa import TimeStampAuthority
from station.folders.keys import Ask, open_store
from station.folders.pki import load_certificate_file
from station.outbox import Outbox

__all__ = ["CONFIG", "EsignFolder", "open_ca", "run_init", "run_issue"]

CONFIG = "esign.json"


@dataclass(frozen=True, slots=True)
class EsignFolder:
    """An e-signature CA folder; its settings are read on each use."""

    root: Path

    @property
    def config(self) -> dict[str, Any]:
        try:
            obj: dict[str, Any] = json.loads((self.root / CONFIG).read_text("utf-8"))
        except FileNotFoundError:
            raise PKIError(
                f"{self.root} is not an e-signature CA (run `idkarta esign init`)"
            ) from None
        except (OSError, ValueError) as exc:
            raise PKIError(f"{self.root / CONFIG} is unreadable: {exc}") from None
        return obj

    @property
    def register(self) -> EsignRegister:
        return EsignRegister(self.root / "esign.sqlite")

    def urls(self) -> ServiceURLs:
        return ServiceURLs.at(str(self.config["base_url"]))

    def ca(self, store: KeyStore) -> EsignCA:
        return EsignCA(self.register, store.load(self.config["ca_key"]), self.urls())

    def tsa(self, store: KeyStore) -> TimeStampAuthority:
        cert = load_certificate_file(self.root / "tsa.pem")
        return TimeStampAuthority(cert, store.load(self.config["tsa_key"]))

    @contextmanager
    def store(
        self,
        *,
        new: bool = False,
        pin: Callable[[], str] | None = None,
        passphrase: Callable[[], bytes] | None = None,
        ask: Ask | None = None,
    ) -> Iterator[KeyStore]:
        """The folder's key store, on the backend ``esign.json`` names
        (:func:`station.folders.keys.open_store`)."""
        backend = self.config["backend"]
        with open_store(self.root, backend, new=new, pin=pin, passphrase=passphrase,
                        ask=ask) as store:  # fmt: skip
            yield store


def run_init(
    root: Path,
    backend: dict[str, str],
    *,
    base_url: str,
    key_spec: KeySpec,
    common_name: str,
    store: KeyStore | None = None,
    ask: Ask | None = None,
) -> dict[str, Any]:
    """Create the CA key, its self-signed certificate, the TSA key and certificate.

    ``store`` is the key store to generate in (the demo passes its own); by default the one
    ``backend`` names, opened with ``IDKARTA_PIN`` / ``IDKARTA_PASSPHRASE`` or ``ask``.
    """
    if (root / CONFIG).exists():
        raise PKIError(f"{root} already holds an e-signature CA")
    config = {
        "base_url": base_url.rstrip("/"),
        "backend": backend,
        "ca_key": "esign-ca",
        "tsa_key": "esign-tsa",
        "key_spec": str(key_spec),
    }
    root.mkdir(parents=True, exist_ok=True)
    write_atomic(root / CONFIG, (json.dumps(config, indent=2) + "\n").encode())
    folder = EsignFolder(root)
    with nullcontext(store) if store is not None else folder.store(new=True, ask=ask) as keys:
        ca = EsignCA.create(
            folder.register, keys.generate("esign-ca", key_spec), folder.urls(),
            common_name=common_name,
        )
        tsa = ca.issue_tsa(keys.generate("esign-tsa", key_spec).public_key())
    write_atomic(root / "ca.pem", pem_certificate(ca.certificate))
    write_atomic(root / "tsa.pem", pem_certificate(tsa.certificate))
    return {"ca": str(root / "ca.pem"), "tsa": str(root / "tsa.pem"), "base_url": base_url}


def open_ca(root: Path, store: KeyStore) -> EsignCA:
    """The e-signature CA of the folder ``root`` with its key from ``store``."""
    return EsignFolder(root).ca(store)


def run_issue(
    root: Path, store: KeyStore, request: bytes, record: HolderRecord, *, validity_days: int
) -> dict[str, Any]:
    """Issue from a PKCS#10 request (DER or PEM) and queue the OneID event."""
    if pem.detect(request):
        _, _, request = pem.unarmor(request)
    ca = EsignFolder(root).ca(store)
    outbox = Outbox(ca.register.path)
    issued = ca.issue(
        request, record, validity=dt.timedelta(days=validity_days), on_record=outbox.hook()
    )
    return {
        "serial": format(issued.serial, "x"),
        "subject": issued.subject,
        "not_after": issued.not_after.isoformat(),
        "sha256": issued.fingerprint,
        "pem": pem_certificate(issued.certificate).decode(),
    }
