"""EF.SOD: the BSI TR-03105 sample against its data groups, building blocks, robustness."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from asn1crypto import algos, cms, core, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS
from tests.idcard.lds._security_info_strategies import mutated

from idcard.asn1.lds_security_object import LDSSecurityObject
from idcard.errors import DecodeError, EncodeError
from idcard.lds.sod import SOD, build_lds_security_object

REFSET = VECTORS / "lds" / "bsi-tr03105-refset"
BSI_SOD = (REFSET / "EF.SOD").read_bytes()
EXPECTED: dict[str, Any] = json.loads((VECTORS / "lds" / "security-samples.json").read_text())[
    "sod_expected"
]


def test_bsi_sod_hashes_match_the_bsi_data_group_files() -> None:
    sod = SOD.decode(BSI_SOD)
    assert sod.encode() == BSI_SOD and sod.raw == BSI_SOD
    assert sod.version == 0 and sod.lds_version is None and sod.unicode_version is None
    assert sod.hash_algorithm == "sha256"
    hashes = sod.data_group_hashes
    assert list(hashes) == [1, 2, 3, 14, 4]  # stored order
    assert {f"DG{n}": v.hex().upper() for n, v in hashes.items()} == EXPECTED["dg_hashes_sha256"]
    for number, name in ((1, "DG1"), (14, "DG14")):
        digest = hashlib.new(sod.hash_algorithm, (REFSET / name).read_bytes()).digest()
        assert hashes[number] == digest
    # The reference set's DG15 is not covered by its EF.SOD (no hash for 15 is stored).
    assert 15 not in hashes


def test_bsi_sod_signer_pieces() -> None:
    sod = SOD.decode(BSI_SOD)
    assert sod.message_digest is not None
    assert sod.message_digest.hex().upper() == EXPECTED["signed_attrs_message_digest"]
    assert sod.message_digest == hashlib.sha256(sod.encapsulated_content).digest()
    assert sod.encapsulated_content in BSI_SOD
    assert sod.digest_algorithm == "sha256" and sod.signature_algorithm == "rsassa_pss"
    cert = sod.signer_certificate
    assert cert is not None and cert.serial_number == EXPECTED["dsc_serial_number"]
    assert len(sod.signer_infos) == 1 and len(sod.certificates) == 1
    attrs = sod.signed_attributes
    assert attrs is not None
    assert [a["type"].native for a in attrs] == ["content_type", "message_digest"]
    # signed_attrs_der is what was signed (RFC 5652 §5.4): check it with the DS key.
    signed = sod.signed_attrs_der
    assert signed is not None and signed[0] == 0x31
    assert signed[1:] == attrs.dump()[1:]
    key = load_der_public_key(cert.public_key.dump())
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(
        sod.signature,
        signed,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    out = sod.to_json()
    assert out["signer_certificate"]["serial_number"] == str(EXPECTED["dsc_serial_number"])
    assert "HJP PB DS" in out["signer_certificate"]["subject"]
    assert out["data_group_hashes"]["14"] == EXPECTED["dg_hashes_sha256"]["DG14"]
    json.dumps(out)


def test_padding_and_wrong_content() -> None:
    assert SOD.decode(BSI_SOD + b"\x00" * 4) == SOD.decode(BSI_SOD)
    card_security = bytes.fromhex(
        json.loads((VECTORS / "lds" / "security-samples.json").read_text())["card_security"][0][
            "hex"
        ]
    )
    with pytest.raises(DecodeError, match="eContentType"):
        SOD.wrap(card_security)
    with pytest.raises(DecodeError, match="expected tag 77"):
        SOD.decode(b"\x76" + BSI_SOD[1:])


def test_build_lds_security_object_v0_and_v1() -> None:
    hashes_in = {2: b"\x02" * 32, 1: b"\x01" * 32}
    v0 = LDSSecurityObject.load(build_lds_security_object(hashes_in, "sha256"))
    assert v0["version"].native == "v0"
    assert v0["hash_algorithm"]["algorithm"].native == "sha256"
    assert v0["hash_algorithm"]["parameters"].native is None
    assert [h["data_group_number"].native for h in v0["data_group_hash_values"]] == [1, 2]
    assert isinstance(v0["lds_version_info"], core.Void)
    der = build_lds_security_object(hashes_in, "sha256", "0108", "040000")
    v1 = LDSSecurityObject.load(der)
    assert v1["version"].native == "v1"
    assert v1["lds_version_info"].native == {"lds_version": "0108", "unicode_version": "040000"}
    assert der.endswith(bytes.fromhex("300E1304303130381306303430303030"))


@pytest.mark.parametrize(
    ("hashes_in", "algorithm", "versions"),
    [
        ({1: b"\x00" * 32}, "sha256", (None, None)),
        ({1: b"\x00" * 32, 2: b"\x00" * 31}, "sha256", (None, None)),
        ({1: b"\x00" * 32, 17: b"\x00" * 32}, "sha256", (None, None)),
        ({1: b"\x00" * 32, 2: b"\x00" * 32}, "no-such-hash", (None, None)),
        ({1: b"\x00" * 32, 2: b"\x00" * 32}, "sha256", ("0108", None)),
    ],
)
def test_build_lds_security_object_refuses_bad_input(
    hashes_in: dict[int, bytes], algorithm: str, versions: tuple[str | None, str | None]
) -> None:
    with pytest.raises(EncodeError):
        build_lds_security_object(hashes_in, algorithm, *versions)


def _signed_content_info(lso: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """A minimal SignedData over ``lso`` as the PKI work will produce it (test fixture)."""
    name = x509.Name.build({"country_name": "UZ", "common_name": "Test DS"})
    public = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": 4242,
            "signature": {"algorithm": "sha256_ecdsa"},
            "issuer": name,
            "validity": {
                "not_before": x509.Time({"utc_time": datetime(2026, 1, 1, tzinfo=UTC)}),
                "not_after": x509.Time({"utc_time": datetime(2036, 1, 1, tzinfo=UTC)}),
            },
            "subject": name,
            "subject_public_key_info": x509.PublicKeyInfo.load(public),
        }
    )
    cert_sig = key.sign(tbs.dump(), ec.ECDSA(hashes.SHA256()))
    cert = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature_value": cert_sig,
        }
    )
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["lds_security_object"]},
            {"type": "message_digest", "values": [hashlib.sha256(lso).digest()]},
        ]
    )
    signature = key.sign(b"\x31" + attrs.dump()[1:], ec.ECDSA(hashes.SHA256()))
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": cert.issuer,
                        "serial_number": cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {
                "content_type": "lds_security_object",
                "content": LDSSecurityObject.load(lso),
            },
            "certificates": [cert],
            "signer_infos": [signer],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


hash_maps = st.dictionaries(
    st.integers(min_value=1, max_value=16), st.binary(min_size=32, max_size=32), min_size=2
)


@given(hash_maps, st.booleans())
def test_built_sod_round_trips(hashes_in: dict[int, bytes], v1: bool) -> None:
    versions = ("0108", "040000") if v1 else (None, None)
    lso = build_lds_security_object(hashes_in, "sha256", *versions)
    key = ec.derive_private_key(0x1D_CA_FE, ec.SECP256R1())
    sod = SOD.wrap(_signed_content_info(lso, key))
    decoded = SOD.decode(sod.encode())
    assert decoded == sod and decoded.raw == sod.encode()
    assert decoded.data_group_hashes == dict(sorted(hashes_in.items()))
    assert decoded.version == (1 if v1 else 0)
    assert (decoded.lds_version, decoded.unicode_version) == versions
    assert decoded.encapsulated_content == lso
    assert decoded.message_digest == hashlib.sha256(lso).digest()
    cert = decoded.signer_certificate
    assert cert is not None and cert.serial_number == 4242
    assert decoded.signed_attrs_der is not None
    key.public_key().verify(decoded.signature, decoded.signed_attrs_der, ec.ECDSA(hashes.SHA256()))


@given(mutated(BSI_SOD))
def test_mutated_sample_gives_only_decode_error(data: bytes) -> None:
    try:
        sod = SOD.decode(data)
    except DecodeError:
        return
    json.dumps(sod.to_json())
    assert SOD.decode(sod.encode()) == sod


@given(st.binary(max_size=300))
def test_random_bytes_give_only_decode_error(data: bytes) -> None:
    for candidate in (data, b"\x77" + data):
        try:
            SOD.decode(candidate)
        except DecodeError:
            pass
