"""The chip's files of one card (station.point.lds) from a real application, the Center's answer
and card record, the shipped sample captures and fresh chip keys; EF.SOD signed by the Center
from the hashes alone, then checked by idcard's passive authentication."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.station.center.test_sod import PASSPHRASE, make_pki, trust
from tests.station.point.conftest import CENTRE, NOW, POINT, RESIDENT, adult_form

import station
from idcard.lds.com import EFCOM
from idcard.lds.dg1 import DG1
from idcard.lds.dg2 import DG2
from idcard.lds.dg3 import DG3
from idcard.lds.dg11 import DG11
from idcard.lds.dg12 import DG12
from idcard.lds.dg14 import DG14
from idcard.lds.dg15 import DG15
from idcard.lds.displayed import DG7
from idcard.lds.dump import Dump
from idcard.lds.sod import SOD
from idcard.mrz import uzbek_profile_problems
from idcard.verify.passive import verify_passive
from idcard.verify.report import Status
from station.api import create_app
from station.capture import (
    FACE_RULES,
    FaceCapture,
    FingerCapture,
    FingerException,
    check_face,
    check_finger,
)
from station.card_data import CardKeys
from station.center import service as center_service
from station.center.models import CardInfo
from station.client import CenterClient
from station.db import Database
from station.domain.cards import CardStatus
from station.domain.grounds import Ground, Scheme
from station.folders.pki import PKIDocumentSigner
from station.point import service as point_service
from station.point.lds import LDSError, build_lds, face_quality, sod_hashes, with_sod
from station.point.models import Application, ApplicationStatus

SAMPLES = Path(station.__file__).parent / "samples"
WHEN = dt.datetime(2026, 12, 4, 10, 15, 7, tzinfo=dt.UTC)


@functools.cache
def face() -> FaceCapture:
    return check_face((SAMPLES / "photo.jpg").read_bytes())


@functools.cache
def fingers() -> tuple[FingerCapture, FingerCapture]:
    return (check_finger((SAMPLES / "finger-right-index.jpg").read_bytes(), 2),
            check_finger((SAMPLES / "finger-left-index.jpg").read_bytes(), 7))  # fmt: skip


@functools.cache
def keys() -> CardKeys:
    return CardKeys.generate()


@pytest.fixture(scope="module")
def pki_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki") / "pki")


@pytest.fixture
def center(
    center_db: Database, pki_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CenterClient]:
    """The Center in process with the points registered, series AD and the PKI's DS."""
    monkeypatch.setenv("IDKARTA_PASSPHRASE", PASSPHRASE)
    for config in (POINT, CENTRE):
        center_service.register_point(center_db, code=config.code, name=config.name,
                                      kind=config.kind, place_code=config.place_code,
                                      now=NOW)  # fmt: skip
    center_service.open_series(center_db, "AD")
    signer = PKIDocumentSigner(pki_folder)
    app = create_app(center_db, clock=lambda: NOW, sod_signer=signer)
    with CenterClient.in_process(app) as client:
        yield client
    signer.close()


@pytest.fixture
def returned(point_db: Database, center: CenterClient) -> tuple[Application, CardInfo]:
    """The adult's application, accepted and returned by the Center, and its card record."""
    app = point_service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    app = point_service.submit(point_db, app.id, center=center, now=NOW)
    assert app.card is not None
    return app, center.card_info(app.card)


def test_the_card_files_are_built_signed_at_the_center_and_pass_passive_authentication(
    returned: tuple[Application, CardInfo], center: CenterClient, pki_folder: Path
) -> None:
    app, card = returned
    signature = (SAMPLES / "signature.jpg").read_bytes()
    lds = build_lds(app, card, point=POINT, face=face(), fingers=fingers(), keys=keys(),
                    personalized_at=WHEN, signature=signature)  # fmt: skip
    assert "EF.SOD" not in lds.files
    assert set(lds.files) == {"EF.COM", "EF.CardAccess", "DG1", "DG2", "DG3", "DG7", "DG11",
                              "DG12", "DG14", "DG15"}  # fmt: skip
    hashes = sod_hashes(lds)
    assert sorted(hashes) == [1, 2, 3, 7, 11, 12, 14, 15]
    sod = center.sign_sod(app.card or "", point=POINT.code, hashes=hashes)
    full = with_sod(lds, sod)
    assert full.files["EF.SOD"] == sod and SOD.decode(sod).data_group_hashes == hashes
    report = verify_passive(full.files, trust(pki_folder), at=NOW)
    assert report.statuses["sod_signature"] is Status.PASS
    assert report.statuses["chain"] is Status.PASS
    assert report.statuses["key_usage"] is Status.PASS
    for n in hashes:
        assert report.statuses[f"DG{n}"] is Status.PASS
    # a data group changed after signing fails passive authentication and with_sod
    dg11 = lds.files["DG11"].replace(b"TOSHKENT", b"SAMARQND")
    tampered = {**full.files, "DG11": dg11}
    assert verify_passive(tampered, trust(pki_folder), at=NOW).statuses["DG11"] is Status.FAIL
    with pytest.raises(LDSError) as info:
        with_sod(Dump({**lds.files, "DG11": dg11}), sod)
    assert info.value.field == "sod"
    assert info.value.reason == "the EF.SOD does not cover these files (DG11 differ)"


