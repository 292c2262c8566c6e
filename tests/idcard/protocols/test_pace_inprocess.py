"""PACE terminal against PACE chip in one process: every protocol OID × standardized domain
parameter set, hypothesis-chosen keys and passwords, tampering, replays and wrong passwords."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import AuthenticationError, DecodeError, EncodeError
from idcard.protocols import drive
from idcard.protocols.pace import (
    CAN,
    MRZ,
    PACE_ALGORITHMS,
    PACEChip,
    PACEPassword,
    PACEProtocol,
    PACEResult,
    verify_chip_authentication,
)
from idcard.protocols.params import STANDARDIZED_DOMAIN_PARAMETERS, standardized
from idcard.sm import SecureChannel

CA_PRIVATE_KEY = 0x1F2E3D4C5B6A7988


def combinations() -> list[tuple[str, int]]:
    out = []
    for oid, algorithm in PACE_ALGORITHMS.items():
        for pid, params in STANDARDIZED_DOMAIN_PARAMETERS.items():
            if params.kind != algorithm.agreement:
                continue
            if algorithm.mapping == "IM" and params.kind == "ECDH" and params.p % 4 != 3:
                continue  # P-224: the ICAO point encoding needs p ≡ 3 mod 4
            out.append((oid, pid))
    return out


ALL = combinations()
HEAVY = {1, 2, 17, 18}  # 2048-bit MODP groups, brainpoolP512r1, P-521: few examples
LIGHT = [(oid, pid) for oid, pid in ALL if pid not in HEAVY]


def seeded(seed: int) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


class Link:
    """In-process transport terminal → chip, with an optional tamper hook and a log."""

    def __init__(
        self,
        chip: PACEChip,
        tamper: Callable[[int, bytes], bytes] | None = None,
    ) -> None:
        self.chip = chip
        self.tamper = tamper or (lambda index, raw: raw)
        self.index = 0
        self.commands: list[CommandAPDU] = []

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        raw = self.tamper(self.index, command.encode())
        self.index += 1
        self.commands.append(command)
        response = self.chip.handle(CommandAPDU.decode(raw))
        raw_response = self.tamper(self.index, response.encode())
        self.index += 1
        return ResponseAPDU.decode(raw_response)


def make_pair(
    oid: str, pid: int, *, seed: int = 1, password: PACEPassword | None = None,
    chip_password: PACEPassword | None = None, chat: bytes | None = None,
) -> tuple[PACEProtocol, PACEChip]:
    password = password or PACEPassword.can("123456")
    domain = standardized(pid)
    cam = PACE_ALGORITHMS[oid].mapping == "CAM"
    pk_ic = domain.public_key(CA_PRIVATE_KEY) if cam else None
    terminal = PACEProtocol(password, oid, pid, rng=seeded(seed), chip_ca_public_key=pk_ic,
                            chat=chat)
    chip = PACEChip(
        [chip_password or password],
        [(oid, pid)],
        ca_private_key=CA_PRIVATE_KEY if cam else None,
        cars=(b"UZCVCA00001", b"UZCVCA00000"),
        rng=seeded(seed + 1000),
    )
    return terminal, chip


def check_agreement(result: PACEResult, chip: PACEChip) -> None:
    assert chip.done and chip.result is not None
    other = chip.result
    assert (result.ks_enc, result.ks_mac) == (other.ks_enc, other.ks_mac)
    assert result.terminal_public_key == other.terminal_public_key
    assert result.chip_public_key == other.chip_public_key
    assert result.id_picc == other.id_picc
    assert result.chip_mapping_public_key == other.chip_mapping_public_key
    assert result.chip_authentication_data == other.chip_authentication_data
    key_len = {"3DES": 16, "AES-128": 16, "AES-192": 24, "AES-256": 32}[result.cipher]
    assert len(result.ks_enc) == len(result.ks_mac) == key_len


def secure_read_binary(result: PACEResult, chip_result: PACEResult) -> None:
    """A protected READ BINARY through a SecureChannel pair built from both results."""
    terminal_sm, chip_sm = result.secure_channel(), chip_result.secure_channel()
    assert isinstance(terminal_sm, SecureChannel)
    command = CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4)
    protected = terminal_sm.wrap(command)
    assert protected.cla & 0x0C == 0x0C and protected.encode() != command.encode()
    received = chip_sm.unwrap_command(protected)
    assert (received.ins, received.p1, received.p2, received.ne) == (0xB0, 0, 0, 4)
    answer = chip_sm.wrap_response(ResponseAPDU(b"\x60\x14\x5f\x01", 0x9000))
    assert terminal_sm.unwrap(answer) == ResponseAPDU(b"\x60\x14\x5f\x01", 0x9000)


ALL_IDS = [f"{PACE_ALGORITHMS[oid].name}-{pid}" for oid, pid in ALL]


@pytest.mark.parametrize(("oid", "pid"), ALL, ids=ALL_IDS)
def test_every_combination(oid: str, pid: int) -> None:
    terminal, chip = make_pair(oid, pid, seed=pid)
    result = drive(terminal, Link(chip))
    check_agreement(result, chip)
    assert result.algorithm.oid == oid and result.domain_parameters.parameter_id == pid
    if result.mapping == "CAM":
        assert result.chip_authenticated is True
        assert verify_chip_authentication(result, standardized(pid).public_key(CA_PRIVATE_KEY))
    else:
        assert result.chip_authenticated is None and result.chip_authentication_data is None
    assert chip.result is not None
    secure_read_binary(result, chip.result)


def test_combination_count() -> None:
    # 12 DH-GM + 12 DH-IM + 44 ECDH-GM + 40 ECDH-IM (no P-224) + 33 ECDH-CAM
    assert len(ALL) == 141
    assert len(PACE_ALGORITHMS) == 19  # 4 families × 4 ciphers + CAM × 3 AES sizes


@settings(max_examples=25)
@given(
    combo=st.sampled_from(LIGHT),
    seed=st.integers(min_value=0, max_value=2**32),
    can=st.text(alphabet="0123456789", min_size=6, max_size=6),
    use_mrz=st.booleans(),
)
def test_handshake_property(combo: tuple[str, int], seed: int, can: str, use_mrz: bool) -> None:
    oid, pid = combo
    password = (
        PACEPassword.from_mrz("L898902C3", "740812", "120415") if use_mrz else PACEPassword.can(can)
    )
    terminal, chip = make_pair(oid, pid, seed=seed, password=password)
    result = drive(terminal, Link(chip))
    check_agreement(result, chip)
    assert result.password_ref == (MRZ if use_mrz else CAN)


@settings(max_examples=3)
@given(combo=st.sampled_from([c for c in ALL if c[1] in HEAVY]), seed=st.integers(0, 2**16))
def test_handshake_property_heavy_groups(combo: tuple[str, int], seed: int) -> None:
    terminal, chip = make_pair(*combo, seed=seed)
    check_agreement(drive(terminal, Link(chip)), chip)


TAMPER_COMBOS = [
    ("0.4.0.127.0.7.2.2.4.2.2", 13),  # ECDH-GM AES-128 brainpoolP256r1
    ("0.4.0.127.0.7.2.2.4.1.1", 0),  # DH-GM 3DES
    ("0.4.0.127.0.7.2.2.4.4.4", 12),  # ECDH-IM AES-256 P-256
    ("0.4.0.127.0.7.2.2.4.3.2", 0),  # DH-IM AES-128
    ("0.4.0.127.0.7.2.2.4.6.3", 8),  # ECDH-CAM AES-192 P-192
    ("0.4.0.127.0.7.2.2.4.2.1", 9),  # ECDH-GM 3DES brainpoolP192r1
]


@settings(max_examples=100)
@given(
    combo=st.sampled_from(TAMPER_COMBOS),
    message=st.integers(min_value=2, max_value=9),
    bit=st.integers(min_value=0, max_value=2**16),
    seed=st.integers(0, 2**16),
)
def test_any_flipped_bit_is_refused(
    combo: tuple[str, int], message: int, bit: int, seed: int
) -> None:
    """Messages 2..9 are GA1 command, GA1 response, …, GA4 response (0/1 are MSE:Set AT)."""

    def flip(index: int, raw: bytes) -> bytes:
        if index != message:
            return raw
        position = bit % (8 * len(raw))
        changed = bytearray(raw)
        changed[position // 8] ^= 1 << (position % 8)
        return bytes(changed)

    terminal, chip = make_pair(*combo, seed=seed)
    with pytest.raises((AuthenticationError, DecodeError)) as caught:
        drive(terminal, Link(chip, flip))
    if isinstance(caught.value, AuthenticationError):
        assert caught.value.protocol == "PACE" and caught.value.step
    if message < 9:  # anything but the last response: the chip must not have completed
        assert not chip.done


def test_replayed_commands_are_refused() -> None:
    oid, pid = "0.4.0.127.0.7.2.2.4.2.2", 12
    terminal, chip = make_pair(oid, pid)
    link = Link(chip)
    drive(terminal, link)
    assert chip.done
    # after success, every GENERAL AUTHENTICATE of the session is refused
    for command in link.commands[1:]:
        assert chip.handle(command).sw != 0x9000
    # mid-run: the same step twice
    terminal2, chip2 = make_pair(oid, pid, seed=5)
    ga1 = terminal2.receive(chip2.handle(terminal2.start()))
    assert isinstance(ga1, CommandAPDU)
    assert chip2.handle(ga1).sw == 0x9000
    assert chip2.handle(ga1).sw != 0x9000
    assert chip2.error is not None and chip2.error.step == "map nonce"
    # across sessions: replaying a whole recorded session against fresh chip randomness fails
    chip3 = make_pair(oid, pid, seed=99)[1]
    answers = [chip3.handle(c).sw for c in link.commands]
    assert answers[-1] == 0x6300 and not chip3.done
    assert chip3.error is not None and chip3.error.step == "mutual authentication"


@pytest.mark.parametrize(("oid", "pid"), [("0.4.0.127.0.7.2.2.4.2.2", 13),
                                          ("0.4.0.127.0.7.2.2.4.3.1", 0),
                                          ("0.4.0.127.0.7.2.2.4.6.2", 13)])
@pytest.mark.parametrize("kind", ["can", "mrz"])
def test_wrong_password_fails_at_mutual_authentication(oid: str, pid: int, kind: str) -> None:
    if kind == "can":
        right, wrong = PACEPassword.can("123456"), PACEPassword.can("123457")
    else:
        right = PACEPassword.from_mrz("T22000129", "640812", "101031")
        wrong = PACEPassword.from_mrz("T22000129", "640812", "101032")
    terminal, chip = make_pair(oid, pid, password=wrong, chip_password=right)
    with pytest.raises(AuthenticationError) as caught:
        drive(terminal, Link(chip))
    assert caught.value.protocol == "PACE" and caught.value.step == "mutual authentication"
    assert "123456" not in str(caught.value)
    assert not chip.done and chip.error is not None
    assert chip.error.step == "mutual authentication"


def test_unknown_password_reference_is_refused_at_mse() -> None:
    terminal, chip = make_pair(
        "0.4.0.127.0.7.2.2.4.2.2", 13, password=PACEPassword.pin("1234"),
        chip_password=PACEPassword.can("123456"),
    )
    with pytest.raises(AuthenticationError) as caught:
        drive(terminal, Link(chip))
    assert caught.value.step == "MSE:Set AT" and "6A88" in str(caught.value)


def test_cars_are_returned_after_a_chat() -> None:
    # CHAT for an inspection system: id-IS (0.4.0.127.0.7.3.1.2.1), role/access bits 03
    chat = bytes.fromhex("7F4C0E" "060904007F000703010201" "530103")
    terminal, chip = make_pair("0.4.0.127.0.7.2.2.4.2.2", 13, chat=chat)
    result = drive(terminal, Link(chip))
    assert result.cars == (b"UZCVCA00001", b"UZCVCA00000")
    assert chip.result is not None and chip.result.cars == result.cars


def test_cam_with_a_wrong_chip_key_fails_chip_authentication() -> None:
    oid, pid = "0.4.0.127.0.7.2.2.4.6.2", 13
    domain = standardized(pid)
    terminal = PACEProtocol(PACEPassword.can("123456"), oid, pid, rng=seeded(3),
                            chip_ca_public_key=domain.public_key(CA_PRIVATE_KEY + 1))
    chip = PACEChip([PACEPassword.can("123456")], [(oid, pid)], ca_private_key=CA_PRIVATE_KEY,
                    rng=seeded(4))
    with pytest.raises(AuthenticationError) as caught:
        drive(terminal, Link(chip))
    assert caught.value.step == "chip authentication"


def test_unsupported_combinations_are_rejected_up_front() -> None:
    with pytest.raises(EncodeError):
        PACEProtocol(PACEPassword.can("1"), "0.4.0.127.0.7.2.2.4.2.2", 0)  # ECDH OID, DH group
    with pytest.raises(EncodeError):
        PACEProtocol(PACEPassword.can("1"), "0.4.0.127.0.7.2.2.4.4.2", 10)  # IM on P-224
    with pytest.raises(EncodeError):
        PACEChip([], [("0.4.0.127.0.7.2.2.4.6.2", 13)])  # CAM without SK_IC
    with pytest.raises(DecodeError):
        PACEProtocol(PACEPassword.can("1"), "0.4.0.127.0.7.2.2.4.6.1", 13)  # no CAM with 3DES


@settings(max_examples=60)
@given(
    combo=st.sampled_from(TAMPER_COMBOS),
    step=st.integers(min_value=1, max_value=4),
    junk=st.binary(max_size=80),
    wrap=st.booleans(),
)
def test_chip_answers_garbage_with_a_status_word(
    combo: tuple[str, int], step: int, junk: bytes, wrap: bool
) -> None:
    """Random GENERAL AUTHENTICATE data at any step: a refusal, never an exception."""
    terminal, chip = make_pair(*combo)
    command: CommandAPDU | PACEResult = terminal.start()
    for _ in range(step):
        assert isinstance(command, CommandAPDU)
        command = terminal.receive(chip.handle(command))
    assert isinstance(command, CommandAPDU)
    data = bytes([0x7C, len(junk)]) + junk if wrap and len(junk) < 128 else junk
    forged = CommandAPDU(command.cla, command.ins, 0, 0, data, ne=256) if data else command
    answer = chip.handle(forged)
    if answer.sw != 0x9000:
        assert chip.error is not None and chip.error.protocol == "PACE"
        assert not chip.done


@settings(max_examples=60)
@given(
    combo=st.sampled_from(TAMPER_COMBOS),
    step=st.integers(min_value=1, max_value=4),
    junk=st.binary(max_size=80),
    sw=st.sampled_from([0x9000, 0x6300, 0x6A80]),
)
def test_terminal_refuses_garbage_with_authentication_error(
    combo: tuple[str, int], step: int, junk: bytes, sw: int
) -> None:
    terminal, chip = make_pair(*combo)
    command: CommandAPDU | PACEResult = terminal.start()
    for _ in range(step):
        assert isinstance(command, CommandAPDU)
        command = terminal.receive(chip.handle(command))
    if step == 2 and PACE_ALGORITHMS[combo[0]].mapping == "IM" and sw == 0x9000 and not junk:
        return  # an empty answer to the IM nonce step is accepted (some chips send no data)
    failure: AuthenticationError | None = None
    try:
        outcome = terminal.receive(ResponseAPDU(junk, sw))
    except AuthenticationError as exc:
        failure = exc
    if failure is not None:
        assert failure.protocol == "PACE" and failure.step
        return
    # only a well-formed encrypted nonce (7C{80 whole blocks}) can be taken at face value
    assert step == 1 and sw == 0x9000 and junk[:3] == bytes([0x7C, len(junk) - 2, 0x80])
    assert isinstance(outcome, CommandAPDU)


@dataclasses.dataclass(frozen=True)
class _Info:
    protocol: str
    version: int = 2
    parameter_id: int | None = None


def test_from_pace_info() -> None:
    password = PACEPassword.can("123456")
    info = _Info("0.4.0.127.0.7.2.2.4.2.2", parameter_id=13)
    terminal = PACEProtocol.from_pace_info(password, info, rng=seeded(1))
    chip = PACEChip([password], [(info.protocol, 13)], rng=seeded(2))
    assert drive(terminal, Link(chip)).domain_parameters.parameter_id == 13
    explicit = PACEProtocol.from_pace_info(password, _Info(info.protocol), standardized(12))
    assert explicit.domain.parameter_id == 12
    with pytest.raises(EncodeError):
        PACEProtocol.from_pace_info(password, _Info(info.protocol))
