"""The card face's print job: exact ID-1 pages, embedded fonts, the MRZ of DG1, and refusals."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from tests.conftest import require_component, require_tool
from tests.station.cardface_holders import TODAY, face_of, holders

from idcard.lds.dg1 import DG1
from idcard.lds.dump import Dump
from idcard.mrz import MRZ
from station.card_data import CardKeys, build_card_data
from station.cardface import (
    CARD_HEIGHT_MM,
    CARD_WIDTH_MM,
    CardFace,
    CardFaceError,
    PrintJob,
    render_card_face,
    text_font_dir,
)

OCRB_SHA256 = "84558d47dbc19bb5887cc7b72ed62c64534fd00f0b569d28e6dc63b71fe27707"
DEBIAN_OCRB = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")


@pytest.fixture(scope="module")
def sample_face() -> CardFace:
    return face_of(holders()["sample"])


@pytest.fixture(scope="module")
def job(sample_face: CardFace, tmp_path_factory: pytest.TempPathFactory) -> PrintJob:
    return render_card_face(sample_face)


def _pdf(job: PrintJob, tmp_path: Path) -> Path:
    path = tmp_path / "card-face.pdf"
    path.write_bytes(job.pdf)
    return path


@pytest.mark.tool
def test_pdf_pages_are_id1_within_a_tenth_of_a_millimetre(job: PrintJob, tmp_path: Path) -> None:
    pdfinfo = require_tool("pdfinfo")
    out = subprocess.run([pdfinfo, "-f", "1", "-l", "2", str(_pdf(job, tmp_path))],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out)
    assert len(sizes) == 2, out
    for width, height in sizes:
        assert abs(float(width) * 25.4 / 72 - 85.60) < 0.1
        assert abs(float(height) * 25.4 / 72 - 53.98) < 0.1
    assert (CARD_WIDTH_MM, CARD_HEIGHT_MM) == (85.60, 53.98)


@pytest.mark.tool
def test_pdffonts_shows_ocr_b_and_dejavu_embedded(job: PrintJob, tmp_path: Path) -> None:
    pdffonts = require_tool("pdffonts")
    done = subprocess.run([pdffonts, str(_pdf(job, tmp_path))], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert done.stderr == ""  # no "Mismatch between font type and embedded font file"
    out = done.stdout
    rows = {line.split()[0].split("+")[-1]: line.split() for line in out.splitlines()[2:]}
    assert set(rows) == {"OCRB", "DejaVuSansBook", "DejaVuSansBold"}, out
    for name, columns in rows.items():
        # columns: name, type…, encoding, emb, sub, uni, object, generation
        assert columns[-5:-2] == ["yes", "yes", "yes"], (name, out)
        assert columns[1:3] == ["CID", "TrueType"], (name, out)


@pytest.mark.tool
def test_pdf_text_of_the_back_is_dg1s_mrz(sample_face: CardFace, job: PrintJob,
                                          tmp_path: Path) -> None:  # fmt: skip
    pdftotext = require_tool("pdftotext")
    out = subprocess.run([pdftotext, "-f", "2", "-l", "2", "-layout", str(_pdf(job, tmp_path)),
                          "-"], capture_output=True, text=True, check=True).stdout  # fmt: skip
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert lines[-3:] == list(sample_face.mrz_lines)
    assert sample_face.mrz_lines == (
        "IUUZBAD1234567731503902620452<",
        "9003152M3611199UZBUZB<<<<<<<<8",
        "GULOMOV<<OTKIR<<<<<<<<<<<<<<<<",
    )


def test_png_previews_are_300_dpi_of_the_card(job: PrintJob) -> None:
    for data in (job.front_png, job.back_png):
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG"
        # 1011.0 × 637.6 px: pdfium rounds the page up to whole pixels
        assert abs(image.width - 85.60 / 25.4 * 300) < 1
        assert abs(image.height - 53.98 / 25.4 * 300) < 1
        assert tuple(round(d) for d in image.info["dpi"]) == (300, 300)


def test_mrz_zone_has_no_background(job: PrintJob) -> None:
    """Zone VII, the bottom 23.3 mm of the back (Doc 9303-5 Figure 6), is white apart from the
    MRZ's black print."""
    image = Image.open(io.BytesIO(job.back_png)).convert("L")
    top = image.height - round(23.3 / 25.4 * 300) + 2
    band = image.crop((0, top, image.width, image.height))
    assert band.getextrema() == (0, 255)
    histogram = band.histogram()
    assert histogram[255] > 0.8 * sum(histogram)  # white, with black and anti-aliased text
    above = image.crop((0, top - 60, image.width, top - 10))
    assert above.getextrema()[1] < 255  # the tinted background stops above the zone


