"""idcard.verify.chip on files and evidence made here (no chip): the AA algorithm is DG14's, the
CA key is the one DG14's ChipAuthenticationInfo names, every reason exactly as printed, the
checks' defaults (recorded, not live)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from idcard.asn1 import oids
from idcard.lds.dg14 import DG14
from idcard.lds.dg15 import DG15
from idcard.lds.security_infos import (
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfos,
)
from idcard.protocols.aa import sign_challenge
from idcard.reader.evidence import (
    AccessEvidence,
    ActiveAuthEvidence,
    ChipAuthEvidence,
    Evidence,
    RunEvidence,
)
from idcard.verify.chip import (
    check_active_authentication,
    check_chip_authentication,
    check_evidence,
    check_pace_cam,
)
from idcard.verify.report import CheckResult

SHA256, SHA384 = "0.4.0.127.0.7.1.1.4.1.3", "0.4.0.127.0.7.1.1.4.1.4"  # ecdsa-plain-SHA*
RIPEMD160 = "0.4.0.127.0.7.1.1.4.1.6"
CA_OID = f"{oids.ID_CA_ECDH}.2"
WHEN = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
CHALLENGE = bytes.fromhex("0102030405060708")


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


AA_KEY = ec.generate_private_key(ec.SECP256R1())
CA_KEYS = (ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1()))


def _dg14(*infos: object) -> bytes:
    return DG14(SecurityInfos(tuple(infos))).encode()  # type: ignore[arg-type]


def _files(aa_algorithm: str | None = SHA384, ca_key_id: int | None = 2) -> dict[str, bytes]:
    """DG14 naming CA key ``ca_key_id`` among two, and AA's algorithm; DG15 the AA key."""
    infos: list[object] = [
        ChipAuthenticationPublicKeyInfo(oids.ID_PK_ECDH, _spki(CA_KEYS[0]), 1),
        ChipAuthenticationPublicKeyInfo(oids.ID_PK_ECDH, _spki(CA_KEYS[1]), 2),
        ChipAuthenticationInfo(CA_OID, 1, ca_key_id),
    ]
    if aa_algorithm is not None:
        infos.append(ActiveAuthenticationInfo(aa_algorithm))
    return {"DG14": _dg14(*infos), "DG15": DG15.from_public_key(AA_KEY.public_key()).encode()}


def _evidence(files: dict[str, bytes], *, hash_alg: str = SHA384, mapping: str = "GM",
              **changes: object) -> Evidence:  # fmt: skip
    signature = sign_challenge(AA_KEY, CHALLENGE, hash_alg=hash_alg)
    ev = Evidence(
        access=AccessEvidence("PACE", "AES-128", oid=f"{oids.ID_PACE_ECDH_GM}.2",
                              mapping=mapping, parameter_id=12, password="CAN"),
        files=Evidence.hashes(files),
        chip_authentication=ChipAuthEvidence(CA_OID, "pass", key_id=2,
                                             chip_key_sha256=hashlib.sha256(
                                                 _spki(CA_KEYS[1])).digest()),
        active_authentication=ActiveAuthEvidence("pass", CHALLENGE, signature, hash_alg),
        reader="Reader 0", time=WHEN,
    )  # fmt: skip
    return dataclasses.replace(ev, **changes)  # type: ignore[arg-type]


def _pair(result: CheckResult) -> tuple[str, str]:
    assert result.name in ("evidence", "active_authentication", "chip_authentication", "pace_cam")
    return result.status.value, result.reason


def test_aa_uses_dg14s_algorithm() -> None:
    files = _files(SHA384)
    assert _pair(check_active_authentication(files, _evidence(files))) == (
        "pass", "the chip's signature over the recorded challenge 0102030405060708 verifies with "
        "DG15's key (ECDSA)")
    # DG14 says SHA-256 (the curve's default) while the chip signed SHA-384: it does not verify
    files256 = _files(SHA256)
    assert _pair(check_active_authentication(files256, _evidence(files256))) == (
        "fail", "the signature over the recorded challenge 0102030405060708 does not verify with "
        "DG15's key (the evidence says it did)")
    # without DG14's info the curve's default hash (SHA-256) is used
    files_default = _files(None)
    ev = _evidence(files_default, hash_alg=SHA256)
    assert _pair(check_active_authentication(files_default, ev))[0] == "pass"
    assert _pair(check_active_authentication(files_default, _evidence(files_default)))[0] == "fail"
    del files_default["DG14"]
    assert _pair(check_active_authentication(files_default, ev))[0] == "pass"


def test_aa_reasons() -> None:
    files = _files()
    ev = _evidence(files)
    aa = ev.active_authentication
    assert aa is not None
    failed = dataclasses.replace(aa, result="fail", challenge=bytes(8))
    assert _pair(check_active_authentication(files, dataclasses.replace(
        ev, active_authentication=failed))) == (
        "fail", "the signature over the recorded challenge 0000000000000000 does not verify with "
        "DG15's key")  # fmt: skip
    short = dataclasses.replace(aa, challenge=bytes(7))
    assert _pair(check_active_authentication(files, dataclasses.replace(
        ev, active_authentication=short))) == ("fail", "the recorded challenge is 7 bytes, not 8")
    for half in ({"challenge": None}, {"signature": None}):
        broken = dataclasses.replace(aa, result="error", detail="", **half)  # type: ignore[arg-type]
        assert _pair(check_active_authentication(files, dataclasses.replace(
            ev, active_authentication=broken))) == (
            "fail", "the chip gave no signature while reading (error)")  # fmt: skip
    bad15 = {**files, "DG15": bytes.fromhex("6F03020100")}
    status, reason = _pair(check_active_authentication(bad15, ev))
    assert status == "fail" and reason.startswith("DG15 does not decode: ")
    ripemd = _files(RIPEMD160)
    assert _pair(check_active_authentication(ripemd, _evidence(ripemd))) == (
        "not-checked", "cannot verify: unsupported hash '0.4.0.127.0.7.1.1.4.1.6'")