def test_each_data_group_holds_what_it_must(returned: tuple[Application, CardInfo]) -> None:
    app, card = returned
    person = app.form.person
    lds = build_lds(app, card, point=POINT, face=face(), fingers=fingers(), keys=keys(),
                    personalized_at=WHEN)  # fmt: skip
    mrz = DG1.decode(lds.files["DG1"]).mrz
    assert (mrz.format, mrz.document_code, mrz.document_number) == ("TD1", "IU", card.card)
    assert mrz.optional_data == card.pinfl == app.pinfl == person.pinfl
    assert mrz.expiry_date == card.expiry_date.strftime("%y%m%d") == "361203"  # 10 years
    assert mrz.birth_date == "900315" and mrz.sex == "M" and mrz.nationality == "UZB"
    assert (mrz.surname, mrz.given_names) == ("GULOMOV", "OTKIR")
    assert uzbek_profile_problems(mrz) == []
    # DG2: the accepted token portrait itself, token frontal, its quality in the header
    (portrait,) = DG2.decode(lds.files["DG2"]).faces
    (image,) = portrait.record.images  # type: ignore[union-attr]
    assert image.image == face().image
    assert (image.width, image.height) == (face().width, face().height) == (360, 480)
    assert image.face_image_type == 2
    assert image.quality == face_quality(face()) and 1 <= image.quality <= 100
    # DG3: right then left index finger, each its own score in its 19794-4 header
    dg3 = DG3.decode(lds.files["DG3"])
    views = [v for b in dg3.fingers for v in b.record.fingers]
    assert [(v.position, v.quality, v.image) for v in views] == [
        (f.position, f.score, f.image) for f in fingers()
    ]
    assert all(v.impression_type == 0 for v in views) and len(dg3.fingers) == 2
    dg11 = DG11.decode(lds.files["DG11"])
    assert dg11.personal_number == card.pinfl
    assert dg11.full_name == "GʻULOMOV<<OʻTKIR SHUHRAT OʻGʻLI"
    assert dg11.other_names == ("ҒУЛОМОВ<<ЎТКИР ШУҲРАТ ЎҒЛИ",)
    assert dg11.full_date_of_birth is not None and dg11.full_date_of_birth.text == "19900315"
    assert dg11.address == person.address.upper()
    dg12 = DG12.decode(lds.files["DG12"])
    assert dg12.issuing_authority == POINT.name
    assert dg12.personalization_device_serial == POINT.code
    assert dg12.date_of_issue is not None and dg12.date_of_issue.text == "20261204"
    assert dg12.personalization_time is not None
    assert dg12.personalization_time.text == "20261204101507"
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    dg14 = DG14.decode(lds.files["DG14"])
    assert keys().chip_authentication.public_key().public_bytes(der, spki) in lds.files["DG14"]
    assert dg14.raw == lds.files["DG14"]
    dg15 = DG15.decode(lds.files["DG15"])
    assert dg15.raw == lds.files["DG15"]
    assert keys().active_authentication.public_key().public_bytes(der, spki) in lds.files["DG15"]
    com = EFCOM.decode(lds.files["EF.COM"])
    assert com.data_groups == ("DG1", "DG2", "DG3", "DG11", "DG12", "DG14", "DG15")
    assert "DG7" not in lds.files  # no signature given


def test_the_personalization_time_is_utc_whatever_zone_it_comes_in(
    returned: tuple[Application, CardInfo],
) -> None:
    app, card = returned
    tashkent = WHEN.astimezone(dt.timezone(dt.timedelta(hours=5)))
    lds = build_lds(app, card, point=POINT, face=face(), keys=keys(), personalized_at=tashkent)
    dg12 = DG12.decode(lds.files["DG12"])
    assert dg12.personalization_time is not None
    assert dg12.personalization_time.text == "20261204101507"


