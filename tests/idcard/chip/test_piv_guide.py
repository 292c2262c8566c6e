"""docs/guide/esign.md, "Any PKCS#11 application: the card's PIV face": its shell commands run as
printed — `idkarta card serve`, OpenSC's pkcs11-tool, pyHanko's own PKCS#11 signer (pyhanko-cli
over python-pkcs11) through OpenSC's module, poppler's pdfsig and `idkarta validate` — against
the `demo-out` folder that `idkarta demo` (what `make demo` runs) made, inside the private
pcscd's network namespace (where its vpcd listens on the default port)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from tests.conftest import ROOT, require_tool
from tests.idcard.chip.test_piv_opensc import opensc_module
from tests.pcsc_harness import PCSCD, READERS, pcscd, wait_absent  # noqa: F401 - the fixture

import idcard
from idcard.chip.state import ChipState
from idcard.esign import FID_CERTIFICATE
from pki.pdf import validate_pdf
from station.cli import main

DER = Encoding.DER
SOURCES = Path(idcard.__file__).resolve().parents[1]
"""The sources this test imported: the commands run the same code (`idkarta card serve`)."""

pytestmark = [pytest.mark.pcsc, pytest.mark.tool]

GUIDE = ROOT / "docs" / "guide" / "esign.md"
SECTION = "## Any PKCS#11 application: the card's PIV face"
_SH = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)


def section_commands() -> list[str]:
    """The ```sh blocks of the guide's PIV section, in order."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return _SH.findall(text[start : end if end != -1 else len(text)])


def test_the_section_has_the_commands() -> None:
    blocks = section_commands()
    assert len(blocks) == 2
    assert "pyhanko sign addsig" in blocks[1] and "idkarta validate" in blocks[1]
    assert opensc_module() in blocks[0] + blocks[1]


def test_the_guide_commands_sign_a_pdf_with_the_card(pcscd: PCSCD, tmp_path: Path) -> None:  # noqa: F811
    for tool in ("pkcs11-tool", "pdfsig", "nsenter", "bash"):
        require_tool(tool)
    opensc_module()
    bindir = Path(sys.executable).parent
    for tool in ("pyhanko", "idkarta"):
        assert (bindir / tool).exists(), f"{tool} is installed with the test extras"
    demo = tmp_path / "demo-out"
    made = CliRunner().invoke(main, ["demo", "--out", str(demo)])  # what `make demo` runs
    assert made.exit_code == 0, made.output
    state = ChipState.load(demo / "chip-replacement.json")
    holder_der = bytes(state.files["esign"][FID_CERTIFICATE])
    holder = x509.load_der_x509_certificate(holder_der)
    name = holder.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert isinstance(name, str)

    # the test's own guard: a failing command must not leave the served card running
    script = "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + "\n".join(section_commands())
    env = {**pcscd.env, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(SOURCES)}  # fmt: skip
    env.pop("PYHANKO_PKCS11_PIN", None)
    proc = subprocess.Popen(
        ["nsenter", f"--net={pcscd.netns}", "bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=180)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group this test started (the server too)
        proc.wait(10)
    assert proc.returncode == 0, out
    wait_absent(READERS[0])
    assert f"token label        : {name}" in out
    assert "Certificate for Digital Signature" in out
    assert "Signature Validation: Signature is Valid." in out, out
    assert ("HolderSignature: OK (integrity=yes, signature=yes, trust=yes, revocation=good)"
            in out), out
    assert "stopped; image unchanged" in out  # `kill %1` unplugged the card, no try was spent

    signed = (demo / "signed-pkcs11.pdf").read_bytes()
    [embedded] = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert embedded.field_name == "HolderSignature"
    assert embedded.signer_cert.dump() == holder_der  # the holder's certificate, from the chip
    ca = x509.load_pem_x509_certificate((demo / "esign" / "ca.pem").read_bytes())
    crl = (demo / "esign" / "esign.crl").read_bytes()  # as `idkarta esign crl` wrote it
    if asn1_pem.detect(crl):
        _, _, crl = asn1_pem.unarmor(crl)
    [report] = validate_pdf(signed, [asn1_x509.Certificate.load(ca.public_bytes(DER))],
                            crls=[asn1_crl.CertificateList.load(crl)])  # fmt: skip
    assert report.ok, report.summary
    # the served image kept the counter: the right PIN spent nothing
    assert ChipState.load(demo / "chip-replacement.json").esign_pin_tries == 3
