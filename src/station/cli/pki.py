"""`idkarta pki …`: the document PKI (CSCA, Document Signers, master lists, CRLs) and the EAC PKI
(CVCA, Document Verifiers, Inspection Systems; BSI TR-03110-3).

A PKI folder holds ``pki.json`` (settings and key labels, no secret), ``ca-state.json`` (serials,
issued and revoked certificates), ``certs/*.pem``, ``crl/*.crl``, ``cvc/`` (``state.json`` and
the CV certificates ``<CHR>.cvcert``) and, for the file key store, ``keys/*.key.pem`` and
``cvc/keys/*.key.pem``. Keys live on a PKCS#11 token (``--pkcs11-module`` and ``--token`` at init)
or in the encrypted file key store. The PIN comes from ``IDKARTA_PIN`` or a prompt, the
passphrase from ``IDKARTA_PASSPHRASE`` or a prompt — never from an argument.

Each command's body is a ``run_*`` function that takes an open :class:`~pki.keys.KeyStore`, so
tests call it directly (STYLE.md §9).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from asn1crypto import pem, x509

from idcard.lds.sod import SOD
from idcard.verify.passive import read_dump_folder
from pki.ca import REVOCATION_REASONS, CAState, CertificateAuthority, pem_certificate, pem_crl
from pki.cvc_show import describe_cvc, describe_text
from pki.cvca import (
    CVCA_DAYS,
    DV_DAYS,
    IS_DAYS,
    EACFolder,
    check_cv_key_spec,
    load_request,
)
from pki.errors import IssuanceError, PKIError
from pki.filestore import FileKeyStore, write_atomic
from pki.keys import KeySpec, KeyStore
from pki.masterlist import build_master_list
from pki.sod import (
    DocumentSignerRefused,
    document_code,
    document_signer_refusal,
    sign_dump_folder,
)
from station.cli.common import EXIT_FAILED, echo_json, fail, handle_errors, spell_choices
from station.cli.staging import StoresOpener, build_staged

__all__ = [
    "PKIFolder",
    "choose_document_signer",
    "load_certificate_file",
    "open_store",
    "open_stores",
    "pki",
    "run_crl",
    "run_cvca_link",
    "run_init",
    "run_init_staged",
    "run_issue_ds",
    "run_issue_dv",
    "run_issue_is",
    "run_link",
    "run_masterlist",
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
    """:func:`run_init`, all or nothing (see :func:`station.cli.staging.build_staged`): built
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
    signers = [str(label) for label in folder.config.get("ds", [])]
    if not signers:
        raise PKIError("this PKI has no Document Signer; run `idkarta pki issue-ds`")
    if ds_label is not None and ds_label not in signers:
        raise PKIError(f"no Document Signer {ds_label!r} in this PKI ({', '.join(signers)})")
    dg1 = read_dump_folder(dump).get("DG1")
    if dg1 is None:
        raise PKIError(f"{dump} has no DG1: its document code chooses the Document Signer")
    code = document_code(dg1)
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


# -- key store opening ------------------------------------------------------------------------


def _secret(env: str, prompt: str, confirm: bool) -> str:
    value = os.environ.get(env)
    if value:
        return value
    entered: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return entered


def _passphrase_once(new: bool) -> Callable[[], bytes]:
    cache: list[bytes] = []

    def passphrase() -> bytes:
        if not cache:
            cache.append(
                _secret("IDKARTA_PASSPHRASE", "Key store passphrase", new).encode("utf-8")
            )
        return cache[0]

    return passphrase


def _pin_once() -> Callable[[], str]:
    cache: list[str] = []

    def pin() -> str:
        if not cache:
            cache.append(_secret("IDKARTA_PIN", "Token user PIN", False))
        return cache[0]

    return pin


@contextmanager
def _token_session(
    backend: dict[str, str], pin: Callable[[], str] | None = None
) -> Iterator[KeyStore]:
    from pki.hsm import PKCS11Module

    token = PKCS11Module(backend["module"]).token(backend["token"])
    with token.session(pin or _pin_once()) as session:
        yield session


@contextmanager
def open_store(
    root: Path, backend: dict[str, str], *, new: bool = False
) -> Iterator[KeyStore]:
    """Open the PKI's key store; the PIN/passphrase is asked once, when first needed."""
    with open_stores(root, backend, new=new) as (store, _eac_store):
        yield store


