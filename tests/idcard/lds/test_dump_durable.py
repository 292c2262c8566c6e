"""How a dump folder is made durable (issue 15 item 6): the files together (one syncfs on
Linux), then the rename (one fsync of the parent folder), never a partial folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tests.idcard.lds.test_dump import refset_files

from idcard.lds import dump as dump_module
from idcard.lds.dump import Dump, update_folder


class _Syncs:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, syncfs: bool = True) -> None:
        self.fsync: list[int] = []
        self.syncfs: list[Path] = []
        real_fsync, real_syncfs = os.fsync, dump_module._syncfs

        def fsync(fd: int) -> None:
            self.fsync.append(fd)
            real_fsync(fd)

        def counting_syncfs(folder: Path) -> bool:
            self.syncfs.append(folder)
            return real_syncfs(folder) if syncfs else False

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(dump_module, "_syncfs", counting_syncfs)


def test_writing_a_dump_calls_fsync_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not once per file and manifest (12 calls for these files before): the folder's."""
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    Dump(refset_files()).write(tmp_path / "d")
    assert len(calls) <= 1 if sys.platform.startswith("linux") else len(calls) > 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs is Linux's")
def test_a_dump_is_one_syncfs_and_one_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = refset_files()
    syncs = _Syncs(monkeypatch)
    Dump(files).write(tmp_path / "d")
    assert (len(syncs.syncfs), len(syncs.fsync)) == (1, 1)
    assert Dump.read(tmp_path / "d").files == Dump(files).files
    Dump(files).write(tmp_path / "d", overwrite=True)
    assert (len(syncs.syncfs), len(syncs.fsync)) == (2, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
    update_folder(tmp_path / "d", {"DG1": files["DG1"]})
    assert (len(syncs.syncfs), len(syncs.fsync)) == (3, 3)


def test_without_syncfs_every_file_and_both_folders_are_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = refset_files()
    syncs = _Syncs(monkeypatch, syncfs=False)
    Dump(files).write(tmp_path / "d")
    # each file and the manifest, the staging folder, the parent after the rename
    assert len(syncs.fsync) == len(files) + 1 + 1 + 1
    assert Dump.read(tmp_path / "d").files == Dump(files).files


def test_a_failed_flush_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(folder: Path, paths: list[Path]) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(dump_module, "_make_durable", failing)
    with pytest.raises(OSError, match="I/O error"):
        Dump(refset_files()).write(tmp_path / "d")
    assert list(tmp_path.iterdir()) == []
