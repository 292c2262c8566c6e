"""Biometric capture with quality gates (issue 11): a face portrait checked and cropped to the
ISO/IEC 19794-5 token frame for DG2, finger images scored locally for DG3. A library layer: the
collection point's pipeline calls it; nothing here stores or logs biometric bytes."""

from station.capture.device import FINGER_POSITIONS, CaptureDevice, FileCaptureDevice
from station.capture.errors import CaptureRefused
from station.capture.face import FACE_RULES, FaceCapture, FaceRules, check_face
from station.capture.finger import (
    DG3_ORDER,
    FINGER_RULES,
    FingerCapture,
    FingerException,
    FingerRules,
    capture_finger,
    check_finger,
    choose_for_dg3,
    local_score,
)

__all__ = [
    "DG3_ORDER",
    "FACE_RULES",
    "FINGER_POSITIONS",
    "FINGER_RULES",
    "CaptureDevice",
    "CaptureRefused",
    "FaceCapture",
    "FaceRules",
    "FileCaptureDevice",
    "FingerCapture",
    "FingerException",
    "FingerRules",
    "capture_finger",
    "check_face",
    "check_finger",
    "choose_for_dg3",
    "local_score",
]
