"""Where the MRZ sits on the back of the card, read from the print job, against Doc 9303.

The figures (Doc 9303-5, 8th ed. 2021, §2.3, §4.2.1.3 and Figure 6; Doc 9303-3 §4.4):

- the left-hand edge of the first character of each line 5.0 ± 1.0 mm from the left edge, and
  the line inside a printing zone 77.7 mm wide from there;
- characters at a fixed 2.54 mm pitch, OCR-B size 1 (ISO 1073-2 size I: capitals 2.46 mm,
  digits 2.66 mm high);
- the reference centre line of the middle line 11.5 ± 1.0 mm above the bottom edge, the upper
  and lower lines' reference centre lines 4.23 mm above and below it, each line's characters
  inside its printing zone, 2.95 mm high about its reference centre line;
- the machine reading zone (zone VII) 23.3 ± 1.0 mm high from the bottom edge;
- nothing printed within 2.0 mm of an edge.

The characters' positions come from the PDF: pdfium's text extraction gives each glyph's origin
(where the pitch is measured) and its tight box (the outline's bounds, where the edges are
measured). The ink of the 300 dpi preview is checked against the same zones.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass

import pytest
from PIL import Image, ImageChops
from tests.station.cardface_holders import face_of, holders

from station.cardface import CARD_HEIGHT_MM, CARD_WIDTH_MM, PREVIEW_DPI, render_card_face

FIRST_CHARACTER_MM, FIRST_CHARACTER_TOLERANCE_MM = 5.0, 1.0
PRINTING_ZONE_WIDTH_MM, PRINTING_ZONE_HEIGHT_MM = 77.7, 2.95
MIDDLE_LINE_CENTRE_MM, MIDDLE_LINE_TOLERANCE_MM = 11.5, 1.0
LINE_SPACING_MM = 4.23
READING_ZONE_MM = 23.3
PITCH_MM = 2.54
EDGE_MARGIN_MM = 2.0
CAPITAL_MM, DIGIT_MM = 2.46, 2.66

_PT = 25.4 / 72


@dataclass(frozen=True)
class Glyph:
    """One printed MRZ character, in mm from the card's left and bottom edges."""

    char: str
    origin_x: float
    cell_bottom: float  # the font's descent below the baseline: the same offset in every line
    left: float
    bottom: float
    right: float
    top: float


def mrz_glyphs(pdf: bytes, lines: tuple[str, ...], page_index: int = 1) -> list[list[Glyph]]:
    """The glyphs of each MRZ line (or other OCR-B text) on the back page (page 2) of ``pdf``
    (or page ``page_index``), each checked to be in OCR-B."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[page_index]
        width, height = page.get_size()
        assert abs(width * _PT - CARD_WIDTH_MM) < 0.01 and abs(height * _PT - CARD_HEIGHT_MM) < 0.01
        text = page.get_textpage()
        content = text.get_text_range()
        assert len(content) == text.count_chars()  # one text character per page character
        result = []
        for line in lines:
            start = content.find(line)
            assert start >= 0 and content.find(line, start + 1) < 0, (line, content)
            glyphs = []
            for index in range(start, start + len(line)):
                left, bottom, right, top = (v * _PT for v in text.get_charbox(index))
                assert _font_name(text, index).endswith("+OCRB"), content[index]
                loose = [v * _PT for v in text.get_charbox(index, loose=True)]
                glyphs.append(Glyph(content[index], loose[0], loose[1], left, bottom, right, top))
            result.append(glyphs)
        return result
    finally:
        document.close()


def _font_name(text: object, index: int) -> str:
    """The name of the font of character ``index`` of a pdfium text page (subset tag
    included)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    flags = ctypes.c_int()
    size = pdfium_c.FPDFText_GetFontInfo(text, index, None, 0, ctypes.byref(flags))
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFText_GetFontInfo(text, index, buffer, size, ctypes.byref(flags))
    return buffer.value.decode()


def middle_line_centres(lines: list[list[Glyph]]) -> tuple[float, float]:
    """The range of heights of the middle line's reference centre line (mm above the bottom
    edge) for which every character lies inside its line's printing zone (the zones 4.23 mm
    apart, 2.95 mm high); empty (low > high) when there is none."""
    half = PRINTING_ZONE_HEIGHT_MM / 2
    low, high = -1e9, 1e9
    for number, glyphs in enumerate(lines):
        offset = (1 - number) * LINE_SPACING_MM  # upper line +4.23, lower line -4.23
        low = max(low, *(g.top - offset - half for g in glyphs))
        high = min(high, *(g.bottom - offset + half for g in glyphs))
    return low, high


@pytest.fixture(scope="module", params=list(holders()))
def printed(request: pytest.FixtureRequest) -> tuple[tuple[str, ...], list[list[Glyph]], bytes]:
    face = face_of(holders()[request.param])
    job = render_card_face(face)
    return face.mrz_lines, mrz_glyphs(job.pdf, face.mrz_lines), job.back_png


