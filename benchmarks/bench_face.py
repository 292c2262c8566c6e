"""Face quality checks per second on a 600 × 800 portrait, against the bare OpenCV calls.

Run: ``.venv/bin/python -m benchmarks.bench_face [N]``. The portrait is the shipped
``src/station/samples/photo.jpg`` (600 × 800 JPEG, it passes the gate). ``check_face`` runs N
times (default 50). The baseline, in the same run, is the same OpenCV calls with the same
parameters and nothing of ours around them: JPEG decode, grey conversion, the Haar face
detector over the image, the eye detector over the face's upper 60 %, the Laplacian of the face
box, the token crop and resize, the JPEG encode at quality 90 → 75 (the steps check_face takes
on this photograph). Ratio = bare time / our time; each timed three times, interleaved, best
kept. Then where the time goes: each bare step alone, best of three.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from station.capture import check_face

PHOTO = Path(__file__).resolve().parents[1] / "src" / "station" / "samples" / "photo.jpg"


def _best(fn: Callable[[], object], n: int, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def main(n: int = 50) -> dict[str, float]:
    data = PHOTO.read_bytes()
    face = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    eye = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_eye.xml")  # type: ignore[attr-defined]
    measured = check_face(data)
    buffer = np.frombuffer(data, np.uint8)

    def decode() -> np.ndarray:
        return cv2.imdecode(buffer, cv2.IMREAD_COLOR)

    colour = decode()
    grey = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    side = int(0.15 * min(grey.shape))
    ((x, y, w, h),) = face.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                           minSize=(side, side))  # fmt: skip

    def detect_face() -> object:
        return face.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))

    def detect_eyes() -> object:
        roi = grey[y : y + int(h * 0.6), x : x + w]
        return eye.detectMultiScale(roi, scaleFactor=1.1, minNeighbors=5,
                                    minSize=(w // 8, w // 8))  # fmt: skip

    def sharpness() -> float:
        box = grey[y : y + h, x : x + w]
        scale = 90 / measured.eye_distance
        small = cv2.resize(box, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return float(cv2.Laplacian(small, cv2.CV_64F).var())

    def token_jpeg() -> object:
        crop = colour[0:640, 60:540]
        token = cv2.resize(crop, (360, 480), interpolation=cv2.INTER_AREA)
        for quality in range(90, measured.jpeg_quality - 1, -5):
            cv2.imencode(".jpg", token, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return token

    def bare() -> None:
        c = decode()
        cv2.cvtColor(c, cv2.COLOR_BGR2GRAY)
        detect_face()
        detect_eyes()
        sharpness()
        token_jpeg()

    ours = bare_t = float("inf")
    for _ in range(3):  # interleaved
        ours = min(ours, _best(lambda: check_face(data), n, 1))
        bare_t = min(bare_t, _best(bare, n, 1))
    print(f"face checks on a 600x800 portrait: {1 / ours:.1f}/s ({ours * 1000:.1f} ms each); "
          f"bare OpenCV calls: {1 / bare_t:.1f}/s; ratio {bare_t / ours:.2f}")  # fmt: skip
    steps = {"decode": decode, "face detector": detect_face, "eye detector": detect_eyes,
             "sharpness": sharpness, "token + JPEG": token_jpeg}  # fmt: skip
    times = {name: _best(fn, n) for name, fn in steps.items()}
    print("where the time goes (bare steps): " + ", ".join(
        f"{name} {t * 1000:.2f} ms" for name, t in times.items()))  # fmt: skip
    return {"per_second": 1 / ours, "bare_per_second": 1 / bare_t, "ratio": bare_t / ours}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
