"""Write src/station/samples/photo.jpg, the shipped portrait that passes the face gate.

Source: scikit-image's ``skimage.data.astronaut()`` (``astronaut.png`` in scikit-image's data
folder): NASA photograph of astronaut Eileen Collins, public domain (a work of the US federal
government; scikit-image's data README states it). Cropped to rows 0–320 and columns 100–340
of the 512 × 512 original and scaled 2.5× (bicubic) to 600 × 800, so the eyes are more than
90 px apart, saved as a baseline JPEG at quality 90. Run from the repository root::

    PYTHONPATH=src .venv/bin/python tools/gen_sample_photo.py

scikit-image is a test extra (``pip install -e '.[test]'``), not a runtime dependency: the JPEG
is shipped, this script only documents and repeats how it was made.
"""

from __future__ import annotations

from pathlib import Path

import cv2
from skimage import data

OUT = Path(__file__).resolve().parents[1] / "src" / "station" / "samples" / "photo.jpg"


def sample_photo() -> bytes:
    """The JPEG bytes of the sample photograph (same library versions → same bytes)."""
    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[0:320, 100:340]
    scaled = cv2.resize(bgr, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
    ok, buffer = cv2.imencode(".jpg", scaled, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(buffer)


if __name__ == "__main__":
    OUT.write_bytes(sample_photo())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
