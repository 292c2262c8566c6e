"""DG14: the BSI TR-03105 sample, canonical re-encoding, round trips and robustness."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS
from tests.idcard.lds._security_info_strategies import mutated, security_infos

from idcard import tlv
from idcard.errors import DecodeError
from idcard.lds.dg14 import DG14
from idcard.lds.security_infos import (
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfos,
    TerminalAuthenticationInfo,
)

BSI_DG14 = (VECTORS / "lds" / "bsi-tr03105-refset" / "DG14").read_bytes()
# SHA-256 of the file as listed in the BSI EF.SOD (vectors/lds/security-samples.json).
BSI_DG14_SHA256 = "CF5004FFCCD64E1A8BD3A42FD53814EC3D4481640BE1906D0ECFEB016EF6A6AE"


def test_bsi_dg14_members() -> None:
    dg14 = DG14.decode(BSI_DG14)
    assert hashlib.sha256(dg14.raw).hexdigest().upper() == BSI_DG14_SHA256
    infos = dg14.security_infos
    assert len(infos) == 3
    assert infos.of_type(TerminalAuthenticationInfo) == (TerminalAuthenticationInfo(version=1),)
    assert infos.chip_authentication_infos == (
        ChipAuthenticationInfo("0.4.0.127.0.7.2.2.3.2.1", version=1, key_id=None),
    )
    (key_info,) = infos.chip_authentication_public_keys
    assert isinstance(key_info, ChipAuthenticationPublicKeyInfo)
    assert key_info.protocol_name == "id-PK-ECDH" and key_info.key_id is None
    assert key_info.domain_parameter.algorithm == "1.2.840.10045.2.1"  # explicit parameters
    assert key_info.public_point == bytes.fromhex(
        "04A847F020F71DF33D386BE7C9223A354D6AC7727018B26E281C6FFB96A83B142AAF303C23F2BCF2"
        "CDE4706C14E45914A9BE42C15BCB67A01F"
    )
    # The SPKI is kept byte for byte as stored in the file.
    assert key_info.public_key_info in BSI_DG14
    # brainpoolP224r1 (the curve of this key) is not one `cryptography` implements.
    with pytest.raises(DecodeError):
        _ = key_info.public_key
    names = [i["protocol_name"] for i in dg14.to_json()["security_infos"]]
    assert names == ["id-TA", "id-CA-ECDH-3DES-CBC-CBC", "id-PK-ECDH"]
    json.dumps(dg14.to_json())


def test_bsi_dg14_is_not_der_sorted_so_encode_sorts_it() -> None:
    # The sample stores its SET OF members unsorted (3082.. before 300F.. and 300D..), which
    # X.690 §11.6 does not allow in DER. encode() gives the canonical form: same members, sorted.
    dg14 = DG14.decode(BSI_DG14)
    members = [m.encode() for m in tlv.decode_one(BSI_DG14).children()[0].children()]
    assert members != sorted(members)
    canonical = dg14.encode()
    assert canonical != BSI_DG14 and len(canonical) == len(BSI_DG14)
    assert [m.encode() for m in tlv.decode_one(canonical).children()[0].children()] == sorted(
        members
    )
    assert DG14.decode(canonical) == dg14
    assert DG14.decode(canonical).encode() == canonical


def test_padding_wrong_tag_and_trailing_bytes() -> None:
    assert DG14.decode(BSI_DG14 + b"\xff\xff") == DG14.decode(BSI_DG14)
    with pytest.raises(DecodeError, match="expected tag 6E"):
        DG14.decode(b"\x6f" + BSI_DG14[1:])
    inner = tlv.decode_one(BSI_DG14).value
    with pytest.raises(DecodeError, match="after SecurityInfos") as err:
        DG14.decode(tlv.encode(0x6E, inner + b"\x05\x00"))
    assert err.value.offset == 4 + len(inner)


@given(security_infos)
def test_built_dg14_round_trips(infos: SecurityInfos) -> None:
    dg14 = DG14(infos)
    encoded = dg14.encode()
    assert encoded[0] == 0x6E
    decoded = DG14.decode(encoded)
    assert decoded == dg14 and decoded.raw == encoded and decoded.encode() == encoded


@given(st.binary(max_size=200).map(lambda b: b"\x6e" + b))
def test_random_bytes_give_only_decode_error(data: bytes) -> None:
    try:
        DG14.decode(data)
    except DecodeError:
        pass


@given(mutated(BSI_DG14))
def test_mutated_sample_gives_only_decode_error(data: bytes) -> None:
    try:
        dg14 = DG14.decode(data)
    except DecodeError:
        return
    json.dumps(dg14.to_json())
    assert DG14.decode(dg14.encode()) == dg14
