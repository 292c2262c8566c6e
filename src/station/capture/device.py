"""Where captures come from: a small :class:`CaptureDevice` protocol and the file-backed device
that is the embedded default (a camera or scanner driver implements the same two methods)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from station.capture.errors import CaptureRefused

FINGER_POSITIONS = range(1, 11)
"""ISO/IEC 19794-4 Table 2 finger positions: 1 right thumb … 5 right little, 6 left thumb …
10 left little."""


class CaptureDevice(Protocol):
    """A source of one face image and finger images (encoded JPEG/PNG bytes)."""

    def capture_face(self) -> bytes: ...

    def capture_finger(self, position: int) -> bytes: ...


def check_position(position: int) -> int:
    """``position`` if it is a 19794-4 finger position (1…10), else a usage refusal."""
    if position not in FINGER_POSITIONS:
        raise CaptureRefused("bad_position", f"finger position {position} is not 1..10")
    return position


class FileCaptureDevice:
    """Reads the face and the fingers from files: ``face`` and ``fingers[position]``."""

    def __init__(self, face: Path | None = None, fingers: dict[int, Path] | None = None) -> None:
        self._face = face
        self._fingers = {check_position(p): f for p, f in (fingers or {}).items()}

    def capture_face(self) -> bytes:
        if self._face is None:
            raise CaptureRefused("no_image", "no face image file was given")
        return _read(self._face)

    def capture_finger(self, position: int) -> bytes:
        path = self._fingers.get(check_position(position))
        if path is None:
            raise CaptureRefused("no_image", f"no image file for finger position {position}")
        return _read(path)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise CaptureRefused("no_image", f"cannot read {path.name}: {e.strerror}") from None


__all__ = ["FINGER_POSITIONS", "CaptureDevice", "FileCaptureDevice", "check_position"]
