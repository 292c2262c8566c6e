"""The registry and the dump folder: dispatch, atomic writes, manifest checks, named errors."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from tests.conftest import VECTORS

from idcard.errors import DecodeError
from idcard.lds import DG1, DG11, DG12, EFCOM, FILE_NAMES, FILES, by_fid, by_tag, decode_file
from idcard.lds import dump as dump_module
from idcard.lds.dump import MANIFEST, Dump

REFSET = VECTORS / "lds/bsi-tr03105-refset"
TLV_DIR = VECTORS / "lds/tlv"
SAMPLES = json.loads((TLV_DIR / "public-samples.json").read_text())["samples"]


def refset_files() -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in REFSET.iterdir() if p.name in FILE_NAMES}
    (com,) = [s for s in SAMPLES if "TR-03105" in s["name"] and s["file"] == "EF.COM"]
    files["EF.COM"] = bytes.fromhex(com["hex"])
    files["DG11"] = (TLV_DIR / "DG11.9303-10-A5").read_bytes()
    files["DG12"] = (TLV_DIR / "DG12.fr").read_bytes()
    files["DG2"] = (TLV_DIR / "DG2.19794").read_bytes()
    return files


def test_registry_identifiers() -> None:
    assert set(FILES) == set(FILE_NAMES) and len(FILES) == 20
    assert (FILES["EF.COM"].fid, FILES["EF.COM"].sfi, FILES["EF.COM"].tag) == (0x011E, 0x1E, 0x60)
    assert (FILES["EF.SOD"].fid, FILES["EF.SOD"].sfi, FILES["EF.SOD"].tag) == (0x011D, 0x1D, 0x77)
    assert (FILES["EF.CardAccess"].fid, FILES["EF.CardAccess"].sfi) == (0x011C, 0x1C)
    assert FILES["EF.CardSecurity"].in_mf and FILES["EF.CardSecurity"].fid == 0x011D
    for n in range(1, 17):
        entry = FILES[f"DG{n}"]
        assert (entry.fid, entry.sfi) == (0x0100 + n, n)
        assert f"DG{n}" == entry.cls.NAME and entry.tag == entry.cls.TAG
    assert by_tag(0x61).cls is DG1 and by_tag(0x6B).cls is DG11 and by_tag(0x77).name == "EF.SOD"
    assert by_fid(0x011D).name == "EF.SOD" and by_fid(0x011D, in_mf=True).name == "EF.CardSecurity"
    with pytest.raises(DecodeError):
        by_tag(0x42)


def test_decode_file_dispatches() -> None:
    files = refset_files()
    assert isinstance(decode_file("EF.COM", files["EF.COM"]), EFCOM)
    assert isinstance(decode_file("DG12", files["DG12"]), DG12)
    with pytest.raises(DecodeError):
        decode_file("DG17", b"")
    with pytest.raises(DecodeError):
        decode_file("DG11", files["DG12"])  # wrong outer tag


def test_write_read_decode_all(tmp_path: Path) -> None:
    files = refset_files()
    target = tmp_path / "doc"
    Dump(files).write(target)
    assert sorted(os.listdir(target)) == sorted([*files, MANIFEST])
    assert [p.name for p in tmp_path.iterdir()] == ["doc"]  # no temporary sibling left
    manifest = json.loads((target / MANIFEST).read_text())
    assert manifest["tool"] == "idkarta"
    sizes = {e["name"]: e["size"] for e in manifest["files"]}
    assert sizes == {name: len(data) for name, data in files.items()}
    dump = Dump.read(target)
    assert dict(dump.files) == files and dump.manifest == manifest
    decoded = dump.decode_all()
    assert list(decoded) == [n for n in FILE_NAMES if n in files]
    for name, obj in decoded.items():
        assert name == obj.NAME and obj.raw == files[name]
        json.dumps(obj.to_json(), default=lambda b: b.hex())


def test_read_without_manifest_and_extra_files(tmp_path: Path) -> None:
    (tmp_path / "EF.COM").write_bytes(refset_files()["EF.COM"])
    (tmp_path / "notes.txt").write_text("ignored")
    dump = Dump.read(tmp_path)
    assert list(dump.files) == ["EF.COM"] and dump.manifest is None


def test_manifest_mismatch_names_the_file(tmp_path: Path) -> None:
    files = refset_files()
    Dump(files).write(tmp_path / "d")
    (tmp_path / "d" / "DG1").write_bytes(files["DG1"][:-1] + b"<")
    with pytest.raises(DecodeError, match=r"^DG1: SHA-256"):
        Dump.read(tmp_path / "d")


def test_overwrite_is_explicit_and_atomic(tmp_path: Path) -> None:
    files = refset_files()
    Dump({"EF.COM": files["EF.COM"]}).write(tmp_path / "d")
    with pytest.raises(FileExistsError):
        Dump(files).write(tmp_path / "d")
    Dump(files).write(tmp_path / "d", overwrite=True)
    assert set(Dump.read(tmp_path / "d").files) == set(files)
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: Path, data: bytes) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("idcard.lds.dump._write_file", broken)
    with pytest.raises(OSError, match="disk full"):
        Dump(refset_files()).write(tmp_path / "d")
    assert list(tmp_path.iterdir()) == []


def test_decode_error_names_file_and_offset() -> None:
    files = refset_files()
    files["DG11"] = files["DG11"][:20] + b"\xff" + files["DG11"][21:]
    dump = Dump(files)
    with pytest.raises(DecodeError) as err:
        dump.decode_all()
    assert str(err.value).startswith("DG11 5F0E: not UTF-8") and err.value.offset == 20
    files = refset_files()
    files["DG2"] = files["DG2"][:3] + b"\x00" + files["DG2"][4:]
    with pytest.raises(DecodeError, match=r"^DG2: "):
        Dump(files).decode("DG2")


def test_unknown_names_and_from_objects() -> None:
    with pytest.raises(DecodeError):
        Dump({"DG17": b""})
    com = EFCOM.from_data_groups(["DG1"])
    dump = Dump.from_objects([com])
    assert dump.files["EF.COM"] == com.encode()
    with pytest.raises(DecodeError):
        Dump.from_objects([com, com])


def test_decode_error_names_the_file_once() -> None:
    dg1 = bytearray(refset_files()["DG1"])
    dg1[10] = 0x01  # the DG1 decoder names the file itself ("DG1: name: …")
    with pytest.raises(DecodeError) as err:
        Dump({"DG1": bytes(dg1)}).decode("DG1")
    assert err.value.reason.startswith("DG1: ") and err.value.reason.count("DG1") == 1


def test_manifest_problems_without_raising(tmp_path: Path) -> None:
    files = refset_files()
    Dump(files).write(tmp_path / "d")
    (tmp_path / "d" / "DG1").write_bytes(files["DG1"][:-1] + b"<")
    (tmp_path / "d" / "DG11").write_bytes(files["DG11"] + b"\x00")
    (tmp_path / "d" / "DG12").unlink()
    (tmp_path / "d" / "DG16").write_bytes(b"\x70\x00")  # not in the manifest
    dump = Dump.read(tmp_path / "d", check_manifest=False)
    assert dict(dump.problems) == {
        "DG1": "SHA-256 differs from manifest.json",
        "DG11": f"{len(files['DG11']) + 1} bytes, manifest.json says {len(files['DG11'])}",
        "DG12": "listed in manifest.json but missing",
        "DG16": "not listed in manifest.json",
    }
    with pytest.raises(DecodeError, match=r"^DG1: SHA-256 differs from manifest.json$"):
        Dump.read(tmp_path / "d")
    (tmp_path / "d" / "manifest.json").write_text("[]")
    assert dict(Dump.read(tmp_path / "d", check_manifest=False).problems) == {
        "manifest.json": "not a manifest object"
    }


def test_update_folder_rewrites_the_manifest(tmp_path: Path) -> None:
    from idcard.lds.dump import update_folder

    files = refset_files()
    sod = files.pop("EF.SOD")
    Dump(files).write(tmp_path / "d")
    (tmp_path / "d" / "notes.txt").write_text("kept")
    (tmp_path / "d" / "DG1").rename(tmp_path / "d" / "DG1.bin")  # verify's spelling is kept
    written = update_folder(tmp_path / "d", {"EF.SOD": sod, "DG1": files["DG1"]})
    assert dict(written.files) == {**files, "EF.SOD": sod}
    assert (tmp_path / "d" / "EF.SOD").read_bytes() == sod
    assert (tmp_path / "d" / "DG1.bin").read_bytes() == files["DG1"]
    assert not (tmp_path / "d" / "DG1").exists()
    assert (tmp_path / "d" / "notes.txt").read_text() == "kept"
    reread = Dump.read(tmp_path / "d")  # the manifest agrees with every file
    assert dict(reread.files) == dict(written.files) and reread.manifest == written.manifest
    assert (tmp_path / "d" / MANIFEST).read_bytes() == Dump(written.files).manifest_bytes()
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == sorted(
        [*files.keys() - {"DG1"}, "DG1.bin", "EF.SOD", "manifest.json", "notes.txt"]
    )
    (tmp_path / "loose").mkdir()  # files copied by hand: no manifest is made up
    (tmp_path / "loose" / "DG1").write_bytes(files["DG1"])
    update_folder(tmp_path / "loose", {"EF.SOD": sod})
    assert sorted(p.name for p in (tmp_path / "loose").iterdir()) == ["DG1", "EF.SOD"]
    with pytest.raises(DecodeError):
        update_folder(tmp_path / "d", {"DG17": b""})
    with pytest.raises(DecodeError):
        update_folder(tmp_path / "nope", {"EF.SOD": sod})


def test_failed_update_leaves_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from idcard.lds.dump import update_folder

    files = refset_files()
    sod = files.pop("EF.SOD")
    Dump(files).write(tmp_path / "d")
    before = {p.name: p.read_bytes() for p in (tmp_path / "d").iterdir()}
    real = dump_module._write_file
    calls: list[Path] = []

    def broken(path: Path, data: bytes) -> None:
        calls.append(path)
        if path.name.startswith(".manifest.json."):
            raise OSError("disk full")
        real(path, data)

    monkeypatch.setattr(dump_module, "_write_file", broken)
    with pytest.raises(OSError, match="disk full"):
        update_folder(tmp_path / "d", {"EF.SOD": sod})
    assert len(calls) == 2
    assert {p.name: p.read_bytes() for p in (tmp_path / "d").iterdir()} == before


def test_manifest_bytes_and_messages(tmp_path: Path) -> None:
    from idcard import __version__

    files = refset_files()
    target = tmp_path / "a" / "b" / "d"  # parents made
    Dump(files).write(target)
    expected = {
        "tool": "idkarta",
        "version": __version__,
        "files": [{"name": n, "size": len(files[n]),
                   "sha256": hashlib.sha256(files[n]).hexdigest()}
                  for n in FILE_NAMES if n in files],
    }  # fmt: skip
    assert (target / MANIFEST).read_bytes() == (json.dumps(expected, indent=2) + "\n").encode()
    with pytest.raises(FileExistsError, match=f"^{re.escape(str(target))} exists$"):
        Dump(files).write(target)
    with pytest.raises(DecodeError, match=r"^not LDS file names: DG17, DG18$"):
        Dump({"DG18": b"", "DG17": b""})
    with pytest.raises(DecodeError, match=r"^DG2: not in the dump$"):
        Dump({}).decode("DG2")
    with pytest.raises(DecodeError, match=f"^{re.escape(str(tmp_path / 'x'))}: not a dump folder$"):
        Dump.read(tmp_path / "x")
    com = EFCOM.from_data_groups(["DG1"])
    with pytest.raises(DecodeError, match=r"^EF.COM given twice$"):
        Dump.from_objects([com, com])


def test_malformed_manifest_entries(tmp_path: Path) -> None:
    files = refset_files()
    Dump(files).write(tmp_path / "d")
    manifest = json.loads((tmp_path / "d" / MANIFEST).read_text())
    manifest["files"] = [1, {"size": 3}, *manifest["files"]]
    manifest["files"][-1]["size"] += 1
    (tmp_path / "d" / MANIFEST).write_text(json.dumps(manifest))
    problems = dict(Dump.read(tmp_path / "d", check_manifest=False).problems)
    last = manifest["files"][-1]["name"]
    assert problems == {
        MANIFEST: "malformed file entry",
        last: f"{len(files[last])} bytes, {MANIFEST} says {len(files[last]) + 1}",
    }
    (tmp_path / "d" / MANIFEST).write_text(json.dumps({"tool": "other"}, ensure_ascii=False))
    problems = dict(Dump.read(tmp_path / "d", check_manifest=False).problems)
    assert problems == {n: f"not listed in {MANIFEST}" for n in FILE_NAMES if n in files}
