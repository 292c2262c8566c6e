"""benchmarks/bench_verify_batch.py stays runnable: a few dumps through `run_batch` and through
the bare baseline, which asserts each dump verifies (hashes compared, SOD and AA signatures)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks import bench_verify_batch
from tests.idcard.chip.cards import ds_pki

from idcard.reader.evidence import EVIDENCE_FILE


def test_the_benchmark_runs_and_its_baseline_checks_what_it_claims() -> None:
    result = bench_verify_batch.main(3, jobs=1)
    assert result["dumps"] == 3
    assert result["bare_per_s"] > 0 and result["one_per_s"] > 0 and result["jobs_per_s"] > 0
    assert result["ratio"] == pytest.approx(result["one_per_s"] / result["bare_per_s"])
    assert {"load_1min", "load_5min", "made_s"} <= set(result)


def test_the_baseline_refuses_a_changed_data_group(tmp_path: Path) -> None:
    bench_verify_batch._write_dumps(tmp_path / "dumps", 1)
    [folder] = sorted((tmp_path / "dumps").iterdir())
    assert (folder / EVIDENCE_FILE).is_file()
    bench_verify_batch._bare([folder], ds_pki().csca)  # verifies
    dg1 = bytearray((folder / "DG1").read_bytes())
    dg1[-1] ^= 1
    (folder / "DG1").write_bytes(bytes(dg1))
    with pytest.raises(AssertionError):
        bench_verify_batch._bare([folder], ds_pki().csca)