def test_live_defaults_to_false() -> None:
    files = _files()
    ev = _evidence(files)
    assert "recorded challenge" in check_active_authentication(files, ev).reason
    assert check_chip_authentication(files, ev).status.value == "not-checked"
    pace_cam = _evidence(files, mapping="CAM", pace_cam=RunEvidence("pass"))
    assert check_pace_cam(pace_cam).status.value == "not-checked"


def test_ca_key_is_the_one_dg14_names() -> None:
    files = _files(ca_key_id=2)
    ev = _evidence(files)
    assert _pair(check_chip_authentication(files, ev)) == (
        "not-checked", "recorded as passed with DG14's key (key id 2) when read at "
        "2026-12-01T09:30:00Z; a recorded Chip Authentication cannot be re-proved offline (it "
        "agrees session keys and leaves no signature): verify the card live to prove it")
    assert _pair(check_chip_authentication(files, ev, live=True)) == (
        "pass", "performed live: the chip proved DG14's key (key id 2) (its answers verified "
        "under the agreed session keys)")
    other = _files(ca_key_id=1)  # DG14 now names key 1: the recorded key 2 is not it
    assert _pair(check_chip_authentication(other, ev)) == (
        "fail", "the chip key recorded is not DG14's (key id 2 recorded, 1 in DG14)")
    unnamed = _files(ca_key_id=3)  # no key 3: the reader takes the first key (in DER order)
    key = DG14.decode(unnamed["DG14"]).security_infos.of_type(ChipAuthenticationPublicKeyInfo)[0]
    first = dataclasses.replace(ev, chip_authentication=dataclasses.replace(
        ev.chip_authentication, key_id=key.key_id,  # type: ignore[arg-type]
        chip_key_sha256=hashlib.sha256(key.public_key_info).digest()))  # fmt: skip
    assert check_chip_authentication(unnamed, first).status.value == "not-checked"
    other_id = 2 if key.key_id == 1 else 1
    second = dataclasses.replace(ev, chip_authentication=dataclasses.replace(
        ev.chip_authentication, key_id=other_id,  # type: ignore[arg-type]
        chip_key_sha256=hashlib.sha256(_spki(CA_KEYS[other_id - 1])).digest()))  # fmt: skip
    assert check_chip_authentication(unnamed, second).status.value == "fail"
    no_keys = {"DG14": _dg14(ChipAuthenticationInfo(CA_OID, 1, 1))}
    assert _pair(check_chip_authentication(no_keys, ev)) == (
        "not-checked", "the document offers no Chip Authentication (no ChipAuthenticationInfo "
        "and key in DG14)")
    assert _pair(check_chip_authentication({}, ev))[0] == "not-checked"  # no DG14 at all
    status, reason = _pair(check_chip_authentication({"DG14": b"\x6e\x01"}, ev))
    assert status == "fail" and reason.startswith("DG14 does not decode: ")


def test_evidence_and_pace_cam_reasons() -> None:
    files = _files()
    assert _pair(check_evidence(files, _evidence(files))) == (
        "pass", "the dump's 2 files are the bytes recorded when read")
    bac = _evidence(files, access=AccessEvidence("BAC", "3DES", password="MRZ"))
    assert _pair(check_pace_cam(bac)) == (
        "not-checked", "the access protocol was BAC, not PACE-CAM")
    unknown = _evidence(files, access=AccessEvidence("PACE", "AES-128"))
    assert _pair(check_pace_cam(unknown)) == (
        "not-checked", "the access protocol was PACE ?, not PACE-CAM")
    cam = _evidence(files, mapping="CAM")
    assert _pair(check_pace_cam(cam)) == (
        "not-checked", "PACE-CAM's chip authentication was not recorded")
    passed = dataclasses.replace(cam, pace_cam=RunEvidence("pass", "PK_Map"))
    assert _pair(check_pace_cam(passed)) == (
        "not-checked", "recorded as passed when read at 2026-12-01T09:30:00Z; a recorded "
        "PACE-CAM cannot be re-proved offline (it leaves no signature): verify the card live to "
        "prove it")
    assert _pair(check_pace_cam(passed, live=True)) == (
        "pass", "performed live: PK_Map = CA_IC · PK_IC with EF.CardSecurity's chip key")
    errored = dataclasses.replace(cam, pace_cam=RunEvidence("error"))
    assert _pair(check_pace_cam(errored)) == (
        "fail", "PACE-CAM's chip authentication failed while reading (error)")


@pytest.mark.parametrize("evidence", [None, "evidence.json: not valid JSON (x)"])
def test_without_usable_evidence_nothing_passes(evidence: str | None) -> None:
    files = _files()
    for result in (check_active_authentication(files, evidence),
                   check_chip_authentication(files, evidence), check_pace_cam(evidence)):
        assert result.status.value == "not-checked"
        if evidence is None:
            assert result.reason == "no evidence.json: the dump does not record how the chip " \
                "was read"
        else:
            assert result.reason == f"the evidence is unusable ({evidence})"
