"""The finger gate: a *local* quality score per finger (orientation coherence × ridge contrast
× coverage, computed with OpenCV), a configurable threshold with retries, exception records for
missing or injured fingers, and the choice of the two fingers that go into DG3.

The score is NOT NFIQ 2 (ISO/IEC 29794-4): no NFIQ 2 binding installs from the package index, and
``pyfing`` (0.7.3) has no quality measure and imports Keras at load time. The score is 0…100 and
comparable only with itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from station.capture.device import CaptureDevice, check_position
from station.capture.errors import CaptureRefused


@dataclass(frozen=True, slots=True)
class FingerRules:
    """Settings of the local finger score (all local choices, see docs/guide/capture.md)."""

    min_score: int = 60
    """Accept a finger at this local score or above (shipped samples ≈ 97; σ = 3 blur ≈ 50)."""
    block: int = 16
    """Block side in pixels (about two ridge periods at 500 ppi)."""
    min_block_std: float = 12.0
    """A block is finger (foreground) when its grey standard deviation is above this."""
    full_coverage: float = 0.4
    """Foreground fraction of the image that counts as a fully placed finger."""
    full_contrast: float = 40.0
    """Mean foreground block standard deviation that counts as full ridge contrast."""
    attempts: int = 3
    """Captures tried per finger before the refusal stands."""


FINGER_RULES = FingerRules()


@dataclass(frozen=True, slots=True)
class FingerCapture:
    """An accepted finger image (ISO/IEC 19794-4 position 1…10) with its local score."""

    position: int
    image: bytes = field(repr=False)
    score: int


@dataclass(frozen=True, slots=True)
class FingerException:
    """A finger that cannot be captured (missing, injured, bandaged…): recorded, not refused."""

    position: int
    reason: str

    def __post_init__(self) -> None:
        check_position(self.position)
        if not self.reason.strip():
            raise CaptureRefused("no_reason", "a finger exception needs its reason")


def local_score(grey: npt.NDArray[np.uint8], rules: FingerRules = FINGER_RULES) -> int:
    """Local quality score 0…100: mean orientation coherence of the structure tensor over the
    foreground blocks, scaled down when the ridge contrast or the covered area is small."""
    b = rules.block
    h, w = grey.shape[0] // b * b, grey.shape[1] // b * b
    if h == 0 or w == 0:
        return 0
    g = grey[:h, :w].astype(np.float64)
    gx = cv2.Sobel(g, cv2.CV_64F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_64F, 0, 1, ksize=3)

    def blocks(a: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
        return np.asarray(a.reshape(h // b, b, w // b, b).sum(axis=(1, 3)), dtype=np.float64)

    gxx, gyy, gxy = blocks(gx * gx), blocks(gy * gy), blocks(gx * gy)
    spread = g.reshape(h // b, b, w // b, b).std(axis=(1, 3))
    foreground = spread > rules.min_block_std
    if not foreground.any():
        return 0
    coherence = np.sqrt((gxx - gyy) ** 2 + 4 * gxy**2) / np.maximum(gxx + gyy, 1e-9)
    mean_coherence = float(coherence[foreground].mean())
    coverage = min(1.0, float(foreground.mean()) / rules.full_coverage)
    contrast = min(1.0, float(spread[foreground].mean()) / rules.full_contrast)
    return round(100 * mean_coherence * coverage * contrast)


def check_finger(image: bytes, position: int, rules: FingerRules = FINGER_RULES) -> FingerCapture:
    """Accept ``image`` for finger ``position`` or raise :class:`CaptureRefused`
    (``unreadable``, ``finger_blank``, ``finger_quality``)."""
    check_position(position)
    pixels = cv2.imdecode(np.frombuffer(image, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if pixels is None or pixels.size == 0:
        raise CaptureRefused("unreadable", "the finger image cannot be decoded")
    score = local_score(np.asarray(pixels, dtype=np.uint8), rules)
    if score == 0:
        raise CaptureRefused("finger_blank", f"no ridges found for finger {position}")
    if score < rules.min_score:
        raise CaptureRefused(
            "finger_quality", f"finger {position}: local score {score} < {rules.min_score}"
        )
    return FingerCapture(position, image, score)


def capture_finger(
    device: CaptureDevice, position: int, rules: FingerRules = FINGER_RULES
) -> FingerCapture:
    """Capture finger ``position`` up to ``rules.attempts`` times; the best accepted capture, or
    the last refusal."""
    last: CaptureRefused | None = None
    for _ in range(max(rules.attempts, 1)):
        try:
            return check_finger(device.capture_finger(position), position, rules)
        except CaptureRefused as refused:
            last = refused
    assert last is not None
    raise last


DG3_ORDER: tuple[tuple[int, int], ...] = ((2, 7), (3, 8), (4, 9), (1, 6))
"""(right, left) pairs in order of preference: index, then middle, ring, thumb; little fingers
are not used. The order of the EU's passport fingerprint rules (Commission Decision C(2006)
2909: index fingers, else middle, ring, thumb), applied one finger per hand."""


def choose_for_dg3(
    captures: Iterable[FingerCapture | FingerException], count: int = 2
) -> tuple[FingerCapture, ...]:
    """The fingers for DG3: the first accepted finger of each hand in :data:`DG3_ORDER` (right
    hand first); if one hand has none, the next of the other hand. Of several captures of one
    finger, the best-scoring (the earliest on a tie). Exceptions are skipped."""
    accepted: dict[int, FingerCapture] = {}
    for c in captures:
        if isinstance(c, FingerCapture) and (
            c.position not in accepted or c.score > accepted[c.position].score
        ):
            accepted[c.position] = c
    hands: list[list[FingerCapture]] = [[], []]
    for pair in DG3_ORDER:
        for hand, position in enumerate(pair):
            if position in accepted:
                hands[hand].append(accepted[position])
    chosen = [h.pop(0) for h in hands if h]
    rest = hands[0] + hands[1]
    rest.sort(key=lambda c: [p for pair in DG3_ORDER for p in pair].index(c.position))
    return tuple((chosen + rest)[: max(count, 0)])


__all__ = [
    "DG3_ORDER",
    "FINGER_RULES",
    "FingerCapture",
    "FingerException",
    "FingerRules",
    "capture_finger",
    "check_finger",
    "choose_for_dg3",
    "local_score",
]
