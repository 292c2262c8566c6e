"""Properties of the e-signature application's PIN/PUK protocol (ISO/IEC 7816-4 §11.5), as a
hypothesis state machine against a reference model, over real APDUs to the virtual chip:

* after any failed VERIFY or CHANGE, and after RESET RETRY COUNTER, PSO: CDS answers 6982;
* retry counters never go up except by a successful VERIFY/CHANGE of that secret or RESET RETRY
  COUNTER with the right PUK; a blocked PIN or PUK answers 6983 to every attempt;
* every signature verifies with the card's public key and has the curve's exact length;

and single properties of MUTUAL AUTHENTICATE (one attempt per GET CHALLENGE) and of the
certificate files (UPDATE BINARY never writes past the end).
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from tests.idcard.esign.esign_kit import K_PERSO, PIN, PUK, enrolled_chip, personalized_chip

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.chip.emrtd import VirtualChip
from idcard.chip.transport import ChipTransport
from idcard.esign import ESignCard
from idcard.esign.protocol import (
    ALG_ECDSA_DER,
    ALG_ECDSA_PLAIN,
    ESIGN_AID,
    PersoAuthProtocol,
    pin_block,
)

PINS = (PIN, "654321", "11112222", "9876543")
PUKS = (PUK, "12345678", "00000000")
DIGEST = hashlib.sha256(b"signed by the holder").digest()
MALFORMED = (b"", b"12345", b"1234\xff\xff\xff\xff", b"12345a\xff\xff", b"123456789", b"\xff" * 8)


def _tries(n: int) -> int:
    return 0x63C0 | n if n else 0x6983


def _verify_signature(chip: VirtualChip, signature: bytes, *, der: bool) -> None:
    key = chip.state.esign_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    if not der:
        size = (key.curve.key_size + 7) // 8
        assert len(signature) == 2 * size  # r ‖ s, each exactly the order's length
        r, s = signature[:size], signature[size:]
        signature = encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
    key.public_key().verify(signature, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))


class PINProtocol(RuleBasedStateMachine):
    """The chip against a model of PIN, PUK, both counters and the verification status."""

    @initialize()
    def enrol(self) -> None:
        self.chip = enrolled_chip()
        self.t = ChipTransport(self.chip)
        self.select()
        self.pin, self.puk = PIN, PUK
        self.pin_tries, self.puk_tries = 3, 10
        self.verified = False

    # -- helpers -------------------------------------------------------------------------------

    def send(self, command: CommandAPDU) -> ResponseAPDU:
        return self.t.transmit(command)

    @property
    def puk_blocked(self) -> bool:
        return self.puk_tries == 0

    def expect(self, response: ResponseAPDU, sw: int) -> None:
        assert response.sw == sw, f"{response.sw:04X} != {sw:04X}"
        assert response.data == b""

    # -- rules ---------------------------------------------------------------------------------

    @rule()
    def select(self) -> None:
        """SELECT of the application again: the PIN is no longer verified."""
        self.t.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, ESIGN_AID)).check()
        self.verified = False

    @rule(pin=st.sampled_from(PINS))
    def verify(self, pin: str) -> None:
        response = self.send(CommandAPDU(0x00, 0x20, 0x00, 0x81, pin_block(pin)))
        if self.puk_blocked or self.pin_tries == 0:
            self.expect(response, 0x6983)
        elif pin == self.pin:
            self.expect(response, 0x9000)
            self.pin_tries, self.verified = 3, True
        else:
            self.pin_tries -= 1
            self.verified = False
            self.expect(response, _tries(self.pin_tries))

    @rule(block=st.sampled_from(MALFORMED[1:]))
    def verify_malformed(self, block: bytes) -> None:
        """A malformed PIN block costs no try and changes nothing."""
        response = self.send(CommandAPDU(0x00, 0x20, 0x00, 0x81, block))
        blocked = self.puk_blocked or self.pin_tries == 0
        self.expect(response, 0x6983 if blocked else 0x6A80)

    @rule()
    def verify_status(self) -> None:
        response = self.send(CommandAPDU(0x00, 0x20, 0x00, 0x81))
        if self.puk_blocked or self.pin_tries == 0:
            self.expect(response, 0x6983)
        else:
            self.expect(response, 0x9000 if self.verified else _tries(self.pin_tries))

    @rule(data=st.sampled_from((b"", pin_block(PIN), pin_block("654321"))))
    def verify_other_p1(self, data: bytes) -> None:
        """P1 FF without data resets the verification; P1 FF with data, or any other P1, is
        refused (6A86) and grants nothing."""
        response = self.send(CommandAPDU(0x00, 0x20, 0xFF, 0x81, data))
        if data:
            self.expect(response, 0x6A86)
        else:
            self.expect(response, 0x9000)
            self.verified = False
        self.expect(self.send(CommandAPDU(0x00, 0x20, 0x01, 0x81, data)), 0x6A86)

    @rule(old=st.sampled_from(PINS), new=st.sampled_from(PINS))
    def change_pin(self, old: str, new: str) -> None:
        response = self.send(CommandAPDU(0x00, 0x24, 0x00, 0x81, pin_block(old) + pin_block(new)))
        if self.puk_blocked or self.pin_tries == 0:
            self.expect(response, 0x6983)
        elif old == self.pin:
            self.expect(response, 0x9000)
            self.pin, self.pin_tries, self.verified = new, 3, True
        else:
            self.pin_tries -= 1
            self.verified = False
            self.expect(response, _tries(self.pin_tries))

    @rule(old=st.sampled_from(PUKS), new=st.sampled_from(PUKS))
    def change_puk(self, old: str, new: str) -> None:
        """A PUK change touches neither the PIN's counter nor its verification."""
        data = pin_block(old, puk=True) + pin_block(new, puk=True)
        response = self.send(CommandAPDU(0x00, 0x24, 0x00, 0x82, data))
        if self.puk_blocked:
            self.expect(response, 0x6983)
        elif old == self.puk:
            self.expect(response, 0x9000)
            self.puk, self.puk_tries = new, 10
        else:
            self.puk_tries -= 1
            self.expect(response, _tries(self.puk_tries))

    @rule(p2=st.sampled_from((0x81, 0x82)), data=st.sampled_from(MALFORMED))
    def change_malformed(self, p2: int, data: bytes) -> None:
        response = self.send(CommandAPDU(0x00, 0x24, 0x00, p2, data + data))
        tries = self.puk_tries if p2 == 0x82 else self.pin_tries
        self.expect(response, 0x6983 if self.puk_blocked or tries == 0 else 0x6A80)

    @rule(puk=st.sampled_from(PUKS), new=st.none() | st.sampled_from(PINS))
    def reset_retry_counter(self, puk: str, new: str | None) -> None:
        data = pin_block(puk, puk=True) + (b"" if new is None else pin_block(new))
        response = self.send(CommandAPDU(0x00, 0x2C, 0x01 if new is None else 0x00, 0x81, data))
        if self.puk_blocked:
            self.expect(response, 0x6983)
        elif puk == self.puk:
            self.expect(response, 0x9000)
            self.puk_tries, self.pin_tries, self.verified = 10, 3, False
            self.pin = new or self.pin
        else:
            self.puk_tries -= 1
            self.expect(response, _tries(self.puk_tries))

    @rule(der=st.booleans())
    def sign(self, der: bool) -> None:
        alg = ALG_ECDSA_DER if der else ALG_ECDSA_PLAIN
        mse = tlv.encode(0x84, b"\x01") + tlv.encode(0x80, bytes([alg]))
        self.t.transmit(CommandAPDU(0x00, 0x22, 0x41, 0xB6, mse)).check()
        response = self.send(CommandAPDU(0x00, 0x2A, 0x9E, 0x9A, DIGEST, ne=256))
        if self.puk_blocked or self.pin_tries == 0:
            self.expect(response, 0x6983)
        elif not self.verified:
            self.expect(response, 0x6982)
        else:
            assert response.sw == 0x9000
            _verify_signature(self.chip, response.data, der=der)

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def counters_match_the_model(self) -> None:
        state = self.chip.state
        assert (state.esign_pin_tries, state.esign_puk_tries) == (self.pin_tries, self.puk_tries)
        assert 0 <= self.pin_tries <= 3 and 0 <= self.puk_tries <= 10


