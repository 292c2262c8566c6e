"""The document PKI folder of ``idkarta pki init`` (CSCA, Document Signers, Master List Signer,
CRLs, master lists, EF.SOD signing) and its EAC PKI under ``cvc/`` (CVCA, Document Verifiers,
Inspection Systems; BSI TR-03110-3).

A PKI folder holds ``pki.json`` (settings and key labels, no secret), ``ca-state.json`` (serials,
issued and revoked certificates), ``certs/*.pem``, ``crl/*.crl``, ``cvc/`` (``state.json`` and
the CV certificates ``<CHR>.cvcert``) and, for the file key store, ``keys/*.key.pem`` and
``cvc/keys/*.key.pem``. Keys live on a PKCS#11 token or in the encrypted file key store
(:mod:`station.folders.keys` opens them).

Each ``run_*`` function does one piece of work on the folder with an open
:class:`~pki.keys.KeyStore` and returns what it did as a JSON-ready dict; the ``idkarta pki``
commands call them, as do the station's services and the demo.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509

from idcard.lds.sod import SOD
from idcard.verify.passive import read_dump_folder
from pki.ca import CAState, CertificateAuthority, pem_certificate, pem_crl
from pki.cvca import (
    CVCA_DAYS,
    DV_DAYS,
    IS_DAYS,
    EACFolder,
    check_cv_key_spec,
    load_request,
)
from pki.errors import IssuanceError, PKIError
from pki.filestore import write_atomic
from pki.keys import KeySpec, KeyStore, Signer, generate_private_key
from pki.masterlist import build_master_list
from pki.point_ca import PointCA
from pki.sod import (
    DocumentSignerRefused,
    document_code,
    document_signer_refusal,
    sign_data_group_hashes,
    sign_dump_folder,
)
from station.center.sod import SignedSOD
from station.folders.keys import Ask, open_stores
from station.folders.staging import StoresOpener, build_staged

__all__ = [
    "CONFIG",
    "CVC_KEY_TYPES",
    "DEFAULT_CVC_KEY_TYPE",
    "DEFAULT_DOC_TYPES",
    "KEY_TYPES",
    "PKIDocumentSigner",
    "PKIFolder",
    "choose_document_signer",
    "document_signer_for",
    "load_certificate_file",
    "open_pki_stores",
    "run_crl",
    "run_cvca_link",
    "run_init",
    "run_init_staged",
    "run_issue_ds",
    "run_issue_dv",
    "run_issue_is",
    "run_link",
    "run_masterlist",
    "run_point_ca_init",
    "run_point_cert",
    "run_point_crl",
    "run_point_revoke",
    "run_revoke",
    "run_sign_sod",
]

CONFIG = "pki.json"
DEFAULT_DOC_TYPES = ("ID", "IU", "P")
"""Document types a Document Signer may sign by default (9303-12 §7.1.1.3 documentTypeList):
``ID`` identity cards, ``IU`` the document code in the MRZ of Uzbekistan's ID-karta, ``P``
passports. Passive authentication matches the MRZ document code against these."""

CVC_KEY_TYPES = ("ec-brainpoolP256r1", "ec-p256", "rsa-2048", "rsa-3072", "rsa-4096")
"""Key types of the EAC PKI: CV certificates carry the curves of :mod:`idcard.cvc.curves`."""
DEFAULT_CVC_KEY_TYPE = "ec-brainpoolP256r1"

KEY_TYPES = (
    "ec-p256",
    "ec-p384",
    "ec-p521",
    "ec-brainpoolP256r1",
    "ec-brainpoolP384r1",
    "ec-brainpoolP512r1",
    "rsa-2048",
    "rsa-3072",
    "rsa-4096",
)


class PKIFolder:
    """The PKI folder and its ``pki.json``."""

    def __init__(self, root: Path, config: dict[str, Any]) -> None:
        self.root = root
        self.config = config

    @classmethod
    def open(cls, root: Path) -> PKIFolder:
        try:
            config = json.loads((root / CONFIG).read_text("utf-8"))
        except FileNotFoundError:
            raise PKIError(
                f"{root} is not a PKI folder (no {CONFIG}; run `idkarta pki init`)"
            ) from None
        except (OSError, ValueError) as exc:
            raise PKIError(f"{root / CONFIG} is unreadable: {exc}") from None
        if not isinstance(config, dict):
            raise PKIError(f"{root / CONFIG} is not a settings object")
        return cls(root, config)

    def save(self) -> None:
        text = json.dumps(self.config, indent=2, ensure_ascii=False) + "\n"
        write_atomic(self.root / CONFIG, text.encode("utf-8"))

    @property
    def state_path(self) -> Path:
        return self.root / "ca-state.json"

    def cert_path(self, name: str) -> Path:
        return self.root / "certs" / f"{name}.pem"

    def write_cert(self, name: str, cert: x509.Certificate) -> Path:
        path = self.cert_path(name)
        write_atomic(path, pem_certificate(cert))
        return path

    def read_cert(self, name: str) -> x509.Certificate:
        try:
            _, _, der = pem.unarmor(self.cert_path(name).read_bytes())
            return x509.Certificate.load(der)
        except (OSError, ValueError) as exc:
            raise PKIError(f"certificate {name!r} is unreadable: {exc}") from None

    @property
    def key_spec(self) -> KeySpec:
        return KeySpec.parse(str(self.config["key_type"]))

    def csca(self, store: KeyStore) -> CertificateAuthority:
        label = str(self.config["csca"])
        return CertificateAuthority(
            self.read_cert(label),
            store.load(label),
            self.state_path,
            crl_urls=list(self.config.get("crl_urls", [])),
        )

    def next_label(self, prefix: str) -> str:
        counters = self.config.setdefault("counters", {})
        n = int(counters.get(prefix, 0)) + 1
        counters[prefix] = n
        return f"{prefix}-{n}"


def run_init(
    root: Path,
    store: KeyStore,
    *,
    country: str,
    organization: str | None,
    key_spec: KeySpec,
    backend: dict[str, str],
    crl_urls: Sequence[str] = (),
    doc_types: Sequence[str] = DEFAULT_DOC_TYPES,
    now: dt.datetime | None = None,
    cvc_key_spec: KeySpec | None = None,
    eac_store: KeyStore | None = None,
) -> dict[str, Any]:
    """Create a CSCA, a Document Signer and a Master List Signer in a new PKI folder, and the
    EAC hierarchy CVCA → DV → IS (DG3 and DG4) under ``cvc/``.

    The EAC keys go to ``eac_store`` (default: ``store``); ``cvc_key_spec`` defaults to
    ``key_spec`` when CV certificates can carry it, else to brainpoolP256r1.
    """
    if cvc_key_spec is None:
        try:
            check_cv_key_spec(key_spec)
            cvc_key_spec = key_spec
        except IssuanceError:
            cvc_key_spec = KeySpec.parse(DEFAULT_CVC_KEY_TYPE)
    check_cv_key_spec(cvc_key_spec)
    if (root / CONFIG).exists():
        raise PKIError(f"{root} already holds a PKI ({CONFIG} exists)")
    folder = PKIFolder(
        root,
        {
            "country": country,
            "organization": organization,
            "key_type": str(key_spec),
            "backend": backend,
            "crl_urls": list(crl_urls),
            "csca_history": [],
        },
    )
    csca_label = folder.next_label("csca")
    ca = CertificateAuthority.create_csca(
        store.generate(csca_label, key_spec),
        folder.state_path,
        country=country,
        common_name=f"CSCA {country}",
        organization=organization,
        crl_urls=crl_urls,
        now=now,
    )
    folder.write_cert(csca_label, ca.certificate)
    folder.config["csca"] = csca_label
    folder.config["csca_history"].append(csca_label)
    ds = _issue_ds(folder, store, ca, doc_types, now)
    mls_label = folder.next_label("mls")
    mls = ca.issue_master_list_signer(
        store.generate(mls_label, key_spec).public_key(),
        common_name=f"Master List Signer {country}",
        now=now,
    )
    folder.write_cert(mls_label, mls)
    folder.config["mls"] = mls_label
    folder.save()
    cvc = _init_eac(root, eac_store or store, country=country, key_spec=cvc_key_spec, now=now)
    return {
        "dir": str(root),
        "backend": backend["type"],
        "key_type": str(key_spec),
        "csca": {"label": csca_label, "serial": ca.certificate.serial_number},
        "ds": ds,
        "mls": {"label": mls_label, "serial": mls.serial_number},
        "cvc": cvc,
    }


def run_init_staged(
    root: Path, backend: dict[str, str], open_at: StoresOpener, **options: Any
) -> dict[str, Any]:
    """:func:`run_init`, all or nothing (see :func:`station.folders.staging.build_staged`): built
    in a staging folder beside ``root`` and moved into place at the end; on failure nothing is
    left, on the token neither, and the original error is raised."""
    if (root / CONFIG).exists():
        raise PKIError(f"{root} already holds a PKI ({CONFIG} exists)")
    return build_staged(
        root, backend, open_at,
        lambda at, store, eac_store: run_init(at, store, backend=backend, eac_store=eac_store,
                                              **options),
    )  # fmt: skip


# -- the EAC PKI (TR-03110-3) -----------------------------------------------------------------


def _start(now: dt.datetime | None) -> dt.date | None:
    return now.date() if now is not None else None


def _init_eac(
    root: Path, store: KeyStore, *, country: str, key_spec: KeySpec, now: dt.datetime | None
) -> dict[str, Any]:
    eac = EACFolder.create(root / "cvc", country=country, key_spec=key_spec)
    start = _start(now)
    cvca = eac.create_cvca(store, effective_date=start)
    dv = eac.issue_dv(store, effective_date=start)
    term = eac.issue_is(store, effective_date=start)
    return {"key_type": str(key_spec), "cvca": eac.summary(cvca), "dv": eac.summary(dv),
            "is": eac.summary(term)}  # fmt: skip


def run_cvca_link(
    root: Path, store: KeyStore, *, days: int = CVCA_DAYS, now: dt.datetime | None = None
) -> dict[str, Any]:
    """CVCA key rollover: new key, link certificate (old → new), new self-signed CVCA."""
    eac = EACFolder.open(root / "cvc")
    link, new = eac.link(store, validity_days=days, effective_date=_start(now))
    return {"cvca": eac.summary(new), "link": eac.summary(link)}


def run_issue_dv(
    root: Path, store: KeyStore, *, foreign: bool = False, read_dg3: bool = True,
    read_dg4: bool = True, days: int = DV_DAYS, request: Path | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A DV certificate from the current CVCA: a new key in the store, or the key of a request
    (a foreign DV's, or a renewal authenticated by the DV's current certificate)."""
    eac = EACFolder.open(root / "cvc")
    cert = eac.issue_dv(store, foreign=foreign, read_dg3=read_dg3, read_dg4=read_dg4,
                        validity_days=days, effective_date=_start(now),
                        request=load_request(request) if request else None)  # fmt: skip
    return {**eac.summary(cert), "role": cert.chat.role.name}


