"""`idkarta master-list show|export` on the published German and Dutch lists and on our own, and
`idkarta verify` trusting CSCAs through master lists (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.conftest import require_real_world
from tests.idcard.verify.explicit_pki import ExplicitPKI
from tests.idcard.verify.pa_pki import PKI, der, master_list, pem, sample_files, write_dump

from idcard.verify import load_certificates
from station.cli import main

ML = require_real_world() / "master-lists"
DE_ML, DE_ROOT = ML / "DE_ML_2026-05-28-08-28-45.ml", ML / "DE_ROOT_CA_CSCA07.cer"
NL_ML, NL_ROOT = ML / "NL_ML_2026-07-22.ml", ML / "NL_ROOT_CA.cer"


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our root, a master list it signs carrying our explicit-parameter CSCA, and a dump."""
    root = tmp_path_factory.mktemp("ours")
    national = PKI(country="UZ", slot=410)
    explicit = ExplicitPKI(slot=3)
    (root / "root.pem").write_bytes(pem(national.csca))
    (root / "ml.der").write_bytes(master_list(national, [explicit.csca, national.csca]))
    write_dump(root / "dump", explicit.sign_files(sample_files()))
    (root / "anchors").mkdir()
    (root / "anchors" / "uz.pem").write_bytes(pem(national.csca))
    (root / "anchors" / "de.cer").write_bytes(DE_ROOT.read_bytes())
    (root / "explicit-csca.der").write_bytes(der(explicit.csca))
    return root


def test_show_lists_the_german_list_verified_against_its_root() -> None:
    result = run("master-list", "show", DE_ML, "--csca", DE_ROOT)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Master list signed by Common Name: CSCA Master List Signer")
    assert lines[0].endswith(" at 2026-05-28")
    assert lines[1].startswith("Verification: PASS (signed by ")
    assert lines[2] == "588 certificates of 112 countries"
    assert lines[3].split() == ["country", "certs", "valid", "from", "valid", "until", "key",
                                "algorithms"]  # fmt: skip
    de = next(line for line in lines if line.startswith("DE "))
    assert de.split()[:4] == ["DE", "9", "2013-10-30", "2039-01-01"]
    assert "ecdsa brainpoolP512r1 (explicit) ×6" in de


def test_show_json_counts_every_certificate() -> None:
    result = run("master-list", "show", NL_ML, "--csca", NL_ROOT, "--json")
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert info["verification"]["status"] == "pass"
    assert info["certificates"] == 411
    assert sum(c["certificates"] for c in info["countries"]) == 411
    assert sum(info["key_algorithms"].values()) == 411
    explicit = sum(n for a, n in info["key_algorithms"].items() if a.endswith("(explicit)"))
    assert explicit == 111
    nl = next(c for c in info["countries"] if c["country"] == "NL")
    assert set(nl) == {"country", "certificates", "self_signed", "not_before", "not_after",
                       "key_algorithms"}  # fmt: skip


def test_show_filters_by_country_and_reports_an_unverified_list() -> None:
    result = run("master-list", "show", DE_ML, "--country", "fr", "--json")
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert [c["country"] for c in info["countries"]] == ["FR"]
    assert info["verification"] == {
        "status": "not-checked", "reason": "no --csca given to verify against"
    }  # fmt: skip


def test_show_against_another_root_fails_with_exit_1() -> None:
    result = run("master-list", "show", DE_ML, "--csca", NL_ROOT)
    assert result.exit_code == 1
    assert "Verification: FAIL (the master list signer" in result.stdout


def test_unreadable_input_is_one_error_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ml"
    junk.write_bytes(b"\x30\x03\x02\x01\x01")
    result = run("master-list", "show", junk)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {junk}: not a CSCA master list")
    assert len(result.stderr.splitlines()) == 1
    missing = run("master-list", "show", tmp_path / "nope.ml")
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_export_writes_the_verified_certificates(ours: Path, tmp_path: Path) -> None:
    out = tmp_path / "cscas"
    result = run("master-list", "export", ours / "ml.der", "--csca", ours / "root.pem",
                 "--out", out, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert [f["file"] for f in shown["certificates"]] == ["UZ-001.pem", "UZ-002.pem"]
    assert sorted(p.name for p in out.iterdir()) == ["UZ-001.pem", "UZ-002.pem"]
    # the exported PEM files are the listed certificates, and verify takes them as anchors
    exported = {c.dump() for c in load_certificates(out)}
    assert (ours / "explicit-csca.der").read_bytes() in exported and len(exported) == 2
    verify = run("verify", ours / "dump", "--csca", out, "--at", "2025-06-01")
    assert verify.exit_code == 0, verify.output
    again = run("master-list", "export", ours / "ml.der", "--csca", ours / "root.pem",
                "--out", out)  # fmt: skip
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_export_of_a_list_that_does_not_verify_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "de"
    result = run("master-list", "export", DE_ML, "--csca", NL_ROOT, "--out", out)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {DE_ML}: the master list does not verify")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    de = run("master-list", "export", DE_ML, "--csca", DE_ROOT, "--out", out, "--country", "DE")
    assert de.exit_code == 0
    assert de.stdout == f"9 certificates of 1 countries written to {out}\n"


def test_verify_trusts_a_csca_through_our_master_list(ours: Path) -> None:
    result = run("verify", ours / "dump", "--csca", ours / "root.pem",
                 "--master-list", ours / "ml.der", "--at", "2025-06-01", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    statuses = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert statuses["chain"] == statuses["master_list"] == statuses["sod_signature"] == "pass"
    # without the list, the root alone does not reach the explicit-parameter CSCA
    alone = run("verify", ours / "dump", "--csca", ours / "root.pem", "--at", "2025-06-01")
    assert alone.exit_code == 1


def test_verify_takes_several_master_lists_each_against_the_given_anchors(ours: Path) -> None:
    result = run("verify", ours / "dump", "--csca", ours / "anchors",
                 "--master-list", DE_ML, "--master-list", ours / "ml.der",
                 "--at", "2025-06-01")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "PASS         master_list" in result.stdout
    # the Dutch list's signer is not issued by any given anchor: the verdict fails
    wrong = run("verify", ours / "dump", "--csca", ours / "anchors",
                "--master-list", NL_ML, "--master-list", ours / "ml.der",
                "--at", "2025-06-01")  # fmt: skip
    assert wrong.exit_code == 1
    assert "FAIL         master_list" in wrong.stdout
