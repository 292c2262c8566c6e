"""`idkarta pki …` through click's runner: init, issue-ds, revoke, crl, link, masterlist, and the
EAC commands cvca-link, issue-dv, issue-is, cvc-show."""

from __future__ import annotations

import importlib
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization
from tests.conftest import require_tool
from tests.softhsm import SoftHSMToken

from idcard.cvc import CVCertificate, Role, validate_chain
from pki.cvca import CVAuthority, create_request
from pki.filestore import FileKeyStore
from pki.hsm import PKCS11Module
from pki.keys import KeySpec
from pki.masterlist import parse_master_list
from station.cli import main

ENV = {"IDKARTA_PASSPHRASE": "cli-test-passphrase", "IDKARTA_PIN": None}


def _run(args: list[str], env: dict[str, str | None] | None = None, input: str | None = None
         ) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env=env or ENV, input=input)
    return result.exit_code, result.stdout, result.stderr


def _cert(path: Path) -> cx509.Certificate:
    return cx509.load_pem_x509_certificate(path.read_bytes())


def test_file_backed_pki_lifecycle(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    code, out, err = _run(["pki", "init", "--dir", str(d), "--key-type", "ec-p256",
                           "--organization", "Test Ministry", "--crl-url", "http://x.uz/c.crl",
                           "--json"])
    assert code == 0, err
    init = json.loads(out)
    assert init["backend"] == "file" and init["key_type"] == "ec-p256"
    config = json.loads((d / "pki.json").read_text())
    assert config["csca"] == "csca-1" and config["mls"] == "mls-1" and config["ds"] == ["ds-1"]
    assert "passphrase" not in (d / "pki.json").read_text()
    csca = _cert(d / "certs" / "csca-1.pem")
    _cert(d / "certs" / "ds-1.pem").verify_directly_issued_by(csca)
    assert sorted(p.name for p in (d / "keys").iterdir()) == [
        "csca-1.key.pem", "ds-1.key.pem", "mls-1.key.pem"]

    code, out, err = _run(["pki", "issue-ds", "--dir", str(d), "--doc-type", "P", "--json"])
    assert code == 0, err
    ds2 = json.loads(out)
    assert ds2["label"] == "ds-2"
    cert = _cert(d / "certs" / "ds-2.pem")
    assert cert.serial_number == ds2["serial"]

    code, out, err = _run(["pki", "revoke", "--dir", str(d), str(ds2["serial"]),
                           "--reason", "superseded"])
    assert code == 0, err
    code, out, err = _run(["pki", "crl", "--dir", str(d), "--json"])
    assert code == 0, err
    crl_info = json.loads(out)
    crl = cx509.load_der_x509_crl(Path(crl_info["path"]).read_bytes())
    assert crl.is_signature_valid(csca.public_key())
    assert crl.get_revoked_certificate_by_serial_number(ds2["serial"]) is not None

    code, out, err = _run(["pki", "link", "--dir", str(d), "--common-name", "CSCA UZ 2"])
    assert code == 0, err
    assert "new CSCA csca-2" in out
    link = _cert(d / "certs" / "link-csca-1-csca-2.pem")
    link.verify_directly_issued_by(csca)
    new = _cert(d / "certs" / "csca-2.pem")
    assert link.public_key() == new.public_key()

    code, out, err = _run(["pki", "masterlist", "--dir", str(d), "--add",
                           str(d / "certs" / "csca-1.pem"), "--json"])
    assert code == 0, err
    ml = parse_master_list((d / "masterlist.der").read_bytes())
    assert ml.valid, ml.problems
    assert len(ml.csca_certificates) == 3  # csca-1, csca-2, link (csca-1 given twice: one SET)
    # a DS issued after the rollover chains to the new CSCA
    code, out, err = _run(["pki", "issue-ds", "--dir", str(d), "--json"])
    assert code == 0, err
    _cert(d / "certs" / "ds-3.pem").verify_directly_issued_by(new)


def _cvc(path: Path) -> CVCertificate:
    return CVCertificate.decode(path.read_bytes())


def test_eac_commands(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    code, out, err = _run(["pki", "init", "--dir", str(d), "--key-type", "ec-p256", "--json"])
    assert code == 0, err
    cvc = json.loads(out)["cvc"]
    assert cvc["key_type"] == "ec-p256"
    assert [cvc[k]["chr"] for k in ("cvca", "dv", "is")] == ["UZCVCA00001", "UZDV00001",
                                                              "UZIS00001"]  # fmt: skip
    assert sorted(p.name for p in (d / "cvc").glob("*.cvcert")) == [
        "UZCVCA00001.cvcert", "UZDV00001.cvcert", "UZIS00001.cvcert"]  # fmt: skip
    assert sorted(p.name for p in (d / "cvc" / "keys").iterdir()) == [
        "UZCVCA00001.key.pem", "UZDV00001.key.pem", "UZIS00001.key.pem"]  # fmt: skip
    cvca, dv, term = (_cvc(d / "cvc" / f"{n}.cvcert") for n in ("UZCVCA00001", "UZDV00001",
                                                                 "UZIS00001"))  # fmt: skip
    today = cvca.body.effective_date
    result = validate_chain(cvca, [dv, term], today)
    assert result.valid and result.effective_chat is not None
    assert result.effective_chat.read_dg3 and result.effective_chat.read_dg4

    code, out, err = _run(["pki", "issue-is", "--dir", str(d), "--chat", "dg3", "--days", "7",
                           "--json"])  # fmt: skip
    assert code == 0, err
    info = json.loads(out)
    assert info["chr"] == "UZIS00002" and info["read_dg3"] and not info["read_dg4"]
    is2 = _cvc(Path(info["path"]))
    assert (is2.body.expiration_date - is2.body.effective_date).days == 7
    assert validate_chain(cvca, [dv, is2], today).valid

    code, out, err = _run(["pki", "cvca-link", "--dir", str(d), "--json"])
    assert code == 0, err
    link_info = json.loads(out)
    link = _cvc(Path(link_info["link"]["path"]))
    assert link.car == "UZCVCA00001" and link.chr == "UZCVCA00002"
    code, out, err = _run(["pki", "issue-dv", "--dir", str(d), "--chat", "dg4", "--json"])
    assert code == 0, err
    dv2 = _cvc(Path(json.loads(out)["path"]))
    assert dv2.car == "UZCVCA00002" and dv2.chat.role is Role.DV_DOMESTIC
    code, out, err = _run(["pki", "issue-is", "--dir", str(d), "--json"])
    assert code == 0, err
    is3 = _cvc(Path(json.loads(out)["path"]))
    assert is3.car == dv2.chr
    chained = validate_chain(cvca, [link, dv2, is3], today)  # the old anchor, through the link
    assert chained.valid and chained.effective_chat is not None
    assert chained.effective_chat.read_dg4 and not chained.effective_chat.read_dg3

    # a renewal request of DV UZDV00001 (new key elsewhere, outer signature by its current key)
    keys = FileKeyStore(d / "cvc" / "keys", lambda: ENV["IDKARTA_PASSPHRASE"].encode())
    elsewhere = FileKeyStore(tmp_path / "dv-keys", lambda: b"dv-side")
    new_key = elsewhere.generate("dv-next", keys.load("UZDV00001").key_spec)
    request = create_request(new_key, "UZDV00009", car="UZCVCA00002",
                             current=CVAuthority(dv, keys.load("UZDV00001")))  # fmt: skip
    request_path = tmp_path / "UZDV00009.cvreq"
    request_path.write_bytes(request.encode())
    code, out, err = _run(["pki", "cvc-show", str(request_path)])
    assert code == 0, err
    assert "self-signature  valid" in out and "outer CAR       UZDV00001" in out
    code, out, err = _run(["pki", "issue-dv", "--dir", str(d), "--request", str(request_path),
                           "--json"])  # fmt: skip
    assert code == 0, err
    renewed = _cvc(Path(json.loads(out)["path"]))
    assert renewed.chr == "UZDV00009" and renewed.car == "UZCVCA00002"
    assert not renewed.public_key.has_domain_parameters
    forged = bytearray(request.encode())
    forged[-1] ^= 1
    request_path.write_bytes(bytes(forged))
    code, _, err = _run(["pki", "issue-dv", "--dir", str(d), "--request", str(request_path)])
    assert code == 2 and "outer signature" in err

    code, out, err = _run(["pki", "cvc-show", str(d / "cvc" / "UZIS00002.cvcert")])
    assert code == 0, err
    assert "CAR             UZDV00001" in out
    assert "authorization   01 (read DG3)" in out and "terminal type   id-IS" in out
    code, out, err = _run(["pki", "cvc-show", str(d / "cvc" / "UZCVCA00001.cvcert"), "--json"])
    assert code == 0, err
    shown = json.loads(out)
    assert shown["role"] == "CVCA" and shown["self_signed"] and shown["authorization"] == "C3"
    assert shown["public_key"]["curve"] == "secp256r1"
    code, _, err = _run(["pki", "cvc-show", str(d / "pki.json")])
    assert code == 2 and "neither a CV certificate nor a request" in err
    code, _, err = _run(["pki", "issue-is", "--dir", str(d), "--chat", "dg5"])
    assert code == 2 and "--chat" in err
    code, _, err = _run(["pki", "issue-is", "--dir", str(d), "--dv", "UZDV00077"])
    assert code == 2 and "UZDV00077" in err


@pytest.mark.tool
def test_cvc_print_reads_the_init_hierarchy(tmp_path: Path) -> None:
    tool = require_tool("cvc-print")
    d = tmp_path / "pki"
    code, _, err = _run(["pki", "init", "--dir", str(d), "--cvc-key-type", "ec-brainpoolP256r1"])
    assert code == 0, err
    for path in sorted((d / "cvc").glob("*.cvcert")):
        out = subprocess.run([tool, "--cvc", str(path)], capture_output=True, text=True,
                             check=False)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert path.stem in out.stdout


def test_wrong_passphrase_and_errors_exit_2(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    assert _run(["pki", "init", "--dir", str(d), "--key-type", "ec-p256"])[0] == 0
    code, out, err = _run(["pki", "issue-ds", "--dir", str(d)],
                          env={"IDKARTA_PASSPHRASE": "not-the-passphrase"})
    assert code == 2 and "cannot decrypt key" in err and "not-the-passphrase" not in out + err
    code, _, err = _run(["pki", "revoke", "--dir", str(d), "4242"])
    assert code == 2 and "not issued" in err
    code, _, err = _run(["pki", "crl", "--dir", str(tmp_path / "nothing")])
    assert code == 2 and "not a PKI folder" in err
    code, _, err = _run(["pki", "init", "--dir", str(d)])
    assert code == 2 and "already holds a PKI" in err
    code, _, _ = _run(["pki", "init", "--dir", str(tmp_path / "x"), "--token", "t"])
    assert code == 2


def test_passphrase_prompt(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    code, out, err = _run(["pki", "init", "--dir", str(d), "--key-type", "ec-p256"],
                          env={"IDKARTA_PASSPHRASE": None}, input="typed-secret\ntyped-secret\n")
    assert code == 0, err
    assert "typed-secret" not in out + err
    code, _, err = _run(["pki", "crl", "--dir", str(d)], env={"IDKARTA_PASSPHRASE": None},
                        input="typed-secret\n")
    assert code == 0, err


@pytest.mark.hsm
def test_hsm_backed_init_and_crl(tmp_path: Path, fresh_softhsm_token: SoftHSMToken) -> None:
    softhsm_token = fresh_softhsm_token  # its own token: init's key labels are free each run
    d = tmp_path / "pki"
    env = {"IDKARTA_PIN": softhsm_token.pin, "IDKARTA_PASSPHRASE": None}
    code, out, err = _run(["pki", "init", "--dir", str(d), "--pkcs11-module",
                           softhsm_token.module, "--token", softhsm_token.label,
                           "--key-type", "ec-p384", "--json"], env=env)
    assert code == 0, err
    assert json.loads(out)["backend"] == "pkcs11"
    assert not (d / "keys").exists()
    code, out, err = _run(["pki", "masterlist", "--dir", str(d)], env=env)
    assert code == 0, err
    assert parse_master_list((d / "masterlist.der").read_bytes()).valid
    code, out, err = _run(["pki", "crl", "--dir", str(d)], env={"IDKARTA_PIN": "00000000"})
    assert code == 2 and "CKR_PIN_INCORRECT" in err and "00000000" not in err
    # the EAC hierarchy was made on the token too (P-384 has no CV domain parameters here,
    # so it falls back to brainpoolP256r1), and the DV on the token issues more IS certificates
    assert not (d / "cvc" / "keys").exists()
    code, out, err = _run(["pki", "issue-is", "--dir", str(d), "--chat", "dg4", "--json"],
                          env=env)  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["chr"] == "UZIS00002"
    chain = [_cvc(d / "cvc" / f"{n}.cvcert") for n in ("UZCVCA00001", "UZDV00001", "UZIS00002")]
    result = validate_chain(chain[0], chain[1:], chain[2].body.effective_date)
    assert result.valid and result.effective_chat is not None
    assert result.effective_chat.read_dg4 and not result.effective_chat.read_dg3
    assert chain[0].public_key.curve().name == "brainpoolP256r1"


def test_sign_sod(tmp_path: Path) -> None:
    from idcard import tlv
    from idcard.lds.sod import SOD

    d = tmp_path / "pki"
    assert _run(["pki", "init", "--dir", str(d), "--key-type", "ec-p256"])[0] == 0
    dump = tmp_path / "dump"
    dump.mkdir()
    dg1 = tlv.encode(0x61, tlv.encode(0x5F1F, MRZ_IU.encode()))
    dg2 = tlv.encode(0x75, bytes(64))
    (dump / "DG1").write_bytes(dg1)
    (dump / "DG2.bin").write_bytes(dg2)
    code, out, err = _run(["pki", "sign-sod", "--dir", str(d), str(dump), "--hash", "sha384",
                           "--json"])
    assert code == 0, err
    assert json.loads(out)["data_groups"] == [1, 2]
    sod = SOD.decode((dump / "EF.SOD").read_bytes())
    assert sod.hash_algorithm == "sha384"
    assert set(sod.data_group_hashes) == {1, 2}
    signer = sod.signer_certificate
    assert signer is not None
    ds1 = _cert(d / "certs" / "ds-1.pem")
    assert signer.dump() == ds1.public_bytes(serialization.Encoding.DER)
    code, _, err = _run(["pki", "sign-sod", "--dir", str(d), str(dump), "--ds", "nope"])
    assert code == 2 and "no Document Signer 'nope' in this PKI (ds-1)" in err


MRZ_IU = ("IUUZBAA12345674<<<<<<<<<<<<<<<"
          "9001017M3001012UZB<<<<<<<<<<<4"
          "TESTOV<<TEST<<<<<<<<<<<<<<<<<<")  # fmt: skip


def _dump(folder: Path, mrz: str = MRZ_IU) -> Path:
    from idcard import tlv

    folder.mkdir()
    (folder / "DG1").write_bytes(tlv.encode(0x61, tlv.encode(0x5F1F, mrz.encode())))
    (folder / "DG2").write_bytes(tlv.encode(0x75, bytes(64)))
    return folder


def test_sign_sod_picks_a_document_signer_that_may_sign(tmp_path: Path) -> None:
    """Issue 9 item 11: never the newest DS blindly; revoked, out of its period, or not
    allowed for the MRZ's document code (IU) is refused with the reason, exit 1."""
    import datetime as dt

    from idcard.lds.sod import SOD

    d = tmp_path / "pki"
    assert _run(["pki", "init", "--dir", str(d), "--key-type", "ec-p256"])[0] == 0  # ds-1
    code, out, err = _run(["pki", "issue-ds", "--dir", str(d), "--doc-type", "ID",
                           "--doc-type", "P", "--json"])  # ds-2: no IU  # fmt: skip
    assert code == 0, err
    code, out, err = _run(["pki", "issue-ds", "--dir", str(d), "--json"])  # ds-3
    assert code == 0, err
    ds3 = json.loads(out)["serial"]
    assert _run(["pki", "revoke", "--dir", str(d), str(ds3), "--reason", "superseded"])[0] == 0
    dump = _dump(tmp_path / "dump")

    code, out, err = _run(["pki", "sign-sod", "--dir", str(d), str(dump), "--json"])
    assert code == 0, err
    assert json.loads(out)["ds"] == "ds-1"
    signer = SOD.decode((dump / "EF.SOD").read_bytes()).signer_certificate
    assert signer is not None
    assert signer.dump() == _cert(d / "certs" / "ds-1.pem").public_bytes(
        serialization.Encoding.DER)

    code, out, err = _run(["pki", "sign-sod", "--dir", str(d), str(dump), "--ds", "ds-2"])
    assert code == 1 and out == ""
    assert err == ("error: no Document Signer may sign document code 'IU' now: ds-2 is not "
                   "allowed for document code 'IU' (documentTypeList: ID, P)\n")
    code, _, err = _run(["pki", "sign-sod", "--dir", str(d), str(dump), "--ds", "ds-3"])
    assert code == 1 and "ds-3 is revoked (superseded)" in err
    # a passport's DG1 (code P) may go to ds-2, the newest that allows P and is not revoked
    passport = _dump(tmp_path / "passport", "P" + MRZ_IU[1:])
    code, out, err = _run(["pki", "sign-sod", "--dir", str(d), str(passport), "--json"])
    assert code == 0 and json.loads(out)["ds"] == "ds-2", err

    from pki.sod import DocumentSignerRefused
    from station.folders.pki import run_sign_sod

    keys = FileKeyStore(d / "keys", lambda: ENV["IDKARTA_PASSPHRASE"].encode())
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(DocumentSignerRefused) as refused:
        run_sign_sod(d, keys, dump, now=now + dt.timedelta(days=91))
    assert "ds-1 may not sign after" in str(refused.value)
    assert "(privateKeyUsagePeriod)" in str(refused.value)
    with pytest.raises(DocumentSignerRefused, match="ds-1 is not valid before"):
        run_sign_sod(d, keys, dump, now=now - dt.timedelta(days=1))
    with pytest.raises(DocumentSignerRefused, match="ds-1 expired on"):
        run_sign_sod(d, keys, dump, now=now + dt.timedelta(days=365 * 11))

    code, out, err = _run(["pki", "revoke", "--dir", str(d), "2", "--reason", "superseded"])
    assert code == 0, err  # serial 2 is ds-1: now none may sign the IU document
    code, _, err = _run(["pki", "sign-sod", "--dir", str(d), str(dump)])
    assert code == 1
    assert err == ("error: no Document Signer may sign document code 'IU' now: ds-3 is revoked "
                   "(superseded); ds-2 is not allowed for document code 'IU' "
                   "(documentTypeList: ID, P); ds-1 is revoked (superseded)\n")


class _LosesTheSession:
    """A token session that the token drops right after making its k-th key."""

    def __init__(self, session: Any, k: int, module: str) -> None:
        self._session, self._k, self._module, self._count = session, k, module, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def _made_one(self) -> None:
        self._count += 1
        if self._count == self._k:
            slot = self._session.token.info.slot
            PKCS11Module(self._module)._lib.closeAllSessions(slot)

    def generate_key(self, *args: Any, **kwargs: Any) -> Any:
        key = self._session.generate_key(*args, **kwargs)
        self._made_one()
        return key

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        key = self._session.generate(*args, **kwargs)
        self._made_one()
        return key


@pytest.mark.hsm
@pytest.mark.parametrize("k", [1, 3, 4, 6])
def test_hsm_init_is_all_or_nothing(
    tmp_path: Path, fresh_softhsm_token: SoftHSMToken, monkeypatch: pytest.MonkeyPatch, k: int
) -> None:
    """Issue 9 item 6: the session is lost after the k-th of the six keys (CSCA, DS, MLS, CVCA,
    DV, IS): no folder, no key left on the token, the failing call's own error, and a rerun
    succeeds."""
    cli_pki = importlib.import_module("station.cli.pki")  # the module, not the click group
    t = fresh_softhsm_token
    real = cli_pki.open_stores

    @contextmanager
    def faulty(*args: Any, **kwargs: Any) -> Iterator[tuple[Any, Any]]:
        with real(*args, **kwargs) as (store, _):
            lossy = _LosesTheSession(store, k, t.module)
            yield lossy, lossy

    d = tmp_path / "pki"
    env = {"IDKARTA_PIN": t.pin, "IDKARTA_PASSPHRASE": None}
    args = ["pki", "init", "--dir", str(d), "--pkcs11-module", t.module, "--token", t.label,
            "--key-type", "ec-p256"]
    monkeypatch.setattr(cli_pki, "open_stores", faulty)
    code, _, err = _run(args, env=env)
    assert code == 2
    # the next step signs a certificate with a key of this session: that is what failed
    assert err == "error: C_Sign failed: CKR_SESSION_HANDLE_INVALID\n", err
    assert not d.exists() or not any(d.iterdir())
    assert [p.name for p in tmp_path.iterdir() if p.name != "pki"] == []  # no staging left
    with PKCS11Module(t.module).token(t.label).session(lambda: t.pin) as s:
        assert s.labels() == []
    monkeypatch.setattr(cli_pki, "open_stores", real)
    code, out, err = _run([*args, "--json"], env=env)
    assert code == 0, err
    assert json.loads(out)["cvc"]["is"]["path"] == str(d / "cvc" / "UZIS00001.cvcert")
    with PKCS11Module(t.module).token(t.label).session(lambda: t.pin) as s:
        assert s.labels() == sorted(["csca-1", "ds-1", "mls-1", "UZCVCA00001", "UZDV00001",
                                     "UZIS00001"])  # fmt: skip
        for label in s.labels():  # item 5: every key the project makes only signs
            attrs = s.key(label).attributes()
            assert attrs["CKA_SIGN"] and attrs["CKA_SENSITIVE"], label
            assert not any(attrs[a] for a in ("CKA_DECRYPT", "CKA_UNWRAP", "CKA_DERIVE",
                                                "CKA_SIGN_RECOVER", "CKA_MODIFIABLE",
                                                "CKA_EXTRACTABLE")), label  # fmt: skip


def test_file_init_is_all_or_nothing(tmp_path: Path) -> None:
    """A failure half-way leaves the folder as it was; init into a folder with other files
    moves its files in beside them."""
    from pki.errors import KeyStoreError
    from station.folders.keys import open_stores
    from station.folders.pki import run_init_staged

    class Refusing(FileKeyStore):
        def generate(self, label: str, spec: Any, algorithm: Any = None) -> Any:
            if label == "UZDV00001":
                raise KeyStoreError("disk full")
            return super().generate(label, spec, algorithm)

    d = tmp_path / "pki"
    d.mkdir()
    (d / "README").write_text("ours")

    @contextmanager
    def refusing(at: Path) -> Iterator[tuple[Any, Any]]:
        secret = lambda: b"pw"  # noqa: E731
        yield Refusing(at / "keys", secret), Refusing(at / "cvc" / "keys", secret)

    options: dict[str, Any] = {"country": "UZ", "organization": None,
                               "key_spec": KeySpec.parse("ec-p256")}  # fmt: skip
    with pytest.raises(KeyStoreError, match="disk full"):
        run_init_staged(d, {"type": "file"}, refusing, **options)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pki"]
    assert sorted(p.name for p in d.iterdir()) == ["README"]
    result = run_init_staged(
        d, {"type": "file"},
        lambda at: open_stores(at, {"type": "file"}, passphrase=lambda: b"pw"), **options,
    )  # fmt: skip
    assert result["dir"] == str(d) and result["cvc"]["dv"]["path"].startswith(str(d / "cvc"))
    assert sorted(p.name for p in d.iterdir()) == ["README", "ca-state.json", "certs", "cvc",
                                                   "keys", "pki.json"]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pki"]
    (tmp_path / "a-file").write_text("not a folder")
    from pki.errors import PKIError

    with pytest.raises(PKIError, match="cannot put the new folder at"):
        run_init_staged(tmp_path / "a-file", {"type": "file"},
                        lambda at: open_stores(at, {"type": "file"}, passphrase=lambda: b"pw"),
                        **options)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "pki"]
