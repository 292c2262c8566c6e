"""The printed MRZ read back by a reader no one here wrote: PassportEye over Debian's tesseract.

The back of each card face (the 300 dpi PNG rendered from the print job's PDF) goes to
PassportEye's ``read_mrz``. Tesseract's stock English LSTM model (Debian ``tesseract-ocr-eng``;
no OCR-B training) reads every data character and check digit of our OCR-B, but it miscounts long
runs of ``<`` fillers and now and then reads a ``<`` inside such a run as ``K``; the read is
retried upscaled (1.5×, 2×: the test only; the print job stays 300 dpi). A read is accepted when
PassportEye finds a TD1 MRZ whose check digits it judges all valid (document number, birth date,
expiry date, composite: together they bind every data character of lines 1 and 2) and every line
equals DG1's character for character once each run of fillers is counted as one filler (a stray
letter inside a run fails). :func:`exact_lines` reports how many lines were read exactly.
"""

from __future__ import annotations

import io
import re
import warnings

import pytest
from tests.conftest import require_tool
from tests.station.cardface_holders import face_of, holders

from station.cardface import CardFace, render_card_face

SCALES = (1.0, 1.5, 2.0)


def collapse(line: str) -> str:
    """``line`` with every run of ``<`` fillers as a single filler."""
    return re.sub("<+", "<", line)


def exact_lines(read: list[str], lines: tuple[str, ...]) -> int:
    return sum(a == b for a, b in zip(read, lines, strict=False))


def assert_reads_as_dg1(face: CardFace, png: bytes) -> None:
    lines = face.mrz_lines
    accepted = []
    from passporteye import read_mrz
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    for scale in SCALES:
        scaled = image if scale == 1 else image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
        data = io.BytesIO()
        scaled.save(data, "PNG")
        data.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-image deprecations inside PassportEye
            mrz = read_mrz(data)
        assert mrz is not None, f"PassportEye found no MRZ at {scale}×"
        assert mrz.mrz_type == "TD1"
        # PassportEye's own verdicts on the check digits it read.
        assert mrz.valid_number and mrz.valid_date_of_birth, (scale, mrz.aux["raw_text"])
        assert mrz.valid_expiration_date and mrz.valid_composite, (scale, mrz.aux["raw_text"])
        read = mrz.aux["raw_text"].splitlines()
        accepted.append((scale, exact_lines(read, lines), read))
        if [collapse(r) for r in read] == [collapse(x) for x in lines]:
            print(f"read at {scale}×, {exact_lines(read, lines)} of 3 lines exact: {read}")
            return
    pytest.fail(f"PassportEye never read DG1's MRZ {lines}: {accepted}")


@pytest.mark.tool
@pytest.mark.parametrize("name", list(holders()))
def test_passporteye_reads_the_printed_mrz_as_dg1(name: str) -> None:
    require_tool("tesseract")
    face = face_of(holders()[name])
    job = render_card_face(face)
    assert_reads_as_dg1(face, job.back_png)


def test_collapse_keeps_stray_letters_in_filler_runs() -> None:
    assert collapse("GULOMOV<<OTKIR<<<<<<<<<<<<<<<<") == "GULOMOV<OTKIR<"
    assert collapse("GULOMOV<<OTKIR<<<<<<<<K<<") != collapse("GULOMOV<<OTKIR<<<<<<<<<<<<<<<<")
