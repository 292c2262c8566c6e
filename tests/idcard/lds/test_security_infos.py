"""SecurityInfos, EF.CardAccess and EF.CardSecurity: published samples, round trips, robustness."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS
from tests.idcard.lds._security_info_strategies import mutated, security_infos

from idcard import tlv
from idcard.asn1 import oids
from idcard.errors import DecodeError
from idcard.lds.security_infos import (
    CardAccess,
    CardInfoLocator,
    CardSecurity,
    ChipAuthenticationDomainParameterInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    PrivilegedTerminalInfo,
    RestrictedIdentificationDomainParameterInfo,
    RestrictedIdentificationInfo,
    SecurityInfos,
    TerminalAuthenticationInfo,
    UnknownSecurityInfo,
)

SAMPLES: dict[str, Any] = json.loads((VECTORS / "lds" / "security-samples.json").read_text())
OPENPACE_CARD_ACCESS = (VECTORS / "lds" / "lds-samples" / "EF.CardAccess").read_bytes()
CARD_SECURITY = bytes.fromhex(SAMPLES["card_security"][0]["hex"])
GM_128 = "0.4.0.127.0.7.2.2.4.2.2"


def test_oid_names_and_standardized_parameters() -> None:
    assert oids.name(GM_128) == "id-PACE-ECDH-GM-AES-CBC-CMAC-128"
    assert oids.name("0.4.0.127.0.7.2.2.4.6.4") == "id-PACE-ECDH-CAM-AES-CBC-CMAC-256"
    assert oids.name("0.4.0.127.0.7.2.2.4.1.1") == "id-PACE-DH-GM-3DES-CBC-CBC"
    assert oids.name("0.4.0.127.0.7.2.2.4.4.3") == "id-PACE-ECDH-IM-AES-CBC-CMAC-192"
    assert oids.name("0.4.0.127.0.7.2.2.3.1.4") == "id-CA-DH-AES-CBC-CMAC-256"
    assert oids.name("0.4.0.127.0.7.2.2.2.2.3") == "id-TA-ECDSA-SHA-256"
    assert oids.name("2.23.136.1.1.5") == "id-icao-mrtd-security-aaProtocolObject"
    assert oids.name("1.2.3") == "1.2.3"
    assert "0.4.0.127.0.7.2.2.4.6.1" not in oids.PACE_PROTOCOLS  # no 3DES PACE-CAM
    assert len(oids.PACE_PROTOCOLS) == 19 and len(oids.CA_PROTOCOLS) == 8
    assert len(oids.RI_PROTOCOLS) == 10
    assert oids.domain_parameter_name(13) == "brainpoolP256r1"
    assert oids.domain_parameter_name(18) == "secp521r1"
    assert oids.domain_parameter_name(0).startswith("1024-bit MODP")
    assert oids.domain_parameter_name(5) == "reserved (5)"


@pytest.mark.parametrize("sample", SAMPLES["card_access"], ids=lambda s: s["name"])
def test_published_card_access_round_trips_byte_for_byte(sample: dict[str, Any]) -> None:
    data = bytes.fromhex(sample["hex"])
    card_access = CardAccess.decode(data)
    assert card_access.raw == data
    assert card_access.encode() == data
    assert CardAccess.decode(card_access.encode()) == card_access


def test_icao_g1_and_g2_pace_infos() -> None:
    g1, g2 = (CardAccess.decode(bytes.fromhex(s["hex"])) for s in SAMPLES["card_access"][:2])
    assert g1.security_infos.infos == (PACEInfo(GM_128, 2, 13),)
    assert g2.security_infos.infos == (PACEInfo("0.4.0.127.0.7.2.2.4.1.2", 2, 0),)
    assert g1.to_json()["security_infos"][0]["protocol_name"] == "id-PACE-ECDH-GM-AES-CBC-CMAC-128"
    assert g2.to_json()["security_infos"][0]["parameter_name"].startswith("1024-bit MODP")


def test_openpace_card_access_decodes_every_member() -> None:
    card_access = CardAccess.decode(OPENPACE_CARD_ACCESS)
    infos = card_access.security_infos
    assert card_access.encode() == OPENPACE_CARD_ACCESS
    assert infos.pace_infos == (PACEInfo(GM_128, version=2, parameter_id=13),)
    assert infos.of_type(TerminalAuthenticationInfo) == (TerminalAuthenticationInfo(version=2),)
    assert infos.chip_authentication_infos == (
        ChipAuthenticationInfo("0.4.0.127.0.7.2.2.3.2.2", version=2, key_id=1),
    )
    (ca_domain,) = infos.of_type(ChipAuthenticationDomainParameterInfo)
    assert ca_domain.protocol_name == "id-CA-ECDH"
    assert ca_domain.domain_parameter.parameter_id == 13 and ca_domain.key_id == 1
    (locator,) = infos.of_type(CardInfoLocator)
    assert locator.url == "https://www.hjp-consulting.com/home"
    (privileged,) = infos.of_type(PrivilegedTerminalInfo)
    assert privileged.security_infos.chip_authentication_infos == (
        ChipAuthenticationInfo("0.4.0.127.0.7.2.2.3.2.2", version=2, key_id=2),
    )
    as_json = card_access.to_json()
    assert as_json["name"] == "EF.CardAccess"
    pace = next(i for i in as_json["security_infos"] if i["type"] == "PACEInfo")
    assert pace == {
        "type": "PACEInfo",
        "protocol": GM_128,
        "protocol_name": "id-PACE-ECDH-GM-AES-CBC-CMAC-128",
        "version": 2,
        "parameter_id": 13,
        "parameter_name": "brainpoolP256r1",
    }
    json.dumps(as_json)  # serialisable as is


def test_trailing_padding_is_accepted_and_garbage_is_not() -> None:
    for pad in (b"\x00" * 7, b"\xff" * 3):
        assert CardAccess.decode(OPENPACE_CARD_ACCESS + pad).security_infos == (
            CardAccess.decode(OPENPACE_CARD_ACCESS).security_infos
        )
    with pytest.raises(DecodeError) as err:
        CardAccess.decode(OPENPACE_CARD_ACCESS + b"\x01")
    assert err.value.offset == len(OPENPACE_CARD_ACCESS)


def test_known_protocol_with_wrong_body_names_the_offset() -> None:
    # PACEInfo whose version is an OCTET STRING instead of an INTEGER.
    bad = bytes.fromhex("3114" + "3012060A04007F0007020204020204010202010D")
    with pytest.raises(DecodeError) as err:
        CardAccess.decode(bad)
    assert err.value.offset == 2 and "PACEInfo" in str(err.value)


def test_unknown_security_info_is_kept_whole() -> None:
    member = bytes.fromhex("300B06062B06010401040101FF")  # protocol 1.3.6.1.4.1.4, TRUE
    card_access = CardAccess.decode(bytes([0x31, len(member)]) + member)
    (info,) = card_access.security_infos.infos
    assert info == UnknownSecurityInfo("1.3.6.1.4.1.4", member)
    assert card_access.encode() == bytes([0x31, len(member)]) + member


def test_set_order_does_not_matter_and_encoding_is_der_sorted() -> None:
    a = PACEInfo(GM_128, 2, 13)
    b = TerminalAuthenticationInfo(version=2)
    assert SecurityInfos((a, b)) == SecurityInfos((b, a))
    assert SecurityInfos((a, b)).encode() == bytes.fromhex(
        "3123" + "300D060804007F0007020202020102" + "3012060A04007F0007020204020202010202010D"
    )


def test_card_security_of_the_bsi_eac_worked_example() -> None:
    card_security = CardSecurity.decode(CARD_SECURITY)
    assert card_security.encode() == CARD_SECURITY
    assert card_security.digest_algorithm == "sha256"
    assert (
        card_security.message_digest == hashlib.sha256(card_security.encapsulated_content).digest()
    )
    # The signed SecurityInfos of this sample are not in DER SET OF order (a 301C member comes
    # before 3017 ones): the canonical re-encoding sorts the very same members.
    members = tlv.decode_one(card_security.encapsulated_content).children()
    assert [m.encode() for m in members] != sorted(m.encode() for m in members)
    assert card_security.security_infos.encode() != card_security.encapsulated_content
    assert [i.encode() for i in card_security.security_infos] == sorted(m.encode() for m in members)
    (key_info,) = card_security.security_infos.chip_authentication_public_keys
    assert isinstance(key_info, ChipAuthenticationPublicKeyInfo)
    assert key_info.protocol_name == "id-PK-ECDH" and key_info.key_id == 1
    assert key_info.domain_parameter.parameter_id == 13
    expected_point = bytes.fromhex(SAMPLES["card_security"][0]["chip_static_public_key"])
    assert key_info.public_point == expected_point
    key = key_info.public_key
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "brainpoolP256r1"
    assert key.public_bytes(*_uncompressed()) == expected_point
    ri_sha256 = "0.4.0.127.0.7.2.2.5.2.3"
    assert card_security.security_infos.of_type(RestrictedIdentificationInfo) == (
        RestrictedIdentificationInfo(ri_sha256, version=1, key_id=1, authorized_only=False),
        RestrictedIdentificationInfo(ri_sha256, version=1, key_id=2, authorized_only=True),
    )
    (ri_domain,) = card_security.security_infos.of_type(RestrictedIdentificationDomainParameterInfo)
    assert ri_domain.protocol_name == "id-RI-ECDH"
    assert ri_domain.domain_parameter.parameter_id == 13
    assert not card_security.security_infos.of_type(UnknownSecurityInfo)
    signer = card_security.to_json()["signer_certificate"]
    assert signer["serial_number"] == "90918"
    assert "HJP PB DS" in signer["subject"]


def test_card_security_rejects_a_sod() -> None:
    sod = (VECTORS / "lds" / "bsi-tr03105-refset" / "EF.SOD").read_bytes()
    with pytest.raises(DecodeError, match="eContentType"):
        CardSecurity.decode(sod[4:])


def _uncompressed() -> tuple[Any, Any]:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return Encoding.X962, PublicFormat.UncompressedPoint


@given(security_infos)
def test_built_security_infos_round_trip(infos: SecurityInfos) -> None:
    card_access = CardAccess(infos)
    decoded = CardAccess.decode(card_access.encode())
    assert decoded == card_access
    assert decoded.encode() == card_access.encode()
    json.dumps(decoded.to_json())


@given(st.binary(max_size=300))
def test_random_bytes_give_only_decode_error(data: bytes) -> None:
    for decoder in (CardAccess.decode, CardSecurity.decode, SecurityInfos.decode):
        try:
            decoder(data)
        except DecodeError:
            pass


@given(st.sampled_from([OPENPACE_CARD_ACCESS, CARD_SECURITY]).flatmap(mutated))
def test_mutated_samples_give_only_decode_error(data: bytes) -> None:
    for decoder in (CardAccess.decode, CardSecurity.decode):
        try:
            result = decoder(data)
        except DecodeError:
            continue
        json.dumps(result.to_json())
        assert type(result).decode(result.encode()) == result