def test_write_puts_the_three_files(job: PrintJob, tmp_path: Path) -> None:
    pdf, front, back = job.write(tmp_path / "out")
    assert [p.name for p in (pdf, front, back)] == [
        "card-face.pdf", "card-face-front.png", "card-face-back.png"]
    assert pdf.read_bytes() == job.pdf and back.read_bytes() == job.back_png
    assert front.read_bytes() == job.front_png


def test_shipped_ocr_b_is_debians_in_truetype_outlines(tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont

    shipped = Path(__file__).parents[2] / "src/station/cardface/fonts/OCRB.ttf"
    font = TTFont(shipped)
    assert "glyf" in font and "CFF " not in font
    require_component(DEBIAN_OCRB.is_file(), "fonts-ocr-b")
    debian = TTFont(DEBIAN_OCRB)
    assert hashlib.sha256(DEBIAN_OCRB.read_bytes()).hexdigest() == OCRB_SHA256
    assert font.getBestCmap() == debian.getBestCmap()
    assert font["hmtx"].metrics == debian["hmtx"].metrics  # advance widths: the MRZ pitch
    assert font["OS/2"].sCapHeight == debian["OS/2"].sCapHeight == 701
    # tools/ocrb-ttf makes it from Debian's file, the same bytes again.
    tool = Path(__file__).parents[2] / "tools/ocrb-ttf"
    subprocess.run([sys.executable, str(tool), str(DEBIAN_OCRB), str(tmp_path / "o.ttf")],
                   check=True, capture_output=True)  # fmt: skip
    assert (tmp_path / "o.ttf").read_bytes() == shipped.read_bytes()


# -- the MRZ comes from DG1, and the printed values must agree with it --------------------------


def test_mrz_is_the_one_in_the_chips_dg1() -> None:
    applicant = holders()["sample"]
    dump = build_card_data(applicant, CardKeys.generate(), today=TODAY)
    face = CardFace.from_card_data(applicant, dump)
    dg1 = dump.decode("DG1")
    assert isinstance(dg1, DG1)
    assert face.mrz_lines == dg1.mrz.lines()


def _with_dg1(dump: Dump, mrz: MRZ) -> Dump:
    files = dict(dump.files)
    files["DG1"] = DG1(mrz).encode()
    return Dump(files)


@pytest.mark.parametrize(("field", "change"), [
    ("document_number", {"document_number": "AD7654321"}),
    ("birth_date", {"birth_date": "900316"}),
    ("expiry_date", {"expiry_date": "361120"}),
    ("sex", {"sex": "F"}),
    ("pinfl", {"optional_data": "31503902620461"}),
])  # fmt: skip
def test_printed_values_that_differ_from_dg1_are_refused(field: str,
                                                         change: dict[str, str]) -> None:
    applicant = holders()["sample"]
    dump = build_card_data(applicant, CardKeys.generate(), today=TODAY)
    dg1 = dump.decode("DG1")
    assert isinstance(dg1, DG1)
    other = dataclasses.replace(dg1.mrz, **change)
    with pytest.raises(CardFaceError) as info:
        CardFace.from_card_data(applicant, _with_dg1(dump, other))
    assert info.value.field == field
    assert str(info.value).startswith(f"card face: {field}: printed ")


# -- refusals: overflow, portrait ---------------------------------------------------------------


def test_a_surname_too_long_for_its_field_is_refused_naming_it(sample_face: CardFace) -> None:
    face = dataclasses.replace(sample_face, surname="Abdurahmonov-" * 5 + "Xoʻjamurodov")
    with pytest.raises(CardFaceError) as info:
        render_card_face(face)
    assert info.value.field == "surname"
    assert "do not fit the field's 56.0 mm at 4.5 pt" in str(info.value)


def test_long_names_shrink_to_fit_before_refusal(sample_face: CardFace) -> None:
    face = dataclasses.replace(sample_face, surname="Abdurahmonov-Xoʻjamurodova-Qodirova")
    assert render_card_face(face).pdf.startswith(b"%PDF-")


def test_an_authority_too_long_is_refused_naming_it(sample_face: CardFace) -> None:
    face = dataclasses.replace(sample_face, issuing_authority="IIV " * 40)
    with pytest.raises(CardFaceError) as info:
        render_card_face(face)
    assert info.value.field == "issuing_authority"


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 160)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize(("size", "reason"), [
    ((320, 240), "320×240 px is not the zone's 21:28 mm shape"),
    ((120, 160), "160 px high, under 220 px (200 dpi over the zone's 28 mm)"),
])  # fmt: skip
def test_a_portrait_that_does_not_suit_the_zone_is_refused(
    sample_face: CardFace, size: tuple[int, int], reason: str
) -> None:
    face = dataclasses.replace(sample_face, portrait=_jpeg(*size))
    with pytest.raises(CardFaceError) as info:
        render_card_face(face)
    assert info.value.field == "portrait"
    assert str(info.value) == f"card face: portrait: {reason}"


