"""``idkarta esign …``: the e-signature CA (init, issue, revoke, crl, serve).

The CA folder (``--dir``, default ``esign``) holds ``esign.json`` (service base URL, key
backend and labels), ``esign.sqlite`` (the register: CA certificate, issued certificates,
revocations, outbox), ``tsa.pem`` and, with the file key store, ``keys/``. Keys live on a PKCS#11
token (``--pkcs11-module``/``--token`` at init) or in the encrypted file key store; the PIN or
passphrase comes from ``IDKARTA_PIN`` / ``IDKARTA_PASSPHRASE`` or a hidden prompt, never from an
argument.

The folder and the work on it are :mod:`station.folders.esign`; these commands parse, call it
and print.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from pki.ca import pem_crl
from pki.esign import HolderRecord, RevocationCause
from pki.filestore import write_atomic
from pki.keys import KeySpec
from station.cli.common import echo_json, fail, handle_errors, prompt_secret, spell_choices
from station.folders.esign import EsignFolder, run_init, run_issue

__all__ = ["esign"]

_REASONS = {
    "key-compromise": RevocationCause.LOST_CARD,
    "superseded": RevocationCause.REPLACED_CARD,
}


_dir_option = click.option(
    "--dir", "ca_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("esign"),
    show_default=True, help="E-signature CA folder.",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@click.group(name="esign")
def esign() -> None:
    """The e-signature CA of natural persons (certificate written to the ID card)."""


@esign.command("init")
@_dir_option
@click.option("--base-url", default="http://127.0.0.1:8080", show_default=True,
              help="Where `esign serve` is reachable (CRL, OCSP, CA certificate URLs).")
@click.option("--key-type", default="ec-p256", show_default=True)
@click.option("--common-name", default="idkarta e-Signature CA", show_default=True)
@click.option("--pkcs11-module", type=click.Path(dir_okay=False), default=None)
@click.option("--token", "token_label", default=None, help="Token label (with --pkcs11-module).")
@_json_option
@handle_errors
def init_cmd(
    ca_dir: Path, base_url: str, key_type: str, common_name: str, pkcs11_module: str | None,
    token_label: str | None, as_json: bool,
) -> None:
    """Create the e-signature CA (key on a token or in the file key store) and its TSA."""
    if (pkcs11_module is None) != (token_label is None):
        fail("--pkcs11-module and --token go together")
    backend = (
        {"type": "pkcs11", "module": pkcs11_module, "token": token_label}
        if pkcs11_module and token_label
        else {"type": "file"}
    )
    result = run_init(ca_dir, backend, base_url=base_url, key_spec=KeySpec.parse(key_type),
                      common_name=common_name, ask=prompt_secret)
    echo_json(result) if as_json else click.echo(f"e-signature CA created: {result['ca']}")


@esign.command("issue")
@click.argument("request", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_dir_option
@click.option("--pinfl", required=True)
@click.option("--surname", required=True)
@click.option("--given-name", required=True)
@click.option("--card-number", required=True)
@click.option("--card-expiry", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--validity-days", default=730, show_default=True, type=click.IntRange(1, 3650))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@_json_option
@handle_errors
def issue_cmd(
    request: Path, ca_dir: Path, pinfl: str, surname: str, given_name: str, card_number: str,
    card_expiry: dt.datetime, validity_days: int, out: Path | None, as_json: bool,
) -> None:
    """Issue a holder certificate from REQUEST (PKCS#10) checked against the given record."""
    record = HolderRecord(pinfl, surname, given_name, card_number, card_expiry.date())
    folder = EsignFolder(ca_dir)
    with folder.store(ask=prompt_secret) as store:
        result = run_issue(ca_dir, store, request.read_bytes(), record,
                           validity_days=validity_days)
    if out is not None:
        write_atomic(out, result["pem"].encode())
    if as_json:
        echo_json(result)
    else:
        click.echo(f"issued serial {result['serial']} to {result['subject']}")


@esign.command("revoke")
@click.argument("serial")
@_dir_option
@click.option("--reason", type=click.Choice(sorted(_REASONS)), required=True)
@handle_errors
def revoke_cmd(serial: str, ca_dir: Path, reason: str) -> None:
    """Revoke SERIAL (hex): key-compromise (lost card) or superseded (replaced card)."""
    try:
        number = int(serial, 16)
    except ValueError:
        fail(f"serial must be hexadecimal, got {serial!r}")
    folder = EsignFolder(ca_dir)
    with folder.store(ask=prompt_secret) as store:
        folder.ca(store).revoke(number, _REASONS[reason])
    click.echo(f"revoked {serial} ({reason})")


@esign.command("crl")
@_dir_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@handle_errors
def crl_cmd(ca_dir: Path, out: Path | None) -> None:
    """Issue a CRL (PEM to --out or standard output)."""
    folder = EsignFolder(ca_dir)
    with folder.store(ask=prompt_secret) as store:
        data = pem_crl(folder.ca(store).issue_crl())
    if out is not None:
        write_atomic(out, data)
    else:
        click.echo(data.decode(), nl=False)


@esign.command("serve")
@_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@handle_errors
def serve_cmd(ca_dir: Path, host: str, port: int) -> None:
    """Serve CRL, OCSP and TSA over HTTP until interrupted."""
    from station.services import ServiceServer

    folder = EsignFolder(ca_dir)
    with folder.store(ask=prompt_secret) as store:
        server = ServiceServer(folder.ca(store), tsa=folder.tsa(store), host=host, port=port)
        click.echo(f"serving on {server.url} (CRL /crl/esign.crl, OCSP /ocsp, TSA /tsa)",
                   err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


spell_choices(esign)  # one spelling of option values, imported alone too (as through `idkarta`)
