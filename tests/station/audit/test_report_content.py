"""What report.json and the HTML pages say about each document's chain: the DS up to the trust
anchor with fingerprints when the chain check passed, and nothing claimed when it did not (a
foreign CSCA, a dump that cannot be read at all)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.idcard.chip.cards import CAN, build_dump, ds_pki, make_card
from tests.idcard.verify.pa_pki import PKI, asn1, der

from idcard.reader.document import read_document
from station.cli import main


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """<d>/dumps/{a-good, b-broken (EF.SOD is garbage)}, <d>/csca.der, <d>/foreign.der."""
    d = tmp_path_factory.mktemp("report-content")
    dump, keys = build_dump()
    read_document(make_card(dump, keys).transport(), can=CAN).write(d / "dumps" / "a-good")
    shutil.copytree(d / "dumps" / "a-good", d / "dumps" / "b-broken")
    (d / "dumps" / "b-broken" / "EF.SOD").write_bytes(b"\x77\x03\x01\x02\x03")
    (d / "csca.der").write_bytes(der(ds_pki().csca))
    (d / "foreign.der").write_bytes(der(PKI("KZ", slot=5).csca))
    return d


def _run(*args: str) -> int:
    return CliRunner().invoke(main, list(args)).exit_code


def test_chain_paths_of_a_batch(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert _run("verify", str(batch / "dumps"), "--csca", str(batch / "csca.der"), "--at",
                "2026-12-01", "--jobs", "1", "--report", str(out)) == 1  # b-broken
    good, broken = json.loads((out / "report.json").read_text())["documents"]
    pki = ds_pki()
    assert good["trust_path"] == [
        {"subject": asn1(c).subject.human_friendly, "sha256": hashlib.sha256(der(c)).hexdigest()}
        for c in (pki.ds, pki.csca)]  # fmt: skip
    assert broken["error"] and broken["trust_path"] is None
    page = (out / "doc-00001.html").read_text()
    assert "Chain: no path to a trusted CSCA (see the chain check)" in page
    assert f"DS: {asn1(pki.ds).subject.human_friendly}" in (out / "doc-00000.html").read_text()


def test_no_chain_is_claimed_under_a_foreign_csca(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert _run("verify", str(batch / "dumps" / "a-good"), "--csca", str(batch / "foreign.der"),
                "--at", "2026-12-01", "--report", str(out)) == 1  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    [doc] = report["documents"]
    chain = {c["name"]: c for c in doc["checks"]}["chain"]
    assert chain["status"] == "fail" and chain["reason"].startswith("no trusted CSCA is named")
    assert doc["trust_path"] is None
    assert report["signer"] is None and report["signed_by"] is None
    page = (out / "doc-00000.html").read_text()
    assert "Chain: no path to a trusted CSCA (see the chain check)" in page
    assert "report.pdf not signed (no auditor&#x27;s key given)" in page
