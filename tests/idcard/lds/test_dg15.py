"""DG15: the BSI RSA key and an explicit-parameter EC key, round trips, robustness."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from asn1crypto import keys
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS, require_tool
from tests.idcard.lds._security_info_strategies import CURVES, mutated

from idcard.errors import DecodeError
from idcard.lds.dg15 import DG15, curve_for_parameter_id, load_public_key

BSI_DG15 = (VECTORS / "lds" / "bsi-tr03105-refset" / "DG15").read_bytes()
EC_DG15 = (VECTORS / "lds" / "lds-samples" / "DG15").read_bytes()
BSI_DG15_SHA256 = "D13611CB9400C34AF5FE8460682A03296F2A619BCE19D7444F0AC71BB0EF73A0"


def test_bsi_rsa_key() -> None:
    dg15 = DG15.decode(BSI_DG15)
    assert hashlib.sha256(dg15.raw).hexdigest().upper() == BSI_DG15_SHA256
    assert dg15.encode() == BSI_DG15
    assert dg15.algorithm == "rsa"
    key = dg15.public_key
    assert isinstance(key, rsa.RSAPublicKey)
    numbers = key.public_numbers()
    assert numbers.e == 65537 and key.key_size == 1024
    assert hex(numbers.n).upper().startswith("0X8130E120BB785A45D8D87E6F1A89EF4C")
    assert dg15.to_json()["key_size"] == 1024


def test_explicit_brainpool_key_is_mapped_to_its_named_curve() -> None:
    dg15 = DG15.decode(EC_DG15)
    assert dg15.encode() == EC_DG15
    assert dg15.algorithm == "ec"
    spki = keys.PublicKeyInfo.load(dg15.public_key_info)
    assert spki["algorithm"]["parameters"].name == "specified"
    key = dg15.public_key
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "brainpoolP256r1"
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert point == spki["public_key"].native
    assert dg15.to_json()["curve"] == "brainpoolP256r1"
    json.dumps(dg15.to_json())


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1 and len(old) == len(new)
    return data.replace(old, new)


def test_explicit_parameters_that_are_not_the_curve_are_refused() -> None:
    spki = DG15.decode(EC_DG15).public_key_info
    b = keys.PublicKeyInfo.load(spki)["algorithm"]["parameters"].chosen["curve"]["b"].native
    wrong_b = (int.from_bytes(b, "big") ^ 1).to_bytes(len(b), "big")
    tampered = _replace_once(spki, b, wrong_b)
    assert DG15(tampered).algorithm == "ec"
    with pytest.raises(DecodeError, match="does not support"):
        load_public_key(tampered)
    # The same for a wrong order n (the last INTEGER before the cofactor).
    order = keys.PublicKeyInfo.load(spki)["algorithm"]["parameters"].chosen["order"].native
    raw_order = order.to_bytes((order.bit_length() + 8) // 8, "big")
    wrong_order = (order - 2).to_bytes(len(raw_order), "big")
    with pytest.raises(DecodeError, match="does not support"):
        load_public_key(_replace_once(spki, raw_order, wrong_order))


@pytest.mark.tool
@pytest.mark.parametrize("curve", ["brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1"])
def test_openssl_explicit_parameters_cross_check(curve: str, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    private = tmp_path / "key.pem"
    subprocess.run(
        [openssl, "ecparam", "-name", curve, "-genkey", "-param_enc", "explicit", "-out", private],
        check=True,
        capture_output=True,
    )
    spki = subprocess.run(
        [openssl, "ec", "-in", private, "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    assert keys.PublicKeyInfo.load(spki)["algorithm"]["parameters"].name == "specified"
    key = DG15.decode(b"\x6f" + _length(len(spki)) + spki).public_key
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == curve
    assert key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint) == (
        keys.PublicKeyInfo.load(spki)["public_key"].native
    )


def _length(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x82]) + n.to_bytes(2, "big")


def test_standardized_parameter_ids_name_curves() -> None:
    assert curve_for_parameter_id(13) is not None
    assert curve_for_parameter_id(13).name == "brainpoolP256r1"  # type: ignore[union-attr]
    assert curve_for_parameter_id(12).name == "secp256r1"  # type: ignore[union-attr]
    assert curve_for_parameter_id(0) is None and curve_for_parameter_id(9) is None


def test_padding_and_structure_errors() -> None:
    assert DG15.decode(BSI_DG15 + b"\x00\x00") == DG15.decode(BSI_DG15)
    with pytest.raises(DecodeError, match="SubjectPublicKeyInfo"):
        DG15.decode(bytes.fromhex("6F03020101"))
    with pytest.raises(DecodeError):
        DG15.decode(bytes.fromhex("6F0430020500"))


@given(st.sampled_from(CURVES), st.integers(min_value=1, max_value=2**160))
def test_built_ec_dg15_round_trips(curve: ec.EllipticCurve, secret: int) -> None:
    key = ec.derive_private_key(secret, curve).public_key()
    dg15 = DG15.from_public_key(key)
    decoded = DG15.decode(dg15.encode())
    assert decoded == dg15
    assert decoded.public_key == key


@given(st.sampled_from([BSI_DG15, EC_DG15]).flatmap(mutated))
def test_mutated_samples_give_only_decode_error(data: bytes) -> None:
    try:
        dg15 = DG15.decode(data)
    except DecodeError:
        return
    try:
        _ = dg15.public_key
    except DecodeError:
        pass
    json.dumps(dg15.to_json())
    assert DG15.decode(dg15.encode()) == dg15


@given(st.binary(max_size=200))
def test_random_bytes_give_only_decode_error(data: bytes) -> None:
    try:
        DG15.decode(b"\x6f" + data)
    except DecodeError:
        pass
