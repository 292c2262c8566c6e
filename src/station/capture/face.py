"""The face gate: one frontal face, found by OpenCV's Haar cascades, checked against
:class:`FaceRules` and cropped to the ISO/IEC 19794-5 token frame for DG2.

Order of the checks (the first failure is the reason): decodable image → a face (if none is
found upright but one is found after turning the image, the reason is ``rotated``) → exactly one
face → both eyes; then every measure, each failure reported (inter-eye distance → roll from the
eye line → yaw proxy → eyes centred in the frame → face size in the frame → exposure → sharpness
→ the token frame inside the image → uniform background); then the JPEG within the DG2 budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from station.capture.errors import CaptureRefused

Grey = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]
Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class FaceRules:
    """Thresholds of the face gate, each with its source (see docs/guide/capture.md)."""

    min_eye_distance: float = 90.0
    """Pixels between the eye centres: ICAO 9303-9 / ISO/IEC 19794-5 full frontal (≥ 90)."""
    max_roll_degrees: float = 8.0
    """Roll of the eye line: ISO/IEC 19794-5 full frontal pose tolerance (±8° roll)."""
    eye_x_range: tuple[float, float] = (0.45, 0.55)
    """Eye midpoint, fraction of the image width: ISO/IEC 19794-5 full frontal (Mx 45–55 %)."""
    eye_y_range: tuple[float, float] = (0.30, 0.50)
    """Eye midpoint, fraction of the height from the top: 19794-5 full frontal (eye line 50–70 %
    of the height from the bottom)."""
    face_width_range: tuple[float, float] = (0.25, 0.70)
    """Haar face box width over the image width. Local: the box spans brow to chin, narrower
    than the head 19794-5 measures (head width 50–57 % of the image), hence looser bounds."""
    brightness_range: tuple[float, float] = (60.0, 200.0)
    """Mean grey level (0–255) of the face box. Local choice (ICAO asks for no under- or
    over-exposure without numbers; ISO/IEC 29794-5 names the measure)."""
    min_sharpness: float = 25.0
    """Variance of the Laplacian of the face box scaled to a 90 px eye distance. Local choice,
    calibrated on scikit-image's astronaut (≈ 70 upscaled 2.5×, ≈ 8 after a σ = 2.5 blur)."""
    max_yaw_offset: float = 0.15
    """Horizontal distance of the eye midpoint from the centre of the face box, in eye
    distances. Local proxy for yaw (a Haar cascade gives no pose): the astronaut ≈ 0.02."""
    max_background_std: float = 20.0
    """Grey standard deviation in each top corner of the token frame (beside the head). Local
    choice for ICAO's 'plain, uniform background'."""
    max_background_difference: float = 40.0
    """Difference of the two top corners' mean grey levels. Local choice (uniform lighting)."""
    max_padding: float = 0.08
    """Fraction of the token height that may lie outside the image and be filled by repeating
    the edge. Local choice; beyond it the head is off centre."""
    token_width: int = 360
    """Output width: the 19794-5 token frame is 4 inter-eye distances wide, so 360 px keeps the
    90 px eye distance; height = width × 4 / 3, eye midpoint at (W / 2, 0.6 W)."""
    max_jpeg_bytes: int = 20_000
    """Size budget of the portrait in DG2. Local choice after ICAO's 15–20 kB guidance for the
    stored facial image (the chip holds DG2 whole; card_data puts the JPEG in as given)."""
    min_jpeg_quality: int = 40
    """Lowest JPEG quality tried before the portrait is refused as too large. Local choice."""


FACE_RULES = FaceRules()

SHARPNESS_EYE_DISTANCE = 90.0
"""The eye distance the face box is scaled to before its Laplacian is measured, so that the
sharpness does not depend on the camera's resolution (fixed: not a threshold)."""


@dataclass(frozen=True, slots=True)
class FaceCapture:
    """An accepted portrait: token-frame JPEG (for ``DG2.from_image``) and what was measured."""

    image: bytes = field(repr=False)
    width: int
    height: int
    eye_distance: float
    roll_degrees: float
    eye_x: float
    """Eye midpoint, fraction of the input width."""
    eye_y: float
    """Eye midpoint, fraction of the input height from the top."""
    face_width: float
    """Face box width, fraction of the input width."""
    brightness: float
    sharpness: float
    background_spread: float
    background_difference: float
    jpeg_quality: int
    yaw_offset: float = 0.0
    """Eye midpoint beside the face box's centre, in eye distances (signed; the yaw proxy)."""


