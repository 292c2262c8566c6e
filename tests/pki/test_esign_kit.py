"""Shared helpers of the e-signature tests (no tests here): a CA, holders, pkilint.

Imported by tests/pki/test_esign*.py, test_ocsp.py, test_tsa.py, test_pdf.py and
tests/station/test_services.py, test_outbox.py, test_cli_sign.py.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from tests.conftest import require_component

from pki.esign import EsignCA, EsignRegister, HolderRecord, ServiceURLs
from pki.keys import SoftwareSigner

NOW = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)
PUBLIC_URLS = ServiceURLs.at("http://pki.idkarta.uz")
"""Public-looking URLs: pkilint's ETSI linter refuses internal names such as 127.0.0.1."""

ALISHER = HolderRecord("31507880230014", "TOSHMATOV", "ALISHER", "AD1234567", dt.date(2036, 2, 1))
NODIRA = HolderRecord("40312950140014", "KARIMOVA", "NODIRA", "AD7654321", dt.date(2027, 6, 30))


def ec_signer(label: str = "") -> SoftwareSigner:
    return SoftwareSigner(ec.generate_private_key(ec.SECP256R1()), label)


def make_ca(
    tmp: Path, urls: ServiceURLs = PUBLIC_URLS, signer: SoftwareSigner | None = None
) -> EsignCA:
    register = EsignRegister(tmp / "esign.sqlite")
    return EsignCA.create(register, signer or ec_signer("esign-ca"), urls, now=NOW)


def run_lint(tool: str, *args: str) -> str:
    """Run a pkilint CLI at ERROR severity; returns its findings (empty when clean)."""
    path = Path(sys.executable).parent / tool
    require_component(path.is_file(), f"pkilint's {tool}")
    result = subprocess.run(
        [str(path), "lint", "-s", "ERROR", *args], capture_output=True, text=True, timeout=120
    )
    return (result.stdout + result.stderr).strip()