@contextmanager
def open_stores(
    root: Path,
    backend: dict[str, str],
    *,
    new: bool = False,
    pin: Callable[[], str] | None = None,
    passphrase: Callable[[], bytes] | None = None,
) -> Iterator[tuple[KeyStore, KeyStore]]:
    """The document PKI's and the EAC PKI's key stores: the same token session, or two file
    stores (``keys/`` and ``cvc/keys/``) sharing one passphrase, asked once (or given)."""
    if backend["type"] == "pkcs11":
        with _token_session(backend, pin) as session:
            yield session, session
        return
    secret = passphrase or _passphrase_once(new)
    yield FileKeyStore(root / "keys", secret), FileKeyStore(root / "cvc" / "keys", secret)


def _emit(result: dict[str, Any], as_json: bool, summary: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        echo_json(result)
    else:
        click.echo(summary(result))


_dir_option = click.option(
    "--dir", "pki_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("pki"),
    show_default=True, help="PKI folder.",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@click.group(name="pki")
def pki() -> None:
    """Document PKI: CSCA, Document Signers, master lists and CRLs (ICAO 9303-12)."""


@pki.command("init")
@_dir_option
@click.option("--country", default="UZ", show_default=True, help="ISO 3166-1 alpha-2 code.")
@click.option("--organization", default=None, help="Organization (O) of the subject names.")
@click.option("--pkcs11-module", type=click.Path(dir_okay=False), default=None,
              help="PKCS#11 library; keys are generated on its token.")
@click.option("--token", "token_label", default=None, help="Token label (with --pkcs11-module).")
@click.option("--key-type", type=click.Choice(KEY_TYPES, case_sensitive=False),
              default="ec-brainpoolP256r1", show_default=True)
@click.option("--crl-url", "crl_urls", multiple=True, help="CRL distribution point (repeatable).")
@click.option("--doc-type", "doc_types", multiple=True, default=DEFAULT_DOC_TYPES,
              show_default=True, help="Document types of the first Document Signer (repeatable).")
@click.option("--cvc-key-type", type=click.Choice(CVC_KEY_TYPES, case_sensitive=False),
              default=None, help="Key type of the CVCA, DV and IS [default: --key-type when "
              "CV certificates support it, else ec-brainpoolP256r1].")
@_json_option
@handle_errors
def init_command(
    pki_dir: Path, country: str, organization: str | None, pkcs11_module: str | None,
    token_label: str | None, key_type: str, crl_urls: tuple[str, ...],
    doc_types: tuple[str, ...], cvc_key_type: str | None, as_json: bool,
) -> None:
    """Create both hierarchies: CSCA, Document Signer, Master List Signer; CVCA, DV, IS."""
    if (pkcs11_module is None) != (token_label is None):
        raise click.UsageError("--pkcs11-module and --token go together")
    backend = (
        {"type": "pkcs11", "module": str(Path(pkcs11_module).resolve()), "token": token_label}
        if pkcs11_module is not None and token_label is not None
        else {"type": "file"}
    )
    spec = KeySpec.parse(key_type)
    cvc_spec = KeySpec.parse(cvc_key_type) if cvc_key_type else None
    pin = _pin_once()  # asked once, also for destroying the keys of a failed run
    passphrase = _passphrase_once(True)
    result = run_init_staged(
        pki_dir, backend,
        lambda at: open_stores(at, backend, new=True, pin=pin, passphrase=passphrase),
        country=country, organization=organization, key_spec=spec, crl_urls=crl_urls,
        doc_types=doc_types, cvc_key_spec=cvc_spec,
    )  # fmt: skip
    _emit(result, as_json, lambda r: (
        f"PKI created in {r['dir']} ({r['backend']}, {r['key_type']}): "
        f"CSCA serial {r['csca']['serial']}, DS {r['ds']['label']}, MLS {r['mls']['label']}; "
        f"EAC ({r['cvc']['key_type']}): CVCA {r['cvc']['cvca']['chr']}, "
        f"DV {r['cvc']['dv']['chr']}, IS {r['cvc']['is']['chr']}"))


def _run(
    pki_dir: Path, body: Callable[[KeyStore], dict[str, Any]], *, eac: bool = False
) -> dict[str, Any]:
    """``body`` with the document PKI's key store, or with ``eac`` the EAC PKI's."""
    folder = PKIFolder.open(pki_dir)
    backend = folder.config.get("backend", {"type": "file"})
    with open_stores(pki_dir, backend) as (store, eac_store):
        return body(eac_store if eac else store)


@pki.command("issue-ds")
@_dir_option
@click.option("--doc-type", "doc_types", multiple=True, default=DEFAULT_DOC_TYPES,
              show_default=True,
              help="Document type the DS may sign (ID, P, …; repeatable).")
@_json_option
@handle_errors
def issue_ds_command(pki_dir: Path, doc_types: tuple[str, ...], as_json: bool) -> None:
    """Issue a new Document Signer key and certificate."""
    result = _run(pki_dir, lambda s: run_issue_ds(pki_dir, s, doc_types=doc_types))
    _emit(result, as_json, lambda r: f"DS {r['label']} issued, serial {r['serial']}")


@pki.command("link")
@_dir_option
@click.option("--common-name", default=None, help="New CSCA common name (adds nameChange).")
@_json_option
@handle_errors
def link_command(pki_dir: Path, common_name: str | None, as_json: bool) -> None:
    """Roll the CSCA key over: new key, link certificate, new CSCA certificate."""
    result = _run(pki_dir, lambda s: run_link(pki_dir, s, common_name=common_name))
    _emit(result, as_json, lambda r: (
        f"new CSCA {r['csca']['label']} (serial {r['csca']['serial']}), "
        f"link serial {r['link']['serial']}"))


@pki.command("revoke")
@_dir_option
@click.argument("serial", type=int)
@click.option("--reason", default="unspecified", show_default=True,
              type=click.Choice(REVOCATION_REASONS))
@_json_option
@handle_errors
def revoke_command(pki_dir: Path, serial: int, reason: str, as_json: bool) -> None:
    """Revoke a certificate issued by the current CSCA (listed on the next CRL)."""
    result = _run(pki_dir, lambda s: run_revoke(pki_dir, s, serial=serial, reason=reason))
    result["reason"] = str(result["reason"]).replace("_", "-")  # as --reason spells it
    _emit(result, as_json, lambda r: f"serial {r['serial']} revoked ({r['reason']})")


@pki.command("crl")
@_dir_option
@click.option("--next-update-days", type=click.IntRange(1, 366), default=90, show_default=True)
@_json_option
@handle_errors
def crl_command(pki_dir: Path, next_update_days: int, as_json: bool) -> None:
    """Issue a CRL of the current CSCA (9303-12 §7.1.4)."""
    result = _run(pki_dir, lambda s: run_crl(pki_dir, s, next_update_days=next_update_days))
    _emit(result, as_json, lambda r: (
        f"CRL {r['crl_number']} with {r['revoked']} "
        f"{'entry' if r['revoked'] == 1 else 'entries'} written to {r['path']}"))


@pki.command("masterlist")
@_dir_option
@click.option("--add", "extra_files", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Another CSCA certificate (PEM or DER) to list (repeatable).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default PKI_DIR/masterlist.der).")
@_json_option
@handle_errors
def masterlist_command(
    pki_dir: Path, extra_files: tuple[Path, ...], out: Path | None, as_json: bool
) -> None:
    """Sign a CSCA master list (9303-12 §8) with the Master List Signer."""
    extra = [load_certificate_file(p) for p in extra_files]
    result = _run(pki_dir, lambda s: run_masterlist(pki_dir, s, extra=extra, out=out))
    _emit(result, as_json, lambda r: (
        f"master list of {r['certificates']} certificate{'' if r['certificates'] == 1 else 's'} "
        f"written to {r['path']}"))


@pki.command("sign-sod")
@_dir_option
@click.argument("dump_folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--ds", "ds_label", default=None,
              help="Document Signer label [default: the newest one valid now, not revoked and "
              "allowed for the MRZ's document code].")
@click.option("--hash", "hash_algorithm", default="sha256", show_default=True,
              type=click.Choice(["sha1", "sha224", "sha256", "sha384", "sha512"]))
@click.option("--lds-version", default=None, help="LDS version for LDSSecurityObject v1 (0108).")
@click.option("--unicode-version", default=None, help="Unicode version for v1 (040000).")
@_json_option
@handle_errors
def sign_sod_command(
    pki_dir: Path, dump_folder: Path, ds_label: str | None, hash_algorithm: str,
    lds_version: str | None, unicode_version: str | None, as_json: bool,
) -> None:
    """Sign EF.SOD over the data groups of DUMP_FOLDER; write DUMP_FOLDER/EF.SOD.

    Exit 1 when no Document Signer may sign it (revoked, expired, not yet valid, or not
    allowed for the document code of DG1's MRZ)."""
    try:
        result = _run(pki_dir, lambda s: run_sign_sod(
            pki_dir, s, dump_folder, ds_label=ds_label, hash_algorithm=hash_algorithm,
            lds_version=lds_version, unicode_version=unicode_version))
    except DocumentSignerRefused as exc:
        fail(str(exc), EXIT_FAILED)
    _emit(result, as_json, lambda r: (
        f"EF.SOD over DG{', DG'.join(map(str, r['data_groups']))} signed by {r['ds']}: "
        f"{r['path']}"))


# -- EAC commands ------------------------------------------------------------------------------


def _parse_chat(ctx: click.Context, param: click.Parameter, value: str) -> tuple[bool, bool]:
    items = {v.strip().lower() for v in value.split(",") if v.strip()}
    if items == {"none"}:
        return False, False
    unknown = items - {"dg3", "dg4"}
    if unknown or not items:
        raise click.BadParameter(f"use dg3, dg4, dg3,dg4 or none (not {value!r})")
    return "dg3" in items, "dg4" in items


_chat_option = click.option(
    "--chat", "rights", default="dg3,dg4", show_default=True, callback=_parse_chat,
    help="Read rights in the CHAT: dg3 (fingerprints), dg4 (iris), both, or none.",
)
_request_option = click.option(
    "--request", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
    help="Certify the key of this CV certificate request instead of a new key in the store.",
)


def _cvc_line(what: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: (f"{what} {r['chr']} issued by {r['car']}, valid {r['effective_date']} to "
                      f"{r['expiration_date']}: {r['path']}")  # fmt: skip


@pki.command("cvca-link")
@_dir_option
@click.option("--days", type=click.IntRange(1, 36500), default=CVCA_DAYS, show_default=True,
              help="Validity of the new CVCA certificate.")
@_json_option
@handle_errors
def cvca_link_command(pki_dir: Path, days: int, as_json: bool) -> None:
    """Roll the CVCA key over: new key, link certificate, new CVCA certificate."""
    result = _run(pki_dir, lambda s: run_cvca_link(pki_dir, s, days=days), eac=True)
    _emit(result, as_json, lambda r: (
        f"new CVCA {r['cvca']['chr']}; link certificate {r['link']['path']}"))


@pki.command("issue-dv")
@_dir_option
@click.option("--foreign", is_flag=True, help="A non-official / foreign DV (role 01).")
@_chat_option
@click.option("--days", type=click.IntRange(1, 3650), default=DV_DAYS, show_default=True)
@_request_option
@_json_option
@handle_errors
def issue_dv_command(pki_dir: Path, foreign: bool, rights: tuple[bool, bool], days: int,
                     request: Path | None, as_json: bool) -> None:  # fmt: skip
    """Issue a Document Verifier certificate from the current CVCA."""
    result = _run(pki_dir, lambda s: run_issue_dv(
        pki_dir, s, foreign=foreign, read_dg3=rights[0], read_dg4=rights[1], days=days,
        request=request), eac=True)  # fmt: skip
    _emit(result, as_json, _cvc_line("DV"))


@pki.command("issue-is")
@_dir_option
@click.option("--dv", "dv_chr", default=None, help="Issuing DV's CHR (default: the newest).")
@_chat_option
@click.option("--days", type=click.IntRange(1, 3650), default=IS_DAYS, show_default=True)
@_request_option
@_json_option
@handle_errors
def issue_is_command(pki_dir: Path, dv_chr: str | None, rights: tuple[bool, bool], days: int,
                     request: Path | None, as_json: bool) -> None:  # fmt: skip
    """Issue an Inspection System certificate from a DV of this PKI."""
    result = _run(pki_dir, lambda s: run_issue_is(
        pki_dir, s, dv=dv_chr, read_dg3=rights[0], read_dg4=rights[1], days=days,
        request=request), eac=True)  # fmt: skip
    _emit(result, as_json, _cvc_line("IS"))


@pki.command("cvc-show")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_json_option
@handle_errors
def cvc_show_command(file: Path, as_json: bool) -> None:
    """Print a CV certificate or certificate request (TR-03110-3 App. C) readably."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise PKIError(f"cannot read {file}: {exc.strerror}") from None
    _emit(describe_cvc(data), as_json, describe_text)


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


spell_choices(pki)  # one spelling of option values, imported alone too (as through `idkarta`)
