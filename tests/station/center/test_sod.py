"""The Center signs a card's EF.SOD from the data group hashes a point sends (issue 11):
station.center.sod, its route POST /v1/cards/{card}/sod, CenterClient.sign_sod, and the PKI
folder's Document Signer (file key store and SoftHSM2) wired into the embedded Center."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.conftest import require_tool
from tests.softhsm import SoftHSMToken, fresh_softhsm_token, new_softhsm_token
from tests.station.center.kit import NOW, numbered, request, setup_center

from idcard import tlv
from idcard.errors import IdkartaError
from idcard.lds.dg1 import DG1
from idcard.lds.sod import SOD
from idcard.mrz import build_uzbek_id_card
from idcard.verify.passive import verify_passive
from idcard.verify.report import Status
from idcard.verify.trust import TrustStore
from pki.filestore import FileKeyStore
from pki.keys import KeySpec
from station.api import create_app
from station.center import (
    Conflict,
    NotFound,
    SignerUnavailable,
    card_sod,
    receive_request,
    record_card_status,
    sign_sod,
)
from station.center.errors import CenterUnavailable
from station.center.sod import DOCUMENT_CODE, check_hashes, hashes_digest
from station.client import CenterClient
from station.db import Database
from station.db.center_tables import CardSOD
from station.domain.cards import CardStatus
from station.domain.errors import DomainError
from station.errors import StationError
from station.folders.pki import PKIDocumentSigner, PKIFolder, run_init
from station.folders.station import PointSpec, embedded_center, init_center, serve_app

__all__ = ["fresh_softhsm_token", "new_softhsm_token"]  # the SoftHSM2 fixtures used here

PASSPHRASE = "sod-test-passphrase"
PKI_NOW = NOW - dt.timedelta(days=1)
MRZ = DG1(build_uzbek_id_card(
    document_number="AD0000001", pinfl="31507880230014", birth_date=dt.date(1988, 7, 15),
    sex="M", expiry_date=dt.date(2036, 12, 3), surname="Toshmatov", given_names="Alisher",
))
FILES = {
    "DG1": MRZ.encode(),
    "DG2": tlv.encode(0x75, b"\x7f\x61\x03\x02\x01\x01" + bytes(range(200))),
    "DG14": tlv.encode(0x6E, b"\x31\x00"),
}


def hashes_of(files: dict[str, bytes], algorithm: str = "sha256") -> dict[int, bytes]:
    return {int(n[2:]): hashlib.new(algorithm, raw).digest() for n, raw in files.items()}


def make_pki(root: Path, *, doc_types: tuple[str, ...] = ("ID", "IU", "P")) -> Path:
    store = FileKeyStore(root / "keys", lambda: PASSPHRASE.encode())
    eac = FileKeyStore(root / "cvc" / "keys", lambda: PASSPHRASE.encode())
    run_init(root, store, country="UZ", organization=None, key_spec=KeySpec.parse("ec-p256"),
             backend={"type": "file"}, doc_types=doc_types, now=PKI_NOW, eac_store=eac,
             cvc_key_spec=KeySpec.parse("ec-p256"))  # fmt: skip
    return root


@pytest.fixture(scope="module")
def pki_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki") / "pki")


@pytest.fixture
def signer(pki_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PKIDocumentSigner]:
    monkeypatch.setenv("IDKARTA_PASSPHRASE", PASSPHRASE)
    ds = PKIDocumentSigner(pki_folder)
    yield ds
    ds.close()


@pytest.fixture
def center(center_db: Database) -> Database:
    setup_center(center_db)
    return center_db


def new_card(db: Database, i: int = 1, *, point: str = "TAS01") -> str:
    return receive_request(db, request(numbered(i), point=point), now=NOW).card


def trust(pki_folder: Path) -> TrustStore:
    folder = PKIFolder.open(pki_folder)
    return TrustStore([folder.read_cert(str(folder.config["csca"]))])


def sod_rows(db: Database) -> int:
    with db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(CardSOD)) or 0)


# -- the use case ---------------------------------------------------------------------------------


def test_the_signed_sod_passes_passive_authentication_and_a_tampered_group_fails(
    center: Database, signer: PKIDocumentSigner, pki_folder: Path
) -> None:
    card = new_card(center)
    record = sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=hashes_of(FILES),
                      signer=signer, now=NOW)  # fmt: skip
    assert record.card == card and record.point == "TAS01" and record.signed_at == NOW
    sod = SOD.decode(record.sod)
    assert sod.hash_algorithm == "sha256" and sod.data_group_hashes == hashes_of(FILES)
    folder = PKIFolder.open(pki_folder)
    ds = folder.read_cert(folder.config["ds"][-1])
    assert record.ds_serial == ds.serial_number == sod.signer_certificate.serial_number
    report = verify_passive({**FILES, "EF.SOD": record.sod}, trust(pki_folder), at=NOW)
    assert report.statuses["sod_signature"] is Status.PASS
    assert report.statuses["chain"] is Status.PASS
    assert all(report.statuses[n] is Status.PASS for n in FILES)
    tampered = {**FILES, "DG2": FILES["DG2"][:-1] + b"\x00", "EF.SOD": record.sod}
    bad = verify_passive(tampered, trust(pki_folder), at=NOW)
    assert bad.statuses["DG2"] is Status.FAIL and bad.statuses["DG1"] is Status.PASS
    assert card_sod(center, card) == record


def test_openssl_verifies_the_cms_signature_against_the_csca(
    center: Database, signer: PKIDocumentSigner, pki_folder: Path, tmp_path: Path
) -> None:
    openssl = require_tool("openssl")
    record = sign_sod(center, new_card(center), point="TAS01", algorithm="sha256",
                      hashes=hashes_of(FILES), signer=signer, now=NOW)  # fmt: skip
    cms = tmp_path / "sod.cms"
    cms.write_bytes(tlv.decode_one(record.sod, expected_tag=0x77).value)
    folder = PKIFolder.open(pki_folder)
    shutil.copy(folder.cert_path(str(folder.config["csca"])), tmp_path / "csca.pem")
    run = subprocess.run(
        [openssl, "cms", "-verify", "-inform", "DER", "-in", str(cms), "-CAfile",
         str(tmp_path / "csca.pem"), "-purpose", "any", "-attime", str(int(NOW.timestamp())),
         "-out", str(tmp_path / "content.der")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Verification successful" in run.stderr
    content = (tmp_path / "content.der").read_bytes()
    assert all(d in content for d in hashes_of(FILES).values())


def test_the_same_hashes_give_the_same_sod_and_new_hashes_a_new_one(
    center: Database, signer: PKIDocumentSigner
) -> None:
    card = new_card(center)
    hashes = hashes_of(FILES)
    first = sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=hashes,
                     signer=signer, now=NOW)  # fmt: skip
    reordered = dict(reversed(list(hashes.items())))
    again = sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=reordered,
                     signer=signer, now=NOW + dt.timedelta(minutes=5))  # fmt: skip
    assert again == first and again.sod == first.sod
    assert sod_rows(center) == 1
    # a new blank: other chip keys, so another DG14
    other = hashes_of({**FILES, "DG14": tlv.encode(0x6E, b"\x31\x01\x00")})
    record_card_status(center, card, CardStatus.PERSONALIZED, operator="op1", now=NOW)
    second = sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=other,
                      signer=signer, now=NOW + dt.timedelta(minutes=10))  # fmt: skip
    assert second.sod != first.sod and SOD.decode(second.sod).data_group_hashes == other
    assert card_sod(center, card) == second and sod_rows(center) == 2
    # verified: the same hashes still answer, other hashes are refused
    record_card_status(center, card, CardStatus.VERIFIED, operator="op1", now=NOW)
    assert sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=other,
                    signer=signer, now=NOW).sod == second.sod  # fmt: skip
    with pytest.raises(Conflict) as info:
        sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=hashes_of(FILES, "sha256")
                 | {3: b"\x01" * 32}, signer=signer, now=NOW)  # fmt: skip
    assert info.value.field == "card" and "verified" in info.value.reason
    assert sod_rows(center) == 2


@pytest.mark.parametrize("status", [CardStatus.HANDED_OVER, CardStatus.CANCELLED])
def test_a_card_handed_over_or_cancelled_gets_no_sod(
    center: Database, signer: PKIDocumentSigner, status: CardStatus
) -> None:
    card = new_card(center)
    hashes = hashes_of(FILES)
    sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=hashes, signer=signer,
             now=NOW)  # fmt: skip
    path = {CardStatus.HANDED_OVER: [CardStatus.PERSONALIZED, CardStatus.VERIFIED,
                                     CardStatus.HANDED_OVER],
            CardStatus.CANCELLED: [CardStatus.CANCELLED]}[status]  # fmt: skip
    for step in path:
        record_card_status(center, card, step, operator="op1", now=NOW)
    for attempt in (hashes, hashes | {3: bytes(32)}):  # not even the same hashes again
        with pytest.raises(Conflict) as info:
            sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=attempt,
                     signer=signer, now=NOW)  # fmt: skip
        assert info.value.field == "card"
        assert info.value.reason == f"card {card} is {status.value}: no EF.SOD is signed for it now"
    assert sod_rows(center) == 1


def test_unknown_and_other_points_cards_are_refused(
    center: Database, signer: PKIDocumentSigner
) -> None:
    with pytest.raises(NotFound) as unknown:
        sign_sod(center, "AD9999999", point="TAS01", algorithm="sha256",
                 hashes=hashes_of(FILES), signer=signer, now=NOW)  # fmt: skip
    assert unknown.value.field == "card"
    assert unknown.value.reason == "card AD9999999 is not in the registry"
    card = new_card(center, point="SAM01")
    with pytest.raises(Conflict) as other:
        sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=hashes_of(FILES),
                 signer=signer, now=NOW)  # fmt: skip
    assert other.value.field == "point"
    assert other.value.reason == f"card {card} is not a card of point TAS01"
    with pytest.raises(DomainError) as bad:
        sign_sod(center, "AD12", point="TAS01", algorithm="sha256", hashes=hashes_of(FILES),
                 signer=signer, now=NOW)  # fmt: skip
    assert bad.value.field == "card"
    assert sod_rows(center) == 0


@pytest.mark.parametrize(
    ("algorithm", "hashes", "field"),
    [
        ("md5", {1: bytes(16), 2: bytes(16)}, "algorithm"),
        ("sha256", {1: bytes(32), 2: bytes(31)}, "hashes.2"),
        ("sha256", {1: bytes(32), 2: bytes(20)}, "hashes.2"),
        ("sha256", {2: bytes(32), 3: bytes(32)}, "hashes.1"),
        ("sha256", {1: bytes(32), 3: bytes(32)}, "hashes.2"),
        ("sha256", {1: bytes(32), 2: bytes(32), 17: bytes(32)}, "hashes.17"),
        ("sha256", {0: bytes(32), 1: bytes(32), 2: bytes(32)}, "hashes.0"),
        ("sha1", {1: bytes(20), 2: bytes(32)}, "hashes.2"),
    ],
)
def test_bad_hashes_are_refused_before_anything_is_signed(
    center: Database, signer: PKIDocumentSigner, algorithm: str, hashes: dict[int, bytes],
    field: str,
) -> None:
    card = new_card(center)
    with pytest.raises(DomainError) as info:
        sign_sod(center, card, point="TAS01", algorithm=algorithm, hashes=hashes, signer=signer,
                 now=NOW)  # fmt: skip
    assert info.value.field == field
    assert sod_rows(center) == 0


def test_check_hashes_names_each_problem_and_keeps_good_hashes_sorted() -> None:
    good = check_hashes("sha1", {14: bytes(20), 1: b"\x01" * 20, 2: b"\x02" * 20})
    assert list(good) == [1, 2, 14]
    with pytest.raises(DomainError) as info:
        check_hashes("sha256", {3: bytes(3), 20: bytes(32)})
    assert info.value.problems == (
        ("hashes.3", "not a sha256 digest (32 bytes)"),
        ("hashes.20", "a data group number is 1 to 16"),
        ("hashes.1", "DG1 is mandatory (ICAO 9303-10 §4.6)"),
        ("hashes.2", "DG2 is mandatory (ICAO 9303-10 §4.6)"),
    )
    with pytest.raises(DomainError) as alg:
        check_hashes("md5", {1: bytes(16), 2: bytes(16)})
    assert alg.value.reason == "'md5' is not one of sha1, sha224, sha256, sha384, sha512"
    h = {1: b"\x01" * 32, 2: b"\x02" * 32}
    assert hashes_digest("sha256", h) == hashes_digest("sha256", dict(reversed(h.items())))
    assert hashes_digest("sha256", h) != hashes_digest("sha256", {1: h[1], 2: b"\x03" * 32})
    assert hashes_digest("sha256", h) != hashes_digest("sha384", h)
    assert hashes_digest("sha256", h) == hashlib.sha256(
        ("sha256;1=" + h[1].hex() + ";2=" + h[2].hex()).encode()).hexdigest()  # fmt: skip


def test_no_document_signer_for_the_id_card_means_no_sod(
    center: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PKI whose Document Signers may sign passports only: refused, nothing recorded."""
    monkeypatch.setenv("IDKARTA_PASSPHRASE", PASSPHRASE)
    ds = PKIDocumentSigner(make_pki(tmp_path / "pki", doc_types=("P",)))
    card = new_card(center)
    with pytest.raises(SignerUnavailable) as info:
        sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=hashes_of(FILES),
                 signer=ds, now=NOW)  # fmt: skip
    assert f"document code {DOCUMENT_CODE!r}" in str(info.value)
    assert "documentTypeList: P" in str(info.value)
    # and after its key usage period (90 days) the Document Signer may sign nothing
    late = PKIDocumentSigner(make_pki(tmp_path / "pki2"))
    with pytest.raises(SignerUnavailable) as expired:
        sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=hashes_of(FILES),
                 signer=late, now=NOW + dt.timedelta(days=100))  # fmt: skip
    assert "privateKeyUsagePeriod" in str(expired.value)
    assert sod_rows(center) == 0


