"""The finger gate: the shipped sample finger images (whorl-like ridge patterns drawn by a
program, see src/station/samples/README.md) and degraded versions of them; the DG3 choice."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from idcard.lds.dg3 import DG3
from station.capture import (
    FINGER_RULES,
    CaptureRefused,
    FileCaptureDevice,
    FingerCapture,
    FingerException,
    FingerRules,
    capture_finger,
    check_finger,
    choose_for_dg3,
    local_score,
)

SAMPLES = Path(__file__).parents[3] / "src" / "station" / "samples"
RIGHT_INDEX = (SAMPLES / "finger-right-index.jpg").read_bytes()
LEFT_INDEX = (SAMPLES / "finger-left-index.jpg").read_bytes()


def _grey(image: bytes) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_GRAYSCALE))


def _png(pixels: npt.NDArray[np.uint8]) -> bytes:
    ok, buffer = cv2.imencode(".png", pixels)
    assert ok
    return bytes(buffer)


def test_the_sample_fingers_pass_with_a_high_local_score() -> None:
    right = check_finger(RIGHT_INDEX, 2)
    left = check_finger(LEFT_INDEX, 7)
    assert (right.position, left.position) == (2, 7)
    assert right.image == RIGHT_INDEX and left.image == LEFT_INDEX
    assert right.score >= 90 and left.score >= 90


def _degraded() -> dict[str, tuple[npt.NDArray[np.uint8], str]]:
    g = _grey(RIGHT_INDEX)
    rng = np.random.default_rng(7)
    return {
        "blurred σ=3": (np.asarray(cv2.GaussianBlur(g, (0, 0), 3)), "finger_quality"),
        "noisy": (np.clip(g + rng.normal(0, 80, g.shape), 0, 255).astype(np.uint8),
                  "finger_quality"),
        "three quarters lifted": (np.vstack([g[:80], np.full_like(g[80:], 255)]), "finger_quality"),
        "washed out": (cv2.convertScaleAbs(g, alpha=0.15, beta=200), "finger_blank"),
        "blank": (np.full_like(g, 200), "finger_blank"),
    }


@pytest.mark.parametrize("name", list(_degraded()))
def test_a_degraded_finger_is_refused_with_its_reason(name: str) -> None:
    pixels, reason = _degraded()[name]
    with pytest.raises(CaptureRefused) as caught:
        check_finger(_png(pixels), 2)
    assert caught.value.reason == reason
    assert "finger 2" in str(caught.value)


def test_the_threshold_is_configurable() -> None:
    blurred = _png(np.asarray(cv2.GaussianBlur(_grey(RIGHT_INDEX), (0, 0), 3)))
    score = local_score(_grey(blurred))
    assert 0 < score < FINGER_RULES.min_score
    assert check_finger(blurred, 2, FingerRules(min_score=score)).score == score
    with pytest.raises(CaptureRefused):
        check_finger(blurred, 2, FingerRules(min_score=score + 1))


@given(st.integers(min_value=0, max_value=255), st.integers(min_value=1, max_value=64))
def test_a_flat_image_scores_zero(level: int, side: int) -> None:
    assert local_score(np.full((side * 4, side * 3), level, dtype=np.uint8)) == 0


def test_bad_input_is_refused() -> None:
    with pytest.raises(CaptureRefused) as caught:
        check_finger(b"\x00" * 10, 2)
    assert caught.value.reason == "unreadable"
    for position in (0, 11):
        with pytest.raises(CaptureRefused) as caught:
            check_finger(RIGHT_INDEX, position)
        assert caught.value.reason == "bad_position"


class _Flaky:
    """A device whose first captures are blank, then the good sample."""

    def __init__(self, bad: int) -> None:
        self.bad, self.calls = bad, 0

    def capture_face(self) -> bytes:
        raise AssertionError("not used")

    def capture_finger(self, position: int) -> bytes:
        self.calls += 1
        return _png(np.full((320, 256), 200, np.uint8)) if self.calls <= self.bad else RIGHT_INDEX


def test_retries_until_accepted_or_the_last_refusal() -> None:
    device = _Flaky(bad=2)
    assert capture_finger(device, 2).score >= 90 and device.calls == 3
    device = _Flaky(bad=3)
    with pytest.raises(CaptureRefused) as caught:
        capture_finger(device, 2)
    assert caught.value.reason == "finger_blank" and device.calls == 3


def test_the_file_device_reads_fingers(tmp_path: Path) -> None:
    device = FileCaptureDevice(fingers={2: SAMPLES / "finger-right-index.jpg"})
    assert capture_finger(device, 2).image == RIGHT_INDEX
    with pytest.raises(CaptureRefused) as caught:
        device.capture_finger(7)
    assert caught.value.reason == "no_image"
    with pytest.raises(CaptureRefused):
        FileCaptureDevice(fingers={12: tmp_path})


def _cap(position: int, score: int = 80) -> FingerCapture:
    return FingerCapture(position, bytes([position]), score)


def test_dg3_takes_both_index_fingers_right_first() -> None:
    chosen = choose_for_dg3([_cap(p) for p in (7, 1, 3, 2, 8)])
    assert [c.position for c in chosen] == [2, 7]


def test_dg3_falls_back_per_hand_in_the_documented_order() -> None:
    missing = FingerException(2, "amputated")
    chosen = choose_for_dg3([missing, _cap(1), _cap(4), _cap(3), _cap(7)])
    assert [c.position for c in chosen] == [3, 7]  # right middle before ring and thumb
    chosen = choose_for_dg3([_cap(1), _cap(6), _cap(5), _cap(10)])
    assert [c.position for c in chosen] == [1, 6]  # little fingers never
    # One hand gives nothing: the next fingers of the other hand.
    chosen = choose_for_dg3([_cap(2), _cap(4), _cap(3), FingerException(7, "bandaged")])
    assert [c.position for c in chosen] == [2, 3]
    assert choose_for_dg3([FingerException(p, "injured") for p in range(1, 11)]) == ()


def test_the_chosen_fingers_make_dg3() -> None:
    chosen = choose_for_dg3([check_finger(RIGHT_INDEX, 2), check_finger(LEFT_INDEX, 7)])
    dg3 = DG3.decode(DG3.from_images({c.position: c.image for c in chosen}).encode())
    assert dg3.images == (RIGHT_INDEX, LEFT_INDEX)


def test_a_finger_exception_is_a_record_with_its_reason() -> None:
    record = FingerException(7, "bandaged after an injury")
    assert record.reason == "bandaged after an injury"
    with pytest.raises(CaptureRefused) as caught:
        FingerException(7, " ")
    assert caught.value.reason == "no_reason"
    with pytest.raises(CaptureRefused):
        FingerException(0, "missing")


def test_finger_bytes_never_reach_exceptions_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    accepted = check_finger(RIGHT_INDEX, 2)
    assert "image" not in repr(accepted) and RIGHT_INDEX[100:116].hex() not in repr(accepted)
    for pixels, _ in _degraded().values():
        image = _png(pixels)
        with pytest.raises(CaptureRefused) as caught:
            check_finger(image, 2)
        text = str(caught.value) + repr(caught.value.args)
        assert len(text) < 200 and image[100:116].hex() not in text
        assert repr(image[100:116])[2:-1] not in text
    logged = "".join(r.getMessage() for r in caplog.records)
    assert RIGHT_INDEX[100:116].hex() not in logged


def test_the_local_score_of_the_samples_is_pinned() -> None:
    """Regression values of the documented formula (docs/guide/capture.md): a change of the
    score changes these numbers and must be deliberate."""
    right, left = _grey(RIGHT_INDEX), _grey(LEFT_INDEX)
    assert (local_score(right), local_score(left)) == (98, 97)
    assert local_score(right, FingerRules(block=32)) == 95
    assert local_score(np.ascontiguousarray(right.T)) == 98  # portrait or landscape alike
    assert local_score(right[:, :100]) == 98  # non-square: rows and columns not mixed up
    assert local_score(np.zeros((15, 300), np.uint8)) == 0  # smaller than one block
    assert local_score(np.zeros((300, 15), np.uint8)) == 0


def test_check_finger_uses_its_rules_and_decodes_colour_as_grey() -> None:
    with pytest.raises(CaptureRefused) as caught:
        check_finger(RIGHT_INDEX, 2, FingerRules(min_block_std=200))
    assert caught.value.reason == "finger_blank"
    colour = _png(np.asarray(cv2.cvtColor(_grey(RIGHT_INDEX), cv2.COLOR_GRAY2BGR)))
    assert check_finger(colour, 2).score == 98
    assert check_finger(RIGHT_INDEX, 2, FingerRules(block=32)).score == 95


def test_the_refusal_messages_are_the_documented_ones() -> None:
    with pytest.raises(CaptureRefused) as caught:
        check_finger(b"junk", 2)
    assert str(caught.value) == "unreadable: the finger image cannot be decoded"
    with pytest.raises(CaptureRefused) as caught:
        FingerException(3, "")
    assert str(caught.value) == "no_reason: a finger exception needs its reason"
    assert caught.value.message == "a finger exception needs its reason"


def test_attempts_and_rules_reach_every_try() -> None:
    for attempts in (0, 1):
        device = _Flaky(bad=1)
        with pytest.raises(CaptureRefused):
            capture_finger(device, 2, FingerRules(attempts=attempts))
        assert device.calls == 1
    device = _Flaky(bad=0)
    with pytest.raises(CaptureRefused) as caught:
        capture_finger(device, 2, FingerRules(min_score=99))
    assert caught.value.reason == "finger_quality" and device.calls == 3


def test_dg3_count() -> None:
    captures = [_cap(p) for p in (2, 3, 7, 8)]
    assert [c.position for c in choose_for_dg3(captures, count=1)] == [2]
    assert [c.position for c in choose_for_dg3(captures, count=3)] == [2, 7, 3]
    assert choose_for_dg3(captures, count=0) == ()
    assert [c.position for c in choose_for_dg3([_cap(2), _cap(3)], count=1)] == [2]


def test_dg3_keeps_the_best_capture_of_a_finger() -> None:
    first, better, tie = _cap(2, 70), _cap(2, 90), _cap(2, 90)
    chosen = choose_for_dg3([first, better, tie, _cap(7, 65)])
    assert chosen[0] is better and [c.score for c in chosen] == [90, 65]
