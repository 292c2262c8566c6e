"""`idcard.esign.ESignCard`'s PIN errors against the virtual chip: tries left in words."""

from __future__ import annotations

import pytest
from tests.idcard.esign.esign_kit import PIN, PUK, enrolled_chip, open_card

from idcard.apdu import StatusWord
from idcard.esign import PINBlockedError, PINError
from idcard.esign.card import tries_left


def test_tries_left_plurals() -> None:
    assert [tries_left(n) for n in (0, 1, 2, 9)] == [
        "0 tries left", "1 try left", "2 tries left", "9 tries left"]  # fmt: skip


def test_wrong_pin_and_puk_messages() -> None:
    card = open_card(enrolled_chip())
    said = []
    for _ in range(2):
        with pytest.raises(PINError) as info:
            card.verify_pin("000000")
        said.append((str(info.value), info.value.tries_left, info.value.what, info.value.sw))
    assert said == [("wrong PIN: 2 tries left", 2, "PIN", 0x63C2),
                    ("wrong PIN: 1 try left", 1, "PIN", 0x63C1)]  # fmt: skip
    with pytest.raises(PINBlockedError) as blocked:
        card.verify_pin("000000")
    assert (str(blocked.value), blocked.value.what) == ("the PIN is blocked", "PIN")
    assert blocked.value.sw == StatusWord.AUTH_METHOD_BLOCKED
    with pytest.raises(PINError, match=r"^wrong PUK: 9 tries left$") as puk:
        card.unblock_pin("00000000", "111111")
    assert puk.value.what == "PUK"
    card.unblock_pin(PUK, PIN)
    card.verify_pin(PIN)
    assert card.pin_tries() is None