def test_a_wrong_passphrase_is_a_signer_failure_not_a_crash(
    center: Database, pki_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDKARTA_PASSPHRASE", "not-the-passphrase")
    ds = PKIDocumentSigner(pki_folder)
    with pytest.raises(SignerUnavailable):
        sign_sod(center, new_card(center), point="TAS01", algorithm="sha256",
                 hashes=hashes_of(FILES), signer=ds, now=NOW)  # fmt: skip
    assert "not-the-passphrase" not in repr(ds.__dict__)
    assert sod_rows(center) == 0


def test_the_document_signer_key_on_softhsm(
    center: Database, fresh_softhsm_token: SoftHSMToken, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pki.hsm import PKCS11Module

    token = fresh_softhsm_token
    backend = {"type": "pkcs11", "module": token.module, "token": token.label}
    root = tmp_path / "pki-hsm"
    with PKCS11Module(token.module).token(token.label).session(lambda: token.pin) as session:
        run_init(root, session, country="UZ", organization=None,
                 key_spec=KeySpec.parse("ec-p256"), backend=backend, now=PKI_NOW,
                 cvc_key_spec=KeySpec.parse("ec-p256"))  # fmt: skip
    assert not list(root.glob("keys/*"))  # no key outside the token
    monkeypatch.setenv("IDKARTA_PIN", token.pin)
    ds = PKIDocumentSigner(root)
    try:
        card = new_card(center)
        record = sign_sod(center, card, point="TAS01", algorithm="sha384",
                          hashes=hashes_of(FILES, "sha384"), signer=ds, now=NOW)  # fmt: skip
        second = sign_sod(center, new_card(center, 2), point="TAS01", algorithm="sha256",
                          hashes=hashes_of(FILES), signer=ds, now=NOW)  # one session, reused
    finally:
        ds.close()
    report = verify_passive({**FILES, "EF.SOD": record.sod}, trust(root), at=NOW)
    assert report.statuses["sod_signature"] is Status.PASS
    assert report.statuses["chain"] is Status.PASS
    assert SOD.decode(record.sod).hash_algorithm == "sha384"
    assert verify_passive({**FILES, "EF.SOD": second.sod}, trust(root),
                          at=NOW).statuses["sod_signature"] is Status.PASS  # fmt: skip


# -- the route and the client ---------------------------------------------------------------------


@pytest.fixture
def client(center: Database, signer: PKIDocumentSigner) -> Iterator[CenterClient]:
    with CenterClient.in_process(create_app(center, clock=lambda: NOW, sod_signer=signer)) as c:
        yield c


def test_the_client_gets_the_sod_over_the_api(
    client: CenterClient, center: Database, pki_folder: Path
) -> None:
    card = new_card(center)
    sod = client.sign_sod(card, point="TAS01", hashes=hashes_of(FILES))
    assert client.sign_sod(card, point="TAS01", algorithm="sha256", hashes=hashes_of(FILES)) == sod
    assert sod == card_sod(center, card).sod  # type: ignore[union-attr]
    report = verify_passive({**FILES, "EF.SOD": sod}, trust(pki_folder), at=NOW)
    assert report.statuses["sod_signature"] is Status.PASS


def test_the_clients_errors_are_the_centers(client: CenterClient, center: Database) -> None:
    with pytest.raises(NotFound) as unknown:
        client.sign_sod("AD9999999", point="TAS01", hashes=hashes_of(FILES))
    assert unknown.value.field == "card"
    card = new_card(center, point="SAM01")
    with pytest.raises(Conflict) as other:
        client.sign_sod(card, point="TAS01", hashes=hashes_of(FILES))
    assert other.value.field == "point"
    with pytest.raises(DomainError) as short:
        client.sign_sod(card, point="SAM01", hashes={1: bytes(32), 2: bytes(20)})
    assert short.value.field == "hashes.2"
    with pytest.raises(DomainError) as missing:
        client.sign_sod(card, point="SAM01", hashes={2: bytes(32), 3: bytes(32)})
    assert missing.value.field == "hashes.1"
    assert sod_rows(center) == 0


def _post(center: Database, card: str, body: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(center, clock=lambda: NOW))
    import anyio

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as c:
            return await c.post(f"/v1/cards/{card}/sod", json=body)

    return anyio.run(go)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # never the biometrics: no field but point, algorithm and hashes
        ({"point": "TAS01", "hashes": {"1": "00" * 32, "2": "00" * 32},
          "dg2": base64.b64encode(b"\xff\xd8portrait").decode()}, "dg2"),
        # a "hash" that is an image in disguise is too long for any digest
        ({"point": "TAS01", "hashes": {"1": "00" * 32, "2": "ff" * 5000}}, "hashes.2"),
        ({"point": "TAS01", "hashes": {"1": "00" * 32, "2": "0" * 63}}, "hashes.2"),
        ({"point": "TAS01", "hashes": {"1": "00" * 32, "17": "00" * 32}}, "hashes.17"),
        ({"point": "TAS01", "algorithm": "md5", "hashes": {"1": "00" * 16}}, "algorithm"),
        ({"hashes": {"1": "00" * 32}}, "point"),
    ],
)
def test_the_route_takes_only_hashes(center: Database, body: object, field: str) -> None:
    card = new_card(center)
    answer = _post(center, card, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"].startswith(field)
    assert "portrait" not in answer.text and "ffff" not in answer.text
    assert sod_rows(center) == 0


def test_without_a_document_signer_the_route_answers_503(center: Database) -> None:
    card = new_card(center)
    answer = _post(center, card, {"point": "TAS01", "hashes": {"1": "00" * 32, "2": "00" * 32}})
    assert answer.status_code == 503
    assert answer.json()["error"]["type"] == "SignerUnavailable"
    with (CenterClient.in_process(create_app(center, clock=lambda: NOW)) as client,
          pytest.raises(CenterUnavailable) as info):
        client.sign_sod(card, point="TAS01", hashes=hashes_of(FILES))
    assert "503" in str(info.value)


# -- the station folder: center.json names the PKI, the embedded Center signs ------------------


def test_the_embedded_center_signs_with_the_folders_pki(
    tmp_path: Path, pki_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from station.domain.application import PointKind

    monkeypatch.setenv("IDKARTA_PASSPHRASE", PASSPHRASE)
    TASHKENT = PointSpec("TAS01", PointKind.INTERNAL_AFFAIRS, "023", "Toshkent")
    station = tmp_path / "station"
    init_center(station, None, series="AD", esign=None, pki=pki_folder, now=NOW,
                points=[TASHKENT])
    assert (station / "center.json").read_text().count(str(pki_folder.resolve())) == 1
    with embedded_center(station) as client:
        card = client.send_request(request(numbered(1))).card
        sod = client.sign_sod(card, point="TAS01", hashes=hashes_of(FILES))
    report = verify_passive({**FILES, "EF.SOD": sod}, trust(pki_folder))
    assert report.statuses["sod_signature"] is Status.PASS
    # the served Center (idkarta center serve) signs with the same folder's PKI
    with CenterClient.in_process(serve_app(station, None)) as served:
        card2 = served.send_request(request(numbered(2))).card
        sod2 = served.sign_sod(card2, point="TAS01", hashes=hashes_of(FILES))
    assert verify_passive({**FILES, "EF.SOD": sod2},
                          trust(pki_folder)).statuses["sod_signature"] is Status.PASS  # fmt: skip
    # a Center without a PKI folder answers that it cannot sign
    plain = tmp_path / "plain"
    init_center(plain, None, series="AD", esign=None, now=NOW,
                points=[TASHKENT])
    with embedded_center(plain) as client:
        card = client.send_request(request(numbered(1))).card
        with pytest.raises(CenterUnavailable):
            client.sign_sod(card, point="TAS01", hashes=hashes_of(FILES))


def test_center_init_records_the_pki_folder_and_refuses_one_that_is_not(
    tmp_path: Path, pki_folder: Path
) -> None:
    import json

    from click.testing import CliRunner

    from station.cli import main

    station = tmp_path / "station"
    ok = CliRunner().invoke(main, ["center", "init", "--dir", str(station), "--pki",
                                   str(pki_folder), "--json"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["pki"] == str(pki_folder)
    config = json.loads((station / "center.json").read_text())
    assert config == {"pki": str(pki_folder.resolve())}
    text = CliRunner().invoke(main, ["center", "init", "--dir", str(tmp_path / "s2"), "--pki",
                                     str(pki_folder)])  # fmt: skip
    assert text.exit_code == 0 and f"Document PKI  {pki_folder}" in text.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = CliRunner().invoke(main, ["center", "init", "--dir", str(tmp_path / "s3"), "--pki",
                                    str(empty)])  # fmt: skip
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: ") and "not a PKI folder" in bad.stderr
    assert "Traceback" not in bad.output
    assert not (tmp_path / "s3" / "center.db").exists()
    nodir = CliRunner().invoke(main, ["center", "init", "--database",
                                      f"sqlite:///{tmp_path / 'x.db'}", "--pki", str(pki_folder)])
    assert nodir.exit_code == 2 and "--pki needs --dir" in nodir.stderr


def test_concurrent_calls_for_one_card_sign_once(
    center: Database, signer: PKIDocumentSigner
) -> None:
    import threading

    card = new_card(center)
    results: list[bytes] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def call() -> None:
        try:
            start.wait()
            results.append(sign_sod(center, card, point="TAS01", algorithm="sha256",
                                    hashes=hashes_of(FILES), signer=signer, now=NOW).sod)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 4
    assert len(set(results)) == 1 and sod_rows(center) == 1


class _OtherHashesSigner:
    """A faulty Document Signer: it signs a different DG2 hash than the one it was given."""

    def __init__(self, inner: PKIDocumentSigner) -> None:
        self.inner = inner

    def sign(self, hashes: dict[int, bytes], algorithm: str, *, document_code: str,
             now: dt.datetime) -> object:  # fmt: skip
        return self.inner.sign({**hashes, 2: bytes(len(hashes[2]))}, algorithm,
                               document_code=document_code, now=now)  # fmt: skip


def test_a_sod_over_other_hashes_is_never_recorded(
    center: Database, signer: PKIDocumentSigner
) -> None:
    card = new_card(center)
    with pytest.raises(SignerUnavailable) as info:
        sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=hashes_of(FILES),
                 signer=_OtherHashesSigner(signer), now=NOW)  # type: ignore[arg-type]
    assert str(info.value) == "the Document Signer's EF.SOD holds other hashes"
    with pytest.raises(StationError) as naive:
        sign_sod(center, card, point="TAS01", algorithm="sha256", hashes=hashes_of(FILES),
                 signer=signer, now=NOW.replace(tzinfo=None))  # fmt: skip
    assert str(naive.value) == "the Center's clock must give an aware datetime (UTC)"
    assert sod_rows(center) == 0 and card_sod(center, card) is None
    with pytest.raises(NotFound):
        card_sod(center, "AD7777777")


def test_cards_are_told_apart_by_series_and_number_and_hashes_by_card(
    center: Database, signer: PKIDocumentSigner
) -> None:
    """AD0000001 and AE0000001 share a number, AD0000001 and AD0000002 a series; two cards may
    carry the same hashes (a test pattern): each gets its own SOD row."""
    from station.center import open_series

    ad1, ad2 = new_card(center, 1), new_card(center, 2)
    open_series(center, "AE")
    ae1 = new_card(center, 3)
    assert (ad1, ad2, ae1) == ("AD0000001", "AD0000002", "AE0000001")
    hashes = hashes_of(FILES)
    records = [sign_sod(center, c, point="TAS01", algorithm="sha256", hashes=hashes,
                        signer=signer, now=NOW) for c in (ae1, ad1, ad2)]  # fmt: skip
    assert [r.card for r in records] == [ae1, ad1, ad2]
    assert [r.hashes for r in records] == [hashes] * 3
    assert len({r.sod for r in records}) == 3 and sod_rows(center) == 3
    assert [card_sod(center, c) for c in (ae1, ad1, ad2)] == records
    assert check_hashes("sha256", {16: bytes(32), 1: bytes(32), 2: bytes(32)})[16] == bytes(32)
    with pytest.raises(DomainError) as boolean:
        check_hashes("sha256", {True: bytes(32), 2: bytes(32)})
    assert boolean.value.field == "hashes.True"
    for bad in ("AD12", "AD0000000"):
        with pytest.raises(DomainError) as number:
            card_sod(center, bad)
        assert number.value.field == "card"
    with pytest.raises(NotFound) as unknown:
        card_sod(center, "AF0000001")
    assert (unknown.value.field, unknown.value.reason) == (
        "card", "card AF0000001 is not in the registry")  # fmt: skip


def test_the_document_signer_loads_its_key_once(
    pki_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file store's key (scrypt, ≈ 1.5 s) is loaded once, not once per card; close()
    forgets it."""
    loads: list[str] = []
    real_load = FileKeyStore.load

    def counted(store: FileKeyStore, label: str) -> object:
        loads.append(label)
        return real_load(store, label)

    monkeypatch.setattr(FileKeyStore, "load", counted)
    monkeypatch.setenv("IDKARTA_PASSPHRASE", PASSPHRASE)
    ds = PKIDocumentSigner(pki_folder)
    signed = [ds.sign(hashes_of(FILES), "sha256", document_code="IU", now=NOW) for _ in range(3)]
    assert len({s.ds_serial for s in signed}) == 1 and len(loads) == 1
    assert SOD.decode(signed[-1].sod).data_group_hashes == hashes_of(FILES)
    ds.close()
    monkeypatch.delenv("IDKARTA_PASSPHRASE")
    with pytest.raises(IdkartaError):  # closed: the store is opened again, and cannot be
        ds.sign(hashes_of(FILES), "sha256", document_code="IU", now=NOW)
