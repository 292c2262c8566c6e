"""benchmarks/bench_face.py runs as docs/performance.md prints it (a few rounds here; the figures
are measured by hand, never in a test) and reports both rates and where the time goes."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_face_benchmark_runs_and_reports_the_ratio() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_face", "2"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^face checks on a 600x800 portrait: [\d.]+/s \([\d.]+ ms each\); bare "
                     r"OpenCV calls: [\d.]+/s; ratio [\d.]+$", proc.stdout, re.M), proc.stdout
    assert "where the time goes (bare steps): decode " in proc.stdout
    assert "python -m benchmarks.bench_face" in (ROOT / "docs" / "performance.md").read_text()
