"""The sample applicant becomes a complete, decodable LDS of an Uzbek ID card."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization

from idcard.lds.dump import Dump
from idcard.mrz import uzbek_profile_problems
from idcard.pinfl import check_against_mrz
from station.applicant import sample_applicant
from station.card_data import CardKeys, build_card_data


@pytest.fixture(scope="module")
def keys() -> CardKeys:
    return CardKeys.generate()


def test_sample_card_has_every_file_and_follows_the_profile(keys: CardKeys) -> None:
    dump = build_card_data(sample_applicant(), keys)
    assert list(dump.files) == [
        "EF.CardAccess", "EF.COM", "DG1", "DG2", "DG3", "DG7", "DG11", "DG12", "DG14", "DG15",
    ]
    objs = dump.decode_all()
    mrz = objs["DG1"].mrz  # type: ignore[attr-defined]
    assert str(mrz).splitlines() == [
        "IUUZBAD1234567731503902620452<",
        "9003152M3611199UZBUZB<<<<<<<<8",
        "GULOMOV<<OTKIR<<<<<<<<<<<<<<<<",
    ]
    assert uzbek_profile_problems(mrz) == []
    assert check_against_mrz(mrz) == []
    listed = objs["EF.COM"].data_groups  # type: ignore[attr-defined]
    assert listed == ("DG1", "DG2", "DG3", "DG7", "DG11", "DG12", "DG14", "DG15")
    assert objs["DG11"].personal_number == "31503902620452"  # type: ignore[attr-defined]
    assert objs["DG12"].date_of_issue.date == date(2026, 11, 20)  # type: ignore[attr-defined]
    # DG15 carries the AA public key, DG14 the CA public key, both of the chip's own keys.
    spki = keys.active_authentication.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert objs["DG15"].public_key_info == spki  # type: ignore[attr-defined]
    ca_spki = keys.chip_authentication.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    infos = objs["DG14"].security_infos.infos  # type: ignore[attr-defined]
    assert [i.public_key_info for i in infos if hasattr(i, "public_key_info")] == [ca_spki]
    # Images travel unchanged.
    assert objs["DG2"].images == (sample_applicant().portrait,)  # type: ignore[attr-defined]


def test_dump_round_trips_byte_for_byte(tmp_path, keys: CardKeys) -> None:  # type: ignore[no-untyped-def]
    dump = build_card_data(sample_applicant(), keys)
    dump.write(tmp_path / "card")
    back = Dump.read(tmp_path / "card")
    assert back.files == dump.files
    for name, obj in back.decode_all().items():
        assert obj.encode() == back.files[name], name
