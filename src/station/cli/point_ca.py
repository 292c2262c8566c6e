"""`idkarta pki point-ca …`: the TLS PKI between the collection points and the Center.

One self-signed point CA in the PKI folder (its key in the folder's key store) certifies each
point's TLS client certificate (subject CN = the point's code) and the Center's server
certificate, and publishes their CRL (``point-ca/crl.pem``) for ``idkarta center serve --crl``.
The work is :mod:`station.folders.pki`'s ``run_point_*``.
"""

from __future__ import annotations

from pathlib import Path

import click

from pki.ca import REVOCATION_REASONS
from pki.keys import KeySpec
from station.cli.common import echo_json, handle_errors
from station.folders.pki import (
    open_pki_stores,
    run_point_ca_init,
    run_point_cert,
    run_point_crl,
    run_point_revoke,
)

__all__ = ["point_ca"]

TLS_KEY_TYPES = ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072")
"""Key types every TLS stack takes (Brainpool curves are not among TLS 1.3's defaults)."""

_dir = click.option("--dir", "pki_dir", type=click.Path(file_okay=False, path_type=Path),
                    default=Path("pki"), show_default=True, help="PKI folder.")  # fmt: skip
_json = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
_key_type = click.option("--key-type", type=click.Choice(TLS_KEY_TYPES, case_sensitive=False),
                         default="ec-p256", show_default=True)  # fmt: skip
_days = click.option("--days", type=click.IntRange(1, 3650), default=825, show_default=True,
                     help="Validity of the certificate.")  # fmt: skip


def _show(result: dict[str, object], as_json: bool, line: str) -> None:
    if as_json:
        echo_json(result)
    else:
        click.echo(line)


@click.group(name="point-ca")
def point_ca() -> None:
    """TLS between points and the Center: point CA, client and server certificates, CRL."""


@point_ca.command("init")
@_dir
@_key_type
@click.option("--days", type=click.IntRange(1, 7300), default=3650, show_default=True,
              help="Validity of the point CA certificate.")  # fmt: skip
@_json
@handle_errors
def init_command(pki_dir: Path, key_type: str, days: int, as_json: bool) -> None:
    """Create the point CA in the PKI folder and its first (empty) CRL."""
    from station.cli.common import prompt_secret

    with open_pki_stores(pki_dir, ask=prompt_secret) as (store, _):
        r = run_point_ca_init(pki_dir, store, key_spec=KeySpec.parse(key_type), days=days)
    _show(r, as_json, f"point CA {r['label']} (serial {r['serial']}, {r['key_type']}): "
                      f"{r['ca']}; CRL {r['crl']}")  # fmt: skip


@point_ca.command("issue")
@_dir
@click.option("--point", "point", metavar="CODE", default=None,
              help="A point's client certificate naming its code.")  # fmt: skip
@click.option("--host", "hosts", multiple=True, metavar="NAME",
              help="The Center's server certificate for this DNS name or IP address "
                   "(repeatable).")  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for key.pem, cert.pem and ca.pem [default: tls-CODE or "
                   "tls-center].")  # fmt: skip
@_key_type
@_days
@_json
@handle_errors
def issue_command(pki_dir: Path, point: str | None, hosts: tuple[str, ...], out: Path | None,
                  key_type: str, days: int, as_json: bool) -> None:  # fmt: skip
    """Issue a point's client certificate (--point) or the Center's server certificate
    (--host): a new key (key.pem, mode 0600), the certificate and the point CA's ca.pem."""
    from station.cli.common import prompt_secret
    from station.errors import UsageError

    if (point is None) == (not hosts):
        raise UsageError("give either --point CODE or --host NAME (one or more)")
    target = out or Path(f"tls-{point or 'center'}")
    with open_pki_stores(pki_dir, ask=prompt_secret) as (store, _):
        r = run_point_cert(pki_dir, store, out=target, point=point, hosts=hosts,
                           key_spec=KeySpec.parse(key_type), days=days)  # fmt: skip
    _show(r, as_json, f"{r['subject']} (serial {r['serial']}): {target}/cert.pem, key.pem, "
                      "ca.pem")  # fmt: skip


@point_ca.command("revoke")
@_dir
@click.argument("serial", type=int)
@click.option("--reason", default="unspecified", show_default=True,
              type=click.Choice(REVOCATION_REASONS))  # fmt: skip
@_json
@handle_errors
def revoke_command(pki_dir: Path, serial: int, reason: str, as_json: bool) -> None:
    """Revoke a TLS certificate of the point CA (listed on the next point-ca crl)."""
    from station.cli.common import prompt_secret

    with open_pki_stores(pki_dir, ask=prompt_secret) as (store, _):
        r = run_point_revoke(pki_dir, store, serial=serial, reason=reason.replace("-", "_"))
    r["reason"] = str(r["reason"]).replace("_", "-")
    _show(r, as_json, f"serial {r['serial']} revoked ({r['reason']})")


@point_ca.command("crl")
@_dir
@click.option("--next-update-days", type=click.IntRange(1, 366), default=7, show_default=True)
@_json
@handle_errors
def crl_command(pki_dir: Path, next_update_days: int, as_json: bool) -> None:
    """Issue the point CA's CRL to PKI_DIR/point-ca/crl.pem (a served Center reads it anew)."""
    from station.cli.common import prompt_secret

    with open_pki_stores(pki_dir, ask=prompt_secret) as (store, _):
        r = run_point_crl(pki_dir, store, next_update_days=next_update_days)
    _show(r, as_json, f"point CA CRL {r['crl_number']} with {r['revoked']} revoked: {r['path']}")
