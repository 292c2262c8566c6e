"""`evidence.json`: what read_document records (access, CA, PACE-CAM, AA, TA, files), checked
against the keys the chip was made with and with an outside JSON Schema validator against
docs/evidence.schema.json; written atomically beside the dump; parsed back; refused when
malformed (naming the field)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from tests.conftest import ROOT
from tests.idcard.chip.cards import CAN, Card, build_dump, make_card
from tests.idcard.cvc.test_cvc_certificate import make_pki

from idcard.asn1 import oids
from idcard.errors import DecodeError
from idcard.lds.dg14 import DG14
from idcard.lds.dump import Dump, update_folder
from idcard.lds.security_infos import ChipAuthenticationPublicKeyInfo
from idcard.reader.document import ReadResult, TerminalCredentials, read_document
from idcard.reader.evidence import EVIDENCE_FILE, Evidence, read_evidence

SCHEMA = json.loads((ROOT / "docs" / "evidence.schema.json").read_text())


@pytest.fixture(scope="module")
def pace() -> tuple[ReadResult, Card]:
    dump, keys = build_dump()
    card = make_card(dump, keys)
    return read_document(card.transport(), can=CAN), card


def _valid(doc: object) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)


def test_pace_read_records_access_ca_aa_and_every_file(pace: tuple[ReadResult, Card]) -> None:
    result, card = pace
    ev = result.evidence
    assert ev is not None
    assert ev.access.to_json() == {
        "protocol": "PACE", "oid": f"{oids.ID_PACE_ECDH_GM}.2", "mapping": "GM",
        "parameter_id": 13, "password": "CAN", "cipher": "AES-128",
    }  # fmt: skip
    assert ev.files == {n: hashlib.sha256(d).digest() for n, d in result.dump.files.items()}
    # CA: DG14's key, by its SHA-256; the terminal's ephemeral key is an uncompressed point
    dg14 = DG14.decode(result.dump.files["DG14"])
    spki = dg14.security_infos.of_type(ChipAuthenticationPublicKeyInfo)[0].public_key_info
    ca = ev.chip_authentication
    assert ca is not None and ca.result == "pass" and ca.protocol.startswith(oids.ID_CA_ECDH)
    assert ca.chip_key_sha256 == hashlib.sha256(spki).digest()
    assert ca.ephemeral_public_key is not None and ca.ephemeral_public_key[0] == 0x04
    assert len(ca.ephemeral_public_key) == 65  # brainpoolP256r1
    # AA: the recorded r‖s verifies with the chip's AA key, checked with cryptography directly
    aa = ev.active_authentication
    assert aa is not None and aa.result == "pass" and aa.challenge is not None
    assert len(aa.challenge) == 8 and aa.signature is not None and len(aa.signature) == 64
    assert aa.algorithm == "0.4.0.127.0.7.1.1.4.1.3"  # ecdsa-plain-SHA256
    r, s = int.from_bytes(aa.signature[:32], "big"), int.from_bytes(aa.signature[32:], "big")
    card.keys.active_authentication.public_key().verify(
        encode_dss_signature(r, s), aa.challenge, ec.ECDSA(hashes.SHA256()))
    assert ev.terminal_authentication is None and ev.pace_cam is None
    assert ev.reader == "ChipTransport" and ev.tool_version == "0.1.0"
    _valid(ev.to_json())
    text = ev.to_bytes().decode()
    assert CAN not in text.replace(ev.files["DG2"].hex(), "")  # no password in the evidence


def test_bac_read_records_bac() -> None:
    dump, keys = build_dump(pace_oid=None)
    card = make_card(dump, keys)
    ev = read_document(card.transport(), mrz=card.mrz).evidence
    assert ev is not None
    assert ev.access.to_json() == {"protocol": "BAC", "oid": None, "mapping": None,
                                   "parameter_id": None, "password": "MRZ",
                                   "cipher": "3DES"}  # fmt: skip
    _valid(ev.to_json())


def test_pace_cam_read_records_cam_and_no_ca() -> None:
    cam = f"{oids.ID_PACE_ECDH_CAM}.2"
    dump, keys = build_dump(pace_oid=cam, cam=True)
    ev = read_document(make_card(dump, keys).transport(), can=CAN).evidence
    assert ev is not None and ev.access.mapping == "CAM" and ev.access.oid == cam
    assert ev.pace_cam is not None and ev.pace_cam.result == "pass"
    assert ev.chip_authentication is None
    _valid(ev.to_json())


def test_terminal_authentication_records_the_certificates() -> None:
    certs, is_key = make_pki()
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=certs[0])
    terminal = TerminalCredentials.from_private_key(tuple(certs), is_key)
    ev = read_document(card.transport(), can=CAN, terminal=terminal).evidence
    assert ev is not None and ev.terminal_authentication is not None
    ta = ev.terminal_authentication
    assert ta.result == "pass"
    assert ta.certificates == tuple((c.car, c.chr) for c in terminal.presented)
    assert ta.certificates[-1][1] == certs[-1].chr
    _valid(ev.to_json())


def test_written_beside_the_dump_and_read_back(tmp_path: Path, pace: tuple[ReadResult, Card]
                                               ) -> None:  # fmt: skip
    result, _ = pace
    result.write(tmp_path / "dump")
    assert (tmp_path / "dump" / EVIDENCE_FILE).is_file()
    assert Dump.read(tmp_path / "dump").files == result.dump.files  # the manifest still agrees
    assert read_evidence(tmp_path / "dump") == result.evidence
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump"]  # no staging left behind
    before = (tmp_path / "dump" / EVIDENCE_FILE).read_bytes()
    with pytest.raises(FileExistsError):
        result.write(tmp_path / "dump")
    assert (tmp_path / "dump" / EVIDENCE_FILE).read_bytes() == before
    result.write(tmp_path / "dump", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump"]


def test_a_dump_without_evidence_has_none(tmp_path: Path, pace: tuple[ReadResult, Card]) -> None:
    result, _ = pace
    result.dump.write(tmp_path / "old")
    assert read_evidence(tmp_path / "old") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="x"), "not an idkarta-evidence document"),
        (lambda d: d.update(version=2), "unsupported version 2"),
        (lambda d: d["access"].update(protocol="XX"), "access.protocol must be BAC or PACE"),
        (lambda d: d["active_authentication"].update(challenge="zz"),
         "active_authentication.challenge is not hex"),
        (lambda d: d["chip_authentication"].update(result="ok"),
         "chip_authentication.result must be one of pass, fail, error"),
        (lambda d: d["files"].update(DG1="00"), "files.DG1 is not a SHA-256"),
        (lambda d: d.update(time="yesterday"), "time is not an ISO 8601 time"),
    ],
)
def test_malformed_evidence_is_refused_naming_the_field(
    pace: tuple[ReadResult, Card], change: object, message: str
) -> None:
    result, _ = pace
    assert result.evidence is not None
    doc = json.loads(result.evidence.to_bytes())
    change(doc)  # type: ignore[operator]
    with pytest.raises(DecodeError, match=message):
        Evidence.from_json(doc)
    with pytest.raises(DecodeError, match="not valid JSON"):
        Evidence.decode(b"{")


def test_replacing_a_file_voids_the_evidence(tmp_path: Path, pace: tuple[ReadResult, Card]
                                             ) -> None:  # fmt: skip
    """`pki sign-sod` on a read dump (update_folder): the folder is no longer what was read."""
    result, _ = pace
    result.write(tmp_path / "d")
    update_folder(tmp_path / "d", {"EF.SOD": result.dump.files["EF.SOD"] + b"\x00"})
    assert read_evidence(tmp_path / "d") is None
    assert not [p.name for p in (tmp_path / "d").iterdir() if p.name.startswith(".")]