def test_first_character_is_5_mm_from_the_left_edge(printed: tuple) -> None:
    """Doc 9303-5 §4.2.1.3: 5.0 ± 1.0 mm, measured to the character's own left-hand edge and,
    as strictly, to the left of its 2.54 mm cell."""
    _, lines, _ = printed
    for glyphs in lines:
        first = glyphs[0]
        assert abs(first.left - FIRST_CHARACTER_MM) <= FIRST_CHARACTER_TOLERANCE_MM, first
        assert abs(first.origin_x - FIRST_CHARACTER_MM) <= FIRST_CHARACTER_TOLERANCE_MM, first
    assert len({round(glyphs[0].origin_x, 3) for glyphs in lines}) == 1  # one left margin


def test_characters_are_at_the_fixed_pitch_of_2_54_mm(printed: tuple) -> None:
    """Doc 9303-3 §4.4: ten characters per 25.4 mm; each glyph's origin 2.54 mm after the
    previous one, so that the n-th character of every line is in the same column."""
    mrz, lines, _ = printed
    for line, glyphs in zip(mrz, lines, strict=True):
        assert "".join(g.char for g in glyphs) == line
        for before, after in itertools.pairwise(glyphs):
            assert abs(after.origin_x - before.origin_x - PITCH_MM) < 0.005, (before, after)
        # each glyph inside its own cell
        assert all(g.origin_x <= g.left and g.right <= g.origin_x + PITCH_MM for g in glyphs)


def test_characters_are_ocr_b_size_1(printed: tuple) -> None:
    """ISO 1073-2 size I (Table 1, constant stroke width; "for general information"): capitals
    2.46 mm, digits 2.66 mm above the baseline. pdfium's boxes (a little larger than the
    outlines: the shipped font's 1 and 4 are 2.74 mm) give them within 5 %; a size off by one
    step of the pitch's rounding (e.g. 10 pt for 9.96 pt) would still pass, a wrong size not."""
    _, lines, _ = printed
    for glyphs in lines:
        for g in glyphs:
            if g.char in "BDEIPRTZ":  # flat-topped, flat-bottomed capitals
                assert abs(g.top - g.bottom - CAPITAL_MM) < 0.05 * CAPITAL_MM, g
            if g.char in "147":  # flat-topped digits
                assert abs(g.top - g.bottom - DIGIT_MM) < 0.05 * DIGIT_MM, g


def test_lines_are_in_their_printing_zones(printed: tuple) -> None:
    """Doc 9303-5 Figure 6: the middle line's reference centre line 11.5 ± 1.0 mm above the
    bottom edge, the others 4.23 mm above and below, every character inside its line's 2.95 mm
    printing zone and inside the 77.7 mm printing zone's width."""
    _, lines, _ = printed
    low, high = middle_line_centres(lines)
    low = max(low, MIDDLE_LINE_CENTRE_MM - MIDDLE_LINE_TOLERANCE_MM)
    high = min(high, MIDDLE_LINE_CENTRE_MM + MIDDLE_LINE_TOLERANCE_MM)
    assert low <= high, (low, high, [(gs[0].bottom, gs[0].top) for gs in lines])
    for glyphs in lines:
        start = glyphs[0].left
        assert all(start <= g.left and g.right <= start + PRINTING_ZONE_WIDTH_MM for g in glyphs)


def test_the_layout_is_centred_on_the_nominal_positions(printed: tuple) -> None:
    """Not just inside the tolerances: the middle line's characters (capitals and digits) are
    centred on 11.5 mm within 0.1 mm, and the lines' baselines are 4.23 mm apart."""
    _, lines, _ = printed
    middle = lines[1]
    centre = (min(g.bottom for g in middle) + max(g.top for g in middle)) / 2
    assert abs(centre - MIDDLE_LINE_CENTRE_MM) < 0.1, centre
    upper, _, lower = (gs[0].cell_bottom for gs in lines)
    assert abs(upper - middle[0].cell_bottom - LINE_SPACING_MM) < 0.005
    assert abs(middle[0].cell_bottom - lower - LINE_SPACING_MM) < 0.005
    assert all(len({round(g.cell_bottom, 4) for g in gs}) == 1 for gs in lines)


def test_nothing_is_printed_within_2_mm_of_an_edge(printed: tuple) -> None:
    """Doc 9303-5 §2.3: a 2.0 mm margin along each edge is left clear of data."""
    _, lines, _ = printed
    for g in (g for glyphs in lines for g in glyphs):
        assert g.left >= EDGE_MARGIN_MM and g.right <= CARD_WIDTH_MM - EDGE_MARGIN_MM, g
        assert g.bottom >= EDGE_MARGIN_MM, g


