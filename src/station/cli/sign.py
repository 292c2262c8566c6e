"""``idkarta sign`` (PAdES B-B / B-T / B-LT with a key on a PKCS#11 token or on the ID card) and
``idkarta validate``.

With ``--card`` the key is the card's e-signature key (``--image`` a virtual chip image, saved
back afterwards so its PIN counters persist, or ``--reader`` a PC/SC reader); the certificate and
the CA certificate are read from the card unless ``--cert`` / ``--chain`` are given. The PIN
(token or card) comes from ``IDKARTA_PIN`` or a hidden prompt, never from an argument; ``--field``
signs a given field (a second signature is an incremental update). ``validate`` reports integrity,
signature, trust and revocation apart and exits 0 only when every signature passed each of them
(revocation good, or waived with ``--waive-revocation``), 1 otherwise, 2 when the input is
unusable (STYLE.md §9).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from asn1crypto import crl, pem, x509

from idcard.transport import Transport
from pki.errors import PKIError
from pki.keys import Signer
from station.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    echo_json,
    fail,
    handle_errors,
    prompt_optional,
    spell_choices,
)

if TYPE_CHECKING:  # pki.pdf loads pyHanko: imported by the commands that run it
    from pki.pdf import PAdESLevel, SignatureReport

__all__ = [
    "LEVELS",
    "format_report",
    "read_certificates",
    "read_crls",
    "run_sign",
    "run_sign_card",
    "run_validate",
    "sign",
    "validate",
]


LEVELS = ("B-B", "B-T", "B-LT")
"""The values of :class:`pki.pdf.PAdESLevel` (``--level``), without importing pyHanko."""


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Certificates from a PEM/DER file, or every ``*.pem``/``*.crt``/``*.der`` of a folder."""
    files = (
        sorted(p for p in path.iterdir() if p.suffix.lower() in (".pem", ".crt", ".der", ".cer"))
        if path.is_dir()
        else [path]
    )
    certs = []
    for f in files:
        try:
            data = f.read_bytes()
            blobs = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(
                data) else [data]
            for der in blobs:
                cert = x509.Certificate.load(der)
                cert.native  # noqa: B018 - parse fully
                certs.append(cert)
        except (OSError, ValueError) as exc:
            raise PKIError(f"{f} is not a certificate: {exc}") from None
    if not certs:
        raise PKIError(f"no certificate in {path}")
    return certs


def run_sign(
    data: bytes,
    key: Signer,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    *,
    level: PAdESLevel,
    tsa_url: str | None,
    field: str | None = None,
) -> bytes:
    """Sign ``data`` with ``key`` into signature field ``field`` (default: the first free
    ``SignatureN``); B-LT fetches CRL/OCSP from the URLs in the certificate."""
    from pki.pdf import HTTPTimeStamper, PdfSigner, sign_pdf

    timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None
    return sign_pdf(
        data,
        PdfSigner(key, certificate, chain),
        level=level,
        timestamper=timestamper,
        trust_roots=list(chain),
        field_name=field,
    )


def run_sign_card(
    data: bytes,
    transport: Transport,
    pin: Callable[[], str],
    *,
    certificate: x509.Certificate | None,
    chain: Sequence[x509.Certificate],
    level: PAdESLevel,
    tsa_url: str | None,
    field: str | None = None,
) -> bytes:
    """Sign ``data`` with the card's e-signature key on ``transport`` (PIN from ``pin``); the
    certificate and, without ``chain``, the CA certificate come from the card's files."""
    from idcard.esign import FID_CA_CERTIFICATE, FID_CERTIFICATE, ESignCard
    from pki.card_signer import CardSigner

    card = ESignCard(transport)
    card.select()
    if certificate is None:
        der = card.read_file(FID_CERTIFICATE)
        if not der:
            raise PKIError("the card holds no e-signature certificate (not enrolled)")
        certificate = _load_certificate(der, "the card's certificate")
    if not chain:
        ca = card.read_file(FID_CA_CERTIFICATE)
        chain = [_load_certificate(ca, "the card's CA certificate")] if ca else []
    return run_sign(data, CardSigner(card, pin), certificate, chain, level=level,
                    tsa_url=tsa_url, field=field)  # fmt: skip


