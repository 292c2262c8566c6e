"""`idkarta dump show`: every file with its own status, exit 0 / 1 / 2, readable fields, images
extracted for an image viewer; and the folders the project's commands write (`demo`,
`pki sign-sod`) shown and verified alike."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import VECTORS, require_tool

from idcard.lds import DG12
from idcard.lds.dg11 import DateValue
from idcard.lds.dump import Dump
from station.applicant import sample_applicant
from station.card_data import CardKeys, build_card_data
from station.cli import main

TLV_DIR = VECTORS / "lds/tlv"
PASS = "dump-test-passphrase"


def make_dump(folder: Path) -> dict[str, bytes]:
    files = {
        "DG1": (VECTORS / "lds/bsi-tr03105-refset/DG1").read_bytes(),
        "DG2": (TLV_DIR / "DG2.39794-mandatory-fields").read_bytes(),
        "DG11": (TLV_DIR / "DG11.9303-10-A5").read_bytes(),
        "DG16": (TLV_DIR / "DG16.9303-10-A6").read_bytes(),
    }
    Dump(files).write(folder)
    return files


def _show(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["dump", "show", *args])
    return result.exit_code, result.stdout, result.stderr


def _headers(out: str) -> list[str]:
    return [line for line in out.splitlines() if not line.startswith(" ")]


def test_show_json(tmp_path: Path) -> None:
    make_dump(tmp_path / "d")
    code, out, _ = _show(str(tmp_path / "d"), "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["ok"] is True and shown["folder"] == str(tmp_path / "d")
    files = shown["files"]
    assert list(files) == ["DG1", "DG2", "DG11", "DG16"]
    assert {f["status"] for f in files.values()} == {"decoded"}
    dg1 = files["DG1"]["fields"]
    assert dg1["surname"] == "MUSTERMANN" and dg1["document_number"] == "C11T002JM"
    assert files["DG11"]["fields"]["profession"] == "TRAVEL<AGENT"
    assert files["DG16"]["fields"]["persons"][0]["telephone"] == "19525551212"
    rep = files["DG2"]["fields"]["faces"][0]["record"]["representations"][0]
    assert rep["image"]["format"] == "jpeg2000" and rep["image"]["length"] == 15000


def test_show_text(tmp_path: Path) -> None:
    files = make_dump(tmp_path / "d")
    code, out, _ = _show(str(tmp_path / "d"))
    assert code == 0, out
    assert f"DG1 ({len(files['DG1'])} bytes): decoded" in out
    assert "  given_names: ERIKA" in out
    assert "address: 123 MAPLE RD<ANYTOWN<MN" in out
    assert "  mrz:\n    P<D<<MUSTERMANN<<ERIKA<<<" in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_bad_file_every_file_shown_exit_1(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    files = make_dump(folder)
    data = bytearray((folder / "DG11").read_bytes())
    data[20] = 0xFF
    (folder / "DG11").write_bytes(bytes(data))
    (folder / "manifest.json").unlink()
    code, out, err = _show(str(folder))
    assert code == 1 and err == ""
    assert _headers(out) == [
        f"DG1 ({len(files['DG1'])} bytes): decoded",
        f"DG2 ({len(files['DG2'])} bytes): decoded",
        f"DG11 ({len(files['DG11'])} bytes): does not decode at offset 20: 5F0E: not UTF-8",
        f"DG16 ({len(files['DG16'])} bytes): decoded",
    ]
    assert "telephone: 19525551212" in out  # DG16 after the bad DG11 is shown
    code, out, _ = _show(str(folder), "--json")
    entry = json.loads(out)["files"]["DG11"]
    assert code == 1 and entry == {
        "size": len(files["DG11"]), "status": "does-not-decode", "error": "5F0E: not UTF-8",
        "offset": 20,
    }  # fmt: skip
    assert json.loads(out)["ok"] is False


def test_manifest_mismatch_every_file_shown(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    files = make_dump(folder)
    changed = files["DG16"].replace(b"19525551212", b"19525551213")
    (folder / "DG16").write_bytes(changed)  # still decodes, but is not what was dumped
    (folder / "DG2").unlink()
    code, out, _ = _show(str(folder))
    assert code == 1
    assert _headers(out) == [
        f"DG1 ({len(files['DG1'])} bytes): decoded",
        f"DG11 ({len(files['DG11'])} bytes): decoded",
        f"DG16 ({len(changed)} bytes): decoded; SHA-256 differs from manifest.json",
        "DG2: listed in manifest.json but missing",
    ]
    assert "telephone: 19525551213" in out
    shown = json.loads(_show(str(folder), "--json")[1])["files"]
    assert shown["DG16"]["status"] == "differs-from-manifest"
    assert shown["DG2"] == {"status": "missing", "manifest": "listed in manifest.json but missing"}
    assert shown["DG1"]["status"] == "decoded"


def test_no_doubled_file_name(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    files = make_dump(folder)
    data = bytearray(files["DG1"])
    data[10] = 0x01  # a control character in the MRZ
    Dump({"DG1": bytes(data)}).write(folder, overwrite=True)
    code, out, _ = _show(str(folder))
    assert code == 1
    (line,) = _headers(out)
    assert line.startswith(f"DG1 ({len(data)} bytes): does not decode at offset ")
    assert line.count("DG1") == 1 and line.endswith("is not in the MRZ alphabet")


@pytest.mark.parametrize("content", [[], ["notes.txt"], ["DG1.txt", "sub/"]])
def test_not_a_dump_folder_exit_2(tmp_path: Path, content: list[str]) -> None:
    for name in content:
        if name.endswith("/"):
            (tmp_path / name).mkdir()
        else:
            (tmp_path / name).write_text("x")
    code, out, err = _show(str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"error: {tmp_path}: not a dump folder (no EF.COM, EF.SOD, DG1 … DG16 files)\n"


def test_missing_folder_is_usage_error(tmp_path: Path) -> None:
    code, _, err = _show(str(tmp_path / "nope"))
    assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1


def test_malformed_manifest_is_shown(tmp_path: Path) -> None:
    make_dump(tmp_path / "d")
    (tmp_path / "d" / "manifest.json").write_text("{not json")
    code, out, _ = _show(str(tmp_path / "d"))
    assert code == 1
    assert _headers(out)[-1].startswith("manifest.json: not valid JSON")
    assert "DG16 (" in out


# -- --extract ---------------------------------------------------------------------------------


def _mime(path: Path) -> str:
    file_tool = require_tool("file")
    proc = subprocess.run([file_tool, "--brief", "--mime-type", str(path)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return proc.stdout.strip()


def test_extract_writes_images_an_image_viewer_opens(tmp_path: Path) -> None:
    card = build_card_data(sample_applicant(), CardKeys.generate())
    files = dict(card.files)
    files["DG2"] = (TLV_DIR / "DG2.39794-mandatory-fields").read_bytes()  # JPEG 2000 (JP2)
    Dump(files).write(tmp_path / "d")
    out = tmp_path / "images"
    code, text, _ = _show(str(tmp_path / "d"), "--extract", str(out))
    assert code == 0, text
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "DG2-face-1.jp2",
        "DG3-finger-1-position-2-view-1.jpg",
        "DG3-finger-2-position-7-view-1.jpg",
        "DG7-signature-1.jpg",
    ]
    mimes = {name: _mime(out / name) for name in written}
    assert mimes["DG2-face-1.jp2"] == "image/jp2"
    assert {mimes[n] for n in written if n.endswith(".jpg")} == {"image/jpeg"}
    for name in written:  # the bytes as stored in the data group
        assert (out / name).stat().st_mode & 0o077 == 0
    dg7 = Dump(files).decode("DG7")
    assert (out / "DG7-signature-1.jpg").read_bytes() == dg7.images[0]  # type: ignore[attr-defined]
    assert f"extracted {out / 'DG2-face-1.jp2'}" in text


def test_extract_signature_sample(tmp_path: Path) -> None:
    Dump({"DG7": (TLV_DIR / "DG7.sample").read_bytes()}).write(tmp_path / "d")
    code, out, _ = _show(str(tmp_path / "d"), "--json", "--extract", str(tmp_path / "x"))
    assert code == 0
    assert json.loads(out)["extracted"] == [str(tmp_path / "x" / "DG7-signature-1.jpg")]
    assert _mime(tmp_path / "x" / "DG7-signature-1.jpg") == "image/jpeg"


# -- readable fields ---------------------------------------------------------------------------


def test_dates_are_iso_dates(tmp_path: Path) -> None:
    card = build_card_data(sample_applicant(), CardKeys.generate(),
                           personalized_at=dt.datetime(2026, 11, 20, 14, 7, 31))  # fmt: skip
    card.write(tmp_path / "d")
    code, out, _ = _show(str(tmp_path / "d"))
    assert code == 0, out
    assert "  birth_date: 1990-03-15\n" in out and "  expiry_date: 2036-11-19\n" in out
    assert "  full_date_of_birth: 1990-03-15\n" in out
    assert "  date_of_issue: 2026-11-20\n" in out
    assert "  personalization_time: 2026-11-20T14:07:31\n" in out


def test_iso_date_value_keeps_partial_dates() -> None:
    from station.cli.dump import iso_date_value, readable

    assert iso_date_value(DateValue("19700000")) == "19700000"
    assert iso_date_value(DateValue("20240131120000")) == "2024-01-31T12:00:00"
    assert iso_date_value(DateValue("20171115", bcd=True)) == "2017-11-15"
    assert iso_date_value(DateValue("2017111")) == "2017111"
    dg12 = DG12(date_of_issue=DateValue("20240230"))
    assert readable(dg12)["date_of_issue"] == "20240230"  # not a calendar date: as stored


def test_issued_card_has_the_real_personalization_time() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    card = build_card_data(sample_applicant(), CardKeys.generate())
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    dg12 = card.decode("DG12")
    when = dt.datetime.strptime(dg12.personalization_time.text, "%Y%m%d%H%M%S")  # type: ignore[attr-defined]
    assert before <= when <= after


# -- the folders the project's commands write --------------------------------------------------


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki") / "pki"
    result = CliRunner().invoke(main, ["pki", "init", "--dir", str(d), "--key-type", "ec-p256"],
                                env={"IDKARTA_PASSPHRASE": PASS})  # fmt: skip
    assert result.exit_code == 0, result.output
    return d


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _manifest_entries(folder: Path) -> dict[str, dict[str, object]]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return {e["name"]: e for e in manifest["files"]}


def _agree(folder: Path, csca: Path) -> None:
    """`dump show` and `verify` both accept the folder (exit 0)."""
    code, out, err = _show(str(folder))
    assert code == 0, out + err
    result = CliRunner().invoke(main, ["verify", str(folder), "--csca", str(csca)])
    assert result.exit_code == 0, result.output
    entries = _manifest_entries(folder)
    for name in Dump.read(folder).files:
        data = (folder / name).read_bytes()
        assert entries[name]["sha256"] == hashlib.sha256(data).hexdigest(), name


def test_demo_folders_list_every_file(demo_out: Path) -> None:
    csca = demo_out / "pki" / "certs" / "csca-1.pem"
    for name in ("card", "read"):
        assert "EF.SOD" in _manifest_entries(demo_out / name), name
        _agree(demo_out / name, csca)


@pytest.mark.parametrize("which", ["issued", "read"])
def test_sign_sod_keeps_the_manifest_true(
    tmp_path: Path, pki_dir: Path, demo_out: Path, which: str
) -> None:
    folder = tmp_path / which
    if which == "issued":  # manifest without EF.SOD
        build_card_data(sample_applicant(), CardKeys.generate()).write(folder)
    else:  # a read dump: the manifest lists the EF.SOD that sign-sod replaces
        shutil.copytree(demo_out / "read", folder)
        (folder / "notes.txt").write_text("kept")
    before = _manifest_entries(folder).get("EF.SOD")
    result = CliRunner().invoke(main, ["pki", "sign-sod", "--dir", str(pki_dir), str(folder)],
                                env={"IDKARTA_PASSPHRASE": PASS})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _manifest_entries(folder)["EF.SOD"] != before
    _agree(folder, pki_dir / "certs" / "csca-1.pem")
    if which == "read":
        assert (folder / "notes.txt").read_text() == "kept"
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temp left


# -- a closed pipe -----------------------------------------------------------------------------


def test_closed_pipe_ends_quietly(demo_out: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line (`| head -0`)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "station.cli", "dump", "show", str(demo_out / "read")],
            stdout=write_end, stderr=subprocess.PIPE, env=env, check=False, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert proc.stderr == b""
    assert proc.returncode == 141  # 128 + SIGPIPE, as `yes | head` reports for `yes`


def test_image_extensions_by_content() -> None:
    from station.cli.dump import _extension

    assert _extension(b"\xff\xd8\xff\xe0") == "jpg"
    assert _extension(b"\x00\x00\x00\x0cjP  \r\n\x87\n") == "jp2"
    assert _extension(b"\xff\x4f\xff\x51\x00") == "j2c"  # a bare codestream
    assert _extension(b"\x89PNG\r\n\x1a\n") == "png"
    assert _extension(b"\xff\xa0\xff\xa8") == "wsq"
    assert _extension(b"GIF89a") == "bin"


def test_extract_into_a_new_nested_folder_twice(tmp_path: Path) -> None:
    Dump({"DG7": (TLV_DIR / "DG7.sample").read_bytes()}).write(tmp_path / "d")
    out = tmp_path / "a" / "b"
    for _ in range(2):
        code, _, err = _show(str(tmp_path / "d"), "--extract", str(out))
        assert code == 0, err
    assert [p.name for p in out.iterdir()] == ["DG7-signature-1.jpg"]


def test_bad_and_differing_file_keeps_does_not_decode(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    files = make_dump(folder)
    data = bytearray(files["DG11"])
    data[20] = 0xFF
    (folder / "DG11").write_bytes(bytes(data))  # the manifest is left as it was
    code, out, _ = _show(str(folder), "--json")
    entry = json.loads(out)["files"]["DG11"]
    assert code == 1 and entry["status"] == "does-not-decode"
    assert entry["manifest"] == "SHA-256 differs from manifest.json"
    code, out, _ = _show(str(folder))
    assert f"DG11 ({len(data)} bytes): does not decode at offset 20: 5F0E: not UTF-8; SHA-256 " \
        "differs from manifest.json\n" in out


def test_malformed_manifest_json_status(tmp_path: Path) -> None:
    make_dump(tmp_path / "d")
    (tmp_path / "d" / "manifest.json").write_text("[]")
    code, out, _ = _show(str(tmp_path / "d"), "--json")
    assert code == 1
    assert json.loads(out)["files"]["manifest.json"] == {
        "status": "malformed", "manifest": "not a manifest object"}


def test_status_without_offset_and_bytes_in_hex() -> None:
    from station.cli.dump import _scalar, _status_text

    entry = {"status": "does-not-decode", "error": "bad", "offset": None}
    assert _status_text(entry) == "does not decode: bad"
    assert _scalar(b"\x0a\xbc") == "0ABC"
    assert _scalar(dt.date(2024, 1, 31)) == "2024-01-31"


def test_dg1_century_from_today(tmp_path: Path) -> None:
    from station.cli.dump import run_show

    make_dump(tmp_path / "d")
    lines: list[str] = []
    assert run_show(tmp_path / "d", False, lines.append, today=dt.date(2000, 1, 1)) == 0
    shown = "\n".join(lines)
    lines.clear()
    run_show(tmp_path / "d", False, lines.append, today=dt.date(1960, 1, 1))
    assert "\n".join(lines) != shown  # the birth date's century follows the reference day
    assert re.search(r"  birth_date: 18\d\d-", "\n".join(lines))