_CASCADES: dict[str, cv2.CascadeClassifier] = {}


def _cascade(name: str) -> cv2.CascadeClassifier:
    if name not in _CASCADES:
        classifier = cv2.CascadeClassifier(cv2.data.haarcascades + name)  # type: ignore[attr-defined]
        if classifier.empty():  # pragma: no cover - a broken OpenCV install
            raise CaptureRefused("detector_missing", f"OpenCV cascade {name} did not load")
        _CASCADES[name] = classifier
    return _CASCADES[name]


def decode(image: bytes) -> npt.NDArray[np.uint8]:
    """The BGR pixels of an encoded image, or ``unreadable``."""
    pixels = cv2.imdecode(np.frombuffer(image, dtype=np.uint8), cv2.IMREAD_COLOR)
    if pixels is None or pixels.size == 0:
        raise CaptureRefused("unreadable", "the image cannot be decoded (JPEG or PNG expected)")
    return np.asarray(pixels, dtype=np.uint8)


def _faces(grey: Grey) -> list[Box]:
    side = int(0.15 * min(grey.shape))
    found = _cascade("haarcascade_frontalface_default.xml").detectMultiScale(
        grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side)
    )
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


def _turned_face(grey: Grey) -> int | None:
    """The angle at which a face with both eyes appears after turning the image, if any."""
    h, w = grey.shape
    for angle in (15, -15, 30, -30, 45, -45):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        turned = cv2.warpAffine(grey, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
        upright = np.asarray(turned, dtype=np.uint8)
        for face in _faces(upright):
            try:
                _eyes(upright, face)
            except CaptureRefused:
                continue
            return angle
    return None


def _eyes(grey: Grey, face: Box) -> tuple[Point, Point]:
    x, y, w, h = face
    roi = grey[y : y + int(h * 0.6), x : x + w]
    side = max(w // 8, 1)
    found = _cascade("haarcascade_eye.xml").detectMultiScale(
        roi, scaleFactor=1.1, minNeighbors=5, minSize=(side, side)
    )
    left: list[tuple[int, Point]] = []
    right: list[tuple[int, Point]] = []
    for ex, ey, ew, eh in found:
        centre = (x + ex + ew / 2, y + ey + eh / 2)
        (left if centre[0] < x + w / 2 else right).append((int(ew), centre))
    if not left or not right:
        raise CaptureRefused("eyes_not_found", "both eyes must be found in the face")
    return max(left)[1], max(right)[1]


def _in(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def check_face(image: bytes, rules: FaceRules = FACE_RULES) -> FaceCapture:
    """Accept ``image`` as the holder's portrait, cropped and sized to the token frame, or
    raise :class:`CaptureRefused`: its ``reason`` is the first failed check, its ``problems``
    every failed check (once a face with both eyes is found, all measures are taken)."""
    colour = decode(image)
    grey: Grey = np.asarray(cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    height, width = grey.shape
    faces = _faces(grey)
    if not faces:
        angle = _turned_face(grey)
        if angle is not None:
            raise CaptureRefused("rotated", f"the face is found only when turned by {angle}°")
        raise CaptureRefused("no_face", "no face was found")
    if len(faces) > 1:
        raise CaptureRefused("two_faces", f"{len(faces)} faces were found; exactly one is needed")
    face = faces[0]
    (lx, ly), (rx, ry) = _eyes(grey, face)
    problems: list[tuple[str, str]] = []
    distance = math.hypot(rx - lx, ry - ly)
    if distance < rules.min_eye_distance:
        problems.append(("eye_distance", f"{distance:.0f} px between the eyes, at least "
                         f"{rules.min_eye_distance:.0f} needed"))  # fmt: skip
    roll = math.degrees(math.atan2(ry - ly, rx - lx))
    if abs(roll) > rules.max_roll_degrees:
        problems.append(("rotated", f"the eye line is rolled {roll:.1f}°, at most "
                         f"{rules.max_roll_degrees}°"))  # fmt: skip
    fx, fy, fw, fh = face
    mx, my = (lx + rx) / 2, (ly + ry) / 2
    yaw = float((mx - (fx + fw / 2)) / distance)
    if abs(yaw) > rules.max_yaw_offset:
        problems.append(("turned", f"the eyes sit {abs(yaw):.2f} eye distances beside the "
                         f"face's centre line, at most {rules.max_yaw_offset}"))  # fmt: skip
    eye_x, eye_y = float(mx / width), float(my / height)
    if not (_in(eye_x, rules.eye_x_range) and _in(eye_y, rules.eye_y_range)):
        problems.append(("head_off_centre",
                         f"eyes at {eye_x:.0%} of the width and {eye_y:.0%} of the height"))
    ratio = fw / width
    if ratio < rules.face_width_range[0]:
        problems.append(("head_too_small", f"the face spans {ratio:.0%} of the width"))
    if ratio > rules.face_width_range[1]:
        problems.append(("head_too_large", f"the face spans {ratio:.0%} of the width"))
    box = grey[fy : fy + fh, fx : fx + fw]
    brightness = float(box.mean())
    if brightness < rules.brightness_range[0]:
        problems.append(("too_dark", f"mean face brightness {brightness:.0f} of 255"))
    if brightness > rules.brightness_range[1]:
        problems.append(("too_bright", f"mean face brightness {brightness:.0f} of 255"))
    scale = SHARPNESS_EYE_DISTANCE / distance
    normal = cv2.resize(box, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sharpness = float(cv2.Laplacian(normal, cv2.CV_64F).var())
    if sharpness < rules.min_sharpness:
        problems.append(("blurred", f"sharpness {sharpness:.0f} (variance of the Laplacian) < "
                         f"{rules.min_sharpness}"))  # fmt: skip
    try:
        token = _token(colour, (mx, my), distance, rules)
        spread, difference = _check_background(token, rules)
    except CaptureRefused as refused:  # no frame, or its background: measured in the frame
        raise CaptureRefused.from_problems(problems + list(refused.problems)) from None
    if problems:
        raise CaptureRefused.from_problems(problems)
    data, quality = _jpeg(token, rules)
    th, tw = token.shape[:2]
    return FaceCapture(
        data, tw, th, distance, roll, eye_x, eye_y, ratio, brightness, sharpness,
        spread, difference, quality, yaw,
    )


def _token(
    colour: npt.NDArray[np.uint8], mid: Point, distance: float, rules: FaceRules
) -> npt.NDArray[np.uint8]:
    """The 19794-5 token frame: 4 eye distances wide, 4:3 high, eyes at (W/2, 0.6 W)."""
    height, width = colour.shape[:2]
    tw = 4 * distance
    th = tw * 4 / 3
    x0, y0 = round(mid[0] - tw / 2), round(mid[1] - 0.6 * tw)
    x1, y1 = x0 + round(tw), y0 + round(th)
    outside = max(0, -x0, -y0, x1 - width, y1 - height)
    if outside > rules.max_padding * th:
        raise CaptureRefused(
            "head_off_centre", f"the token frame lies {outside} px outside the image"
        )
    padded = cv2.copyMakeBorder(colour, outside, outside, outside, outside, cv2.BORDER_REPLICATE)
    crop = padded[y0 + outside : y1 + outside, x0 + outside : x1 + outside]
    size = (rules.token_width, rules.token_width * 4 // 3)
    return np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _check_background(token: npt.NDArray[np.uint8], rules: FaceRules) -> tuple[float, float]:
    grey = cv2.cvtColor(token, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    band, side = int(0.12 * h), int(0.18 * w)
    corners = (grey[:band, :side], grey[:band, w - side :])
    spread = max(float(c.std()) for c in corners)
    if spread > rules.max_background_std:
        raise CaptureRefused(
            "background", f"the background beside the head varies (σ {spread:.0f} grey levels)"
        )
    difference = abs(float(corners[0].mean()) - float(corners[1].mean()))
    if difference > rules.max_background_difference:
        raise CaptureRefused(
            "background", f"the two sides of the background differ by {difference:.0f} grey levels"
        )
    return spread, difference


def _jpeg(token: npt.NDArray[np.uint8], rules: FaceRules) -> tuple[bytes, int]:
    for quality in range(90, rules.min_jpeg_quality - 1, -5):
        ok, buffer = cv2.imencode(".jpg", token, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(buffer) <= rules.max_jpeg_bytes:
            return bytes(buffer), quality
    raise CaptureRefused(
        "too_large_for_dg2",
        f"no JPEG quality ≥ {rules.min_jpeg_quality} fits {rules.max_jpeg_bytes} bytes",
    )


__all__ = ["FACE_RULES", "FaceCapture", "FaceRules", "check_face", "decode"]