def test_without_an_accepted_finger_there_is_no_dg3_and_the_card_still_verifies(
    returned: tuple[Application, CardInfo], center: CenterClient, pki_folder: Path
) -> None:
    app, card = returned
    missing = (FingerException(2, "amputated"), FingerException(7, "bandaged"))
    signature = (SAMPLES / "signature.jpg").read_bytes()
    lds = build_lds(app, card, point=POINT, face=face(), fingers=missing, keys=keys(),
                    personalized_at=WHEN, signature=signature)  # fmt: skip
    assert "DG3" not in lds.files
    assert DG7.decode(lds.files["DG7"]).raw == lds.files["DG7"]
    assert EFCOM.decode(lds.files["EF.COM"]).data_groups == (
        "DG1", "DG2", "DG7", "DG11", "DG12", "DG14", "DG15")  # fmt: skip
    sod = center.sign_sod(card.card, point=POINT.code, hashes=sod_hashes(lds))
    report = verify_passive(with_sod(lds, sod).files, trust(pki_folder), at=NOW)
    assert report.statuses["sod_signature"] is Status.PASS
    assert all(report.statuses[n] is Status.PASS for n in lds.files if n.startswith("DG"))


def test_a_new_blank_gets_new_keys_and_the_old_sod_does_not_fit_it(
    returned: tuple[Application, CardInfo], center: CenterClient
) -> None:
    app, card = returned
    first = build_lds(app, card, point=POINT, face=face(), keys=keys(), personalized_at=WHEN)
    sod = center.sign_sod(card.card, point=POINT.code, hashes=sod_hashes(first))
    again = build_lds(app, card, point=POINT, face=face(), keys=keys(), personalized_at=WHEN)
    assert again == first  # the same inputs build the same bytes: a resumed job signs again
    assert center.sign_sod(card.card, point=POINT.code, hashes=sod_hashes(again)) == sod
    other = build_lds(app, card, point=POINT, face=face(), keys=CardKeys.generate(),
                      personalized_at=WHEN)  # fmt: skip
    with pytest.raises(LDSError) as info:
        with_sod(other, sod)
    assert info.value.reason == "the EF.SOD does not cover these files (DG14, DG15 differ)"
    resigned = center.sign_sod(card.card, point=POINT.code, hashes=sod_hashes(other))
    assert resigned != sod and with_sod(other, resigned).files["EF.SOD"] == resigned
    with pytest.raises(LDSError) as junk:
        with_sod(first, b"\x77\x03\x30\x01\x00")
    assert junk.value.field == "sod"


def _app(**changes: object) -> Application:
    base = Application(
        id="a-1", point_code=POINT.code, operator="aziza", form=adult_form(),
        status=ApplicationStatus.RETURNED, accepted_at=NOW, due_date=NOW.date(),
        person_key="k", pinfl="31503902620452", card="AD0000001",
    )  # fmt: skip
    return replace(base, **changes)


def _card(**changes: object) -> CardInfo:
    base = CardInfo(
        card="AD0000001", pinfl="31503902620452", status=CardStatus.ALLOCATED, point=POINT.code,
        request_id="a-1", issue_date=NOW.date(), expiry_date=dt.date(2036, 12, 3),
        previous_card=None, esign_serial=None, esign_fingerprint=None, oneid_event_id=None,
        history=(),
    )  # fmt: skip
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("app", "card", "field", "reason"),
    [
        (_app(card=None, pinfl=None, status=ApplicationStatus.ACCEPTED), _card(), "application",
         "a-1 has no card number and PINFL from the Center yet (submit it first)"),
        (_app(), _card(card="AD0000002"), "card",
         "the registry's card AD0000002 is not the application's AD0000001"),
        (_app(), _card(pinfl="41503902620457"), "card",
         "card AD0000001 is registered under another PINFL"),
        (_app(point_code=CENTRE.code), _card(), "point",
         "card AD0000001 is not a card of point TAS-01"),
        (_app(), _card(point=CENTRE.code), "point",
         "card AD0000001 is not a card of point TAS-01"),
        (_app(pinfl="31503912620459"), _card(pinfl="31503912620459"), "pinfl",
         "its digits 1-7 say born 1991-03-15, the person was born 1990-03-15"),
    ],
)
def test_inputs_that_disagree_are_refused(
    app: Application, card: CardInfo, field: str, reason: str
) -> None:
    with pytest.raises(LDSError) as info:
        build_lds(app, card, point=POINT, face=face(), keys=keys(), personalized_at=WHEN)
    assert (info.value.field, info.value.reason) == (field, reason)