def test_a_portrait_at_the_limits_is_accepted(sample_face: CardFace) -> None:
    face = dataclasses.replace(sample_face, portrait=_jpeg(165, 220))
    assert render_card_face(face).front_png


def test_a_portrait_that_is_not_an_image_is_refused(sample_face: CardFace) -> None:
    face = dataclasses.replace(sample_face, portrait=b"\xff\xd8 not really")
    with pytest.raises(CardFaceError, match=r"^card face: portrait: not an image"):
        render_card_face(face)


def test_missing_text_fonts_are_named(tmp_path: Path) -> None:
    with pytest.raises(CardFaceError) as info:
        text_font_dir([tmp_path])
    assert info.value.field == "fonts"
    assert "fonts-dejavu-core" in str(info.value)


# -- any name: printed with DG1's MRZ, or refused naming its field ------------------------------

_UZ_LATIN = "ABDEFGHIJKLMNOPQRSTUVXYZʻ-abdefghijklmnopqrstuvxyzʻ"
_UZ_CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЪЬЭЮЯЎҚҒҲабвгдеёжзийклмнопрстуфхцчшъьэюяўқғҳ"


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    surname=st.text(_UZ_LATIN, min_size=2, max_size=70).filter(lambda s: s[0].isalpha()),
    cyrillic=st.text(_UZ_CYRILLIC, max_size=40),
)
def test_any_name_prints_dg1s_mrz_or_is_refused_naming_the_field(
    surname: str, cyrillic: str
) -> None:
    from idcard.errors import EncodeError
    from station.rules import ApplicantError

    applicant = dataclasses.replace(holders()["sample"], surname=surname,
                                    surname_cyrillic=cyrillic)  # fmt: skip
    try:
        dump = build_card_data(applicant, CardKeys.generate(), today=TODAY)
    except (ApplicantError, EncodeError):
        return  # the application itself is refused before any print
    face = CardFace.from_card_data(applicant, dump)
    refused: CardFaceError | None = None
    try:
        job = render_card_face(face)
    except CardFaceError as exc:
        refused = exc
    if refused is not None:
        assert refused.field == "surname"
        assert max(len(surname), len(cyrillic)) > 30  # short names always fit
        return
    pdftotext = require_tool("pdftotext")
    text = subprocess.run([pdftotext, "-f", "2", "-l", "2", "-layout", "-", "-"], input=job.pdf,
                          capture_output=True, check=True).stdout.decode()  # fmt: skip
    dg1 = dump.decode("DG1")
    assert isinstance(dg1, DG1)
    assert [line.strip() for line in text.splitlines() if line.strip()][-3:] == list(
        dg1.mrz.lines())


@pytest.mark.parametrize("can", ["12345", "1234567", "12345A"])
def test_a_can_that_is_not_six_digits_is_refused(sample_face: CardFace, can: str) -> None:
    face = dataclasses.replace(sample_face, can=can)
    with pytest.raises(CardFaceError) as info:
        render_card_face(face)
    assert info.value.field == "can"
    assert str(info.value) == f"card face: can: {len(can)} characters, not the CAN's 6 digits"
