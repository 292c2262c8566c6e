"""LOCK (``00 DA DE AD``) refuses an incomplete card (issue 9 item 3): a created file not written
to its declared size, a secret that the card's own EF.CardAccess, DG14 or DG15 advertise, an
e-signature application without K_perso or a certificate without its key; and personalize()
refuses such secrets on the host before writing anything."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.idcard.chip.cards import CAN, TODAY, build_dump, card_access, sample_cvca
from tests.idcard.esign.esign_kit import K_PERSO

from idcard import tlv
from idcard.apdu import CommandAPDU
from idcard.asn1 import oids
from idcard.chip import perso
from idcard.chip.emrtd import EMRTD_AID, VirtualChip
from idcard.chip.perso import ChipSecrets, MRZKey
from idcard.chip.transport import ChipTransport
from idcard.errors import EncodeError
from idcard.esign import ESignCard
from idcard.lds import FILES
from idcard.lds.dg1 import DG1
from idcard.lds.dump import Dump
from idcard.lds.security_infos import PACEInfo
from idcard.reader.personalize import personalize
from station.card_data import CardKeys

SELECT_APP = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)
SELECT_MF = CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")
LOCK = bytes.fromhex("00DADEAD")
MRZ = MRZKey("AD1234567", "900101", "340101")
REFUSED, OK = bytes.fromhex("6985"), bytes.fromhex("9000")


def _ok(t: ChipTransport, command: CommandAPDU) -> None:
    t.transmit(command).check(command)


def test_lock_refuses_created_files_with_nothing_written() -> None:
    """The issue's case: CREATE FILE 011E/011D/0101, nothing written, the MRZ key, LOCK."""
    chip = VirtualChip.new()
    t = ChipTransport(chip)
    _ok(t, SELECT_APP)
    for fid in (0x011E, 0x011D, 0x0101):
        _ok(t, perso.create_file(fid, 4))
    _ok(t, perso.put_data(perso.TAG_MRZ, perso.encode_mrz(MRZ)))
    assert chip.process(LOCK) == REFUSED
    assert not chip.locked
    for fid in (0x011E, 0x011D, 0x0101):
        _ok(t, CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")))
        _ok(t, perso.update_binary(0, b"\x00" * 4))  # zeros, as created, but now written
    assert chip.process(LOCK) == OK
    assert chip.locked


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(0, 40),
    writes=st.lists(st.tuples(st.integers(0, 45), st.integers(0, 12)), max_size=8),
    reload_after=st.integers(0, 8),
)
def test_lock_iff_every_byte_of_every_file_was_written(
    size: int,
    writes: list[tuple[int, int]],
    reload_after: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Whatever the order, overlap or size of the writes (and a save/load of the image half
    way), LOCK succeeds exactly when the writes that fit covered every byte of the file."""
    chip = VirtualChip.new()
    t = ChipTransport(chip)
    _ok(t, SELECT_APP)
    for fid in (0x011E, 0x011D):
        _ok(t, perso.create_file(fid, 1))
        _ok(t, perso.update_binary(0, b"\x60"))
    _ok(t, perso.put_data(perso.TAG_MRZ, perso.encode_mrz(MRZ)))
    _ok(t, perso.create_file(0x0101, size))
    covered: set[int] = set()
    for i, (offset, length) in enumerate(writes):
        if i == reload_after:
            path = tmp_path_factory.mktemp("image") / "chip.json"
            chip.save(path)
            chip = VirtualChip.load(path)
            t = ChipTransport(chip)
            _ok(t, SELECT_APP)
            _ok(t, CommandAPDU(0x00, 0xA4, 0x02, 0x0C, b"\x01\x01"))
        fits = offset + length <= size
        response = t.transmit(perso.update_binary(offset, bytes([0xA5]) * length))
        assert response.sw == (0x9000 if fits else 0x6A84)
        if fits:
            covered |= set(range(offset, offset + length))
    _ok(t, SELECT_MF)
    complete = covered == set(range(size))
    assert chip.process(LOCK) == (OK if complete else REFUSED)
    assert chip.locked is complete


def test_writing_only_the_last_byte_does_not_complete_a_file() -> None:
    chip = VirtualChip.new()
    t = ChipTransport(chip)
    _ok(t, SELECT_APP)
    for fid in (0x011E, 0x011D, 0x0101):
        _ok(t, perso.create_file(fid, 8))
        _ok(t, perso.update_binary(7, b"\x01"))
    _ok(t, perso.put_data(perso.TAG_MRZ, perso.encode_mrz(MRZ)))
    assert chip.process(LOCK) == REFUSED
    assert chip.state.unwritten["application"][0x0101] == [(0, 7)]


# -- secrets the card's own files advertise ------------------------------------------------------


@functools.cache
def _material() -> tuple[Dump, CardKeys]:
    return build_dump()  # EF.CardAccess (PACE), DG14 (CA, TA, AA, PACE infos), DG15


def _write_raw(chip: VirtualChip, dump: Dump, puts: dict[str, tuple[int, bytes]]) -> None:
    """Personalize with raw APDUs (no host-side checks): every file, the MRZ key, ``puts``."""
    t = ChipTransport(chip)
    for in_mf, select in ((True, SELECT_MF), (False, SELECT_APP)):
        _ok(t, select)
        for name, data in dump.files.items():
            if FILES[name].in_mf is in_mf:
                _ok(t, perso.create_file(FILES[name].fid, len(data)))
                for off in range(0, len(data), 4096):
                    _ok(t, perso.update_binary(off, data[off : off + 4096]))
    mrz = DG1.decode(dump.files["DG1"]).mrz
    key = MRZKey(mrz.document_number, mrz.birth_date, mrz.expiry_date)
    _ok(t, perso.put_data(perso.TAG_MRZ, perso.encode_mrz(key)))
    for tag, payload in puts.values():
        _ok(t, perso.put_data(tag, payload))
    _ok(t, SELECT_MF)


def _puts(keys: CardKeys) -> dict[str, tuple[int, bytes]]:
    return {
        "CAN": (perso.TAG_PACE_SECRETS, perso.encode_pace_secrets({2: CAN.encode()})),
        "CA key": (perso.TAG_CA_KEY, perso.encode_private_key(keys.chip_authentication)),
        "AA key": (perso.TAG_AA_KEY, perso.encode_private_key(keys.active_authentication)),
        "CVCA": (perso.TAG_CVCA, sample_cvca().encode()),
    }


@pytest.mark.parametrize("left_out", ["CAN", "CA key", "AA key", "CVCA", None])
def test_lock_needs_every_advertised_secret(left_out: str | None) -> None:
    dump, keys = _material()
    chip = VirtualChip.new()
    puts = {k: v for k, v in _puts(keys).items() if k != left_out}
    _write_raw(chip, dump, puts)
    assert chip.process(LOCK) == (OK if left_out is None else REFUSED)
    assert chip.locked is (left_out is None)


def test_advertised_secrets_follow_the_files() -> None:
    dump, _ = _material()
    files = dump.files
    assert perso.advertised_secrets(files["EF.CardAccess"], files["DG14"], files["DG15"]) == {
        "CAN", "CA key", "AA key", "CVCA"}  # fmt: skip
    assert perso.advertised_secrets(None, None, files["DG15"]) == {"AA key"}
    assert perso.advertised_secrets(files["EF.CardAccess"], None, None) == {"CAN"}
    cam = card_access(PACEInfo(f"{oids.ID_PACE_ECDH_CAM}.2", 2, 13))
    assert perso.advertised_secrets(cam, None, None) == {"CAN", "CA key"}
    assert perso.advertised_secrets(None, None, None) == frozenset()
    assert perso.missing_secrets(frozenset({"CVCA", "CAN"}), can=False, ca_key=True,
                                 aa_key=False, cvca=False) == ["CAN", "CVCA"]  # fmt: skip


def test_lock_refuses_an_undecodable_dg14() -> None:
    dump, keys = _material()
    broken = Dump({**dump.files, "DG14": tlv.encode(0x6E, b"\x31\x03\x02\x01\x00")})
    chip = VirtualChip.new()
    _write_raw(chip, broken, _puts(keys))
    assert chip.process(LOCK) == REFUSED


def test_host_refuses_missing_advertised_secrets_before_writing() -> None:
    dump, keys = _material()
    chip = VirtualChip.new()
    secrets = ChipSecrets(ca_private_key=keys.chip_authentication,
                          aa_private_key=keys.active_authentication, can=CAN,
                          current_date=TODAY)  # fmt: skip
    with pytest.raises(EncodeError, match="advertise CVCA"):
        personalize(ChipTransport(chip), dump, secrets)
    assert chip.state.files["application"] == {} and chip.state.files["mf"].keys() == {0x2F01}
    personalize(ChipTransport(chip), dump, dataclasses.replace(secrets, cvca=sample_cvca()))
    assert chip.locked


# -- the e-signature application -------------------------------------------------------------------


def _lock(t: ChipTransport) -> bytes:
    """LOCK with the MF selected (the e-sign application does not take it), then back."""
    _ok(t, SELECT_MF)
    response = t.transmit(CommandAPDU.decode(LOCK)).encode()
    ESignCard(t).select()
    return response


def _minimal_emrtd(chip: VirtualChip) -> ChipTransport:
    t = ChipTransport(chip)
    _ok(t, SELECT_APP)
    for fid in (0x011E, 0x011D, 0x0101):
        _ok(t, perso.create_file(fid, 1))
        _ok(t, perso.update_binary(0, b"\x60"))
    _ok(t, perso.put_data(perso.TAG_MRZ, perso.encode_mrz(MRZ)))
    return t


@pytest.mark.parametrize("content", ["key", "certificate-file", "pin"])
def test_an_esign_application_in_use_needs_its_k_perso(content: str) -> None:
    chip = VirtualChip.new()
    t = _minimal_emrtd(chip)
    card = ESignCard(t)
    card.select()
    if content == "certificate-file":
        card.write_file(b"\x30\x00", fid=0xC001)  # the CA certificate: no key needed for it
    else:
        card.generate_key()
        if content == "pin":
            card.set_initial_pin("123456")
    assert _lock(t) == REFUSED
    card.put_perso_key(K_PERSO)
    assert _lock(t) == OK


def test_a_holder_certificate_needs_its_key_pair_and_every_byte() -> None:
    chip = VirtualChip.new()
    t = _minimal_emrtd(chip)
    card = ESignCard(t)
    card.select()
    card.put_perso_key(K_PERSO)
    card.write_file(b"\x30\x02\x05\x00")
    assert _lock(t) == REFUSED  # a certificate, no key
    card.generate_key()  # wipes the certificate files
    create = CommandAPDU(0x00, 0xE0, 0x00, 0x00, tlv.encode(0x63, bytes.fromhex("0004C000")))
    _ok(t, create)
    assert _lock(t) == REFUSED  # created, not written
    body = tlv.encode(0x54, b"\x00\x00") + tlv.encode(0x53, b"\x30\x02\x05\x00")
    _ok(t, CommandAPDU(0x00, 0xD7, 0xC0, 0x00, body))
    assert _lock(t) == OK


def test_a_card_without_the_esign_application_needs_no_k_perso(tmp_path: Path) -> None:
    chip = VirtualChip.new()
    _minimal_emrtd(chip)
    chip.save(tmp_path / "chip.json")
    assert VirtualChip.load(tmp_path / "chip.json").state.unwritten == {"application": {
        0x011E: [], 0x011D: [], 0x0101: []}}  # fmt: skip
    assert chip.process(LOCK) == OK