PINProtocol.TestCase.settings = settings(stateful_step_count=30, deadline=None)
TestPINProtocol = PINProtocol.TestCase


# -- the personalization channel ---------------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(first_right=st.booleans())
def test_one_mutual_authenticate_per_challenge(first_right: bool) -> None:
    """After MUTUAL AUTHENTICATE, right or wrong, the same challenge is spent: a second one —
    even with the right cryptogram — is refused (6985) and opens no channel."""
    chip = enrolled_chip()
    card = ESignCard(ChipTransport(chip))
    card.select()
    protocol = PersoAuthProtocol(K_PERSO)
    challenge = card.transport.transmit(protocol.start())
    right = protocol.receive(challenge)
    assert isinstance(right, CommandAPDU)
    wrong = CommandAPDU(0x00, 0x82, 0x00, 0x00, bytes(len(right.data)), ne=len(right.data))
    first = card.transport.transmit(right if first_right else wrong)
    assert first.sw == (0x9000 if first_right else 0x6300)
    assert (chip.access == "ESIGN-PERSO") is first_right
    for again in (right, wrong):
        assert card.transport.transmit(again) == ResponseAPDU(b"", 0x6985)
        assert chip.access is None
    assert card.transport.transmit(CommandAPDU(0x00, 0x82, 0x00, 0x00, right.data)).sw == 0x6985


def test_mutual_authenticate_without_k_perso_or_under_sm() -> None:
    chip = VirtualChip.new()
    card = ESignCard(ChipTransport(chip))
    card.select()
    assert card.transport.transmit(CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=16)).sw == 0x6A88
    chip = personalized_chip()
    secure = ESignCard(ChipTransport(chip))
    secure.select()
    channel = secure.open_personalization(K_PERSO)
    response = channel.transport.transmit(CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=16))
    assert response.sw == 0x6985 and chip.access == "ESIGN-PERSO"


# -- certificate files -------------------------------------------------------------------------


@settings(deadline=None)
@given(
    size=st.integers(0, 300),
    writes=st.lists(st.tuples(st.integers(0, 320), st.binary(max_size=40)), max_size=6),
)
def test_update_binary_never_writes_past_the_end(
    size: int, writes: list[tuple[int, bytes]]
) -> None:
    chip = VirtualChip.new()  # before the lock: no channel needed
    t = ChipTransport(chip)
    ESignCard(t).select()
    spec = size.to_bytes(2, "big") + b"\xc0\x00"
    t.transmit(CommandAPDU(0x00, 0xE0, 0x00, 0x00, tlv.encode(0x63, spec))).check()
    model = bytearray(size)
    for offset, data in writes:
        body = tlv.encode(0x54, offset.to_bytes(2, "big")) + tlv.encode(0x53, data)
        response = t.transmit(CommandAPDU(0x00, 0xD7, 0xC0, 0x00, body))
        if offset + len(data) <= size:
            assert response == ResponseAPDU(b"", 0x9000)
            model[offset : offset + len(data)] = data
        else:
            assert response == ResponseAPDU(b"", 0x6A84)
        assert chip.state.files["esign"][0xC000] == model