def _load_certificate(der: bytes, what: str) -> x509.Certificate:
    try:
        cert = x509.Certificate.load(der)
        cert.native  # noqa: B018 - parse fully
    except ValueError as exc:
        raise PKIError(f"{what} is not a certificate: {exc}") from None
    return cert


def _pin(prompt: str) -> Callable[[], str]:
    """The PIN from ``IDKARTA_PIN`` or a hidden prompt; :class:`PKIError` naming both ways when
    neither gives one (no terminal, standard input closed, or an empty answer)."""

    def ask() -> str:
        value = os.environ.get("IDKARTA_PIN") or prompt_optional(prompt)
        if not value:
            raise PKIError(f"no PIN: set IDKARTA_PIN or enter the {prompt.lower()} at the "
                           "prompt (standard input gave none)")  # fmt: skip
        return value

    return ask


def _sign_with_card(
    data: bytes, image: Path | None, reader: str | None, **kw: Any
) -> bytes:
    pin = _pin("Card PIN")
    if image is not None:
        from idcard.chip import ChipTransport, VirtualChip

        chip = VirtualChip.load(image)
        try:
            return run_sign_card(data, ChipTransport(chip), pin, **kw)
        finally:
            chip.save(image)  # PIN retry counters are the card's memory
    from idcard.reader.pcsc import PCSCTransport

    assert reader is not None
    with PCSCTransport.connect(int(reader) if reader.isdigit() else reader) as transport:
        return run_sign_card(data, transport, pin, **kw)


def run_validate(
    data: bytes,
    trust: Sequence[x509.Certificate],
    *,
    online: bool,
    crls: Sequence[crl.CertificateList] = (),
    check_revocation: bool = True,
) -> list[SignatureReport]:
    from pki.pdf import validate_pdf

    return validate_pdf(data, trust, online=online, crls=crls, check_revocation=check_revocation)


