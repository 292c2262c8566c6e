"""ICAO's ISO/IEC 39794-5 DG2 samples as published (../shared/vectors/real-world/iso39794-5/):
they decode, give the published face image byte for byte and re-encode unchanged (issue 17
regression)."""

from __future__ import annotations

import hashlib

import pytest
from tests.conftest import require_real_world

from idcard.lds.biometric import FORMAT_TYPE_FACE_39794
from idcard.lds.dg2 import DG2

SAMPLES = require_real_world() / "iso39794-5"
FACE = (SAMPLES / "ICAO_39794_5_AP_DG2_Face.jpg").read_bytes()


@pytest.mark.parametrize(
    ("name", "size"), [("AllFields", (572, 731)), ("MandFields", (None, None))]
)
def test_icao_dg2_sample_yields_the_published_face(name: str, size: tuple[int | None, ...]) -> None:
    raw = (SAMPLES / f"ICAO_39794_5_AP_DG2_{name}.dat").read_bytes()
    dg2 = DG2.decode(raw)
    assert len(dg2.faces) == 1
    assert dg2.faces[0].header.format_type == FORMAT_TYPE_FACE_39794
    assert dg2.images == (FACE,)
    assert FACE[:12] == bytes.fromhex("0000000c6a5020200d0a870a")  # a JPEG 2000 (JP2) file
    assert dg2.encode() == raw
    shown = dg2.faces[0].record.to_json()  # type: ignore[union-attr]
    assert shown["encoding"] == "ISO/IEC 39794-5" and shown["version"] == [3, 2019]
    rep = shown["representations"][0]
    assert (rep["width"], rep["height"]) == size
    assert rep["image"] == {
        "format": "jpeg2000", "length": 15000, "sha256": hashlib.sha256(FACE).hexdigest()
    }  # fmt: skip


def test_the_all_fields_sample_keeps_its_cbeff_header() -> None:
    raw = (SAMPLES / "ICAO_39794_5_AP_DG2_AllFields.dat").read_bytes()
    header = DG2.decode(raw).faces[0].header
    assert (header.format_owner, header.biometric_type, header.creator) == (
        0x0101, 2, bytes.fromhex("01030001")
    )  # fmt: skip