def test_a_naive_time_and_an_unknown_hash_are_refused() -> None:
    with pytest.raises(LDSError) as naive:
        build_lds(_app(), _card(), point=POINT, face=face(), keys=keys(),
                  personalized_at=WHEN.replace(tzinfo=None))  # fmt: skip
    assert naive.value.field == "personalized_at"
    lds = build_lds(_app(), _card(), point=POINT, face=face(), keys=keys(), personalized_at=WHEN)
    with pytest.raises(LDSError) as unknown:
        sod_hashes(lds, "nohash")
    assert unknown.value.field == "algorithm"
    assert set(sod_hashes(lds, "sha1")) == set(sod_hashes(lds)) and all(
        len(d) == 20 for d in sod_hashes(lds, "sha1").values())  # fmt: skip


def test_a_residents_card_carries_the_holders_nationality() -> None:
    form = adult_form(scheme=Scheme.RESIDENT, ground=Ground.EXPIRED, person=RESIDENT)
    pinfl = "30107852620019"
    lds = build_lds(_app(form=form, pinfl=pinfl), _card(pinfl=pinfl), point=POINT, face=face(),
                    keys=keys(), personalized_at=WHEN)  # fmt: skip
    mrz = DG1.decode(lds.files["DG1"]).mrz
    assert (mrz.nationality, mrz.issuing_state, mrz.optional_data) == ("RUS", "UZB", pinfl)
    assert mrz.document_code == "IU" and mrz.optional_data_2 == "UZB"
    assert (mrz.surname, mrz.given_names) == ("IVANOV", "SERGEY")
    assert DG11.decode(lds.files["DG11"]).other_names == ("ИВАНОВ<<СЕРГЕЙ ПЕТРОВИЧ",)


def test_the_face_quality_is_the_sharpness_over_four_thresholds_within_1_to_100() -> None:
    threshold = FACE_RULES.min_sharpness
    assert face_quality(replace(face(), sharpness=4 * threshold)) == 100
    assert face_quality(replace(face(), sharpness=40 * threshold)) == 100
    assert face_quality(replace(face(), sharpness=2 * threshold)) == 50
    assert face_quality(replace(face(), sharpness=threshold)) == 25
    assert face_quality(replace(face(), sharpness=0.0)) == 1


@functools.cache
def _pki_root() -> str:
    import atexit
    import shutil
    import tempfile

    scratch = tempfile.mkdtemp(prefix="sod-lds-")
    atexit.register(shutil.rmtree, scratch, True)
    return str(make_pki(Path(scratch) / "pki"))