def _ink_bands(png: bytes) -> list[tuple[float, float]]:
    """Rows of black print (dark pixels) in the bottom 23.3 mm of the preview, as bands in mm
    above the bottom edge (lowest first)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    per_mm = PREVIEW_DPI / 25.4
    top = image.height - round(READING_ZONE_MM * per_mm)
    band = image.crop((0, top, image.width, image.height))
    rows = [y for y in range(band.height)
            if band.crop((0, y, band.width, y + 1)).getextrema()[0] < 128]  # fmt: skip
    bands: list[list[int]] = []
    for y in rows:
        if bands and y == bands[-1][-1] + 1:
            bands[-1].append(y)
        else:
            bands.append([y])
    bottom = band.height / per_mm  # mm of the crop
    return sorted((bottom - (b[-1] + 1) / per_mm, bottom - b[0] / per_mm) for b in bands)


def test_the_preview_shows_three_lines_in_their_printing_zones(printed: tuple) -> None:
    """The 300 dpi preview's ink in zone VII is the three MRZ lines, each inside its printing
    zone (nominal reference centre lines 7.27, 11.5 and 15.73 mm; one pixel of anti-aliasing)."""
    _, _, png = printed
    bands = _ink_bands(png)
    assert len(bands) == 3, bands
    pixel = 25.4 / PREVIEW_DPI
    half = PRINTING_ZONE_HEIGHT_MM / 2
    for (low, high), centre in zip(bands, (MIDDLE_LINE_CENTRE_MM - LINE_SPACING_MM,
                                           MIDDLE_LINE_CENTRE_MM,
                                           MIDDLE_LINE_CENTRE_MM + LINE_SPACING_MM), strict=True):
        assert centre - half - pixel <= low and high <= centre + half + pixel, (low, high, centre)


def test_middle_line_centres_finds_no_room_for_misplaced_lines() -> None:
    """The geometry helper itself: lines 4.23 mm apart fit; lines 5 mm apart do not."""

    def line(bottom: float) -> list[Glyph]:
        return [Glyph("0", 5.0, bottom - 1.2, 5.4, bottom, 7.1, bottom + 2.7)]

    low, high = middle_line_centres([line(14.4), line(10.17), line(5.94)])
    assert low <= 11.5 <= high
    low, high = middle_line_centres([line(15.2), line(10.17), line(5.14)])
    assert low > high


def test_the_can_is_printed_like_an_mrz_line() -> None:
    """Doc 9303-5 §3.2.3: the CAN on the front in the MRZ's font (OCR-B size 1, 2.54 mm pitch),
    field and background (white), at the vertical position of one of the MRZ lines (here the
    lower one: inside its 2.95 mm printing zone, the MRZ's ± 1.0 mm allowed), not over the
    portrait (zone V, 3-24 mm) and 2.0 mm clear of the edges (§2.3)."""
    face = face_of(holders()["sample"])
    job = render_card_face(face)
    (glyphs,) = mrz_glyphs(job.pdf, (face.can,), page_index=0)
    for before, after in itertools.pairwise(glyphs):
        assert abs(after.origin_x - before.origin_x - PITCH_MM) < 0.005
    digits = [g for g in glyphs if g.char in "147"]
    assert all(abs(g.top - g.bottom - DIGIT_MM) < 0.05 * DIGIT_MM for g in digits)
    half = PRINTING_ZONE_HEIGHT_MM / 2
    low = max(g.top for g in glyphs) - half  # the reference centre lines whose zone holds all
    high = min(g.bottom for g in glyphs) + half
    nominal = MIDDLE_LINE_CENTRE_MM - LINE_SPACING_MM
    low = max(low, nominal - MIDDLE_LINE_TOLERANCE_MM)
    high = min(high, nominal + MIDDLE_LINE_TOLERANCE_MM)
    assert low <= high, glyphs
    assert glyphs[0].left >= 24.0 and glyphs[-1].right <= CARD_WIDTH_MM - EDGE_MARGIN_MM
    assert min(g.bottom for g in glyphs) >= EDGE_MARGIN_MM
    # white behind the digits: the pixels around them and between them are white or ink
    image = Image.open(io.BytesIO(job.front_png)).convert("RGB")
    per_mm = PREVIEW_DPI / 25.4
    left, right = glyphs[0].left, glyphs[-1].right
    bottom, top = min(g.bottom for g in glyphs), max(g.top for g in glyphs)
    box = (round(left * per_mm) - 2, round((CARD_HEIGHT_MM - top) * per_mm) - 2,
           round(right * per_mm) + 2, round((CARD_HEIGHT_MM - bottom) * per_mm) + 2)
    red, green, blue = image.crop(box).split()  # black on white: greys only, no tint
    assert ImageChops.difference(red, green).getextrema() == (0, 0)
    assert ImageChops.difference(green, blue).getextrema() == (0, 0)
    assert image.crop(box).convert("L").getextrema() == (0, 255)
