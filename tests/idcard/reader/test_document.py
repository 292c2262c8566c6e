"""read_document against the virtual chip, in process: BAC, PACE (GM/IM/CAM × ciphers), CA, AA
(ECDSA and RSA), TA opening DG3, refusals recorded, wrong keys, a card pulled out half way, and
the byte-for-byte round trip personalize → save → load → read."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.idcard.chip.cards import CAN, DyingTransport, build_dump, make_card
from tests.idcard.cvc.test_cvc_certificate import make_pki

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.asn1 import oids
from idcard.chip.emrtd import VirtualChip
from idcard.chip.transport import ChipTransport
from idcard.cvc import CHAT, Role
from idcard.errors import AuthenticationError, TransportError
from idcard.lds import DG1
from idcard.lds.dg15 import DG15
from idcard.lds.dump import Dump
from idcard.lds.security_infos import CardAccess, PACEInfo, SecurityInfos
from idcard.mrz import MRZ
from idcard.reader.document import ReadResult, TerminalCredentials, read_document

GM, IM, CAM = oids.ID_PACE_ECDH_GM, oids.ID_PACE_ECDH_IM, oids.ID_PACE_ECDH_CAM
SUFFIX = {"3DES": 1, "AES-128": 2, "AES-192": 3, "AES-256": 4}


def _rebuild(mrz: MRZ, birth: str) -> MRZ:
    """The MRZ with another date of birth (a wrong access key)."""
    return replace(mrz, birth_date=birth)


def assert_complete(result: ReadResult, dump: Dump, *, except_: tuple[str, ...] = ()) -> None:
    expected = {n: v for n, v in dump.files.items() if n not in except_}
    assert dict(result.dump.files) == expected
    assert not result.decode_errors
    assert set(result.objects) == set(expected)


def test_bac_only_card_reads_every_file_but_dg3_and_runs_ca_and_aa() -> None:
    dump, keys = build_dump(pace_oid=None)
    card = make_card(dump, keys)
    result = read_document(card.transport(), mrz=card.mrz)
    assert result.access == "BAC"
    assert [r.protocol for r in result.protocols] == ["BAC", "CA", "AA"]
    assert all(r.ok for r in result.protocols)
    assert result.skipped == {"DG3": "needs Terminal Authentication: no terminal credentials given"}
    assert_complete(result, dump, except_=("DG3",))
    assert isinstance(result.objects["DG1"], DG1)
    assert result.objects["DG1"].mrz == card.mrz


@pytest.mark.parametrize(
    ("oid", "cipher", "parameter_id"),
    [
        (GM, "AES-128", 13),
        (GM, "3DES", 12),
        (GM, "AES-192", 15),
        (GM, "AES-256", 16),
        (IM, "AES-128", 13),
        (IM, "AES-192", 12),
        (IM, "3DES", 16),
        (CAM, "AES-128", 13),
        (CAM, "AES-256", 12),
    ],
)
def test_pace_variants(oid: str, cipher: str, parameter_id: int) -> None:
    protocol = f"{oid}.{SUFFIX[cipher]}"
    dump, keys = build_dump(pace_oid=protocol, parameter_id=parameter_id, cam=oid == CAM)
    card = make_card(dump, keys)
    for access in ({"can": CAN}, {"mrz": card.mrz}):
        result = read_document(card.transport(), read_biometrics=False, **access)  # type: ignore[arg-type]
        pace = result.protocol("PACE")
        assert result.access == "PACE" and pace is not None and pace.ok
        assert ("CAN" if "can" in access else "MRZ") in pace.detail
        assert_complete(result, dump, except_=("DG2", "DG3"))
        if oid == CAM:
            cam = result.protocol("PACE-CAM")
            assert cam is not None and cam.ok
            assert result.protocol("CA") is None  # CAM authenticated the chip already
        else:
            ca = result.protocol("CA")
            assert ca is not None and ca.ok
        aa = result.protocol("AA")
        assert aa is not None and aa.ok


def test_best_pace_info_is_chosen() -> None:
    """EF.CardAccess offering GM-3DES and GM-AES-128: the AES one runs."""
    access = CardAccess(
        SecurityInfos((PACEInfo(f"{GM}.1", 2, 13), PACEInfo(f"{GM}.2", 2, 13)))
    ).security_infos.encode()
    dump, keys = build_dump(replace={"EF.CardAccess": access})
    card = make_card(dump, keys)
    result = read_document(card.transport(), can=CAN, read_biometrics=False)
    pace = result.protocol("PACE")
    assert pace is not None and "AES-CBC-CMAC-128" in pace.detail


def test_pace_info_that_does_not_fit_its_parameters_is_skipped() -> None:
    """DH-GM-AES-256 with parameter id 13 (an EC curve) ranks first but cannot run: the
    consistent ECDH-GM-AES-128 entry is chosen instead of failing with EncodeError."""
    access = CardAccess(
        SecurityInfos((PACEInfo(f"{oids.ID_PACE_DH_GM}.4", 2, 13), PACEInfo(f"{GM}.2", 2, 13)))
    ).security_infos.encode()
    dump, keys = build_dump(replace={"EF.CardAccess": access})
    card = make_card(dump, keys)
    result = read_document(card.transport(), can=CAN, read_biometrics=False)
    pace = result.protocol("PACE")
    assert result.access == "PACE"
    assert pace is not None and pace.ok
    assert pace.detail == "id-PACE-ECDH-GM-AES-CBC-CMAC-128, parameter id 13, CAN"


def test_only_inconsistent_pace_info_falls_back_to_bac() -> None:
    """ECDH-GM with a DH group (id 0) is the only PACEInfo: BAC runs with the MRZ."""
    access = CardAccess(
        SecurityInfos((PACEInfo(f"{GM}.2", 2, 0),))
    ).security_infos.encode()
    dump, keys = build_dump(replace={"EF.CardAccess": access})
    card = make_card(dump, keys)
    result = read_document(card.transport(), mrz=card.mrz, read_biometrics=False)
    assert result.access == "BAC"
    assert result.protocol("PACE") is None


def test_active_authentication_rsa() -> None:
    aa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - test speed
    dg15 = DG15.from_public_key(aa_key.public_key()).encode()
    dump, keys = build_dump(replace={"DG15": dg15})
    card = make_card(dump, keys, aa_key=aa_key)
    result = read_document(card.transport(), can=CAN, read_biometrics=False)
    aa = result.protocol("AA")
    assert aa is not None and aa.ok


def test_terminal_authentication_opens_dg3() -> None:
    certs, is_key = make_pki()
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=certs[0])
    terminal = TerminalCredentials.from_private_key(tuple(certs), is_key)
    result = read_document(card.transport(), can=CAN, terminal=terminal)
    ta = result.protocol("TA")
    assert ta is not None and ta.ok
    assert [r.protocol for r in result.protocols] == ["PACE", "CA", "TA", "AA"]
    assert not result.skipped
    assert_complete(result, dump)


def test_terminal_without_dg3_right_is_refused_and_recorded() -> None:
    certs, is_key = make_pki(is_chat=CHAT.inspection_system(Role.TERMINAL, dg4=True))
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=certs[0])
    terminal = TerminalCredentials.from_private_key(tuple(certs), is_key)
    result = read_document(card.transport(), mrz=card.mrz, terminal=terminal)
    ta = result.protocol("TA")
    assert ta is not None and ta.ok
    assert result.skipped == {"DG3": "access denied (6982)"}
    assert_complete(result, dump, except_=("DG3",))


def test_terminal_of_another_cvca_fails_ta_and_skips_dg3() -> None:
    certs, _ = make_pki()
    other, other_key = make_pki()
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=certs[0])
    terminal = TerminalCredentials.from_private_key(tuple(other), other_key)
    result = read_document(card.transport(), can=CAN, terminal=terminal)
    ta = result.protocol("TA")
    assert ta is not None and not ta.ok and "PSO:Verify Certificate" in ta.detail
    assert result.skipped["DG3"].startswith("Terminal Authentication failed")
    assert "DG2" in result.dump


def test_ta_advances_the_chip_date() -> None:
    certs, is_key = make_pki()
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=certs[0], date=dt.date(2025, 6, 1))
    # the chain starts on 2026-01-01: a chip that still believes 2025-06-01 accepts it and
    # moves its date forward to the DV's effective date (TR-03110-3 §2.5)
    terminal = TerminalCredentials.from_private_key(tuple(certs), is_key)
    read_document(card.transport(), can=CAN, terminal=terminal)
    assert card.chip.state.current_date == certs[1].body.effective_date


def test_wrong_mrz_fails_bac_at_external_authenticate() -> None:
    dump, keys = build_dump(pace_oid=None)
    card = make_card(dump, keys)
    with pytest.raises(AuthenticationError) as info:
        read_document(card.transport(), mrz=_rebuild(card.mrz, "010101"))
    assert info.value.protocol == "BAC" and info.value.step == "EXTERNAL AUTHENTICATE"


def test_wrong_can_fails_pace_at_mutual_authentication() -> None:
    dump, keys = build_dump()
    card = make_card(dump, keys)
    with pytest.raises(AuthenticationError) as info:
        read_document(card.transport(), can="654321")
    assert info.value.protocol == "PACE" and info.value.step == "mutual authentication"
    with pytest.raises(AuthenticationError) as info:
        read_document(card.transport(), mrz=_rebuild(card.mrz, "010101"))
    assert info.value.step == "mutual authentication"


def test_card_pulled_out_half_way_raises_and_writes_nothing(tmp_path: Path) -> None:
    dump, keys = build_dump()
    card = make_card(dump, keys)
    probe = DyingTransport(card.transport(), 10_000)
    read_document(probe, can=CAN)
    total = probe.sent
    for budget in (3, total // 2, total - 1):
        with pytest.raises(TransportError):
            read_document(DyingTransport(card.transport(), budget), can=CAN)
        assert not (tmp_path / "dump").exists()
        assert not list(tmp_path.iterdir())


def test_round_trip_personalize_save_load_read(tmp_path: Path) -> None:
    """A card personalized from a dump, saved, loaded and read back gives the same files."""
    certs, is_key = make_pki()
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=certs[0])
    image = tmp_path / "card.json"
    card.chip.save(image)
    assert image.stat().st_mode & 0o777 == 0o600
    loaded = VirtualChip.load(image)
    assert loaded.locked
    terminal = TerminalCredentials.from_private_key(tuple(certs), is_key)
    result = read_document(ChipTransport(loaded), mrz=card.mrz, terminal=terminal)
    assert_complete(result, dump)
    result.write(tmp_path / "out")
    assert Dump.read(tmp_path / "out") == dump
    for name, data in dump.files.items():
        assert (tmp_path / "out" / name).read_bytes() == data


@pytest.mark.parametrize("extended", [True, False])
def test_large_file_offsets_past_32767(extended: bool) -> None:
    """A 40 000-byte DG2 read in chunks: odd READ BINARY (B1, DO'54') past offset 32 767,
    short-length reads (223 bytes under AES SM) when the card lacks extended length."""
    big = tlv.encode(0x75, tlv.encode(0x7F61, bytes(range(256)) * 160))
    assert len(big) > 40_000
    dump, keys = build_dump(pace_oid=None, replace={"DG2": big})
    card = make_card(dump, keys, extended_length=extended)
    log: list[tuple[int, int]] = []
    inner = ChipTransport(card.chip)

    class Spy:
        atr = card.chip.atr

        def transmit(self, command: CommandAPDU) -> ResponseAPDU:
            log.append((command.ins, len(command.encode())))
            return inner.transmit(command)

    result = read_document(Spy(), mrz=card.mrz, chunk_size=12_000 if extended else None)
    assert result.dump.files["DG2"] == big
    assert result.decode_errors.keys() <= {"DG2"}
    if extended:
        assert any(ins == 0xB1 for ins, _ in log)
    else:
        assert all(size <= 261 for _, size in log)  # every APDU short


def test_read_length_falls_back_when_the_card_refuses_it() -> None:
    """A reader/card pair that refuses Le > 128 (6700): reads retry with 224, 192, 128."""
    dump, keys = build_dump()
    card = make_card(dump, keys, extended_length=False)
    inner = card.transport()
    asked: list[int] = []

    class Picky:
        def transmit(self, command: CommandAPDU) -> ResponseAPDU:
            if command.ins == 0xB0 and command.cla == 0x00:
                asked.append(command.ne or 0)
                if (command.ne or 0) > 128:
                    return ResponseAPDU(b"", 0x6700)
            return inner.transmit(command)

    result = read_document(Picky(), can=CAN, read_biometrics=False)
    assert asked[:4] == [256, 224, 192, 128]
    assert result.dump.files["EF.CardAccess"] == dump.files["EF.CardAccess"]