def run_issue_is(
    root: Path, store: KeyStore, *, dv: str | None = None, read_dg3: bool = True,
    read_dg4: bool = True, days: int = IS_DAYS, request: Path | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An IS certificate from a DV of this folder (default: the newest one with a key here)."""
    eac = EACFolder.open(root / "cvc")
    cert = eac.issue_is(store, dv=dv, read_dg3=read_dg3, read_dg4=read_dg4,
                        validity_days=days, effective_date=_start(now),
                        request=load_request(request) if request else None)  # fmt: skip
    return eac.summary(cert)


def _issue_ds(
    folder: PKIFolder,
    store: KeyStore,
    ca: CertificateAuthority,
    doc_types: Sequence[str],
    now: dt.datetime | None,
) -> dict[str, Any]:
    label = folder.next_label("ds")
    cert = ca.issue_document_signer(
        store.generate(label, folder.key_spec).public_key(),
        common_name=f"Document Signer {folder.config['country']} {label}",
        doc_types=doc_types,
        now=now,
    )
    folder.write_cert(label, cert)
    folder.config.setdefault("ds", []).append(label)
    return {"label": label, "serial": cert.serial_number}


def run_issue_ds(
    root: Path, store: KeyStore, *, doc_types: Sequence[str], now: dt.datetime | None = None
) -> dict[str, Any]:
    """A new Document Signer key and certificate."""
    folder = PKIFolder.open(root)
    result = _issue_ds(folder, store, folder.csca(store), doc_types, now)
    folder.save()
    return result


def run_link(
    root: Path, store: KeyStore, *, common_name: str | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """CSCA key rollover: new CSCA key, link certificate, new self-signed CSCA certificate."""
    folder = PKIFolder.open(root)
    old = folder.csca(store)
    label = folder.next_label("csca")
    link, new = old.issue_link(store.generate(label, folder.key_spec), common_name=common_name,
                               now=now)
    folder.write_cert(f"link-{folder.config['csca']}-{label}", link)
    folder.write_cert(label, new.certificate)
    folder.config["csca"] = label
    folder.config["csca_history"].append(label)
    folder.save()
    return {
        "csca": {"label": label, "serial": new.certificate.serial_number},
        "link": {"serial": link.serial_number},
    }


def run_revoke(root: Path, store: KeyStore, *, serial: int, reason: str) -> dict[str, Any]:
    folder = PKIFolder.open(root)
    record = folder.csca(store).revoke(serial, reason=reason)
    return {"serial": record.serial, "revocation_date": record.revocation_date,
            "reason": record.reason}


def run_crl(
    root: Path, store: KeyStore, *, next_update_days: int, now: dt.datetime | None = None
) -> dict[str, Any]:
    folder = PKIFolder.open(root)
    ca = folder.csca(store)
    cert_list = ca.issue_crl(next_update=dt.timedelta(days=next_update_days), now=now)
    number = int(cert_list.crl_number_value.native)
    path = root / "crl" / f"{folder.config['csca']}-{number}.crl"
    write_atomic(path, cert_list.dump())
    write_atomic(root / "crl" / "latest.pem", pem_crl(cert_list))
    return {"crl_number": number, "path": str(path),
            "revoked": len(cert_list["tbs_cert_list"]["revoked_certificates"] or [])}


def run_masterlist(
    root: Path,
    store: KeyStore,
    *,
    extra: Sequence[x509.Certificate] = (),
    out: Path | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Sign a master list of this PKI's CSCA and link certificates plus ``extra`` CSCAs."""
    folder = PKIFolder.open(root)
    ours = [folder.read_cert(n) for n in folder.config["csca_history"]]
    links = sorted((root / "certs").glob("link-*.pem"))
    ours += [folder.read_cert(p.name[: -len(".pem")]) for p in links]
    mls_label = str(folder.config["mls"])
    mls_cert = folder.read_cert(mls_label)
    issuer = next((c for c in ours if c.key_identifier == mls_cert.authority_key_identifier
                   and c.self_signed != "no"), None)
    data = build_master_list(
        [*ours, *extra],
        store.load(mls_label),
        mls_cert,
        issuer_certificate=issuer,
        signing_time=now,
    )
    path = out or root / "masterlist.der"
    write_atomic(path, data)
    return {"path": str(path), "certificates": len(ours) + len(extra), "size": len(data)}


def choose_document_signer(
    folder: PKIFolder, dump: Path, ds_label: str | None, now: dt.datetime
) -> str:
    """The Document Signer to sign ``dump``'s EF.SOD with at ``now``: ``ds_label``, or the
    newest one that may sign it. Each must be valid now (certificate and key usage period),
    not revoked, and allowed for the document code of DG1's MRZ; DocumentSignerRefused (exit
    1) says why none was."""
    dg1 = read_dump_folder(dump).get("DG1")
    if dg1 is None:
        raise PKIError(f"{dump} has no DG1: its document code chooses the Document Signer")
    return document_signer_for(folder, document_code(dg1), ds_label, now)


def document_signer_for(
    folder: PKIFolder, code: str, ds_label: str | None, now: dt.datetime
) -> str:
    """The Document Signer that may sign a document with MRZ document code ``code`` at
    ``now``: ``ds_label``, or the newest one that may (see :func:`choose_document_signer`)."""
    signers = [str(label) for label in folder.config.get("ds", [])]
    if not signers:
        raise PKIError("this PKI has no Document Signer; run `idkarta pki issue-ds`")
    if ds_label is not None and ds_label not in signers:
        raise PKIError(f"no Document Signer {ds_label!r} in this PKI ({', '.join(signers)})")
    revoked = {r.serial: r.reason for r in CAState.load(folder.state_path).revoked}
    refusals = []
    for label in [ds_label] if ds_label is not None else reversed(signers):
        reason = document_signer_refusal(folder.read_cert(label), code=code, now=now,
                                         revoked=revoked)  # fmt: skip
        if reason is None:
            return label
        refusals.append(f"{label} {reason}")
    raise DocumentSignerRefused(
        f"no Document Signer may sign document code {code!r} now: {'; '.join(refusals)}"
    )


def run_sign_sod(
    root: Path,
    store: KeyStore,
    dump: Path,
    *,
    ds_label: str | None = None,
    hash_algorithm: str = "sha256",
    lds_version: str | None = None,
    unicode_version: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Sign EF.SOD over the DG files of a dump folder with a Document Signer; write EF.SOD."""
    folder = PKIFolder.open(root)
    label = choose_document_signer(folder, dump, ds_label, now or dt.datetime.now(dt.UTC))
    versions = (lds_version, unicode_version) if lds_version and unicode_version else None
    if (lds_version is None) != (unicode_version is None):
        raise PKIError("--lds-version and --unicode-version go together")
    path = sign_dump_folder(dump, store.load(label), folder.read_cert(label), hash_algorithm,
                            signing_time=now, lds_version=versions)
    groups = sorted(SOD.decode(path.read_bytes()).data_group_hashes)
    return {"path": str(path), "ds": label, "data_groups": groups,
            "hash_algorithm": hash_algorithm}


@contextmanager
def open_pki_stores(
    root: Path,
    *,
    pin: Callable[[], str] | None = None,
    passphrase: Callable[[], bytes] | None = None,
    ask: Ask | None = None,
) -> Iterator[tuple[KeyStore, KeyStore]]:
    """The document PKI's and the EAC PKI's key stores of the PKI folder ``root``, on the
    backend its ``pki.json`` names (:func:`station.folders.keys.open_stores`)."""
    backend = PKIFolder.open(root).config.get("backend", {"type": "file"})
    with open_stores(root, backend, pin=pin, passphrase=passphrase, ask=ask) as stores:
        yield stores


def load_certificate_file(path: Path) -> x509.Certificate:
    """The X.509 certificate of a PEM or DER file, parsed in full; PKIError otherwise."""
    try:
        data = path.read_bytes()
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        cert = x509.Certificate.load(data)
        cert.native  # noqa: B018 - parse fully now
        return cert
    except (OSError, ValueError) as exc:
        raise PKIError(f"{path} is not a certificate: {exc}") from None


class PKIDocumentSigner:
    """The Center's Document Signer (:class:`station.center.sod.DocumentSigning`) over the PKI
    folder ``root``: each EF.SOD is signed by the newest DS that may sign the document code now
    (:func:`document_signer_for`), its key on the folder's PKCS#11 token or in its file key
    store. The store is opened, and each DS key loaded, at its first use (PIN or passphrase
    from IDKARTA_PIN / IDKARTA_PASSPHRASE, else ``ask``) and kept until :meth:`close`: the file
    store's scrypt runs once, not per card (≈ 1.5 s → 6 ms per EF.SOD); signing is serialised
    (one token session)."""

    def __init__(self, root: Path, *, ask: Ask | None = None) -> None:
        self.root = root
        self._ask = ask
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._store: KeyStore | None = None
        self._keys: dict[str, Signer] = {}  # label → key, loaded once (the file store's scrypt)

    def _key(self, label: str) -> Signer:
        if self._store is None:
            stack = ExitStack()
            try:
                store, _ = stack.enter_context(open_pki_stores(self.root, ask=self._ask))
            except BaseException:
                stack.close()
                raise
            self._stack, self._store = stack, store
        if label not in self._keys:
            self._keys[label] = self._store.load(label)
        return self._keys[label]

    def sign(
        self, hashes: Mapping[int, bytes], algorithm: str, *, document_code: str,
        now: dt.datetime,
    ) -> SignedSOD:  # fmt: skip
        """The EF.SOD over ``hashes`` signed at ``now`` by a DS that may sign ``document_code``."""
        with self._lock:
            folder = PKIFolder.open(self.root)
            label = document_signer_for(folder, document_code, None, now)
            cert = folder.read_cert(label)
            sod = sign_data_group_hashes(
                hashes, algorithm, self._key(label), cert, signing_time=now
            )
            return SignedSOD(sod, int(cert.serial_number))

    def close(self) -> None:
        """Close the key store (the token session)."""
        with self._lock:
            stack, self._stack, self._store = self._stack, None, None
            self._keys.clear()
            if stack is not None:
                stack.close()


# -- the point CA: TLS between the collection points and the Center ---------------------------

POINT_CA_DIR = "point-ca"
"""``point-ca/`` of a PKI folder: ``ca.pem``, ``state.json``, ``crl.pem`` (the latest CRL) and
``issued/<serial>.pem``; its key is in the PKI folder's key store (``pki.json`` names it)."""


def _point_ca(root: Path, store: KeyStore) -> PointCA:
    folder = PKIFolder.open(root)
    label = folder.config.get("point_ca")
    if not isinstance(label, str):
        raise PKIError(f"{root} has no point CA (run `idkarta pki point-ca init`)")
    base = root / POINT_CA_DIR
    try:
        _, _, der = pem.unarmor((base / "ca.pem").read_bytes())
        cert = x509.Certificate.load(der)
    except (OSError, ValueError) as exc:
        raise PKIError(f"the point CA certificate is unreadable: {exc}") from None
    return PointCA(cert, store.load(label), base / "state.json")


def run_point_ca_init(
    root: Path, store: KeyStore, *, key_spec: KeySpec, days: int = 3650,
    now: dt.datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Create the point CA in the PKI folder ``root`` and its first (empty) CRL."""
    folder = PKIFolder.open(root)
    if "point_ca" in folder.config:
        raise PKIError(f"{root} already has a point CA ({POINT_CA_DIR}/ca.pem)")
    label = folder.next_label("point-ca")
    ca = PointCA.create(store.generate(label, key_spec), root / POINT_CA_DIR / "state.json",
                        country=str(folder.config["country"]),
                        organization=folder.config.get("organization"), days=days,
                        now=now)  # fmt: skip
    write_atomic(root / POINT_CA_DIR / "ca.pem", pem_certificate(ca.certificate))
    folder.config["point_ca"] = label
    folder.save()
    crl_result = run_point_crl(root, store, now=now)
    return {"label": label, "serial": ca.certificate.serial_number, "key_type": str(key_spec),
            "ca": str(root / POINT_CA_DIR / "ca.pem"), "crl": crl_result["path"]}  # fmt: skip


def run_point_cert(
    root: Path, store: KeyStore, *, out: Path, point: str | None = None,
    hosts: Sequence[str] = (), key_spec: KeySpec | None = None, days: int = 825,
    now: dt.datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A new key and TLS certificate in ``out`` (``key.pem`` mode 0600, ``cert.pem``, and the
    point CA's ``ca.pem`` that checks the other side): a point's client certificate with
    ``point``, else the Center's server certificate for ``hosts``. Existing files are never
    overwritten."""
    ca = _point_ca(root, store)
    names = ("key.pem", "cert.pem", "ca.pem")
    taken = [n for n in names if (out / n).exists()]
    if taken:
        raise PKIError(f"{out / taken[0]} exists: give an empty --out folder")
    spec = key_spec or KeySpec.parse("ec-p256")
    key = generate_private_key(spec)
    if point is not None:
        cert = ca.issue_client(key.public_key(), point=point, days=days, now=now)
    else:
        cert = ca.issue_server(key.public_key(), hosts=hosts, days=days, now=now)
    from cryptography.hazmat.primitives import serialization

    write_atomic(root / POINT_CA_DIR / "issued" / f"{cert.serial_number}.pem",
                 pem_certificate(cert))  # fmt: skip
    write_atomic(out / "key.pem", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), mode=0o600)  # fmt: skip
    write_atomic(out / "cert.pem", pem_certificate(cert))
    write_atomic(out / "ca.pem", pem_certificate(ca.certificate))
    return {"serial": cert.serial_number, "subject": cert.subject.human_friendly,
            "point": point, "hosts": list(hosts), "dir": str(out)}  # fmt: skip


def run_point_revoke(
    root: Path, store: KeyStore, *, serial: int, reason: str = "unspecified"
) -> dict[str, Any]:
    """Revoke a point's (or the Center's) TLS certificate: on the next point CA CRL."""
    record = _point_ca(root, store).revoke(serial, reason=reason)
    return {"serial": record.serial, "revocation_date": record.revocation_date,
            "reason": record.reason}  # fmt: skip


def run_point_crl(
    root: Path, store: KeyStore, *, next_update_days: int = 7, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Issue the point CA's CRL to ``point-ca/crl.pem`` (``idkarta center serve --crl``)."""
    ca = _point_ca(root, store)
    cert_list = ca.issue_crl(next_update=dt.timedelta(days=next_update_days), now=now)
    path = root / POINT_CA_DIR / "crl.pem"
    write_atomic(path, pem_crl(cert_list))
    return {"crl_number": int(cert_list.crl_number_value.native), "path": str(path),
            "revoked": len(cert_list["tbs_cert_list"]["revoked_certificates"] or [])}