def read_crls(path: Path) -> list[crl.CertificateList]:
    """CRLs from a PEM/DER file (PEM may hold several)."""
    try:
        data = path.read_bytes()
        blobs = ([der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(data)
                 else [data])  # fmt: skip
        found = []
        for der in blobs:
            item = crl.CertificateList.load(der)
            item.native  # noqa: B018 - parse fully
            found.append(item)
    except (OSError, ValueError, TypeError) as exc:
        raise PKIError(f"{path} is not a CRL: {exc}") from None
    if not found:
        raise PKIError(f"no CRL in {path}")
    return found


@click.command(name="sign")
@click.argument("in_pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out_pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--level", type=click.Choice(LEVELS), default="B-B",
              show_default=True)
@click.option("--pkcs11-module", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PKCS#11 module of the token holding the key (without --card).")
@click.option("--token", "token_label", default=None)
@click.option("--key-label", default=None)
@click.option("--cert", "cert_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="The signer's certificate (PEM or DER); with --card, read from the card.")
@click.option("--card", "use_card", is_flag=True,
              help="Sign with the ID card's e-signature key (with --image or --reader).")
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="With --card: a virtual chip image (saved back after use).")
@click.option("--reader", default=None, help="With --card: PC/SC reader name or index.")
@click.option("--chain", "chain_path", type=click.Path(exists=True, path_type=Path),
              default=None, help="CA certificate(s): embedded, and the roots for B-LT.")
@click.option("--tsa", "tsa_url", default=None, help="RFC 3161 TSA URL (B-T, B-LT).")
@click.option("--field", default=None,
              help="Signature field to sign (default: the first free SignatureN). On a signed "
                   "PDF the new signature is an incremental update: the others stay valid.")
@handle_errors
def sign(
    in_pdf: Path, out_pdf: Path, level: str, pkcs11_module: str | None, token_label: str | None,
    key_label: str | None, cert_path: Path | None, use_card: bool, image: Path | None,
    reader: str | None, chain_path: Path | None, tsa_url: str | None, field: str | None,
) -> None:
    """Sign IN_PDF into OUT_PDF with a key on a PKCS#11 token or on the ID card (--card)
    (PIN: IDKARTA_PIN or prompt)."""
    from pki.hsm import PKCS11Module
    from pki.pdf import PAdESLevel

    lvl = PAdESLevel(level)
    if lvl is not PAdESLevel.B_B and not tsa_url:
        fail(f"{level} needs --tsa")
    if lvl is PAdESLevel.B_LT and chain_path is None and not use_card:
        fail("B-LT needs --chain (the CA certificate)")
    chain = read_certificates(chain_path) if chain_path else []
    if use_card:
        if (image is None) == (reader is None):
            fail("--card needs exactly one of --image and --reader")
        if pkcs11_module or token_label or key_label:
            fail("--card does not take --pkcs11-module, --token or --key-label")
        certificate = read_certificates(cert_path)[0] if cert_path else None
        signed = _sign_with_card(in_pdf.read_bytes(), image, reader, certificate=certificate,
                                 chain=chain, level=lvl, tsa_url=tsa_url, field=field)  # fmt: skip
        out_pdf.write_bytes(signed)
        click.echo(f"signed {out_pdf} ({level}, card)")
        return
    if image is not None or reader is not None:
        fail("--image and --reader go with --card")
    if not (pkcs11_module and token_label and key_label and cert_path):
        fail("signing with a token needs --pkcs11-module, --token, --key-label and --cert")
    [certificate, *_] = read_certificates(cert_path)

    token = PKCS11Module(pkcs11_module).token(token_label)
    with token.session(_pin("Token user PIN")) as session:
        signed = run_sign(
            in_pdf.read_bytes(), session.key(key_label), certificate, chain,
            level=lvl, tsa_url=tsa_url, field=field,
        )
    out_pdf.write_bytes(signed)
    click.echo(f"signed {out_pdf} ({level})")


@click.command(name="validate")
@click.argument("in_pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust_path", type=click.Path(exists=True, path_type=Path),
              required=True, help="Trusted root certificate file or folder.")
@click.option("--online", is_flag=True, help="Fetch CRL/OCSP from the certificate's URLs.")
@click.option("--crl", "crl_paths", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              multiple=True, help="A CRL (PEM or DER) to check revocation with; repeatable.")
@click.option("--waive-revocation", is_flag=True,
              help="Do not check revocation; the report says it was waived.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def validate(
    in_pdf: Path, trust_path: Path, online: bool, crl_paths: tuple[Path, ...],
    waive_revocation: bool, as_json: bool,
) -> None:
    """Report integrity, signature, trust and revocation for every signature of IN_PDF.

    Revocation is good, revoked, or not checked (with the reason) when no CRL or OCSP answer
    covers the signer's certificate (embedded, --crl, or --online). Exit 0 only when every
    signature passed every check asked for, 1 otherwise, 2 for unusable input."""
    for name in ("pyhanko", "pyhanko_certvalidator"):  # verdicts are reported below instead
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if waive_revocation and (online or crl_paths):
        fail("--waive-revocation does not go with --online or --crl")
    crls = [c for p in crl_paths for c in read_crls(p)]
    reports = run_validate(in_pdf.read_bytes(), read_certificates(trust_path), online=online,
                           crls=crls, check_revocation=not waive_revocation)  # fmt: skip
    if not reports:
        fail(f"{in_pdf} has no signature")
    ok = all(r.ok for r in reports)
    if as_json:
        echo_json({"file": str(in_pdf), "revocation_waived": waive_revocation, "ok": ok,
                   "signatures": [r.as_dict() for r in reports]})  # fmt: skip
    else:
        for r in reports:
            click.echo(format_report(r, waived_by="--waive-revocation"))
    raise SystemExit(EXIT_OK if ok else EXIT_FAILED)


def format_report(report: SignatureReport, *, waived_by: str = "") -> str:
    """One signature: a verdict line, then one line per check with its reason."""
    word = {"pass": "yes", "fail": "no"}
    checks = report.checks()
    flags = ", ".join(f"{name}={word[status]}" for name, status, _ in checks[:3])
    flags += f", revocation={report.revocation.value.replace('-', ' ')}"
    lines = [f"{report.field_name}: {'OK' if report.ok else 'FAILED'} ({flags}) {report.signer}"]
    for name, status, why in checks:
        if status == "waived" and waived_by:
            why = f"waived by {waived_by}"
        label = status.replace("-", " ").upper()
        lines.append(f"  {name:<11}{label:<12}{why}")
    return "\n".join(lines)


spell_choices(sign)  # one spelling of option values, imported alone too (as through `idkarta`)
