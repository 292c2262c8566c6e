"""Chip Authentication's DH keys live in the group objects of idcard.protocols.params: one
implementation of encoding, validation and key agreement (RFC 5114 groups of 9303-11 §9.5.1)."""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import keys as asn1_keys

from idcard.apdu import ResponseAPDU
from idcard.errors import DecodeError
from idcard.protocols.ca import (
    CAChip,
    CAProtocol,
    CAResult,
    DHGroup,
    DHPrivateKey,
    DHPublicKey,
    compressed,
    load_public_key,
    shared_secret,
)
from idcard.protocols.params import DHDomainParameters, standardized


def test_dh_group_is_the_params_group() -> None:
    assert DHGroup is DHDomainParameters
    group = standardized(2)
    assert isinstance(group, DHDomainParameters)
    unnamed = DHGroup(group.p, group.g, group.q)
    assert unnamed == group and unnamed.name == "" and group.name == "MODP-2048-256"


def test_x942_key_gets_the_standardized_group() -> None:
    group = standardized(0)
    assert isinstance(group, DHDomainParameters)
    key = DHPrivateKey(group, 0x0123456789ABCDEF).public_key()
    spki = asn1_keys.PublicKeyInfo({
        "algorithm": {"algorithm": "dh", "parameters": {"p": group.p, "g": group.g, "q": group.q}},
        "public_key": key.y,
    }).dump()  # fmt: skip
    loaded = load_public_key(spki)
    assert isinstance(loaded, DHPublicKey)
    assert loaded.group is group and loaded == key
    assert loaded.y == pow(group.g, 0x0123456789ABCDEF, group.p)
    assert compressed(loaded) == hashlib.sha1(key.encode()).digest()  # noqa: S324
    for bad in (0, 1, group.p - 1, group.p):
        with pytest.raises(DecodeError):
            DHPublicKey(group, bad)


def test_chip_authentication_in_a_2048_bit_group() -> None:
    group = standardized(2)
    assert isinstance(group, DHDomainParameters)
    chip_key = DHPrivateKey.generate(group)
    terminal = DHPrivateKey.generate(group)
    assert 1 <= chip_key.x < group.q and len(terminal.public_key().encode()) == 256
    expected = pow(chip_key.public_key().y, terminal.x, group.p).to_bytes(256, "big")
    assert shared_secret(terminal, chip_key.public_key()) == expected
    assert shared_secret(chip_key, terminal.public_key()) == expected
    proto = CAProtocol(chip_key.public_key(), ephemeral_key=terminal, cipher="AES-256")
    chip = CAChip(chip_key, cipher="AES-256")
    ga = proto.receive(chip.handle(proto.start()))
    assert not isinstance(ga, CAResult | bool)
    answer = chip.handle(ga)
    assert answer == ResponseAPDU(b"\x7c\x00")
    result = proto.receive(answer)
    assert isinstance(result, CAResult) and chip.result is not None
    assert result.channel.keys == chip.result.channel.keys
