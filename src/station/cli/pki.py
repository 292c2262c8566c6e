"""`idkarta pki …`: the document PKI (CSCA, Document Signers, master lists, CRLs) and the EAC PKI
(CVCA, Document Verifiers, Inspection Systems; BSI TR-03110-3).

The folder and the work on it are :mod:`station.folders.pki`; these commands parse, call its
``run_*`` functions and print. Keys live on a PKCS#11 token (``--pkcs11-module`` and ``--token``
at init) or in the encrypted file key store. The PIN comes from ``IDKARTA_PIN`` or a prompt, the
passphrase from ``IDKARTA_PASSPHRASE`` or a prompt — never from an argument.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pki.ca import REVOCATION_REASONS
from pki.cvc_show import describe_cvc, describe_text
from pki.cvca import CVCA_DAYS, DV_DAYS, IS_DAYS
from pki.errors import PKIError
from pki.keys import KeySpec, KeyStore
from pki.sod import DocumentSignerRefused
from station.cli.common import (
    EXIT_FAILED,
    echo_json,
    fail,
    handle_errors,
    prompt_secret,
    spell_choices,
)
from station.cli.point_ca import point_ca
from station.folders.keys import open_stores, passphrase_once, pin_once
from station.folders.pki import (
    CVC_KEY_TYPES,
    DEFAULT_DOC_TYPES,
    KEY_TYPES,
    load_certificate_file,
    open_pki_stores,
    run_crl,
    run_cvca_link,
    run_init_staged,
    run_issue_ds,
    run_issue_dv,
    run_issue_is,
    run_link,
    run_masterlist,
    run_revoke,
    run_sign_sod,
)

__all__ = ["pki"]


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
    pin = pin_once(prompt_secret)  # asked once, also for destroying the keys of a failed run
    passphrase = passphrase_once(True, prompt_secret)
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
    with open_pki_stores(pki_dir, ask=prompt_secret) as (store, eac_store):
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


pki.add_command(point_ca)
spell_choices(pki)  # one spelling of option values, imported alone too (as through `idkarta`)
