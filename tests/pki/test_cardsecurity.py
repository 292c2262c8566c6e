"""pki.cardsecurity: EF.CardSecurity signed by the DS, decoded by idcard and verified."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.idcard.verify.pa_pki import PKI, der

from idcard.asn1 import oids
from idcard.lds.security_infos import (
    CardSecurity,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfos,
)
from pki.cardsecurity import sign_card_security
from pki.errors import IssuanceError
from pki.keys import SignatureAlgorithm, SoftwareSigner, verify_signature

WHEN = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI()


def _infos() -> tuple[SecurityInfos, bytes]:
    chip_key = ec.derive_private_key(0x1234567, ec.BrainpoolP256R1())
    spki = chip_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    infos = SecurityInfos(
        (
            PACEInfo(f"{oids.ID_PACE_ECDH_CAM}.2", 2, 13),
            ChipAuthenticationPublicKeyInfo(oids.ID_PK_ECDH, spki),
        )
    )
    return infos, spki


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
def test_signed_card_security_decodes_and_verifies(pki: PKI, hash_name: str) -> None:
    infos, spki = _infos()
    algorithm = SignatureAlgorithm.ecdsa(hash_name)  # type: ignore[arg-type]
    data = sign_card_security(infos, pki.signer(), der(pki.ds), algorithm=algorithm,
                              signing_time=WHEN)  # fmt: skip
    card = CardSecurity.decode(data)
    assert card.encode() == data
    assert card.signed_data["encap_content_info"]["content_type"].dotted == oids.ID_SECURITY_OBJECT
    assert card.encapsulated_content == infos.encode()
    keys = card.security_infos.of_type(ChipAuthenticationPublicKeyInfo)
    assert [k.public_key_info for k in keys] == [spki]
    assert [p.parameter_id for p in card.security_infos.pace_infos] == [13]
    attrs = {a["type"].native: a["values"][0].native for a in card.signed_attributes or []}
    assert attrs["message_digest"] == hashlib.new(hash_name, infos.encode()).digest()
    assert attrs["signing_time"] == WHEN
    signed = card.signed_attrs_der
    assert signed is not None
    signature = bytes(card.signer_info["signature"].native)
    assert verify_signature(pki.ds_key.public_key(), signature, signed, algorithm)
    # any change to the signed attributes breaks the signature
    tampered = signed[:-1] + bytes([signed[-1] ^ 1])
    assert not verify_signature(pki.ds_key.public_key(), signature, tampered, algorithm)
    cert = card.signer_certificate
    assert cert is not None and cert.dump() == der(pki.ds)


def test_card_security_needs_a_chip_key(pki: PKI) -> None:
    only_pace = SecurityInfos((PACEInfo(f"{oids.ID_PACE_ECDH_CAM}.2", 2, 13),))
    with pytest.raises(IssuanceError, match="ChipAuthenticationPublicKeyInfo"):
        sign_card_security(only_pace, pki.signer(), der(pki.ds))


def test_card_security_signer_must_match_certificate(pki: PKI) -> None:
    infos, _ = _infos()
    other = SoftwareSigner(ec.generate_private_key(ec.SECP256R1()), "other")
    with pytest.raises(IssuanceError, match="not the DS certificate's key"):
        sign_card_security(infos, other, der(pki.ds))


def test_card_security_naive_time_refused(pki: PKI) -> None:
    infos, _ = _infos()
    with pytest.raises(IssuanceError, match="timezone-aware"):
        sign_card_security(infos, pki.signer(), der(pki.ds),
                           signing_time=dt.datetime(2026, 1, 1))  # fmt: skip