@functools.cache
def _signed() -> tuple[Dump, bytes]:
    """A card's files and an EF.SOD over them (signed here with a throwaway DS: what is tested
    is with_sod's comparison, not the signature)."""
    from pki.filestore import FileKeyStore
    from pki.sod import sign_data_group_hashes
    from station.folders.pki import PKIFolder

    lds = build_lds(_app(), _card(), point=POINT, face=face(), fingers=fingers(), keys=keys(),
                    personalized_at=WHEN)  # fmt: skip
    root = Path(_pki_root())
    folder = PKIFolder.open(root)
    label = str(folder.config["ds"][-1])
    store = FileKeyStore(root / "keys", lambda: PASSPHRASE.encode())
    sod = sign_data_group_hashes(sod_hashes(lds), "sha256", store.load(label),
                                 folder.read_cert(label), signing_time=NOW)  # fmt: skip
    return lds, sod


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_with_sod_refuses_any_changed_byte_of_any_data_group(data: st.DataObject) -> None:
    lds, sod = _signed()
    assert with_sod(lds, sod).files["EF.SOD"] == sod
    name = data.draw(st.sampled_from(sorted(n for n in lds.files if n.startswith("DG"))))
    raw = lds.files[name]
    at = data.draw(st.integers(0, len(raw) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = raw[:at] + bytes([raw[at] ^ flip]) + raw[at + 1 :]
    with pytest.raises(LDSError) as info:
        with_sod(Dump({**lds.files, name: changed}), sod)
    assert info.value.reason == f"the EF.SOD does not cover these files ({name} differ)"
    # EF.COM and EF.CardAccess are not hashed in EF.SOD (9303-10 §4.6.2): not refused
    assert with_sod(Dump({**lds.files, "EF.COM": lds.files["EF.COM"] + b"\x00"}), sod)


def test_names_without_cyrillic_and_other_choices_land_where_they_must() -> None:
    from station.card_data import CardProfile
    from station.domain.person import PersonName

    person = adult_form().person
    plain = replace(person, surname=PersonName(person.surname.latin, ""))
    lds = build_lds(_app(form=adult_form(person=plain)), _card(), point=POINT, face=face(),
                    keys=keys(), personalized_at=WHEN)  # fmt: skip
    dg11 = DG11.decode(lds.files["DG11"])
    assert dg11.other_names == ()  # no Cyrillic surname: no other name at all
    assert dg11.place_of_birth == "TOSHKENT SHAHRI"
    only_surname = replace(person, given_name=PersonName(person.given_name.latin, ""),
                           patronymic=PersonName(person.patronymic.latin, ""))  # fmt: skip
    lds = build_lds(_app(form=adult_form(person=only_surname)), _card(), point=POINT,
                    face=face(), keys=keys(), personalized_at=WHEN)  # fmt: skip
    assert DG11.decode(lds.files["DG11"]).other_names == ("ҒУЛОМОВ",)
    # the profile chooses the PACE parameters of EF.CardAccess
    other = CardProfile(pace_parameter_id=12)
    lds12 = build_lds(_app(), _card(), point=POINT, face=face(), keys=keys(),
                      personalized_at=WHEN, profile=other)  # fmt: skip
    default = build_lds(_app(), _card(), point=POINT, face=face(), keys=keys(),
                        personalized_at=WHEN)  # fmt: skip
    assert lds12.files["EF.CardAccess"] != default.files["EF.CardAccess"]
    assert lds12.files["EF.CardAccess"].endswith(b"\x02\x01\x0c")
    assert default.files["EF.CardAccess"].endswith(b"\x02\x01\x0d")


def test_the_messages_of_the_refusals() -> None:
    with pytest.raises(LDSError) as no_card:
        build_lds(_app(card=None), _card(), point=POINT, face=face(), keys=keys(),
                  personalized_at=WHEN)  # fmt: skip
    assert no_card.value.field == "application"
    assert str(no_card.value) == ("application: a-1 has no card number and PINFL from the Center "
                                  "yet (submit it first)")  # fmt: skip
    with pytest.raises(LDSError) as naive:
        build_lds(_app(), _card(), point=POINT, face=face(), keys=keys(),
                  personalized_at=WHEN.replace(tzinfo=None))  # fmt: skip
    assert str(naive.value) == "personalized_at: must be an aware datetime"
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    with pytest.raises(LDSError) as not_jpeg:
        build_lds(_app(), _card(), point=POINT, face=replace(face(), image=png), keys=keys(),
                  personalized_at=WHEN)  # fmt: skip
    assert (not_jpeg.value.field, not_jpeg.value.reason) == (
        "lds", "a 19794-5 portrait must be JPEG or JPEG 2000")  # fmt: skip
    lds = build_lds(_app(), _card(), point=POINT, face=face(), keys=keys(), personalized_at=WHEN)
    with pytest.raises(LDSError) as unknown:
        sod_hashes(lds, "nohash")
    assert unknown.value.reason == "unknown hash algorithm 'nohash'"
    with pytest.raises(LDSError) as junk:
        with_sod(lds, b"\x77\x03\x30\x01\x00")
    assert junk.value.reason.startswith("not an EF.SOD: ")
    assert face_quality(replace(face(), sharpness=3 * FACE_RULES.min_sharpness)) == 75


def test_the_personalization_time_does_not_depend_on_the_machines_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tashkent")
    time.tzset()
    try:
        lds = build_lds(_app(), _card(), point=POINT, face=face(), keys=keys(),
                        personalized_at=WHEN)  # fmt: skip
    finally:
        monkeypatch.undo()
        time.tzset()
    dg12 = DG12.decode(lds.files["DG12"])
    assert dg12.personalization_time is not None
    assert dg12.personalization_time.text == "20261204101507"


def test_with_sod_reads_the_sods_own_algorithm_and_names_a_group_only_it_covers() -> None:
    from pki.filestore import FileKeyStore
    from pki.sod import sign_data_group_hashes
    from station.folders.pki import PKIFolder

    lds, sod = _signed()
    without_dg3 = Dump({n: raw for n, raw in lds.files.items() if n != "DG3"})
    with pytest.raises(LDSError) as info:
        with_sod(without_dg3, sod)
    assert info.value.reason == "the EF.SOD does not cover these files (DG3 differ)"
    root = Path(_pki_root())
    folder = PKIFolder.open(root)
    label = str(folder.config["ds"][-1])
    store = FileKeyStore(root / "keys", lambda: PASSPHRASE.encode())
    sha1 = sign_data_group_hashes(sod_hashes(lds, "sha1"), "sha1", store.load(label),
                                  folder.read_cert(label), signing_time=NOW)  # fmt: skip
    assert with_sod(lds, sha1).files["EF.SOD"] == sha1
